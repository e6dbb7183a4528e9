/*
 * The wrappers of comux-accept, installed by redefine rules (docs/comux.md):
 * they pass every call through, note the server's listening socket, the
 * connections it accepts and its epoll registrations, and tell the backend
 * when the server is about to wait for a client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pdi/backend.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>

#include "comux-accept.h"

#define EXPORT __attribute__((visibility("default")))

static struct sockaddr_storage listener_address;
static socklen_t listener_length;
static int have_listener;

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

#define ORIGINAL(wrapper, fallback)                                                                                    \
  (pdi_original((const void *)wrapper) ? (__typeof__(&fallback))pdi_original((const void *)wrapper) : &fallback)

EXPORT int
comux_listen(int fd, int backlog)
{
  int result = ORIGINAL(comux_listen, listen)(fd, backlog);
  if (result == 0 && !__atomic_load_n(&have_listener, __ATOMIC_ACQUIRE)) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    int saved = errno;
    if (getsockname(fd, (struct sockaddr *)&address, &length) == 0 &&
        (address.ss_family == AF_INET || address.ss_family == AF_INET6 || address.ss_family == AF_UNIX)) {
      listener_address = address;
      listener_length = length;
      __atomic_store_n(&have_listener, 1, __ATOMIC_RELEASE);
      if (tree != NULL)
        __atomic_store_n(&tree->listened, 1, __ATOMIC_RELEASE);
      LOG("listening socket fd %d", fd);
    }
    errno = saved;
  }
  return result;
}

/* An accepted connection, noted for the end of replies (replies.c). */
static int
noted(int accepted)
{
  if (accepted >= 0) {
    int saved = errno;
    comux_note_accepted(accepted);
    errno = saved;
  }
  return accepted;
}

EXPORT int
comux_accept(int fd, struct sockaddr *address, socklen_t *length)
{
  comux_server_waits();
  return noted(ORIGINAL(comux_accept, accept)(fd, address, length));
}

EXPORT int
comux_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags)
{
  comux_server_waits();
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
  comux_server_waits();
  return ORIGINAL(comux_epoll_wait, epoll_wait)(epfd, events, maxevents, timeout);
}

EXPORT int
comux_epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *mask)
{
  comux_server_waits();
  return ORIGINAL(comux_epoll_pwait, epoll_pwait)(epfd, events, maxevents, timeout, mask);
}

EXPORT int
comux_poll(struct pollfd *fds, nfds_t count, int timeout)
{
  comux_server_waits();
  return ORIGINAL(comux_poll, poll)(fds, count, timeout);
}

EXPORT int
comux_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask)
{
  comux_server_waits();
  return ORIGINAL(comux_ppoll, ppoll)(fds, count, timeout, mask);
}

EXPORT int
comux_select(int count, fd_set *read, fd_set *write, fd_set *except, struct timeval *timeout)
{
  comux_server_waits();
  return ORIGINAL(comux_select, select)(count, read, write, except, timeout);
}

EXPORT int
comux_pselect(int count, fd_set *read, fd_set *write, fd_set *except, const struct timespec *timeout,
              const sigset_t *mask)
{
  comux_server_waits();
  return ORIGINAL(comux_pselect, pselect)(count, read, write, except, timeout, mask);
}
