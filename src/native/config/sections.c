/* Statements, sections, Include and command files: the reader's driver. The `global` section of
 * the main file runs first, with the sections it includes; then the `runtime` command file and
 * the `config` ones, which hold declarations and rules only. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "reader.h"

typedef enum { IN_CONFIG, IN_COMMAND_FILE } context_t;

/* Errors of an Include line point at its FILE:SECTION (the first extra field, or the end of the keyword when it has
 * none). */
static int
parse_include(reader_t *reader, const line_ref_t *line, const token_t *keyword, const char *rest)
{
  tokens_t tokens;
  if (config_lex(reader, line, rest, 0, &tokens) != 0)
    return -1;
  const char *at = tokens.count == 0 ? keyword->end : tokens.items[tokens.count > 1 ? 1 : 0].start;
  pdi_origin_t origin = config_origin_at(line, at);
  if (tokens.count != 1 || tokens.items[0].text[0] == '\0')
    return config_fail(reader, &origin, "malformed Include line: expected 'Include \"FILE:SECTION\"'");
  const char *spec = tokens.items[0].text;
  const char *colon = strrchr(spec, ':');
  const char *section = colon != NULL && colon[1] != '\0' ? colon + 1 : "global";
  size_t file_len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
  const source_file_t *target = line->file;
  if (file_len > 0) {
    const char *name = config_copy_range(reader->arena, spec, file_len);
    const char *path = name ? config_resolve_path(reader->arena, line->file->directory, name) : NULL;
    if (path == NULL)
      return config_fail(reader, &origin, "out of memory");
    target = config_load_file(reader, path, &origin);
    if (target == NULL)
      return -1;
  }
  return config_run_section(reader, target, section, &origin);
}

static int
add_warning(reader_t *reader, const pdi_origin_t *origin, const char *message)
{
  pdi_config_warning_t *warning = pdi_array_push(reader->arena, &reader->warnings, sizeof *warning);
  if (warning == NULL)
    return config_fail(reader, origin, "out of memory");
  warning->message = message;
  warning->origin = *origin;
  return 0;
}

static int
is_name(const char *word)
{
  for (; *word != '\0'; word++)
    if (!((*word >= 'a' && *word <= 'z') || (*word >= 'A' && *word <= 'Z') || (*word >= '0' && *word <= '9') ||
          *word == '_' || *word == '-'))
      return 0;
  return 1;
}

/* `unknown command 'relnk' (did you mean 'relink'?)`: among the commands of a command file, and in a config file
 * those of a config file too; nothing for a word that is no name (`backends:`, the first key of a YAML file). */
static int
unknown_command(reader_t *reader, const pdi_origin_t *origin, const char *word, context_t context)
{
  static const char *const commands[] = {"relink",  "redefine", "callback", "act",   "object",
                                         "backend", "Include",  "Warning",  "Error", "reset_config"};
  size_t count = sizeof commands / sizeof *commands - (context == IN_COMMAND_FILE ? 4 : 0);
  /* `relink:` or `max_threads: 5` as YAML writes them; `redefinition`, pDI-Tools' word. */
  char bare[64];
  size_t length = strlen(word);
  int colon = length > 1 && word[length - 1] == ':';
  snprintf(bare, sizeof bare, "%.*s", (int)(length - (size_t)colon), word);
  const char *near = NULL;
  for (size_t i = 0; i < count && near == NULL; i++) {
    size_t common = 0, command_length = strlen(commands[i]);
    while (bare[common] != '\0' && bare[common] == commands[i][common])
      common++;
    if (strcmp(bare, commands[i]) == 0 || (!colon && common >= 6 && common + 1 >= command_length))
      near = commands[i];
  }
  if (near == NULL && !colon && is_name(word))
    near = config_near_name(word, commands, count);
  if (near != NULL)
    return config_fail(reader, origin, "unknown command '%s' (did you mean '%s'?%s)", word, near,
                       colon ? " no colon after it" : "");
  const char *key = context == IN_CONFIG && is_name(bare) ? config_near_key(bare) : NULL;
  if (key != NULL)
    return config_fail(reader, origin, "unknown command '%s' (an option is written '%s = VALUE')", word, key);
  config_fail(reader, origin, "unknown command '%s'", word);
  /* `backends:`, `{`, `- relink:` first: JSON or YAML, where every later line would be one more such error. */
  if (reader->first_statement && (colon || strchr("{[-\"", word[0]) != NULL))
    reader->stopped = 1;
  return -1;
}

/* The ']' of a section header `[name]` that `text` starts, followed by
 * nothing but blanks and a comment; NULL when `text` is no such header. */
static const char *
header_close(const char *text)
{
  if (*text != '[')
    return NULL;
  const char *close = strchr(text, ']');
  const char *after = close ? close + 1 : NULL;
  while (after && config_is_blank(*after))
    after++;
  return close != NULL && (*after == '\0' || *after == '#') ? close : NULL;
}

static int
statement(reader_t *reader, const line_ref_t *line, context_t context)
{
  const char *text = line->text;
  while (config_is_blank(*text))
    text++;
  const char *end = text;
  while (*end && !config_is_blank(*end) && *end != '=')
    end++;
  token_t keyword = {config_copy_range(reader->arena, text, (size_t)(end - text)), TOKEN_WORD, text, end};
  if (keyword.text == NULL)
    return config_fail_token(reader, line, text, "out of memory");
  const char *word = keyword.text;
  static const struct {
    const char *keyword;
    pdi_rule_kind_t kind;
  } rules[] = {{"relink", PDI_RULE_RELINK}, {"redefine", PDI_RULE_REDEFINE}, {"callback", PDI_RULE_CALLBACK}};
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
    if (strcmp(word, rules[i].keyword) == 0)
      return config_parse_rule(reader, line, rules[i].kind, &keyword, end);
  if (strcmp(word, "act") == 0)
    return config_parse_act(reader, line, &keyword, end);
  if (strcmp(word, "object") == 0 || strcmp(word, "backend") == 0)
    return config_parse_declaration(reader, line, &keyword, end);
  pdi_origin_t origin = config_origin_at(line, text);
  int config_only = strcmp(word, "Include") == 0 || strcmp(word, "Warning") == 0 || strcmp(word, "Error") == 0 ||
                    strcmp(word, "reset_config") == 0;
  tokens_t tokens;
  if (!config_only && config_lex(reader, line, text, 1, &tokens) != 0)
    return -1;
  int assignment = !config_only && tokens.count >= 2 && tokens.items[1].kind == TOKEN_EQUALS;
  if (context == IN_COMMAND_FILE) {
    if (assignment)
      return config_fail(reader, &origin, "unknown command '%s' (options go in a config file)", word);
    if (config_only)
      return config_fail(reader, &origin, "unknown command '%s' (it goes in a config file)", word);
    if (header_close(text) != NULL)
      return config_fail(reader, &origin, "unknown command '%s' (sections go in a config file, not a command file)",
                         word);
    return unknown_command(reader, &origin, word, context);
  }
  if (strcmp(word, "Include") == 0)
    return parse_include(reader, line, &keyword, end);
  if (strcmp(word, "Warning") == 0 || strcmp(word, "Error") == 0) {
    const char *message = NULL;
    if (config_rest_text(reader, line, end, &message) != 0)
      return -1;
    if (word[0] == 'E') {
      /* It stops reading (pDI-Tools' meaning): what follows may be what the
       * Error line warns of, and is not reported beside it. */
      config_fail(reader, &origin, "%s", *message ? message : "Error");
      reader->stopped = 1;
      return -1;
    }
    return add_warning(reader, &origin, *message ? message : "Warning");
  }
  if (strcmp(word, "reset_config") == 0) {
    if (config_lex(reader, line, end, 0, &tokens) != 0)
      return -1;
    if (tokens.count != 0)
      return config_fail_token(reader, line, tokens.items[0].start,
                               "malformed reset_config line: expected 'reset_config' alone");
    reader->command_files.count = 0;
    return 0;
  }
  if (!assignment && *word == '\0')
    return config_fail(reader, &origin, "malformed line: missing key before '='");
  if (!assignment)
    return unknown_command(reader, &origin, word, context);
  if (tokens.items[0].kind != TOKEN_WORD)
    return config_fail(reader, &origin, "malformed line: expected 'key = value'");
  if (tokens.count == 2)
    return config_fail_token(reader, line, tokens.items[1].end, "%s: expected a value after '='", word);
  if (tokens.count > 3)
    return config_fail_token(reader, line, tokens.items[3].start,
                             "%s: expected one value (write a value holding blanks or '#' in double quotes)", word);
  return config_set_option(reader, line, &tokens.items[0], &tokens.items[2]);
}

static void
take_origin(reader_t *reader, const source_file_t *file, unsigned index, line_ref_t *line)
{
  line->file = file;
  line->number = index + 1;
  line->text = file->lines[index];
  line->overridden = reader->has_pending_origin;
  line->field_count = 0;
  if (reader->has_pending_origin) {
    line->origin = reader->pending_origin;
    line->field_count = reader->pending_field_count;
    memcpy(line->fields, reader->pending_fields, sizeof line->fields);
  }
  reader->has_pending_origin = 0;
  reader->pending_field_count = 0;
}

/* `[name]`, optionally followed by a comment: 1 with the name, 0 for another line, -1 on error. */
static int
section_header(reader_t *reader, const source_file_t *file, unsigned index, const char **name)
{
  const char *text = file->lines[index];
  while (config_is_blank(*text))
    text++;
  if (*text != '[')
    return 0;
  const char *close = header_close(text);
  if (close == NULL) {
    line_ref_t line = {.text = file->lines[index], .file = file, .number = index + 1};
    return config_fail_token(reader, &line, text, "malformed section header: expected '[NAME]'");
  }
  const char *start = text + 1;
  while (start < close && config_is_blank(*start))
    start++;
  const char *end = close;
  while (end > start && config_is_blank(end[-1]))
    end--;
  if (end == start) { /* no Include can name it: its lines would never run */
    line_ref_t line = {.text = file->lines[index], .file = file, .number = index + 1};
    return config_fail_token(reader, &line, text, "malformed section header: '[]' has no name: expected '[NAME]'");
  }
  *name = config_copy_range(reader->arena, start, (size_t)(end - start));
  return *name != NULL ? 1 : -1;
}

int
config_run_section(reader_t *reader, const source_file_t *file, const char *section, const pdi_origin_t *from)
{
  for (unsigned i = 0; i < reader->depth; i++) {
    if (reader->stack[i].file == file && strcmp(reader->stack[i].section, section) == 0) {
      char chain[1200] = "";
      size_t used = 0;
      for (unsigned j = i; j < reader->depth && used < sizeof chain; j++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s:%s -> ", reader->stack[j].file->path,
                                 reader->stack[j].section);
      return config_fail(reader, from, "Include cycle: %s%s:%s", chain, file->path, section);
    }
  }
  if (reader->depth == MAX_INCLUDE_DEPTH)
    return config_fail(reader, from, "Include nesting deeper than %d", MAX_INCLUDE_DEPTH);
  const char *current = "global";
  int found = strcmp(section, "global") == 0, status = 0;
  for (unsigned i = 0; i < file->line_count && !found; i++) {
    const char *name = NULL;
    int header = section_header(reader, file, i, &name);
    if (header < 0)
      status = -1; /* the section may still be found past it */
    found = header == 1 && strcmp(name, section) == 0;
  }
  if (!found)
    return config_fail(reader, from, "no section '%s' in '%s'", section, file->path);
  reader->stack[reader->depth++] = (include_frame_t){file, section};
  reader->has_pending_origin = 0;
  reader->first_statement = reader->depth == 1; /* the config file's own lines, not a section an Include names */
  for (unsigned i = 0; i < file->line_count && !reader->stopped; i++) {
    const char *name = NULL;
    int header = section_header(reader, file, i, &name);
    if (header != 0) {
      /* The lines after a malformed header are in no section any Include can name: skipped to the next header. */
      status = header < 0 ? -1 : status;
      current = header < 0 ? "" : name;
      reader->has_pending_origin = 0;
      continue;
    }
    int here = strcmp(current, section) == 0;
    if (!config_is_statement(reader, file->lines[i], here && file->compiled) || !here)
      continue;
    line_ref_t line;
    take_origin(reader, file, i, &line);
    if (statement(reader, &line, IN_CONFIG) != 0)
      status = -1;
    reader->first_statement = 0;
  }
  reader->has_pending_origin = 0;
  reader->depth--;
  return status;
}

/* 0 for a regular file, else why it cannot be a command file: ENOENT when there is nothing (the
 * search goes on), EISDIR, EINVAL (a FIFO, a device: not opened, which could block or have an
 * effect), or what stat() said (EACCES). */
static int
command_file_error(const char *path)
{
  struct stat info;
  if (stat(path, &info) != 0)
    return errno == ENOTDIR ? ENOENT : errno;
  return S_ISREG(info.st_mode) ? 0 : S_ISDIR(info.st_mode) ? EISDIR : EINVAL;
}

int
config_run_command_file(reader_t *reader, const command_file_ref_t *ref)
{
  pdi_arena_t *arena = reader->arena;
  const pdi_array_t *search = &reader->becfg_path;
  const char *const *directories = search->items;
  const char *path = NULL;
  const char *unreadable = NULL; /* the first place that holds something else than a regular file */
  int unreadable_error = 0;
  char searched[2048] = "";
  size_t used = 0;
  for (unsigned i = 0; i <= search->count && path == NULL; i++) {
    if (i > 0 && ref->name[0] == '/')
      break;
    const char *candidate = config_resolve_path(arena, i == 0 ? ref->directory : directories[i - 1], ref->name);
    if (candidate == NULL)
      return config_fail(reader, &ref->origin, "out of memory");
    int error = command_file_error(candidate);
    if (error == 0)
      path = candidate;
    else if (used < sizeof searched)
      used += (size_t)snprintf(searched + used, sizeof searched - used, "%s%s", i ? ", " : "", candidate);
    if (error != 0 && error != ENOENT && unreadable == NULL) {
      unreadable = candidate;
      unreadable_error = error;
    }
  }
  if (path == NULL && unreadable != NULL) {
    char reason[200];
    snprintf(reason, sizeof reason, "%s", strerror(unreadable_error));
    reason[0] = (char)tolower((unsigned char)reason[0]);
    return config_fail(reader, &ref->origin, "cannot read '%s': %s", unreadable, reason);
  }
  if (path == NULL)
    return config_fail(reader, &ref->origin, "command file '%s' not found (searched: %s)", ref->name, searched);
  const source_file_t *file = config_load_file(reader, path, &ref->origin);
  if (file == NULL)
    return -1;
  reader->has_pending_origin = 0;
  reader->first_statement = 1;
  int status = 0;
  for (unsigned i = 0; i < file->line_count && !reader->stopped; i++) {
    if (!config_is_statement(reader, file->lines[i], file->compiled))
      continue;
    line_ref_t line;
    take_origin(reader, file, i, &line);
    if (statement(reader, &line, IN_COMMAND_FILE) != 0)
      status = -1;
    reader->first_statement = 0;
  }
  reader->has_pending_origin = 0;
  return status;
}
