#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/core.h"
#include "inspect.h"

static void
say(const char *message, const char *detail)
{
  pdi_buf_t line = {0};
  pdi_buf_puts(&line, "pdi: ");
  pdi_buf_puts(&line, message);
  if (detail != NULL) {
    pdi_buf_puts(&line, ": ");
    pdi_buf_puts(&line, detail);
  }
  pdi_buf_putc(&line, '\n');
  if (!line.failed && write(STDERR_FILENO, line.data, line.len) < 0)
    line.failed = 1;
  pdi_buf_release(&line);
}

static int
write_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

int
pdi_inspect_write(const char *path, const char *imports)
{
  pdi_objects_t set;
  if (pdi_objects_scan(&set) != 0) {
    say("inspect", pdi_error());
    return -1;
  }
  pdi_buf_t report = {0};
  unsigned flags = imports == NULL || imports[0] == '\0' ? PDI_REPORT_IMPORTS_ALL : 0;
  pdi_report_process(&report, &set, imports, flags);
  pdi_buf_putc(&report, '\n');
  pdi_objects_release(&set);
  if (report.failed) {
    say("inspect", "out of memory while writing the report");
    pdi_buf_release(&report);
    return -1;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int status = fd < 0 ? -1 : write_all(fd, report.data, report.len);
  if (fd >= 0 && close(fd) != 0)
    status = -1;
  pdi_buf_release(&report);
  if (status != 0) {
    int error = errno;
    pdi_buf_t what = {0};
    pdi_buf_puts(&what, "cannot write the inspect report to ");
    pdi_buf_puts(&what, path);
    const char *advice = error == ENOSPC || error == EDQUOT ? " (set TMPDIR to a directory with room)" : "";
    char reason[256];
    snprintf(reason, sizeof reason, "%s%s", strerror(error), advice);
    say(what.failed ? "cannot write the inspect report" : what.data, reason);
    pdi_buf_release(&what);
  }
  return status;
}

/* Runs before the preload's constructor opens the session (a prioritized constructor runs before the others of its
 * object): the report file exists, empty, from the moment the core is loaded, so that pdi can tell a core that
 * then ended the program (a config it could not install, with its message on stderr) from a program that never
 * loaded it (setuid, or LD_PRELOAD cleared). */
__attribute__((constructor(101))) static void
pdi_inspect_mark_loaded(void)
{
  int saved_errno = errno;
  const char *out = getenv("PDI_INSPECT_OUT");
  if (out != NULL && out[0] != '\0') {
    int fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
      close(fd);
  }
  errno = saved_errno;
}

/* With --run, pdi shows the report before main runs: the program's own
 * output, and a server that never ends, come after it. PDI_INSPECT_READY
 * names a socket pdi holds: one byte says the report is there, and main
 * waits for pdi's byte back (or its end). The socket is closed, not
 * inherited by the program's own code. */
static void
wait_for_report_shown(void)
{
  const char *text = getenv("PDI_INSPECT_READY");
  char *end = NULL;
  long fd = text != NULL ? strtol(text, &end, 10) : -1;
  unsetenv("PDI_INSPECT_READY");
  if (text == NULL || end == text || *end != '\0' || fd < 0 || fd > 1 << 20)
    return;
  char byte = 'r';
  ssize_t n;
  while ((n = send((int)fd, &byte, 1, MSG_NOSIGNAL)) < 0 && errno == EINTR) /* pdi gone: no SIGPIPE */
    ;
  while (n == 1 && (n = read((int)fd, &byte, 1)) < 0 && errno == EINTR)
    ;
  close((int)fd);
}

void
pdi_inspect_from_environment(void)
{
  const char *out = getenv("PDI_INSPECT_OUT");
  if (out == NULL || out[0] == '\0')
    return;
  const char *imports = getenv("PDI_INSPECT_IMPORTS");
  const char *run = getenv("PDI_INSPECT_RUN");
  int keep_running = run != NULL && strcmp(run, "1") == 0;
  int status = pdi_inspect_write(out, imports);
  /* Children of the inspected program must not overwrite its report. */
  unsetenv("PDI_INSPECT_OUT");
  unsetenv("PDI_INSPECT_IMPORTS");
  unsetenv("PDI_INSPECT_RUN");
  if (status != 0)
    _exit(2);
  if (!keep_running)
    _exit(0);
  wait_for_report_shown();
}
