/* Report descriptors checked before use (kept-fd.h). */
#define _GNU_SOURCE
#include "kept-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

void
kept_fd_keep(kept_fd_t *kept, int fd)
{
  struct stat status;
  int flags = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
  kept->fd = -1;
  if (fd < 0 || flags < 0 || fstat(fd, &status) != 0)
    return;
  kept->fd = fd;
  kept->dev = status.st_dev;
  kept->ino = status.st_ino;
  kept->flags = flags & (O_ACCMODE | O_APPEND);
}

int
kept_fd_high_floor(void)
{
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < 128)
    return 10;
  return limit.rlim_cur > 1064 ? 1000 : (int)limit.rlim_cur - 64;
}

int
kept_fd_copy_high(int fd)
{
  int copy = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, kept_fd_high_floor()) : -1;
  return copy >= 0 || fd < 0 ? copy : fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

int
kept_fd_move_high(int fd)
{
  int high = kept_fd_copy_high(fd);
  if (high < 0)
    return fd;
  close(fd);
  return high;
}

int
kept_file_open(kept_file_t *file, const char *path, int flags)
{
  file->current = &file->records[0];
  file->reopening = 0;
  file->records[1].fd = -1;
  char directory[2048];
  int length = path[0] == '/' ? snprintf(file->path, sizeof file->path, "%s", path)
               : getcwd(directory, sizeof directory) != NULL
                   ? snprintf(file->path, sizeof file->path, "%s/%s", directory, path)
                   : -1;
  if (length < 0 || length >= (int)sizeof file->path)
    file->path[0] = '\0';
  kept_fd_keep(&file->records[0], kept_fd_move_high(open(path, flags | O_CLOEXEC, 0644)));
  return file->records[0].fd;
}

int
kept_file_get(kept_file_t *file, pid_t owner)
{
  kept_fd_t *kept = __atomic_load_n(&file->current, __ATOMIC_ACQUIRE);
  int fd = kept != NULL ? kept_fd_get(kept, -1) : -1;
  if (fd >= 0 || kept == NULL || file->path[0] == '\0' || (owner != 0 && getpid() != owner) ||
      __atomic_exchange_n(&file->reopening, 1, __ATOMIC_ACQUIRE))
    return fd;
  kept = __atomic_load_n(&file->current, __ATOMIC_ACQUIRE);
  fd = kept_fd_get(kept, -1); /* opened again by the thread before */
  if (fd < 0) {
    kept_fd_t *next = kept == &file->records[0] ? &file->records[1] : &file->records[0];
    kept_fd_keep(next, kept_fd_move_high(open(file->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)));
    fd = next->fd;
    if (fd >= 0)
      __atomic_store_n(&file->current, next, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&file->reopening, 0, __ATOMIC_RELEASE);
  return fd;
}

void
kept_file_close(kept_file_t *file)
{
  if (file->current != NULL) {
    kept_fd_close(&file->records[0]);
    kept_fd_close(&file->records[1]);
  }
  file->current = NULL;
  file->path[0] = '\0';
}

/* The copies of stderr made in this object: a forked child drops them and
 * writes to its own stderr, so that a daemon (a child that closes its stdio
 * and lives on after its parent exits) does not hold a pipe's reader waiting
 * for the end, as the core's log does (log.c). */
#define KEPT_COPIES 4
static kept_fd_t *copies[KEPT_COPIES];

static void
drop_copies_in_child(void)
{
  for (int i = 0; i < KEPT_COPIES; i++)
    if (copies[i] != NULL) {
      kept_fd_close(copies[i]);
      copies[i] = NULL;
    }
}

void
kept_fd_copy_stderr(kept_fd_t *kept)
{
  static int registered;
  int slot = 0;
  while (slot < KEPT_COPIES && copies[slot] != NULL && copies[slot] != kept)
    slot++;
  if (slot < KEPT_COPIES && copies[slot] == kept)
    kept_fd_close(kept); /* made again: the earlier copy goes */
  kept->fd = -1;
  if (slot == KEPT_COPIES || (!registered && pthread_atfork(NULL, NULL, drop_copies_in_child) != 0))
    return; /* no copy: the lines go to the stderr of the moment */
  registered = 1;
  kept_fd_keep(kept, fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10));
  copies[slot] = kept;
}

/* A program's own descriptor on that number lacks close-on-exec, or is
 * another file, or was opened otherwise. */
static int
still_ours(const kept_fd_t *kept)
{
  struct stat status;
  int descriptor_flags = kept->fd >= 0 ? fcntl(kept->fd, F_GETFD) : -1;
  int flags = descriptor_flags >= 0 ? fcntl(kept->fd, F_GETFL) : -1;
  return descriptor_flags >= 0 && (descriptor_flags & FD_CLOEXEC) != 0 && flags >= 0 &&
         (flags & (O_ACCMODE | O_APPEND)) == kept->flags && fstat(kept->fd, &status) == 0 &&
         status.st_dev == kept->dev && status.st_ino == kept->ino;
}

int
kept_fd_get(const kept_fd_t *kept, int fallback)
{
  return still_ours(kept) ? kept->fd : fallback;
}

void
kept_fd_close(kept_fd_t *kept)
{
  if (still_ours(kept))
    close(kept->fd);
  kept->fd = -1;
}

ssize_t
kept_fd_write(int fd, const void *data, size_t length)
{
  sigset_t pipe_only, previous, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  int was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
  ssize_t written = write(fd, data, length);
  int error = errno;
  /* The SIGPIPE this write raised waits on this thread: taken here, it never reaches the program. */
  if (written < 0 && error == EPIPE && !was_pending) {
    struct timespec now = {0, 0};
    sigtimedwait(&pipe_only, NULL, &now);
  }
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  errno = error;
  return written;
}
