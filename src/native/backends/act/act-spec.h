/* The act rules (docs/act.md), the language shared by the act backend (which
 * reads PDI_ACT_RULES at init) and the config reader (which reads `act` lines
 * and hands the backend its rules). One rule per line:
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

/* Strings point into the text parsed, which must outlive the rule. */
typedef struct act_rule {
  const char *object; /* "*", "$main", or a glob over the caller's path or file name */
  const char *function;
  /* conditions */
  unsigned long calls[ACT_MAX_CALLS];
  unsigned call_count;
  unsigned long from, times, every; /* 0: not given */
  double probability;               /* < 0: not given */
  uint64_t seed;
  int seed_given;       /* seed= was written (p= must be too) */
  int arg_index;        /* -1: no argument condition */
  const char *arg_glob; /* argI~"GLOB" */
  long arg_equals;      /* argI=INT */
  int has_arg_equals;
  /* actions */
  int returns, returns_double;
  int returns_float;      /* return=double:X for a function whose result is a float (set by the core, which knows it) */
  long long return_value; /* 64 bits on i386 too (edx:eax) */
  double return_double;
  int error;          /* 0: errno left alone */
  long long delay_ns; /* up to an hour: past a 32-bit long on i386 */
  int signal;
  unsigned actions; /* how many action words the rule has (count included) */
  unsigned given;   /* the words given so far, one bit each (act_rule_token refuses one twice) */
  /* counts, atomic */
  unsigned long seen, fired;
  /* where the rule came from, for reports: "line N" of PDI_ACT_RULES, or the
   * config's FILE:LINE in `label` */
  unsigned line;
  const char *label;
} act_rule_t;

/* A rule with no condition and no action yet. */
void act_rule_init(act_rule_t *rule, const char *object, const char *function);
/* Adds one condition or action, unquoted (`arg0~/etc/host name`); 0, or -1
 * with a message naming the token in `error`. */
int act_rule_token(act_rule_t *rule, const char *token, char *error, size_t error_size);
/* What needs the whole rule: an action, return= for errno=, p= for seed=,
 * count alone (no return=, delay= or signal= beside it). 0, or which check
 * failed (the token it is about), with a message. */
enum { ACT_CHECK_NO_ACTION = 1, ACT_CHECK_ERRNO, ACT_CHECK_SEED, ACT_CHECK_COUNT };
int act_rule_check(const act_rule_t *rule, char *error, size_t error_size);
/* Parses `text` (PDI_ACT_RULES: tokens separated by blanks, "..." quoting
 * any part of one), in place; on error returns -1 with a message in `error`
 * naming the line and the token. */
int act_parse(char *text, act_rule_t *rules, unsigned *count, char *error, size_t error_size);

#endif
