/* A session's backends: found on the bundled directory and be_path, loaded
 * RTLD_LOCAL, their pdi_* references bound to the core, initialised and
 * finished; and what rules take from them (wrappers, callback hooks). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/elf-machine.h"
#include "../arch/arch.h"
#include "internal.h"

static const loaded_backend_t *
backend_at(const pdi_session_t *session, const pdi_object_t *object)
{
  for (unsigned i = 0; i < session->config.backend_count; i++)
    if (session->backends[i].handle != NULL && session->backends[i].base == object->base)
      return &session->backends[i];
  return NULL;
}

int
pdi_is_any_backend(const pdi_object_t *object, void *context)
{
  /* context: the session being opened, not yet among the open ones */
  for (const pdi_session_t *s = pdi_sessions_first(); s != NULL; s = s->next)
    if (backend_at(s, object) != NULL)
      return 1;
  return backend_at(context, object) != NULL;
}

/* Sets pdi_error() to "FILE:LINE:COL: backend 'NAME': message" and returns -1:
 * at the declaration, or at its library's name (library_at) when the
 * library is what failed. */
static int __attribute__((format(printf, 3, 4)))
backend_error_at(const pdi_backend_decl_t *decl, int library_at, const char *fmt, ...)
{
  char subject[300];
  snprintf(subject, sizeof subject, "backend '%s'", decl->name);
  va_list args;
  va_start(args, fmt);
  pdi_error_at(library_at ? &decl->value_origin : &decl->origin, subject, fmt, args);
  va_end(args);
  return -1;
}

/* The directory the core was loaded from, its links resolved: pdi run
 * preloads a core whose path holds a blank through a link of its own,
 * removed when pdi ends (docs/launching.md); the bundled backends are
 * loaded, and named in messages, where they are installed, as pdi config
 * check names them. */
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
  char resolved[PATH_MAX];
  return pdi_arena_strdup(arena, realpath(directory, resolved) != NULL ? resolved : directory);
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

/* Backends link nothing of pdi: their pdi_* references are pointed at the
 * core here (backend-helpers.c), which works whether the core is preloaded
 * or in the addon. */
static int
bind_helpers(loaded_backend_t *backend)
{
  const char *name = NULL;
  switch (pdi_backend_bind_helpers(backend, &name)) {
  case PDI_HELPERS_BOUND: return 0;
  case PDI_HELPERS_NOT_FOUND:
    return backend_error_at(backend->decl, 0, "loaded, but not found among the process's objects");
  case PDI_HELPERS_UNKNOWN:
    return backend_error_at(backend->decl, 1, "cannot load %s: it uses '%s', which is not part of the pdi backend API",
                            backend->path, name);
  case PDI_HELPERS_CALLS_MISSING:
    return backend_error_at(backend->decl, 1,
                            "cannot load %s: it calls '%s', which no loaded object defines (a misspelt name, or a "
                            "library it needs not linked with -l); declare it weak to bind it at its first call",
                            backend->path, name);
  default: return backend_error_at(backend->decl, 0, "%s", pdi_error());
  }
}

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#elif defined(__i386__)
#define NATIVE_MACHINE EM_386
#else
#define NATIVE_MACHINE EM_NONE
#endif

/* Why dlopen refused an ELF file built for another architecture, which
 * glibc words as "cannot open shared object file: No such file or
 * directory" (or "wrong ELF class"); NULL when the file is not ELF or is
 * built for this process's architecture. */
static const char *
foreign_architecture(const char *path, char *why, size_t size)
{
  unsigned char header[EI_NIDENT + 4];
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return NULL;
  ssize_t got = read(fd, header, sizeof header);
  close(fd);
  if (got != (ssize_t)sizeof header || memcmp(header, ELFMAG, SELFMAG) != 0)
    return NULL;
  unsigned class = header[EI_CLASS];
  unsigned machine = header[EI_DATA] == ELFDATA2MSB ? (unsigned)header[EI_NIDENT + 2] << 8 | header[EI_NIDENT + 3]
                                                    : (unsigned)header[EI_NIDENT + 3] << 8 | header[EI_NIDENT + 2];
  unsigned native_class = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
  if (machine == NATIVE_MACHINE && class == native_class)
    return NULL;
  const char *theirs = pdi_elf_machine_name(machine, class);
  char unknown[40];
  if (theirs == NULL) {
    snprintf(unknown, sizeof unknown, "machine %u, %d-bit", machine, class == ELFCLASS32 ? 32 : 64);
    theirs = unknown;
  }
  snprintf(why, size, "it is built for %s, and this process is %s", theirs,
           pdi_elf_machine_name(NATIVE_MACHINE, native_class));
  return why;
}

/* ---- a backend that crashes while it is loaded or initialised
 *
 * Its constructors run inside dlopen and its pdi_be_init inside
 * pdi_backend_init, before main: a crash there would end the program with
 * nothing said. While they run, the signals of a crash are caught; on the
 * loading thread the handler names the backend and what it was doing, puts
 * back the actions it replaced and lets the signal take its course (the
 * program dies of it as before, a core dump or a debugger sees the same
 * fault). A signal on any other thread (the Node process of interpose())
 * goes to the action it would have reached. */

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
static const char *const crash_names[] = {"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT"};
#define CRASH_SIGNALS (sizeof crash_signals / sizeof crash_signals[0])
static struct sigaction crash_saved[CRASH_SIGNALS];
static const loaded_backend_t *crash_backend;
static const char *crash_path, *crash_stage;
static long crash_thread;

static void crash_handler(int signal, siginfo_t *info, void *context);

/* Puts back the actions replaced, but not over one the backend (or a
 * library it brought) installed meanwhile: that one is its to keep. */
static void
crash_restore(void)
{
  for (size_t i = 0; i < CRASH_SIGNALS; i++) {
    struct sigaction current;
    if (sigaction(crash_signals[i], NULL, &current) == 0 && (current.sa_flags & SA_SIGINFO) &&
        current.sa_sigaction == crash_handler)
      sigaction(crash_signals[i], &crash_saved[i], NULL);
  }
}

static void
crash_handler(int signal, siginfo_t *info, void *context)
{
  size_t i = 0;
  while (i < CRASH_SIGNALS - 1 && crash_signals[i] != signal)
    i++;
  const struct sigaction *saved = &crash_saved[i];
  /* A handler of the program's or the backend's own (installed before the
   * guard: a FINI's fault at exit meets the one its constructor set) is
   * theirs to run, in any thread. */
  if (saved->sa_handler != SIG_DFL && saved->sa_handler != SIG_IGN) {
    if (saved->sa_flags & SA_SIGINFO)
      saved->sa_sigaction(signal, info, context);
    else
      saved->sa_handler(signal);
    return;
  }
  if (syscall(SYS_gettid) == crash_thread) {
    backend_error_at(crash_backend->decl, 0, "crashed with %s %s %s", crash_names[i], crash_stage, crash_path);
    pdi_log(PDI_LOG_ERROR, "%s", pdi_error());
  }
  crash_restore();
  /* A fault happens again when the handler returns; a signal sent (raise,
   * abort) is sent again. */
  if (info->si_code <= 0)
    raise(signal);
}

/* A backend that calls exit while it is loaded or initialised ends the
 * program before main with only its own status to show for it: the exit
 * handler, registered once, names the backend while the guard is up. */
static void
exit_watch(int status, void *unused)
{
  (void)unused;
  if (crash_thread == 0 || syscall(SYS_gettid) != crash_thread)
    return;
  backend_error_at(crash_backend->decl, 0, "called exit(%d) %s %s", status, crash_stage, crash_path);
  pdi_log(PDI_LOG_ERROR, "%s", pdi_error());
}

static void
crash_guard(const loaded_backend_t *backend, const char *stage, const char *path)
{
  static int exit_watched;
  if (!exit_watched)
    exit_watched = on_exit(exit_watch, NULL) == 0;
  crash_backend = backend;
  crash_stage = stage;
  crash_path = path;
  crash_thread = syscall(SYS_gettid);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = crash_handler;
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < CRASH_SIGNALS; i++)
    sigaction(crash_signals[i], &action, &crash_saved[i]);
}

static void
crash_unguard(void)
{
  crash_restore();
  crash_thread = 0;
}

void
pdi_backend_guard(const pdi_session_t *session, const char *name, const char *stage)
{
  for (unsigned i = 0; session->backends != NULL && name != NULL && i < session->config.backend_count; i++)
    if (session->backends[i].handle != NULL && strcmp(session->backends[i].decl->name, name) == 0) {
      crash_guard(&session->backends[i], stage, session->backends[i].path);
      return;
    }
}

void
pdi_backend_unguard(void)
{
  if (crash_thread != 0)
    crash_unguard();
}

int
pdi_backend_load(pdi_session_t *session, loaded_backend_t *backend)
{
  const pdi_backend_decl_t *decl = backend->decl;
  char searched[1024] = "";
  const char *path = find_library(session, decl, searched, sizeof searched);
  if (path == NULL) {
    const char *joined = NULL;
    for (unsigned i = 0; i < session->config.options.be_path.count && joined == NULL; i++)
      if (strchr(session->config.options.be_path.items[i], ':') != NULL)
        joined = session->config.options.be_path.items[i];
    if (joined != NULL && decl->value[0] != '/')
      return backend_error_at(
          decl, 1,
          "library '%s' not found (searched: %s; be_path (backendPath) entries are not split at ':', "
          "so '%s' is one directory: give each directory its own entry)",
          decl->value, searched, joined);
    return backend_error_at(decl, 1, "library '%s' not found (searched: %s)", decl->value, searched);
  }
  crash_guard(backend, "in a constructor, loading", path);
  void *handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
  crash_unguard();
  if (handle == NULL) {
    const char *why = dlerror();
    char foreign[160];
    size_t named = strlen(path);
    struct stat file;
    if (foreign_architecture(path, foreign, sizeof foreign) != NULL)
      why = foreign;
    else if (stat(path, &file) == 0 && S_ISDIR(file.st_mode))
      why = "it is a directory";
    else if (why != NULL && strncmp(why, path, named) == 0 && strncmp(why + named, ": ", 2) == 0)
      why += named + 2; /* the loader names the file too */
    char helper[200];
    if (why != NULL && pdi_backend_helper_bound_early(why, helper, sizeof helper))
      why = helper;
    return backend_error_at(decl, 1, "cannot load %s: %s", path, why ? why : "unknown error");
  }
  struct link_map *map = NULL;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) {
    dlclose(handle);
    return backend_error_at(decl, 0, "cannot find its link map");
  }
  backend->handle = handle;
  backend->base = map->l_addr;
  backend->path = pdi_arena_strdup(&session->arena, map->l_name && map->l_name[0] ? map->l_name : path);
  backend->self.name = decl->name;
  backend->self.path = backend->path;
  backend->self.api_version = PDI_API_VERSION;
  pdi_log(PDI_LOG_DEBUG, "backend '%s': %s", decl->name, backend->path);
  pdi_cb_backend_loaded(backend->path, decl->name);
  char mangled[PDI_SYMBOL_SIZE];
  const char *entry = pdi_cxx_entry_point(handle, backend->base, mangled, sizeof mangled);
  if (entry != NULL)
    return backend_error_at(decl, 0,
                            "%s defines %s as a C++ function, %s, which pdi cannot find: define it with the "
                            "PDI_BE_FUNC_* macros of <pdi/backend.h> (or extern \"C\")",
                            backend->path, entry, mangled);
  return bind_helpers(backend);
}

int
pdi_backend_init(loaded_backend_t *backend)
{
  int (*init)(const pdi_backend_t *) = (int (*)(const pdi_backend_t *))dlsym(backend->handle, "pdi_be_init");
  if (init != NULL) {
    crash_guard(backend, "in pdi_be_init of", backend->path);
    pdi_cb_entry_point_running((const void *)init);
    int refused = init(&backend->self);
    pdi_cb_entry_point_running(NULL);
    crash_unguard();
    if (refused != 0)
      return backend_error_at(backend->decl, 0, "refused to initialise (pdi_be_init returned %d)", refused);
  }
  backend->initialized = 1;
  return 0;
}

void
pdi_backends_fini(pdi_session_t *session)
{
  if (session->backends == NULL)
    return;
  for (unsigned i = session->config.backend_count; i-- > 0;) {
    loaded_backend_t *backend = &session->backends[i];
    if (!backend->initialized)
      continue;
    void (*fini)(void) = (void (*)(void))dlsym(backend->handle, "pdi_be_fini");
    if (fini != NULL) {
      crash_guard(backend, "in pdi_be_fini of", backend->path);
      pdi_cb_entry_point_running((const void *)fini);
      fini();
      pdi_cb_entry_point_running(NULL);
      crash_unguard();
    }
    backend->initialized = 0;
  }
}

int
pdi_backend_fini_is_empty(const pdi_session_t *session, const pdi_rule_t *rule)
{
  for (unsigned i = 0; session->backends != NULL && rule->backend != NULL && i < session->config.backend_count; i++) {
    const loaded_backend_t *backend = &session->backends[i];
    if (strcmp(backend->decl->name, rule->backend) != 0)
      continue;
    if (backend->handle == NULL)
      return 0;
    void *fini = dlsym(backend->handle, "pdi_be_fini");
    return fini == NULL || pdi_arch_returns_at_once((uintptr_t)fini);
  }
  return 0;
}

/* What a symbol a rule names as its wrapper or handler is when it is no
 * function (an exported variable: jumping there would crash the program at
 * the first diverted call), or NULL. A symbol of type FUNC, IFUNC or NOTYPE
 * (assembly) is taken as code. */
static const char *
not_code(void *address, const char *name)
{
  Dl_info info;
  const ElfW(Sym) *symbol = NULL;
  if (dladdr1(address, &info, (void **)&symbol, RTLD_DL_SYMENT) == 0 || symbol == NULL || info.dli_sname == NULL ||
      strcmp(info.dli_sname, name) != 0)
    return NULL;
  return pdi_symbol_variable_kind(symbol->st_info);
}

/* A callback rule's backend hooks, or its own handler (cb_allow_handler,
 * checked by the config reader), which takes the place of pdi's. */
static int
resolve_hooks(pdi_session_t *session, active_rule_t *active)
{
  const pdi_rule_t *rule = active->rule;
  active->name = "*";
  for (unsigned i = 0; i < session->config.backend_count; i++) {
    loaded_backend_t *backend = &session->backends[i];
    if (strcmp(backend->decl->name, rule->backend) != 0)
      continue;
    if (backend->failed)
      return pdi_rule_field_error(active, PDI_FIELD_BACKEND, "its backend '%s' failed to load", rule->backend);
    active->hooks.cb_req = (int (*)(const pdi_cb_site_t *))dlsym(backend->handle, "pdi_be_cb_req");
    active->hooks.pre = (void (*)(pdi_cb_call_t *))dlsym(backend->handle, "pdi_be_pre_cb");
    active->hooks.post = (void (*)(pdi_cb_call_t *))dlsym(backend->handle, "pdi_be_post_cb");
    active->hooks.handler = rule->wrapper != NULL ? (uintptr_t)dlsym(backend->handle, rule->wrapper) : 0;
    if (rule->wrapper != NULL && active->hooks.handler == 0)
      return pdi_rule_field_error(active, PDI_FIELD_WRAPPER, "handler '%s' is not defined by %s (%s)", rule->wrapper,
                                  rule->backend, backend->path);
    const char *handler_kind = rule->wrapper != NULL ? not_code((void *)active->hooks.handler, rule->wrapper) : NULL;
    if (handler_kind != NULL)
      return pdi_rule_field_error(active, PDI_FIELD_WRAPPER, "handler '%s' is %s in %s (%s), not a function",
                                  rule->wrapper, handler_kind, rule->backend, backend->path);
    if (rule->wrapper == NULL && active->hooks.pre == NULL && active->hooks.post == NULL)
      return pdi_rule_field_error(active, PDI_FIELD_BACKEND,
                                  "backend '%s' defines neither PDI_BE_FUNC_PRE_CB nor PDI_BE_FUNC_POST_CB",
                                  rule->backend);
    const pdi_options_t *options = &session->config.options;
    pdi_cb_limits_t limits = {(unsigned)options->max_threads, (unsigned)options->num_threads,
                              (size_t)options->cb_stack_size, (unsigned)options->cb_max_stubs};
    if (pdi_cb_prepare(&limits) != 0)
      return pdi_rule_error(active, "%s", pdi_error());
    return 0;
  }
  return pdi_rule_error(active, "unknown backend '%s'", rule->backend);
}

int
pdi_rule_resolve(pdi_session_t *session, active_rule_t *active)
{
  const pdi_rule_t *rule = active->rule;
  if (rule->kind == PDI_RULE_CALLBACK)
    return resolve_hooks(session, active);
  if (rule->kind == PDI_RULE_ACT && resolve_hooks(session, active) != 0)
    return -1;
  /* As long as the name as written: C++ and Rust names run to thousands of bytes. */
  size_t size = strlen(rule->function) + 1;
  char *name = pdi_arena_alloc(&session->arena, size);
  char *version = pdi_arena_alloc(&session->arena, size);
  if (name == NULL || version == NULL)
    return pdi_rule_error(active, "out of memory");
  if (pdi_symbol_spec_parse(rule->function, name, size, version, size, &active->req) != 0)
    return pdi_rule_error(active, "malformed function name '%s'", rule->function);
  active->name = name;
  if (rule->kind == PDI_RULE_ACT)
    return 0; /* what its function allows was checked when the config was read (act-rules.c) */
  void *handle = NULL;
  uintptr_t base = 0;
  const char *from = rule->backend;
  for (unsigned i = 0; i < session->config.backend_count; i++) {
    if (strcmp(session->backends[i].decl->name, rule->backend) == 0) {
      if (session->backends[i].failed)
        return pdi_rule_field_error(active, PDI_FIELD_BACKEND, "its backend '%s' failed to load", rule->backend);
      handle = session->backends[i].handle;
      from = session->backends[i].path;
      base = session->backends[i].base;
    }
  }
  int borrowed = 0;
  if (handle == NULL) {
    const char *pattern = rule->backend_object;
    if (pattern == NULL || !session->config.options.allow_lib_as_be)
      return pdi_rule_error(active, "unknown backend '%s'", rule->backend);
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
      return pdi_rule_field_error(active, PDI_FIELD_BACKEND, "no loaded object matches '%s' to take the wrapper from",
                                  pattern);
    borrowed = 1;
  }
  dlerror();
  active->wrapper = (uintptr_t)dlsym(handle, rule->wrapper);
  const char *kind = active->wrapper != 0 ? not_code((void *)active->wrapper, rule->wrapper) : NULL;
  if (borrowed)
    dlclose(handle);
  /* A library named as the backend (allow_lib_as_be) is the user's word, not the alias the compile step gave it. */
  const char *named = borrowed ? rule->backend_object : rule->backend;
  char mangled[PDI_SYMBOL_SIZE];
  if (active->wrapper == 0 && pdi_cxx_spelling(base, rule->wrapper, mangled, sizeof mangled))
    return pdi_rule_field_error(active, PDI_FIELD_WRAPPER,
                                "wrapper '%s' is not defined by %s (%s), which has a C++ function of that name, %s: "
                                "declare the wrapper extern \"C\"",
                                rule->wrapper, named, from, mangled);
  if (active->wrapper == 0)
    return pdi_rule_field_error(active, PDI_FIELD_WRAPPER, "wrapper '%s' is not defined by %s (%s)", rule->wrapper,
                                named, from);
  if (kind != NULL) {
    active->wrapper = 0;
    return pdi_rule_field_error(active, PDI_FIELD_WRAPPER, "wrapper '%s' is %s in %s (%s), not a function",
                                rule->wrapper, kind, named, from);
  }
  pdi_find_wrapper_aliases(active);
  return 0;
}

int
pdi_refuse_variable(pdi_session_t *session, const pdi_objects_t *set, const active_rule_t *active)
{
  const pdi_rule_t *rule = active->rule;
  if (strpbrk(active->name, "*?[") != NULL)
    return 0;
  const pdi_object_t *definer = NULL;
  const char *kind = pdi_variable_definition(set, rule->kind == PDI_RULE_REDEFINE ? rule->object : NULL, active->name,
                                             &active->req, pdi_is_any_backend, session, &definer);
  if (kind == NULL)
    return 0;
  return pdi_rule_field_error(active, PDI_FIELD_FUNCTION,
                              "'%s' is %s of %s, not a function: rules divert calls, not variables", active->name, kind,
                              definer->path);
}

int
pdi_object_is_protected(const pdi_session_t *session, const pdi_object_t *object, const char **why)
{
  const char *ignored;
  if (why == NULL)
    why = &ignored;
  if (object->flags & PDI_OBJECT_VDSO) {
    *why = "is the vDSO";
    return 1;
  }
  if ((object->flags & PDI_OBJECT_PDI) && session->config.options.donttouch_pdi) {
    *why = "is pdi itself and donttouch_pdi (protectPdi) is on";
    return 1;
  }
  if (session->config.options.donttouch_backends && pdi_is_any_backend(object, (void *)session)) {
    *why = "is a backend and donttouch_backends (protectBackends) is on";
    return 1;
  }
  return 0;
}

/* A redefine's object names the definer, and the definer is never pdi's own
 * object or the vDSO (whatever donttouch_pdi says): a rule naming one of them
 * explicitly could change nothing, and is refused as a relink naming it is. */
int
pdi_refuse_protected_definer(const pdi_session_t *session, const pdi_objects_t *set, const active_rule_t *active)
{
  const char *pattern = active->rule->object;
  if (pattern == NULL || strpbrk(pattern, "*?[") != NULL)
    return 0;
  for (unsigned i = 0; i < set->count; i++) {
    const pdi_object_t *object = &set->items[i];
    if (!(object->flags & (PDI_OBJECT_PDI | PDI_OBJECT_VDSO)) || !pdi_object_matches(object, pattern))
      continue;
    const char *why = "is pdi itself, whose definitions no redefine replaces";
    pdi_object_is_protected(session, object, &why);
    return pdi_rule_field_error(active, PDI_FIELD_OBJECT, "object %s %s", object->path, why);
  }
  return 0;
}
