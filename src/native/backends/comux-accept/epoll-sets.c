/*
 * The epoll sets of a fork server (forks.c). An epoll instance is one
 * kernel object shared by every process forked from its creator: a child
 * that changes its set (nginx removes and adds its listening socket around
 * accepts) would change the set the next child starts from, which then fails
 * with EEXIST or misses events. So the backend records every registration
 * the server makes (through its epoll_ctl wrapper) until the fork server is
 * ready, and each forked child replaces every epoll instance with a fresh
 * copy of its own before the server sees it again.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "comux-accept.h"

typedef struct registration {
  int fd;
  struct epoll_event event;
} registration_t;

typedef struct epoll_set {
  int epfd;
  int copied;  /* still an epoll instance when the fork server was ready (comux_check_epoll_sets) */
  int cloexec; /* its descriptor's FD_CLOEXEC then */
  size_t count;
  size_t capacity;
  registration_t *items;
} epoll_set_t;

static pthread_mutex_t sets_lock = PTHREAD_MUTEX_INITIALIZER;
static epoll_set_t *sets;
static size_t set_count;

static epoll_set_t *
set_of(int epfd)
{
  for (size_t i = 0; i < set_count; i++)
    if (sets[i].epfd == epfd)
      return &sets[i];
  epoll_set_t *more = realloc(sets, (set_count + 1) * sizeof *sets);
  if (more == NULL)
    return NULL;
  sets = more;
  epoll_set_t *set = &sets[set_count++];
  memset(set, 0, sizeof *set);
  set->epfd = epfd;
  return set;
}

static registration_t *
find(epoll_set_t *set, int fd)
{
  for (size_t i = 0; i < set->count; i++)
    if (set->items[i].fd == fd)
      return &set->items[i];
  return NULL;
}

static void
record(epoll_set_t *set, int op, int fd, const struct epoll_event *event)
{
  registration_t *found = find(set, fd);
  if (op == EPOLL_CTL_DEL) {
    if (found != NULL)
      *found = set->items[--set->count];
    return;
  }
  if (event == NULL)
    return;
  if (found == NULL) {
    if (set->count == set->capacity) {
      size_t capacity = set->capacity ? set->capacity * 2 : 16;
      registration_t *more = realloc(set->items, capacity * sizeof *more);
      if (more == NULL)
        return;
      set->items = more;
      set->capacity = capacity;
    }
    found = &set->items[set->count++];
    found->fd = fd;
  }
  found->event = *event;
}

void
comux_note_epoll_ctl(int epfd, int op, int fd, const struct epoll_event *event)
{
  if (fork_mode == COMUX_FORK_NONE || forked_child)
    return;
  pthread_mutex_lock(&sets_lock);
  epoll_set_t *set = set_of(epfd);
  if (set != NULL)
    record(set, op, fd, event);
  pthread_mutex_unlock(&sets_lock);
}

int
comux_is_epoll(int fd)
{
  char link[64], target[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0)
    return 0;
  target[n] = '\0';
  return strcmp(target, "anon_inode:[eventpoll]") == 0;
}

/* Which recorded sets are still epoll instances, and their descriptor
 * flags, asked once in the fork server: the server runs none of its own
 * code between two forks, and /proc lookups in every child cost more than
 * the copy itself. */
void
comux_check_epoll_sets(void)
{
  for (size_t i = 0; i < set_count; i++) {
    epoll_set_t *set = &sets[i];
    int flags = fcntl(set->epfd, F_GETFD);
    set->copied = flags >= 0 && comux_is_epoll(set->epfd);
    set->cloexec = flags >= 0 && (flags & FD_CLOEXEC);
  }
}

void
comux_unshare_epoll(void)
{
  for (size_t i = 0; i < set_count; i++) {
    epoll_set_t *set = &sets[i];
    if (!set->copied)
      continue;
    int copy = epoll_create1(EPOLL_CLOEXEC);
    if (copy < 0) {
      LOG("cannot copy epoll set %d: the child shares it", set->epfd);
      continue;
    }
    for (size_t k = 0; k < set->count; k++) {
      struct epoll_event event = set->items[k].event;
      epoll_ctl(copy, EPOLL_CTL_ADD, set->items[k].fd, &event);
    }
    dup3(copy, set->epfd, set->cloexec ? O_CLOEXEC : 0);
    close(copy);
  }
}
