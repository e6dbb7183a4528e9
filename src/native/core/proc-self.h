/* The calling thread's /proc entries of its process. /proc/self names the
 * main thread's, which is empty of maps and without exe once the main
 * thread has ended (pthread_exit) while others run on: pdi attached to such
 * a process read no mappings and patched nothing. /proc/thread-self (Linux
 * 3.17) names the caller's own; /proc/self where it does not exist. */
#ifndef PDI_CORE_PROC_SELF_H
#define PDI_CORE_PROC_SELF_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static inline int
pdi_proc_self_open(const char *name)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/thread-self/%s", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT)
    return fd;
  snprintf(path, sizeof path, "/proc/self/%s", name);
  return open(path, O_RDONLY | O_CLOEXEC);
}

static inline ssize_t
pdi_proc_self_readlink(const char *name, char *out, size_t size)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/thread-self/%s", name);
  ssize_t length = readlink(path, out, size);
  if (length >= 0 || errno != ENOENT)
    return length;
  snprintf(path, sizeof path, "/proc/self/%s", name);
  return readlink(path, out, size);
}

#endif
