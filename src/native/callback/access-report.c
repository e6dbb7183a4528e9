/* The callback helpers' exit report: each misuse counted on the call path
 * (access.c), and the skips refused, named with the backend that made them. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../arch/arch.h"
#include "access.h"
#include "callback.h"
#include "records.h"

/* ---- the exit report */

/* The backends ever loaded, by file, for the callback report at exit,
 * which comes after their session is closed: backends stay loaded until
 * the process ends, and so do these lines. */
typedef struct known_backend {
  char *path, *name;
} known_backend_t;
static known_backend_t known_backends[32];
static unsigned known_count;

static const char *
backend_name_of(const char *path)
{
  for (unsigned i = 0; i < known_count; i++)
    if (strcmp(known_backends[i].path, path) == 0)
      return known_backends[i].name;
  return NULL;
}

void
pdi_cb_backend_loaded(const char *path, const char *name)
{
  if (backend_name_of(path) != NULL || known_count == sizeof known_backends / sizeof known_backends[0])
    return;
  known_backend_t known = {strdup(path), strdup(name)};
  if (known.path != NULL && known.name != NULL)
    known_backends[known_count++] = known;
  else {
    free(known.path);
    free(known.name);
  }
}

/* The file of the code at `address`, or NULL. */
static const char *
file_of(const void *address)
{
  Dl_info info;
  if (address == NULL || dladdr(address, &info) == 0)
    return NULL;
  return info.dli_fname;
}

/* "backend 'NAME' (FILE)" for the code that called a helper: the backend
 * the return address lies in, else (a sibling call from a hook returns to
 * pdi's handler, or a library of the backend's made the call) the backend
 * of the call's site, else the file of the return address. */
static void
describe_caller(const caller_t *caller, int ready, char *out, size_t size)
{
  const char *file = ready ? file_of(caller->address) : NULL;
  const char *name = file != NULL ? backend_name_of(file) : NULL;
  const char *hook_file = ready && name == NULL ? file_of(caller->hook) : NULL;
  const char *hook_name = hook_file != NULL ? backend_name_of(hook_file) : NULL;
  if (hook_name != NULL) {
    file = hook_file;
    name = hook_name;
  }
  if (name != NULL)
    snprintf(out, size, "backend '%s' (%s)", name, file);
  else if (file != NULL)
    snprintf(out, size, "%s", file);
  else
    snprintf(out, size, "a backend");
}

/* Why a helper had nothing to work on, after "where it reads 0" or "does nothing". */
static const char *
misuse_reason(unsigned helper, unsigned situation)
{
  if (situation == IN_PRE)
    return ": a call's result is there in its post hook only";
  if (situation == IN_POST && (helper == H_SKIP_INT || helper == H_SKIP_DOUBLE || helper == H_SKIP_INT64))
    return ": a call is skipped from its pre hook only";
  if (situation == IN_POST)
    return ": a call's arguments are there in its pre hook only";
  if (situation == NOT_A_CALL)
    return ": NULL, a copy of *call or another pointer (the helpers take the call a hook was given)";
  if (situation == NO_VECTORS)
    return ": no argument travels in a floating-point register there (a double is two stack words, read and changed "
           "with pdi_arg_int and pdi_set_arg_int)";
  return "";
}

static void
report_misuse(unsigned helper, unsigned situation, const misuse_t *misuse)
{
  char who[PATH_MAX + 300], where[160], registers[32] = "";
  describe_caller(&misuse->caller, __atomic_load_n(&misuse->ready, __ATOMIC_ACQUIRE), who, sizeof who);
  int reads = helper == H_ARG_INT || helper == H_ARG_DOUBLE || helper == H_RET_INT || helper == H_RET_DOUBLE ||
              helper == H_RET_INT64;
  int doubles = helper == H_ARG_DOUBLE || helper == H_SET_ARG_DOUBLE;
  switch (situation) {
  case IN_PRE: snprintf(where, sizeof where, "in a pre hook"); break;
  case IN_POST: snprintf(where, sizeof where, "in a post hook"); break;
  case OUTSIDE: snprintf(where, sizeof where, "with a call whose hooks had returned"); break;
  case PAST_LAST:
    if (doubles)
      snprintf(where, sizeof where, "with argument %u, past the last it reaches (%u)", misuse->index,
               LAST_DOUBLE_ARGUMENT);
    else {
      if (CB_INT_REGISTERS != 0)
        snprintf(registers, sizeof registers, "%u registers and ", (unsigned)CB_INT_REGISTERS);
      snprintf(where, sizeof where, "with argument %u, past the last it reaches (%u: %s%u stack words)", misuse->index,
               LAST_INT_ARGUMENT, registers, STACK_WORDS);
    }
    break;
  case NO_VECTORS: snprintf(where, sizeof where, "on %s", pdi_arch_name()); break;
  case NOT_A_CALL: snprintf(where, sizeof where, "with a record that is not a call pdi gave a hook"); break;
  default:
    snprintf(where, sizeof where, "with argument %u, whose stack word is outside the caller's stack", misuse->index);
  }
  pdi_log(PDI_LOG_WARNING, "callback: %s called %s %lu time%s %s, where it %s%s", who, cb_helper_names[helper],
          misuse->count, misuse->count == 1 ? "" : "s", where, reads ? "reads 0" : "does nothing",
          misuse_reason(helper, situation));
}

void
pdi_cb_report_helpers(void)
{
  for (unsigned helper = 0; helper < HELPERS; helper++)
    for (unsigned situation = 0; situation < SITUATIONS; situation++)
      if (__atomic_load_n(&cb_misuses[helper][situation].count, __ATOMIC_RELAXED) != 0)
        report_misuse(helper, situation, &cb_misuses[helper][situation]);
  unsigned long refused = __atomic_load_n(&cb_refused_skips, __ATOMIC_RELAXED);
  if (refused == 0)
    return;
  char who[PATH_MAX + 300];
  describe_caller(&cb_refused_caller, __atomic_load_n(&cb_refused_caller_ready, __ATOMIC_ACQUIRE), who, sizeof who);
  char kinds[2048] = "";
  size_t used = 0;
  unsigned long listed = 0;
  for (unsigned i = 0; i < REFUSAL_KINDS && used < sizeof kinds; i++) {
    uintptr_t key = __atomic_load_n(&cb_refusals[i].key, __ATOMIC_ACQUIRE);
    if (key == 0)
      continue;
    const cb_site_t *site = (const cb_site_t *)(key & ~(uintptr_t)1);
    unsigned long count = __atomic_load_n(&cb_refusals[i].count, __ATOMIC_RELAXED);
    int mismatch = site->unskippable == pdi_cb_returns_integer || site->unskippable == pdi_cb_returns_floating;
    const char *helper = !mismatch ? "pdi_skip_*" : cb_helper_names[(key & 1) ? H_SKIP_DOUBLE : H_SKIP_INT];
    int n = snprintf(kinds + used, sizeof kinds - used, "%s%s returns %s, which %s cannot give: %lu",
                     listed ? "; " : "", site->site.function, site->unskippable, helper, count);
    used += n > 0 ? (size_t)n : 0;
    listed += count;
  }
  if (listed < refused && used < sizeof kinds)
    snprintf(kinds + used, sizeof kinds - used, "; others: %lu", refused - listed);
  pdi_log(PDI_LOG_WARNING, "callback: %lu skipped call%s refused, which ran instead (%s; %s)", refused,
          refused == 1 ? "" : "s", kinds, who);
}

void
pdi_cb_forget_helpers(void)
{
  memset(cb_misuses, 0, sizeof cb_misuses);
  memset(&cb_refused_caller, 0, sizeof cb_refused_caller);
  cb_refused_caller_claimed = 0;
  cb_refused_caller_ready = 0;
  cb_refused_skips = 0;
  memset(cb_refusals, 0, sizeof cb_refusals);
}
