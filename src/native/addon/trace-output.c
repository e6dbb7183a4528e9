/* A trace drain's output (trace-output.h). */
#define _GNU_SOURCE
#include "trace-output.h"

#include <errno.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
trace_output_open(trace_output_t *output, int fd)
{
  struct stat status;
  output->fd = fd;
  output->whole_lines = fd >= 0 && (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode));
  output->error = 0;
}

static void
write_exactly(trace_output_t *output, const char *data, size_t length)
{
  while (length > 0 && __atomic_load_n(&output->error, __ATOMIC_RELAXED) == 0) {
    ssize_t written = write(output->fd, data, length);
    if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      /* A descriptor Node made non-blocking (its own stderr, a pipe, once it wrote there): waited on, as any
       * writer waits on a full pipe. The abandoning signal ends the wait with EINTR. */
      struct pollfd writable = {.fd = output->fd, .events = POLLOUT};
      poll(&writable, 1, -1);
      continue;
    }
    if (written < 0 && errno != EINTR)
      __atomic_store_n(&output->error, errno, __ATOMIC_RELAXED); /* read by trace_drain_write_errno */
    if (written > 0) {
      data += written;
      length -= (size_t)written;
    }
  }
}

/* Into a pipe, a socket or a terminal that the traced program may write to as
 * well (`pdi trace ... 2>&1 | grep`), only a write of at most PIPE_BUF bytes
 * stays whole: the lines go in pieces that size or less, each ending at a
 * line's end (a longer line alone), so that the program's own output never
 * splits one. A regular file takes the whole block at once. */
void
trace_output_write(trace_output_t *output, const char *data, size_t length)
{
  while (output->whole_lines && length > PIPE_BUF) {
    const char *end = memrchr(data, '\n', PIPE_BUF);
    if (end == NULL)
      end = memchr(data + PIPE_BUF, '\n', length - PIPE_BUF);
    size_t piece = end != NULL ? (size_t)(end - data) + 1 : length;
    write_exactly(output, data, piece);
    data += piece;
    length -= piece;
  }
  write_exactly(output, data, length);
}

void
trace_output_abandon(trace_output_t *output)
{
  int none = 0;
  __atomic_compare_exchange_n(&output->error, &none, ECANCELED, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static void
interrupted(int signal_number)
{
  (void)signal_number;
}

/* A real-time signal that neither Node nor libuv uses, caught without
 * SA_RESTART so that the write it lands in returns EINTR. Sent only to the
 * writer thread, and only once this handler is the signal's: a program that
 * has its own for it keeps it, and its writes wait. */
void
trace_output_interrupt(pthread_t writer)
{
  int signal_number = SIGRTMIN + 5;
  struct sigaction current;
  if (sigaction(signal_number, NULL, &current) != 0)
    return;
  if (current.sa_handler == SIG_DFL && !(current.sa_flags & SA_SIGINFO)) {
    struct sigaction ours = {.sa_handler = interrupted};
    sigemptyset(&ours.sa_mask);
    if (sigaction(signal_number, &ours, NULL) != 0)
      return;
  } else if ((current.sa_flags & SA_SIGINFO) || current.sa_handler != interrupted) {
    return;
  }
  pthread_kill(writer, signal_number);
}
