#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

static int log_fd = STDERR_FILENO;
static int log_level = 1;

void
pdi_log_configure(int level, const char *file)
{
  log_level = level;
  const char *override = getenv("PDI_LOG");
  if (override != NULL && override[0] != '\0')
    file = override;
  if (file == NULL) {
    /* With info, the counts logged at exit must reach the stderr the program
     * started with, though programs close theirs (coreutils do at exit); at
     * warning, the warnings at exit (a misspelled function) too. Not below
     * info when stderr is a pipe or a socket: the copy would hold it open
     * after a daemon closed it, and its reader would wait for the end. */
    struct stat where;
    int keep = level >= PDI_LOG_INFO || (level >= PDI_LOG_WARNING && fstat(STDERR_FILENO, &where) == 0 &&
                                         !S_ISFIFO(where.st_mode) && !S_ISSOCK(where.st_mode));
    int copy = keep && log_fd == STDERR_FILENO ? fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10) : -1;
    if (copy >= 0)
      log_fd = copy;
    return;
  }
  int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0)
    log_fd = fd;
}

pdi_log_state_t
pdi_log_state(void)
{
  return (pdi_log_state_t){log_fd, log_level};
}

void
pdi_log_restore(pdi_log_state_t state)
{
  if (log_fd != state.fd && log_fd != STDERR_FILENO)
    close(log_fd);
  log_fd = state.fd;
  log_level = state.level;
}

int
pdi_log_enabled(int level)
{
  return level <= log_level;
}

void
pdi_log(int level, const char *fmt, ...)
{
  if (level > log_level)
    return;
  static const char *const prefixes[] = {"pdi: ", "pdi: warning: ", "pdi: ", "pdi: debug: "};
  char line[1024];
  int saved_errno = errno;
  int used = snprintf(line, sizeof line, "%s", prefixes[level & 3]);
  va_list args;
  va_start(args, fmt);
  used += vsnprintf(line + used, sizeof line - (size_t)used - 1, fmt, args);
  va_end(args);
  if (used > (int)sizeof line - 2)
    used = (int)sizeof line - 2;
  line[used++] = '\n';
  ssize_t ignored = write(log_fd, line, (size_t)used);
  (void)ignored;
  errno = saved_errno;
}
