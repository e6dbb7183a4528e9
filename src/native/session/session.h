/* A session is one config installed into the process: its backends loaded
 * and initialised, its rules installed, and everything needed to undo them. */
#ifndef PDI_SESSION_H
#define PDI_SESSION_H

#include "../config/config.h"
#include "../core/core.h"

typedef struct pdi_session pdi_session_t;

/* Loads the config at `path`, loads and initialises its backends and
 * installs its rules, all or nothing. Returns 0, or -1 with pdi_error() set
 * ("FILE:LINE: message") and nothing left installed (the caller then
 * calls pdi_session_discard_failed). With on_error = warn,
 * rule and backend errors are logged and skipped, and a failed open is only
 * a warning: *failure_is_warning (when not NULL) tells the caller whether
 * the program may go on. */
PDI_HIDDEN int pdi_session_open(const char *path, pdi_session_t **out, int *failure_is_warning);
/* After a failed open, once the caller has reported pdi_error(): what the
 * open had loaded is finished and unloaded (its backends' FINI runs now, so
 * their reports follow the error instead of coming before it). */
PDI_HIDDEN void pdi_session_discard_failed(void);
/* Uninstalls the session's rules, then finishes its backends (reverse order). */
PDI_HIDDEN void pdi_session_close(pdi_session_t *session);
/* The same as the process exits: when no other session stays open, callback
 * stubs are made to pass straight to the real functions instead of having
 * their slots put back one by one, since nothing will inspect them again. */
PDI_HIDDEN void pdi_session_close_at_exit(pdi_session_t *session);
/* The rules that met nothing are reported once for every process of the
 * program that a pdi command launched with the temporary config `config_path`
 * (by the last to end), not by each (session/verdicts.c). */
PDI_HIDDEN void pdi_session_share_verdicts(pdi_session_t *session, const char *config_path);
/* After the program ended, in the pdi command: when every process of it has
 * ended and none reported (the last one ended by _exit, as dash does, or by a
 * signal), the report of the rules that met nothing in all of them, logged as
 * the config says; 1 when it was made here. */
PDI_HIDDEN int pdi_verdicts_report_ended(const char *config_path);
/* pdi_session_close for a session that ends before the process (pdi attach's
 * detach): its rules that met nothing are warned of, as at an exit. */
PDI_HIDDEN void pdi_session_close_ended(pdi_session_t *session);
/* pdi_session_close_ended for the session of a launch whose pdi process has
 * ended (pdi trace killed): nothing is reported, its reader being gone. */
PDI_HIDDEN void pdi_session_close_orphaned(pdi_session_t *session);

PDI_HIDDEN int pdi_originals_add(uintptr_t wrapper, uintptr_t original);
/* `seen`, the address a backend's own code gets for its wrapper's name when
 * the loader binds that name elsewhere first (a wrapper named getpid: libc's
 * getpid), answers as the wrapper does; never over a wrapper's entry. */
PDI_HIDDEN int pdi_originals_alias(uintptr_t seen, uintptr_t original);
PDI_HIDDEN void pdi_originals_remove(uintptr_t wrapper);
PDI_HIDDEN void *pdi_original_impl(const void *wrapper);

#endif
