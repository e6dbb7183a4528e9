#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../callback/callback.h"
#include "../loadwatch/loadwatch.h"
#include "../redefine/redefine.h"
#include "../relink/relink.h"
#include "session.h"

#include <pdi/backend.h>

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
  char name[256];
  char version[128];
  pdi_version_req_t req;
  uintptr_t wrapper;
  uintptr_t original;
  unsigned slots;
  unsigned shared; /* slots an earlier duplicate rule already redirects */
  int skipped;
  pdi_redefine_target_t target;
  int has_target;
  pdi_cb_hooks_t hooks;
} active_rule_t;

typedef struct owned_patch {
  pdi_patch_t patch;
  unsigned rule;
  uintptr_t object_base;
  const char *object_path;
} owned_patch_t;

struct pdi_session {
  pdi_config_t config;
  loaded_backend_t *backends;
  active_rule_t *rules;
  owned_patch_t *patches;
  size_t patch_count;
  size_t patch_capacity;
  /* slot address -> 1 + index of its latest claim, open addressing */
  size_t *slot_index;
  size_t slot_index_capacity;
  size_t slot_index_count;
  pdi_arena_t arena;
  unsigned long long seen_adds;
  int warned_max_objects;
  pdi_session_t *next;
};

/* Recursive: a backend's dlopen during an open runs the load watcher's
 * constructor trampolines, which update the open sessions. */
static pthread_mutex_t session_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static pdi_session_t *open_sessions;
static int last_open_warns;

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

int
pdi_session_last_open_warns(void)
{
  return last_open_warns;
}

/* ---- which objects a session may patch */

static const loaded_backend_t *
backend_at(const pdi_session_t *session, const pdi_object_t *object)
{
  for (unsigned i = 0; i < session->config.backend_count; i++)
    if (session->backends[i].handle != NULL && session->backends[i].base == object->base)
      return &session->backends[i];
  return NULL;
}

static int
is_any_backend(const pdi_object_t *object, void *context)
{
  /* context: the session being opened, not yet among the open ones */
  for (const pdi_session_t *s = open_sessions; s != NULL; s = s->next)
    if (backend_at(s, object) != NULL)
      return 1;
  return backend_at(context, object) != NULL;
}

static int
is_protected(const pdi_session_t *session, const pdi_object_t *object, const char **why)
{
  if (object->flags & PDI_OBJECT_VDSO) {
    *why = "is the vDSO";
    return 1;
  }
  if ((object->flags & PDI_OBJECT_PDI) && session->config.options.donttouch_pdi) {
    *why = "is pdi itself and donttouch_pdi is on";
    return 1;
  }
  if (session->config.options.donttouch_backends && is_any_backend(object, (void *)session)) {
    *why = "is a backend and donttouch_backends is on";
    return 1;
  }
  return 0;
}

static int
pattern_is_explicit(const char *pattern)
{
  return strpbrk(pattern, "*?[") == NULL;
}

/* ---- errors: "FILE:LINE: relink fix_add: message" */

static int
rule_error(const active_rule_t *active, const char *fmt, const char *detail)
{
  const pdi_rule_t *rule = active->rule;
  char message[1024];
  snprintf(message, sizeof message, fmt, detail);
  char place[PATH_MAX + 40];
  pdi_origin_format(&rule->origin, place, sizeof place);
  pdi_set_error("%s%s %s: %s", place, pdi_rule_kind_name(rule->kind), rule->function ? rule->function : rule->object,
                message);
  return -1;
}

static int
backend_error(const pdi_backend_decl_t *decl, const char *message)
{
  char place[PATH_MAX + 40];
  pdi_origin_format(&decl->origin, place, sizeof place);
  pdi_set_error("%sbackend '%s': %s", place, decl->name, message);
  return -1;
}

/* ---- backends */

static const char *
core_directory(pdi_arena_t *arena)
{
  Dl_info info;
  if (dladdr((void *)&pdi_session_open, &info) == 0 || info.dli_fname == NULL)
    return ".";
  const char *slash = strrchr(info.dli_fname, '/');
  if (slash == NULL)
    return ".";
  char directory[PATH_MAX];
  snprintf(directory, sizeof directory, "%.*s", (int)(slash - info.dli_fname), info.dli_fname);
  return pdi_arena_strdup(arena, directory);
}

static const char *
find_library(pdi_session_t *session, const pdi_backend_decl_t *decl, char *searched, size_t searched_size)
{
  const char *library = decl->value;
  char candidate[PATH_MAX];
  if (library[0] == '/')
    return access(library, R_OK) == 0 ? library : (snprintf(searched, searched_size, "%s", library), NULL);
  const char *bundled = core_directory(&session->arena);
  int bare = strchr(library, '/') == NULL && strstr(library, ".so") == NULL;
  size_t used = 0;
  unsigned directories = 1 + session->config.options.be_path.count;
  for (unsigned i = 0; i < directories; i++) {
    const char *directory = i == 0 ? bundled : session->config.options.be_path.items[i - 1];
    if (bare && i == 0)
      snprintf(candidate, sizeof candidate, "%s/pdi-backend-%s.so", directory, library);
    else
      snprintf(candidate, sizeof candidate, "%s/%s", directory, library);
    if (access(candidate, R_OK) == 0)
      return pdi_arena_strdup(&session->arena, candidate);
    if (used < searched_size)
      used += (size_t)snprintf(searched + used, searched_size - used, "%s%s", i ? ", " : "", candidate);
  }
  return NULL;
}

typedef struct helper {
  const char *name;
  void *address;
} helper_t;

static const helper_t helpers[] = {
  {"pdi_original", (void *)&pdi_original_impl},
  {"pdi_arg_int", (void *)&pdi_arg_int_impl},
  {"pdi_arg_double", (void *)&pdi_arg_double_impl},
  {"pdi_ret_int", (void *)&pdi_ret_int_impl},
  {"pdi_ret_double", (void *)&pdi_ret_double_impl},
};

typedef struct helper_binding {
  pdi_patch_t patches[64];
  size_t count;
  const char *unknown;
} helper_binding_t;

static int
bind_helper_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  (void)object;
  helper_binding_t *binding = context;
  if (strncmp(slot->symbol, "pdi_", 4) != 0 || slot->kind == PDI_SLOT_COPY)
    return 0;
  for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++) {
    if (strcmp(slot->symbol, helpers[i].name) != 0)
      continue;
    if (binding->count == sizeof binding->patches / sizeof binding->patches[0])
      return 0;
    pdi_patch_t *patch = &binding->patches[binding->count++];
    patch->slot = slot->address;
    patch->old_value = *slot->address;
    patch->new_value = (uintptr_t)helpers[i].address + (slot->has_addend ? (uintptr_t)slot->addend : 0);
    return 0;
  }
  binding->unknown = slot->symbol;
  return 1;
}

/* Backends link nothing of pdi: their pdi_* references are pointed at the
 * core here, which works whether the core is preloaded or in the addon. */
static int
bind_helpers(loaded_backend_t *backend)
{
  pdi_objects_t set;
  if (pdi_objects_scan(&set) != 0)
    return -1;
  const pdi_object_t *object = NULL;
  for (unsigned i = 0; i < set.count && object == NULL; i++)
    if (set.items[i].base == backend->base && strcmp(set.items[i].path, backend->path) == 0)
      object = &set.items[i];
  int status = 0;
  if (object == NULL) {
    status = backend_error(backend->decl, "loaded, but not found among the process's objects");
  } else {
    helper_binding_t binding = {.count = 0, .unknown = NULL};
    pdi_object_each_slot(object, bind_helper_slot, &binding);
    if (binding.unknown != NULL) {
      char message[300];
      snprintf(message, sizeof message, "uses '%s', which is not part of the pdi backend API", binding.unknown);
      status = backend_error(backend->decl, message);
    } else if (pdi_patch_apply(binding.patches, binding.count, 0) != 0) {
      status = backend_error(backend->decl, pdi_error());
    }
  }
  pdi_objects_release(&set);
  return status;
}

static int
load_backend(pdi_session_t *session, loaded_backend_t *backend)
{
  const pdi_backend_decl_t *decl = backend->decl;
  char searched[1024] = "";
  const char *path = find_library(session, decl, searched, sizeof searched);
  if (path == NULL) {
    char message[1200];
    snprintf(message, sizeof message, "library '%s' not found (searched: %s)", decl->value, searched);
    return backend_error(decl, message);
  }
  void *handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
  if (handle == NULL) {
    const char *why = dlerror();
    char message[600];
    snprintf(message, sizeof message, "cannot load %s: %s", path, why ? why : "unknown error");
    return backend_error(decl, message);
  }
  struct link_map *map = NULL;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) {
    dlclose(handle);
    return backend_error(decl, "cannot find its link map");
  }
  backend->handle = handle;
  backend->base = map->l_addr;
  backend->path = pdi_arena_strdup(&session->arena, map->l_name && map->l_name[0] ? map->l_name : path);
  backend->self.name = decl->name;
  backend->self.path = backend->path;
  backend->self.api_version = PDI_API_VERSION;
  return bind_helpers(backend);
}

static int
init_backend(loaded_backend_t *backend)
{
  int (*init)(const pdi_backend_t *) = (int (*)(const pdi_backend_t *))dlsym(backend->handle, "pdi_be_init");
  if (init != NULL) {
    int refused = init(&backend->self);
    if (refused != 0) {
      char message[100];
      snprintf(message, sizeof message, "refused to initialise (pdi_be_init returned %d)", refused);
      return backend_error(backend->decl, message);
    }
  }
  backend->initialized = 1;
  return 0;
}

static void
fini_backends(pdi_session_t *session)
{
  if (session->backends == NULL)
    return;
  for (unsigned i = session->config.backend_count; i-- > 0;) {
    loaded_backend_t *backend = &session->backends[i];
    if (!backend->initialized)
      continue;
    void (*fini)(void) = (void (*)(void))dlsym(backend->handle, "pdi_be_fini");
    if (fini != NULL)
      fini();
    backend->initialized = 0;
  }
}

/* ---- rules */

/* A callback rule's backend hooks; a rule's own handler is refused (the
 * generic handler is the only one this version has). */
static int
resolve_hooks(pdi_session_t *session, active_rule_t *active)
{
  const pdi_rule_t *rule = active->rule;
  snprintf(active->name, sizeof active->name, "*");
  if (rule->wrapper != NULL)
    return rule_error(active, "handler '%s': this version of pdi has only the generic callback handler", rule->wrapper);
  for (unsigned i = 0; i < session->config.backend_count; i++) {
    loaded_backend_t *backend = &session->backends[i];
    if (strcmp(backend->decl->name, rule->backend) != 0)
      continue;
    if (backend->failed)
      return rule_error(active, "its backend '%s' failed to load", rule->backend);
    active->hooks.cb_req = (int (*)(const pdi_cb_site_t *))dlsym(backend->handle, "pdi_be_cb_req");
    active->hooks.pre = (void (*)(pdi_cb_call_t *))dlsym(backend->handle, "pdi_be_pre_cb");
    active->hooks.post = (void (*)(pdi_cb_call_t *))dlsym(backend->handle, "pdi_be_post_cb");
    if (active->hooks.pre == NULL && active->hooks.post == NULL)
      return rule_error(active, "backend '%s' defines neither PDI_BE_FUNC_PRE_CB nor PDI_BE_FUNC_POST_CB",
                        rule->backend);
    const pdi_options_t *options = &session->config.options;
    pdi_cb_limits_t limits = {(unsigned)options->max_threads, (unsigned)options->num_threads,
                              (size_t)options->cb_stack_size, (unsigned)options->cb_max_stubs};
    if (pdi_cb_prepare(&limits) != 0)
      return rule_error(active, "%s", pdi_error());
    return 0;
  }
  return rule_error(active, "unknown backend '%s'", rule->backend);
}

static int
resolve_wrapper(pdi_session_t *session, active_rule_t *active)
{
  const pdi_rule_t *rule = active->rule;
  if (rule->kind == PDI_RULE_CALLBACK)
    return resolve_hooks(session, active);
  if (pdi_symbol_spec_parse(rule->function, active->name, sizeof active->name, active->version,
                            sizeof active->version, &active->req) != 0)
    return rule_error(active, "malformed function name '%s'", rule->function);
  void *handle = NULL;
  const char *from = rule->backend;
  for (unsigned i = 0; i < session->config.backend_count; i++) {
    if (strcmp(session->backends[i].decl->name, rule->backend) == 0) {
      if (session->backends[i].failed)
        return rule_error(active, "its backend '%s' failed to load", rule->backend);
      handle = session->backends[i].handle;
      from = session->backends[i].path;
    }
  }
  int borrowed = 0;
  if (handle == NULL) {
    const char *pattern = rule->backend_object;
    if (pattern == NULL || !session->config.options.allow_lib_as_be)
      return rule_error(active, "unknown backend '%s'", rule->backend);
    pdi_objects_t set;
    if (pdi_objects_scan(&set) != 0)
      return -1;
    for (unsigned i = 0; i < set.count && handle == NULL; i++) {
      const pdi_object_t *candidate = &set.items[i];
      if (pdi_object_matches(candidate, pattern)) {
        handle = dlopen((candidate->flags & PDI_OBJECT_MAIN) ? NULL : candidate->path, RTLD_LAZY | RTLD_NOLOAD);
        from = pdi_arena_strdup(&session->arena, candidate->path);
      }
    }
    pdi_objects_release(&set);
    if (handle == NULL)
      return rule_error(active, "no loaded object matches '%s' to take the wrapper from", pattern);
    borrowed = 1;
  }
  dlerror();
  active->wrapper = (uintptr_t)dlsym(handle, rule->wrapper);
  if (borrowed)
    dlclose(handle);
  if (active->wrapper == 0) {
    char detail[700];
    snprintf(detail, sizeof detail, "wrapper '%s' is not defined by %s (%s)", rule->wrapper, rule->backend, from);
    return rule_error(active, "%s", detail);
  }
  return 0;
}

typedef struct install_context {
  pdi_session_t *session;
  unsigned rule_index;
  const pdi_object_t *object;
  int failed;
} install_context_t;

static size_t
slot_hash(const uintptr_t *slot, size_t capacity)
{
  uintptr_t key = (uintptr_t)slot >> 3;
  return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (capacity - 1);
}

static int
index_slot(pdi_session_t *session, size_t patch)
{
  if ((session->slot_index_count + 1) * 2 > session->slot_index_capacity) {
    size_t capacity = session->slot_index_capacity ? session->slot_index_capacity * 2 : 256;
    size_t *table = pdi_arena_alloc(&session->arena, capacity * sizeof *table);
    if (table == NULL)
      return -1;
    memset(table, 0, capacity * sizeof *table);
    size_t *old = session->slot_index;
    size_t old_capacity = session->slot_index_capacity;
    session->slot_index = table;
    session->slot_index_capacity = capacity;
    session->slot_index_count = 0;
    for (size_t i = 0; i < old_capacity; i++)
      if (old[i] != 0)
        index_slot(session, old[i] - 1);
  }
  uintptr_t *slot = session->patches[patch].patch.slot;
  size_t at = slot_hash(slot, session->slot_index_capacity);
  while (session->slot_index[at] != 0 && session->patches[session->slot_index[at] - 1].patch.slot != slot)
    at = (at + 1) & (session->slot_index_capacity - 1);
  if (session->slot_index[at] == 0)
    session->slot_index_count++;
  session->slot_index[at] = patch + 1;
  return 0;
}

/* After claims were dropped (a rolled-back rule, unloaded objects). */
static void
reindex_slots(pdi_session_t *session)
{
  if (session->slot_index != NULL)
    memset(session->slot_index, 0, session->slot_index_capacity * sizeof *session->slot_index);
  session->slot_index_count = 0;
  for (size_t i = 0; i < session->patch_count; i++)
    index_slot(session, i);
}

/* The latest claim on a slot (a relink may sit on top of a redefine). */
static const owned_patch_t *
find_patch(const pdi_session_t *session, uintptr_t *slot)
{
  if (session->slot_index_capacity == 0)
    return NULL;
  size_t at = slot_hash(slot, session->slot_index_capacity);
  while (session->slot_index[at] != 0) {
    const owned_patch_t *owned = &session->patches[session->slot_index[at] - 1];
    if (owned->patch.slot == slot)
      return owned;
    at = (at + 1) & (session->slot_index_capacity - 1);
  }
  return NULL;
}

static int
conflict_error(const active_rule_t *active, const pdi_rule_t *other, const pdi_object_t *object)
{
  char detail[600];
  snprintf(detail, sizeof detail, "conflicts with the %s at %s:%u, which already redirects %s's slot for %s",
           pdi_rule_kind_name(other->kind), other->origin.file, other->origin.line, object->name, active->name);
  return rule_error(active, "%s", detail);
}

static int
same_text(const char *a, const char *b)
{
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static const char *
backend_of(const pdi_rule_t *rule)
{
  return rule->backend_object != NULL ? rule->backend_object : rule->backend;
}

/* Two rules of one kind that send a slot to the same wrapper (or the same
 * callback backend and handler): the later one is a duplicate, not a
 * conflict, and leaves the slot to the earlier. */
static int
same_redirect(const pdi_rule_t *a, const pdi_rule_t *b)
{
  return a->kind == b->kind && same_text(backend_of(a), backend_of(b)) && same_text(a->wrapper, b->wrapper);
}

/* The conflicts visible in the config itself, the same rule `pdi config
 * check` applies (src/ts/config/verify.ts): object patterns that are equal or
 * `*`, and on them two relinks (or two redefines) of one function with
 * different wrappers, a callback and a relink, or two different callbacks.
 * A relink over a redefine composes. Other overlaps are found per slot. */
static int
rules_conflict(const pdi_rule_t *earlier, const pdi_rule_t *later)
{
  if (strcmp(earlier->object, later->object) != 0 && strcmp(earlier->object, "*") != 0 &&
      strcmp(later->object, "*") != 0)
    return 0;
  if (same_redirect(earlier, later))
    return 0;
  int callbacks = (earlier->kind == PDI_RULE_CALLBACK) + (later->kind == PDI_RULE_CALLBACK);
  if (callbacks == 2)
    return 1;
  if (callbacks == 1)
    return earlier->kind == PDI_RULE_RELINK || later->kind == PDI_RULE_RELINK;
  return earlier->kind == later->kind && strcmp(earlier->function, later->function) == 0;
}

static int
static_conflict_error(const active_rule_t *active, const pdi_rule_t *earlier)
{
  char detail[800];
  snprintf(detail, sizeof detail, "conflicts with the %s at %s:%u, which already redirects %s in %s",
           pdi_rule_kind_name(earlier->kind), earlier->origin.file ? earlier->origin.file : "?", earlier->origin.line,
           earlier->function ? earlier->function : "every import", earlier->object);
  return rule_error(active, "%s", detail);
}

/* Takes ownership of one slot (or symbol table word) for a rule, after
 * checking that no other rule of any open session claims it. */
static int
claim_patch(pdi_session_t *session, unsigned rule_index, const pdi_object_t *object, const pdi_patch_t *patch)
{
  active_rule_t *active = &session->rules[rule_index];
  const owned_patch_t *existing = find_patch(session, patch->slot);
  if (existing != NULL && existing->rule == rule_index)
    return 0;
  if (existing != NULL && existing->patch.new_value == patch->new_value &&
      same_redirect(session->rules[existing->rule].rule, active->rule)) {
    active->shared++;
    return 0;
  }
  /* Within a session a relink composes over a redefine of the same slot:
   * its wrapper runs first and its original is the redefine wrapper. */
  int composes = existing != NULL && active->rule->kind == PDI_RULE_RELINK &&
                 session->rules[existing->rule].rule->kind == PDI_RULE_REDEFINE;
  if (existing != NULL && !composes)
    return conflict_error(active, session->rules[existing->rule].rule, object);
  for (const pdi_session_t *other = open_sessions; other != NULL; other = other->next) {
    const owned_patch_t *theirs = find_patch(other, patch->slot);
    if (theirs != NULL)
      return conflict_error(active, other->rules[theirs->rule].rule, object);
  }
  if (session->patch_count == session->patch_capacity) {
    size_t capacity = session->patch_capacity ? session->patch_capacity * 2 : 64;
    owned_patch_t *grown = pdi_arena_alloc(&session->arena, capacity * sizeof *grown);
    if (grown == NULL)
      return rule_error(active, "%s", "out of memory");
    if (session->patch_count)
      memcpy(grown, session->patches, session->patch_count * sizeof *grown);
    session->patches = grown;
    session->patch_capacity = capacity;
  }
  owned_patch_t *owned = &session->patches[session->patch_count++];
  owned->patch = *patch;
  owned->rule = rule_index;
  owned->object_base = object->base;
  owned->object_path = pdi_arena_strdup(&session->arena, object->path);
  active->slots++;
  if (index_slot(session, session->patch_count - 1) != 0)
    return rule_error(active, "%s", "out of memory");
  return 0;
}

static int
collect_patch(void *context, const pdi_object_t *object, const pdi_slot_t *slot, const pdi_relink_slot_t *planned)
{
  (void)slot;
  install_context_t *install = context;
  pdi_session_t *session = install->session;
  active_rule_t *active = &session->rules[install->rule_index];
  const owned_patch_t *existing = find_patch(session, planned->patch.slot);
  if (existing != NULL && existing->rule == install->rule_index)
    return 0;
  if (planned->original == 0) {
    install->failed = rule_error(active, "no loaded object defines '%s'", active->name);
    return 1;
  }
  if (claim_patch(session, install->rule_index, object, &planned->patch) != 0) {
    install->failed = -1;
    return 1;
  }
  if (active->original == 0)
    active->original = planned->original;
  return 0;
}

/* Redefine, for one object's slots: bound ones move from the old definition
 * to the wrapper; in pdi's and the backends' objects (which must keep
 * reaching the original) lazy ones are bound to the original now, before the
 * patched symbol table could hand them the wrapper. */
static int
redefine_slot(void *context, const pdi_object_t *object, const pdi_slot_t *slot, const pdi_binding_t *binding)
{
  install_context_t *install = context;
  pdi_session_t *session = install->session;
  active_rule_t *active = &session->rules[install->rule_index];
  uintptr_t addend = slot->has_addend ? (uintptr_t)slot->addend : 0;
  const char *why = NULL;
  pdi_patch_t patch = {slot->address, binding->value, 0};
  if (is_protected(session, object, &why)) {
    if (!binding->lazy)
      return 0;
    patch.new_value = active->target.old_address + addend;
  } else {
    if (binding->lazy || binding->value != active->target.old_address + addend)
      return 0;
    patch.new_value = active->wrapper + addend;
  }
  if (claim_patch(session, install->rule_index, object, &patch) != 0) {
    install->failed = -1;
    return 1;
  }
  return 0;
}

typedef struct callback_site {
  uintptr_t *slot;
  uintptr_t value;
  uintptr_t target;
  int event;
  pdi_cb_site_t site;
} callback_site_t;

typedef struct callback_plan {
  pdi_session_t *session;
  const pdi_objects_t *set;
  active_rule_t *active;
  callback_site_t *sites;
  size_t count;
  size_t capacity;
  int failed;
  int calls_through_plt;
} callback_plan_t;

/* The real function behind an import slot, or 0 for data, null and lazy
 * slots that nothing defines. */
static uintptr_t
function_behind(const pdi_objects_t *set, const pdi_object_t *object, const pdi_slot_t *slot, pdi_session_t *session)
{
  pdi_binding_t binding;
  pdi_slot_binding(set, object, slot, &binding);
  if (binding.lazy) {
    pdi_version_req_t req = {slot->version, 0};
    return pdi_resolve_definition(set, slot->symbol, &req, is_any_backend, session, NULL);
  }
  if (binding.value == 0 || binding.target == NULL || !pdi_object_in_code(binding.target, binding.value, 1))
    return 0;
  return binding.value;
}

static int
is_jump_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  (void)object, (void)context;
  return slot->kind == PDI_SLOT_JUMP_SLOT;
}

static int
consider_callback_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  callback_plan_t *plan = context;
  if ((slot->kind != PDI_SLOT_JUMP_SLOT && slot->kind != PDI_SLOT_GLOB_DAT) || pdi_cb_excluded(slot->symbol))
    return 0;
  /* An object that calls through its PLT takes function addresses from its
   * GLOB_DAT slots (to compare or store them, as CPython compares tp_free
   * with PyObject_Free): a stub there would change the function's identity.
   * Only objects without PLT calls (-fno-plt) call through those slots. */
  if (slot->kind == PDI_SLOT_GLOB_DAT && plan->calls_through_plt)
    return 0;
  const owned_patch_t *claimed = find_patch(plan->session, slot->address);
  if (claimed != NULL && plan->session->rules[claimed->rule].rule == plan->active->rule)
    return 0;
  if (claimed != NULL && same_redirect(plan->session->rules[claimed->rule].rule, plan->active->rule)) {
    plan->active->shared++;
    return 0;
  }
  if (claimed != NULL) {
    const pdi_rule_t *other = plan->session->rules[claimed->rule].rule;
    char detail[600];
    snprintf(detail, sizeof detail, "conflicts with the %s at %s:%u, which already redirects %s's slot for %s",
             pdi_rule_kind_name(other->kind), other->origin.file, other->origin.line, object->name, slot->symbol);
    plan->failed = rule_error(plan->active, "%s", detail);
    return 1;
  }
  uintptr_t target = function_behind(plan->set, object, slot, plan->session);
  if (target == 0)
    return 0;
  pdi_cb_site_t site = {pdi_arena_strdup(&plan->session->arena, object->path),
                        pdi_arena_strdup(&plan->session->arena, slot->symbol),
                        slot->version ? pdi_arena_strdup(&plan->session->arena, slot->version) : NULL};
  int event = plan->active->hooks.cb_req ? plan->active->hooks.cb_req(&site) : 1;
  if (event <= 0)
    return 0;
  if (plan->count == plan->capacity) {
    size_t capacity = plan->capacity ? plan->capacity * 2 : 64;
    callback_site_t *grown = pdi_arena_alloc(&plan->session->arena, capacity * sizeof *grown);
    if (grown == NULL) {
      plan->failed = rule_error(plan->active, "%s", "out of memory");
      return 1;
    }
    if (plan->count)
      memcpy(grown, plan->sites, plan->count * sizeof *grown);
    plan->sites = grown;
    plan->capacity = capacity;
  }
  plan->sites[plan->count++] = (callback_site_t){slot->address, *slot->address, target, event, site};
  return 0;
}

/* All or nothing per object: every instrumented import gets a stub, or the
 * object is left untouched with an error naming the need and the limit. */
static int
plan_callback(pdi_session_t *session, const pdi_objects_t *set, unsigned rule_index, const pdi_object_t *object)
{
  active_rule_t *active = &session->rules[rule_index];
  callback_plan_t plan = {session, set, active, NULL, 0, 0, 0, 0};
  plan.calls_through_plt = pdi_object_each_slot(object, is_jump_slot, NULL);
  pdi_object_each_slot(object, consider_callback_slot, &plan);
  if (plan.failed)
    return -1;
  if (plan.count > pdi_cb_free_stubs()) {
    char detail[400];
    snprintf(detail, sizeof detail, "%s needs %zu stubs, but cb_max_stubs = %ld leaves %u free", object->path,
             plan.count, session->config.options.cb_max_stubs, pdi_cb_free_stubs());
    return rule_error(active, "%s", detail);
  }
  for (size_t i = 0; i < plan.count; i++) {
    const callback_site_t *site = &plan.sites[i];
    uintptr_t stub = pdi_cb_add_site(site->target, site->event, &site->site, &active->hooks);
    pdi_patch_t patch = {site->slot, site->value, stub};
    if (stub == 0 || claim_patch(session, rule_index, object, &patch) != 0)
      return stub == 0 ? rule_error(active, "%s", "callback stubs exhausted") : -1;
  }
  return 0;
}

static int
plan_redefine(pdi_session_t *session, const pdi_objects_t *set, unsigned rule_index, unsigned limit)
{
  active_rule_t *active = &session->rules[rule_index];
  if (!active->has_target) {
    /* A definer that is not loaded yet (dlopen later) is waited for, as a
     * relink waits for the objects that import its function. */
    if (!pdi_redefine_find(set, active->rule->object, active->name, &active->req, is_any_backend, session,
                           &active->target))
      return 0;
    active->has_target = 1;
    active->original = active->target.old_address;
    pdi_patch_t symbol[2];
    size_t count = pdi_redefine_symbol_patches(&active->target, active->wrapper, symbol);
    for (size_t i = 0; i < count; i++)
      if (claim_patch(session, rule_index, active->target.definer, &symbol[i]) != 0)
        return -1;
  }
  for (unsigned i = 0; i < limit; i++) {
    const pdi_object_t *object = &set->items[i];
    if (object->flags & PDI_OBJECT_VDSO)
      continue;
    install_context_t install = {session, rule_index, object, 0};
    pdi_redefine_each_slot(set, object, &active->target, active->name, redefine_slot, &install);
    if (install.failed)
      return -1;
  }
  return 0;
}

/* Plans every active rule on every object of `set` from `first` on; with
 * on_error = warn a failing rule is logged and dropped, otherwise the first
 * error ends the plan. Returns 0 or -1. */
static int
plan_rules(pdi_session_t *session, const pdi_objects_t *set, pdi_rule_kind_t kind, size_t *planned_from)
{
  *planned_from = session->patch_count;
  unsigned limit = set->count;
  if (session->config.options.max_objects > 0 && (long)limit > session->config.options.max_objects) {
    limit = (unsigned)session->config.options.max_objects;
    if (!session->warned_max_objects)
      pdi_log(PDI_LOG_WARNING, "%u objects are loaded but max_objects is %u: rules reach only the first %u", set->count,
              limit, limit);
    session->warned_max_objects = 1;
  }
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    active_rule_t *active = &session->rules[r];
    if (active->skipped || active->rule->kind != kind)
      continue;
    size_t rule_start = session->patch_count;
    unsigned slots_before = active->slots;
    unsigned shared_before = active->shared;
    int had_target = active->has_target;
    int failed = kind == PDI_RULE_REDEFINE ? plan_redefine(session, set, r, limit) : 0;
    for (unsigned i = 0; kind != PDI_RULE_REDEFINE && i < limit && !failed; i++) {
      const pdi_object_t *object = &set->items[i];
      if (!pdi_object_matches(object, active->rule->object))
        continue;
      const char *why = NULL;
      if (is_protected(session, object, &why)) {
        if (pattern_is_explicit(active->rule->object) && strcmp(active->rule->object, "*") != 0) {
          char detail[400];
          snprintf(detail, sizeof detail, "object %s %s", object->path, why);
          failed = rule_error(active, "%s", detail);
        }
        continue;
      }
      if (kind == PDI_RULE_CALLBACK) {
        failed = plan_callback(session, set, r, object);
        continue;
      }
      install_context_t install = {session, r, object, 0};
      pdi_relink_plan(set, object, active->name, &active->req, active->wrapper, is_any_backend, session,
                      collect_patch, &install);
      failed = install.failed;
    }
    if (failed) {
      session->patch_count = rule_start;
      reindex_slots(session);
      active->slots = slots_before;
      active->shared = shared_before;
      active->has_target = had_target;
      if (session->config.options.on_error != PDI_ON_ERROR_WARN)
        return -1;
      pdi_log(PDI_LOG_WARNING, "%s (rule skipped)", pdi_error());
      active->skipped = 1;
    }
  }
  return 0;
}

static int
apply_planned(pdi_session_t *session, size_t from)
{
  size_t count = session->patch_count - from;
  if (count == 0)
    return 0;
  pdi_patch_t *batch = pdi_arena_alloc(&session->arena, count * sizeof *batch);
  if (batch == NULL) {
    pdi_set_error("out of memory while installing");
    return -1;
  }
  for (size_t i = 0; i < count; i++)
    batch[i] = session->patches[from + i].patch;
  /* Originals are published before any slot moves: another thread may enter
   * a wrapper the moment its slot is stored. */
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    active_rule_t *active = &session->rules[r];
    if (active->original != 0 && pdi_originals_add(active->wrapper, active->original) != 0) {
      pdi_set_error("too many wrappers registered");
      return -1;
    }
  }
  if (pdi_patch_apply(batch, count, 0) != 0)
    return -1;
  return 0;
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

/* Redefines first, so relinks planned afterwards see the redefined bindings
 * (a relink wrapper's original is then the redefine wrapper); callbacks
 * last. Each pass is applied before the next is planned, because planning
 * reads what the slots hold now. */
static int
install_rules(pdi_session_t *session, const pdi_objects_t *set)
{
  static const pdi_rule_kind_t order[] = {PDI_RULE_REDEFINE, PDI_RULE_RELINK, PDI_RULE_CALLBACK};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    size_t from = 0;
    if (plan_rules(session, set, order[i], &from) != 0 || apply_planned(session, from) != 0)
      return -1;
  }
  return 0;
}

static void
undo_patches(pdi_session_t *session, size_t from, size_t to)
{
  for (size_t i = to; i-- > from;)
    pdi_patch_apply(&session->patches[i].patch, 1, 1);
  session->patch_count = from;
  reindex_slots(session);
}

static void
discard(pdi_session_t *session)
{
  fini_backends(session);
  pdi_config_release(&session->config);
  pdi_arena_t arena = session->arena;
  pdi_arena_release(&arena);
}

int
pdi_session_open(const char *path, pdi_session_t **out)
{
  *out = NULL;
  last_open_warns = 0;
  pdi_arena_t arena = {0};
  pdi_session_t *session = pdi_arena_alloc(&arena, sizeof *session);
  if (session == NULL) {
    pdi_set_error("out of memory");
    return -1;
  }
  memset(session, 0, sizeof *session);
  session->arena = arena;
  pdi_config_init(&session->config);
  if (pdi_config_load(&session->config, path) != 0) {
    discard(session);
    return -1;
  }
  pdi_config_t *config = &session->config;
  last_open_warns = config->options.on_error == PDI_ON_ERROR_WARN;
  pdi_log_configure(config->options.log_level, config->options.log_file);
  for (unsigned i = 0; i < config->warning_count; i++) {
    char place[PATH_MAX + 40];
    pdi_origin_format(&config->warnings[i].origin, place, sizeof place);
    pdi_log(PDI_LOG_WARNING, "%s%s", place, config->warnings[i].message);
  }
  if (config->rule_count != 0 && pdi_loadwatch_start() != 0)
    pdi_log(PDI_LOG_WARNING, "rules will not reach objects loaded later: %s", pdi_error());

  pthread_once(&fork_handlers_once, register_fork_handlers);
  pthread_mutex_lock(&session_lock);
  int status = 0;
  session->backends = pdi_arena_alloc(&session->arena, (config->backend_count + 1) * sizeof *session->backends);
  session->rules = pdi_arena_alloc(&session->arena, (config->rule_count + 1) * sizeof *session->rules);
  if (session->backends == NULL || session->rules == NULL) {
    pdi_set_error("out of memory");
    status = -1;
    goto done;
  }
  memset(session->backends, 0, (config->backend_count + 1) * sizeof *session->backends);
  memset(session->rules, 0, (config->rule_count + 1) * sizeof *session->rules);
  for (unsigned i = 0; i < config->backend_count && status == 0; i++) {
    session->backends[i].decl = &config->backends[i];
    if (load_backend(session, &session->backends[i]) != 0) {
      session->backends[i].failed = 1;
      if (config->options.on_error != PDI_ON_ERROR_WARN)
        status = -1;
      else
        pdi_log(PDI_LOG_WARNING, "%s (backend skipped)", pdi_error());
    }
  }
  for (unsigned r = 0; r < config->rule_count && status == 0; r++) {
    session->rules[r].rule = &config->rules[r];
    if (resolve_wrapper(session, &session->rules[r]) != 0) {
      session->rules[r].skipped = 1;
      if (config->options.on_error != PDI_ON_ERROR_WARN)
        status = -1;
      else
        pdi_log(PDI_LOG_WARNING, "%s (rule skipped)", pdi_error());
    }
  }
  for (unsigned r = 0; r < config->rule_count && status == 0; r++) {
    active_rule_t *active = &session->rules[r];
    for (unsigned e = 0; e < r && !active->skipped; e++) {
      if (session->rules[e].skipped || !rules_conflict(session->rules[e].rule, active->rule))
        continue;
      static_conflict_error(active, session->rules[e].rule);
      active->skipped = 1;
      if (config->options.on_error != PDI_ON_ERROR_WARN)
        status = -1;
      else
        pdi_log(PDI_LOG_WARNING, "%s (rule skipped)", pdi_error());
    }
  }
  for (unsigned i = 0; i < config->backend_count && status == 0; i++) {
    if (!session->backends[i].failed && init_backend(&session->backends[i]) != 0)
      status = -1;
  }
  if (status == 0) {
    pdi_objects_t set;
    session->seen_adds = current_adds();
    status = pdi_objects_scan(&set);
    if (status == 0) {
      status = install_rules(session, &set);
      pdi_objects_release(&set);
      if (status != 0)
        undo_patches(session, 0, session->patch_count);
    }
  }
  if (status == 0) {
    for (unsigned r = 0; r < config->rule_count; r++) {
      const active_rule_t *active = &session->rules[r];
      if (!active->skipped && active->shared != 0)
        pdi_log(PDI_LOG_INFO, "%s:%u: %s %s: %u slot(s) already redirected the same way by an earlier rule (a duplicate)",
                active->rule->origin.file, active->rule->origin.line, pdi_rule_kind_name(active->rule->kind),
                active->rule->function ? active->rule->function : active->rule->object, active->shared);
      if (!active->skipped && active->slots == 0 && active->shared == 0)
        pdi_log(PDI_LOG_INFO, "%s:%u: %s %s: no loaded object matching '%s' %s it yet", active->rule->origin.file,
                active->rule->origin.line, pdi_rule_kind_name(active->rule->kind), active->name,
                active->rule->object, active->rule->kind == PDI_RULE_REDEFINE ? "defines" : "imports");
      else if (!active->skipped)
        pdi_log(PDI_LOG_INFO, "%s %s in %s: %u slot(s) -> %s", pdi_rule_kind_name(active->rule->kind),
                active->rule->function ? active->rule->function : "*", active->rule->object, active->slots,
                active->rule->wrapper ? active->rule->wrapper : active->rule->backend);
    }
    session->next = open_sessions;
    open_sessions = session;
    *out = session;
  }
done:
  pthread_mutex_unlock(&session_lock);
  if (status != 0)
    discard(session);
  return status;
}

static int
sweep_redefined_slot(void *context, const pdi_object_t *object, const pdi_slot_t *slot, const pdi_binding_t *binding)
{
  install_context_t *sweep = context;
  pdi_session_t *session = sweep->session;
  const active_rule_t *active = &session->rules[sweep->rule_index];
  uintptr_t addend = slot->has_addend ? (uintptr_t)slot->addend : 0;
  if (binding->lazy || binding->value != active->wrapper + addend || find_patch(session, slot->address) != NULL)
    return 0;
  pdi_patch_t patch = {slot->address, active->target.old_address + addend, binding->value};
  if (claim_patch(session, sweep->rule_index, object, &patch) != 0)
    pdi_log(PDI_LOG_WARNING, "uninstall: %s", pdi_error());
  return 0;
}

static int
object_still_loaded(const pdi_objects_t *set, const owned_patch_t *owned)
{
  for (unsigned i = 0; i < set->count; i++)
    if (set->items[i].base == owned->object_base && strcmp(set->items[i].path, owned->object_path) == 0)
      return 1;
  return 0;
}

void
pdi_session_close(pdi_session_t *session)
{
  if (session == NULL)
    return;
  pthread_mutex_lock(&session_lock);
  pdi_session_t **link = &open_sessions;
  while (*link != NULL && *link != session)
    link = &(*link)->next;
  if (*link == session)
    *link = session->next;
  pdi_objects_t set;
  if (session->patch_count != 0 && pdi_objects_scan(&set) == 0) {
    /* Bindings made after a redefine (lazy calls, objects loaded later)
     * went through the patched symbol table to the wrapper: they are not in
     * the patch list, so they are found again and sent back too. */
    for (unsigned r = 0; r < session->config.rule_count; r++) {
      if (!session->rules[r].has_target)
        continue;
      for (unsigned i = 0; i < set.count; i++) {
        install_context_t sweep = {session, r, &set.items[i], 0};
        pdi_redefine_each_slot(&set, &set.items[i], &session->rules[r].target, session->rules[r].name,
                               sweep_redefined_slot, &sweep);
      }
    }
    pdi_patch_t *batch = pdi_arena_alloc(&session->arena, session->patch_count * sizeof *batch);
    size_t count = 0;
    for (size_t i = session->patch_count; batch != NULL && i-- > 0;)
      if (object_still_loaded(&set, &session->patches[i]))
        batch[count++] = session->patches[i].patch;
    if (batch != NULL && pdi_patch_apply(batch, count, 1) != 0)
      pdi_log(PDI_LOG_ERROR, "uninstall: %s", pdi_error());
    pdi_objects_release(&set);
  }
  int had_callbacks = 0;
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    if (session->rules[r].wrapper != 0)
      pdi_originals_remove(session->rules[r].wrapper);
    had_callbacks |= session->rules[r].rule != NULL && session->rules[r].rule->kind == PDI_RULE_CALLBACK;
  }
  pthread_mutex_unlock(&session_lock);
  if (had_callbacks)
    pdi_cb_finish();
  discard(session);
}

void
pdi_sessions_update(void)
{
  pthread_mutex_lock(&session_lock);
  unsigned long long adds = current_adds();
  for (pdi_session_t *session = open_sessions; session != NULL; session = session->next) {
    if (session->seen_adds == adds)
      continue;
    pdi_objects_t set;
    if (pdi_objects_scan(&set) != 0)
      continue;
    /* Slots this session already owns are skipped while planning, so the
     * objects seen before cost a scan, not a second patch. */
    if (install_rules(session, &set) != 0)
      pdi_log(PDI_LOG_ERROR, "%s", pdi_error());
    session->seen_adds = adds;
    pdi_objects_release(&set);
  }
  pthread_mutex_unlock(&session_lock);
}

void
pdi_sessions_forget_unloaded(void)
{
  pthread_mutex_lock(&session_lock);
  pdi_objects_t set;
  if (open_sessions != NULL && pdi_objects_scan(&set) == 0) {
    for (pdi_session_t *session = open_sessions; session != NULL; session = session->next) {
      size_t kept = 0;
      for (size_t i = 0; i < session->patch_count; i++)
        if (object_still_loaded(&set, &session->patches[i]))
          session->patches[kept++] = session->patches[i];
      session->patch_count = kept;
      reindex_slots(session);
    }
    pdi_objects_release(&set);
  }
  pthread_mutex_unlock(&session_lock);
}
