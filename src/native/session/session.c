/* A session's life: opened (config read, backends loaded, rules resolved,
 * checked and installed, all or nothing), kept up to date as the loader maps
 * and unmaps objects, and closed (every slot and symbol put back, backends
 * finished). The parts live next door: backends.c, claims.c, install.c,
 * uninstall.c. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../loadwatch/loadwatch.h"
#include "internal.h"

/* Recursive: a backend's dlopen during an open runs the load watcher's
 * constructor trampolines, which update the open sessions. */
static pthread_mutex_t session_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static pdi_session_t *open_sessions;

/* A fork waits for the lock; the child, where its holder thread does not
 * exist (comux-accept forks in its init, under the open), gets a new one. */
static void
lock_before_fork(void)
{
  pthread_mutex_lock(&session_lock);
}

static void
unlock_after_fork(void)
{
  pthread_mutex_unlock(&session_lock);
}

static void
renew_lock_in_child(void)
{
  static const pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
  session_lock = fresh;
}

static void
register_fork_handlers(void)
{
  pthread_atfork(lock_before_fork, unlock_after_fork, renew_lock_in_child);
}

const pdi_session_t *
pdi_sessions_first(void)
{
  return open_sessions;
}

static int
rule_error_at(const active_rule_t *active, const pdi_origin_t *at, const char *fmt, va_list args)
{
  const pdi_rule_t *rule = active->rule;
  char subject[600];
  snprintf(subject, sizeof subject, "%s %s", pdi_rule_kind_name(rule->kind),
           rule->function ? rule->function : rule->object);
  return pdi_error_at(at, subject, fmt, args);
}

int
pdi_rule_error(const active_rule_t *active, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  rule_error_at(active, &active->rule->origin, fmt, args);
  va_end(args);
  return -1;
}

int
pdi_rule_field_error(const active_rule_t *active, int field, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  rule_error_at(active, &active->rule->fields[field], fmt, args);
  va_end(args);
  return -1;
}

static int
count_adds(struct dl_phdr_info *info, size_t size, void *data)
{
  (void)size;
  *(unsigned long long *)data = info->dlpi_adds;
  return 1;
}

static unsigned long long
current_adds(void)
{
  unsigned long long adds = 0;
  dl_iterate_phdr(count_adds, &adds);
  return adds;
}

/* ---- open */

static void
discard(pdi_session_t *session)
{
  pdi_backends_fini(session);
  pdi_act_release(session);
  pdi_config_release(&session->config);
  pdi_arena_t arena = session->arena;
  pdi_arena_release(&arena);
}

/* PDI_LAUNCHER_PID: the pdi (or Node process of spawn()) that started the
 * program; a process whose parent it is not was started by the program. */
static pid_t
launcher_pid(void)
{
  const char *text = getenv("PDI_LAUNCHER_PID");
  long pid = 0;
  for (; text != NULL && *text >= '0' && *text <= '9' && pid < 1L << 30; text++)
    pid = pid * 10 + (*text - '0');
  return text != NULL && *text == '\0' ? (pid_t)pid : 0;
}

/* A session in its own arena, with its config read; NULL with pdi_error() set. */
static pdi_session_t *
read_session(const char *path)
{
  pdi_arena_t arena = {0};
  pdi_session_t *session = pdi_arena_alloc(&arena, sizeof *session);
  if (session == NULL) {
    pdi_set_error("out of memory");
    return NULL;
  }
  memset(session, 0, sizeof *session);
  session->arena = arena;
  session->opener = getpid();
  session->launcher = launcher_pid();
  pdi_config_init(&session->config);
  if (pdi_config_load(&session->config, path) != 0) {
    unsigned more = session->config.failure_count > 1 ? session->config.failure_count - 1 : 0;
    if (more > 0) {
      char first[512];
      snprintf(first, sizeof first, "%s", pdi_error());
      pdi_set_error("%s (and %s%u more error%s: `pdi config check %s` lists %s)", first,
                    PDI_CONFIG_FAILURES_CUT(&session->config) ? "at least " : "", more, more == 1 ? "" : "s", path,
                    PDI_CONFIG_FAILURES_CUT(&session->config) ? "the first " PDI_STRINGIFY(PDI_CONFIG_MAX_FAILURES)
                                                              : "every one");
    }
    discard(session);
    return NULL;
  }
  return session;
}

static void
log_config_warnings(const pdi_config_t *config)
{
  for (unsigned i = 0; i < config->warning_count; i++) {
    char place[PATH_MAX + 40];
    pdi_origin_format(&config->warnings[i].origin, place, sizeof place);
    pdi_log(PDI_LOG_WARNING, "%s%s", place, config->warnings[i].message);
  }
}

/* After a backend or rule failed: with on_error = warn it is logged and
 * skipped (0), otherwise the open fails (-1). */
static int
skip_or_fail(const pdi_session_t *session, const char *what)
{
  if (session->config.options.on_error != PDI_ON_ERROR_WARN)
    return -1;
  pdi_log(PDI_LOG_WARNING, "%s (%s skipped)", pdi_error(), what);
  return 0;
}

/* Initialises the loaded backends. One that refuses ends the open, or with
 * on_error = warn is logged once and skipped with every rule that names it. */
static int
init_backends(pdi_session_t *session)
{
  const pdi_config_t *config = &session->config;
  for (unsigned i = 0; i < config->backend_count; i++) {
    loaded_backend_t *backend = &session->backends[i];
    if (backend->failed || pdi_backend_init(backend) == 0)
      continue;
    backend->failed = 1;
    if (skip_or_fail(session, "backend and its rules") != 0)
      return -1;
    for (unsigned r = 0; r < config->rule_count; r++)
      if (config->rules[r].backend != NULL && strcmp(config->rules[r].backend, backend->decl->name) == 0)
        session->rules[r].skipped = 1;
  }
  return 0;
}

/* $main, `*` and a redefine without object match in every process. */
static int
pattern_always_matches(const char *pattern)
{
  return pattern == NULL || strcmp(pattern, "*") == 0 || strcmp(pattern, "$main") == 0;
}

/* Everything before the first slot moves: backends loaded, rules resolved
 * and checked against each other, backends initialised. */
static int
prepare(pdi_session_t *session)
{
  if (pdi_act_declare_backend(session) != 0)
    return -1;
  const pdi_config_t *config = &session->config;
  session->backends = pdi_arena_alloc(&session->arena, (config->backend_count + 1) * sizeof *session->backends);
  session->rules = pdi_arena_alloc(&session->arena, (config->rule_count + 1) * sizeof *session->rules);
  if (session->backends == NULL || session->rules == NULL) {
    pdi_set_error("out of memory");
    return -1;
  }
  memset(session->backends, 0, (config->backend_count + 1) * sizeof *session->backends);
  memset(session->rules, 0, (config->rule_count + 1) * sizeof *session->rules);
  for (unsigned i = 0; i < config->backend_count; i++) {
    loaded_backend_t *backend = &session->backends[i];
    backend->decl = &config->backends[i];
    if (pdi_backend_load(session, backend) == 0)
      continue;
    backend->failed = 1;
    if (skip_or_fail(session, "backend") != 0)
      return -1;
  }
  for (unsigned r = 0; r < config->rule_count; r++) {
    active_rule_t *active = &session->rules[r];
    active->rule = &config->rules[r];
    active->object_seen = pattern_always_matches(active->rule->object);
    if (pdi_rule_resolve(session, active) == 0)
      continue;
    active->skipped = 1;
    if (skip_or_fail(session, "rule") != 0)
      return -1;
  }
  for (unsigned r = 0; r < config->rule_count; r++) {
    active_rule_t *active = &session->rules[r];
    if (active->skipped || pdi_rule_conflicts_earlier(session, r) == 0)
      continue;
    active->skipped = 1;
    if (skip_or_fail(session, "rule") != 0)
      return -1;
  }
  if (pdi_act_configure_backend(session) != 0)
    return -1;
  return init_backends(session);
}

/* Puts back every claimed slot, last first, and forgets the claims. */
static void
undo_claims(pdi_session_t *session)
{
  for (size_t i = claimed_count(session); i-- > 0;) {
    const owned_patch_t *owned = claimed_patch(session, i);
    if (pdi_claim_puts_back(owned, NULL, 0))
      pdi_patch_apply(&owned->patch, 1, 1);
  }
  pdi_claims_truncate(session, 0);
}

static int
install_on_loaded_objects(pdi_session_t *session)
{
  pdi_objects_t set;
  session->seen_adds = current_adds();
  if (pdi_objects_scan(&set) != 0)
    return -1;
  for (unsigned i = 0; i < set.count; i++)
    pdi_log(PDI_LOG_DEBUG, "object %u: %s at %#lx", i, set.items[i].path, (unsigned long)set.items[i].base);
  pdi_session_note_matched_objects(session, &set);
  int status = pdi_rules_install(session, &set);
  pdi_objects_release(&set);
  if (status != 0)
    undo_claims(session);
  return status;
}

static void objects_loaded(void);
static int any_session_open(void);
static void objects_unloaded(void);

/* PDI_WARN_UNLOADED=0: no report at exit of the rules that met nothing;
 * =except:BACKEND: none of the callback rules of BACKEND (pdi trace's: it
 * reports its --object patterns itself, and the rules of a --config as any
 * config's). */
static int
quiet_about_unloaded(pdi_session_t *session)
{
  const char *setting = getenv("PDI_WARN_UNLOADED");
  if (setting != NULL && strncmp(setting, "except:", 7) == 0)
    snprintf(session->unreported_backend, sizeof session->unreported_backend, "%s", setting + 7);
  return setting != NULL && strcmp(setting, "0") == 0;
}

/* PDI_MATCHED_MARKS, read once the backends are initialised: the trace
 * backend of a process it does not trace (a child, without -f) removes it,
 * and what that process loads then says nothing of what was traced. */
static void
take_matched_marks(pdi_session_t *session)
{
  const char *marks = getenv("PDI_MATCHED_MARKS");
  if (marks != NULL && *marks != '\0')
    session->matched_marks = pdi_arena_strdup(&session->arena, marks);
}

/* The session whose open failed, until its caller has said why and discards
 * it: its backends' FINI output comes after that line, not before. */
static pdi_session_t *failed_session;

int
pdi_session_open(const char *path, pdi_session_t **out, int *failure_is_warning)
{
  pdi_session_discard_failed();
  *out = NULL;
  if (failure_is_warning != NULL)
    *failure_is_warning = 0;
  pdi_session_t *session = read_session(path);
  if (session == NULL)
    return -1;
  const pdi_config_t *config = &session->config;
  if (failure_is_warning != NULL)
    *failure_is_warning = config->options.on_error == PDI_ON_ERROR_WARN;
  session->log_before = pdi_log_state();
  /* Said once per launched program, not by each of its processes. */
  int say = pdi_verdicts_first_to_say(path);
  pdi_log_configure(config->options.log_level, config->options.log_file, !say);
  if (say)
    log_config_warnings(config);
  if (config->rule_count != 0 && pdi_loadwatch_start(objects_loaded, objects_unloaded, any_session_open) != 0)
    pdi_log(PDI_LOG_WARNING, "rules will not reach objects loaded later: %s", pdi_error());
  else
    session->reports_unloaded = !quiet_about_unloaded(session);

  pthread_once(&fork_handlers_once, register_fork_handlers);
  pthread_mutex_lock(&session_lock);
  int status = prepare(session);
  if (status == 0)
    take_matched_marks(session);
  if (status == 0)
    status = install_on_loaded_objects(session);
  if (status == 0) {
    pdi_session_log_outcomes(session);
    session->installed = 1;
    /* Oldest first: at a later load the rules reach the objects in the order the sessions opened, so a slot two
     * sessions want goes to the earlier one then too, as at the later one's install. */
    pdi_session_t **tail = &open_sessions;
    while (*tail != NULL)
      tail = &(*tail)->next;
    session->next = NULL;
    *tail = session;
    *out = session;
  }
  pthread_mutex_unlock(&session_lock);
  if (status != 0) {
    pdi_log_restore(session->log_before);
    failed_session = session;
  }
  return status;
}

void
pdi_session_discard_failed(void)
{
  pdi_session_t *session = failed_session;
  failed_session = NULL;
  if (session != NULL)
    discard(session);
}

/* ---- close */

enum { SESSION_CLOSES, SESSION_ENDS, SESSION_ORPHANED, PROCESS_ENDS };

/* `how`: SESSION_CLOSES (interpose()'s close), SESSION_ENDS (a detach),
 * PROCESS_ENDS; each reports the rules that met nothing, as at an exit.
 * SESSION_ORPHANED (the launch of a pdi that has ended) reports nothing:
 * its reports were for that pdi, and the process's stderr is not its. */
static void
close_session(pdi_session_t *session, int how)
{
  int process_ends = how == PROCESS_ENDS;
  if (session == NULL)
    return;
  pthread_mutex_lock(&session_lock);
  pdi_session_t **link = &open_sessions;
  while (*link != NULL && *link != session)
    link = &(*link)->next;
  if (*link == session)
    *link = session->next;
  int pass_stubs = process_ends && open_sessions == NULL;
  if (pass_stubs)
    pdi_cb_pass_all();
  /* Put back so that nothing reaches a backend after its fini, which is all
   * that can change at exit: a backend whose fini does nothing keeps its
   * slots (the comux replay's, about 0.2 ms of patching per process). */
  for (unsigned r = 0; process_ends && r < session->config.rule_count; r++)
    session->rules[r].left_at_exit = pdi_backend_fini_is_empty(session, session->rules[r].rule);
  pdi_restore_slots(session, pass_stubs);
  if (how != SESSION_ORPHANED)
    pdi_session_report_never_matched(session,
                                     how == SESSION_CLOSES ? "while the session was open" : "while the program ran");
  int had_callbacks = 0;
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    if (session->rules[r].wrapper != 0)
      pdi_originals_remove(session->rules[r].wrapper);
    had_callbacks |= pdi_rule_has_stubs(session->rules[r].rule);
  }
  pthread_mutex_unlock(&session_lock);
  if (had_callbacks)
    pdi_cb_finish(process_ends);
  if (how != SESSION_ORPHANED)
    pdi_act_log_counts(session);
  /* After every FINI: a backend's FINI may misuse a helper too. */
  pdi_backends_fini(session);
  /* Whatever the rules: a relink wrapper, INIT or FINI may misuse a helper too. */
  pdi_cb_report_helpers();
  if (!process_ends)
    pdi_log_restore(session->log_before);
  discard(session);
}

void
pdi_session_close(pdi_session_t *session)
{
  close_session(session, SESSION_CLOSES);
}

void
pdi_session_close_ended(pdi_session_t *session)
{
  close_session(session, SESSION_ENDS);
}

void
pdi_session_close_orphaned(pdi_session_t *session)
{
  close_session(session, SESSION_ORPHANED);
}

void
pdi_session_close_at_exit(pdi_session_t *session)
{
  close_session(session, PROCESS_ENDS);
}

/* ---- the load watch's callbacks */

/* Objects were loaded (dlopen, libraries libc loads itself) and are about to
 * run their constructors: every open session's rules reach them now. */
static void
objects_loaded(void)
{
  pthread_mutex_lock(&session_lock);
  unsigned long long adds = current_adds();
  for (pdi_session_t *session = open_sessions; session != NULL; session = session->next) {
    if (session->seen_adds == adds)
      continue;
    pdi_objects_t set;
    if (pdi_objects_scan(&set) != 0)
      continue;
    pdi_session_note_matched_objects(session, &set);
    /* Slots this session already owns are skipped while planning, so the
     * objects seen before cost a scan, not a second patch. */
    if (pdi_rules_install(session, &set) != 0)
      pdi_log(PDI_LOG_ERROR, "%s", pdi_error());
    pdi_act_report_late_pointers(session); /* before `set`, which holds the objects' paths, goes */
    pdi_session_note_verdicts(session);    /* an exec may replace this image before its exit */
    session->seen_adds = adds;
    pdi_objects_release(&set);
  }
  pthread_mutex_unlock(&session_lock);
}

/* Read without the session lock: the loader calls it with its own lock
 * held, which a session opening may be waiting for. */
static int
any_session_open(void)
{
  return __atomic_load_n(&open_sessions, __ATOMIC_ACQUIRE) != NULL;
}

/* Objects were unloaded (dlclose): their slots are no one's to put back,
 * and the definitions they held no rule's. */
static void
objects_unloaded(void)
{
  pthread_mutex_lock(&session_lock);
  pdi_objects_t set;
  if (open_sessions != NULL && pdi_objects_scan(&set) == 0) {
    for (pdi_session_t *session = open_sessions; session != NULL; session = session->next) {
      pdi_claims_keep_loaded(session, &set);
      pdi_rules_forget_unloaded(session, &set);
    }
    pdi_objects_release(&set);
  }
  pthread_mutex_unlock(&session_lock);
}

void
pdi_session_share_verdicts(pdi_session_t *session, const char *config_path)
{
  pthread_mutex_lock(&session_lock);
  pdi_verdicts_join(session, config_path);
  pdi_session_note_verdicts(session);
  pthread_mutex_unlock(&session_lock);
}
