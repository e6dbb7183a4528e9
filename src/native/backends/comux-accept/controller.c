/*
 * The controller thread of comux-accept (docs/comux.md "The backend", steps
 * 3 to 5): it opens the input's connections to the server's listening
 * address, sends each chunk in schedule order, one event at a time, writes
 * the replies to the stdout the process started with, and ends the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include "comux.h"
#include "comux-accept.h"

long
comux_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first error writing the replies (0: none), said at the end of the
 * replay: its status must not claim a replay whose replies were lost. */
static int output_errno;

static void
write_output(const unsigned char *data, size_t length)
{
  while (length > 0 && output_errno == 0) {
    ssize_t n = write(output_fd, data, length);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      /* A stdout someone made non-blocking: wait until it takes more. */
      struct pollfd writable = {.fd = output_fd, .events = POLLOUT};
      poll(&writable, 1, -1);
      continue;
    }
    if (n <= 0) {
      output_errno = n < 0 ? errno : EIO;
      return;
    }
    data += n;
    length -= (size_t)n;
  }
}

/* A fatal signal in a thread of the server while the controller collects a
 * reply: the bytes the server wrote just before it crashed are in the
 * controller's socket, and the signal's default action would end the
 * process before the controller read them (the reply to the request that
 * crashed the server went missing). The crashing thread asks (1) and waits
 * up to CRASH_DRAIN_MS; the controller, at its next step, copies what its
 * current connection holds to the output, says so (2) and stops there. */
#define CRASH_DRAIN_MS 200
static int crash_drain;
static pid_t controller_tid, controller_pid;

/* At each of the controller's steps: when a crash asks for it, the rest of
 * fd's reply (fd -1: none) and the controller's end. */
static void
crash_checkpoint(int fd)
{
  if (__atomic_load_n(&crash_drain, __ATOMIC_ACQUIRE) != 1)
    return;
  unsigned char buffer[4096];
  ssize_t n;
  while (fd >= 0 && (n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0)
    write_output(buffer, (size_t)n);
  __atomic_store_n(&crash_drain, 2, __ATOMIC_RELEASE);
  for (;;)
    pause(); /* every signal blocked: the crashing thread ends the process */
}

void
comux_drain_before_crash(void)
{
  pid_t controller = __atomic_load_n(&controller_tid, __ATOMIC_ACQUIRE);
  if (controller == 0 || controller_pid != getpid() || controller == (pid_t)syscall(SYS_gettid))
    return;
  int idle = 0;
  if (!__atomic_compare_exchange_n(&crash_drain, &idle, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return; /* another thread crashed first */
  struct timespec step = {0, 1000000};
  for (int waited = 0; waited < CRASH_DRAIN_MS && __atomic_load_n(&crash_drain, __ATOMIC_ACQUIRE) != 2; waited++)
    syscall(SYS_nanosleep, &step, NULL);
}

/* Replies that could not be written end the process as a failed write
 * ends any program: a reader that has gone (EPIPE) by SIGPIPE, whatever the
 * server made of SIGPIPE (status 141 from pdi), another error (a full
 * disk) with a line saying so and status 2. */
static void
end_for_lost_replies(void)
{
  if (output_errno == 0)
    return;
  if (output_errno == EPIPE) {
    struct sigaction fatal = {.sa_handler = SIG_DFL};
    sigaction(SIGPIPE, &fatal, NULL);
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_UNBLOCK, &pipe_only, NULL);
    raise(SIGPIPE);
  }
  say(message_fd, "the replies could not be written to standard output: %s", strerror(output_errno));
  _exit(2);
}

/* A reply timed out with no byte and the server still running: the replay
 * ends as a hang. */
static void
hang(uint32_t chunk, const char *stalled)
{
  say(message_fd, "the server %s chunk %u within %ld ms and is still running: it hangs", stalled, chunk, timeout_ms);
  comux_end_as_hang();
}

/* Sends a chunk whole. A server that answers while it reads (an echo, a
 * pipelined HTTP stream) fills the controller's receive buffer while the
 * controller fills its own: each would wait for the other for ever. So while
 * the server takes no more, what it has answered on the connection is
 * collected (to the output, as the chunk's reply, in order). timeout_ms
 * without a byte either way is a hang when the server runs, and otherwise
 * ends the send (the server reads nothing more: it waits for something
 * else); 0, or -1 with errno. */
static int
send_chunk(int fd, const comux_chunk_t *chunk, size_t *collected)
{
  const unsigned char *data = chunk->data;
  size_t sent = 0;
  long progress = comux_now_ms();
  while (sent < chunk->len) {
    ssize_t n = send(fd, data + sent, chunk->len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += (size_t)n;
      progress = comux_now_ms();
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      return -1;
    crash_checkpoint(fd);
    long left = timeout_ms - (comux_now_ms() - progress);
    if (left <= 0) {
      if (comux_server_busy())
        hang(chunk->index, "read nothing more of");
      say(message_fd, "chunk %u: the server read nothing more of it for %ld ms: its last %zu bytes were not sent",
          chunk->index, timeout_ms, chunk->len - sent);
      return 0;
    }
    struct pollfd ready = {fd, POLLIN | POLLOUT, 0};
    struct timespec wait = {left / 1000, (left % 1000) * 1000000};
    if (ppoll(&ready, 1, &wait, NULL) <= 0 || !(ready.revents & POLLIN))
      continue;
    unsigned char buffer[16384];
    ssize_t got;
    while ((got = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0) {
      write_output(buffer, (size_t)got);
      *collected += (size_t)got;
      progress = comux_now_ms();
    }
  }
  return 0;
}

/* The server was seen at rest in this replay: its rest can be seen. */
static int rested;
/* Looks without waiting after the request and after each byte, the CPU
 * given up between them: a fork-mode child runs on one CPU (forks.c), so
 * the server finishes what it was doing meanwhile, and a reply at rest ends
 * without waiting 0.2 ms for it. */
#define QUICK_CHECKS 3

/* Copies the server's reply to the output until it closes or shuts down its
 * side, the server is at rest with everything read and written on the
 * connection (replies.c; unless PDI_COMUX_IDLE_ONLY), no byte comes for
 * idle_ms after the last one, or timeout_ms pass; with no byte by then and
 * the server running, the replay ends as a hang. */
static size_t
collect_reply(int fd, uint32_t chunk)
{
  unsigned char buffer[65536];
  long start = comux_now_ms();
  long last = -1, unaccepted_since = -1;
  size_t total = 0;
  int quick = QUICK_CHECKS;
  for (;;) {
    crash_checkpoint(fd);
    long now = comux_now_ms();
    long left = timeout_ms - (now - start);
    if (left <= 0 && last < 0 && comux_server_busy())
      hang(chunk, "sent nothing for");
    if (last >= 0 && idle_ms - (now - last) < left)
      left = idle_ms - (now - last);
    if (left <= 0)
      break;
    struct pollfd waiting = {fd, POLLIN, 0};
    struct timespec wait = {left / 1000, (left % 1000) * 1000000};
    if (detect_rest && quick > 0)
      wait = (struct timespec){0, 0};
    else if (detect_rest && (wait.tv_sec > 0 || wait.tv_nsec > COMUX_REST_CHECK_NS))
      wait = (struct timespec){0, COMUX_REST_CHECK_NS};
    int ready = ppoll(&waiting, 1, &wait, NULL);
    if (ready == 0 && detect_rest && comux_reply_over(fd)) {
      rested = 1;
      LOG("chunk %u: the server is at rest", chunk);
      break;
    }
    if (ready == 0 && quick > 0 && --quick > 0)
      sched_yield();
    /* Not accepted, and the server rests (it waits on another connection):
     * nothing comes until the client does more; idle_ms of that is a reply. */
    if (ready == 0 && detect_rest && last < 0 && comux_connection_waits(fd)) {
      if (unaccepted_since < 0)
        unaccepted_since = comux_now_ms();
      else if (comux_now_ms() - unaccepted_since >= idle_ms) {
        LOG("chunk %u: the connection waits to be accepted and the server is at rest", chunk);
        break;
      }
    } else if (ready == 0)
      unaccepted_since = -1;
    if (ready == 0 || (ready < 0 && errno == EINTR))
      continue; /* the deadlines are looked at again above */
    if (ready < 0)
      break;
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    write_output(buffer, (size_t)n);
    total += (size_t)n;
    last = comux_now_ms();
    quick = QUICK_CHECKS;
  }
  return total;
}

/* Cleared when the server could not be seen at rest within idle_ms: then
 * it never will be (a thread that keeps running, a child process), and
 * waiting for it before each step would only cost idle_ms each time. */
static int settling = 1;

/* One event at a time: after a connection is opened, after data that is not
 * awaited, before a shutdown and after a close (fd -1 then), the server
 * handles what it got and comes to rest before the next step. Otherwise how
 * the events fall into its reads and waits would depend on the scheduler (a
 * connect seen with its data or without, data and end of file read together
 * or apart), and an input would not take the same path twice, which a
 * fuzzer counts against it (AFL++'s stability). */
static void
settle(int fd)
{
  if (!detect_rest || no_wait || !settling)
    return;
  long begin = comux_now_ms();
  for (int tries = 0;; tries++) {
    crash_checkpoint(fd);
    sched_yield();
    if (comux_settled(fd)) {
      rested = 1;
      return;
    }
    if (comux_now_ms() - begin >= idle_ms) {
      LOG("the server did not come to rest within %ld ms: later steps do not wait for it", idle_ms);
      settling = 0;
      return;
    }
    if (tries >= QUICK_CHECKS) {
      struct timespec pause = {0, COMUX_REST_CHECK_NS};
      nanosleep(&pause, NULL);
    }
  }
}

/* The controller's client sockets, while it runs. A server that forks per
 * connection (mini_httpd) would hand each child a copy of the client end of
 * its own connection: the child would never see the client close, and would
 * linger until its own timeout. Forked children close them (Linux has no
 * close-on-fork flag); the controller thread does not exist there. A socket
 * is made and noted, and forgotten and closed, under the lock a fork takes
 * (clients_lock): a number closed but still noted, which the server gets
 * again for its next connection, would be closed in the child it forks for
 * that connection (busybox httpd: "can't duplicate file descriptor"; a
 * mini_httpd reply lost under PDI_COMUX_NO_WAIT). */
static int *client_fds;
static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;

static void
lock_clients_for_fork(void)
{
  comux_prepare_fork();
  pthread_mutex_lock(&clients_lock);
}

static void
unlock_clients_in_parent(void)
{
  pthread_mutex_unlock(&clients_lock);
}

static void
close_clients_in_child(void)
{
  comux_watch_forked();
  int *fds = __atomic_load_n(&client_fds, __ATOMIC_ACQUIRE);
  if (fds != NULL)
    for (uint32_t c = 0; c < doc.num_conns; c++)
      if (fds[c] >= 0)
        close(fds[c]);
  client_fds = NULL;
  pthread_mutex_unlock(&clients_lock);
}

static void
close_client(int *slot)
{
  pthread_mutex_lock(&clients_lock);
  int fd = *slot;
  __atomic_store_n(slot, -1, __ATOMIC_RELEASE);
  if (fd >= 0)
    close(fd);
  pthread_mutex_unlock(&clients_lock);
}

static int
open_connection(uint32_t conn, int *slot)
{
  struct sockaddr_storage address;
  socklen_t length;
  comux_listener(&address, &length);
  if (address.ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&address;
    if (in->sin_addr.s_addr == htonl(INADDR_ANY))
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (address.ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address;
    if (memcmp(&in6->sin6_addr, &in6addr_any, sizeof in6addr_any) == 0)
      in6->sin6_addr = in6addr_loopback;
  }
  /* Known before the server can accept it: a child it forks for this
   * connection closes it (close_clients_in_child). */
  pthread_mutex_lock(&clients_lock);
  int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  __atomic_store_n(slot, fd < 0 ? -1 : fd, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&clients_lock);
  if (fd < 0) {
    say(message_fd, "connection %u: socket: %s", conn, strerror(errno));
    return -1;
  }
  while (connect(fd, (struct sockaddr *)&address, length) != 0) {
    if (errno == EINTR)
      continue;
    say(message_fd, "connection %u: connect: %s", conn, strerror(errno));
    close_client(slot);
    return -1;
  }
  /* Each chunk leaves at once: Nagle's algorithm held a short chunk sent after a reply until the server's delayed
   * ACK (40 ms), and the rest test, which found nothing in the server's queues, closed the connection meanwhile. */
  int one = 1;
  if (address.ss_family == AF_INET || address.ss_family == AF_INET6)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  LOG("connection %u opened (fd %d)", conn, fd);
  return fd;
}

/* The thread that ends the replaying process, 0 before. The server's exit
 * handlers run in it: socat's shuts down its listening socket, and its main
 * thread, blocked in accept(), took that for an error and called exit(1)
 * itself, racing the controller's exit(0): the status of a replay depended
 * on the scheduler. A thread of the server that returns from a wait for a
 * client meanwhile stays in the wrapper while the finishing thread runs:
 * when that thread sleeps instead (an exit handler that joins the thread
 * it woke), the wait returns, so that nothing waits on the other forever. */
static pid_t finishing_thread;

void
comux_hold_if_finishing(void)
{
  pid_t finisher = __atomic_load_n(&finishing_thread, __ATOMIC_ACQUIRE);
  if (finisher == 0 || finisher == (pid_t)syscall(SYS_gettid))
    return;
  struct timespec step = {0, 200000}; /* 0.2 ms */
  int asleep = 0;
  for (long waited = 0; asleep < 5 && waited < timeout_ms * 5; waited++) {
    char state = comux_task_state(finisher);
    asleep = state == 'R' ? 0 : asleep + 1; /* 1 ms asleep in a row, or gone */
    nanosleep(&step, NULL);
  }
}

/* A server that exits in the middle of its replay (one that serves one
 * connection and ends), or that executes another program in the process
 * that replays (busybox nc -e execs the program that serves in the process
 * that accepted: the controller thread goes with the exec), ended the replay
 * with its status and the replies from there on missing, without a word. */
void
comux_say_unfinished(int fd, pid_t pid, int status, const comux_progress_t *progress)
{
  if (!WIFEXITED(status) || __atomic_load_n(&progress->done, __ATOMIC_ACQUIRE) ||
      __atomic_load_n(&progress->exited, __ATOMIC_ACQUIRE))
    return;
  uint32_t started = __atomic_load_n(&progress->chunks_started, __ATOMIC_ACQUIRE);
  char where[96] = "before its first chunk";
  if (started > 0)
    snprintf(where, sizeof where, "at chunk %u (%u of %u in schedule order)", doc.chunks[doc.order[started - 1]].index,
             started, doc.num_chunks);
  say(fd,
      "process %d, which replayed, exited with status %d %s, before the replay was over: what the replay had not "
      "collected by then is missing (a server that exits, or executes another program in the process that accepted, "
      "as busybox nc -e does, ends its replay)",
      (int)pid, WEXITSTATUS(status), where);
}

static void
finish(void)
{
  if (detect_rest && !no_wait && rested)
    comux_wait_for_running_server();
  else if (detect_rest && !no_wait)
    comux_wait_for_running_children();
  crash_checkpoint(-1); /* a crash, not this exit, ends the process */
  __atomic_store_n(&finishing_thread, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
  LOG("replay complete");
  comux_end_like_forked();
  if (forked_child && !exit_immediate)
    comux_spare_listeners();
  comux_progress_t *progress = comux_progress();
  if (progress != NULL)
    __atomic_store_n(&progress->done, 1, __ATOMIC_RELEASE);
  end_for_lost_replies();
  if (exit_immediate)
    _exit(0);
  exit(0);
}

static void *
controller(void *unused)
{
  (void)unused;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  controller_pid = getpid();
  __atomic_store_n(&controller_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
  /* A thread of the server that exits while the controller collects (a
   * server that serves one connection: it answers, reads the end of file and
   * returns from main) ended the process with the reply it wrote before in
   * the controller's socket, not yet copied: the reply came out in some runs
   * and not in others. The exit waits for the controller as a crash does. */
  atexit(comux_drain_before_crash);
  comux_watch_claimer_end();
  int *fds = __atomic_load_n(&client_fds, __ATOMIC_ACQUIRE);
  pthread_atfork(lock_clients_for_fork, unlock_clients_in_parent, close_clients_in_child);
  comux_progress_t *progress = comux_progress();
  for (uint32_t k = 0; k < doc.num_chunks; k++) {
    const comux_chunk_t *chunk = &doc.chunks[doc.order[k]];
    uint32_t conn = chunk->conn;
    if (progress != NULL)
      __atomic_store_n(&progress->chunks_started, k + 1, __ATOMIC_RELEASE);
    if (fds[conn] == -2 && open_connection(conn, &fds[conn]) >= 0)
      settle(fds[conn]);
    int fd = fds[conn];
    if (fd < 0)
      continue;
    int last = doc.last_chunk[conn] == chunk->index;
    int shut = last && !(chunk->flags & COMUX_NO_SHUTDOWN);
    crash_checkpoint(fd);
    size_t early = 0;
    if (send_chunk(fd, chunk, &early) != 0)
      LOG("chunk %u: send: %s", chunk->index, strerror(errno));
    else
      LOG("chunk %u: %zu bytes sent on connection %u (%zu reply bytes meanwhile)", chunk->index, chunk->len, conn,
          early);
    if (shut || (!last && !(chunk->flags & COMUX_AWAIT_RESPONSE)))
      settle(fd);
    if (shut)
      shutdown(fd, SHUT_WR);
    if (no_wait)
      continue;
    if ((chunk->flags & COMUX_AWAIT_RESPONSE) || last) {
      size_t got = collect_reply(fd, chunk->index);
      LOG("chunk %u: %zu reply bytes", chunk->index, got);
    }
    if (last) {
      close_client(&fds[conn]);
      settle(-1); /* the server sees the client go before the next step, or the end */
    }
  }
  /* Without waits, the replies are collected afterwards, connection by
   * connection, so one input still gives one output. */
  for (uint32_t c = 0; c < doc.num_conns; c++) {
    if (fds[c] >= 0) {
      collect_reply(fds[c], doc.last_chunk[c]);
      close_client(&fds[c]);
    }
  }
  /* Not freed: this thread's first free would make it a malloc arena (fresh
   * pages in every child of a fork server), and the process ends now. */
  __atomic_store_n(&client_fds, NULL, __ATOMIC_RELEASE);
  finish();
  return NULL;
}

/* The controller thread's stack, mapped once by the process that claims
 * (the fork server, whose children then start their controllers on it,
 * each its own copy) instead of by glibc for every child; as large as
 * glibc's default (the server's exit handlers may run on it), with a guard
 * page below. NULL when it cannot be mapped: glibc's own stack then. */
#define CONTROLLER_GUARD 4096

static size_t controller_stack_size;

void *
comux_controller_stack(void)
{
  pthread_attr_t defaults;
  size_t size = 0;
  if (pthread_attr_init(&defaults) == 0) {
    pthread_attr_getstacksize(&defaults, &size);
    pthread_attr_destroy(&defaults);
  }
  if (size < 1024 * 1024)
    size = 1024 * 1024;
  size = (size + CONTROLLER_GUARD - 1) & ~(size_t)(CONTROLLER_GUARD - 1);
  void *area = mmap(NULL, CONTROLLER_GUARD + size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (area == MAP_FAILED)
    return NULL;
  if (mprotect(area, CONTROLLER_GUARD, PROT_NONE) != 0) {
    munmap(area, CONTROLLER_GUARD + size);
    return NULL;
  }
  controller_stack_size = size;
  return area;
}

void
comux_start_controller(void *stack)
{
  /* Allocated here: a first malloc in the controller thread would create an arena for it. */
  int *fds = malloc((size_t)(doc.num_conns ? doc.num_conns : 1) * sizeof *fds);
  if (fds == NULL) {
    say(message_fd, "out of memory for %u connections", doc.num_conns);
    _exit(70);
  }
  for (uint32_t c = 0; c < doc.num_conns; c++)
    fds[c] = -2;
  __atomic_store_n(&client_fds, fds, __ATOMIC_RELEASE);
  comux_watch_crashes();
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  if (stack != NULL)
    pthread_attr_setstack(&attributes, (char *)stack + CONTROLLER_GUARD, controller_stack_size);
  pthread_t thread;
  int error = pthread_create(&thread, &attributes, controller, NULL);
  pthread_attr_destroy(&attributes);
  if (error != 0) {
    say(message_fd, "cannot start the controller thread: %s", strerror(error));
    _exit(70);
  }
}
