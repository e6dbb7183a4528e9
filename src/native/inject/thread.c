/* The one thread pdi-inject stops and borrows for its calls. Every other
 * thread of the target keeps running: a thread stopped while it holds a
 * lock that dlopen or malloc needs would deadlock the call. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/process-start.h"
#include "inject.h"

static inject_thread_t *held;

static int
in_ranges(const inject_ranges_t *ranges, uintptr_t pc)
{
  for (unsigned i = 0; i < ranges->count; i++)
    if (pc >= ranges->list[i].start && pc < ranges->list[i].end)
      return 1;
  return 0;
}

/* Keeps a signal that reached the thread while it was borrowed, to give it
 * back when the thread is released: delivered in the middle of the
 * borrowed call, a handler that longjmps would leave the call unfinished.
 * Every real-time signal is kept (they queue); a standard one once. */
static void
defer_signal(inject_thread_t *thread, int sig)
{
  siginfo_t info;
  if (ptrace(PTRACE_GETSIGINFO, thread->tid, NULL, &info) != 0) {
    memset(&info, 0, sizeof info);
    info.si_signo = sig;
  }
  for (size_t i = 0; sig < SIGRTMIN && i < thread->deferred_count; i++)
    if (thread->deferred[i].si_signo == sig)
      return;
  if (thread->deferred_count == thread->deferred_cap) {
    size_t cap = thread->deferred_cap ? 2 * thread->deferred_cap : 16;
    siginfo_t *grown = realloc(thread->deferred, cap * sizeof *grown);
    if (grown == NULL)
      inject_fail("out of memory keeping the signals of thread %d", (int)thread->tid);
    thread->deferred = grown;
    thread->deferred_cap = cap;
  }
  thread->deferred[thread->deferred_count++] = info;
}

/* Sends a kept signal again, once the thread runs untraced: with its
 * siginfo where the kernel lets another process queue one (sigqueue's
 * negative codes), else as the plain signal. A real-time signal finds the
 * queue full (RLIMIT_SIGPENDING, EAGAIN) when many came while the thread was
 * borrowed; the thread empties it as it runs, so the send is tried again for
 * up to 10 s. 0 when the signal is queued (or the thread is gone), -1 when it
 * is not. */
static int
resend_signal(const inject_thread_t *thread, const siginfo_t *info)
{
  const struct timespec pause = {0, 200 * 1000};
  for (int attempt = 0; attempt < 50000; attempt++) {
    if (info->si_code < 0 && info->si_code != SI_TKILL &&
        syscall(SYS_rt_tgsigqueueinfo, thread->pid, thread->tid, info->si_signo, info) == 0)
      return 0;
    if (syscall(SYS_tgkill, thread->pid, thread->tid, info->si_signo) == 0)
      return 0;
    if (errno != EAGAIN)
      return errno == ESRCH ? 0 : -1;
    nanosleep(&pause, NULL);
  }
  return -1;
}

/* Waits for the interrupt's stop of a freshly seized thread: 1 when the
 * thread is stopped and ours, 0 when it is gone. Signals that arrive first
 * go on to the program as if nothing happened. */
static int
wait_interrupted(pid_t pid, pid_t tid)
{
  for (;;) {
    int status;
    if (waitpid(tid, &status, __WALL) < 0)
      return 0;
    if (!WIFSTOPPED(status))
      return 0;
    if (status >> 16 == PTRACE_EVENT_STOP) {
      if (WSTOPSIG(status) != SIGTRAP) {
        /* A group stop: the process is stopped (SIGSTOP, Ctrl-Z). */
        ptrace(PTRACE_DETACH, tid, NULL, NULL);
        inject_fail("process %d is stopped (by SIG%s): continue it first (kill -CONT %d, or fg in its shell)", (int)pid,
                    sigabbrev_np(WSTOPSIG(status)) ? sigabbrev_np(WSTOPSIG(status)) : "?", (int)pid);
      }
      return 1;
    }
    if (ptrace(PTRACE_CONT, tid, NULL, (void *)(uintptr_t)WSTOPSIG(status)) != 0)
      return 0;
  }
}

/* The tracer of thread `tid` (TracerPid), 0 when none; its command name in
 * `comm` (empty when unreadable). */
static pid_t
tracer_of(pid_t pid, pid_t tid, char *comm, size_t size)
{
  char name[96];
  snprintf(name, sizeof name, "/proc/%d/task/%d/status", (int)pid, (int)tid);
  FILE *status = fopen(name, "r");
  long tracer = 0;
  comm[0] = '\0';
  if (status == NULL)
    return 0;
  char line[256];
  while (fgets(line, sizeof line, status) != NULL)
    if (sscanf(line, "TracerPid: %ld", &tracer) == 1)
      break;
  fclose(status);
  snprintf(name, sizeof name, "/proc/%ld/comm", tracer);
  FILE *file = tracer > 0 ? fopen(name, "r") : NULL;
  if (file != NULL) {
    if (fgets(comm, (int)size, file) == NULL)
      comm[0] = '\0';
    comm[strcspn(comm, "\n")] = '\0';
    fclose(file);
  }
  return (pid_t)tracer;
}

/* PTRACE_SEIZE of a thread that another pdi-inject holds for a moment (a
 * second pdi attaching or detaching at the same time) is retried until that
 * one has finished, up to 10 s: the operations then run one after the
 * other, and the second meets the first's session ("already attached")
 * instead of a passing tracer. A tracer that has just let go (TracerPid 0
 * by the time it is read) is retried a few times too. Any other EPERM is
 * the caller's to word (INJECT_NOT_PERMITTED). */
static int
seize_waiting(pid_t pid, pid_t tid)
{
  const struct timespec pause = {0, 2 * 1000 * 1000};
  int untraced = 0;
  for (int attempt = 0; attempt < 5000; attempt++) {
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) == 0)
      return 1;
    if (errno != EPERM)
      return 0; /* ESRCH: the thread has just exited */
    char comm[64];
    pid_t tracer = tracer_of(pid, tid, comm, sizeof comm);
    if (tracer == 0 ? ++untraced > 3 : strncmp(comm, "pdi-inject", 10) != 0)
      break;
    nanosleep(&pause, NULL);
  }
  exit(INJECT_NOT_PERMITTED);
}

static int
seize(pid_t pid, pid_t tid)
{
  if (!seize_waiting(pid, tid))
    return 0;
  if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0 || !wait_interrupted(pid, tid)) {
    ptrace(PTRACE_DETACH, tid, NULL, NULL);
    return 0;
  }
  return 1;
}

/* Whether the 32 KiB of stack above `sp` (or as much as is mapped) hold an
 * address in lock_code: the return address of a call still running, or a
 * stale word (a false alarm only makes the thread a last resort). */
static int
may_hold_locks(const inject_target_t *target, pid_t tid, uintptr_t sp)
{
  static uintptr_t words[4096];
  struct iovec local = {words, sizeof words}, remote = {(void *)sp, sizeof words};
  ssize_t got = process_vm_readv(tid, &local, 1, &remote, 1, 0);
  for (ssize_t i = 0; i < got / (ssize_t)sizeof words[0]; i++)
    if (in_ranges(&target->lock_code, words[i]))
      return 1;
  return 0;
}

/* How good a place `regs` is to borrow a thread at: 2 blocked in a system
 * call (it holds no lock of the loader or malloc's in a running state), 1
 * in code outside the loader, the C library and pdi, 0 anywhere else
 * outside the loader and pdi, or with a call of the allocator or the loader
 * on its stack (the last resort), -1 in the loader or pdi (never: the
 * loader's lock, or an install half done). */
static int
place(const inject_target_t *target, pid_t tid, const pdi_inject_regs_t *regs)
{
  uintptr_t pc = pdi_inject_arch_pc(regs);
  if (in_ranges(&target->loader, pc) || in_ranges(&target->core, pc))
    return -1;
  if (may_hold_locks(target, tid, pdi_inject_arch_sp(regs)))
    return 0;
  if (pdi_inject_arch_in_syscall(regs))
    return 2;
  return in_ranges(&target->libc_code, pc) ? 0 : 1;
}

static int
list_threads(pid_t pid, pid_t *tids, int max)
{
  /* Tests choose the thread, to interrupt each kind of blocking call. */
  const char *forced = getenv("PDI_INJECT_THREAD");
  char name[64];
  if (forced != NULL && atoi(forced) > 0) {
    snprintf(name, sizeof name, "/proc/%d/task/%d", (int)pid, atoi(forced));
    if (access(name, F_OK) != 0)
      inject_fail("process %d has no thread %s", (int)pid, forced);
    tids[0] = (pid_t)atoi(forced);
    return 1;
  }
  snprintf(name, sizeof name, "/proc/%d/task", (int)pid);
  DIR *dir = opendir(name);
  if (dir == NULL)
    inject_fail("no such process: %d", (int)pid);
  int count = 0;
  /* The main thread first: in most programs it waits in a system call;
   * not when it has ended (pthread_exit) while the others run on. */
  if (pdi_process_state(pid) != 'Z')
    tids[count++] = pid;
  for (struct dirent *entry; count < max && (entry = readdir(dir)) != NULL;) {
    pid_t tid = (pid_t)atoi(entry->d_name);
    if (tid > 0 && tid != pid)
      tids[count++] = tid;
  }
  closedir(dir);
  return count;
}

/* Tries each thread once; 1 when one at a place at least `wanted` is held. */
static int
try_threads(inject_thread_t *thread, const inject_target_t *target, int wanted)
{
  pid_t tids[512];
  int count = list_threads(target->pid, tids, 512);
  for (int i = 0; i < count; i++) {
    if (!seize(target->pid, tids[i]))
      continue;
    thread->pid = target->pid;
    thread->tid = tids[i];
    if (pdi_inject_arch_get(tids[i], &thread->saved, 1) == 0 && place(target, tids[i], &thread->saved) >= wanted)
      return 1;
    ptrace(PTRACE_DETACH, tids[i], NULL, NULL);
  }
  return 0;
}

void
inject_thread_hold(inject_thread_t *thread, const inject_target_t *target)
{
  memset(thread, 0, sizeof *thread);
  /* Several rounds, waiting a little between them, before settling for a
   * thread that runs in the C library (it might be inside malloc). */
  for (int round = 0; round < 60; round++) {
    int wanted = getenv("PDI_INJECT_THREAD") != NULL ? 0 : round < 20 ? 2 : round < 40 ? 1 : 0;
    if (try_threads(thread, target, wanted)) {
      thread->scratch = pdi_inject_arch_stack_floor(&thread->saved);
      held = thread;
      return;
    }
    struct timespec pause = {0, 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  inject_fail("process %d: no thread stopped outside the dynamic loader and pdi; try again", (int)target->pid);
}

/* Word by word with PTRACE_POKEDATA: the tracer may always write there,
 * whatever ptrace_scope says of /proc/PID/mem. A partial last word keeps
 * the bytes it had. */
static void
write_memory(inject_thread_t *thread, uintptr_t at, const void *data, size_t size)
{
  for (size_t done = 0; done < size; done += sizeof(long)) {
    long word = 0;
    size_t chunk = size - done < sizeof word ? size - done : sizeof word;
    if (chunk < sizeof word) {
      errno = 0;
      word = ptrace(PTRACE_PEEKDATA, thread->tid, (void *)(at + done), NULL);
      if (errno != 0)
        inject_fail("reading the stack of thread %d failed: %s", (int)thread->tid, strerror(errno));
    }
    memcpy(&word, (const char *)data + done, chunk);
    if (ptrace(PTRACE_POKEDATA, thread->tid, (void *)(at + done), (void *)word) != 0)
      inject_fail("writing to the stack of thread %d failed: %s", (int)thread->tid, strerror(errno));
  }
}

uintptr_t
inject_push(inject_thread_t *thread, const void *data, size_t size)
{
  thread->scratch = (thread->scratch - size) & ~(uintptr_t)15;
  write_memory(thread, thread->scratch, data, size);
  return thread->scratch;
}

void
inject_read_string(inject_thread_t *thread, uintptr_t address, char *out, size_t size)
{
  size_t used = 0;
  while (address != 0 && used + 1 < size) {
    errno = 0;
    long word = ptrace(PTRACE_PEEKDATA, thread->tid, (void *)(address + used), NULL);
    if (errno != 0)
      break;
    size_t chunk = sizeof word < size - 1 - used ? sizeof word : size - 1 - used;
    memcpy(out + used, &word, chunk);
    void *nul = memchr(out + used, '\0', chunk);
    used += chunk;
    if (nul != NULL)
      return;
  }
  out[used] = '\0';
}

/* Whether the stop is the return of an injected call: the fault at the
 * return address 0 (SIGSEGV, or SIGTRAP on machines that trap instead). */
static int
returned(const pdi_inject_regs_t *regs, int sig)
{
  return (sig == SIGSEGV || sig == SIGTRAP) && pdi_inject_arch_pc(regs) == 0;
}

/* Whether thread `tid` of `pid` sleeps in a futex wait now (its
 * /proc/PID/task/TID/syscall starts with the futex number). */
static int
waits_in_futex(pid_t pid, pid_t tid)
{
  char name[64], line[64] = "";
  snprintf(name, sizeof name, "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
  FILE *file = fopen(name, "re");
  if (file == NULL)
    return 0;
  int got = fgets(line, sizeof line, file) != NULL;
  fclose(file);
  return got && atol(line) == SYS_futex;
}

/* How long the borrowed thread may sleep in futex waits without a break
 * before its call counts as deadlocked: in milliseconds, PDI_INJECT_STUCK_MS
 * (tests) or 5 s. A call that computes (a large install) never counts. */
static long
stuck_limit_ms(void)
{
  const char *text = getenv("PDI_INJECT_STUCK_MS");
  long value = text != NULL ? atol(text) : 0;
  return value > 0 ? value : 5000;
}

/* The call waits for a lock that nothing will release, most likely one its
 * own thread holds below the borrowed frame (inside malloc_stats, blocked
 * in a write; a signal handler that interrupted malloc and never returns):
 * the thread is put back where it was, which lets its own work go on and
 * release that lock, and pdi says what stays behind. */
static _Noreturn void
give_up_stuck_call(inject_thread_t *thread, long waited_ms)
{
  int status = 0;
  if (ptrace(PTRACE_INTERRUPT, thread->tid, NULL, NULL) == 0)
    while (waitpid(thread->tid, &status, __WALL) < 0 && errno == EINTR)
      ;
  inject_thread_release(thread);
  inject_fail("the call into process %d did not return: thread %d waited %ld ms for a lock that it most likely holds "
              "itself (it was inside malloc or the loader when pdi borrowed it); it is back where it was, but what "
              "the call had begun (a dlopen) stays half done, and the process may hang in a later dlopen or malloc",
              (int)thread->pid, (int)thread->tid, waited_ms);
}

/* Ticks of SIGALRM every 100 ms while a call runs: waitpid returns EINTR
 * at each, and the thread's wait is checked (a stop still returns at once:
 * a signal storm costs no polling delay per stop). */
#define TICK_MS 100

static void
tick(int sig)
{
  (void)sig;
}

static void
arm_ticks(int on)
{
  if (on) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = tick; /* no SA_RESTART: waitpid returns */
    sigemptyset(&action.sa_mask);
    sigaction(SIGALRM, &action, NULL);
  }
  struct itimerval every = {{0, on ? TICK_MS * 1000 : 0}, {0, on ? TICK_MS * 1000 : 0}};
  setitimer(ITIMER_REAL, &every, NULL);
}

/* Waits for the borrowed thread's next stop, as waitpid does, unless it
 * sleeps in futex waits for longer than stuck_limit_ms, counted in *stuck
 * across the stops of one call. */
static pid_t
wait_for_stop(inject_thread_t *thread, int *status, long *stuck)
{
  long limit = stuck_limit_ms();
  for (;;) {
    pid_t got = waitpid(thread->tid, status, __WALL);
    if (got >= 0 || errno != EINTR)
      return got;
    *stuck = waits_in_futex(thread->pid, thread->tid) ? *stuck + TICK_MS : 0;
    if (*stuck >= limit) {
      arm_ticks(0);
      give_up_stuck_call(thread, *stuck);
    }
  }
}

uintptr_t
inject_call(inject_thread_t *thread, uintptr_t fn, const uintptr_t *args, unsigned count)
{
  pdi_inject_regs_t call;
  pdi_inject_frame_t frame;
  if (pdi_inject_arch_prepare(&thread->saved, &call, fn, args, count, thread->scratch, &frame) != 0)
    inject_fail("internal error: too many arguments for an injected call");
  write_memory(thread, frame.at, frame.bytes, frame.len);
  if (pdi_inject_arch_set(thread->tid, &call, 0) != 0 || ptrace(PTRACE_CONT, thread->tid, NULL, NULL) != 0)
    inject_fail("starting a call in thread %d failed: %s", (int)thread->tid, strerror(errno));
  long stuck = 0;
  arm_ticks(1);
  for (;;) {
    int status = 0;
    if (wait_for_stop(thread, &status, &stuck) < 0 || !WIFSTOPPED(status)) {
      held = NULL; /* nothing left to give back */
      const char *signal = WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : NULL;
      if (signal != NULL)
        inject_fail("process %d ended while pdi was calling into it (killed by SIG%s): nothing is left to detach",
                    (int)thread->pid, signal);
      inject_fail("process %d ended while pdi was calling into it: nothing is left to detach", (int)thread->pid);
    }
    int sig = WSTOPSIG(status);
    if (status >> 16 == 0) {
      if (pdi_inject_arch_get(thread->tid, &call, 0) != 0)
        inject_fail("reading the registers of thread %d failed: %s", (int)thread->tid, strerror(errno));
      if (returned(&call, sig)) {
        arm_ticks(0);
        return pdi_inject_arch_result(&call);
      }
      if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT)
        inject_fail("the call in thread %d crashed with signal %d at %#lx; the process may be damaged",
                    (int)thread->tid, sig, (unsigned long)pdi_inject_arch_pc(&call));
      defer_signal(thread, sig);
    }
    /* An interrupt or group stop meanwhile: the call goes on. */
    if (ptrace(PTRACE_CONT, thread->tid, NULL, NULL) != 0)
      inject_fail("resuming thread %d failed: %s", (int)thread->tid, strerror(errno));
  }
}

int
inject_thread_release(inject_thread_t *thread)
{
  held = NULL;
  int status = 0;
  /* Exactly as they were, orig_rax included: a thread stopped in a system
   * call then restarts it (a -ERESTART* result) when it resumes. */
  if (pdi_inject_arch_set(thread->tid, &thread->saved, 1) != 0) {
    fprintf(stderr, "restoring the registers of thread %d failed: %s\n", (int)thread->tid, strerror(errno));
    status = -1;
  }
  /* The first kept signal goes with the detach itself, siginfo and all. */
  int first = thread->deferred_count > 0 ? thread->deferred[0].si_signo : 0;
  if (first != 0)
    ptrace(PTRACE_SETSIGINFO, thread->tid, NULL, &thread->deferred[0]);
  ptrace(PTRACE_DETACH, thread->tid, NULL, (void *)(uintptr_t)first);
  size_t lost = 0;
  for (size_t i = 1; i < thread->deferred_count; i++)
    lost += resend_signal(thread, &thread->deferred[i]) != 0;
  /* The attach or detach itself went through: a warning, not a failure. */
  if (lost != 0)
    fprintf(
        stderr,
        "warning: %zu of the %zu signals that reached thread %d while it was borrowed could not be given back: %s\n",
        lost, thread->deferred_count, (int)thread->tid, strerror(errno));
  free(thread->deferred);
  thread->deferred = NULL;
  thread->deferred_count = thread->deferred_cap = 0;
  return status;
}

void
inject_release_held(void)
{
  if (held != NULL)
    inject_thread_release(held);
}
