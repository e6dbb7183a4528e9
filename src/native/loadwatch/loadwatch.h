/* Watches the dynamic loader so that rules reach objects loaded after start
 * (dlopen, and the NSS/gconv modules libc opens itself) before their
 * constructors run. */
#ifndef PDI_LOADWATCH_H
#define PDI_LOADWATCH_H

#include "../core/core.h"

/* Idempotent; 0, or -1 with pdi_error() set (the loader cannot be watched
 * on this system: rules then reach only objects loaded before). */
PDI_HIDDEN int pdi_loadwatch_start(void);
/* How many loads came too thick (pending constructors beyond the pool). */
PDI_HIDDEN unsigned pdi_loadwatch_missed(void);

#endif
