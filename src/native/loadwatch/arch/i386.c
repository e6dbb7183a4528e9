#if defined(__i386__)
#include "../loadwatch.h"

/* Not yet ported: rules reach only the objects loaded before they were
 * installed (see docs/mechanisms.md). */
int
pdi_arch_redirect_code(uintptr_t from, uintptr_t to)
{
  (void)from;
  (void)to;
  pdi_set_error("watching later loads is not implemented on i386 yet");
  return -1;
}
#endif
