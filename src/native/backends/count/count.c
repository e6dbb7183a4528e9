/*
 * The count backend: pass-through wrappers for common libc functions that
 * count their calls, and a summary at exit on stderr (or the file named by
 * PDI_COUNT_OUTPUT): one line "pdi-count: FUNCTION CALLS" per function
 * called at least once. Use it with relink or redefine rules whose wrapper
 * is count_<function>:
 *
 *     backend count = count
 *     relink $main malloc count count_malloc
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pdi/backend.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/kept-fd.h"
#include "../../core/libc-environment.h"

#define COUNTED(X)                                                                                                     \
  X(malloc) X(calloc) X(realloc) X(free) X(open) X(close) X(read) X(write) X(getpid) X(puts) X(strlen) X(memcpy)

/* X-macro lists read as one long expression to clang-format. */
/* clang-format off */
enum {
#define INDEX(name) COUNT_##name,
  COUNTED(INDEX)
#undef INDEX
  COUNT_FUNCTIONS
};

static const char *const names[COUNT_FUNCTIONS] = {
#define NAME(name) #name,
  COUNTED(NAME)
#undef NAME
};
/* clang-format on */

static unsigned long counts[COUNT_FUNCTIONS];
static kept_fd_t report = {.fd = -1}; /* the copy of stderr */
/* PDI_COUNT_OUTPUT, near the descriptor limit, so that the program's files get the numbers they get without pdi,
 * and opened again at exit when the program has closed it (kept-fd.h). */
static kept_file_t report_file;
static int report_to_file;

/* Keep the stderr the process started with: programs such as coreutils
 * close theirs before exit, long before our summary is written. The C
 * library's getenv and setenv, not a program's own (bash defines them). */
int
PDI_BE_FUNC_INIT(const pdi_backend_t *self)
{
  (void)self;
  /* A session of its own: after a detach the library stays loaded (docs/attach.md), and the next attach's counts
   * start from 0, not from the last session's. */
  for (int i = 0; i < COUNT_FUNCTIONS; i++)
    __atomic_store_n(&counts[i], 0, __ATOMIC_RELAXED);
  pdi_libc_environment_t environment = pdi_libc_environment();
  const char *file = pdi_anchor_path_variable(&environment, "PDI_COUNT_OUTPUT");
  report_to_file = file && *file;
  if (report_to_file)
    kept_file_open(&report_file, file, O_WRONLY | O_CREAT | O_APPEND);
  else
    kept_fd_copy_stderr(&report);
  return 0;
}

#define BUMP(name) __atomic_fetch_add(&counts[COUNT_##name], 1, __ATOMIC_RELAXED)

/* The function the rule replaced; by name when no rule uses this wrapper
 * (donttouch_backends keeps our own slots pointing at libc). */
#define ORIGINAL(wrapper, fallback)                                                                                    \
  (pdi_original((const void *)wrapper) ? (__typeof__(&fallback))pdi_original((const void *)wrapper) : &fallback)

#define EXPORT __attribute__((visibility("default")))

EXPORT void *
count_malloc(size_t size)
{
  BUMP(malloc);
  return ORIGINAL(count_malloc, malloc)(size);
}

EXPORT void *
count_calloc(size_t count, size_t size)
{
  BUMP(calloc);
  return ORIGINAL(count_calloc, calloc)(count, size);
}

EXPORT void *
count_realloc(void *pointer, size_t size)
{
  BUMP(realloc);
  return ORIGINAL(count_realloc, realloc)(pointer, size);
}

EXPORT void
count_free(void *pointer)
{
  BUMP(free);
  ORIGINAL(count_free, free)(pointer);
}

EXPORT int
count_open(const char *path, int flags, ...)
{
  BUMP(open);
  mode_t mode = 0;
  if (flags & (O_CREAT | __O_TMPFILE)) {
    va_list args;
    va_start(args, flags);
    mode = (mode_t)va_arg(args, int);
    va_end(args);
  }
  return ORIGINAL(count_open, open)(path, flags, mode);
}

EXPORT int
count_close(int fd)
{
  BUMP(close);
  return ORIGINAL(count_close, close)(fd);
}

EXPORT ssize_t
count_read(int fd, void *buffer, size_t size)
{
  BUMP(read);
  return ORIGINAL(count_read, read)(fd, buffer, size);
}

EXPORT ssize_t
count_write(int fd, const void *buffer, size_t size)
{
  BUMP(write);
  return ORIGINAL(count_write, write)(fd, buffer, size);
}

EXPORT pid_t
count_getpid(void)
{
  BUMP(getpid);
  return ORIGINAL(count_getpid, getpid)();
}

EXPORT int
count_puts(const char *text)
{
  BUMP(puts);
  return ORIGINAL(count_puts, puts)(text);
}

EXPORT size_t
count_strlen(const char *text)
{
  BUMP(strlen);
  return ORIGINAL(count_strlen, strlen)(text);
}

EXPORT void *
count_memcpy(void *destination, const void *source, size_t size)
{
  BUMP(memcpy);
  return ORIGINAL(count_memcpy, memcpy)(destination, source, size);
}

void
PDI_BE_FUNC_FINI(void)
{
  int fd = report_to_file ? kept_file_get(&report_file, 0) : kept_fd_get(&report, STDERR_FILENO);
  if (fd < 0)
    fd = STDERR_FILENO; /* the file cannot be opened again */
  for (int i = 0; i < COUNT_FUNCTIONS; i++) {
    unsigned long calls = __atomic_exchange_n(&counts[i], 0, __ATOMIC_RELAXED);
    if (calls == 0)
      continue;
    char line[96];
    int length = snprintf(line, sizeof line, "pdi-count: %s %lu\n", names[i], calls);
    if (length > 0 && kept_fd_write(fd, line, (size_t)length) < 0)
      break;
  }
  kept_fd_close(&report);
  kept_file_close(&report_file);
}
