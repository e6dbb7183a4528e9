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
/* The variables pdi_attach_open set, each with the value it replaced (NULL:
 * none), put back at close: the programs this process runs later inherit
 * its environment as it was before the attach (a `pdi run` program keeps
 * its PDI_ACT_REPORT), not pdi's settings. */
#define MAX_SET_VARIABLES 64

typedef struct set_variable {
  char *name;
  char *previous;
} set_variable_t;

static set_variable_t set_list[MAX_SET_VARIABLES];
static unsigned set_count;

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
static pdi_libc_environment_t libc_environment;
static int program_defines_environment;

static void
find_libc_environment(void)
{
  program_defines_environment = pdi_find_libc_environment(&libc_environment) == 0 && libc_environment.set != setenv;
}

static int
put_variable(const char *name, const char *value)
{
  if (value == NULL)
    return unsetenv(name) != 0 || (program_defines_environment && libc_environment.unset(name) != 0);
  return setenv(name, value, 1) != 0 || (program_defines_environment && libc_environment.set(name, value, 1) != 0);
}

static void
unset_variables(void)
{
  while (set_count > 0) {
    set_variable_t *variable = &set_list[--set_count];
    put_variable(variable->name, variable->previous);
    free(variable->name);
    free(variable->previous);
  }
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
    if (name_length == 0 || name_length >= 256 || set_count == MAX_SET_VARIABLES)
      return refuse("a malformed variable or too many were passed to pdi_attach_open");
    char *entry = strndup(line, length);
    if (entry == NULL)
      return refuse("out of memory");
    entry[name_length] = '\0';
    const char *previous = program_defines_environment ? libc_environment.get(entry) : getenv(entry);
    set_variable_t *variable = &set_list[set_count];
    variable->previous = previous != NULL ? strdup(previous) : NULL;
    if (previous != NULL && variable->previous == NULL) {
      free(entry);
      return refuse("out of memory");
    }
    variable->name = entry;
    set_count++;
    if (put_variable(entry, entry + name_length + 1) != 0)
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
