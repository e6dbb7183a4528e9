/*
 * comux-accept: turns a network server into a program that reads its
 * clients' traffic from one comux file (docs/comux.md).
 *
 * The input is read and validated when the backend initialises in the
 * started process, before its main runs (so before it can touch fd 0), and
 * kept with the tree's claim in memory that every process of the server
 * shares, across exec too: a wrapper (sh -c 'exec server', timeout) starts
 * the tree, the server it executes replays. The wrappers below are
 * installed with redefine rules (wrappers.c); they pass every call through and notice the
 * listening socket and the server's first wait for a client. At that moment a
 * controller thread connects to the listening socket's own address, sends the
 * chunks in schedule order, writes the replies to the stdout the process
 * started with, and ends the process.
 *
 * One replay per process tree: before the server's main runs, the started
 * process forks. The child goes on as the server; the parent stays behind as
 * the guardian, a child subreaper that outlives every process of the server
 * (daemons that fork and leave their session included), waits until the
 * process that replayed has ended, kills what is left of the tree and ends
 * with the replay's status. The claim to replay lives in memory shared by
 * every forked process, so only the first process that waits for a client
 * replays. From the claim on, programs the server executes run without the
 * comux config and with PDI_COMUX_ACTIVE set, which leaves a re-loaded
 * backend passive (a program executed before the claim may claim).
 * The controller is in controller.c, the guardian in guardian.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pdi/backend.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../core/escape.h"
#include "../../core/kept-fd.h"
#include "comux.h"
#include "comux-accept.h"

#define EXPORT __attribute__((visibility("default")))

comux_doc_t doc;
int output_fd = -1;
int message_fd = -1;
int log_fd = -1;
int no_wait;
int exit_immediate;
long idle_ms = 50;
long timeout_ms = 2000;
int detect_rest;

/* PDI_COMUX_LOG=FILE, near the descriptor limit and checked before each line (kept-fd.h): a server that closes every
 * descriptor it did not open (a daemon) and gets the number again for a file or socket of its own finds no log line
 * there (nor a SIGPIPE from its unconnected socket); the file is opened again instead. */
static kept_file_t log_file;
static int log_to_file;

int
comux_log_fd(void)
{
  return log_to_file ? kept_file_get(&log_file, 0) : log_fd;
}

static int controller_started;
static int passive;
/* Where each run's input is read in AFL++ mode, noted before the server's
 * main: a daemon points its stdin at /dev/null (nginx's workers read it as
 * an empty input), and nginx replaces its environment (PDI_COMUX_INPUT is
 * gone by its first wait for a client). The descriptor shares afl-fuzz's
 * file offset, which it rewinds before every run. */
static int input_fd = -1;
static char *input_path;

comux_tree_t *tree;

void
say(int fd, const char *fmt, ...)
{
  if (fd < 0)
    return;
  char line[1024];
  int used = snprintf(line, sizeof line, "pdi-comux: ");
  va_list args;
  va_start(args, fmt);
  used += vsnprintf(line + used, sizeof line - (size_t)used - 1, fmt, args);
  va_end(args);
  if (used > (int)sizeof line - 2)
    used = (int)sizeof line - 2;
  line[used++] = '\n';
  ssize_t ignored = write(fd, line, (size_t)used);
  (void)ignored;
}

#define MOST_MS 86400000L /* a day */

/* A time in milliseconds from the environment, or `fallback` when unset.
 * A value that is none (`300ms`, `-1`) ends the process before the server
 * runs, as a bad PDI_COMUX_FORK does: taken for the default, it brought
 * back the false hangs that raising it was meant to end. */
static long
env_milliseconds(const char *name, long fallback)
{
  const char *text = getenv(name);
  if (text == NULL || *text == '\0')
    return fallback;
  long value = 0;
  const char *digit = text;
  for (; *digit >= '0' && *digit <= '9' && value <= MOST_MS; digit++)
    value = value * 10 + (*digit - '0');
  if (*digit != '\0' || value > MOST_MS) {
    char shown[128];
    if (!pdi_escape_controls(text, shown, sizeof shown - 3))
      strcat(shown, "...");
    say(message_fd, "%s: expected a whole number of milliseconds from 0 to %ld, got '%s'", name, MOST_MS, shown);
    _exit(2);
  }
  return value;
}

/* Programs started from here on do not load the config (or pass it on). */
static void
forget_config_variables(void)
{
  unsetenv("PDI_CONFIG");
  unsetenv("PDI_CONFIG_TEMPORARY");
  unsetenv("DI_CFG_FILE");
}

/* The replay is this process's: programs it starts from now on (CGI,
 * helpers) run without the comux config, or passive if they load it again;
 * pdi comux run's temporary config is not needed by anyone any more. */
void
comux_remove_temporary_config(void)
{
  const char *config = getenv("PDI_CONFIG");
  if (getenv("PDI_COMUX_TEMPORARY_CONFIG") != NULL && config != NULL && *config != '\0') {
    char directory[4096];
    snprintf(directory, sizeof directory, "%s", config);
    char *slash = strrchr(directory, '/');
    unlink(config);
    if (slash != NULL && slash != directory) {
      *slash = '\0';
      char verdicts[4200];
      snprintf(verdicts, sizeof verdicts, "%s/verdicts", directory); /* the rules' report (session/verdicts.c) */
      unlink(verdicts);
      rmdir(directory);
    }
  }
}

/* The fork server's output files that pdi opened for the server to inherit
 * (PDI_COMUX_FORK_FILES: their directory, fork-server.ts): stdout-N and
 * stderr-N, then the directory if that emptied it. */
static void
remove_fork_files(void)
{
  const char *directory = getenv("PDI_COMUX_FORK_FILES");
  if (directory == NULL || *directory != '/')
    return;
  char file[4096];
  for (int index = 0; index < 16; index++)
    for (int stream = 0; stream < 2; stream++)
      if ((size_t)snprintf(file, sizeof file, "%s/%s-%d", directory, stream == 0 ? "stdout" : "stderr", index) <
          sizeof file)
        unlink(file);
  rmdir(directory);
}

void
comux_remove_core_link(void)
{
  comux_remove_temporary_config();
  remove_fork_files();
  const char *directory = getenv("PDI_CORE_LINK");
  if (directory == NULL || *directory != '/')
    return;
  char link[4096];
  struct stat status;
  if ((size_t)snprintf(link, sizeof link, "%s/native", directory) >= sizeof link || lstat(link, &status) != 0 ||
      !S_ISLNK(status.st_mode))
    return; /* not the link pdi made: nothing of it is touched */
  unlink(link);
  rmdir(directory);
}

static void
leave_environment(void)
{
  comux_remove_temporary_config();
  forget_config_variables();
  setenv("PDI_COMUX_ACTIVE", "1", 1);
}

/* In fork mode, a process or thread that waits for clients besides the fork
 * server would take the forked children's connections and change the state
 * the next child starts from: it waits for nothing instead. */
static void
wait_aside(void)
{
  if (fork_mode == COMUX_FORK_NONE || forked_child)
    return;
  LOG("process %d waits aside in fork mode", (int)getpid());
  for (;;)
    pause();
}

int
comux_claim_open(void)
{
  return !passive && comux_listener(NULL, NULL) && !__atomic_load_n(&controller_started, __ATOMIC_ACQUIRE);
}

void
comux_server_waits(const char *wait)
{
  if (passive || !comux_listener(NULL, NULL))
    return;
  int expected = 0;
  if (!__atomic_compare_exchange_n(&controller_started, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    wait_aside();
    return;
  }
  if (tree != NULL) {
    pid_t nobody = 0;
    if (!__atomic_compare_exchange_n(&tree->claimer, &nobody, getpid(), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      LOG("process %d waits for a client; process %d replays", (int)getpid(), (int)nobody);
      wait_aside();
      return;
    }
    LOG("process %d replays", (int)getpid());
  }
  LOG("the server waits for a client in %s", wait);
  comux_handback_take(comux_fork_control_fd(), input_fd);
  leave_environment();
  /* Before a fork server: its children find the table made. */
  if (detect_rest)
    comux_track_accepts();
  /* Before a fork server: a child's thread starts on it without a mapping of its own. */
  void *stack = comux_controller_stack();
  if (fork_mode != COMUX_FORK_NONE)
    comux_serve_forks();
  comux_note_waiting_thread();
  comux_watch_descendants();
  comux_start_controller(stack);
}

/* ---- life cycle */

void
comux_input_replace(int fd)
{
  input_fd = fd;
}

static int
keep_fd(int fd)
{
  return fcntl(fd, F_DUPFD_CLOEXEC, 100);
}

/* Every connection may be open at once. */
static void
raise_descriptor_limit(void)
{
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max &&
      limit.rlim_cur < (rlim_t)doc.num_conns + 256) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int
comux_take_input(unsigned char *bytes, size_t length, char *error, size_t error_size)
{
  comux_free(&doc);
  memset(&doc, 0, sizeof doc);
  if (comux_parse(bytes ? bytes : (const unsigned char *)"", length, &doc, error, error_size) != 0)
    return -1;
  raise_descriptor_limit();
  return 0;
}

/* An input that is not replayed: status 3 for one read and found invalid, 2
 * for one that cannot be read at all (missing, a directory), as pdi gives for
 * a file it cannot read. Recorded first so that a fork server's parent, which
 * reports a child that ends before its replay is over, does not add a second
 * line for what the reader's line said. */
static _Noreturn void
refuse_input(int status)
{
  comux_record_status(status);
  _exit(status);
}

void
comux_read_input(int share)
{
  const char *path = input_path != NULL ? input_path : input_fd >= 0 ? NULL : getenv("PDI_COMUX_INPUT");
  int fd = input_fd >= 0 ? input_fd : STDIN_FILENO;
  if (path != NULL && *path != '\0') {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      say(message_fd, "cannot open %s: %s", path, strerror(errno));
      refuse_input(2);
    }
  }
  unsigned char *bytes = NULL;
  size_t length = 0;
  int status = comux_read_all(fd, &bytes, &length);
  if (fd != STDIN_FILENO && fd != input_fd)
    close(fd);
  if (status != 0) {
    if (path != NULL && *path != '\0')
      say(message_fd, "cannot read %s: %s", path, strerror(errno));
    else
      say(message_fd, "cannot read the input: %s", strerror(errno));
    refuse_input(2);
  }
  unsigned char *copy = share ? comux_share(bytes ? bytes : (const unsigned char *)"", length) : NULL;
  if (copy != NULL) {
    free(bytes);
    bytes = copy;
  }
  char error[256];
  if (comux_take_input(bytes, length, error, sizeof error) != 0) {
    say(message_fd, "%s", error);
    refuse_input(3);
  }
  LOG("%u connection%s, %u chunk%s, %zu bytes", doc.num_conns, doc.num_conns == 1 ? "" : "s", doc.num_chunks,
      doc.num_chunks == 1 ? "" : "s", length);
}

int
PDI_BE_FUNC_INIT(const pdi_backend_t *self)
{
  (void)self;
  if (getenv("PDI_COMUX_ACTIVE") != NULL) {
    /* Executed by a server that is replaying: pass everything through. */
    passive = 1;
    forget_config_variables();
    return 0;
  }
  message_fd = keep_fd(STDERR_FILENO);
  output_fd = keep_fd(STDOUT_FILENO);
  comux_handback_remember();
  const char *log = getenv("PDI_COMUX_LOG");
  if (log != NULL && *log != '\0') {
    log_to_file = strcmp(log, "stderr") != 0 && strcmp(log, "1") != 0;
    log_fd = log_to_file ? -1 : message_fd;
    /* Asked for and lost would be worse than no replay: one line, before the server runs. */
    if (log_to_file ? kept_file_open(&log_file, log, O_WRONLY | O_CREAT | O_APPEND) < 0 : log_fd < 0) {
      say(message_fd, "PDI_COMUX_LOG: cannot open '%s': %s", log, strerror(errno));
      _exit(2);
    }
  }
  no_wait = getenv("PDI_COMUX_NO_WAIT") != NULL;
  exit_immediate = getenv("PDI_COMUX_EXIT_IMMEDIATE") != NULL;
  idle_ms = env_milliseconds("PDI_COMUX_IDLE_MS", 50);
  timeout_ms = env_milliseconds("PDI_COMUX_TIMEOUT_MS", 2000);
  detect_rest = getenv("PDI_COMUX_IDLE_ONLY") == NULL;
  if (comux_fork_setup() != 0)
    _exit(2);
  if (fork_mode == COMUX_FORK_AFL) {
    const char *path = getenv("PDI_COMUX_INPUT");
    if (path != NULL && *path != '\0')
      input_path = strdup(path);
    else
      input_fd = keep_fd(STDIN_FILENO);
  }

  /* A program executed in a tree that no process has replayed yet (the
   * server a wrapper runs): the started process read the input, or in fork
   * mode there is none yet. */
  size_t shared_length = 0;
  unsigned char *shared = comux_join(&shared_length);
  if (shared != NULL) {
    char error[256];
    if (__atomic_load_n(&tree->claimer, __ATOMIC_ACQUIRE) != 0 ||
        (fork_mode == COMUX_FORK_NONE && comux_take_input(shared, shared_length, error, sizeof error) != 0)) {
      passive = 1;
      return 0;
    }
    LOG("process %d joins the replay: %u connection%s, %u chunk%s", (int)getpid(), doc.num_conns,
        doc.num_conns == 1 ? "" : "s", doc.num_chunks, doc.num_chunks == 1 ? "" : "s");
    return 0;
  }
  if (fork_mode == COMUX_FORK_NONE)
    comux_read_input(1);
  else
    comux_share((const unsigned char *)"", 0);
  if (comux_fork_control_open(0) != 0)
    _exit(2);
  comux_handback_remember_given(comux_fork_control_fd(), input_fd);
  comux_start_guardian();
  return 0;
}

void
PDI_BE_FUNC_FINI(void)
{
}

/* What a wait status says, for a message (a negative status: unknown). */
void
comux_describe_status(int status, char *text, size_t size)
{
  if (status < 0)
    snprintf(text, size, "ended");
  else if (WIFSIGNALED(status))
    snprintf(text, size, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(text, size, "exited with status %d", WEXITSTATUS(status));
}
