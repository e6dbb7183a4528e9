/* pdi-inject PID CORE OPERATION [ARGS]: loads the pdi core CORE into the
 * running process PID with the process's own dlopen and calls an attach
 * entry point of the core there (docs/attach.md):
 *
 *   open CONFIG VARIABLES   pdi_attach_open_owned(CONFIG, VARIABLES, OWNER),
 *                           OWNER: "PID START" of this program's parent, the
 *                           pdi that attaches
 *   close                   pdi_attach_close()
 *   report FILE PATTERN     pdi_attach_report(FILE, PATTERN)
 *
 * Success is exit 0 and no output; a failure is one line on stderr and exit
 * 2; the kernel refusing to let us trace is exit 3, for the caller to word
 * (it knows the reasons: ptrace_scope, another tracer, another user). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/process-start.h"
#include "inject.h"

void
inject_fail(const char *fmt, ...)
{
  inject_release_held();
  va_list args;
  va_start(args, fmt);
  vfprintf(stderr, fmt, args);
  va_end(args);
  fputc('\n', stderr);
  exit(INJECT_FAILED);
}

static uintptr_t
push_string(inject_thread_t *thread, const char *text)
{
  return inject_push(thread, text, strlen(text) + 1);
}

/* The core's handle in the target: loaded now for `open`, only looked up
 * otherwise (a detach from a process pdi never entered loads nothing). */
static uintptr_t
core_handle(inject_thread_t *thread, const inject_target_t *target, const char *core, int load)
{
  uintptr_t args[2] = {push_string(thread, core), (uintptr_t)(RTLD_NOW | (load ? 0 : RTLD_NOLOAD))};
  uintptr_t handle = inject_call(thread, target->dlopen, args, 2);
  if (handle != 0)
    return handle;
  if (!load)
    inject_fail("pdi is not attached to process %d (its core is not loaded there)", (int)target->pid);
  char error[1024];
  inject_read_string(thread, inject_call(thread, target->dlerror, NULL, 0), error, sizeof error);
  inject_fail("loading %s into process %d failed: %s", core, (int)target->pid, error[0] ? error : "dlopen failed");
}

static uintptr_t
core_function(inject_thread_t *thread, const inject_target_t *target, uintptr_t handle, const char *name)
{
  uintptr_t args[2] = {handle, push_string(thread, name)};
  uintptr_t fn = inject_call(thread, target->dlsym, args, 2);
  if (fn == 0)
    inject_fail("the pdi core loaded in process %d has no %s (another version of pdi?)", (int)target->pid, name);
  return fn;
}

/* "PID START" of the process that ran this one (the pdi command or the Node
 * process of attach()). */
static void
parent_identity(char *out, size_t size)
{
  pid_t parent = getppid();
  snprintf(out, size, "%d %llu", (int)parent, pdi_process_start(parent));
}

static void
usage(void)
{
  fprintf(stderr, "usage: pdi-inject PID CORE open CONFIG VARIABLES | close | report FILE PATTERN\n");
  exit(INJECT_FAILED);
}

int
main(int argc, char **argv)
{
  /* Killed in the middle of a call, the injector would leave the borrowed
   * thread running injected code on a changed stack: the terminal's
   * Ctrl-C is for the pdi command, which waits for this operation. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  if (argc < 4)
    usage();
  const char *operation = argv[3];
  int open_op = strcmp(operation, "open") == 0, close_op = strcmp(operation, "close") == 0;
  int report_op = strcmp(operation, "report") == 0;
  if ((open_op && argc != 6) || (close_op && argc != 4) || (report_op && argc != 6) ||
      !(open_op || close_op || report_op))
    usage();
  char *end;
  long pid = strtol(argv[1], &end, 10);
  if (*end != '\0' || pid <= 0 || pid > 0x7fffffff)
    inject_fail("%s is not a process id", argv[1]);
  if (pid == getpid())
    inject_fail("pdi-inject cannot attach to itself");
  inject_target_t target;
  inject_target_read(&target, (pid_t)pid, argv[2]);
  inject_thread_t thread;
  inject_thread_hold(&thread, &target);
  const char *name = open_op ? "pdi_attach_open_owned" : close_op ? "pdi_attach_close" : "pdi_attach_report";
  /* A detach calls no dlopen or dlsym when the core's mapping says where its
   * function is: what a trace of the C library sees is the program's alone. */
  const char *const close_names[2] = {name, "pdi_attach_error"};
  uintptr_t found[2] = {0, 0};
  if (close_op)
    inject_core_functions(&target, argv[2], close_names, 2, found);
  uintptr_t fn = found[0], error_fn = found[1];
  uintptr_t handle = 0;
  if (fn == 0 || error_fn == 0) {
    handle = core_handle(&thread, &target, argv[2], open_op || report_op);
    fn = core_function(&thread, &target, handle, name);
  }
  uintptr_t args[3] = {0, 0, 0};
  if (!close_op) {
    args[0] = push_string(&thread, argv[4]);
    args[1] = push_string(&thread, argv[5]);
  }
  if (open_op) {
    char owner[64];
    parent_identity(owner, sizeof owner);
    args[2] = push_string(&thread, owner);
  }
  int result = (int)inject_call(&thread, fn, args, close_op ? 0 : open_op ? 3 : 2);
  char error[2048] = "";
  if (result != 0) {
    if (error_fn == 0)
      error_fn = core_function(&thread, &target, handle, "pdi_attach_error");
    inject_read_string(&thread, inject_call(&thread, error_fn, NULL, 0), error, sizeof error);
  }
  if (inject_thread_release(&thread) != 0)
    return INJECT_FAILED;
  if (result != 0) {
    fprintf(stderr, "process %d: %s\n", (int)pid, error[0] ? error : "the pdi core refused");
    return INJECT_FAILED;
  }
  return 0;
}
