/* Functions whose result a skipped call cannot give. pdi_skip_int and
 * pdi_skip_double fill one integer or one floating-point return register;
 * a structure (in memory through a hidden pointer, or in two registers), a
 * long double (x87 st0, or binary128 on aarch64) or a complex value is
 * none of those, and on i386 a callee returning in memory also pops the
 * hidden pointer. pdi knows no types: these are the C library's and libm's
 * functions of that kind, by name. */
#define _GNU_SOURCE
#include <string.h>

#include "callback.h"

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

/* C99 complex functions with a complex result, in their double, float and long double forms. */
static const char *const complex_functions[] = {"cacos", "cacosh", "casin", "casinh", "catan", "catanh", "ccos",
                                                "ccosh", "cexp",   "clog",  "clog10", "conj",  "cpow",   "cproj",
                                                "csin",  "csinh",  "csqrt", "ctan",   "ctanh", NULL};

static int
listed(const char *const *names, const char *function, size_t length)
{
  for (const char *const *name = names; *name != NULL; name++)
    if (strlen(*name) == length && strncmp(*name, function, length) == 0)
      return 1;
  return 0;
}

const char *
pdi_cb_unskippable(const char *function)
{
  size_t length = strlen(function);
  if (listed(aggregates, function, length))
    return "a structure";
  if (listed(long_doubles, function, length) ||
      (length > 1 && function[length - 1] == 'l' && listed(libm_functions, function, length - 1)))
    return "a long double";
  if (listed(complex_functions, function, length) ||
      (length > 1 && (function[length - 1] == 'f' || function[length - 1] == 'l') &&
       listed(complex_functions, function, length - 1)))
    return "a complex value";
  return NULL;
}
