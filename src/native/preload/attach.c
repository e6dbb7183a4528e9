/* The entry points that `pdi attach` calls inside a running process, after
 * loading the core there with the process's own dlopen (src/native/inject,
 * docs/attach.md). The constructor found no PDI_CONFIG, so the core is
 * inert until pdi_attach_open_owned; pdi_attach_close makes it inert again, and
 * the library stays loaded (a second attach finds the same one). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/core.h"
#include "../core/libc-environment.h"
#include "../core/process-start.h"
#include "../inspect/inspect.h"
#include "../session/session.h"
#include "attach.h"

#define PDI_PUBLIC __attribute__((visibility("default")))

/* Calls come one at a time from the injector (it holds the process with
 * ptrace meanwhile), so no lock guards these. */
static pdi_session_t *attached_session;
/* The process the session was attached to: in a child forked since, the
 * session is a copy that no detach reaches. */
static pid_t attached_pid;
static char attach_error[1024];
/* The pdi process that attached (the injector's parent) and its start time
 * in clock ticks since boot, field 22 of its /proc stat (a reused pid has
 * another): when it has ended without a detach (killed, or a script that
 * never called detach()), nothing will ever detach, and the next attach
 * closes the session it left. */
static pid_t owner_pid;
static unsigned long long owner_start;
/* The variables pdi_attach_open_owned set, each with the values it replaced
 * (NULL: none), put back at close: the programs this process runs later
 * inherit its environment as it was before the attach (a `pdi run` program
 * keeps its PDI_ACT_REPORT), not pdi's settings. */
#define MAX_SET_VARIABLES 64

/* Variables are set with the C library's setenv, which the trace backend's
 * getenv reads (it takes the C library's), and also with the program's own
 * setenv when it defines one (bash does, for its variable table), which the
 * getenv of other backends binds to. Each keeps its own old value. */
enum { PROGRAM_ENVIRONMENT, LIBC_ENVIRONMENT, ENVIRONMENTS };

typedef struct set_variable {
  char *name;
  char *previous[ENVIRONMENTS];
} set_variable_t;

static set_variable_t set_list[MAX_SET_VARIABLES];
static unsigned set_count;
static pdi_libc_environment_t environments[ENVIRONMENTS];
static unsigned environment_count;

static int
refuse(const char *message)
{
  snprintf(attach_error, sizeof attach_error, "%s", message);
  return -1;
}

static void
find_environments(void)
{
  environments[PROGRAM_ENVIRONMENT] = (pdi_libc_environment_t){getenv, setenv, unsetenv};
  environment_count = pdi_find_libc_environment(&environments[LIBC_ENVIRONMENT]) == 0 &&
                              environments[LIBC_ENVIRONMENT].set != setenv
                          ? 2
                          : 1;
}

static int
put_variable(const pdi_libc_environment_t *environment, const char *name, const char *value)
{
  return value == NULL ? environment->unset(name) : environment->set(name, value, 1);
}

static void
unset_variables(void)
{
  while (set_count > 0) {
    set_variable_t *variable = &set_list[--set_count];
    for (unsigned i = 0; i < environment_count; i++) {
      put_variable(&environments[i], variable->name, variable->previous[i]);
      free(variable->previous[i]);
    }
    free(variable->name);
  }
}

/* `variables` is "NAME=VALUE\n..." (no newline inside a value): the settings
 * a launch would have put in the environment (PDI_TRACE_*, PDI_COUNT_OUTPUT),
 * read by the backends as they start. */
static int
set_variables(const char *variables)
{
  find_environments();
  for (const char *line = variables; line != NULL && *line != '\0';) {
    const char *end = strchr(line, '\n');
    size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
    const char *equals = memchr(line, '=', length);
    size_t name_length = equals != NULL ? (size_t)(equals - line) : 0;
    if (name_length == 0 || name_length >= 256 || set_count == MAX_SET_VARIABLES)
      return refuse("a malformed variable or too many were passed to pdi_attach_open_owned");
    set_variable_t *variable = &set_list[set_count];
    *variable = (set_variable_t){strndup(line, length), {NULL, NULL}};
    if (variable->name == NULL)
      return refuse("out of memory");
    variable->name[name_length] = '\0';
    for (unsigned i = 0; i < environment_count; i++) {
      const char *previous = environments[i].get(variable->name);
      if (previous != NULL && (variable->previous[i] = strdup(previous)) == NULL) {
        free(variable->previous[0]);
        free(variable->name);
        return refuse("out of memory");
      }
    }
    /* Counted once its old values are kept: the close puts back only what they say. */
    set_count++;
    for (unsigned i = 0; i < environment_count; i++)
      if (put_variable(&environments[i], variable->name, variable->name + name_length + 1) != 0)
        return refuse("setenv failed");
    line = end != NULL ? end + 1 : line + length;
  }
  return 0;
}

/* "PID START" of the attaching pdi, or NULL/empty when unknown. */
static void
note_owner(const char *owner)
{
  if (owner == NULL || sscanf(owner, "%d %llu", &owner_pid, &owner_start) != 2)
    owner_pid = 0; /* unknown: never taken for gone */
}

static int
owner_gone(void)
{
  return pdi_process_gone(owner_pid, owner_start);
}

PDI_PUBLIC const char *
pdi_attach_error(void)
{
  return attach_error;
}

/* `owner`: "PID START" of the pdi process attaching (pdi-inject's parent). */
PDI_PUBLIC int
pdi_attach_open_owned(const char *config, const char *variables, const char *owner)
{
  attach_error[0] = '\0';
  if (attached_session != NULL && (attached_pid != getpid() || owner_gone())) {
    /* Inherited at a fork from the process pdi attached to (a server's
     * respawned worker), or left by a pdi that ended without detaching:
     * closed here, as its detach would have, so that this attach and its
     * detach leave the process as it was before either. */
    pdi_session_close_ended(attached_session);
    attached_session = NULL;
    unset_variables();
  }
  if (attached_session != NULL)
    return refuse("pdi is already attached to this process (by pdi attach, attach() or pdi trace -p): one at a time; "
                  "end that one first");
  /* A pdi trace killed without detaching left its trace, inert, holding the
   * trace backend and the slots: closed as its own end would have. */
  pdi_preload_close_orphaned();
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
    int refused = refuse(pdi_error());
    pdi_session_discard_failed();
    unset_variables();
    return refused;
  }
  attached_pid = getpid();
  note_owner(owner);
  return 0;
}

PDI_PUBLIC int
pdi_attach_close(void)
{
  attach_error[0] = '\0';
  if (attached_session == NULL)
    return refuse("pdi is not attached to this process");
  pdi_session_close_ended(attached_session);
  attached_session = NULL;
  unset_variables();
  return 0;
}

/* The process ends while attached (it returned from main, or called exit):
 * the session closes as pdi run's does, its backends finish and report
 * (act counts to the attach's report file), before pdi run's session. */
void
pdi_attach_close_at_exit(void)
{
  pdi_session_close_at_exit(attached_session);
  attached_session = NULL;
}

PDI_PUBLIC int
pdi_attach_report(const char *path, const char *imports)
{
  attach_error[0] = '\0';
  if (pdi_inspect_write(path, imports) != 0)
    return refuse("the process could not write its report (its stderr says why)");
  return 0;
}
