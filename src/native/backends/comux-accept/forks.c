/*
 * Fork mode of comux-accept (docs/comux.md "Fork mode"): the server starts
 * once, and at its first wait for a client the claimer becomes a fork
 * server. Each input is replayed by a forked child of the ready server,
 * exactly as a one-process replay would: the same output bytes, the same
 * statuses, 3 for an invalid input (found before forking).
 *
 * PDI_COMUX_FORK=1: inputs come from pdi's control channel, a socket at the
 * descriptor PDI_COMUX_CONTROL. A request is four little-endian uint32
 * (input length, time limit in ms with 0 for none, output path length,
 * error path length), the two paths, then the input. The child writes its
 * stdout to the output path and its stderr to the error path (the backend's
 * messages included); a path /dev/fd/N names a file the server inherited at
 * descriptor N (pdi's own, which the server's user may not be able to open).
 * The answer is two int32: the child's wait status, and
 * 1 when the time limit ended it (then it was killed with SIGKILL). Before
 * the first request the fork server says it is ready with two int32 -1.
 *
 * PDI_COMUX_FORK=afl: AFL++'s fork server. A server built with afl-cc has
 * its own, deferred by AFL_DEFER_FORKSRV until __afl_manual_init is called
 * here, so that coverage is kept; without it the backend speaks the
 * protocol itself (afl-fuzz -n with AFL_DUMB_FORKSRV). Each child reads
 * its input from stdin (or PDI_COMUX_INPUT) after the fork.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "comux.h"
#include "comux-accept.h"

#define AFL_CONTROL_FD 198
#define AFL_STATUS_FD 199

comux_fork_mode_t fork_mode = COMUX_FORK_NONE;
int forked_child;
static int control_fd = -1;

/* The fork server's record of its current child's progress (MAP_SHARED,
 * emptied before each fork): the child has no guardian of its own, and
 * the fork server says when it exited before its replay was over. */
static comux_progress_t *child_progress;

comux_progress_t *
comux_progress(void)
{
  if (tree != NULL)
    return &tree->progress;
  return forked_child ? child_progress : NULL;
}

/* The CPUs the fork server may run on, when more than one: each child is
 * forked onto the one CPU the fork server is on (pin_to_this_cpu). A replay
 * is a conversation: the controller thread sends, the server answers, the
 * controller reads, and the fork server waits for the child. On two CPUs
 * each of those steps wakes the other one (and a sleeping virtual CPU wakes
 * slowly); on one they follow each other, and nginx replays twice as fast
 * on a loaded two-CPU VM (bench/comux/README.md). */
static cpu_set_t server_cpus;
static int pin_children;

/* Binds the calling thread to the CPU it runs on: 1 when it did, 0 when it
 * runs on one CPU already or cannot be bound. */
static int
pin_to_this_cpu(void)
{
  int cpu = sched_getcpu();
  if (!pin_children || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &server_cpus))
    return 0;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return sched_setaffinity(0, sizeof one, &one) == 0;
}

static void
note_server_cpus(void)
{
  /* PDI_COMUX_ONE_CPU=0: for a server whose replay needs its parallel work (docs/comux.md). */
  const char *one_cpu = getenv("PDI_COMUX_ONE_CPU");
  pin_children = !(one_cpu != NULL && strcmp(one_cpu, "0") == 0) &&
                 sched_getaffinity(0, sizeof server_cpus, &server_cpus) == 0 && CPU_COUNT(&server_cpus) > 1;
}

/* fork(), the child on the fork server's CPU (it keeps that one CPU, and
 * the controller thread it starts inherits it); the fork server itself
 * keeps the CPUs it had. */
static pid_t
fork_on_this_cpu(void)
{
  int pinned = pin_to_this_cpu();
  pid_t child = fork();
  if (child != 0 && pinned)
    sched_setaffinity(0, sizeof server_cpus, &server_cpus);
  return child;
}

int
comux_fork_setup(void)
{
  const char *mode = getenv("PDI_COMUX_FORK");
  if (mode == NULL || *mode == '\0' || strcmp(mode, "0") == 0)
    return 0;
  if (strcmp(mode, "afl") == 0) {
    fork_mode = COMUX_FORK_AFL;
    return 0;
  }
  if (strcmp(mode, "1") != 0) {
    say(message_fd, "PDI_COMUX_FORK: expected 1 or afl, got '%s'", mode);
    return -1;
  }
  const char *text = getenv("PDI_COMUX_CONTROL");
  char *end = NULL;
  long fd = text != NULL ? strtol(text, &end, 10) : -1;
  if (text == NULL || *text == '\0' || *end != '\0' || fd < 0 || fd > 1 << 20) {
    say(message_fd, "PDI_COMUX_FORK=1 needs PDI_COMUX_CONTROL, the descriptor of pdi's control channel (got '%s')",
        text ? text : "");
    return -1;
  }
  control_fd = (int)fd;
  fork_mode = COMUX_FORK_CONTROL;
  return 0;
}

int
comux_fork_control_fd(void)
{
  return fork_mode == COMUX_FORK_CONTROL ? control_fd : -1;
}

void
comux_fork_control_replace(int fd)
{
  if (fork_mode == COMUX_FORK_CONTROL)
    control_fd = fd;
}

/* The control channel stays inheritable until a process claims the replay:
 * the server may be a wrapper's child (env, a shell script) that executes it. */
int
comux_fork_control_open(int claiming)
{
  if (fork_mode != COMUX_FORK_CONTROL)
    return 0;
  struct stat channel;
  int present = fstat(control_fd, &channel) == 0;
  if (present && tree != NULL && !claiming) {
    tree->control_device = (uint64_t)channel.st_dev;
    tree->control_inode = (uint64_t)channel.st_ino;
  }
  if (present &&
      (!claiming || tree == NULL ||
       (tree->control_device == (uint64_t)channel.st_dev && tree->control_inode == (uint64_t)channel.st_ino)))
    return 0;
  if (claiming)
    say(message_fd,
        "pdi's control channel (PDI_COMUX_CONTROL=%d) is gone in process %d, which waits for a client (fd %d is "
        "%s): the server, or a program between pdi and it, closed it",
        control_fd, (int)getpid(), control_fd, present ? "another file now" : "closed");
  else
    say(message_fd, "PDI_COMUX_FORK=1 needs PDI_COMUX_CONTROL, the descriptor of pdi's control channel (got '%s')",
        getenv("PDI_COMUX_CONTROL"));
  return -1;
}

/* Reads (writing = 0) or writes all of `length` bytes: 0, or -1 on an
 * error or the end of the channel. */
static int
transfer_exactly(int fd, void *buffer, size_t length, int writing)
{
  unsigned char *bytes = buffer;
  while (length > 0) {
    ssize_t n = writing ? write(fd, bytes, length) : read(fd, bytes, length);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    bytes += n;
    length -= (size_t)n;
  }
  return 0;
}

static int
read_exactly(int fd, void *buffer, size_t length)
{
  return transfer_exactly(fd, buffer, length, 0);
}

static int
write_exactly(int fd, const void *buffer, size_t length)
{
  return transfer_exactly(fd, (void *)buffer, length, 1);
}

static uint32_t
little_endian(const unsigned char *bytes)
{
  return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
}

/* The server's own action for SIGCHLD, which the fork server replaces while
 * it serves: a server that ignores SIGCHLD (or sets SA_NOCLDWAIT), as many
 * that fork per connection do to have their children reaped, would have the
 * kernel reap the fork server's children too, and each waitpid fail with
 * ECHILD: every input, crashed or not, would read as status 0. */
static struct sigaction server_child_action;

static void
take_child_signal(void)
{
  struct sigaction waitable;
  memset(&waitable, 0, sizeof waitable);
  waitable.sa_handler = SIG_DFL;
  sigemptyset(&waitable.sa_mask);
  sigaction(SIGCHLD, &waitable, &server_child_action);
}

/* The child's side of a fork: it is not the claimer (the guardian waits for
 * the fork server), and it gets the server's action for SIGCHLD and signal
 * mask back. */
static void
become_child(const sigset_t *server_mask)
{
  forked_child = 1;
  tree = NULL;
  int dropped = comux_drop_queued_connections();
  if (dropped > 0)
    LOG("%d connection(s) of an earlier input's replay closed unaccepted", dropped);
  comux_unshare_epoll();
  sigaction(SIGCHLD, &server_child_action, NULL);
  sigprocmask(SIG_SETMASK, server_mask, NULL);
}

/* A request's path /dev/fd/N: descriptor N, a file the server inherited
 * from pdi, written through that descriptor (never reopened: pdi keeps the
 * file where the server's user, such as nginx's nobody, cannot open it; its
 * copy when the server closed it and the guardian gave it back, handback.c);
 * -1 for any other path. */
static int
inherited_descriptor(const char *path)
{
  static const char prefix[] = "/dev/fd/";
  if (strncmp(path, prefix, sizeof prefix - 1) != 0)
    return -1;
  const char *digits = path + sizeof prefix - 1;
  char *end = NULL;
  long fd = strtol(digits, &end, 10);
  if (*digits < '0' || *digits > '9' || *end != '\0' || fd > 1 << 20)
    return -1;
  return comux_handback_descriptor((int)fd);
}

/* Keeps the descriptors a request names from what the server executes
 * (CGI, helpers), as the control channel is. */
static void
keep_from_programs(const char *path)
{
  int fd = inherited_descriptor(path);
  if (fd > STDERR_FILENO && fd != control_fd)
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* A request's output or error file, emptied: a path opened (created 0600),
 * or /dev/fd/N, a copy of that inherited descriptor of a regular file open
 * for writing, truncated and rewound (errno EBADF when it is not one). */
static int
open_emptied(const char *path)
{
  int inherited = inherited_descriptor(path);
  if (inherited < 0 && strncmp(path, "/dev/fd/", 8) != 0)
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  struct stat file;
  int flags = inherited > STDERR_FILENO && inherited != control_fd ? fcntl(inherited, F_GETFL) : -1;
  if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY || fstat(inherited, &file) != 0 || !S_ISREG(file.st_mode)) {
    errno = EBADF;
    return -1;
  }
  int copy = fcntl(inherited, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (copy >= 0 && (ftruncate(copy, 0) != 0 || lseek(copy, 0, SEEK_SET) < 0)) {
    int reason = errno;
    close(copy);
    errno = reason;
    return -1;
  }
  return copy;
}

/* A request's file the child cannot write: status 70, which the backend
 * gave (so its fork server adds no line of its own). */
static void __attribute__((noreturn)) end_unwritable(const char *what, const char *path)
{
  say(message_fd, "cannot write the replay's %s to %s: %s", what, path, strerror(errno));
  comux_record_status(70);
  _exit(70);
}

/* Points the child's stdout and stderr, and the backend's copies of them,
 * at the request's files. */
static void
redirect_child(const char *output_path, const char *error_path)
{
  int output = open_emptied(output_path);
  if (output < 0)
    end_unwritable("output", output_path);
  int error = open_emptied(error_path);
  if (error < 0)
    end_unwritable("errors", error_path);
  int logs_to_stderr = log_fd == message_fd;
  dup2(output, STDOUT_FILENO);
  dup2(error, STDERR_FILENO);
  dup3(output, output_fd, O_CLOEXEC);
  dup3(error, message_fd, O_CLOEXEC);
  comux_redirect_named_streams(output, error);
  if (logs_to_stderr)
    log_fd = message_fd;
  close(output);
  close(error);
}

/* Waits for the child, killing its process group after limit_ms (0: no
 * limit); the wait status, and whether the limit ended it. */
static int
wait_child(pid_t child, uint32_t limit_ms, int *timed_out)
{
  int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
  *timed_out = 0;
  if (pidfd >= 0 && limit_ms > 0) {
    struct pollfd ended = {pidfd, POLLIN, 0};
    int ready;
    while ((ready = poll(&ended, 1, (int)limit_ms)) < 0 && errno == EINTR)
      ;
    if (ready == 0) {
      *timed_out = 1;
      kill(-child, SIGKILL);
      kill(child, SIGKILL);
    }
  }
  if (pidfd >= 0)
    close(pidfd);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  /* What the child left running in its group (a forking server's own
   * children) ends with it; orphans go to the guardian, which reaps them. */
  kill(-child, SIGKILL);
  return status;
}

/* The line a one-process replay's guardian writes for a child that exited
 * before its replay was over, after what the child wrote to its error file. */
static void
say_unfinished_child(const char *error_path, pid_t child, int status)
{
  if (child_progress == NULL)
    return;
  int inherited = inherited_descriptor(error_path);
  int fd = inherited >= 0 ? inherited : open(error_path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return;
  comux_say_unfinished(fd, child, status, child_progress);
  if (fd != inherited)
    close(fd);
}

/* An input the reader refuses is answered without forking: status 3 and the
 * reader's message in the error file, as a one-process replay gives. */
static int
refuse_input(const char *output_path, const char *error_path, const char *message)
{
  int output = open_emptied(output_path);
  if (output >= 0)
    close(output);
  int fd = open_emptied(error_path);
  say(fd, "%s", message);
  if (fd >= 0)
    close(fd);
  return 3 << 8;
}

/* One request of the control channel: 1 in the forked child (return to
 * replay), 0 when answered, -1 when the channel is closed or broken. */
static int
serve_request(const sigset_t *server_mask)
{
  unsigned char header[16];
  if (read_exactly(control_fd, header, sizeof header) != 0)
    return -1;
  uint32_t input_length = little_endian(header), limit_ms = little_endian(header + 4);
  uint32_t output_length = little_endian(header + 8), error_length = little_endian(header + 12);
  if (output_length == 0 || output_length > 4096 || error_length == 0 || error_length > 4096 ||
      input_length > COMUX_MAX_INPUT)
    return -1;
  char *output_path = calloc(1, output_length + 1), *error_path = calloc(1, error_length + 1);
  unsigned char *bytes = malloc(input_length ? input_length : 1);
  int answer[2] = {0, 0}, result = 0;
  char message[256];
  if (output_path == NULL || error_path == NULL || bytes == NULL ||
      read_exactly(control_fd, output_path, output_length) || read_exactly(control_fd, error_path, error_length) ||
      read_exactly(control_fd, bytes, input_length))
    result = -1;
  else if (comux_take_input(bytes, input_length, message, sizeof message) != 0)
    answer[0] = refuse_input(output_path, error_path, message);
  else {
    keep_from_programs(output_path);
    keep_from_programs(error_path);
    if (child_progress != NULL)
      memset(child_progress, 0, sizeof *child_progress);
    pid_t child = fork_on_this_cpu();
    if (child == 0) {
      become_child(server_mask);
      setpgid(0, 0);
      close(control_fd);
      redirect_child(output_path, error_path);
      free(output_path);
      free(error_path);
      return 1;
    }
    if (child < 0) {
      refuse_input(output_path, error_path, "cannot fork the server for this input");
      answer[0] = 70 << 8;
    } else {
      setpgid(child, child);
      answer[0] = wait_child(child, limit_ms, &answer[1]);
      if (!answer[1])
        say_unfinished_child(error_path, child, answer[0]);
    }
  }
  free(output_path);
  free(error_path);
  free(bytes);
  if (result == 0 && write_exactly(control_fd, answer, sizeof answer) != 0)
    result = -1;
  return result;
}

/* The fork server's own end, with status 0 for a guardian that is not its
 * parent (nginx's worker is the master's child). */
static void __attribute__((noreturn)) end_fork_server(void)
{
  comux_record_status(0);
  _exit(0);
}

/* AFL++'s fork-server protocol, for a server without AFL++'s runtime:
 * returns in each child, and in the process itself when no afl-fuzz
 * listens (a run by hand). */
static void
serve_afl_forks(void)
{
  uint32_t hello = 0;
  if (write_exactly(AFL_STATUS_FD, &hello, sizeof hello) != 0)
    return;
  for (;;) {
    uint32_t previous_timed_out;
    if (read_exactly(AFL_CONTROL_FD, &previous_timed_out, sizeof previous_timed_out) != 0)
      end_fork_server(); /* afl-fuzz is gone */
    pid_t child = fork_on_this_cpu();
    if (child == 0) {
      close(AFL_CONTROL_FD);
      close(AFL_STATUS_FD);
      return;
    }
    if (child < 0)
      _exit(70);
    int status = 0;
    if (write_exactly(AFL_STATUS_FD, &child, sizeof child) != 0)
      _exit(0);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
      ;
    kill(-child, SIGKILL);
    if (write_exactly(AFL_STATUS_FD, &status, sizeof status) != 0)
      _exit(0);
  }
}

/* A child forked for an input has only the thread that waited for a
 * client: Node.js (V8's and libuv's threads), a Go or Java server, a pool
 * of workers started before crash or hang in every child, with nothing to
 * say why but a SIGSEGV per input. Said once, when the fork server starts. */
static void
warn_threads(void)
{
  int threads = comux_thread_count();
  if (threads > 1)
    say(message_fd,
        "fork mode: process %d has %d threads when it waits for a client, and the child forked for each input "
        "has only the one that waits: a server that needs the others crashes or hangs in every child; "
        "replay it without fork mode",
        (int)getpid(), threads);
}

void
comux_serve_forks(void)
{
  warn_threads();
  sigset_t server_mask, no_child_signal;
  sigemptyset(&no_child_signal);
  sigaddset(&no_child_signal, SIGCHLD);
  /* The server's own SIGCHLD handler must not reap the children first. */
  sigprocmask(SIG_BLOCK, &no_child_signal, &server_mask);
  take_child_signal();
  note_server_cpus();
  comux_check_epoll_sets();
  if (fork_mode == COMUX_FORK_AFL) {
    void (*manual_init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "__afl_manual_init");
    LOG("AFL++ fork server %s at the first wait for a client", manual_init ? "of the server's runtime" : "of pdi");
    pid_t before = getpid();
    if (manual_init != NULL)
      manual_init();
    else
      serve_afl_forks();
    if (getpid() != before) {
      /* Forked by AFL++'s runtime, wherever the scheduler put it: at least
       * the controller thread starts on this CPU. */
      pin_to_this_cpu();
      become_child(&server_mask);
    } else {
      /* No afl-fuzz: this process replays its one input itself. */
      fork_mode = COMUX_FORK_NONE;
      sigaction(SIGCHLD, &server_child_action, NULL);
      sigprocmask(SIG_SETMASK, &server_mask, NULL);
    }
    /* AFL++ hands each run's input over on stdin (a file it rewinds). */
    comux_read_input(0);
    return;
  }
  if (comux_fork_control_open(1) != 0)
    _exit(2);
  fcntl(control_fd, F_SETFD, FD_CLOEXEC);
  comux_note_named_streams();
  child_progress = mmap(NULL, sizeof *child_progress, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (child_progress == MAP_FAILED)
    child_progress = NULL;
  LOG("fork server ready in process %d", (int)getpid());
  /* pdi holds the requests until then: the first one's time limit is what
   * the server's start left of it, and a child that outlasts it is killed
   * here, as any other, not with the whole server. */
  static const int32_t ready[2] = {-1, -1};
  if (write_exactly(control_fd, ready, sizeof ready) != 0)
    end_fork_server();
  for (;;) {
    int served = serve_request(&server_mask);
    if (served == 1)
      return;
    if (served < 0) {
      LOG("control channel closed: the fork server ends");
      end_fork_server();
    }
  }
}
