#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define MAX_INCLUDE_DEPTH 32
#define MAX_FIELDS 8

typedef struct source_file {
  const char *path;
  const char *directory;
  char **lines;
  unsigned line_count;
  struct source_file *next;
} source_file_t;

typedef struct include_frame {
  const source_file_t *file;
  const char *section;
  unsigned line;
} include_frame_t;

typedef struct command_file_ref {
  const char *path;
  pdi_origin_t origin;
} command_file_ref_t;

typedef struct reader {
  pdi_config_t *config;
  source_file_t *files;
  include_frame_t stack[MAX_INCLUDE_DEPTH];
  unsigned depth;
  command_file_ref_t *command_files;
  unsigned command_file_count;
  unsigned command_file_capacity;
  command_file_ref_t runtime;
  pdi_origin_t pending_origin;
  int has_pending_origin;
  void (*warn)(const char *message);
} reader_t;

/* One line being read: where it is, and where its text starts (for columns). */
typedef struct line_ref {
  const char *start;
  pdi_origin_t origin;
} line_ref_t;

static int
fail_at(const pdi_origin_t *origin, unsigned column, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail_at(const pdi_origin_t *origin, unsigned column, const char *fmt, ...)
{
  char message[400];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  unsigned col = origin->column > 1 ? origin->column : column;
  if (origin->file == NULL)
    pdi_set_error("%s", message);
  else if (origin->line == 0)
    pdi_set_error("%s: %s", origin->file, message);
  else if (col != 0)
    pdi_set_error("%s:%u:%u: %s", origin->file, origin->line, col, message);
  else
    pdi_set_error("%s:%u: %s", origin->file, origin->line, message);
  return -1;
}

static unsigned
column_of(const line_ref_t *line, const char *at)
{
  return (unsigned)(at - line->start) + 1;
}

static char *
copy_range(pdi_arena_t *arena, const char *start, size_t len)
{
  char *copy = pdi_arena_alloc(arena, len + 1);
  if (copy != NULL) {
    memcpy(copy, start, len);
    copy[len] = '\0';
  }
  return copy;
}

static int
push_string(pdi_arena_t *arena, pdi_string_list_t *list, const char *value)
{
  if (list->count == list->capacity) {
    unsigned capacity = list->capacity ? list->capacity * 2 : 8;
    const char **items = pdi_arena_alloc(arena, capacity * sizeof *items);
    if (items == NULL)
      return -1;
    if (list->count)
      memcpy(items, list->items, list->count * sizeof *items);
    list->items = items;
    list->capacity = capacity;
  }
  list->items[list->count++] = value;
  return 0;
}

/* Grows an arena-backed array by one element and returns it, zeroed. */
static void *
append(pdi_arena_t *arena, void **items, unsigned *count, size_t size)
{
  if ((*count & (*count - 1)) == 0) {
    unsigned capacity = *count ? *count * 2 : 4;
    void *grown = pdi_arena_alloc(arena, capacity * size);
    if (grown == NULL)
      return NULL;
    if (*count)
      memcpy(grown, *items, *count * size);
    *items = grown;
  }
  void *slot = (char *)*items + (*count)++ * size;
  memset(slot, 0, size);
  return slot;
}

static const char *
resolve_path(pdi_arena_t *arena, const char *directory, const char *name)
{
  char joined[PATH_MAX];
  int length = name[0] == '/' ? snprintf(joined, sizeof joined, "%s", name)
                              : snprintf(joined, sizeof joined, "%s/%s", directory, name);
  if (length < 0 || (size_t)length >= sizeof joined)
    return pdi_arena_strdup(arena, name);
  char real[PATH_MAX];
  return pdi_arena_strdup(arena, realpath(joined, real) ? real : joined);
}

static char *
trim(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t len = strlen(s);
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
    s[--len] = '\0';
  return s;
}

static source_file_t *
load_file(reader_t *reader, const char *path, const pdi_origin_t *from)
{
  for (source_file_t *file = reader->files; file != NULL; file = file->next)
    if (strcmp(file->path, path) == 0)
      return file;
  pdi_arena_t *arena = &reader->config->arena;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat info;
  if (fd < 0 || fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    int error = fd < 0 ? errno : EISDIR;
    if (fd >= 0)
      close(fd);
    fail_at(from, 0, "cannot read %s: %s", path, strerror(error));
    return NULL;
  }
  char *text = pdi_arena_alloc(arena, (size_t)info.st_size + 1);
  size_t length = 0;
  while (text != NULL && length < (size_t)info.st_size) {
    ssize_t n = read(fd, text + length, (size_t)info.st_size - length);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    length += (size_t)n;
  }
  close(fd);
  if (text == NULL) {
    fail_at(from, 0, "out of memory reading %s", path);
    return NULL;
  }
  text[length] = '\0';
  source_file_t *file = pdi_arena_alloc(arena, sizeof *file);
  unsigned count = 1;
  for (size_t i = 0; i < length; i++)
    count += text[i] == '\n';
  char **lines = pdi_arena_alloc(arena, count * sizeof *lines);
  if (file == NULL || lines == NULL) {
    fail_at(from, 0, "out of memory reading %s", path);
    return NULL;
  }
  file->line_count = 0;
  for (char *line = text; line != NULL;) {
    char *newline = strchr(line, '\n');
    if (newline != NULL)
      *newline = '\0';
    lines[file->line_count++] = line;
    line = newline ? newline + 1 : NULL;
  }
  file->lines = lines;
  file->path = pdi_arena_strdup(arena, path);
  const char *slash = strrchr(path, '/');
  file->directory = slash == path ? "/" : copy_range(arena, path, slash ? (size_t)(slash - path) : 0);
  file->next = reader->files;
  reader->files = file;
  return file;
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

static int
parse_long(const char *value, long min, long *out)
{
  if (*value == '\0')
    return -1;
  char *end = NULL;
  errno = 0;
  long n = strtol(value, &end, 10);
  if (errno != 0 || *end != '\0' || n < min)
    return -1;
  *out = n;
  return 0;
}

static int
parse_log_level(const char *value, int *out)
{
  static const char *const names[] = {"error", "warning", "info", "debug"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(value, names[i]) == 0) {
      *out = i;
      return 0;
    }
  }
  return -1;
}

static char *
unquote(char *value)
{
  size_t len = strlen(value);
  if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
    value[len - 1] = '\0';
    return value + 1;
  }
  return value;
}

typedef enum { KEY_INT, KEY_BOOL } key_type_t;

typedef struct numeric_key {
  const char *name;
  key_type_t type;
  long min;
  size_t offset;
} numeric_key_t;

static const numeric_key_t numeric_keys[] = {
  {"max_threads", KEY_INT, 1, offsetof(pdi_options_t, max_threads)},
  {"num_threads", KEY_INT, 0, offsetof(pdi_options_t, num_threads)},
  {"cb_stack_size", KEY_INT, 256, offsetof(pdi_options_t, cb_stack_size)},
  {"cb_max_stubs", KEY_INT, 1, offsetof(pdi_options_t, cb_max_stubs)},
  {"max_objects", KEY_INT, 1, offsetof(pdi_options_t, max_objects)},
  {"cb_allow_handler", KEY_BOOL, 0, offsetof(pdi_options_t, cb_allow_handler)},
  {"donttouch_backends", KEY_BOOL, 0, offsetof(pdi_options_t, donttouch_backends)},
  {"donttouch_pdi", KEY_BOOL, 0, offsetof(pdi_options_t, donttouch_pdi)},
  {"allow_lib_as_be", KEY_BOOL, 0, offsetof(pdi_options_t, allow_lib_as_be)},
};

static int
add_command_file(reader_t *reader, const char *path, const pdi_origin_t *origin)
{
  command_file_ref_t *ref = append(&reader->config->arena, (void **)&reader->command_files,
                                   &reader->command_file_count, sizeof *ref);
  if (ref == NULL)
    return fail_at(origin, 0, "out of memory");
  ref->path = path;
  ref->origin = *origin;
  return 0;
}

static int
set_option(reader_t *reader, const line_ref_t *line, const source_file_t *file, char *key, char *value,
           const char *value_at)
{
  pdi_options_t *options = &reader->config->options;
  pdi_arena_t *arena = &reader->config->arena;
  unsigned value_column = column_of(line, value_at);
  for (size_t i = 0; i < sizeof numeric_keys / sizeof numeric_keys[0]; i++) {
    const numeric_key_t *spec = &numeric_keys[i];
    if (strcmp(key, spec->name) != 0)
      continue;
    if (spec->type == KEY_BOOL) {
      int flag;
      if (parse_bool(value, &flag) != 0)
        return fail_at(&line->origin, value_column, "%s: expected on or off, got '%s'", key, value);
      *(int *)((char *)options + spec->offset) = flag;
    } else {
      long n;
      if (parse_long(value, spec->min, &n) != 0)
        return fail_at(&line->origin, value_column, "%s: expected an integer >= %ld, got '%s'", key, spec->min,
                       value);
      *(long *)((char *)options + spec->offset) = n;
    }
    return 0;
  }
  if (strcmp(key, "on_error") == 0) {
    if (strcmp(value, "fail") != 0 && strcmp(value, "warn") != 0)
      return fail_at(&line->origin, value_column, "on_error: expected fail or warn, got '%s'", value);
    options->on_error_warn = strcmp(value, "warn") == 0;
    return 0;
  }
  if (strcmp(key, "log_level") == 0) {
    if (parse_log_level(value, &options->log_level) != 0)
      return fail_at(&line->origin, value_column, "log_level: expected error, warning, info or debug, got '%s'",
                     value);
    return 0;
  }
  if (strcmp(key, "verbose") == 0) {
    long n;
    if (parse_long(value, 0, &n) != 0 || n > 3)
      return fail_at(&line->origin, value_column, "verbose: expected 0 to 3, got '%s'", value);
    options->log_level = (int)n;
    return 0;
  }
  if (strcmp(key, "debug") == 0) {
    int flag;
    if (parse_bool(value, &flag) != 0)
      return fail_at(&line->origin, value_column, "debug: expected on or off, got '%s'", value);
    if (flag)
      options->log_level = PDI_LOG_DEBUG;
    return 0;
  }
  if (strcmp(key, "log_file") == 0) {
    options->log_file = strcmp(value, "stderr") == 0 ? NULL : resolve_path(arena, file->directory, value);
    return 0;
  }
  if (strcmp(key, "be_path") == 0 || strcmp(key, "becfg_path") == 0) {
    pdi_string_list_t *list = strcmp(key, "be_path") == 0 ? &options->be_path : &options->becfg_path;
    if (push_string(arena, list, resolve_path(arena, file->directory, value)) != 0)
      return fail_at(&line->origin, 0, "out of memory");
    return 0;
  }
  if (strcmp(key, "config") == 0) {
    pdi_origin_t origin = line->origin;
    origin.column = value_column;
    return add_command_file(reader, resolve_path(arena, file->directory, value), &origin);
  }
  if (strcmp(key, "runtime") == 0) {
    reader->runtime.path = resolve_path(arena, file->directory, value);
    reader->runtime.origin = line->origin;
    reader->runtime.origin.column = value_column;
    return 0;
  }
  return fail_at(&line->origin, column_of(line, key), "unknown key '%s'", key);
}

/* ---- rules and declarations (command files, and config sections) */

static int
looks_like_pattern(const char *word)
{
  return strcmp(word, "$main") == 0 || strcmp(word, "*") == 0 || strpbrk(word, "/*?[") != NULL ||
         strstr(word, ".so") != NULL;
}

static unsigned
split_fields(char *text, char **fields, unsigned max)
{
  unsigned count = 0;
  char *p = text;
  while (*p) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p)
      break;
    if (count == max)
      return max + 1;
    fields[count++] = p;
    while (*p && *p != ' ' && *p != '\t')
      p++;
    if (*p)
      *p++ = '\0';
  }
  return count;
}

static int
parse_declaration(reader_t *reader, const line_ref_t *line, const char *keyword, char *rest)
{
  pdi_config_t *config = reader->config;
  char *equals = strchr(rest, '=');
  if (equals == NULL)
    return fail_at(&line->origin, column_of(line, rest), "malformed %s line: expected '%s NAME = %s'", keyword,
                   keyword, strcmp(keyword, "object") == 0 ? "PATTERN" : "LIBRARY");
  *equals = '\0';
  char *name = trim(rest);
  char *value = trim(equals + 1);
  char *fields[2];
  if (split_fields(name, fields, 1) != 1 || *value == '\0' || strpbrk(value, " \t") != NULL)
    return fail_at(&line->origin, column_of(line, rest), "malformed %s line: expected '%s NAME = %s'", keyword,
                   keyword, strcmp(keyword, "object") == 0 ? "PATTERN" : "LIBRARY");
  pdi_origin_t origin = line->origin;
  origin.column = column_of(line, name);
  int object = strcmp(keyword, "object") == 0;
  pdi_declaration_t **items = object ? &config->objects : &config->backends;
  unsigned *count = object ? &config->object_count : &config->backend_count;
  const pdi_declaration_t *known = object ? pdi_config_object(config, name) : pdi_config_backend(config, name);
  if (known != NULL && strcmp(known->value, value) != 0)
    return fail_at(&origin, 0, "%s '%s' is already declared as '%s' at %s:%u", keyword, name, known->value,
                   known->origin.file, known->origin.line);
  if (known != NULL)
    return 0;
  pdi_declaration_t *decl = append(&config->arena, (void **)items, count, sizeof *decl);
  if (decl == NULL)
    return fail_at(&origin, 0, "out of memory");
  decl->name = pdi_arena_strdup(&config->arena, name);
  decl->value = pdi_arena_strdup(&config->arena, value);
  decl->origin = origin;
  return 0;
}

static int
parse_rule(reader_t *reader, const line_ref_t *line, pdi_rule_kind_t kind, char *rest)
{
  pdi_config_t *config = reader->config;
  const char *name = pdi_rule_kind_name(kind);
  char *fields[MAX_FIELDS];
  unsigned count = split_fields(rest, fields, MAX_FIELDS);
  int ok = kind == PDI_RULE_CALLBACK ? (count == 3 || count == 4) : count == 4;
  if (!ok)
    return fail_at(&line->origin, column_of(line, rest), "malformed %s line: expected '%s'", name,
                   kind == PDI_RULE_CALLBACK ? "callback OBJECT * BACKEND [HANDLER]"
                                             : kind == PDI_RULE_RELINK ? "relink OBJECT FUNCTION BACKEND WRAPPER"
                                                                       : "redefine OBJECT FUNCTION BACKEND WRAPPER");
  const char *pattern = fields[0];
  const pdi_object_decl_t *alias = pdi_config_object(config, fields[0]);
  if (alias != NULL)
    pattern = alias->value;
  else if (!looks_like_pattern(fields[0]))
    return fail_at(&line->origin, column_of(line, fields[0]), "unknown object alias '%s'", fields[0]);
  if (kind == PDI_RULE_CALLBACK && strcmp(fields[1], "*") != 0)
    return fail_at(&line->origin, column_of(line, fields[1]),
                   "a callback covers every import of its object: its function field must be '*', got '%s'",
                   fields[1]);
  if (kind != PDI_RULE_CALLBACK) {
    char symbol[256];
    char version[128];
    pdi_version_req_t req;
    if (pdi_symbol_spec_parse(fields[1], symbol, sizeof symbol, version, sizeof version, &req) != 0)
      return fail_at(&line->origin, column_of(line, fields[1]),
                     "malformed function '%s': expected NAME, NAME@VERSION or NAME@@VERSION", fields[1]);
  }
  pdi_rule_t *rule = append(&config->arena, (void **)&config->rules, &config->rule_count, sizeof *rule);
  if (rule == NULL)
    return fail_at(&line->origin, 0, "out of memory");
  rule->kind = kind;
  rule->object = pdi_arena_strdup(&config->arena, pattern);
  rule->function = kind == PDI_RULE_CALLBACK ? NULL : pdi_arena_strdup(&config->arena, fields[1]);
  rule->backend = pdi_arena_strdup(&config->arena, fields[2]);
  rule->wrapper = count > 3 ? pdi_arena_strdup(&config->arena, fields[3]) : NULL;
  rule->origin = line->origin;
  rule->origin.column = line->origin.column > 1 ? line->origin.column : column_of(line, line->start);
  return 0;
}

/* 1 = handled as a command-file statement, 0 = not one, -1 = error. */
static int
command_statement(reader_t *reader, const line_ref_t *line, char *text)
{
  static const struct {
    const char *keyword;
    pdi_rule_kind_t kind;
  } rules[] = {{"relink", PDI_RULE_RELINK}, {"redefine", PDI_RULE_REDEFINE}, {"callback", PDI_RULE_CALLBACK}};
  size_t word = strcspn(text, " \t");
  char *rest = text + word;
  if (*rest)
    *rest++ = '\0';
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
    if (strcmp(text, rules[i].keyword) == 0)
      return parse_rule(reader, line, rules[i].kind, rest) == 0 ? 1 : -1;
  if (strcmp(text, "object") == 0 || strcmp(text, "backend") == 0)
    return parse_declaration(reader, line, text, rest) == 0 ? 1 : -1;
  if (rest != text + word)
    text[word] = ' ';
  return 0;
}

static int
parse_origin_comment(reader_t *reader, pdi_arena_t *arena, const char *text)
{
  const char *spec = text + strlen("#@origin");
  while (*spec == ' ')
    spec++;
  const char *last = strrchr(spec, ':');
  if (last == NULL || last == spec)
    return 0;
  const char *middle = last - 1;
  while (middle > spec && *middle != ':')
    middle--;
  unsigned line = 0;
  unsigned column = 0;
  if (*middle == ':' && middle > spec) {
    line = (unsigned)strtoul(middle + 1, NULL, 10);
    column = (unsigned)strtoul(last + 1, NULL, 10);
  } else {
    middle = last;
    line = (unsigned)strtoul(last + 1, NULL, 10);
  }
  reader->pending_origin.file = copy_range(arena, spec, (size_t)(middle - spec));
  reader->pending_origin.line = line;
  reader->pending_origin.column = column;
  reader->has_pending_origin = 1;
  return 0;
}

/* A line copied into `buffer` and trimmed; NULL for blank and comment
 * lines, where a `#@origin` comment (when `origins` is set) is noted for the
 * next statement. */
static char *
statement_text(reader_t *reader, const char *source, char *buffer, size_t size, int origins)
{
  snprintf(buffer, size, "%s", source);
  char *text = trim(buffer);
  if (*text == '\0')
    return NULL;
  if (*text == '#') {
    if (origins && strncmp(text, "#@origin", 8) == 0)
      parse_origin_comment(reader, &reader->config->arena, text);
    return NULL;
  }
  return text;
}

static void
take_origin(reader_t *reader, const source_file_t *file, unsigned index, line_ref_t *line)
{
  if (reader->has_pending_origin) {
    line->origin = reader->pending_origin;
    reader->has_pending_origin = 0;
  } else {
    line->origin.file = file->path;
    line->origin.line = index + 1;
    line->origin.column = 0;
  }
}

/* ---- config sections */

static int run_section(reader_t *reader, const source_file_t *file, const char *section, const pdi_origin_t *from);

static int
parse_include(reader_t *reader, const source_file_t *file, const line_ref_t *line, char *argument)
{
  pdi_arena_t *arena = &reader->config->arena;
  size_t len = strlen(argument);
  if (len < 2 || argument[0] != '"' || argument[len - 1] != '"')
    return fail_at(&line->origin, column_of(line, argument), "malformed Include: expected Include \"FILE:SECTION\"");
  argument[len - 1] = '\0';
  char *spec = argument + 1;
  char *colon = strrchr(spec, ':');
  const char *section = "global";
  if (colon != NULL) {
    *colon = '\0';
    if (colon[1] != '\0')
      section = pdi_arena_strdup(arena, colon + 1);
  }
  const source_file_t *target = file;
  if (*spec != '\0') {
    const char *path = resolve_path(arena, file->directory, spec);
    target = load_file(reader, path, &line->origin);
    if (target == NULL)
      return -1;
  }
  return run_section(reader, target, section, &line->origin);
}

static int
config_statement(reader_t *reader, const source_file_t *file, const line_ref_t *line, char *text)
{
  if (strcmp(text, "reset_config") == 0) {
    reader->command_file_count = 0;
    return 0;
  }
  size_t word = strcspn(text, " \t");
  char *argument = trim(text + word);
  if (word == 7 && strncmp(text, "Include", 7) == 0)
    return parse_include(reader, file, line, argument);
  if (word == 7 && strncmp(text, "Warning", 7) == 0) {
    if (reader->warn != NULL) {
      char message[600];
      snprintf(message, sizeof message, "%s:%u: %s", line->origin.file, line->origin.line, argument);
      reader->warn(message);
    }
    return 0;
  }
  if (word == 5 && strncmp(text, "Error", 5) == 0)
    return fail_at(&line->origin, 0, "%s", *argument ? argument : "Error");
  int handled = command_statement(reader, line, text);
  if (handled != 0)
    return handled < 0 ? -1 : 0;
  char *equals = strchr(text, '=');
  if (equals == NULL)
    return fail_at(&line->origin, column_of(line, text),
                   "malformed line: expected 'key = value', [section], reset_config, Include, Warning, Error or a rule");
  *equals = '\0';
  char *key = trim(text);
  char *value_start = equals + 1;
  while (*value_start == ' ' || *value_start == '\t')
    value_start++;
  char *value = unquote(trim(value_start));
  if (*key == '\0')
    return fail_at(&line->origin, column_of(line, text), "malformed line: missing key before '='");
  if (strpbrk(key, " \t") != NULL)
    return fail_at(&line->origin, column_of(line, key), "unknown key '%s'", key);
  return set_option(reader, line, file, key, value, value_start);
}

static int
section_header(char *text, char **name)
{
  size_t len = strlen(text);
  if (len < 2 || text[0] != '[' || text[len - 1] != ']')
    return 0;
  text[len - 1] = '\0';
  *name = trim(text + 1);
  return 1;
}

static int
run_section(reader_t *reader, const source_file_t *file, const char *section, const pdi_origin_t *from)
{
  for (unsigned i = 0; i < reader->depth; i++) {
    if (reader->stack[i].file == file && strcmp(reader->stack[i].section, section) == 0) {
      char chain[300] = "";
      size_t used = 0;
      for (unsigned j = i; j < reader->depth && used < sizeof chain; j++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s:%s -> ", reader->stack[j].file->path,
                                 reader->stack[j].section);
      return fail_at(from, 0, "Include cycle: %s%s:%s", chain, file->path, section);
    }
  }
  if (reader->depth == MAX_INCLUDE_DEPTH)
    return fail_at(from, 0, "Include nesting deeper than %d", MAX_INCLUDE_DEPTH);
  reader->stack[reader->depth++] = (include_frame_t){file, section, 0};
  const char *current = "global";
  int found = strcmp(section, "global") == 0;
  int status = 0;
  for (unsigned i = 0; i < file->line_count && status == 0; i++) {
    char buffer[4096];
    char *text = statement_text(reader, file->lines[i], buffer, sizeof buffer, strcmp(current, section) == 0);
    if (text == NULL)
      continue;
    char *name;
    if (section_header(text, &name)) {
      current = pdi_arena_strdup(&reader->config->arena, name);
      found |= strcmp(current, section) == 0;
      continue;
    }
    if (strcmp(current, section) != 0)
      continue;
    line_ref_t line = {buffer, {NULL, 0, 0}};
    take_origin(reader, file, i, &line);
    status = config_statement(reader, file, &line, text);
  }
  reader->depth--;
  if (status == 0 && !found)
    return fail_at(from, 0, "%s has no section [%s]", file->path, section);
  return status;
}

static int
run_command_file(reader_t *reader, const command_file_ref_t *ref)
{
  const char *path = ref->path;
  if (access(path, R_OK) != 0) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (unsigned i = 0; i < reader->config->options.becfg_path.count; i++) {
      const char *candidate = resolve_path(&reader->config->arena, reader->config->options.becfg_path.items[i], base);
      if (access(candidate, R_OK) == 0) {
        path = candidate;
        break;
      }
    }
  }
  const source_file_t *file = load_file(reader, path, &ref->origin);
  if (file == NULL)
    return -1;
  for (unsigned i = 0; i < file->line_count; i++) {
    char buffer[4096];
    char *text = statement_text(reader, file->lines[i], buffer, sizeof buffer, 1);
    if (text == NULL)
      continue;
    line_ref_t line = {buffer, {NULL, 0, 0}};
    take_origin(reader, file, i, &line);
    int handled = command_statement(reader, &line, text);
    if (handled < 0)
      return -1;
    if (handled == 0)
      return fail_at(&line.origin, column_of(&line, text),
                     "malformed command line: expected object, backend, relink, redefine or callback");
  }
  return 0;
}

static int
validate(const pdi_config_t *config)
{
  const pdi_options_t *options = &config->options;
  if (options->num_threads > options->max_threads) {
    pdi_origin_t none = {NULL, 0, 0};
    return fail_at(&none, 0, "num_threads (%ld) is larger than max_threads (%ld)", options->num_threads,
                   options->max_threads);
  }
  for (unsigned i = 0; i < config->rule_count; i++) {
    const pdi_rule_t *rule = &config->rules[i];
    int declared = pdi_config_backend(config, rule->backend) != NULL;
    if (!declared && !(options->allow_lib_as_be && pdi_config_object(config, rule->backend) != NULL))
      return fail_at(&rule->origin, 0,
                     options->allow_lib_as_be ? "unknown backend or object '%s'"
                                              : "unknown backend '%s' (declare it with 'backend NAME = LIBRARY')",
                     rule->backend);
    if (rule->kind == PDI_RULE_CALLBACK && rule->wrapper != NULL && !options->cb_allow_handler)
      return fail_at(&rule->origin, 0, "callback handler '%s' needs cb_allow_handler = on", rule->wrapper);
  }
  return 0;
}

void
pdi_config_init(pdi_config_t *config)
{
  memset(config, 0, sizeof *config);
  config->options.max_threads = 256;
  config->options.num_threads = 0;
  config->options.cb_stack_size = 1024;
  config->options.cb_max_stubs = 4096;
  config->options.donttouch_backends = 1;
  config->options.donttouch_pdi = 1;
  config->options.max_objects = 1024;
  config->options.log_level = PDI_LOG_WARNING;
}

int
pdi_config_load(pdi_config_t *config, const char *path, void (*warn)(const char *message))
{
  reader_t reader;
  memset(&reader, 0, sizeof reader);
  reader.config = config;
  reader.warn = warn;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL)
    snprintf(cwd, sizeof cwd, "/");
  const char *absolute = resolve_path(&config->arena, cwd, path);
  pdi_origin_t none = {NULL, 0, 0};
  const source_file_t *file = load_file(&reader, absolute, &none);
  if (file == NULL)
    return -1;
  if (run_section(&reader, file, "global", &none) != 0)
    return -1;
  if (reader.runtime.path != NULL && run_command_file(&reader, &reader.runtime) != 0)
    return -1;
  for (unsigned i = 0; i < reader.command_file_count; i++)
    if (run_command_file(&reader, &reader.command_files[i]) != 0)
      return -1;
  return validate(config);
}

void
pdi_config_release(pdi_config_t *config)
{
  pdi_arena_release(&config->arena);
  memset(config, 0, sizeof *config);
}

const char *
pdi_rule_kind_name(pdi_rule_kind_t kind)
{
  switch (kind) {
  case PDI_RULE_RELINK: return "relink";
  case PDI_RULE_REDEFINE: return "redefine";
  case PDI_RULE_CALLBACK: return "callback";
  default: return "rule";
  }
}

static const pdi_declaration_t *
find_declaration(const pdi_declaration_t *items, unsigned count, const char *name)
{
  /* The last one: an object alias may be declared again with the same value. */
  for (unsigned i = count; i-- > 0;)
    if (strcmp(items[i].name, name) == 0)
      return &items[i];
  return NULL;
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
