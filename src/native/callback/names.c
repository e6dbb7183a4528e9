/* Functions the callback mechanism knows by name: those that never get a
 * stub (they return twice, never return, or find their caller by return
 * address; listed in never-stubbed.h, which the trace backend shares), and
 * those whose result a skipped call cannot give. Both are hashed once, on
 * first use: the planner asks for every import of an object (an install
 * over 1,200 imports must stay cheap), and every new site asks whether it
 * may be skipped. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "../backends/trace/prototypes-table.h"
#include "callback.h"
#include "never-stubbed.h"

/* pdi_skip_int and pdi_skip_double fill one integer or one floating-point
 * return register; a structure (in memory through a hidden pointer, which
 * an i386 callee also pops, or in two registers), a long double (x87 st0,
 * or binary128 on aarch64) or a complex value is none of those. pdi knows
 * no types: these are the C library's and libm's functions of that kind. */
static const char *const aggregates[] = {"div", "ldiv", "lldiv", "imaxdiv", NULL};
static const char *const long_doubles[] = {
    "strtold", "wcstold", "strtold_l", "wcstold_l", "__strtold_internal", "__wcstold_internal", "__strtold_l", NULL};
/* libm functions whose long double variant is NAME + "l". */
static const char *const libm_functions[] = {
    "acos",  "acosh",     "asin",   "asinh", "atan",   "atan2", "atanh",     "cbrt",      "ceil",        "copysign",
    "cos",   "cosh",      "erf",    "erfc",  "exp",    "exp10", "exp2",      "expm1",     "fabs",        "fdim",
    "floor", "fma",       "fmax",   "fmin",  "fmod",   "frexp", "gamma",     "hypot",     "ldexp",       "lgamma",
    "log",   "log10",     "log1p",  "log2",  "logb",   "modf",  "nan",       "nearbyint", "nextafter",   "nexttoward",
    "pow",   "remainder", "remquo", "rint",  "round",  "scalb", "scalbln",   "scalbn",    "significand", "sin",
    "sinh",  "sqrt",      "tan",    "tanh",  "tgamma", "trunc", "roundeven", "fmaxmag",   "fminmag",     NULL};
/* Functions with a floating-point result that are not libm's NAME, NAMEf. */
static const char *const floating_functions[] = {"strtod", "strtof",  "wcstod",  "wcstof",   "strtod_l", "strtof_l",
                                                 "atof",   "drand48", "erand48", "difftime", NULL};
/* C99 complex functions with a complex result, in their double, float and long double forms. */
static const char *const complex_functions[] = {"cacos", "cacosh", "casin", "casinh", "catan", "catanh", "ccos",
                                                "ccosh", "cexp",   "clog",  "clog10", "conj",  "cpow",   "cproj",
                                                "csin",  "csinh",  "csqrt", "ctan",   "ctanh", NULL};

enum { KIND_EXCLUDED = 1, KIND_STRUCTURE, KIND_LONG_DOUBLE, KIND_COMPLEX };
static const char *const kind_names[] = {NULL, NULL, "a structure", "a long double", "a complex value"};
const char pdi_cb_returns_integer[] = "an integer";
const char pdi_cb_returns_floating[] = "a floating-point value";

/* A power of two, twice the ~250 names: a miss ends at an empty slot soon.
 * An entry points into the tables above instead of holding the name: the
 * set is two pages, and a page is a fault at install (tens of microseconds
 * in a virtual machine). */
#define SET_SLOTS 512

typedef struct known_name {
  uint32_t hash; /* compared before the name: most probes of a name that is not here end there */
  unsigned char kind;
  char suffix; /* the one letter after `base` ("l", "f"), or 0 */
  const char *base;
} known_name_t;

static known_name_t names[SET_SLOTS];
static int built;

static int
is_name(const known_name_t *known, const char *name)
{
  size_t length = strlen(known->base);
  if (strncmp(name, known->base, length) != 0)
    return 0;
  return known->suffix != 0 ? name[length] == known->suffix && name[length + 1] == '\0' : name[length] == '\0';
}

static void
add_name(const char *base, char suffix, unsigned char kind)
{
  char full[64];
  size_t length = strlen(base);
  if (length + 2 > sizeof full)
    return; /* every name of the tables fits */
  memcpy(full, base, length);
  full[length] = suffix;
  full[length + 1] = '\0';
  uint32_t hash = pdi_gnu_hash(full);
  for (uint32_t at = hash & (SET_SLOTS - 1);; at = (at + 1) & (SET_SLOTS - 1)) {
    if (names[at].kind == 0) {
      names[at] = (known_name_t){hash, kind, suffix, base};
      return;
    }
    if (names[at].hash == hash && is_name(&names[at], full))
      return; /* the first kind stays */
  }
}

static void
add_names(const char *const *list, char suffix, unsigned char kind)
{
  for (const char *const *name = list; *name != NULL; name++)
    add_name(*name, suffix, kind);
}

void
pdi_cb_names_build(void)
{
  if (built)
    return;
  for (const pdi_never_stubbed_t *entry = pdi_never_stubbed; entry->name != NULL; entry++)
    add_name(entry->name, 0, KIND_EXCLUDED);
  add_names(aggregates, 0, KIND_STRUCTURE);
  add_names(long_doubles, 0, KIND_LONG_DOUBLE);
  add_names(libm_functions, 'l', KIND_LONG_DOUBLE);
  add_names(complex_functions, 0, KIND_COMPLEX);
  add_names(complex_functions, 'f', KIND_COMPLEX);
  add_names(complex_functions, 'l', KIND_COMPLEX);
  built = 1;
}

static int
kind_of_hashed(const char *function, uint32_t hash)
{
  pdi_cb_names_build();
  for (uint32_t at = hash & (SET_SLOTS - 1); names[at].kind != 0; at = (at + 1) & (SET_SLOTS - 1))
    if (names[at].hash == hash && is_name(&names[at], function))
      return names[at].kind;
  return 0;
}

static int
kind_of(const char *function)
{
  return kind_of_hashed(function, pdi_gnu_hash(function));
}

int
pdi_cb_excluded(const char *function)
{
  return kind_of(function) == KIND_EXCLUDED;
}

int
pdi_cb_excluded_hashed(const char *function, uint32_t hash)
{
  return kind_of_hashed(function, hash) == KIND_EXCLUDED;
}

const char *
pdi_cb_never_stubbed_reason(const char *function)
{
  return pdi_never_stubbed_reason(function);
}

const char *
pdi_cb_unskippable(const char *function)
{
  return kind_names[kind_of(function)];
}

/* Asked once per site, at its first skip: a plain scan, and the set above
 * stays as small as the planner needs it. */
/* 'd' for one of libm_functions, 'f' for its float form NAMEf, else 0. */
static char
libm_form(const char *function)
{
  size_t length = strlen(function);
  for (const char *const *name = libm_functions; *name != NULL; name++) {
    size_t base = strlen(*name);
    if (strncmp(function, *name, base) == 0 && (length == base || (length == base + 1 && function[base] == 'f')))
      return length == base ? 'd' : 'f';
  }
  return 0;
}

static int
is_floating(const char *function)
{
  for (const char *const *name = floating_functions; *name != NULL; name++)
    if (strcmp(function, *name) == 0)
      return 1;
  return libm_form(function) != 0;
}

const char *
pdi_cb_prototype_of(const char *function)
{
  unsigned low = 0, high = trace_builtin_protos_count;
  while (low < high) {
    unsigned middle = low + (high - low) / 2;
    int order = strcmp(function, trace_builtin_protos[middle].name);
    if (order == 0)
      return trace_builtin_protos[middle].spec;
    if (order < 0)
      high = middle;
    else
      low = middle + 1;
  }
  return NULL;
}

/* The trace backend's table of libc and POSIX prototypes knows the result
 * of a few hundred more: the first letter of a spec. */
static char
prototype_result(const char *function)
{
  const char *spec = pdi_cb_prototype_of(function);
  return spec == NULL ? 0 : spec[0];
}

int
pdi_cb_returns_float(const char *function)
{
  static const char *const floats[] = {"strtof", "wcstof", "strtof_l", "wcstof_l", NULL};
  for (const char *const *name = floats; *name != NULL; name++)
    if (strcmp(function, *name) == 0)
      return 1;
  return libm_form(function) == 'f' || prototype_result(function) == 'g';
}

const char *
pdi_cb_result_of(const char *function)
{
  const char *unskippable = pdi_cb_unskippable(function);
  if (unskippable != NULL)
    return unskippable;
  if (is_floating(function))
    return pdi_cb_returns_floating;
  char result = prototype_result(function);
  if (result == 'd' || result == 'g')
    return pdi_cb_returns_floating;
  return result == 0 || result == 'v' ? NULL : pdi_cb_returns_integer;
}
