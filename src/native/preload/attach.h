/* The attach entry points' side that the preload core itself calls
 * (attach.c). */
#ifndef PDI_PRELOAD_ATTACH_H
#define PDI_PRELOAD_ATTACH_H

#include "../core/core.h"

/* At exit: closes the session pdi attach opened, if one is open. */
PDI_HIDDEN void pdi_attach_close_at_exit(void);

#endif
