/* A session is one config installed into the process: its backends loaded
 * and initialised, its rules installed, and everything needed to undo them. */
#ifndef PDI_SESSION_H
#define PDI_SESSION_H

#include "../config/config.h"
#include "../core/core.h"

typedef struct pdi_session pdi_session_t;

/* Loads the config at `path`, loads and initialises its backends and
 * installs its rules, all or nothing. Returns 0, or -1 with pdi_error() set
 * ("FILE:LINE: message") and nothing left installed. */
PDI_HIDDEN int pdi_session_open(const char *path, pdi_session_t **out);
/* With on_error = warn, rule and backend errors are logged and skipped;
 * this tells the caller whether a failed open may let the program go on. */
PDI_HIDDEN int pdi_session_last_open_warns(void);
/* Uninstalls the session's rules, then finishes its backends (reverse order). */
PDI_HIDDEN void pdi_session_close(pdi_session_t *session);

/* Applies every open session's rules to objects loaded since the last call
 * (dlopen, libraries libc loads itself); called by the load watcher. */
PDI_HIDDEN void pdi_sessions_update(void);
/* Drops what sessions remember of objects that were unloaded (dlclose). */
PDI_HIDDEN void pdi_sessions_forget_unloaded(void);

PDI_HIDDEN int pdi_originals_add(uintptr_t wrapper, uintptr_t original);
PDI_HIDDEN void pdi_originals_remove(uintptr_t wrapper);
PDI_HIDDEN void *pdi_original_impl(const void *wrapper);

#endif
