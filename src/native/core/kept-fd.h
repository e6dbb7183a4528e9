/* A descriptor the core's log or a backend opens for its lines at exit (a copy of stderr,
 * a report file), remembered by identity: programs close every descriptor
 * they did not open (closefrom, close_range) and get the same numbers again
 * for files of their own, which a report must never be written into nor
 * closed (docs/launching.md, "Programs that close every descriptor"). */
#ifndef PDI_BACKENDS_KEPT_FD_H
#define PDI_BACKENDS_KEPT_FD_H

#include <sys/types.h>

#define PDI_KEPT_FD_HIDDEN __attribute__((visibility("hidden")))

typedef struct kept_fd {
  int fd; /* -1: none */
  dev_t dev;
  ino_t ino;
  int flags; /* access mode and O_APPEND */
} kept_fd_t;

/* Remembers `fd`, just opened close-on-exec (or -1, none). */
PDI_KEPT_FD_HIDDEN void kept_fd_keep(kept_fd_t *kept, int fd);
/* A close-on-exec copy of stderr at 10 or above, remembered; a forked child
 * closes and forgets it. */
PDI_KEPT_FD_HIDDEN void kept_fd_copy_stderr(kept_fd_t *kept);
/* The descriptor when it is still the one opened, else `fallback`. */
PDI_KEPT_FD_HIDDEN int kept_fd_get(const kept_fd_t *kept, int fallback);
/* write(2) that never raises SIGPIPE: a report written at exit or at a detach into a pipe whose reader has gone
 * must not kill the program, whose own writes there would have (it may never write there again). */
PDI_KEPT_FD_HIDDEN ssize_t kept_fd_write(int fd, const void *data, size_t length);
/* Closes it when it is still the one opened; forgets it either way. */
PDI_KEPT_FD_HIDDEN void kept_fd_close(kept_fd_t *kept);

#endif
