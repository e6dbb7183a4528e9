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

/* A file a backend writes its lines to all along (a trace file, a log), at kept_fd_high_floor() or above: once the
 * program has closed its descriptor (closefrom), the file is opened again, for appending, there. `current` points at
 * one of two records, the one a thread that opens the file again does not fill: other threads read it meanwhile. */
typedef struct kept_file {
  kept_fd_t records[2];
  kept_fd_t *current;
  int reopening;
  char path[4096]; /* absolute; "": not opened again (too long, or made relative) */
} kept_file_t;

/* Opens `path` with `flags` (close-on-exec added) on kept_fd_high_floor() or above; the descriptor, or -1. */
PDI_KEPT_FD_HIDDEN int kept_file_open(kept_file_t *file, const char *path, int flags);
/* The descriptor its lines go to now: the one opened, or the file opened again when the program has closed it
 * or holds the number for a file of its own (not when `owner` is set and is not this process: a vfork child would
 * leave the record of a descriptor of its own in its parent's memory), or -1. One thread at a time opens it again:
 * another that finds it at it gets -1. */
PDI_KEPT_FD_HIDDEN int kept_file_get(kept_file_t *file, pid_t owner);
/* Closes it when it is still the one opened; forgets it either way. */
PDI_KEPT_FD_HIDDEN void kept_file_close(kept_file_t *file);
/* Remembers `fd`, just opened close-on-exec (or -1, none). */
PDI_KEPT_FD_HIDDEN void kept_fd_keep(kept_fd_t *kept, int fd);
/* A close-on-exec copy of stderr at 10 or above, remembered; a forked child
 * closes and forgets it. */
PDI_KEPT_FD_HIDDEN void kept_fd_copy_stderr(kept_fd_t *kept);
/* The lowest number for a descriptor that a program's own files should never get: near the descriptor limit (at
 * most 1000, which keeps the descriptor table small), where they rarely come, so that they get the numbers they
 * would without pdi, also after a closefrom (10 when the limit is below 128). */
PDI_KEPT_FD_HIDDEN int kept_fd_high_floor(void);
/* A close-on-exec copy of `fd` at kept_fd_high_floor() or above (at 10 or above when there is no room there), or
 * -1; `fd` itself is left open. */
PDI_KEPT_FD_HIDDEN int kept_fd_copy_high(int fd);
/* `fd` moved to kept_fd_copy_high's number (closed where it was), or left where it is when it cannot be; -1 when it
 * is. */
PDI_KEPT_FD_HIDDEN int kept_fd_move_high(int fd);
/* The descriptor when it is still the one opened, else `fallback`. */
PDI_KEPT_FD_HIDDEN int kept_fd_get(const kept_fd_t *kept, int fallback);
/* write(2) that never raises SIGPIPE: a report written at exit or at a detach into a pipe whose reader has gone
 * must not kill the program, whose own writes there would have (it may never write there again). */
PDI_KEPT_FD_HIDDEN ssize_t kept_fd_write(int fd, const void *data, size_t length);
/* Closes it when it is still the one opened; forgets it either way. */
PDI_KEPT_FD_HIDDEN void kept_fd_close(kept_fd_t *kept);

#endif
