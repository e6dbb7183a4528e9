/* What the files of a session share: session.c opens, updates and closes
 * sessions; backends.c loads backends and takes wrappers and hooks from them;
 * claims.c keeps which rule owns which slot; install.c plans and applies the
 * rules. Nothing here is seen outside src/native/session/. */
#ifndef PDI_SESSION_INTERNAL_H
#define PDI_SESSION_INTERNAL_H

#include "../callback/callback.h"
#include "../redefine/redefine.h"
#include "session.h"

#include <pdi/backend.h>
#include <sys/types.h>

typedef struct loaded_backend {
  const pdi_backend_decl_t *decl;
  const char *path;
  void *handle;
  uintptr_t base;
  pdi_backend_t self;
  int initialized;
  int failed;
} loaded_backend_t;

typedef struct active_rule {
  const pdi_rule_t *rule;
  const char *name; /* the function's name without its version ("*" for a callback), in the session's arena */
  pdi_version_req_t req;
  uintptr_t wrapper;
  /* what the backend's own code gets for the wrapper's name, when that is
   * not the wrapper (pdi_originals_alias): as the loader bound the backend's
   * own slots of it, and as dlsym gives it; 0 otherwise */
  uintptr_t wrapper_seen[2];
  uintptr_t original;
  /* the base of the loaded object that holds `original` (0: none does, as
   * for a stub pdi made): a dlclose that unloads it makes the rule forget it */
  uintptr_t original_object;
  /* the version the first slot that set `original` asked for (NULL: none), in its object's tables: named when
   * another slot of the rule asks for another version of the same name */
  const char *original_version;
  unsigned slots;
  unsigned shared;        /* slots an earlier duplicate rule already redirects */
  unsigned pointer_slots; /* act: GLOB_DAT and abs slots of the function left alone (pdi_cb_sink_t) */
  /* act: the objects whose pointer slots are counted (their bases): a later load counts its own only */
  pdi_array_t pointer_objects;
  /* act: pointer slots found in objects loaded after the install and not yet reported, the last such object */
  unsigned pointer_slots_unsaid;
  const char *pointer_object_unsaid;
  unsigned declined; /* callback: sites its backend's cb_req left alone */
  /* redefine of a plain name: slots at the install bound to another version of it in the definer, and that version */
  unsigned other_version_slots;
  const char *other_version, *other_version_definer;
  int warned_event; /* callback: cb_req's negative event id reported */
  int skipped;
  /* its object pattern matched an object loaded at some time ($main, `*`
   * and a redefine without object always do): the report at exit */
  int object_seen;
  int object_marked; /* its PDI_MATCHED_MARKS file is made */
  pdi_redefine_target_t target;
  int has_target;
  /* redefine: the last scan at exit found a definer that no load event brought (no report at exit) */
  int definer_seen;
  pdi_cb_hooks_t hooks;
  /* at exit: its slots stay as they are (its backend's fini does nothing) */
  int left_at_exit;
  /* callback: the objects left alone for want of stubs (their base
   * addresses), reported once and not tried again */
  pdi_array_t objects_without_room;
} active_rule_t;

/* One slot (or symbol table word) a rule took over, and whose it is; or,
 * `watched`, a slot a redefine leaves alone but may find holding its wrapper
 * at uninstall (pdi_claim_watched). */
typedef struct owned_patch {
  pdi_patch_t patch;
  unsigned rule;
  int watched;
  uintptr_t object_base;
  const char *object_path;
} owned_patch_t;

typedef struct slot_claims {
  pdi_array_t patches; /* owned_patch_t, in the order they were claimed */
  /* slot address -> 1 + index of its latest claim, open addressing */
  size_t *index;
  size_t index_capacity;
  size_t index_count;
} slot_claims_t;

struct pdi_session {
  pdi_config_t config;
  loaded_backend_t *backends;
  active_rule_t *rules;
  slot_claims_t claims;
  pdi_arena_t arena;
  unsigned long long seen_adds;
  int warned_max_objects;
  /* the open's install is done: a rule that fails on an object loaded later
   * can no longer stop the program, so it is reported once and skipped */
  int installed;
  /* the process that opened the session: only it reports, at its exit, the
   * rules whose object never loaded; whether it does (the load watch runs,
   * PDI_WARN_UNLOADED is not 0) */
  pid_t opener;
  /* PDI_LAUNCHER_PID, or 0: the process that launched the program */
  pid_t launcher;
  int reports_unloaded;
  char unreported_backend[64]; /* PDI_WARN_UNLOADED=except:BACKEND: its callback rules are not reported */
  /* PDI_MATCHED_MARKS: the directory where an empty file named by a rule's
   * index says that its object pattern matched an object, in any process
   * (pdi trace and trace() warn of the --object patterns none marked) */
  const char *matched_marks;
  /* what the rules met in every process of the launched program (verdicts.c), when they share it */
  struct verdict_board *verdicts;
  /* the act backend's private entry points, when the config has act rules */
  int (*act_event)(const short *rules);
  int (*act_counts)(unsigned rule, unsigned long *seen, unsigned long *fired);
  void (*act_release)(unsigned first, unsigned count);
  /* the backend's number of this config's first act rule: the backend is
   * one per process, shared by every session (pdi run's and pdi attach's) */
  unsigned act_first, act_count;
  pdi_log_state_t log_before; /* the log as it was before the session configured it */
  pdi_session_t *next;
};

/* What the slot visitors of install.c and session.c work for. */
typedef struct install_context {
  pdi_session_t *session;
  unsigned rule_index;
  const pdi_object_t *object;
  int failed;
  const pdi_objects_t *set; /* the snapshot `object` belongs to */
} install_context_t;

static inline owned_patch_t *
claimed_patch(const pdi_session_t *session, size_t i)
{
  return &((owned_patch_t *)session->claims.patches.items)[i];
}

static inline size_t
claimed_count(const pdi_session_t *session)
{
  return session->claims.patches.count;
}

/* ---- session.c */

/* Sets pdi_error() to "FILE:LINE: relink fix_add: message" and returns -1. */
PDI_HIDDEN int pdi_rule_error(const active_rule_t *active, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same at one field of the rule (PDI_FIELD_*): where its wrapper is written, say. */
PDI_HIDDEN int pdi_rule_field_error(const active_rule_t *active, int field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The sessions open now (the one being opened is not among them yet). */
PDI_HIDDEN const pdi_session_t *pdi_sessions_first(void);

/* ---- backends.c */

/* Whether rules leave `object` alone (the vDSO, pdi, backends), and why. */
PDI_HIDDEN int pdi_object_is_protected(const pdi_session_t *session, const pdi_object_t *object, const char **why);
PDI_HIDDEN int pdi_refuse_protected_definer(const pdi_session_t *session, const pdi_objects_t *set,
                                            const active_rule_t *active);
/* An error at the rule's function when it names a variable (a data object or a thread-local variable) in the
 * object that defines it first: diverting its slots to code would crash the program at its first use. */
PDI_HIDDEN int pdi_refuse_variable(pdi_session_t *session, const pdi_objects_t *set, const active_rule_t *active);

/* Finds, loads and binds one declared backend; does not initialise it. */
PDI_HIDDEN int pdi_backend_load(pdi_session_t *session, loaded_backend_t *backend);
/* Calls its PDI_BE_FUNC_INIT; a backend that refuses fails the open. */
PDI_HIDDEN int pdi_backend_init(loaded_backend_t *backend);
/* While the core runs code of backend `name` outside a call of the program
 * (its PDI_BE_FUNC_CB_REQ at install), a crash there names it and `stage`,
 * as one in pdi_be_init does; undone by pdi_backend_unguard. The program's
 * own calls through the hooks are never guarded: its signal actions stay
 * its own. */
/* A callback rule's sites in one object, planned and installed
 * (callback-plan.c); PDI_SITES_NO_ROOM when the stubs run out. */
PDI_HIDDEN int pdi_plan_callback(pdi_session_t *session, const pdi_objects_t *set, unsigned rule_index,
                                 const pdi_object_t *object);
PDI_HIDDEN void pdi_backend_guard(const pdi_session_t *session, const char *name, const char *stage);
PDI_HIDDEN void pdi_backend_unguard(void);
/* Calls PDI_BE_FUNC_FINI of every initialised backend, last one first. */
PDI_HIDDEN void pdi_backends_fini(pdi_session_t *session);
/* Whether a rule's backend finishes nothing (no PDI_BE_FUNC_FINI, or one
 * that returns at once): its wrappers work after pdi_backends_fini as before. */
PDI_HIDDEN int pdi_backend_fini_is_empty(const pdi_session_t *session, const pdi_rule_t *rule);
/* Whether `object` is a backend of an open session or of `context`, the
 * session being opened: the excluded-object predicate of the planners. */
PDI_HIDDEN int pdi_is_any_backend(const pdi_object_t *object, void *context);
/* A rule's wrapper address, or a callback rule's backend hooks. */
PDI_HIDDEN int pdi_rule_resolve(pdi_session_t *session, active_rule_t *active);

/* ---- uninstall.c */

/* Whether a claim is put back after the first `count` patches of `batch`
 * (NULL: none): always, a watched one only if its slot then holds the wrapper. */
PDI_HIDDEN int pdi_claim_puts_back(const owned_patch_t *owned, const pdi_patch_t *batch, size_t count);
/* Every slot of the session that is still loaded gets back what it held;
 * with stubs_passed, the callback stubs' slots keep them; a rule left at exit
 * keeps its own. */
PDI_HIDDEN void pdi_restore_slots(pdi_session_t *session, int stubs_passed);

/* A rule's objects noted by their base address (objects_without_room, pointer_objects). */
static inline int
pdi_bases_hold(const pdi_array_t *bases, uintptr_t base)
{
  const uintptr_t *items = bases->items;
  for (size_t i = 0; i < bases->count; i++)
    if (items[i] == base)
      return 1;
  return 0;
}

static inline int
pdi_bases_add(pdi_arena_t *arena, pdi_array_t *bases, uintptr_t base)
{
  uintptr_t *noted = pdi_array_push(arena, bases, sizeof *noted);
  if (noted == NULL)
    return -1;
  *noted = base;
  return 0;
}

/* Whether a rule puts callback stubs in slots (callback and act rules). */
static inline int
pdi_rule_has_stubs(const pdi_rule_t *rule)
{
  return rule != NULL && (rule->kind == PDI_RULE_CALLBACK || rule->kind == PDI_RULE_ACT);
}

/* ---- claims.c */

/* The latest claim on a slot (a relink may sit on top of a redefine); a
 * watched slot counts as unclaimed. */
PDI_HIDDEN const owned_patch_t *pdi_claims_find(const pdi_session_t *session, uintptr_t *slot);
/* The latest claim on a slot, a watched one too: a lazy slot (or one the
 * loader bound to the wrapper) that a redefine reaches through its symbol
 * table rather than by a write. */
PDI_HIDDEN const owned_patch_t *pdi_claims_latest(const pdi_session_t *session, uintptr_t *slot);
/* Another open session's claim on a slot (pdi run's, under pdi attach), and
 * that session in *holder; NULL when no other session holds it. */
PDI_HIDDEN const owned_patch_t *pdi_claims_find_elsewhere(const pdi_session_t *session, uintptr_t *slot,
                                                          const pdi_session_t **holder);
/* Takes ownership of one slot for a rule, after checking that no other rule
 * of any open session claims it; a duplicate counts as shared. 0 or -1. */
PDI_HIDDEN int pdi_claim(pdi_session_t *session, unsigned rule_index, const pdi_object_t *object,
                         const pdi_patch_t *patch);
/* pdi_claim for a slot its plan admitted under the session lock, having
 * found it unclaimed in every open session: not asked of the others again. */
PDI_HIDDEN int pdi_claim_admitted(pdi_session_t *session, unsigned rule_index, const pdi_object_t *object,
                                  const pdi_patch_t *patch);
/* Notes a slot that a redefine does not write but that may hold its wrapper
 * by uninstall: a lazy one (bound through the patched symbol table at its
 * first call) or one the loader relocated to the wrapper (an object loaded
 * later). The patch's old_value goes back if the slot then holds new_value,
 * so uninstall needs no walk of every relocation. Conflicts with nothing,
 * counts no slot; a slot already noted or claimed is left as it is. 0 or -1. */
PDI_HIDDEN int pdi_claim_watched(pdi_session_t *session, unsigned rule_index, const pdi_object_t *object,
                                 const pdi_patch_t *patch);
/* Room for `count` more claims (array and index) without growing on the way. */
PDI_HIDDEN int pdi_claims_reserve(pdi_session_t *session, size_t count);
/* Drops every claim from the `count`th on (a rolled-back rule, an undo). */
PDI_HIDDEN void pdi_claims_truncate(pdi_session_t *session, size_t count);
/* Drops the claims in objects that were unloaded (dlclose). */
PDI_HIDDEN void pdi_claims_keep_loaded(pdi_session_t *session, const pdi_objects_t *set);
PDI_HIDDEN int pdi_claim_is_loaded(const pdi_objects_t *set, const owned_patch_t *owned);
/* Whether two rules send a slot the same way (a duplicate, not a conflict). */
PDI_HIDDEN int pdi_same_redirect(const pdi_rule_t *a, const pdi_rule_t *b);
PDI_HIDDEN int pdi_conflict_error(const active_rule_t *active, const pdi_rule_t *other, const pdi_object_t *object,
                                  const char *function);
/* The same for two rules of this session that want one slot (`owner` holds
 * it): rules are planned kind by kind, so the one in hand may come first in
 * the file; when the conflict fails the open, the later one is named, as
 * `pdi config check` names it (under on_error = warn, the one in hand, which
 * is the one skipped). */
PDI_HIDDEN int pdi_slot_conflict(const pdi_session_t *session, unsigned in_hand, unsigned owner,
                                 const pdi_object_t *object, const char *function);
/* -1 with pdi_error() set when an earlier rule that is not skipped conflicts
 * with rule `index` in the config itself, as `pdi config check` finds. */
PDI_HIDDEN int pdi_rule_conflicts_earlier(const pdi_session_t *session, unsigned index);

/* ---- install.c */

/* A call site planned for a stub: its slot and what the slot holds, the
 * function behind it, the backend's event, and the rule the claim is for. */
typedef struct planned_site {
  uintptr_t *slot;
  uintptr_t value;
  uintptr_t target;
  int event;
  unsigned owner;
  pdi_cb_site_t site;
  int admitted_unclaimed; /* its plan found no session's claim on the slot (pdi_claim_admitted) */
} planned_site_t;

/* What the sites of one object are planned into; zeroed per object. The
 * loaded segment of the last callee is remembered: an object's imports
 * mostly go to few segments. */
typedef struct site_plan_buffer {
  pdi_array_t sites; /* planned_site_t */
  const pdi_object_t *callee;
  uintptr_t callee_start, callee_end;
} site_plan_buffer_t;

/* Room for every slot of `object` in the buffer and in the claims. */
PDI_HIDDEN int pdi_sites_reserve(pdi_session_t *session, site_plan_buffer_t *buffer, const pdi_object_t *object);
/* The site record of a slot, as cb_req sees it: its strings are the
 * objects' own, copied only for the sites that get a stub (pdi_cb_add_site). */
PDI_HIDDEN pdi_cb_site_t pdi_site_describe(site_plan_buffer_t *buffer, const pdi_objects_t *set,
                                           const pdi_object_t *object, const pdi_slot_t *slot, uintptr_t target);
/* Gives every planned site of `object` a stub with `hooks` and claims its
 * slot for the site's owner; all of them (0), or an error naming `reporter`:
 * PDI_SITES_NO_ROOM, with nothing claimed, when the free stubs are too few,
 * -1 otherwise. */
#define PDI_SITES_NO_ROOM (-2)
PDI_HIDDEN int pdi_sites_install(pdi_session_t *session, const pdi_object_t *object, const site_plan_buffer_t *buffer,
                                 active_rule_t *reporter, const pdi_cb_hooks_t *hooks);

/* Plans and applies every active rule on `set`: redefines, relinks, then
 * callbacks. 0, or -1 with pdi_error() set; the claims made until then stay,
 * for the caller to undo. */
PDI_HIDDEN int pdi_rules_install(pdi_session_t *session, const pdi_objects_t *set);
/* After a dlclose: the rules whose definition (a redefine's definer, a
 * relink's original) was unloaded with its object take the next one loaded. */
PDI_HIDDEN void pdi_rules_forget_unloaded(pdi_session_t *session, const pdi_objects_t *set);

/* ---- act.c */

/* With act rules, adds the bundled act backend to the config's backends. */
PDI_HIDDEN int pdi_act_declare_backend(pdi_session_t *session);
/* Hands the loaded act backend the rules, before its init. */
PDI_HIDDEN int pdi_act_configure_backend(pdi_session_t *session);
/* Plans and claims the act rules' sites on the first `limit` objects of `set`. */
PDI_HIDDEN int pdi_act_plan(pdi_session_t *session, const pdi_objects_t *set, unsigned limit);
PDI_HIDDEN void pdi_act_skip_all(pdi_session_t *session);
/* "FILE:LINE: act OBJECT FUNCTION: N call(s) seen, M fired" per rule, at log level info. */
PDI_HIDDEN void pdi_act_log_counts(const pdi_session_t *session);
/* Gives the session's rules back to the act backend (after its FINI). */
PDI_HIDDEN void pdi_act_release(pdi_session_t *session);

/* cxx-names.c: a function NAME of the object at `base` that C++ mangled
 * (defined without extern "C") into `mangled`, 1 if it has one; and the
 * backend entry point that has only such a name (an entry point defined
 * without the header's declarations: its init would not run, and could not
 * refuse the load), or NULL. */
PDI_HIDDEN int pdi_cxx_spelling(uintptr_t base, const char *name, char *mangled, size_t size);
PDI_HIDDEN const char *pdi_cxx_entry_point(void *handle, uintptr_t base, char *mangled, size_t size);

/* ---- outcomes.c: what the rules met */

/* Notes the rules whose object pattern matches an object of `set` (object_seen, and PDI_MATCHED_MARKS). */
PDI_HIDDEN void pdi_session_note_matched_objects(pdi_session_t *session, const pdi_objects_t *set);
/* At the open, at info: each rule's slots, or why it has none yet. */
PDI_HIDDEN void pdi_session_log_outcomes(const pdi_session_t *session);
/* After a later load: the pointer slots of act rules found in the new objects, said as at the install (a warning
 * when the rule has no other slot). */
PDI_HIDDEN void pdi_act_report_late_pointers(pdi_session_t *session);
/* For a wrapper named as a function the program or a library it loaded defines
 * (getpid for getpid): the loader binds the backend's own `getpid` to that
 * one, not to the wrapper, so that pdi_original((const void *)getpid) asks
 * for libc's getpid; it answers as for the wrapper (docs/backends.md). Read
 * from the backend's own slots of the name, as the loader bound them: for a
 * function with versions it binds an unversioned reference to the oldest
 * (foo@V1), where dlsym gives the default (foo@@V2); dlsym's answer too. */
PDI_HIDDEN void pdi_find_wrapper_aliases(active_rule_t *active);
/* At the end of the process that opened the session, the rules that met nothing, as warnings. */
PDI_HIDDEN void pdi_session_report_never_matched(pdi_session_t *session, const char *during);
/* Adds what the rules met in this process so far to the shared verdicts. */
PDI_HIDDEN void pdi_session_note_verdicts(pdi_session_t *session);

/* ---- backend-helpers.c */

typedef enum pdi_helpers_outcome {
  PDI_HELPERS_BOUND,
  PDI_HELPERS_NOT_FOUND,     /* the backend is not among the process's objects */
  PDI_HELPERS_UNKNOWN,       /* *name: a pdi_* name that is no helper */
  PDI_HELPERS_CALLS_MISSING, /* *name: a function it calls that nothing defines */
  PDI_HELPERS_NOT_BOUND      /* pdi_error() says why */
} pdi_helpers_outcome_t;
/* Points a loaded backend's pdi_* references at the core's helpers. */
PDI_HIDDEN pdi_helpers_outcome_t pdi_backend_bind_helpers(const loaded_backend_t *backend, const char **name);
/* When the loader's `why` (dlerror) is a pdi_* helper it could not bind as the backend loaded (a reference that is
 * not weak): 1, with the explanation in `out`. */
PDI_HIDDEN int pdi_backend_helper_bound_early(const char *why, char *out, size_t size);

/* ---- verdicts.c: what the rules met in every process of a launched program */

/* A rule ran (not skipped for an error) in a process; matched an object there; and imported (relink, act) or
 * found defined (redefine) its function there. */
enum { VERDICT_ACTIVE = 1, VERDICT_SEEN = 2, VERDICT_REACHED = 4 };
/* The warning for a rule that met nothing, by what it met (VERDICT_* bits); nothing for one that did. */
PDI_HIDDEN void pdi_verdicts_warn(const pdi_rule_t *rule, const char *function, unsigned met, const char *during);
/* Whether this process is the first of the launched program to say the config's own lines (its Warning lines, a
 * log_file it cannot open): 1 for the first, and for every process of a config no pdi command launched. */
PDI_HIDDEN int pdi_verdicts_first_to_say(const char *config_path);
/* Joins the verdicts of the program that pdi launched with the temporary config `config_path`. */
PDI_HIDDEN void pdi_verdicts_join(pdi_session_t *session, const char *config_path);
PDI_HIDDEN void pdi_verdicts_note(pdi_session_t *session, unsigned rule, unsigned bits);
/* What rule `rule` met in every process so far; `own` without shared verdicts. */
PDI_HIDDEN unsigned pdi_verdicts_of(const pdi_session_t *session, unsigned rule, unsigned own);
/* This process leaves; 1 when it is the one to report (the last, or without shared verdicts). */
PDI_HIDDEN int pdi_verdicts_leave(pdi_session_t *session);

#endif
