/*
 * When a reply is over, without a timer (docs/comux.md "The backend", step
 * 4). The controller sees its own client socket; the backend, inside the
 * server, also sees the server's side of that connection: the accept
 * wrappers note each accepted socket's peer port once the replay has
 * started. A reply is over when the server has read everything sent on the
 * connection (FIONREAD on its socket is 0), has nothing left to send on it
 * (SIOCOUTQNSD is 0; bytes sent but not yet acknowledged do not count, as
 * the client may delay its ACK by 40 ms), nothing waits to be read on the
 * client side, and the server process is at rest: every thread asleep and
 * no child process (a CGI or a forked handler may still write). When the
 * server's side is not in this process (a forking server handed it to a
 * child, another worker accepted it) the idle timer decides, as before.
 *
 * Where the threads are looked at matters for a fork server's children: a
 * child that opened /proc/self/task/TID/... takes the kernel milliseconds to
 * reap (it drops those entries of its threads from the dentry cache: 3-7 ms
 * for each nginx child, against 0.1 ms). A process with only the thread that
 * waited for a client, its main thread, and the controller is looked at in
 * /proc/self/stat instead, which shows the main thread's state and counts
 * the threads (leader_at_rest).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "comux-accept.h"

#define TRACKED_FDS 65536

/* Per descriptor of the server: the peer port + 1 of a connection it
 * accepted (0: none). */
static uint32_t *peer_ports;
static int highest_fd = -1;

/* The thread that waits for a client is the process's main thread. */
static int leader_waits;

void
comux_note_waiting_thread(void)
{
  leader_waits = syscall(SYS_gettid) == getpid();
}

void
comux_track_accepts(void)
{
  if (__atomic_load_n(&peer_ports, __ATOMIC_ACQUIRE) == NULL)
    __atomic_store_n(&peer_ports, calloc(TRACKED_FDS, sizeof *peer_ports), __ATOMIC_RELEASE);
}

/* The port of an IPv4 or IPv6 address + 1, or 0. */
static uint32_t
port_of(const struct sockaddr_storage *address)
{
  if (address->ss_family == AF_INET)
    return (uint32_t)ntohs(((const struct sockaddr_in *)address)->sin_port) + 1;
  if (address->ss_family == AF_INET6)
    return (uint32_t)ntohs(((const struct sockaddr_in6 *)address)->sin6_port) + 1;
  return 0;
}

static uint32_t
peer_port(int fd)
{
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  return getpeername(fd, (struct sockaddr *)&address, &length) == 0 ? port_of(&address) : 0;
}

void
comux_note_accepted(int fd)
{
  uint32_t *ports = __atomic_load_n(&peer_ports, __ATOMIC_ACQUIRE);
  if (ports == NULL || fd < 0 || fd >= TRACKED_FDS)
    return;
  __atomic_store_n(&ports[fd], peer_port(fd), __ATOMIC_RELEASE);
  int highest = __atomic_load_n(&highest_fd, __ATOMIC_RELAXED);
  while (fd > highest && !__atomic_compare_exchange_n(&highest_fd, &highest, fd, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
}

/* The server's descriptor of the connection whose client side is
 * client_fd, or -1 when this process does not hold it. */
static int
server_side(int client_fd)
{
  uint32_t *ports = __atomic_load_n(&peer_ports, __ATOMIC_ACQUIRE);
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  if (ports == NULL || getsockname(client_fd, (struct sockaddr *)&address, &length) != 0)
    return -1;
  uint32_t mine = port_of(&address);
  int highest = __atomic_load_n(&highest_fd, __ATOMIC_RELAXED);
  for (int fd = 0; mine != 0 && fd <= highest; fd++)
    if (__atomic_load_n(&ports[fd], __ATOMIC_ACQUIRE) == mine)
      return peer_port(fd) == mine ? fd : -1; /* still that socket, not closed or reused */
  return -1;
}

/* Nothing to read or to send on either side of the connection: the client's own unsent bytes included (a chunk the
 * stack still holds is one the server has not been given). */
static int
connection_empty(int server_fd, int client_fd)
{
  int unread = -1, unsent = -1, waiting = -1, held = -1;
  return ioctl(server_fd, FIONREAD, &unread) == 0 && ioctl(server_fd, SIOCOUTQNSD, &unsent) == 0 &&
         ioctl(client_fd, FIONREAD, &waiting) == 0 && ioctl(client_fd, SIOCOUTQNSD, &held) == 0 && unread == 0 &&
         unsent == 0 && waiting == 0 && held == 0;
}

/* The field after `count` more space-separated ones, from text (a
 * /proc stat line after its ")"), as a count; -1 when it is none. */
static long
stat_field(const char *text, int count)
{
  while (count-- > 0) {
    while (*text == ' ')
      text++;
    while (*text != ' ' && *text != '\0')
      text++;
  }
  while (*text == ' ')
    text++;
  if (*text < '0' || *text > '9')
    return -1;
  long value = 0;
  while (*text >= '0' && *text <= '9')
    value = value * 10 + (*text++ - '0');
  return value;
}

/* /proc/self/stat and the main thread's /proc/self/syscall, opened once
 * per process and read again at each look: opening them and formatting
 * their paths cost more than the reads. */
static int stat_fd = -1;
static int syscall_fd = -1;
static pid_t stat_pid;

static void
open_self_files(void)
{
  if (stat_pid == getpid())
    return;
  if (stat_fd >= 0)
    close(stat_fd); /* a forked process's copies of its parent's */
  if (syscall_fd >= 0)
    close(syscall_fd);
  stat_fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  syscall_fd = open("/proc/self/syscall", O_RDONLY | O_CLOEXEC);
  stat_pid = getpid();
}

/* This process's /proc/self/stat after its ")" and a blank, in text; NULL
 * when it cannot be read. */
static const char *
self_stat(char *text, size_t size)
{
  open_self_files();
  if (stat_fd < 0)
    return NULL;
  ssize_t n = pread(stat_fd, text, size - 1, 0);
  if (n <= 0)
    return NULL;
  text[n] = '\0';
  const char *after = strrchr(text, ')');
  return after != NULL && after[1] == ' ' && after[2] != '\0' ? after + 2 : NULL;
}

/* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
 * utime stime cutime cstime priority nice num_threads */
#define STAT_THREADS 17

int
comux_thread_count(void)
{
  char text[1024];
  const char *fields = self_stat(text, sizeof text);
  long threads = fields != NULL ? stat_field(fields, STAT_THREADS) : -1;
  return threads > 0 ? (int)threads : 0;
}

/* Whether the process is at rest, from /proc/self/stat, when its threads
 * are the main thread that waits for a client and the controller: 1 when
 * the main thread sleeps (state S), not in a timed sleep (/proc/self/syscall)
 * and no child process exists, 0 when not,
 * -1 when that does not tell (other threads, no /proc). */
static int
leader_at_rest(void)
{
  if (!leader_waits)
    return -1;
  char text[1024];
  const char *fields = self_stat(text, sizeof text);
  if (fields == NULL || stat_field(fields, STAT_THREADS) != 2)
    return -1;
  if (fields[0] != 'S' || (syscall_fd >= 0 && comux_sleeps_on_timer(syscall_fd)))
    return 0;
  /* A child process, running or not yet reaped (a CGI may still write). */
  siginfo_t child;
  child.si_pid = 0;
  if (waitid(P_ALL, 0, &child, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0)
    return 0;
  return errno == ECHILD ? 1 : -1;
}

static int
server_at_rest(void)
{
  int rest = leader_at_rest();
  return rest >= 0 ? rest : comux_server_quiet();
}

int
comux_reply_over(int client_fd)
{
  int server_fd = server_side(client_fd);
  /* Looked at before and after the server's rest: a server that finished
   * its reply while /proc was being read has written it by then. */
  return server_fd >= 0 && connection_empty(server_fd, client_fd) && server_at_rest() &&
         connection_empty(server_fd, client_fd);
}

int
comux_connection_waits(int client_fd)
{
  return server_side(client_fd) < 0 && comux_listener_queue() > 0 && server_at_rest() && comux_listener_queue() > 0;
}

int
comux_settled(int client_fd)
{
  /* Not in this process (not accepted yet, or handed to a child, or a Unix
   * socket): the server's rest alone tells. A connection or data that has
   * just arrived makes a sleeping server runnable at once. */
  int server_fd = server_side(client_fd);
  int unread = -1;
  return (server_fd < 0 || (ioctl(server_fd, FIONREAD, &unread) == 0 && unread == 0)) && server_at_rest();
}
