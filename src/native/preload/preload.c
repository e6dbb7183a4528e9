/* The preloadable core: the entry point that the dynamic loader runs before
 * the program's main. */
#define _GNU_SOURCE

#include "../inspect/inspect.h"

__attribute__((constructor)) static void
pdi_preload_start(void)
{
  pdi_inspect_from_environment();
}
