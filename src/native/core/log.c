#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "kept-fd.h"
#include "escape.h"

static int log_fd = STDERR_FILENO;
static int log_level = 1;

/* The copy of stderr made below, which forked children drop, or -1. */
static int stderr_copy = -1;

/* What log_fd was when pdi opened it, and the log file's path ("" for the
 * copy of stderr). A program may close every descriptor it did not open
 * (closefrom, close_range, a daemon's loop) and get the number again for a
 * file or socket of its own: pdi must then neither write its lines there nor
 * close it (in a forked child, at the end of a session). */
static kept_fd_t log_kept = {.fd = -1};
static char log_path[4096];
/* PDI_WARNINGS_FILE: where runProgram() collects the warnings and errors of every process of its launch besides
 * the log, whatever the program did with its stderr ("" for none). Opened for each line: they are few. */
static char warnings_path[4096];

static void
remember_log_fd(int fd)
{
  kept_fd_keep(&log_kept, fd);
}

/* Whether fd is still the descriptor pdi opened: close-on-exec as pdi made
 * it, and the same file opened the same way. */
static int
still_ours(int fd)
{
  return fd == log_kept.fd && kept_fd_get(&log_kept, -1) == fd;
}

/* A forked child goes back to its own stderr: a daemon (fork, then the
 * parent exits) must not hold the copy, or a pipe's reader would wait for
 * its end. The warnings at exit are the first process's (session.c). */
static void
drop_copy_in_child(void)
{
  if (stderr_copy < 0)
    return;
  if (still_ours(stderr_copy))
    close(stderr_copy);
  if (log_fd == stderr_copy)
    log_fd = STDERR_FILENO;
  stderr_copy = -1;
}

/* The log on stderr, through a copy of it when warnings are wanted: the
 * counts logged at exit (info) and the warnings at exit (a misspelled
 * function) must reach the stderr the program started with, though programs
 * close theirs (coreutils do at exit). */
static void
log_to_stderr(int level)
{
  if (level < PDI_LOG_WARNING || log_fd != STDERR_FILENO)
    return;
  int copy = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10);
  if (copy < 0)
    return;
  static int registered;
  if (!registered && pthread_atfork(NULL, NULL, drop_copy_in_child) != 0) {
    close(copy);
    return;
  }
  registered = 1;
  log_fd = stderr_copy = copy;
  log_path[0] = '\0';
  remember_log_fd(copy);
}

void
pdi_log_configure(int level, const char *file, int quiet)
{
  log_level = level;
  const char *warnings = getenv("PDI_WARNINGS_FILE");
  if (warnings == NULL || snprintf(warnings_path, sizeof warnings_path, "%s", warnings) >= (int)sizeof warnings_path)
    warnings_path[0] = '\0';
  const char *override = getenv("PDI_LOG");
  if (override != NULL && override[0] != '\0')
    file = override;
  if (file == NULL) {
    log_to_stderr(level);
    return;
  }
  /* Near the descriptor limit: the program's files get the numbers they get without pdi (kept-fd.h). */
  int fd = kept_fd_move_high(open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd >= 0) {
    log_fd = fd;
    /* Absolute, for opening it again after a chdir (PDI_LOG may be relative). */
    char cwd[2048];
    int length = file[0] == '/'                    ? snprintf(log_path, sizeof log_path, "%s", file)
                 : getcwd(cwd, sizeof cwd) != NULL ? snprintf(log_path, sizeof log_path, "%s/%s", cwd, file)
                                                   : -1;
    if (length < 0 || length >= (int)sizeof log_path)
      log_path[0] = '\0';
    remember_log_fd(fd);
    return;
  }
  /* Asked for and not there: said on stderr, which takes the log instead
   * (the counts and warnings at exit would otherwise be lost unseen). */
  int error = errno;
  char shown[512];
  pdi_escape_controls(file, shown, sizeof shown);
  log_to_stderr(level);
  if (!quiet)
    pdi_log(PDI_LOG_WARNING, "%s '%s': cannot open it (%s): logging to stderr instead",
            file == override ? "PDI_LOG" : "log_file", shown, strerror(error));
}

pdi_log_state_t
pdi_log_state(void)
{
  return (pdi_log_state_t){log_fd, log_level};
}

void
pdi_log_restore(pdi_log_state_t state)
{
  if (log_fd != state.fd && log_fd != STDERR_FILENO) {
    if (still_ours(log_fd))
      close(log_fd);
    if (log_fd == stderr_copy)
      stderr_copy = -1;
  }
  log_fd = state.fd;
  log_level = state.level;
}

/* log_fd, or where its lines go now that the program has closed it: the log
 * file opened again, or else the program's stderr, as in a forked child. */
static int
current_log_fd(void)
{
  if (log_fd == STDERR_FILENO || still_ours(log_fd))
    return log_fd;
  int fd = log_path[0] != '\0' ? kept_fd_move_high(open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644))
                               : -1;
  if (log_fd == stderr_copy)
    stderr_copy = -1;
  log_fd = fd >= 0 ? fd : STDERR_FILENO;
  if (fd >= 0)
    remember_log_fd(fd);
  return log_fd;
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
  char message[1024], shown[2048], line[1024];
  int saved_errno = errno;
  va_list args;
  va_start(args, fmt);
  int length = vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  if (length >= (int)sizeof message)
    pdi_mark_cut(message, sizeof message - 1);
  /* A config's or a name's bytes end up in messages (a Warning line, a rule's function): none of them may drive the
   * terminal, as none does in pdi_error's messages. `shown` holds more than a line: one it cuts is cut below. */
  pdi_escape_controls(message, shown, sizeof shown);
  int used = snprintf(line, sizeof line, "%s%s", prefixes[level & 3], shown);
  if (used > (int)sizeof line - 2) {
    pdi_mark_cut(line, sizeof line - 2);
    used = (int)strlen(line);
  }
  line[used++] = '\n';
  ssize_t ignored = kept_fd_write(current_log_fd(), line, (size_t)used);
  if (level <= PDI_LOG_WARNING && warnings_path[0] != '\0') {
    int fd = open(warnings_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ignored = kept_fd_write(fd, line, (size_t)used);
      close(fd);
    }
  }
  (void)ignored;
  errno = saved_errno;
}
