/* Parsing act rules (act-spec.h). Runs at init only. */
#define _GNU_SOURCE
#include "act-spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parse {
  unsigned line;
  char *error;
  size_t error_size;
} parse_t;

static int
fail(parse_t *parse, const char *format, ...)
{
  int n = snprintf(parse->error, parse->error_size, "act rule line %u: ", parse->line);
  va_list list;
  va_start(list, format);
  if (n >= 0 && (size_t)n < parse->error_size)
    vsnprintf(parse->error + n, parse->error_size - (size_t)n, format, list);
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

static int
whole_number(const char *text, unsigned long *value)
{
  char *end;
  errno = 0;
  unsigned long number = strtoul(text, &end, 10);
  if (!isdigit((unsigned char)*text) || *end != '\0' || errno != 0)
    return -1;
  *value = number;
  return 0;
}

static int
integer(const char *text, long *value)
{
  char *end;
  errno = 0;
  long number = strtol(text, &end, 0);
  if (*text == '\0' || *end != '\0' || errno != 0)
    return -1;
  *value = number;
  return 0;
}

static int
errno_value(const char *name)
{
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
  const char *bare = strncmp(name, "SIG", 3) == 0 ? name + 3 : name;
  for (int i = 1; i < 65; i++) {
    const char *known = sigabbrev_np(i);
    if (known != NULL && strcmp(known, bare) == 0)
      return i;
  }
  return 0;
}

/* 50ms, 2s, 100us, 10ns; a bare number is milliseconds. */
static int
duration_ns(const char *text, long *ns)
{
  char *end;
  errno = 0;
  double value = strtod(text, &end);
  double scale = strcmp(end, "ns") == 0                   ? 1
                 : strcmp(end, "us") == 0                 ? 1e3
                 : strcmp(end, "s") == 0                  ? 1e9
                 : strcmp(end, "ms") == 0 || *end == '\0' ? 1e6
                                                          : -1;
  if (end == text || errno != 0 || scale < 0 || value < 0 || value * scale > 3600e9)
    return -1;
  *ns = (long)(value * scale);
  return 0;
}

static int
parse_calls(parse_t *parse, act_rule_t *rule, char *list)
{
  for (char *save = NULL, *item = strtok_r(list, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
    if (rule->call_count == ACT_MAX_CALLS || whole_number(item, &rule->calls[rule->call_count]) != 0 ||
        rule->calls[rule->call_count] == 0)
      return fail(parse, "call=%s: expected up to %d call numbers from 1, separated by commas", item, ACT_MAX_CALLS);
    rule->call_count++;
  }
  return 0;
}

static int
parse_argument(parse_t *parse, act_rule_t *rule, char *token)
{
  char *end;
  long index = strtol(token + 3, &end, 10);
  if (end == token + 3 || index < 0 || index > 15 || (*end != '~' && *end != '='))
    return fail(parse, "%s: expected argN~\"GLOB\" or argN=INTEGER (N from 0 to 15)", token);
  rule->arg_index = (int)index;
  if (*end == '~') {
    rule->arg_glob = strdup(end + 1);
    return rule->arg_glob != NULL ? 0 : fail(parse, "out of memory");
  }
  rule->has_arg_equals = 1;
  return integer(end + 1, &rule->arg_equals) == 0 ? 0 : fail(parse, "%s: expected an integer after '='", token);
}

static int
parse_return(parse_t *parse, act_rule_t *rule, const char *value)
{
  rule->returns = 1;
  if (strncmp(value, "double:", 7) == 0) {
    char *end;
    rule->returns_double = 1;
    rule->return_double = strtod(value + 7, &end);
    return end != value + 7 && *end == '\0' ? 0 : fail(parse, "return=%s: expected double:NUMBER", value);
  }
  return integer(value, &rule->return_value) == 0
             ? 0
             : fail(parse, "return=%s: expected an integer or double:NUMBER", value);
}

static int
parse_token(parse_t *parse, act_rule_t *rule, char *token)
{
  char *value = strchr(token, '=');
  char *tilde = strchr(token, '~');
  if (strncmp(token, "arg", 3) == 0 && (tilde != NULL || value != NULL))
    return parse_argument(parse, rule, token);
  if (strcmp(token, "count") == 0)
    return 0;
  if (value == NULL)
    return fail(parse, "'%s' is not a condition or an action", token);
  *value++ = '\0';
  if (strcmp(token, "call") == 0)
    return parse_calls(parse, rule, value);
  if (strcmp(token, "from") == 0 || strcmp(token, "times") == 0 || strcmp(token, "every") == 0) {
    unsigned long *field = token[0] == 'f' ? &rule->from : token[0] == 't' ? &rule->times : &rule->every;
    return whole_number(value, field) == 0 && *field > 0 ? 0
                                                         : fail(parse, "%s=%s: expected a number from 1", token, value);
  }
  if (strcmp(token, "p") == 0) {
    char *end;
    rule->probability = strtod(value, &end);
    return *end == '\0' && end != value && rule->probability >= 0 && rule->probability <= 1
               ? 0
               : fail(parse, "p=%s: expected a probability from 0 to 1", value);
  }
  if (strcmp(token, "seed") == 0) {
    unsigned long seed;
    rule->seed = seed = 0;
    return whole_number(value, &seed) == 0 ? (rule->seed = seed, 0) : fail(parse, "seed=%s: expected a number", value);
  }
  if (strcmp(token, "return") == 0)
    return parse_return(parse, rule, value);
  if (strcmp(token, "errno") == 0)
    return (rule->error = errno_value(value)) != 0 ? 0 : fail(parse, "errno=%s: not an errno name", value);
  if (strcmp(token, "delay") == 0)
    return duration_ns(value, &rule->delay_ns) == 0 ? 0 : fail(parse, "delay=%s: expected a duration like 50ms", value);
  if (strcmp(token, "signal") == 0)
    return (rule->signal = signal_value(value)) != 0 ? 0 : fail(parse, "signal=%s: not a signal name", value);
  return fail(parse, "'%s' is not a condition or an action", token);
}

static int
parse_line(parse_t *parse, act_rule_t *rule, char *line)
{
  char *cursor = line;
  char *object = next_token(&cursor), *function = next_token(&cursor);
  if (object == NULL || function == NULL)
    return fail(parse, "expected OBJECT FUNCTION [CONDITION...] ACTION...");
  memset(rule, 0, sizeof *rule);
  rule->probability = -1;
  rule->arg_index = -1;
  rule->line = parse->line;
  rule->object = strdup(object);
  rule->function = strdup(function);
  if (rule->object == NULL || rule->function == NULL)
    return fail(parse, "out of memory");
  for (char *token = next_token(&cursor); token != NULL; token = next_token(&cursor))
    if (parse_token(parse, rule, token) != 0)
      return -1;
  if (rule->error != 0 && !rule->returns)
    return fail(parse, "errno= needs return=: a call that runs sets its own errno");
  return 0;
}

int
act_parse(const char *text, act_rule_t *rules, unsigned *count, char *error, size_t error_size)
{
  parse_t parse = {0, error, error_size};
  *count = 0;
  char *copy = strdup(text != NULL ? text : "");
  if (copy == NULL)
    return fail(&parse, "out of memory");
  int status = 0;
  for (char *rest = copy, *line = strsep(&rest, "\n"); line != NULL && status == 0; line = strsep(&rest, "\n")) {
    parse.line++;
    while (*line == ' ' || *line == '\t')
      line++;
    if (*line == '\0' || *line == '#')
      continue;
    if (*count == ACT_MAX_RULES)
      status = fail(&parse, "more than %d rules", ACT_MAX_RULES);
    else if ((status = parse_line(&parse, &rules[*count], line)) == 0)
      (*count)++;
  }
  free(copy);
  return status;
}
