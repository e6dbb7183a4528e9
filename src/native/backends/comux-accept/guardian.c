/*
 * The guardian of comux-accept (docs/comux.md): the started process stays
 * behind as a child subreaper while its child runs the server, waits until
 * the process that replayed has ended (or the whole server ended without
 * replaying, or a signal asks it to stop), kills what is left of the tree,
 * daemons included, and ends with the replay's status.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "comux.h"
#include "comux-accept.h"

#define STATUS_UNKNOWN (-1)

static int guardian_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT};

static void
guardian_set(sigset_t *set)
{
  sigemptyset(set);
  for (size_t i = 0; i < sizeof guardian_signals / sizeof guardian_signals[0]; i++)
    sigaddset(set, guardian_signals[i]);
}

static int
still_running(pid_t pid)
{
  char state = comux_process_state(pid, NULL);
  return state != 0 && state != 'Z' && state != 'X';
}

/* failed: the last other process that ended by a signal or a non-zero status (a daemon's). */
typedef struct statuses {
  pid_t server, claimer, failed;
  int server_status, claimer_status, failed_status;
} statuses_t;

static void
note_status(statuses_t *known, pid_t pid, int status)
{
  if (pid == known->server)
    known->server_status = status;
  else if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0) {
    known->failed = pid;
    known->failed_status = status;
  }
  pid_t claimer = __atomic_load_n(&tree->claimer, __ATOMIC_ACQUIRE);
  if (claimer != 0 && pid == claimer)
    known->claimer_status = status;
}

/* Reaps what has ended; 1 when the guardian has no child left. */
static int
reap(statuses_t *known)
{
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      note_status(known, pid, status);
      continue;
    }
    if (pid < 0 && errno == EINTR)
      continue;
    return pid < 0 && errno == ECHILD;
  }
}

/* SIGKILL to every descendant (found through /proc: orphans are re-parented
 * to the guardian, so the tree is whole), until none is left. */
static void
kill_descendants(statuses_t *known)
{
  pid_t self = getpid();
  size_t capacity = 256;
  pid_t *pids = malloc(capacity * sizeof *pids);
  pid_t *parents = malloc(capacity * sizeof *parents);
  unsigned char *marked = malloc(capacity);
  while (!reap(known)) {
    size_t count = 0;
    DIR *proc = opendir("/proc");
    struct dirent *entry;
    while (proc != NULL && pids != NULL && parents != NULL && marked != NULL && (entry = readdir(proc)) != NULL) {
      char *end;
      long pid = strtol(entry->d_name, &end, 10);
      pid_t parent;
      if (*end != '\0' || pid <= 0 || comux_process_state((pid_t)pid, &parent) == 0)
        continue;
      if (count == capacity) {
        capacity *= 2;
        pid_t *more_pids = realloc(pids, capacity * sizeof *pids);
        pid_t *more_parents = more_pids ? realloc(parents, capacity * sizeof *parents) : NULL;
        unsigned char *more_marked = more_parents ? realloc(marked, capacity) : NULL;
        if (more_pids)
          pids = more_pids;
        if (more_parents)
          parents = more_parents;
        if (more_marked)
          marked = more_marked;
        if (!more_marked) {
          capacity /= 2;
          break;
        }
      }
      pids[count] = (pid_t)pid;
      parents[count] = parent;
      marked[count] = 0;
      count++;
    }
    if (proc != NULL)
      closedir(proc);
    for (int grown = 1; grown;) {
      grown = 0;
      for (size_t i = 0; i < count; i++) {
        if (marked[i])
          continue;
        int descendant = parents[i] == self;
        for (size_t j = 0; !descendant && j < count; j++)
          descendant = marked[j] && pids[j] == parents[i];
        if (descendant) {
          marked[i] = 1;
          grown = 1;
        }
      }
    }
    for (size_t i = 0; i < count; i++)
      if (marked[i])
        kill(pids[i], SIGKILL);
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
  }
  free(pids);
  free(parents);
  free(marked);
}

/* Ends this process by `signal_number`, whose action is the default by now:
 * unblocked for this thread and raised (128 + N should it return). */
static void __attribute__((noreturn)) die_of(int signal_number)
{
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, signal_number);
  pthread_sigmask(SIG_UNBLOCK, &only, NULL);
  raise(signal_number);
  _exit(128 + signal_number);
}

static void __attribute__((noreturn)) end_like(int status)
{
  if (WIFSIGNALED(status)) {
    int signal_number = WTERMSIG(status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(signal_number, SIG_DFL);
    die_of(signal_number);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* The process that started the guardian when it is pdi (PDI_COMUX_LAUNCHER
 * names it, and it is the parent): if it ends first (killed, or a Node
 * process that exited mid-replay), nobody waits for this replay any more,
 * and the server must not run on, as one that never listens would. 0: none
 * (a run by hand, whose parent may rightly go before it). */
static pid_t
launcher_of_guardian(void)
{
  const char *text = getenv("PDI_COMUX_LAUNCHER");
  char *end = NULL;
  long pid = text != NULL ? strtol(text, &end, 10) : 0;
  return text != NULL && *text != '\0' && *end == '\0' && pid > 0 && pid == getppid() ? (pid_t)pid : 0;
}

/* The guardian's life: wait until the replay is over (the claimer ended), the
 * whole server ended without replaying, a signal asks to stop, or pdi that
 * started it has gone; then kill what is left and end with the replay's
 * status. */
static void __attribute__((noreturn)) guard(pid_t server, pid_t launcher)
{
  statuses_t known = {server, 0, 0, STATUS_UNKNOWN, STATUS_UNKNOWN, 0};
  sigset_t waited;
  guardian_set(&waited);
  int stop_signal = 0;
  int launcher_gone = 0;
  for (;;) {
    if (launcher != 0 && getppid() != launcher) {
      launcher_gone = 1;
      break;
    }
    int none_left = reap(&known);
    pid_t claimer = __atomic_load_n(&tree->claimer, __ATOMIC_ACQUIRE);
    comux_handback_serve(claimer);
    if (claimer != 0 && known.claimer_status == STATUS_UNKNOWN && !still_running(claimer)) {
      int status;
      if (waitpid(claimer, &status, WNOHANG) == claimer)
        note_status(&known, claimer, status);
      break;
    }
    if (none_left || known.claimer_status != STATUS_UNKNOWN)
      break;
    /* A claimer that is not this process's child ends unseen: look again soon. */
    struct timespec tick = {0, 10000000};
    int got = sigtimedwait(&waited, NULL, &tick);
    if (got > 0 && got != SIGCHLD) {
      stop_signal = got;
      break;
    }
  }
  kill_descendants(&known);
  comux_remove_unix_sockets();
  comux_release_sentinel();
  if (launcher_gone) {
    comux_remove_core_link();      /* and the temporary config: pdi, which would have, is gone */
    _exit(COMUX_EXIT_NOT_SERVING); /* nobody reads it: quietly */
  }

  pid_t claimer = __atomic_load_n(&tree->claimer, __ATOMIC_ACQUIRE);
  const char *stage = __atomic_load_n(&tree->listened, __ATOMIC_ACQUIRE) ? "waited for a client" : "listened";
  if (claimer == 0) {
    char how[128], who[64] = "the server";
    if (stop_signal != 0)
      snprintf(how, sizeof how, "was stopped by signal %d (%s)", stop_signal, strsignal(stop_signal));
    else if (known.server_status == 0 && known.failed != 0) {
      snprintf(who, sizeof who, "process %d, which the server forked,", (int)known.failed);
      comux_describe_status(known.failed_status, how, sizeof how);
    } else
      comux_describe_status(known.server_status, how, sizeof how);
    say(message_fd, "%s %s before it %s", who, how, stage);
    _exit(COMUX_EXIT_NOT_SERVING);
  }
  if (stop_signal != 0)
    end_like(stop_signal); /* a wait status of "killed by stop_signal" */
  if (known.claimer_status != STATUS_UNKNOWN) {
    comux_say_unfinished(message_fd, claimer, known.claimer_status, &tree->progress);
    end_like(known.claimer_status);
  }
  int fatal = __atomic_load_n(&tree->fatal_signal, __ATOMIC_ACQUIRE);
  if (fatal != 0)
    end_like(fatal);
  if (__atomic_load_n(&tree->progress.exited, __ATOMIC_ACQUIRE))
    _exit(__atomic_load_n(&tree->progress.exit_status, __ATOMIC_RELAXED) & 0xff);
  if (__atomic_load_n(&tree->progress.done, __ATOMIC_ACQUIRE))
    _exit(0);
  say(message_fd, "process %d, which replayed, ended without a status", (int)claimer);
  _exit(1);
}

/* ---- what the claimer tells the guardian */

/* The status the claimer ends with, for a guardian that cannot wait for it
 * (and, in a fork-mode child, the mark that the backend ended it). */
void
comux_record_status(int status)
{
  comux_progress_t *progress = comux_progress();
  if (progress == NULL)
    return;
  __atomic_store_n(&progress->exit_status, status, __ATOMIC_RELAXED);
  __atomic_store_n(&progress->exited, 1, __ATOMIC_RELEASE);
}

/* The claimer's end, for a guardian that cannot wait for it (a forked worker
 * or a daemon): a fatal signal or the status given to exit. */
static void
record_fatal_signal(int signal_number)
{
  comux_drain_before_crash();
  __atomic_store_n(&tree->fatal_signal, signal_number, __ATOMIC_RELEASE);
  raise(signal_number); /* SA_RESETHAND: the default action, as if not caught */
}

/* The replaying process's fatal signals when nothing else records them:
 * the controller collects the reply in progress first. */
static void
drain_fatal_signal(int signal_number)
{
  comux_drain_before_crash();
  raise(signal_number);
}

static void record_descendant_signal(int signal_number);

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};

/* Sets `recorder` (reset at its first signal, which it raises again) for
 * each fatal signal whose action is the default or one of the backend's
 * own, never over a handler of the server's own. */
static void
record_fatal_signals(void (*recorder)(int))
{
  for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
    struct sigaction current;
    if (sigaction(fatal_signals[i], NULL, &current) != 0 || (current.sa_flags & SA_SIGINFO) ||
        (current.sa_handler != SIG_DFL && current.sa_handler != record_fatal_signal &&
         current.sa_handler != drain_fatal_signal && current.sa_handler != record_descendant_signal))
      continue;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = recorder;
    action.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(fatal_signals[i], &action, NULL);
  }
}

#ifdef __GLIBC__
static void
record_exit(int status, void *unused)
{
  (void)unused;
  comux_record_status(status);
}
#endif

void
comux_watch_claimer_end(void)
{
  if (tree == NULL || getppid() == tree->guardian)
    return;
  record_fatal_signals(record_fatal_signal);
#ifdef __GLIBC__
  on_exit(record_exit, NULL);
#endif
}

void
comux_watch_crashes(void)
{
  record_fatal_signals(drain_fatal_signal);
}

/* ---- crashes of the processes the replaying process forks */

/* The first fatal signal of a process the replaying process forked during the
 * replay (a server that forks per connection), and that process's pid: memory
 * shared with those processes, mapped at the replaying process's first fork
 * (most servers never fork then, and a fork server's children are many). */
static int watching_descendants;
static int *descendant_crash;

void
comux_watch_descendants(void)
{
  watching_descendants = 1;
}

void
comux_prepare_fork(void)
{
  if (!watching_descendants || descendant_crash != NULL)
    return;
  int saved = errno;
  void *shared = mmap(NULL, 2 * sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  descendant_crash = shared == MAP_FAILED ? NULL : shared;
  errno = saved;
}

static void
record_descendant_signal(int signal_number)
{
  comux_drain_before_crash();
  int none = 0;
  if (__atomic_compare_exchange_n(&descendant_crash[0], &none, signal_number, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    __atomic_store_n(&descendant_crash[1], (int)getpid(), __ATOMIC_RELEASE);
  raise(signal_number); /* SA_RESETHAND: the default action, as if not caught */
}

void
comux_watch_forked(void)
{
  if (descendant_crash == NULL)
    return;
  record_fatal_signals(record_descendant_signal);
}

void
comux_end_like_forked(void)
{
  int signal_number = descendant_crash == NULL ? 0 : __atomic_load_n(&descendant_crash[0], __ATOMIC_ACQUIRE);
  if (signal_number == 0)
    return;
  say(message_fd, "process %d, which the server forked, was killed by signal %d (%s): the replay ends so",
      __atomic_load_n(&descendant_crash[1], __ATOMIC_ACQUIRE), signal_number, strsignal(signal_number));
  struct sigaction current;
  if (sigaction(signal_number, NULL, &current) != 0 || current.sa_handler != record_fatal_signal) {
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    sigaction(signal_number, &default_action, NULL);
  }
  die_of(signal_number);
}

unsigned char *
comux_share(const unsigned char *input, size_t length)
{
  /* Not close-on-exec: a program a wrapper executes (sh -c 'exec server',
   * timeout) must find it. */
  int fd = memfd_create("pdi-comux", 0);
  if (fd < 0)
    return NULL;
  size_t size = COMUX_TREE_PAGE + length;
  void *base = ftruncate(fd, (off_t)size) == 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                                               : MAP_FAILED;
  if (base == MAP_FAILED) {
    close(fd);
    return NULL;
  }
  tree = base;
  memset(tree, 0, sizeof *tree);
  tree->magic = COMUX_TREE_MAGIC;
  tree->input_length = length;
  unsigned char *shared = (unsigned char *)base + COMUX_TREE_PAGE;
  if (length > 0)
    memcpy(shared, input, length);
  char number[16];
  snprintf(number, sizeof number, "%d", fd);
  setenv("PDI_COMUX_SHARED", number, 1);
  return shared;
}

unsigned char *
comux_join(size_t *length)
{
  const char *text = getenv("PDI_COMUX_SHARED");
  if (text == NULL || *text == '\0')
    return NULL;
  char *end = NULL;
  long fd = strtol(text, &end, 10);
  struct stat status;
  if (*end != '\0' || fd < 0 || fd > 1 << 20 || fstat((int)fd, &status) != 0 || !S_ISREG(status.st_mode) ||
      status.st_size < COMUX_TREE_PAGE)
    return NULL;
  void *base = mmap(NULL, (size_t)status.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
  if (base == MAP_FAILED)
    return NULL;
  comux_tree_t *found = base;
  if (found->magic != COMUX_TREE_MAGIC || found->input_length != (uint64_t)status.st_size - COMUX_TREE_PAGE) {
    munmap(base, (size_t)status.st_size);
    return NULL;
  }
  tree = found;
  *length = (size_t)found->input_length;
  return (unsigned char *)base + COMUX_TREE_PAGE;
}

void
comux_start_guardian(void)
{
  if (tree == NULL) {
    tree = mmap(NULL, sizeof *tree, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (tree == MAP_FAILED) {
      tree = NULL;
      say(message_fd, "no shared memory for the replay claim: %s", strerror(errno));
      return;
    }
    memset(tree, 0, sizeof *tree);
  }
  tree->guardian = getpid();
  pid_t launcher = launcher_of_guardian();
  comux_start_sentinel();

  sigset_t blocked, previous_mask;
  guardian_set(&blocked);
  sigprocmask(SIG_BLOCK, &blocked, &previous_mask);
  struct sigaction default_child, previous_child;
  memset(&default_child, 0, sizeof default_child);
  default_child.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &default_child, &previous_child);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    LOG("cannot become a child subreaper: %s", strerror(errno));
  pid_t server = fork();
  if (server != 0) {
    if (server > 0) {
      comux_handback_offer();
      guard(server, launcher);
    }
    say(message_fd, "cannot fork the server from its guardian: %s", strerror(errno));
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    comux_release_sentinel();
  } else
    comux_sentinel_forget();
  sigaction(SIGCHLD, &previous_child, NULL);
  sigprocmask(SIG_SETMASK, &previous_mask, NULL);
  if (server < 0)
    tree = NULL; /* unguarded: no claim to share */
}
