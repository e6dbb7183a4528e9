/* `key = value`: the options of the table (options.generated.h) and the text dialect's own keys
 * (`verbose`, `debug`, `becfg_path`, `config`, `runtime`), their defaults, and the rules that
 * tie one option to another. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reader.h"

_Static_assert(PDI_LOG_LEVEL_ERROR == PDI_LOG_ERROR && PDI_LOG_LEVEL_WARNING == PDI_LOG_WARNING &&
                   PDI_LOG_LEVEL_INFO == PDI_LOG_INFO && PDI_LOG_LEVEL_DEBUG == PDI_LOG_DEBUG,
               "the log_level choices are the core's log levels");

const option_spec_t config_option_specs[PDI_OPTION_COUNT] = {
#define PDI_OPTION_SPEC(field, key, name, kind, min, max, fallback, choices, message)                                  \
  {key, name, KIND_##kind, min, max, fallback, choices, message, offsetof(pdi_options_t, field)},
    PDI_OPTIONS(PDI_OPTION_SPEC)
#undef PDI_OPTION_SPEC
};

void
config_default_options(pdi_options_t *options)
{
  for (unsigned i = 0; i < PDI_OPTION_COUNT; i++) {
    const option_spec_t *spec = &config_option_specs[i];
    void *field = (char *)options + spec->offset;
    if (spec->kind == KIND_INTEGER)
      *(long *)field = spec->fallback;
    else if (spec->kind == KIND_BOOLEAN || spec->kind == KIND_CHOICE)
      *(int *)field = (int)spec->fallback;
  }
}

/* ---- values */

static int
parse_bool(const char *value, int *out)
{
  static const char *const yes[] = {"on", "true", "yes", "1"};
  static const char *const no[] = {"off", "false", "no", "0"};
  for (unsigned i = 0; i < 4; i++) {
    if (strcasecmp(value, yes[i]) == 0) {
      *out = 1;
      return 0;
    }
    if (strcasecmp(value, no[i]) == 0) {
      *out = 0;
      return 0;
    }
  }
  return -1;
}

/* 0, or -1 when not an integer, -2 below min, -3 above max. */
static int
parse_integer(const char *value, long min, long max, long *out)
{
  const char *digits = value + (*value == '+' || *value == '-');
  if (*digits < '0' || *digits > '9')
    return -1;
  char *end = NULL;
  errno = 0;
  long long n = strtoll(value, &end, 10);
  if (*end != '\0')
    return -1;
  if (n < min || (errno == ERANGE && n == LLONG_MIN))
    return -2;
  if (n > max || errno == ERANGE)
    return -3;
  *out = (long)n;
  return 0;
}

/* The index of `value` among "a|b|c", or -1. */
static int
choice_index(const char *choices, const char *value)
{
  size_t len = strlen(value);
  int index = 0;
  for (const char *p = choices; *p; index++) {
    size_t part = strcspn(p, "|");
    if (part == len && strncmp(p, value, len) == 0)
      return index;
    p += part;
    if (*p == '|')
      p++;
  }
  return -1;
}

static void
mark_set(pdi_options_t *options, unsigned index, const pdi_origin_t *origin)
{
  options->set[index] = 1;
  options->origin[index] = *origin;
}

/* Appends `value` made absolute against `directory` to a list of paths. */
static int
push_path(reader_t *reader, pdi_array_t *list, const char *directory, const char *value)
{
  const char *path = config_resolve_path(reader->arena, directory, value);
  const char **slot = path != NULL ? pdi_array_push(reader->arena, list, sizeof *slot) : NULL;
  if (slot == NULL)
    return -1;
  *slot = path;
  return 0;
}

static int
add_command_file(reader_t *reader, const source_file_t *file, const char *name, const pdi_origin_t *origin, int runtime)
{
  command_file_ref_t *ref = &reader->runtime;
  if (!runtime) {
    ref = pdi_array_push(reader->arena, &reader->command_files, sizeof *ref);
    if (ref == NULL)
      return config_fail(reader, origin, "out of memory");
  }
  ref->name = name;
  ref->directory = file->directory;
  ref->origin = *origin;
  return 0;
}

/* Sets the option of row `index` of the table to `value`, checked against its kind and bounds. */
static int
set_table_option(reader_t *reader, const line_ref_t *line, unsigned index, const pdi_origin_t *at,
                 const token_t *value_token)
{
  const option_spec_t *spec = &config_option_specs[index];
  const char *key = spec->key;
  const char *value = value_token->text;
  const char *directory = line->file->directory;
  pdi_origin_t value_at = config_origin_at(line, value_token->start);
  void *field = (char *)&reader->config->options + spec->offset;
  switch (spec->kind) {
  case KIND_INTEGER: {
    long n = 0;
    int status = parse_integer(value, spec->min, spec->max, &n);
    if (status == -3)
      return config_fail(reader, &value_at, "%s: " PDI_OPTION_INTEGER_MAX ", got '%s'", key, spec->max, value);
    if (status != 0)
      return config_fail(reader, &value_at, "%s: " PDI_OPTION_INTEGER_MIN ", got '%s'", key, spec->min, value);
    *(long *)field = n;
    break;
  }
  case KIND_BOOLEAN: {
    int flag = 0;
    if (parse_bool(value, &flag) != 0)
      return config_fail(reader, &value_at, "%s: %s, got '%s'", key, spec->message, value);
    *(int *)field = flag;
    break;
  }
  case KIND_CHOICE: {
    int choice = choice_index(spec->choices, value);
    if (choice < 0)
      return config_fail(reader, &value_at, "%s: %s, got '%s'", key, spec->message, value);
    *(int *)field = choice;
    break;
  }
  case KIND_FILE: {
    if (*value == '\0')
      return config_fail(reader, &value_at, "%s: %s, got ''", key, spec->message);
    *(const char **)field = strcmp(value, "stderr") == 0 ? NULL : config_resolve_path(reader->arena, directory, value);
    break;
  }
  case KIND_DIRECTORIES: {
    if (*value == '\0')
      return config_fail(reader, &value_at, "%s: %s, got ''", key, spec->message);
    if (push_path(reader, &reader->lists[index], directory, value) != 0)
      return config_fail(reader, at, "out of memory");
    break;
  }
  }
  mark_set(&reader->config->options, index, &value_at);
  if (index == PDI_OPTION_INDEX(log_level))
    reader->before_debug.pending = 0;
  return 0;
}

/* pDI-Tools' `debug = on|off` on the one log level: on raises it to debug;
 * off puts back the level an earlier `debug = on` replaced, or lowers a debug
 * level set otherwise (verbose = 3) to info. */
static void
set_debug(reader_t *reader, int on, const pdi_origin_t *at)
{
  pdi_options_t *options = &reader->config->options;
  unsigned index = PDI_OPTION_INDEX(log_level);
  if (on) {
    if (!reader->before_debug.pending) {
      reader->before_debug.pending = 1;
      reader->before_debug.level = options->log_level;
      reader->before_debug.was_set = options->set[index];
      reader->before_debug.origin = options->origin[index];
    }
    options->log_level = PDI_LOG_LEVEL_DEBUG;
    mark_set(options, index, at);
    return;
  }
  if (reader->before_debug.pending) {
    reader->before_debug.pending = 0;
    options->log_level = reader->before_debug.level;
    options->set[index] = reader->before_debug.was_set;
    options->origin[index] = reader->before_debug.origin;
  } else if (options->log_level == PDI_LOG_LEVEL_DEBUG) {
    options->log_level = PDI_LOG_LEVEL_INFO;
    mark_set(options, index, at);
  }
}

/* The text dialect's keys that are no option of the model: 1 when `key` is none of them. */
static int
set_dialect_key(reader_t *reader, const line_ref_t *line, const char *key, const pdi_origin_t *at,
                const token_t *value_token)
{
  pdi_options_t *options = &reader->config->options;
  const char *value = value_token->text;
  pdi_origin_t value_at = config_origin_at(line, value_token->start);
  if (strcmp(key, "verbose") == 0) {
    if (strlen(value) != 1 || value[0] < '0' || value[0] > '3')
      return config_fail(reader, &value_at, "verbose: expected 0, 1, 2 or 3, got '%s'", value);
    options->log_level = value[0] - '0';
    mark_set(options, PDI_OPTION_INDEX(log_level), &value_at);
    reader->before_debug.pending = 0;
    return 0;
  }
  if (strcmp(key, "debug") == 0) {
    int flag = 0;
    if (parse_bool(value, &flag) != 0)
      return config_fail(reader, &value_at, "debug: expected a boolean, got '%s'", value);
    set_debug(reader, flag, &value_at);
    return 0;
  }
  if (strcmp(key, "becfg_path") == 0) {
    if (*value == '\0')
      return config_fail(reader, &value_at, "becfg_path: expected a directory, got ''");
    if (push_path(reader, &reader->becfg_path, line->file->directory, value) != 0)
      return config_fail(reader, at, "out of memory");
    return 0;
  }
  if (strcmp(key, "config") == 0 || strcmp(key, "runtime") == 0) {
    if (*value == '\0')
      return config_fail(reader, &value_at, "%s: expected a command file, got ''", key);
    const char *name = pdi_arena_strdup(reader->arena, value);
    return add_command_file(reader, line->file, name, &value_at, key[0] == 'r');
  }
  return 1;
}

/* A key's letters and digits, lower-cased: max_threads, maxThreads, max-threads (and log.level, log_level) are the same
 * words. */
static size_t
key_words(const char *key, char *words, size_t size)
{
  size_t n = 0;
  for (; *key != '\0' && n + 1 < size; key++)
    if (*key != '_' && *key != '-' && *key != '.')
      words[n++] = (char)(*key >= 'A' && *key <= 'Z' ? *key - 'A' + 'a' : *key);
  words[n] = '\0';
  return n;
}

/* Edit distance of two short strings, capped at 3. */
static unsigned
key_distance(const char *a, size_t a_length, const char *b, size_t b_length)
{
  unsigned row[64];
  if (a_length >= 64 || b_length >= 64)
    return 3;
  for (size_t j = 0; j <= b_length; j++)
    row[j] = (unsigned)j;
  for (size_t i = 1; i <= a_length; i++) {
    unsigned diagonal = row[0];
    row[0] = (unsigned)i;
    for (size_t j = 1; j <= b_length; j++) {
      unsigned above = row[j];
      unsigned best = diagonal + (a[i - 1] != b[j - 1]);
      if (above + 1 < best)
        best = above + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diagonal = above;
    }
  }
  return row[b_length] > 3 ? 3 : row[b_length];
}

/* The key an unknown one most likely meant (the same words as the key or as
 * its JSON/YAML name, protectBackends for donttouch_backends, or the one key
 * at most two edits away), or NULL; as the TypeScript reader suggests. */
const char *
config_near_key(const char *key)
{
  static const char *const dialect_keys[] = {"verbose", "debug", "becfg_path", "config", "runtime"};
  char wanted[64], words[64];
  size_t wanted_length = key_words(key, wanted, sizeof wanted);
  for (unsigned i = 0; i < PDI_OPTION_COUNT; i++)
    if (key_words(config_option_specs[i].name, words, sizeof words) > 0 && strcmp(words, wanted) == 0)
      return config_option_specs[i].key;
  const char *near = NULL;
  unsigned near_count = 0;
  for (unsigned i = 0; i < PDI_OPTION_COUNT + sizeof dialect_keys / sizeof *dialect_keys; i++) {
    const char *name = i < PDI_OPTION_COUNT ? config_option_specs[i].key : dialect_keys[i - PDI_OPTION_COUNT];
    size_t length = key_words(name, words, sizeof words);
    if (strcmp(words, wanted) == 0)
      return name;
    if (wanted_length >= 4 && key_distance(wanted, wanted_length, words, length) <= 2) {
      near = name;
      near_count++;
    }
  }
  return near_count == 1 ? near : NULL;
}

const char *
config_near_name(const char *word, const char *const *names, size_t count)
{
  char wanted[64], words[64];
  size_t wanted_length = key_words(word, wanted, sizeof wanted);
  const char *near = NULL;
  unsigned near_count = 0;
  for (size_t i = 0; i < count; i++) {
    size_t length = key_words(names[i], words, sizeof words);
    if (strcmp(words, wanted) == 0)
      return names[i];
    if (wanted_length >= 4 && key_distance(wanted, wanted_length, words, length) <= 2) {
      near = names[i];
      near_count++;
    }
  }
  return near_count == 1 ? near : NULL;
}

int
config_set_option(reader_t *reader, const line_ref_t *line, const token_t *key_token, const token_t *value_token)
{
  const char *key = key_token->text;
  pdi_origin_t at = config_origin_at(line, key_token->start);
  for (unsigned i = 0; i < PDI_OPTION_COUNT; i++)
    if (strcmp(key, config_option_specs[i].key) == 0)
      return set_table_option(reader, line, i, &at, value_token);
  int status = set_dialect_key(reader, line, key, &at, value_token);
  if (status <= 0)
    return status;
  const char *near = config_near_key(key);
  return near != NULL ? config_fail(reader, &at, "unknown key '%s' (did you mean '%s'?)", key, near)
                      : config_fail(reader, &at, "unknown key '%s'", key);
}

/* An integer option that must not exceed another (PDI_OPTION_LIMITS): the error is at the option
 * when the config sets it, else at the other one. */
static int
check_limit(reader_t *reader, unsigned index, unsigned limit)
{
  const pdi_options_t *options = &reader->config->options;
  const option_spec_t *spec = &config_option_specs[index];
  const option_spec_t *limit_spec = &config_option_specs[limit];
  long value = *(const long *)((const char *)options + spec->offset);
  long most = *(const long *)((const char *)options + limit_spec->offset);
  if (value <= most)
    return 0;
  const pdi_origin_t *at = &options->origin[options->set[index] ? index : limit];
  return config_fail(reader, at, "%s: " PDI_OPTION_INTEGER_AT_MOST ", got '%ld'", spec->key, limit_spec->key, most,
                     value);
}

int
config_check_options(reader_t *reader)
{
  int status = 0;
#define PDI_OPTION_CHECK_LIMIT(field, limit)                                                                           \
  if (check_limit(reader, PDI_OPTION_INDEX(field), PDI_OPTION_INDEX(limit)) != 0)                                      \
    status = -1;
  PDI_OPTION_LIMITS(PDI_OPTION_CHECK_LIMIT)
#undef PDI_OPTION_CHECK_LIMIT
  return status;
}
