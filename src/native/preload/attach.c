/* The entry points that `pdi attach` calls inside a running process, after
 * loading the core there with the process's own dlopen (src/native/inject,
 * docs/attach.md). The constructor found no PDI_CONFIG, so the core is
 * inert until pdi_attach_open; pdi_attach_close makes it inert again, and
 * the library stays loaded (a second attach finds the same one). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "../core/libc-environment.h"
#include "../inspect/inspect.h"
#include "../session/session.h"

#define PDI_PUBLIC __attribute__((visibility("default")))

/* Calls come one at a time from the injector (it holds the process with
 * ptrace meanwhile), so no lock guards these. */
static pdi_session_t *attached_session;
static char attach_error[1024];
/* The variables pdi_attach_open set, "NAME\0NAME\0...", unset at close so
 * that the programs this process runs later do not inherit them. */
static char set_names[8192];
static size_t set_names_len;

static int
refuse(const char *message)
{
  snprintf(attach_error, sizeof attach_error, "%s", message);
  return -1;
}

/* Variables are set with the C library's setenv, which the trace backend's
 * getenv reads (it takes the C library's), and also with the program's own
 * setenv when it defines one (bash does, for its variable table), which the
 * getenv of other backends binds to. */
static int (*libc_setenv)(const char *, const char *, int);
static int (*libc_unsetenv)(const char *);

static void
find_libc_environment(void)
{
  pdi_libc_environment_t libc;
  if (pdi_find_libc_environment(&libc) == 0 && libc.set != setenv) {
    libc_setenv = libc.set;
    libc_unsetenv = libc.unset;
  }
}

static void
unset_variables(void)
{
  for (size_t at = 0; at < set_names_len; at += strlen(set_names + at) + 1) {
    unsetenv(set_names + at);
    if (libc_unsetenv != NULL)
      libc_unsetenv(set_names + at);
  }
  set_names_len = 0;
}

/* `variables` is "NAME=VALUE\n..." (no newline inside a value): the settings
 * a launch would have put in the environment (PDI_TRACE_*, PDI_COUNT_OUTPUT),
 * read by the backends as they start. */
static int
set_variables(const char *variables)
{
  find_libc_environment();
  for (const char *line = variables; line != NULL && *line != '\0';) {
    const char *end = strchr(line, '\n');
    size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
    const char *equals = memchr(line, '=', length);
    size_t name_length = equals != NULL ? (size_t)(equals - line) : 0;
    if (name_length == 0 || name_length >= 256 || set_names_len + name_length + 1 > sizeof set_names)
      return refuse("a malformed or too long variable was passed to pdi_attach_open");
    char *entry = malloc(length + 1);
    if (entry == NULL)
      return refuse("out of memory");
    memcpy(entry, line, length);
    entry[length] = '\0';
    entry[name_length] = '\0';
    int failed = setenv(entry, entry + name_length + 1, 1) != 0 ||
                 (libc_setenv != NULL && libc_setenv(entry, entry + name_length + 1, 1) != 0);
    if (!failed) {
      memcpy(set_names + set_names_len, entry, name_length + 1);
      set_names_len += name_length + 1;
    }
    free(entry);
    if (failed)
      return refuse("setenv failed");
    line = end != NULL ? end + 1 : line + length;
  }
  return 0;
}

PDI_PUBLIC const char *
pdi_attach_error(void)
{
  return attach_error;
}

PDI_PUBLIC int
pdi_attach_open(const char *config, const char *variables)
{
  attach_error[0] = '\0';
  if (attached_session != NULL)
    return refuse("pdi is already attached to this process: detach first");
  if (config == NULL || config[0] == '\0')
    return refuse("no config to attach");
  if (set_variables(variables) != 0) {
    unset_variables();
    return -1;
  }
  /* on_error = warn only decides whether what failed was logged and skipped:
   * a failed open leaves nothing installed either way. */
  if (pdi_session_open(config, &attached_session, NULL) != 0) {
    attached_session = NULL;
    unset_variables();
    return refuse(pdi_error());
  }
  return 0;
}

PDI_PUBLIC int
pdi_attach_close(void)
{
  attach_error[0] = '\0';
  if (attached_session == NULL)
    return refuse("pdi is not attached to this process");
  pdi_session_close(attached_session);
  attached_session = NULL;
  unset_variables();
  return 0;
}

PDI_PUBLIC int
pdi_attach_report(const char *path, const char *imports)
{
  attach_error[0] = '\0';
  if (pdi_inspect_write(path, imports) != 0)
    return refuse("the process could not write its report (its stderr says why)");
  return 0;
}
