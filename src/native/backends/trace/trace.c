/*
 * The trace backend: with a callback rule it logs every instrumented call,
 * like ltrace but in-process:
 *
 *     THREAD DEPTH object!function(0xARG, ...) = 0xRET
 *
 * one line per call, written when the call returns (a frame left by longjmp
 * or an exception ends in "= <abandoned>"). Integer and pointer arguments
 * are shown in hex; PDI_TRACE_ARGS sets how many (default 3, at most 6).
 * Lines go to the file named by PDI_TRACE_OUTPUT, else to the stderr the
 * process started with.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pdi/backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 6

typedef struct pending {
  uintptr_t args[MAX_ARGS];
} pending_t;

static int output_fd = -1;
static unsigned shown_args = 3;

int
PDI_BE_FUNC_INIT(const pdi_backend_t *self)
{
  (void)self;
  const char *file = getenv("PDI_TRACE_OUTPUT");
  output_fd = file && *file ? open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                            : fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10);
  const char *args = getenv("PDI_TRACE_ARGS");
  if (args && *args) {
    long n = strtol(args, NULL, 10);
    shown_args = n < 0 ? 0 : n > MAX_ARGS ? MAX_ARGS : (unsigned)n;
  }
  return output_fd < 0;
}

void
PDI_BE_FUNC_FINI(void)
{
  if (output_fd >= 0)
    close(output_fd);
  output_fd = -1;
}

int
PDI_BE_FUNC_CB_REQ(const pdi_cb_site_t *site)
{
  (void)site;
  return 1;
}

void
PDI_BE_FUNC_PRE_CB(pdi_cb_call_t *call)
{
  pending_t *pending = malloc(sizeof *pending);
  if (pending == NULL)
    return;
  for (unsigned i = 0; i < shown_args; i++)
    pending->args[i] = pdi_arg_int(call, i);
  call->user = (uintptr_t)pending;
}

void
PDI_BE_FUNC_POST_CB(pdi_cb_call_t *call)
{
  pending_t *pending = (pending_t *)call->user;
  const char *object = strrchr(call->site->object, '/');
  object = object ? object + 1 : call->site->object;
  char line[512];
  int used = snprintf(line, sizeof line, "%u %u %s!%s(", call->thread, call->depth, object, call->site->function);
  for (unsigned i = 0; pending != NULL && i < shown_args && used < (int)sizeof line; i++)
    used += snprintf(line + used, sizeof line - (size_t)used, "%s%#lx", i ? ", " : "", (unsigned long)pending->args[i]);
  if (used < (int)sizeof line) {
    if (call->abandoned)
      used += snprintf(line + used, sizeof line - (size_t)used, ") = <abandoned>\n");
    else
      used += snprintf(line + used, sizeof line - (size_t)used, ") = %#lx\n", (unsigned long)pdi_ret_int(call));
  }
  if (used > (int)sizeof line - 1) {
    used = (int)sizeof line - 1;
    line[used - 1] = '\n';
  }
  ssize_t ignored = write(output_fd, line, (size_t)used);
  (void)ignored;
  free(pending);
  call->user = 0;
}
