/* The process's own /proc entries. /proc/self names the main thread's,
 * which are empty of maps and without exe once the main thread has ended
 * (pthread_exit) while others run on: pdi attached to such a process read
 * no mappings and patched nothing. /proc/thread-self (Linux 3.17) names the
 * calling thread's; it is taken only when /proc/self has no exe, because
 * qemu-user shows the guest's maps under /proc/self alone (its
 * /proc/thread-self/maps is the emulator's own). */
#ifndef PDI_CORE_PROC_SELF_H
#define PDI_CORE_PROC_SELF_H

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static inline const char *
pdi_proc_self_dir(void)
{
  char target[8];
  return readlink("/proc/self/exe", target, sizeof target) >= 0 ? "/proc/self" : "/proc/thread-self";
}

static inline int
pdi_proc_self_open(const char *name)
{
  char path[64];
  snprintf(path, sizeof path, "%s/%s", pdi_proc_self_dir(), name);
  return open(path, O_RDONLY | O_CLOEXEC);
}

/* Only the exe is read this way: /proc/self first, and the thread's where
 * it has none (the same choice as pdi_proc_self_dir, in one readlink). */
static inline ssize_t
pdi_proc_self_readlink_exe(char *out, size_t size)
{
  ssize_t length = readlink("/proc/self/exe", out, size);
  return length >= 0 ? length : readlink("/proc/thread-self/exe", out, size);
}

#endif
