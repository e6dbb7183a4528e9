/* The attach entry points' side that the preload core itself calls
 * (attach.c). */
#ifndef PDI_PRELOAD_ATTACH_H
#define PDI_PRELOAD_ATTACH_H

#include "../core/core.h"

/* preload.c's side that an attach calls: closes the session the process
 * was started with when the pdi process that launched it for itself alone
 * (pdi trace) has ended, so that the attach may take its slots. */
PDI_HIDDEN void pdi_preload_close_orphaned(void);

/* At exit: closes the session pdi attach opened, if one is open. */
PDI_HIDDEN void pdi_attach_close_at_exit(void);

#endif
