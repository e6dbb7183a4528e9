/* Watches the dynamic loader so that a caller (the session layer) hears of
 * objects loaded after start (dlopen, and the NSS/gconv modules libc opens
 * itself) before their constructors run, and of objects unloaded. */
#ifndef PDI_LOADWATCH_H
#define PDI_LOADWATCH_H

#include "../core/core.h"

/* Both run inside the loader, on the thread that loads or unloads: on_load
 * once new objects are relocated and before their constructors run (they
 * may be scanned and patched then), on_unload once objects are gone. */
typedef void (*pdi_loadwatch_callback)(void);
/* Whether anyone listens now (a session is open): when not, a load only
 * updates the watch's list of objects, and no constructor is deferred. */
typedef int (*pdi_loadwatch_listening)(void);

/* Idempotent: the first successful start's callbacks stay. 0, or -1 with
 * pdi_error() set (the loader cannot be watched on this system: the caller
 * then hears of no later load). */
PDI_HIDDEN int pdi_loadwatch_start(pdi_loadwatch_callback on_load, pdi_loadwatch_callback on_unload,
                                   pdi_loadwatch_listening listening);
/* How many loads came too thick (pending constructors beyond the pool). */
PDI_HIDDEN unsigned pdi_loadwatch_missed(void);
/* Whether every load since the start was heard of before its constructors
 * ran (started, and none missed). */
PDI_HIDDEN int pdi_loadwatch_complete(void);

#endif
