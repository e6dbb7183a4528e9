/*
 * The wrappers of comux-accept, installed by redefine rules (docs/comux.md):
 * they pass every call through, note the server's listening socket, the
 * connections it accepts and its epoll registrations, and tell the backend
 * when the server is about to wait for a client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <poll.h>
#include <pdi/backend.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>

#include "comux-accept.h"

#define EXPORT __attribute__((visibility("default")))

static struct sockaddr_storage listener_address;
static socklen_t listener_length;
static int have_listener;
static int listener_fd = -1;

int
comux_listener(struct sockaddr_storage *address, socklen_t *length)
{
  if (!__atomic_load_n(&have_listener, __ATOMIC_ACQUIRE))
    return 0;
  if (address != NULL)
    *address = listener_address;
  if (length != NULL)
    *length = listener_length;
  return 1;
}

int
comux_listener_queue(void)
{
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  int listening = 0;
  socklen_t size = sizeof listening;
  struct tcp_info info;
  socklen_t info_size = sizeof info;
  if (!__atomic_load_n(&have_listener, __ATOMIC_ACQUIRE) || listener_address.ss_family == AF_UNIX ||
      getsockname(listener_fd, (struct sockaddr *)&address, &length) != 0 || length != listener_length ||
      memcmp(&address, &listener_address, length) != 0 ||
      getsockopt(listener_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening ||
      getsockopt(listener_fd, IPPROTO_TCP, TCP_INFO, &info, &info_size) != 0 || info.tcpi_state != TCP_LISTEN)
    return -1;
  return (int)info.tcpi_unacked; /* of a listening socket: the connections waiting to be accepted */
}

#define ORIGINAL(wrapper, fallback)                                                                                    \
  (pdi_original((const void *)wrapper) ? (__typeof__(&fallback))pdi_original((const void *)wrapper) : &fallback)

/* A Unix socket listening at an absolute path: noted in the tree, whose
 * guardian removes the file when the server is gone. */
static void
note_unix_path(int fd)
{
  struct sockaddr_un address;
  socklen_t length = sizeof address;
  int saved = errno;
  size_t path_length = 0;
  if (getsockname(fd, (struct sockaddr *)&address, &length) == 0 && address.sun_family == AF_UNIX &&
      length > offsetof(struct sockaddr_un, sun_path) + 1 && address.sun_path[0] == '/')
    path_length = strnlen(address.sun_path, length - offsetof(struct sockaddr_un, sun_path));
  int slot = path_length > 0 && path_length < COMUX_UNIX_PATH_SIZE
                 ? __atomic_fetch_add(&tree->unix_count, 1, __ATOMIC_ACQ_REL)
                 : -1;
  if (slot >= 0 && slot < COMUX_UNIX_PATHS)
    memcpy(tree->unix_paths[slot], address.sun_path, path_length); /* the page starts zeroed */
  errno = saved;
}

/* The descriptors the server listened on (the first ones), for a forked
 * child's end (comux_spare_listeners). */
#define COMUX_LISTENERS 16
static int listening_fds[COMUX_LISTENERS];
static int listening_count;

static int is_listening(int fd);

/* A child of a fork server shares its listening sockets with the fork
 * server: an exit handler that shuts one down (socat's does) would leave
 * every later child's connections refused. Before the child's exit
 * handlers run, each of its descriptors of a listening socket is pointed at
 * a fresh socket of the same family instead, which they may shut down. */
void
comux_spare_listeners(void)
{
  int saved = errno;
  for (int i = 0; i < listening_count && i < COMUX_LISTENERS; i++) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    int fd = listening_fds[i];
    if (!is_listening(fd) || getsockname(fd, (struct sockaddr *)&address, &length) != 0)
      continue;
    int spare = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (spare >= 0 && spare != fd) {
      dup2(spare, fd);
      close(spare);
    }
  }
  errno = saved;
}

/* A child of a fork server starts with the server's listening sockets as
 * the last child left them: a connection of that child's replay the server
 * never accepted (the child crashed or exited first) still waits in the
 * accept queue, with the bytes that replay sent, and this child's server
 * would take it for one of its own. Each is accepted and closed here, with
 * the raw call (accept is the backend's own wrapper) and the socket
 * non-blocking for as long: the number taken. */
int
comux_drop_queued_connections(void)
{
  int saved = errno, dropped = 0;
  for (int i = 0; i < listening_count && i < COMUX_LISTENERS; i++) {
    int fd = listening_fds[i];
    int flags = fcntl(fd, F_GETFL);
    if (!is_listening(fd) || flags < 0 || ((flags & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0))
      continue;
    for (;;) {
      long taken = syscall(SYS_accept4, fd, NULL, NULL, SOCK_CLOEXEC);
      if (taken < 0 && errno == EINTR)
        continue;
      if (taken < 0)
        break;
      close((int)taken);
      dropped++;
    }
    if ((flags & O_NONBLOCK) == 0)
      fcntl(fd, F_SETFL, flags);
  }
  errno = saved;
  return dropped;
}

EXPORT int
comux_listen(int fd, int backlog)
{
  int result = ORIGINAL(comux_listen, listen)(fd, backlog);
  if (result == 0 && tree != NULL)
    note_unix_path(fd);
  if (result == 0 && listening_count < COMUX_LISTENERS)
    listening_fds[listening_count++] = fd;
  if (result == 0 && !__atomic_load_n(&have_listener, __ATOMIC_ACQUIRE)) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    int saved = errno;
    if (getsockname(fd, (struct sockaddr *)&address, &length) == 0 &&
        (address.ss_family == AF_INET || address.ss_family == AF_INET6 || address.ss_family == AF_UNIX)) {
      listener_address = address;
      listener_length = length;
      listener_fd = fd;
      __atomic_store_n(&have_listener, 1, __ATOMIC_RELEASE);
      if (tree != NULL)
        __atomic_store_n(&tree->listened, 1, __ATOMIC_RELEASE);
      LOG("listening socket fd %d", fd);
    }
    errno = saved;
  }
  return result;
}

/* ---- which waits are for a client
 *
 * The replay starts at the server's first wait that can bring a client: an
 * accept, or a wait whose set holds a listening socket. A wait for anything
 * else after listen() (nginx's start-up probe of EPOLLRDHUP on a socket pair)
 * is passed through, so that the replay, and a fork server's every child,
 * start from a server that is ready, not halfway through its start. Each
 * check keeps errno, and runs only until the replay has started. */

static int
is_listening(int fd)
{
  int accepting = 0;
  socklen_t length = sizeof accepting;
  return fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting;
}

/* Whether the epoll set epfd, or a set nested in it, watches a listening
 * socket, as /proc/self/fdinfo lists its targets; 1 when that cannot be read
 * (no /proc in a chroot): the wait is taken for one for a client then. */
static int
epoll_reaches_listener(int epfd, int depth)
{
  char path[48];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", epfd);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 1;
  char text[1024];
  size_t kept = 0;
  int found = 0;
  ssize_t n;
  while (!found && (n = read(fd, text + kept, sizeof text - 1 - kept)) > 0) {
    kept += (size_t)n;
    text[kept] = '\0';
    char *line = text, *end;
    while (!found && (end = strchr(line, '\n')) != NULL) {
      *end = '\0';
      if (strncmp(line, "tfd:", 4) == 0) {
        int target = (int)strtol(line + 4, NULL, 10);
        found = is_listening(target) ||
                (depth < 4 && comux_is_epoll(target) && epoll_reaches_listener(target, depth + 1));
      }
      line = end + 1;
    }
    kept = (size_t)(text + kept - line);
    /* A line that fills the buffer is no target line: dropped. */
    kept = kept == sizeof text - 1 ? 0 : kept;
    memmove(text, line, kept);
  }
  close(fd);
  return found;
}

static int
epoll_waits_for_client(int epfd)
{
  int saved = errno;
  int found = epoll_reaches_listener(epfd, 0);
  errno = saved;
  return found;
}

static int
poll_waits_for_client(const struct pollfd *fds, nfds_t count)
{
  int saved = errno, found = 0;
  for (nfds_t i = 0; !found && i < count; i++)
    found = is_listening(fds[i].fd);
  errno = saved;
  return found;
}

static int
select_waits_for_client(int count, const fd_set *read)
{
  int saved = errno, found = 0;
  for (int fd = 0; read != NULL && !found && fd < count && fd < FD_SETSIZE; fd++)
    found = FD_ISSET(fd, read) && is_listening(fd);
  errno = saved;
  return found;
}

/* An accepted connection, noted for the end of replies (replies.c). A
 * thread that returns from a wait while the replay ends stays there. */
static int
noted(int accepted)
{
  comux_hold_if_finishing();
  if (accepted >= 0) {
    int saved = errno;
    comux_note_accepted(accepted);
    errno = saved;
  }
  return accepted;
}

static int
held(int result)
{
  int saved = errno;
  comux_hold_if_finishing();
  errno = saved;
  return result;
}

EXPORT int
comux_accept(int fd, struct sockaddr *address, socklen_t *length)
{
  comux_server_waits("accept");
  return noted(ORIGINAL(comux_accept, accept)(fd, address, length));
}

EXPORT int
comux_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags)
{
  comux_server_waits("accept4");
  return noted(ORIGINAL(comux_accept4, accept4)(fd, address, length, flags));
}

EXPORT int
comux_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
  int result = ORIGINAL(comux_epoll_ctl, epoll_ctl)(epfd, op, fd, event);
  if (result == 0 && fork_mode != COMUX_FORK_NONE) {
    int saved = errno;
    comux_note_epoll_ctl(epfd, op, fd, event);
    errno = saved;
  }
  return result;
}

EXPORT int
comux_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
  if (!comux_claim_open() || epoll_waits_for_client(epfd))
    comux_server_waits("epoll_wait");
  return held(ORIGINAL(comux_epoll_wait, epoll_wait)(epfd, events, maxevents, timeout));
}

EXPORT int
comux_epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *mask)
{
  if (!comux_claim_open() || epoll_waits_for_client(epfd))
    comux_server_waits("epoll_pwait");
  return held(ORIGINAL(comux_epoll_pwait, epoll_pwait)(epfd, events, maxevents, timeout, mask));
}

EXPORT int
comux_poll(struct pollfd *fds, nfds_t count, int timeout)
{
  if (!comux_claim_open() || poll_waits_for_client(fds, count))
    comux_server_waits("poll");
  return held(ORIGINAL(comux_poll, poll)(fds, count, timeout));
}

EXPORT int
comux_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask)
{
  if (!comux_claim_open() || poll_waits_for_client(fds, count))
    comux_server_waits("ppoll");
  return held(ORIGINAL(comux_ppoll, ppoll)(fds, count, timeout, mask));
}

EXPORT int
comux_select(int count, fd_set *read, fd_set *write, fd_set *except, struct timeval *timeout)
{
  if (!comux_claim_open() || select_waits_for_client(count, read))
    comux_server_waits("select");
  return held(ORIGINAL(comux_select, select)(count, read, write, except, timeout));
}

EXPORT int
comux_pselect(int count, fd_set *read, fd_set *write, fd_set *except, const struct timespec *timeout,
              const sigset_t *mask)
{
  if (!comux_claim_open() || select_waits_for_client(count, read))
    comux_server_waits("pselect");
  return held(ORIGINAL(comux_pselect, pselect)(count, read, write, except, timeout, mask));
}

/* exit() waits for the controller to copy the reply the server wrote before
 * it (an exit handler, controller.c); _exit runs no exit handler, so its
 * wrappers wait here. */
EXPORT void
comux__exit(int status)
{
  comux_drain_before_crash();
  ORIGINAL(comux__exit, _exit)(status);
  __builtin_unreachable();
}

EXPORT void
comux__Exit(int status)
{
  comux_drain_before_crash();
  ORIGINAL(comux__Exit, _Exit)(status);
  __builtin_unreachable();
}
