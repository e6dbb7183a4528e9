/* Reading the program's memory without faulting (safe-read.h), for the
 * backends that decode or match what a pointer argument points to. process_vm_readv
 * on the own pid copies what is readable and stops at the first unreadable
 * piece; where it is refused (seccomp, no ptrace rights), each piece is
 * probed by writing it to a pipe (write fails with EFAULT instead of
 * faulting) and then copied; the pipe is checked to be still ours first. Pieces never cross a page boundary, so a
 * string that ends just before an unmapped page is still read whole. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "safe-read.h"
#include "../../core/kept-fd.h"

static pid_t own_pid;
static size_t page_size = 4096;
static int use_pipe;
static int probe_pipe[2] = {-1, -1};
/* The probe pipe's identity: a program that closes every descriptor it did
 * not open (a daemon) gets the pipe's numbers again for its own files, which
 * a probe must never write into nor read from. */
static dev_t pipe_dev;
static ino_t pipe_ino;
static int reopening;

static int
is_probe_pipe(int fd)
{
  struct stat status;
  return fd >= 0 && fstat(fd, &status) == 0 && S_ISFIFO(status.st_mode) && status.st_dev == pipe_dev &&
         status.st_ino == pipe_ino;
}

/* The pipe (close-on-exec, non-blocking) at probe_pipe_floor or above. */
static int
open_probe_pipe(void)
{
  int fresh[2];
  if (pipe2(fresh, O_CLOEXEC | O_NONBLOCK) != 0)
    return -1;
  int floor = kept_fd_high_floor(); /* where a program's own files rarely come */
  int high[2] = {fcntl(fresh[0], F_DUPFD_CLOEXEC, floor), fcntl(fresh[1], F_DUPFD_CLOEXEC, floor)};
  close(fresh[0]);
  close(fresh[1]);
  struct stat status;
  if (high[0] < 0 || high[1] < 0 || fstat(high[0], &status) != 0) {
    if (high[0] >= 0)
      close(high[0]);
    if (high[1] >= 0)
      close(high[1]);
    return -1;
  }
  pipe_dev = status.st_dev;
  pipe_ino = status.st_ino;
  probe_pipe[0] = high[0];
  probe_pipe[1] = high[1];
  return 0;
}

/* The pipe still ours, or a new one when the program has taken its numbers
 * (left to it, not closed); 0 when there is none to probe with. */
static int
probe_pipe_ready(void)
{
  if (is_probe_pipe(probe_pipe[0]) && is_probe_pipe(probe_pipe[1]))
    return 1;
  if (__atomic_exchange_n(&reopening, 1, __ATOMIC_ACQUIRE))
    return 0; /* another thread is making the new one: this piece reads as unreadable */
  probe_pipe[0] = probe_pipe[1] = -1;
  int ready = open_probe_pipe() == 0;
  __atomic_store_n(&reopening, 0, __ATOMIC_RELEASE);
  return ready;
}

void
safe_read_forked(void)
{
  own_pid = getpid();
}

int
safe_read_init(const char *forced)
{
  own_pid = getpid();
  unsigned long page = getauxval(AT_PAGESZ);
  if (page != 0)
    page_size = page;
  char probe = 'x', copy = 0;
  struct iovec local = {&copy, 1}, remote = {&probe, 1};
  if ((forced == NULL || strcmp(forced, "pipe") != 0) && process_vm_readv(own_pid, &local, 1, &remote, 1, 0) == 1 &&
      copy == 'x')
    return 0;
  use_pipe = 1;
  return probe_pipe[0] >= 0 ? 0 : open_probe_pipe();
}

/* Whether [address, address + n) is readable, n <= PIPE_BUF: the bytes go
 * into the pipe and straight out again (concurrent probes may swap bytes,
 * which does not matter: only the counts do). */
static int
probe_readable(uintptr_t address, size_t n)
{
  char drain[512];
  ssize_t put = write(probe_pipe[1], (const void *)address, n);
  if (put <= 0)
    return 0;
  ssize_t taken = read(probe_pipe[0], drain, (size_t)put);
  (void)taken;
  return (size_t)put == n;
}

static size_t
read_piece(uintptr_t address, char *out, size_t n)
{
  if (!use_pipe) {
    struct iovec local = {out, n}, remote = {(void *)address, n};
    ssize_t got = process_vm_readv(own_pid, &local, 1, &remote, 1, 0);
    return got > 0 ? (size_t)got : 0;
  }
  if (n > 512 || !probe_pipe_ready() || !probe_readable(address, n))
    return 0;
  memcpy(out, (const void *)address, n);
  return n;
}

size_t
safe_read(uintptr_t address, char *out, size_t n)
{
  if (address < page_size)
    return 0;
  size_t done = 0;
  while (done < n) {
    uintptr_t at = address + done;
    size_t piece = page_size - (at % page_size);
    if (piece > n - done)
      piece = n - done;
    if (piece > 512)
      piece = 512;
    size_t got = read_piece(at, out + done, piece);
    done += got;
    if (got < piece)
      break;
  }
  return done;
}

size_t
safe_read_checked(uintptr_t address, char *out, size_t n)
{
  if (!use_pipe)
    __atomic_store_n(&own_pid, (pid_t)syscall(SYS_getpid), __ATOMIC_RELAXED);
  return safe_read(address, out, n);
}
