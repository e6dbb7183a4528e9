/* The preloadable core: the entry point that the dynamic loader runs before
 * the program's main, and the public API that backends bind to. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/core.h"
#include "../core/libc-environment.h"
#include "../core/process-start.h"
#include "../inspect/inspect.h"
#include "../session/session.h"
#include "attach.h"

#define PDI_PUBLIC __attribute__((visibility("default")))

static pdi_session_t *preload_session;
/* The pdi process whose launch the session serves only while it runs
 * (PDI_SESSION_OWNER, "PID START PIDNS": pdi trace, whose trace has no
 * reader once it has ended); 0 when none is named, as for pdi run, whose
 * rules stay the program's after pdi has gone. */
static pid_t owner_pid;
static unsigned long long owner_start;

/* The owner is taken for gone only in its own pid namespace: elsewhere its
 * number names another process, or none. */
static void
note_launch_owner(void)
{
  const char *owner = getenv("PDI_SESSION_OWNER");
  unsigned long long namespace = 0;
  struct stat own;
  if (owner == NULL || sscanf(owner, "%d %llu %llu", &owner_pid, &owner_start, &namespace) != 3 ||
      stat("/proc/self/ns/pid", &own) != 0 || (unsigned long long)own.st_ino != namespace)
    owner_pid = 0;
}

void
pdi_preload_close_orphaned(void)
{
  if (preload_session == NULL || !pdi_process_gone(owner_pid, owner_start))
    return;
  pdi_log(PDI_LOG_INFO, "the rules of pdi process %d, which ended without closing them, are closed for an attach",
          (int)owner_pid);
  pdi_session_close_orphaned(preload_session);
  preload_session = NULL;
}

PDI_PUBLIC void *
pdi_original(const void *wrapper)
{
  return pdi_original_impl(wrapper);
}

/* pdi run, trace() and the other launches compile the config into a private
 * temporary file that they remove when the program they started exits. A
 * descendant that outlives it (a daemon, a background job) and then execs
 * would find PDI_CONFIG naming nothing: it runs uninstrumented rather than
 * being stopped before main (docs/launching.md). */
static int
config_is_gone(const char *config)
{
  const char *temporary = getenv("PDI_CONFIG_TEMPORARY");
  return temporary != NULL && temporary[0] == '1' && access(config, F_OK) != 0 && errno == ENOENT;
}

/* Whether the variable names a directory: like a missing file, the
 * variable's fault, not one of the config's lines (a pipe's may be). */
static int
names_directory(const char *config)
{
  struct stat file;
  return stat(config, &file) == 0 && S_ISDIR(file.st_mode);
}

/* The signals the shell that ran the pdi command had ignored or blocked,
 * which Node's spawn set to their defaults and unblocked in this process:
 * as an exec from that shell would have left them (PDI_INHERITED_SIGNALS =
 * IGNORED:BLOCKED, masks in hex with signal N at bit N-1; docs/launching.md,
 * "What the program inherits"). Once: the program's children inherit them. */
static void
restore_inherited_signals(const pdi_libc_environment_t *environment)
{
  const char *value = environment->get("PDI_INHERITED_SIGNALS");
  if (value == NULL)
    return;
  char *end;
  unsigned long long ignored = strtoull(value, &end, 16);
  unsigned long long blocked = *end == ':' ? strtoull(end + 1, &end, 16) : 0;
  environment->unset("PDI_INHERITED_SIGNALS");
  sigset_t mask;
  sigemptyset(&mask);
  for (int signal = 1; signal <= 64; signal++) {
    unsigned long long bit = 1ull << (signal - 1);
    struct sigaction action;
    if (signal == SIGKILL || signal == SIGSTOP)
      continue;
    if ((ignored & bit) && sigaction(signal, NULL, &action) == 0 && action.sa_handler == SIG_DFL) {
      action.sa_handler = SIG_IGN;
      action.sa_flags &= ~SA_SIGINFO;
      sigaction(signal, &action, NULL);
    }
    if (blocked & bit)
      sigaddset(&mask, signal);
  }
  sigprocmask(SIG_BLOCK, &mask, NULL);
}

/* The standard streams the shell that ran the pdi command had closed, which
 * Node opened on /dev/null (PDI_INHERITED_CLOSED = a list of 0, 1, 2):
 * closed again, so that a write to them fails as it would have (ls >&-
 * says "write error"). Once: the program's children inherit them closed. */
static void
close_inherited_closed(const pdi_libc_environment_t *environment)
{
  const char *value = environment->get("PDI_INHERITED_CLOSED");
  if (value == NULL)
    return;
  for (const char *cursor = value; *cursor != '\0'; cursor++)
    if (*cursor >= '0' && *cursor <= '2')
      close(*cursor - '0');
  environment->unset("PDI_INHERITED_CLOSED");
}

/* pDI-Tools' other variables, which pdi does not read: said once per
 * process, since a porter would otherwise lose the rules without a word. */
static void
warn_of_former_variables(void)
{
  static const struct {
    const char *name, *instead;
  } former[] = {
      {"DI_CONFIG_FILE", "list the command file in the config that PDI_CONFIG or DI_CFG_FILE names (config = FILE)"},
      {"DI_RUNTIME_FILE", "name the command file in the config that PDI_CONFIG or DI_CFG_FILE names (runtime = FILE)"},
      {"DI_FEEDBACK", "set verbose = 3 in the config, or run the program with pdi run -vv"},
  };
  for (size_t i = 0; i < sizeof former / sizeof former[0]; i++)
    if (getenv(former[i].name) != NULL)
      pdi_log(PDI_LOG_WARNING, "%s is pDI-Tools' and pdi does not read it: %s (docs/config.md)", former[i].name,
              former[i].instead);
}

/* The program's main finds errno as the C library left it (0): what the
 * core's start-up tried and failed on (a probe the kernel does not know, a
 * file that is not there) is not the program's. */
__attribute__((constructor)) static void
pdi_preload_start(void)
{
  int saved_errno = errno;
  /* Looked up once: finding libc's getenv and unsetenv walks its symbols. */
  pdi_libc_environment_t environment = pdi_libc_environment();
  restore_inherited_signals(&environment);
  close_inherited_closed(&environment);
  warn_of_former_variables();
  const char *variable = "PDI_CONFIG";
  const char *config = getenv(variable);
  const char *former = getenv("DI_CFG_FILE");
  if (config == NULL || config[0] == '\0')
    config = getenv(variable = "DI_CFG_FILE");
  else if (former != NULL && former[0] != '\0' && strcmp(former, config) != 0)
    pdi_log(PDI_LOG_WARNING, "DI_CFG_FILE (%s) is not read: PDI_CONFIG (%s) names the config, and comes first", former,
            config);
  int failure_is_warning = 0;
  if (config != NULL && config[0] != '\0' && pdi_session_open(config, &preload_session, &failure_is_warning) != 0) {
    /* Also when it went between a check and the read: the pdi command ended just then. */
    int gone = config_is_gone(config);
    if (gone) {
      pdi_log(PDI_LOG_WARNING,
              "%s is gone: it was the temporary config of a pdi command that has ended; this process runs without "
              "interpositions",
              config);
    } else {
      /* A file that cannot be read was named by hand: the variable is what the user has to fix. */
      const char *temporary = getenv("PDI_CONFIG_TEMPORARY");
      if (access(config, R_OK) != 0 && errno == EACCES && temporary != NULL && temporary[0] == '1')
        pdi_log(PDI_LOG_ERROR,
                "%s: %s (the temporary config of the pdi command, readable by its user only: this process runs as "
                "uid %d, changed by a wrapper such as setpriv or runuser or by the program itself (setuid, then exec); "
                "start pdi as that user instead, docs/launching.md)",
                variable, pdi_error(), (int)geteuid());
      else if (access(config, R_OK) != 0 || names_directory(config))
        pdi_log(PDI_LOG_ERROR, "%s: %s", variable, pdi_error());
      else
        pdi_log(PDI_LOG_ERROR, "%s", pdi_error());
    }
    pdi_session_discard_failed();
    if (!failure_is_warning && !gone)
      _exit(2);
  }
  if (preload_session != NULL) {
    pdi_session_share_verdicts(preload_session, config);
    note_launch_owner();
  }
  /* After the session, so an inspection shows the installed rules. */
  pdi_inspect_from_environment();
  errno = saved_errno;
}

__attribute__((destructor)) static void
pdi_preload_stop(void)
{
  int saved_errno = errno;
  pdi_attach_close_at_exit(); /* opened last, closed first */
  pdi_session_close_at_exit(preload_session);
  preload_session = NULL;
  errno = saved_errno;
}
