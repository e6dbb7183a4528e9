/* `backend NAME = LIBRARY`, `object ALIAS = PATTERN` and the rules (`relink`, `redefine`,
 * `callback`; `act` in act-rules.c), and the checks that need the whole config. */
#define _GNU_SOURCE
#include <limits.h>
#include <string.h>

#include "reader.h"

static int
looks_like_pattern(const char *word)
{
  return strcmp(word, "$main") == 0 || strcmp(word, "*") == 0 || strpbrk(word, "/*?[") != NULL ||
         strstr(word, ".so") != NULL;
}

/* A relative path as an object pattern (./prog, lib/libx.so, ./lib*.so) starts at the config's directory, as every
 * relative path of a config does (was: at the program's current directory); a glob of a name in any directory
 * (*\/libx.so) is no path. */
static int
relative_path_pattern(const char *pattern)
{
  return strchr(pattern, '/') != NULL && strchr("/*?[$", pattern[0]) == NULL;
}

/* `$main` is the one name of its kind: a misspelt one (`$mian`) or a shell variable (`$HOME/lib/x.so`), which no
 * object's name starts with, would match nothing and be warned about only when the program runs. */
static int
check_dollar_name(reader_t *reader, const line_ref_t *line, const token_t *at, const char *pattern)
{
  if (pattern[0] != '$' || strcmp(pattern, "$main") == 0)
    return 0;
  return config_fail_token(reader, line, at->start,
                           "object: unknown name '%s' ('$main' names the main program; pdi expands no variables)",
                           pattern);
}

/* The last declaration of `name` among `count`, or NULL. */
static const pdi_declaration_t *
find_declaration(const pdi_declaration_t *items, size_t count, const char *name)
{
  for (size_t i = count; i-- > 0;)
    if (strcmp(items[i].name, name) == 0)
      return &items[i];
  return NULL;
}

/* As the JSON/YAML schema has it (src/ts/config/schema.ts): letters, digits, `_`, `.`, `+`, `-`, and
 * not the name the session gives the bundled act backend of act rules (session/act.c). */
static int
check_backend_name(reader_t *reader, const line_ref_t *line, const token_t *name)
{
  const char *text = name->text;
  if (text[0] == '\0' ||
      text[strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-")] != '\0')
    return config_fail_token(reader, line, name->start,
                             "name: expected a backend name (letters, digits, `_`, `.`, `+`, `-`), got '%s'", text);
  if (strcmp(text, "pdi.act") == 0)
    return config_fail_token(reader, line, name->start,
                             "name: 'pdi.act' is the name of pdi's own backend of act rules: give yours another");
  return 0;
}

int
config_parse_declaration(reader_t *reader, const line_ref_t *line, const token_t *keyword, const char *rest)
{
  int object = strcmp(keyword->text, "object") == 0;
  pdi_origin_t origin = config_origin_at(line, keyword->start);
  tokens_t tokens;
  if (config_lex(reader, line, rest, 1, &tokens) != 0)
    return -1;
  if (tokens.count != 3 || tokens.items[0].kind == TOKEN_EQUALS || tokens.items[1].kind != TOKEN_EQUALS ||
      tokens.items[2].kind == TOKEN_EQUALS || tokens.items[2].text[0] == '\0')
    return config_fail(reader, &origin,
                       "malformed %s line: expected '%s' (a value holding blanks or '#' in double quotes)",
                       keyword->text, object ? "object ALIAS = PATTERN" : "backend NAME = LIBRARY");
  const char *name = tokens.items[0].text;
  const char *value = tokens.items[2].text;
  if (!object && check_backend_name(reader, line, &tokens.items[0]) != 0)
    return -1;
  if (object && check_dollar_name(reader, line, &tokens.items[2], value) != 0)
    return -1;
  if (object ? relative_path_pattern(value) : strchr(value, '/') != NULL)
    value = config_resolve_path(reader->arena, line->file->directory, value);
  pdi_array_t *declarations = object ? &reader->objects : &reader->backends;
  const pdi_declaration_t *known = find_declaration(declarations->items, declarations->count, name);
  if (known != NULL && strcmp(known->value, value) != 0) {
    char where[PATH_MAX + 40];
    pdi_origin_where(&known->origin, where, sizeof where);
    if (object)
      return config_fail(reader, &origin, "object alias '%s' is already declared at %s as '%s'", name, where,
                         known->value);
    return config_fail(reader, &origin, "backend '%s' is already declared at %s with library '%s'", name, where,
                       known->value);
  }
  if (known != NULL)
    return 0;
  pdi_declaration_t *decl = pdi_array_push(reader->arena, declarations, sizeof *decl);
  if (decl == NULL)
    return config_fail(reader, &origin, "out of memory");
  decl->name = name;
  decl->value = value;
  decl->origin = origin;
  decl->value_origin = config_origin_at(line, tokens.items[2].start);
  return 0;
}

const char *
config_rule_object(reader_t *reader, const line_ref_t *line, const token_t *object)
{
  const char *pattern = object->text;
  const pdi_object_decl_t *alias = object->kind == TOKEN_QUOTED
                                       ? NULL
                                       : find_declaration(reader->objects.items, reader->objects.count, object->text);
  if (alias != NULL)
    pattern = alias->value;
  else if (object->kind != TOKEN_QUOTED && !looks_like_pattern(object->text) && object->text[0] != '$')
    return config_fail_token(reader, line, object->start, "unknown object alias '%s'%s", object->text,
                             strcmp(object->text, "main") == 0 ? " (the program is $main)" : ""),
           NULL;
  else if (check_dollar_name(reader, line, object, pattern) != 0)
    return NULL;
  if (*pattern == '\0')
    return config_fail_token(reader, line, object->start, "object: expected an object pattern, got ''"), NULL;
  if (alias == NULL && relative_path_pattern(pattern) &&
      (pattern = config_resolve_path(reader->arena, line->file->directory, pattern)) == NULL)
    return config_fail_token(reader, line, object->start, "out of memory"), NULL;
  /* An absolute path names its file, '[' and all (a directory called we[ird). */
  if (*pattern != '/' && pdi_glob_unclosed(pattern))
    return config_fail_token(reader, line, object->start,
                             "object: a '[' without its closing ']' in '%s' (it would match only a name with a '[' in "
                             "it)",
                             pattern),
           NULL;
  return pattern;
}

int
config_check_function(reader_t *reader, const line_ref_t *line, const token_t *function)
{
  char symbol[PDI_SYMBOL_SIZE];
  char version[PDI_SYMBOL_SIZE];
  pdi_version_req_t req;
  if (strlen(function->text) >= sizeof symbol)
    return config_fail_token(reader, line, function->start,
                             "function: a name of %zu bytes; pdi takes names of up to %d", strlen(function->text),
                             PDI_SYMBOL_SIZE - 1);
  if (pdi_symbol_spec_parse(function->text, symbol, sizeof symbol, version, sizeof version, &req) != 0 ||
      strpbrk(function->text, " \t") != NULL)
    return config_fail_token(reader, line, function->start,
                             "function: expected a function name (`name`, `name@VERSION` or `name@@VERSION`), got '%s'",
                             function->text);
  /* No symbol name holds a glob character (C++ and Rust mangling, versions included): the rule would
   * match nothing. The same words as notAPattern() in src/ts/config/fields.ts. */
  if (strpbrk(function->text, "*?[") != NULL)
    return config_fail_token(
        reader, line, function->start,
        "function: a function name, not a pattern: '%s' (rules name functions exactly; pdi trace -e takes globs)",
        function->text);
  return 0;
}

int
config_parse_rule(reader_t *reader, const line_ref_t *line, pdi_rule_kind_t kind, const token_t *keyword,
                  const char *rest)
{
  const char *name = pdi_rule_kind_name(kind);
  tokens_t tokens;
  if (config_lex(reader, line, rest, 0, &tokens) != 0)
    return -1;
  unsigned count = tokens.count;
  int ok = kind == PDI_RULE_CALLBACK ? (count == 3 || count == 4) : count == 4;
  if (!ok) {
    const char *at = count > 4 ? tokens.items[4].start : count == 4 ? tokens.items[3].start : keyword->start;
    return config_fail_token(reader, line, at, "malformed %s line: expected '%s'", name,
                             kind == PDI_RULE_CALLBACK ? "callback OBJECT * BACKEND [HANDLER]"
                             : kind == PDI_RULE_RELINK ? "relink OBJECT FUNCTION BACKEND WRAPPER"
                                                       : "redefine OBJECT FUNCTION BACKEND WRAPPER");
  }
  const token_t *object = &tokens.items[0];
  const token_t *function = &tokens.items[1];
  const char *pattern = config_rule_object(reader, line, object);
  if (pattern == NULL)
    return -1;
  /* pDI-Tools wrote an unused field as '-', and a callback's absent handler also as NULL or empty. */
  if (kind == PDI_RULE_CALLBACK && strcmp(function->text, "*") != 0 && strcmp(function->text, "-") != 0)
    return config_fail_token(reader, line, function->start,
                             "malformed callback line: the function field must be '*' (or '-'), got '%s'",
                             function->text);
  int no_handler = kind == PDI_RULE_CALLBACK && count == 4 &&
                   (strcmp(tokens.items[3].text, "-") == 0 || strcmp(tokens.items[3].text, "NULL") == 0 ||
                    tokens.items[3].text[0] == '\0');
  if (kind != PDI_RULE_CALLBACK && config_check_function(reader, line, function) != 0)
    return -1;
  for (unsigned i = 2; i < (no_handler ? 3u : count); i++)
    if (tokens.items[i].text[0] == '\0')
      return config_fail_token(reader, line, tokens.items[i].start, "malformed %s line: an empty field", name);
  /* A symbol name, as the JSON/YAML schema has it: no blank, no version (a wrapper is looked up by name). */
  if (count > 3 && !no_handler && strpbrk(tokens.items[3].text, " \t\n\r\v\f@") != NULL)
    return config_fail_token(reader, line, tokens.items[3].start, "%s: expected a symbol name, got '%s'",
                             kind == PDI_RULE_CALLBACK ? "handler" : "wrapper", tokens.items[3].text);
  pdi_rule_t *rule = pdi_array_push(reader->arena, &reader->rules, sizeof *rule);
  if (rule == NULL)
    return config_fail_token(reader, line, keyword->start, "out of memory");
  rule->kind = kind;
  rule->object = pattern;
  rule->function = kind == PDI_RULE_CALLBACK ? NULL : function->text;
  rule->backend = tokens.items[2].text;
  rule->wrapper = count > 3 && !no_handler ? tokens.items[3].text : NULL;
  rule->origin = config_origin_at(line, keyword->start);
  for (unsigned i = 0; i < PDI_FIELD_COUNT; i++)
    rule->fields[i] = i < count ? config_origin_at(line, tokens.items[i].start) : rule->origin;
  return 0;
}

/* Each rule's backend is a declared backend, or under allow_lib_as_be an object alias or pattern
 * (with PDI_CONFIG_MERGING, any other name is left for the caller to check);
 * a callback names its own handler only under cb_allow_handler (left to the caller too when merging). */
int
config_check_rules(reader_t *reader)
{
  pdi_config_t *config = reader->config;
  const pdi_options_t *options = &config->options;
  int status = 0;
  for (unsigned i = 0; i < config->rule_count && !reader->stopped; i++) {
    pdi_rule_t *rule = &config->rules[i];
    if (rule->kind == PDI_RULE_ACT)
      continue; /* the core brings the act backend itself */
    const pdi_origin_t *backend_at = &rule->fields[PDI_FIELD_BACKEND];
    if (pdi_config_backend(config, rule->backend) == NULL) {
      /* Deferred: another config of the merge may declare it, and the caller checks after merging. */
      int deferred = (reader->flags & PDI_CONFIG_MERGING) != 0;
      const pdi_object_decl_t *alias = pdi_config_object(config, rule->backend);
      if (!options->allow_lib_as_be) {
        if (!deferred && alias != NULL)
          status = config_fail(
              reader, backend_at,
              "unknown backend '%s' ('%s' is an object alias: allow_lib_as_be = on takes wrappers from "
              "an object)",
              rule->backend, rule->backend);
        else if (!deferred)
          status = config_fail(reader, backend_at, "unknown backend '%s'", rule->backend);
      } else if (alias != NULL)
        rule->backend_object = alias->value;
      else if (looks_like_pattern(rule->backend))
        rule->backend_object = rule->backend;
      else if (!deferred)
        status = config_fail(reader, backend_at, "unknown backend or object '%s'", rule->backend);
    }
    if (rule->kind == PDI_RULE_CALLBACK && rule->wrapper != NULL && !options->cb_allow_handler &&
        (reader->flags & (PDI_CONFIG_MERGING | PDI_CONFIG_DEFER_WHOLE)) == 0)
      status = config_fail(reader, &rule->fields[PDI_FIELD_WRAPPER], "callback handler '%s' needs %s = on",
                           rule->wrapper, config_option_specs[PDI_OPTION_INDEX(cb_allow_handler)].key);
  }
  return status;
}

const char *
pdi_rule_kind_name(pdi_rule_kind_t kind)
{
  switch (kind) {
  case PDI_RULE_RELINK: return "relink";
  case PDI_RULE_REDEFINE: return "redefine";
  case PDI_RULE_CALLBACK: return "callback";
  case PDI_RULE_ACT: return "act";
  default: return "rule";
  }
}

const pdi_backend_decl_t *
pdi_config_backend(const pdi_config_t *config, const char *name)
{
  return find_declaration(config->backends, config->backend_count, name);
}

const pdi_object_decl_t *
pdi_config_object(const pdi_config_t *config, const char *alias)
{
  return find_declaration(config->objects, config->object_count, alias);
}
