/*
 * Whether the server runs or rests, read from /proc: the state of each
 * thread of this process and of the processes it forked. The controller
 * asks it to tell the end of a reply and a hang from a slow reply; the
 * guardian, which processes are still there.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "comux.h"
#include "comux-accept.h"

/* The start of the file at `path` in `text`, NUL-terminated: its length,
 * -1 when it cannot be read. */
static ssize_t
read_start(const char *path, char *text, size_t size)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, text, size - 1);
  close(fd);
  text[n > 0 ? n : 0] = '\0';
  return n;
}

/* The state letter of a /proc stat file and the parent's pid, or 0 when
 * the process or thread is gone. */
static char
stat_state(const char *path, pid_t *parent)
{
  char text[512];
  if (read_start(path, text, sizeof text) <= 0)
    return 0;
  char *after = strrchr(text, ')');
  char state = 0;
  int ppid = 0;
  if (after == NULL || sscanf(after + 1, " %c %d", &state, &ppid) != 2)
    return 0;
  if (parent != NULL)
    *parent = (pid_t)ppid;
  return state;
}

char
comux_process_state(pid_t pid, pid_t *parent)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  return stat_state(path, parent);
}

/* The state letter of one thread of this process. */
char
comux_task_state(long tid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
  return stat_state(path, NULL);
}

/* Whose threads every_task walks: this process (pid 0) or another, the
 * caller's thread id, and how deep below the server a descendant lies. */
typedef struct task_walk {
  pid_t pid;
  long self;
  int depth;
} task_walk_t;

/* 1 when test holds for every thread of walk->pid, 0 when it fails for
 * one, -1 when /proc cannot be read. */
static int
every_task(const task_walk_t *walk, int (*test)(long tid, const task_walk_t *walk))
{
  char path[64] = "/proc/self/task";
  if (walk->pid != 0)
    snprintf(path, sizeof path, "/proc/%d/task", (int)walk->pid);
  /* getdents64 into the stack, not opendir: the controller thread asks this
   * every 0.2 ms, and its first malloc would give it an arena of its own (in
   * a fork server's child, fresh pages for every input). */
  int tasks = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tasks < 0)
    return -1;
  int all = 1;
  _Alignas(8) char entries[2048];
  long n;
  while (all && (n = syscall(SYS_getdents64, tasks, entries, sizeof entries)) > 0)
    for (long offset = 0; all && offset < n;) {
      const struct dirent64 *task = (const struct dirent64 *)(entries + offset);
      long tid = strtol(task->d_name, NULL, 10);
      if (tid > 0)
        all = test(tid, walk);
      offset += task->d_reclen;
    }
  close(tasks);
  return all;
}

/* The walk over this process's own threads. */
static task_walk_t
own_tasks(void)
{
  return (task_walk_t){0, (long)syscall(SYS_gettid), 0};
}

static int
not_running(long tid, const task_walk_t *walk)
{
  return tid == walk->self || comux_task_state(tid) != 'R';
}

/* How deep below the server running processes are looked for. */
#define DESCENDANT_DEPTH 4

static int descendant_running(pid_t pid, int depth);

/* Whether no child of thread `tid` of walk->pid, nor one of its own
 * descendants, is running. */
static int
no_child_running(long tid, const task_walk_t *walk)
{
  char path[96], list[512];
  snprintf(path, sizeof path, "/proc/%d/task/%ld/children", (int)walk->pid, tid);
  if (read_start(path, list, sizeof list) <= 0)
    return 1;
  for (char *cursor = list, *end = NULL;; cursor = end) {
    long child = strtol(cursor, &end, 10);
    if (end == cursor)
      return 1;
    if (child > 0 && (comux_process_state((pid_t)child, NULL) == 'R' ||
                      (walk->depth < DESCENDANT_DEPTH && descendant_running((pid_t)child, walk->depth + 1))))
      return 0;
  }
}

/* Whether a process that `pid` forked (from any of its threads), or one of
 * theirs, is running: a forking server's handler that spins while the
 * server itself waits for the next client. */
static int
descendant_running(pid_t pid, int depth)
{
  task_walk_t walk = {pid, 0, depth};
  return every_task(&walk, no_child_running) == 0;
}

/* A thread of this process but the caller runs, or a process it forked (or
 * one of theirs) does. */
static int
running_now(void)
{
  task_walk_t own = own_tasks();
  int none_running = every_task(&own, not_running);
  return none_running == 0 || (none_running == 1 && descendant_running(getpid(), 0));
}

int
comux_server_busy(void)
{
  for (int sample = 0; sample < 2; sample++) {
    if (sample > 0) {
      struct timespec pause = {0, 20000000};
      nanosleep(&pause, NULL);
    }
    if (!running_now())
      return 0;
  }
  return 1;
}

/* Whether the file at path is readable and empty. */
static int
empty_file(const char *path)
{
  char byte[2];
  return read_start(path, byte, sizeof byte) == 0;
}

int
comux_sleeps_on_timer(int syscall_fd)
{
  char text[32];
  ssize_t n = pread(syscall_fd, text, sizeof text - 1, 0);
  if (n <= 0)
    return 0;
  text[n] = '\0';
  char *end;
  long number = strtol(text, &end, 10);
  if (end == text)
    return 1; /* "running": it woke between the state and this read, or the kernel could not tell; look again */
  if (number == SYS_nanosleep || number == SYS_clock_nanosleep)
    return 1;
#ifdef SYS_clock_nanosleep_time64
  if (number == SYS_clock_nanosleep_time64)
    return 1;
#endif
  return 0;
}

/* Whether thread `tid` of this process sleeps in a timed sleep. */
static int
task_sleeps_on_timer(long tid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  int timed = comux_sleeps_on_timer(fd);
  close(fd);
  return timed;
}

/* A thread at rest: asleep, not in a timed sleep (the caller excepted),
 * with no child process. */
static int
at_rest(long tid, const task_walk_t *walk)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/children", tid);
  return empty_file(path) && (tid == walk->self || (comux_task_state(tid) == 'S' && !task_sleeps_on_timer(tid)));
}

int
comux_server_quiet(void)
{
  task_walk_t own = own_tasks();
  return every_task(&own, at_rest) == 1;
}

/* The replay is over and the server never came to rest (a forking server
 * whose handlers live on: a parent with a child is never at rest). Its own
 * threads tell nothing then (one may always run), but a process it forked
 * that runs on for timeout_ms after the last reply, as a handler that spins
 * after a partial reply does, hangs. */
void
comux_wait_for_running_children(void)
{
  long begin = comux_now_ms();
  struct timespec pause = {0, COMUX_REST_CHECK_NS};
  for (int asleep = 0; asleep < 5; nanosleep(&pause, NULL)) { /* 1 ms without a running child */
    asleep = descendant_running(getpid(), 0) ? 0 : asleep + 1;
    if (asleep > 0 || comux_now_ms() - begin < timeout_ms)
      continue;
    LOG("a process the server forked has run for %ld ms after the replay's last reply", timeout_ms);
    say(message_fd,
        "a process the server forked was still running %ld ms after the replay's last reply, instead of waiting "
        "or ending: it hangs",
        timeout_ms);
    comux_end_as_hang();
  }
}

/* A hang, a status of its own: a fuzzer must not take it for a normal run. */
void
comux_end_as_hang(void)
{
  comux_record_status(COMUX_EXIT_HANG);
  if (fork_mode == COMUX_FORK_AFL && forked_child)
    for (;;)
      pause(); /* AFL++ sees a hang only as its own time-out */
  _exit(COMUX_EXIT_HANG);
}

/* The replay is over, and the server, seen at rest before, has not come
 * back to rest: it may be on its way out. An interpreter's teardown closes
 * its sockets (the replay's last reply ends there) well before its exit(7),
 * and a fork-mode child's teardown is slower still (every page it frees is
 * copied first): the replay's exit(0) won, and the server's status was lost.
 * While a thread of the server runs, the replay waits for it to rest or end,
 * up to timeout_ms; still running then, it hangs. */
void
comux_wait_for_running_server(void)
{
  if (comux_settled(-1))
    return;
  LOG("the replay is over and the server runs: waiting for it to rest or end");
  long begin = comux_now_ms();
  struct timespec pause = {0, COMUX_REST_CHECK_NS};
  for (int asleep = 0; asleep < 5; nanosleep(&pause, NULL)) { /* 1 ms without a running thread */
    if (comux_settled(-1))
      return;
    /* A process it forked counts: a handler of a forking server that spins after a partial reply hangs too. */
    asleep = running_now() ? 0 : asleep + 1;
    if (comux_now_ms() - begin < timeout_ms)
      continue;
    if (comux_server_busy()) {
      say(message_fd,
          "the server was still running %ld ms after the replay's last reply, instead of waiting for a client again "
          "or ending: it hangs",
          timeout_ms);
      comux_end_as_hang();
    }
    return;
  }
}
