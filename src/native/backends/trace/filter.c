/* Function filters (filter.h). Runs at init and cb_req time only. */
#define _GNU_SOURCE
#include "filter.h"
#include "list.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

typedef struct pattern {
  const char *function;
  const char *object; /* NULL: any callee */
  int exclude;
  int kept; /* an including pattern that some site was instrumented for */
} pattern_t;

static pattern_t *patterns;
static unsigned count;
static int includes;

int
trace_filter_load(const char *list)
{
  /* Initialised again (observe() after close()): start afresh. */
  patterns = NULL;
  count = 0;
  includes = 0;
  if (list == NULL || *list == '\0')
    return 0;
  size_t entries;
  char **entry_list = trace_list_split(list, ',', &entries);
  patterns = entry_list != NULL ? calloc(entries + 1, sizeof *patterns) : NULL;
  if (patterns == NULL)
    return -1;
  for (size_t i = 0; i < entries; i++) {
    char *entry = entry_list[i];
    pattern_t *pattern = &patterns[count++];
    pattern->exclude = *entry == '!';
    entry += pattern->exclude;
    char *at = strchr(entry, '@');
    if (at != NULL) {
      *at = '\0';
      pattern->object = at + 1;
      if (*pattern->object == '\0')
        return -1;
    }
    pattern->function = *entry ? entry : "*";
    includes += !pattern->exclude;
  }
  return 0;
}

static int
object_matches(const char *glob, const char *callee)
{
  if (callee == NULL)
    return 0;
  const char *base = strrchr(callee, '/');
  base = base ? base + 1 : callee;
  return fnmatch(glob, base, 0) == 0 || fnmatch(glob, callee, 0) == 0;
}

static void (*first_site)(const char *function);

/* A pattern that names one function to trace: no glob, no @OBJ. */
static int
plain(const pattern_t *pattern)
{
  return !pattern->exclude && pattern->object == NULL && strpbrk(pattern->function, "*?[\\") == NULL;
}

static int
matches(const pattern_t *pattern, const char *function, const char *readable, const char *callee)
{
  return (fnmatch(pattern->function, function, 0) == 0 ||
          (readable != NULL && fnmatch(pattern->function, readable, 0) == 0)) &&
         (pattern->object == NULL || object_matches(pattern->object, callee));
}

int
trace_filter_wants(const char *function, const char *readable, const char *callee)
{
  int included = includes == 0;
  for (unsigned i = 0; i < count; i++) {
    if (!matches(&patterns[i], function, readable, callee))
      continue;
    if (patterns[i].exclude)
      return 0;
    included = 1;
  }
  if (included)
    for (unsigned i = 0; i < count; i++)
      if (!patterns[i].exclude && matches(&patterns[i], function, readable, callee) && !patterns[i].kept) {
        patterns[i].kept = 1;
        if (first_site != NULL && plain(&patterns[i]))
          first_site(patterns[i].function);
      }
  return included;
}

/* A name that an exclusion for every callee (!GLOB, no @OBJ) takes out:
 * -e 'open,!open' traces no open, and no process is said to lack it. */
static int
excluded_everywhere(const char *function)
{
  for (unsigned i = 0; i < count; i++)
    if (patterns[i].exclude && patterns[i].object == NULL && fnmatch(patterns[i].function, function, 0) == 0)
      return 1;
  return 0;
}

void
trace_filter_each_unkept_name(void (*report)(const char *function, void *context), void *context)
{
  for (unsigned i = 0; i < count; i++)
    if (plain(&patterns[i]) && !patterns[i].kept && !excluded_everywhere(patterns[i].function))
      report(patterns[i].function, context);
}

void
trace_filter_on_first_site(void (*noted)(const char *function))
{
  first_site = noted;
}
