/*
 * The guardian's sentinel (docs/comux.md, "The guardian"): a small process
 * that outlives a guardian killed with SIGKILL, which cannot clean up itself.
 * afl-fuzz ends its campaign so (it kills the process it started, the
 * guardian, with SIGKILL), and a daemon, or a master with workers, would
 * then run on, re-parented to init, holding its port.
 *
 * In fork mode (PDI_COMUX_FORK=afl or 1), the guardian starts it before the server (two forks: it is no descendant
 * of the guardian, so the guardian's waits and kills never see it), in a
 * session of its own (a terminal's Ctrl-C or a kill of pdi's process group
 * leaves it alone), with every descriptor closed but its end of a socket
 * pair. When the guardian has cleaned up, it says so with one byte and waits
 * until the sentinel has gone. When the socket reaches its end without that
 * byte, the guardian died first: the sentinel kills every process that maps,
 * or holds, the memory the server's processes share (the memfd of
 * PDI_COMUX_SHARED), until none is left, and ends.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "comux-accept.h"

#define SHARED_NAME "/memfd:pdi-comux"

static int guardian_end = -1;

/* Whether /proc/PID/maps has a mapping of the shared memory (its inode). */
static int
maps_shared(const char *pid, unsigned long long inode)
{
  char path[300];
  snprintf(path, sizeof path, "/proc/%s/maps", pid);
  FILE *maps = fopen(path, "re");
  if (maps == NULL)
    return 0;
  char line[4096];
  int found = 0;
  while (!found && fgets(line, sizeof line, maps) != NULL) {
    unsigned long long mapped;
    if (strstr(line, SHARED_NAME) != NULL && sscanf(line, "%*s %*s %*s %*s %llu", &mapped) == 1)
      found = mapped == inode;
  }
  fclose(maps);
  return found;
}

/* Whether a descriptor of /proc/PID/fd is the shared memory (a program the
 * server executed keeps the descriptor but not the mapping). */
static int
holds_shared(const char *pid, unsigned long long inode)
{
  char path[300];
  snprintf(path, sizeof path, "/proc/%s/fd", pid);
  DIR *fds = opendir(path);
  if (fds == NULL)
    return 0;
  int found = 0;
  struct dirent *entry;
  while (!found && (entry = readdir(fds)) != NULL) {
    char link[600], target[64];
    snprintf(link, sizeof link, "%s/%s", path, entry->d_name);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
      continue;
    target[n] = '\0';
    struct stat status;
    found = strncmp(target, SHARED_NAME, strlen(SHARED_NAME)) == 0 && stat(link, &status) == 0 &&
            (unsigned long long)status.st_ino == inode;
  }
  closedir(fds);
  return found;
}

/* SIGKILL to every other process that shares the memory; how many. */
static int
kill_sharers(unsigned long long inode)
{
  DIR *proc = opendir("/proc");
  if (proc == NULL)
    return 0;
  pid_t self = getpid();
  int killed = 0;
  struct dirent *entry;
  while ((entry = readdir(proc)) != NULL) {
    char *end;
    long pid = strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self)
      continue;
    if ((maps_shared(entry->d_name, inode) || holds_shared(entry->d_name, inode)) && kill((pid_t)pid, SIGKILL) == 0)
      killed++;
  }
  closedir(proc);
  return killed;
}

static void __attribute__((noreturn)) watch(int end, unsigned long long inode)
{
  char byte;
  ssize_t n;
  while ((n = read(end, &byte, 1)) < 0 && errno == EINTR)
    ;
  if (n == 1)
    _exit(0); /* the guardian cleaned up */
  /* Killed processes leave the list once reaped by init; a master may fork
   * another worker meanwhile: until a look finds none (bounded). */
  for (int round = 0; round < 1000 && kill_sharers(inode) > 0; round++) {
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
  }
  comux_remove_unix_sockets();
  _exit(0);
}

/* Closes every descriptor but `keep`. */
static void
close_all_but(int keep)
{
#ifdef SYS_close_range
  if ((keep == 0 || syscall(SYS_close_range, 0U, (unsigned)keep - 1, 0U) == 0) &&
      syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0)
    return;
#endif
  DIR *fds = opendir("/proc/self/fd");
  if (fds == NULL)
    return;
  int own = dirfd(fds);
  struct dirent *entry;
  while ((entry = readdir(fds)) != NULL) {
    int fd = atoi(entry->d_name);
    if (entry->d_name[0] != '.' && fd != keep && fd != own)
      close(fd);
  }
  closedir(fds);
}

void
comux_start_sentinel(void)
{
  /* Fork modes only: there the guardian lives as long as the fork server, and a
   * guardian killed with SIGKILL is how afl-fuzz ends; a run of its own would
   * pay two forks and a wait for every replay. */
  const char *text = getenv("PDI_COMUX_SHARED");
  struct stat shared;
  if (fork_mode == COMUX_FORK_NONE || text == NULL || fstat(atoi(text), &shared) != 0)
    return;
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
    return;
  pid_t first = fork();
  if (first == 0) {
    setsid();
    if (fork() != 0)
      _exit(0);
    prctl(PR_SET_NAME, "pdi-sentinel", 0, 0, 0); /* what ps and pgrep show, not the server's name */
    close_all_but(ends[1]);
    for (int signal_number = 1; signal_number < NSIG; signal_number++)
      if (signal_number != SIGKILL && signal_number != SIGSTOP)
        signal(signal_number, signal_number == SIGCHLD ? SIG_DFL : SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    watch(ends[1], (unsigned long long)shared.st_ino);
  }
  close(ends[1]);
  if (first < 0) {
    close(ends[0]);
    return;
  }
  while (waitpid(first, NULL, 0) < 0 && errno == EINTR)
    ;
  guardian_end = ends[0];
}

void
comux_sentinel_forget(void)
{
  if (guardian_end >= 0)
    close(guardian_end);
  guardian_end = -1;
}

void
comux_release_sentinel(void)
{
  if (guardian_end < 0)
    return;
  char byte = 1;
  if (write(guardian_end, &byte, 1) == 1) {
    /* Until the sentinel has gone: nothing of the run is left when the started process ends. */
    struct pollfd gone = {guardian_end, POLLIN, 0};
    while (poll(&gone, 1, 1000) < 0 && errno == EINTR)
      ;
  }
  comux_sentinel_forget();
}

void
comux_remove_unix_sockets(void)
{
  int count = tree == NULL ? 0 : __atomic_load_n(&tree->unix_count, __ATOMIC_ACQUIRE);
  for (int i = 0; i < count && i < COMUX_UNIX_PATHS; i++) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    memcpy(address.sun_path, tree->unix_paths[i], COMUX_UNIX_PATH_SIZE);
    address.sun_path[sizeof address.sun_path - 1] = '\0';
    struct stat file;
    if (address.sun_path[0] != '/' || lstat(address.sun_path, &file) != 0 || !S_ISSOCK(file.st_mode))
      continue;
    /* Only a socket nobody listens on: not one that another server bound there since. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&address, sizeof address) != 0 && errno == ECONNREFUSED)
      unlink(address.sun_path);
    if (probe >= 0)
      close(probe);
  }
}
