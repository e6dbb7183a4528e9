/* Prototype lookup: the user's prototypes (from pdi trace --prototypes)
 * first, then the built-in table. Runs at init and cb_req time only. */
#define _GNU_SOURCE
#include "prototypes.h"

#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "prototypes-table.h"

static trace_proto_t *user_protos;
static unsigned user_count;

static int
valid_spec(const char *spec)
{
  static const char kinds[] = "89vilzuxpscCyYhHbdgaOFomPMDTNWASEetjfIkRGJZXBwnrKVLUQq#$%&*^.";
  size_t n = strlen(spec);
  if (n == 0 || spec[0] == '.' || strchr(kinds, spec[0]) == NULL)
    return 0;
  size_t i = spec[1] == '!' ? 2 : 1;
  if (n - i > TRACE_MAX_PROTO_ARGS)
    return 0;
  for (; i < n; i++)
    if (spec[i] == 'v' || strchr(kinds, spec[i]) == NULL || (spec[i] == '.' && i != n - 1))
      return 0;
  return 1;
}

int
trace_protos_load(const char *text)
{
  /* A backend initialised again (observe() after close()) starts afresh; the
   * previous tables are left to any hook still finishing with them. */
  user_protos = NULL;
  user_count = 0;
  if (text == NULL || *text == '\0')
    return 0;
  size_t entries;
  char **entry_list = trace_list_split(text, ';', &entries);
  user_protos = entry_list != NULL ? calloc(entries + 1, sizeof *user_protos) : NULL;
  if (user_protos == NULL)
    return -1;
  for (size_t i = 0; i < entries; i++) {
    char *entry = entry_list[i];
    char *equals = strchr(entry, '=');
    if (equals == NULL || equals == entry || !valid_spec(equals + 1))
      return -1;
    *equals = '\0';
    user_protos[user_count++] = (trace_proto_t){entry, equals + 1};
  }
  return 0;
}

static int
compare_name(const void *key, const void *entry)
{
  return strcmp(key, ((const trace_proto_t *)entry)->name);
}

unsigned
trace_proto_find(const char *name)
{
  for (unsigned i = 0; i < user_count; i++)
    if (strcmp(user_protos[i].name, name) == 0)
      return 1 + i;
  const trace_proto_t *found = bsearch(name, trace_builtin_protos, trace_builtin_protos_count, sizeof *found,
                                       compare_name);
  return found ? 1 + user_count + (unsigned)(found - trace_builtin_protos) : 0;
}

const trace_proto_t *
trace_proto_at(unsigned number)
{
  if (number == 0)
    return NULL;
  if (number <= user_count)
    return &user_protos[number - 1];
  number -= 1 + user_count;
  return number < trace_builtin_protos_count ? &trace_builtin_protos[number] : NULL;
}
