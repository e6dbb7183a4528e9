/* The trace backend's text output (output.h). */
#define _GNU_SOURCE
#include "output.h"

#include <fcntl.h>
#include <unistd.h>

#include "../../core/kept-fd.h"

static kept_fd_t output_copy = {.fd = -1}; /* of stderr */
static kept_file_t output_file;            /* PDI_TRACE_OUTPUT */
static int output_is_file;
/* With PDI_TRACE_OUTPUT, stderr as it was at start (programs close theirs at exit), for the lines lost. */
static kept_fd_t lost_report = {.fd = -1};

int
trace_output_open(const char *file, int appending)
{
  trace_output_close();
  trace_output_close_report();
  output_is_file = file != NULL && *file != '\0';
  if (!output_is_file) {
    kept_fd_keep(&output_copy, kept_fd_copy_high(STDERR_FILENO));
    return output_copy.fd >= 0 ? 0 : -1;
  }
  if (kept_file_open(&output_file, file, O_WRONLY | O_CREAT | (appending ? O_APPEND : O_TRUNC)) < 0)
    return -1;
  kept_fd_keep(&lost_report, kept_fd_copy_high(STDERR_FILENO));
  return 0;
}

int
trace_output_fd(pid_t owner)
{
  return output_is_file ? kept_file_get(&output_file, owner) : kept_fd_get(&output_copy, STDERR_FILENO);
}

int
trace_output_to_file(void)
{
  return output_is_file;
}

void
trace_output_close(void)
{
  kept_fd_close(&output_copy);
  kept_file_close(&output_file);
}

int
trace_output_report_fd(void)
{
  return kept_fd_get(&lost_report, STDERR_FILENO);
}

void
trace_output_close_report(void)
{
  kept_fd_close(&lost_report);
}
