/* Report descriptors checked before use (kept-fd.h). */
#define _GNU_SOURCE
#include "kept-fd.h"

#include <fcntl.h>
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

void
kept_fd_copy_stderr(kept_fd_t *kept)
{
  kept_fd_keep(kept, fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10));
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
