/* `act OBJECT|* FUNCTION [CONDITION...] ACTION...` (docs/act.md). Its words are lexed here, not
 * by config_lex, because a condition quotes only a part of itself (arg0~"/etc/host name"); each
 * is checked by the act language's own parser (backends/act/act-spec.c), so that a bad one is
 * reported at its column, and the parsed rule is what the session hands the act backend. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "../backends/act/act-spec.h"
#include "../callback/callback.h"
#include "reader.h"

/* The next word at *cursor: blanks end it outside quotes, "..." quotes any part of it (with \"
 * and \\), a # starting a word starts a comment. 1, 0 at the end, or -1 after an error. */
static int
next_word(reader_t *reader, const line_ref_t *line, const char **cursor, token_t *word)
{
  const char *p = *cursor;
  while (config_is_blank(*p))
    p++;
  *cursor = p;
  if (*p == '\0' || *p == '#')
    return 0;
  char *text = pdi_arena_alloc(reader->arena, strlen(p) + 1);
  if (text == NULL)
    return config_fail_token(reader, line, p, "out of memory");
  size_t used = 0;
  const char *quote = NULL;
  const char *q = p;
  for (; *q != '\0' && (quote != NULL || !config_is_blank(*q)); q++) {
    if (*q == '"') {
      quote = quote == NULL ? q : NULL;
      continue;
    }
    if (quote != NULL && *q == '\\' && (q[1] == '"' || q[1] == '\\'))
      q++;
    text[used++] = *q;
  }
  if (quote != NULL)
    return config_fail_token(reader, line, quote, "unterminated quoted string (a closing \" is missing)");
  text[used] = '\0';
  *word = (token_t){text, *p == '"' ? TOKEN_QUOTED : TOKEN_WORD, p, q};
  *cursor = q;
  return 1;
}

static pdi_rule_t *
add_act_rule(reader_t *reader, const line_ref_t *line, const token_t *keyword, const token_t *object,
             const token_t *function)
{
  pdi_rule_t *rule = pdi_array_push(reader->arena, &reader->rules, sizeof *rule);
  act_rule_t *act = pdi_arena_alloc(reader->arena, sizeof *act);
  char label[4096];
  if (rule == NULL || act == NULL)
    return config_fail_token(reader, line, keyword->start, "out of memory"), NULL;
  memset(rule, 0, sizeof *rule);
  rule->kind = PDI_RULE_ACT;
  rule->function = function->text;
  rule->origin = config_origin_at(line, keyword->start);
  for (unsigned i = 0; i < PDI_FIELD_COUNT; i++)
    rule->fields[i] = rule->origin;
  rule->fields[PDI_FIELD_OBJECT] = config_origin_at(line, object->start);
  rule->fields[PDI_FIELD_FUNCTION] = config_origin_at(line, function->start);
  pdi_origin_where(&rule->origin, label, sizeof label);
  act_rule_init(act, NULL, function->text);
  act->label = config_copy_range(reader->arena, label, strlen(label));
  rule->act = act;
  return rule;
}

/* An argument condition past the last integer argument of a function whose
 * prototype is known and not variadic would read whatever the register or
 * stack slot holds. On i386 (ILP32) the arguments are counted in stack
 * words, as pdi_arg_int reads them: a 64-bit integer or a double takes two,
 * a float one. */
static int
check_argument_index(reader_t *reader, const line_ref_t *line, const char *at, const char *name, int index)
{
  const char *spec = index < 0 ? NULL : pdi_cb_prototype_of(name);
  if (spec == NULL || strchr(spec, '.') != NULL)
    return 0;
  int words = sizeof(void *) == 4, counted = 0;
  for (const char *letter = spec + 1; *letter != '\0'; letter++) {
    if (*letter == '!')
      continue;
    if (*letter == 'd' || *letter == 'g')
      counted += words ? (*letter == 'd' ? 2 : 1) : 0;
    else
      counted += words && (*letter == '8' || *letter == '9') ? 2 : 1;
  }
  if (index < counted)
    return 0;
  if (words)
    return config_fail_token(reader, line, at,
                             "act %s: arg%d: %s takes %d stack word(s) of arguments, numbered from 0 (a 64-bit "
                             "integer or a double takes two)",
                             name, index, name, counted);
  return config_fail_token(reader, line, at,
                           "act %s: arg%d: %s takes %d integer or pointer argument(s), numbered from 0", name, index,
                           name, counted);
}

/* Where on an act line each check points: the function, its return=, argN,
 * errno=, seed= and count tokens. */
typedef struct act_places {
  const char *function, *returns, *argument, *error, *seed, *count;
} act_places_t;

/* What the callback mechanism, which act rules run on, allows for the rule's
 * function: checked here, so that `pdi config check` and the core agree. */
static int
check_function_kind(reader_t *reader, const line_ref_t *line, const act_places_t *at, const pdi_rule_t *rule)
{
  char name[PDI_SYMBOL_SIZE];
  char version[PDI_SYMBOL_SIZE];
  pdi_version_req_t req;
  pdi_symbol_spec_parse(rule->function, name, sizeof name, version, sizeof version, &req);
  if (pdi_cb_excluded(name))
    return config_fail_token(reader, line, at->function,
                             "act %s: %s is never instrumented (it returns twice, never returns, or looks at its "
                             "caller: docs/mechanisms.md), so no act rule can see its calls",
                             name, name);
  const char *result = rule->act->returns ? pdi_cb_result_of(name) : NULL;
  if (result != NULL && result != pdi_cb_returns_integer && result != pdi_cb_returns_floating)
    return config_fail_token(reader, line, at->returns,
                             "act %s: return= cannot give %s's result: it returns %s (delay, signal and count work on "
                             "it)",
                             name, name, result);
  /* The skip would be refused at the call, which then runs as if no rule were there. */
  if (result == pdi_cb_returns_floating && !rule->act->returns_double)
    return config_fail_token(reader, line, at->returns,
                             "act %s: %s returns a floating-point value: give it as return=double:X", name, name);
  rule->act->returns_float = rule->act->returns_double && pdi_cb_returns_float(name);
  if (result == pdi_cb_returns_integer && rule->act->returns_double)
    return config_fail_token(reader, line, at->returns,
                             "act %s: %s returns an integer or a pointer: return=double:X cannot give it", name, name);
  return check_argument_index(reader, line, at->argument, name, rule->act->arg_index);
}

int
config_parse_act(reader_t *reader, const line_ref_t *line, const token_t *keyword, const char *rest)
{
  const char *cursor = rest;
  token_t object, function, word;
  int got = next_word(reader, line, &cursor, &object);
  if (got > 0)
    got = next_word(reader, line, &cursor, &function);
  if (got <= 0)
    return got < 0 ? -1
                   : config_fail_token(reader, line, cursor,
                                       "malformed act line: expected 'act OBJECT FUNCTION [CONDITION...] ACTION...'");
  const char *pattern = strcmp(object.text, "*") == 0 && object.kind == TOKEN_WORD
                            ? "*"
                            : config_rule_object(reader, line, &object);
  if (pattern == NULL || config_check_function(reader, line, &function) != 0)
    return -1;
  /* The act backend numbers its rules in tables of this size. */
  if (++reader->act_rules > ACT_MAX_RULES)
    return config_fail_token(reader, line, keyword->start, "act: more than %d act rules in one config", ACT_MAX_RULES);
  pdi_rule_t *rule = add_act_rule(reader, line, keyword, &object, &function);
  if (rule == NULL)
    return -1;
  rule->object = rule->act->object = pattern;
  char message[512];
  act_places_t at = {function.start, keyword->start, keyword->start, keyword->start, keyword->start, keyword->start};
  while ((got = next_word(reader, line, &cursor, &word)) > 0) {
    if (act_rule_token(rule->act, word.text, message, sizeof message) != 0)
      return config_fail_token(reader, line, word.start, "act: %s", message);
    if (strncmp(word.text, "return=", 7) == 0)
      at.returns = word.start;
    else if (strncmp(word.text, "arg", 3) == 0)
      at.argument = word.start;
    else if (strncmp(word.text, "errno=", 6) == 0)
      at.error = word.start;
    else if (strncmp(word.text, "seed=", 5) == 0)
      at.seed = word.start;
    else if (strcmp(word.text, "count") == 0)
      at.count = word.start;
  }
  if (got < 0)
    return -1;
  int missing = act_rule_check(rule->act, message, sizeof message);
  if (missing != 0) {
    /* The token that needs another, else the line. */
    const char *place = missing == ACT_CHECK_ERRNO   ? at.error
                        : missing == ACT_CHECK_SEED  ? at.seed
                        : missing == ACT_CHECK_COUNT ? at.count
                                                     : keyword->start;
    return config_fail_token(reader, line, place, "act: %s", message);
  }
  return check_function_kind(reader, line, &at, rule);
}
