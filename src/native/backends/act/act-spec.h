/* The act backend's rules (docs/act.md): what PDI_ACT_RULES says, parsed
 * once at init. One rule per line:
 *
 *     OBJECT|* FUNCTION [CONDITION...] ACTION...
 *
 * conditions: call=3,5 from=3 times=1 every=10 p=0.05 seed=7 argI~"GLOB"
 * argI=INT; actions: return=V (an integer, or double:X) errno=NAME
 * delay=50ms signal=NAME count. All conditions must hold. */
#ifndef PDI_ACT_SPEC_H
#define PDI_ACT_SPEC_H

#include <stddef.h>
#include <stdint.h>

#define ACT_MAX_CALLS 16
#define ACT_MAX_RULES 256

typedef struct act_rule {
  char *object; /* "*", "$main", or a glob over the caller's path or file name */
  char *function;
  /* conditions */
  unsigned long calls[ACT_MAX_CALLS];
  unsigned call_count;
  unsigned long from, times, every; /* 0: not given */
  double probability;               /* < 0: not given */
  uint64_t seed;
  int arg_index;   /* -1: no argument condition */
  char *arg_glob;  /* argI~"GLOB" */
  long arg_equals; /* argI=INT */
  int has_arg_equals;
  /* actions */
  int returns, returns_double;
  long return_value;
  double return_double;
  int error; /* 0: errno left alone */
  long delay_ns;
  int signal;
  /* counts, atomic */
  unsigned long seen, fired;
  /* where the rule came from, for reports: "line N" */
  unsigned line;
} act_rule_t;

/* Parses `text`; on error returns -1 with a message in `error` naming the
 * line and the token. */
int act_parse(const char *text, act_rule_t *rules, unsigned *count, char *error, size_t error_size);

#endif
