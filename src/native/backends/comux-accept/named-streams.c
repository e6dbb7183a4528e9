/*
 * A server's own descriptors on the stdout and stderr pipes it started
 * with, other than 1 and 2: a log opened by name (nginx's `error_log
 * /dev/stderr;` opens /proc/self/fd/2 again) or a dup() of them. In fork
 * mode each child's stdout and stderr become its request's files, and these
 * must follow, or what a child logs through them lands in the fork server's
 * own output, in whichever replay pdi happens to read it with. The fork
 * server finds them once (the server runs none of its code between two
 * forks); each child points them at its files.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "comux-accept.h"

#define MAX_NAMED_STREAMS 16

static struct {
  int fd;
  int is_stderr;
} named[MAX_NAMED_STREAMS];
static int named_count;

/* Whether a stream is a pipe (pdi's copy of it, else the standard descriptor), and which. */
static int
pipe_of(int kept, int standard, struct stat *pipe)
{
  int fd = kept >= 0 ? kept : standard;
  return fstat(fd, pipe) == 0 && S_ISFIFO(pipe->st_mode);
}

/* `log_file`: comux_log_fd(), asked once, since it checks its file at each call. */
static int
is_backends_own(int fd, int directory, int log_file)
{
  return fd <= STDERR_FILENO || fd == directory || fd == output_fd || fd == message_fd || fd == log_fd ||
         fd == log_file || fd == comux_fork_control_fd();
}

void
comux_note_named_streams(void)
{
  struct stat streams[2];
  int watched[2] = {pipe_of(output_fd, STDOUT_FILENO, &streams[0]), pipe_of(message_fd, STDERR_FILENO, &streams[1])};
  named_count = 0;
  if (!watched[0] && !watched[1])
    return;
  DIR *descriptors = opendir("/proc/self/fd");
  if (descriptors == NULL)
    return;
  int directory = dirfd(descriptors), log_file = comux_log_fd();
  struct dirent *entry;
  while ((entry = readdir(descriptors)) != NULL && named_count < MAX_NAMED_STREAMS) {
    char *end;
    long fd = strtol(entry->d_name, &end, 10);
    struct stat file;
    if (*end != '\0' || end == entry->d_name || is_backends_own((int)fd, directory, log_file) ||
        fstat((int)fd, &file) != 0)
      continue;
    for (int stream = 0; stream < 2; stream++)
      if (watched[stream] && file.st_dev == streams[stream].st_dev && file.st_ino == streams[stream].st_ino) {
        named[named_count].fd = (int)fd;
        named[named_count].is_stderr = stream;
        named_count++;
        break;
      }
  }
  closedir(descriptors);
}

void
comux_redirect_named_streams(int output, int error)
{
  for (int index = 0; index < named_count; index++) {
    int fd = named[index].fd, flags = fcntl(fd, F_GETFD);
    dup3(named[index].is_stderr ? error : output, fd, flags > 0 && (flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
  }
}
