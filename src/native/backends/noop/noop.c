/* The smallest backend: it loads, initialises and finishes, and exists so
 * the backend build path is exercised from the first build on. */
#include <pdi/backend.h>

int
PDI_BE_FUNC_INIT(const pdi_backend_t *self)
{
  return self->api_version == PDI_API_VERSION ? 0 : 1;
}

void
PDI_BE_FUNC_FINI(void)
{
}
