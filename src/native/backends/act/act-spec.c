/* Parsing act rules (act-spec.h). Runs at init only. */
#define _GNU_SOURCE
#include "act-spec.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct message {
  char *text;
  size_t size;
} message_t;

static int
fail(message_t *message, const char *format, ...)
{
  va_list list;
  va_start(list, format);
  vsnprintf(message->text, message->size, format, list);
  va_end(list);
  return -1;
}

/* The next token of `*cursor` (a "quoted" part keeps its spaces), NUL-terminated in place. */
static char *
next_token(char **cursor)
{
  char *at = *cursor;
  while (*at == ' ' || *at == '\t')
    at++;
  if (*at == '\0')
    return NULL;
  char *start = at, *out = at;
  int quoted = 0;
  for (; *at != '\0' && (quoted || (*at != ' ' && *at != '\t')); at++) {
    if (*at == '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted && *at == '\\' && at[1] != '\0')
      at++;
    *out++ = *at;
  }
  if (*at != '\0')
    at++;
  *out = '\0';
  *cursor = at;
  return start;
}

/* The largest count and seed a JSON or YAML config holds exactly (2^53 - 1):
 * the text dialect takes no more, so that every spelling reads the same (and
 * a 32-bit core no more than its unsigned long). */
#define LARGEST_WHOLE_NUMBER (ULONG_MAX < 9007199254740991ULL ? (unsigned long long)ULONG_MAX : 9007199254740991ULL)

static int
whole_number(const char *text, unsigned long *value)
{
  char *end;
  errno = 0;
  unsigned long long number = strtoull(text, &end, 10);
  if (!isdigit((unsigned char)*text) || *end != '\0' || errno != 0 || number > LARGEST_WHOLE_NUMBER)
    return -1;
  *value = number;
  return 0;
}

/* A 64-bit value, signed or not: 0xffffffffffffffff is -1 as a register holds it. */
static int
wide_integer(const char *text, long long *value)
{
  char *end;
  errno = 0;
  long long number = strtoll(text, &end, 0);
  if (errno == ERANGE && *text != '-') {
    errno = 0;
    number = (long long)strtoull(text, &end, 0);
  }
  if (*text == '\0' || *end != '\0' || errno != 0)
    return -1;
  *value = number;
  return 0;
}

/* A register's value, signed or not (32 bits on i386). */
static int
integer(const char *text, long *value)
{
  long long wide;
  if (wide_integer(text, &wide) != 0 || wide < LONG_MIN || (wide > LONG_MAX && (unsigned long long)wide > ULONG_MAX))
    return -1;
  *value = (long)wide;
  return 0;
}

/* Other names of one number, which strerrorname_np and sigabbrev_np do not
 * give (the same as act-schema.ts's aliases, so that both spellings agree):
 * every synonym glibc's errno.h and signal.h define on Linux. */
static const char *const name_aliases[][2] = {{"EWOULDBLOCK", "EAGAIN"},
                                              {"ENOTSUP", "EOPNOTSUPP"},
                                              {"EDEADLOCK", "EDEADLK"},
                                              {"IOT", "ABRT"},
                                              {"IO", "POLL"},
                                              {"CLD", "CHLD"}};

static const char *
unaliased(const char *name)
{
  for (size_t i = 0; i < sizeof name_aliases / sizeof name_aliases[0]; i++)
    if (strcmp(name, name_aliases[i][0]) == 0)
      return name_aliases[i][1];
  return name;
}

static int
errno_value(const char *name)
{
  name = unaliased(name);
  for (int i = 1; i < 4096; i++) {
    const char *known = strerrorname_np(i);
    if (known != NULL && strcmp(known, name) == 0)
      return i;
  }
  return 0;
}

static int
signal_value(const char *name)
{
  const char *bare = unaliased(strncmp(name, "SIG", 3) == 0 ? name + 3 : name);
  for (int i = 1; i < 65; i++) {
    const char *known = sigabbrev_np(i);
    if (known != NULL && strcmp(known, bare) == 0)
      return i;
  }
  return 0;
}

/* 50ms, 2s, 100us, 10ns; a bare number is milliseconds. */
/* 0, -1 for no duration, -2 for one over the hour a delay may last, -3 for
 * one under a nanosecond but not 0, which would silently be no delay. */
static int
duration_ns(const char *text, long long *ns)
{
  char *end;
  errno = 0;
  double value = strtod(text, &end);
  double scale = strcmp(end, "ns") == 0                   ? 1
                 : strcmp(end, "us") == 0                 ? 1e3
                 : strcmp(end, "s") == 0                  ? 1e9
                 : strcmp(end, "ms") == 0 || *end == '\0' ? 1e6
                                                          : -1;
  if (end == text || errno != 0 || scale < 0 || value < 0 || !isfinite(value))
    return -1;
  if (value * scale > 3600e9)
    return -2;
  if (value > 0 && value * scale < 1)
    return -3;
  *ns = (long long)(value * scale);
  return 0;
}

static int
parse_calls(message_t *parse, act_rule_t *rule, const char *list)
{
  char copy[512];
  size_t length = strlen(list);
  /* strtok_r skips empty items: 'call=,' would be a rule without its condition, acting on every call. */
  if (snprintf(copy, sizeof copy, "%s", list) >= (int)sizeof copy || length == 0 || list[0] == ',' ||
      list[length - 1] == ',' || strstr(list, ",,") != NULL)
    return fail(parse, "call=%s: expected up to %d call numbers from 1 to %llu, separated by commas", list,
                ACT_MAX_CALLS, LARGEST_WHOLE_NUMBER);
  for (char *save = NULL, *item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
    if (rule->call_count == ACT_MAX_CALLS || whole_number(item, &rule->calls[rule->call_count]) != 0 ||
        rule->calls[rule->call_count] == 0)
      return fail(parse, "call=%s: expected up to %d call numbers from 1 to %llu, separated by commas", list,
                  ACT_MAX_CALLS, LARGEST_WHOLE_NUMBER);
    rule->call_count++;
  }
  return 0;
}

/* Why the act backend's matcher (act.c, glob_matches) would read `glob`
 * otherwise than it looks, or NULL: an unclosed '[' matches nothing, a
 * trailing '\\' is no escape, and '[:alpha:]' is no class there. */
static const char *
glob_problem(const char *glob)
{
  for (const char *at = glob; *at != '\0'; at++) {
    if (*at == '\\') {
      if (*++at == '\0')
        return "it ends in a lone '\\'";
      continue;
    }
    if (*at != '[')
      continue;
    at += at[1] == '!' || at[1] == '^' ? 2 : 1;
    /* A first ']' belongs to the set, as in fnmatch. */
    do {
      if (at[0] == '[' && at[1] == ':')
        return "character classes such as [:digit:] are not supported: write the range, [0-9]";
      at += at[0] != '\0' && at[1] == '-' && at[2] != ']' && at[2] != '\0' ? 3 : *at != '\0';
    } while (*at != ']' && *at != '\0');
    if (*at == '\0')
      return "a '[' without its closing ']' (\\[ is a literal '[')";
  }
  return NULL;
}

static int
parse_argument(message_t *parse, act_rule_t *rule, const char *token)
{
  char *end;
  long index = strtol(token + 3, &end, 10);
  if (end == token + 3 || index < 0 || index > 15 || (*end != '~' && *end != '='))
    return fail(parse, "%s: expected argN~\"GLOB\" or argN=INTEGER (N from 0 to 15)", token);
  rule->arg_index = (int)index;
  if (*end == '~') {
    rule->arg_glob = end + 1;
    const char *problem = glob_problem(rule->arg_glob);
    return problem == NULL ? 0 : fail(parse, "%s: not a glob: %s", token, problem);
  }
  rule->has_arg_equals = 1;
  return integer(end + 1, &rule->arg_equals) == 0 ? 0 : fail(parse, "%s: expected an integer after '='", token);
}

static int
parse_return(message_t *parse, act_rule_t *rule, const char *value)
{
  rule->returns = 1;
  if (strncmp(value, "double:", 7) == 0) {
    char *end;
    rule->returns_double = 1;
    errno = 0;
    rule->return_double = strtod(value + 7, &end);
    if (end == value + 7 || *end != '\0')
      return fail(parse, "return=%s: expected double:NUMBER (or nan, inf, -inf)", value);
    /* A number past a double's range is no infinity the user asked for (that one is written inf). */
    return errno == ERANGE && isinf(rule->return_double)
               ? fail(parse,
                      "return=%s: out of a double's range (at most about 1.8e308; an infinity is written inf or -inf)",
                      value)
               : 0;
  }
  return wide_integer(value, &rule->return_value) == 0
             ? 0
             : fail(parse, "return=%s: expected an integer or double:NUMBER", value);
}

/* `name=value` conditions and actions but the argument ones. */
static int
parse_setting(message_t *parse, act_rule_t *rule, const char *token, const char *name, const char *value)
{
  if (strcmp(name, "call") == 0)
    return parse_calls(parse, rule, value);
  if (strcmp(name, "from") == 0 || strcmp(name, "times") == 0 || strcmp(name, "every") == 0) {
    unsigned long *field = name[0] == 'f' ? &rule->from : name[0] == 't' ? &rule->times : &rule->every;
    return whole_number(value, field) == 0 && *field > 0
               ? 0
               : fail(parse, "%s: expected a number from 1 to %llu", token, LARGEST_WHOLE_NUMBER);
  }
  if (strcmp(name, "p") == 0) {
    char *end;
    rule->probability = strtod(value, &end);
    return *end == '\0' && end != value && rule->probability >= 0 && rule->probability <= 1
               ? 0
               : fail(parse, "%s: expected a probability from 0 to 1", token);
  }
  if (strcmp(name, "seed") == 0) {
    unsigned long seed = 0;
    return whole_number(value, &seed) == 0
               ? (rule->seed = seed, rule->seed_given = 1, 0)
               : fail(parse, "%s: expected a number from 0 to %llu", token, LARGEST_WHOLE_NUMBER);
  }
  if (strcmp(name, "return") == 0)
    return parse_return(parse, rule, value);
  if (strcmp(name, "errno") == 0)
    return (rule->error = errno_value(value)) != 0 ? 0 : fail(parse, "%s: not an errno name", token);
  if (strcmp(name, "delay") == 0) {
    int got = duration_ns(value, &rule->delay_ns);
    return got == 0    ? 0
           : got == -2 ? fail(parse, "%s: expected a delay of at most 1 hour", token)
           : got == -3 ? fail(parse, "%s: expected a delay of at least 1ns, or 0 for none", token)
                       : fail(parse, "%s: expected a duration like 50ms", token);
  }
  if (strcmp(name, "signal") == 0)
    return (rule->signal = signal_value(value)) != 0 ? 0 : fail(parse, "%s: not a signal name", token);
  return fail(parse, "'%s' is not a condition or an action", token);
}

void
act_rule_init(act_rule_t *rule, const char *object, const char *function)
{
  memset(rule, 0, sizeof *rule);
  rule->probability = -1;
  rule->arg_index = -1;
  rule->object = object;
  rule->function = function;
}

/* A word given twice in one rule would silently replace the first (arg0~A
 * arg1=0 would drop arg0's condition): refused, as YAML refuses a key twice. */
/* The bit of `count` in rule->given: its place in given_once's words. */
#define ACT_GIVEN_COUNT (1u << 1)

static int
given_once(message_t *parse, act_rule_t *rule, const char *token, const char *name)
{
  static const char *const words[] = {"arg", "count", "call",   "from",  "times", "every",
                                      "p",   "seed",  "return", "errno", "delay", "signal"};
  for (unsigned i = 0; i < sizeof words / sizeof *words; i++) {
    if (strcmp(words[i], name) != 0)
      continue;
    if (rule->given & (1u << i))
      return i == 0 ? fail(parse, "%s: a rule has one argument condition (argN~ or argN=)", token)
                    : fail(parse, "%s: %s is given twice in one rule", token, name);
    rule->given |= 1u << i;
  }
  return 0;
}

int
act_rule_token(act_rule_t *rule, const char *token, char *error, size_t error_size)
{
  message_t parse = {error, error_size};
  const char *value = strchr(token, '=');
  if (strncmp(token, "arg", 3) == 0 && (strchr(token, '~') != NULL || value != NULL))
    return given_once(&parse, rule, token, "arg") != 0 ? -1 : parse_argument(&parse, rule, token);
  if (strcmp(token, "count") == 0)
    return given_once(&parse, rule, token, "count") != 0 ? -1 : (rule->actions++, 0);
  char name[16];
  if (value == NULL || (size_t)(value - token) >= sizeof name)
    return fail(&parse, "'%s' is not a condition or an action", token);
  memcpy(name, token, (size_t)(value - token));
  name[value - token] = '\0';
  if (given_once(&parse, rule, token, name) != 0 || parse_setting(&parse, rule, token, name, value + 1) != 0)
    return -1;
  rule->actions += strcmp(name, "return") == 0 || strcmp(name, "delay") == 0 || strcmp(name, "signal") == 0;
  return 0;
}

int
act_rule_check(const act_rule_t *rule, char *error, size_t error_size)
{
  message_t parse = {error, error_size};
  /* Before "no action": errno= alone is a rule that meant to fail calls, and is told so at its token (it was told
   * "no action" at the line's start). */
  if (rule->error != 0 && !rule->returns)
    return fail(&parse, "errno= needs return=: a call that runs sets its own errno"), ACT_CHECK_ERRNO;
  if (rule->actions == 0)
    return fail(&parse, "no action: give return=, delay=, signal= or count"), ACT_CHECK_NO_ACTION;
  /* A seed without p= would be dropped, the rule acting on every call the
   * writer meant to sample: refused, as JSON and YAML refuse it. */
  if (rule->seed_given && rule->probability < 0)
    return fail(&parse, "seed= needs p=: a seed only picks the calls of a probability"), ACT_CHECK_SEED;
  /* count is nothing but counting: beside an action that acts it would be
   * dropped (every rule counts its calls), the writer's intent unclear.
   * delay=0 is no delay, so it may stand beside count. */
  if ((rule->given & ACT_GIVEN_COUNT) && (rule->returns || rule->delay_ns > 0 || rule->signal != 0))
    return fail(&parse, "count goes with no other action (return=, delay=, signal=): it is nothing but counting, and a "
                        "rule that acts counts its calls too"),
           ACT_CHECK_COUNT;
  return 0;
}

/* One line: "act rule line N: " before the message. */
static int
parse_line(act_rule_t *rule, unsigned number, char *line, char *error, size_t error_size)
{
  int prefix = snprintf(error, error_size, "act rule line %u: ", number);
  char *message = error + (prefix > 0 && (size_t)prefix < error_size ? prefix : 0);
  size_t left = error_size - (size_t)(message - error);
  char *cursor = line;
  char *object = next_token(&cursor), *function = next_token(&cursor);
  if (object == NULL || function == NULL)
    return snprintf(message, left, "expected OBJECT FUNCTION [CONDITION...] ACTION..."), -1;
  act_rule_init(rule, object, function);
  rule->line = number;
  for (char *token = next_token(&cursor); token != NULL; token = next_token(&cursor))
    if (act_rule_token(rule, token, message, left) != 0)
      return -1;
  return act_rule_check(rule, message, left);
}

int
act_parse(char *text, act_rule_t *rules, unsigned *count, char *error, size_t error_size)
{
  *count = 0;
  unsigned number = 0;
  for (char *rest = text, *line = strsep(&rest, "\n"); line != NULL; line = strsep(&rest, "\n")) {
    number++;
    while (*line == ' ' || *line == '\t')
      line++;
    if (*line == '\0' || *line == '#')
      continue;
    if (*count == ACT_MAX_RULES)
      return snprintf(error, error_size, "act rule line %u: more than %d rules", number, ACT_MAX_RULES), -1;
    if (parse_line(&rules[*count], number, line, error, error_size) != 0)
      return -1;
    (*count)++;
  }
  return 0;
}
