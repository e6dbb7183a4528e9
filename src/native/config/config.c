#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define MAX_INCLUDE_DEPTH 32
#define MAX_TOKENS 8

_Static_assert(PDI_LOG_LEVEL_ERROR == PDI_LOG_ERROR && PDI_LOG_LEVEL_WARNING == PDI_LOG_WARNING &&
                 PDI_LOG_LEVEL_INFO == PDI_LOG_INFO && PDI_LOG_LEVEL_DEBUG == PDI_LOG_DEBUG,
               "the log_level choices are the core's log levels");

typedef enum { KIND_INTEGER, KIND_BOOLEAN, KIND_CHOICE, KIND_FILE, KIND_DIRECTORIES } option_kind_t;

typedef struct option_spec {
  const char *key;
  option_kind_t kind;
  long min;
  long max;
  long fallback;
  const char *choices;
  const char *message;
  size_t offset;
} option_spec_t;

static const option_spec_t option_specs[PDI_OPTION_COUNT] = {
#define PDI_OPTION_SPEC(field, key, name, kind, min, max, fallback, choices, message) \
  {key, KIND_##kind, min, max, fallback, choices, message, offsetof(pdi_options_t, field)},
  PDI_OPTIONS(PDI_OPTION_SPEC)
#undef PDI_OPTION_SPEC
};

typedef struct source_file {
  const char *path;
  const char *directory;
  const char **lines;
  unsigned line_count;
  struct source_file *next;
} source_file_t;

typedef struct include_frame {
  const source_file_t *file;
  const char *section;
} include_frame_t;

typedef struct command_file_ref {
  const char *name;
  const char *directory;
  pdi_origin_t origin;
} command_file_ref_t;

typedef struct reader {
  pdi_config_t *config;
  pdi_arena_t *arena;
  source_file_t *files;
  include_frame_t stack[MAX_INCLUDE_DEPTH];
  unsigned depth;
  command_file_ref_t *command_files;
  unsigned command_file_count;
  command_file_ref_t runtime;
  pdi_origin_t pending_origin;
  int has_pending_origin;
} reader_t;

/* One statement being read: its text, its file, and the place a #@origin gave it. */
typedef struct line_ref {
  const char *text;
  const source_file_t *file;
  unsigned number;
  int overridden;
  pdi_origin_t origin; /* the #@origin place when overridden */
} line_ref_t;

typedef enum { TOKEN_WORD, TOKEN_QUOTED, TOKEN_EQUALS } token_kind_t;

typedef struct token {
  const char *text; /* unquoted */
  token_kind_t kind;
  const char *start; /* in the line */
  const char *end;
} token_t;

typedef struct tokens {
  token_t items[MAX_TOKENS];
  unsigned count; /* MAX_TOKENS + 1 when there were more */
} tokens_t;

/* ---- places and errors */

void
pdi_origin_format(const pdi_origin_t *origin, char *out, size_t size)
{
  if (origin->file == NULL)
    snprintf(out, size, "%s", "");
  else if (origin->line == 0)
    snprintf(out, size, "%s: ", origin->file);
  else if (origin->column == 0)
    snprintf(out, size, "%s:%u: ", origin->file, origin->line);
  else
    snprintf(out, size, "%s:%u:%u: ", origin->file, origin->line, origin->column);
}

static int fail_at(reader_t *reader, const pdi_origin_t *origin, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail_at(reader_t *reader, const pdi_origin_t *origin, const char *fmt, ...)
{
  char message[600];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  char place[PATH_MAX + 40];
  pdi_origin_format(origin, place, sizeof place);
  pdi_set_error("%s%s", place, message);
  pdi_config_t *config = reader->config;
  if (config->failure_message == NULL) {
    config->failure_message = pdi_arena_strdup(reader->arena, message);
    config->failure_origin = *origin;
    if (origin->file != NULL)
      config->failure_origin.file = pdi_arena_strdup(reader->arena, origin->file);
  }
  return -1;
}

/* Columns count characters (UTF-8 sequences), from 1. */
static unsigned
column_at(const char *line, const char *at)
{
  unsigned column = 1;
  for (const char *p = line; p < at && *p; p++)
    column += ((unsigned char)*p & 0xc0) != 0x80;
  return column;
}

static pdi_origin_t
origin_at(const line_ref_t *line, const char *at)
{
  if (line->overridden)
    return line->origin;
  pdi_origin_t origin = {line->file->path, line->number, column_at(line->text, at)};
  return origin;
}

static int
fail_token(reader_t *reader, const line_ref_t *line, const char *at, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

static int
fail_token(reader_t *reader, const line_ref_t *line, const char *at, const char *fmt, ...)
{
  char message[600];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  pdi_origin_t origin = origin_at(line, at);
  return fail_at(reader, &origin, "%s", message);
}

/* ---- memory */

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

/* `name` made absolute against `directory` and normalized lexically (`.`, `..` and repeated
 * slashes removed, symbolic links kept), like Node's path.resolve. NULL when out of memory. */
static const char *
resolve_path(pdi_arena_t *arena, const char *directory, const char *name)
{
  size_t dir_len = name[0] == '/' ? 0 : strlen(directory);
  size_t name_len = strlen(name);
  char *joined = copy_range(arena, directory, dir_len);
  char *out = pdi_arena_alloc(arena, dir_len + name_len + 3);
  if (joined == NULL || out == NULL)
    return NULL;
  size_t used = 0;
  for (int part = 0; part < 2; part++) {
    const char *p = part == 0 ? joined : name;
    while (*p) {
      while (*p == '/')
        p++;
      const char *end = p;
      while (*end && *end != '/')
        end++;
      size_t len = (size_t)(end - p);
      if (len == 0 || (len == 1 && p[0] == '.')) {
        /* nothing */
      } else if (len == 2 && p[0] == '.' && p[1] == '.') {
        while (used > 0 && out[used - 1] != '/')
          used--;
        if (used > 0)
          used--;
      } else {
        out[used++] = '/';
        memcpy(out + used, p, len);
        used += len;
      }
      p = end;
    }
  }
  if (used == 0)
    out[used++] = '/';
  out[used] = '\0';
  return out;
}

static const char *
directory_of(pdi_arena_t *arena, const char *path)
{
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    return ".";
  return slash == path ? "/" : copy_range(arena, path, (size_t)(slash - path));
}

/* ---- sources */

static source_file_t *
find_source(reader_t *reader, const char *path)
{
  for (source_file_t *file = reader->files; file != NULL; file = file->next)
    if (strcmp(file->path, path) == 0)
      return file;
  return NULL;
}

static source_file_t *
add_source(reader_t *reader, const char *path, const char *directory, const char *text, size_t length,
           const pdi_origin_t *from)
{
  pdi_arena_t *arena = reader->arena;
  unsigned count = 1;
  for (size_t i = 0; i < length; i++) {
    if (text[i] == '\0') {
      pdi_origin_t at = {path, count, 0};
      fail_at(reader, &at, "a NUL byte in a text config");
      return NULL;
    }
    count += text[i] == '\n';
  }
  source_file_t *file = pdi_arena_alloc(arena, sizeof *file);
  const char **lines = pdi_arena_alloc(arena, count * sizeof *lines);
  char *copy = copy_range(arena, text, length);
  if (file == NULL || lines == NULL || copy == NULL) {
    fail_at(reader, from, "out of memory reading '%s'", path);
    return NULL;
  }
  file->line_count = 0;
  for (char *line = copy; line != NULL;) {
    char *newline = strchr(line, '\n');
    if (newline != NULL)
      *newline = '\0';
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r')
      line[len - 1] = '\0';
    lines[file->line_count++] = line;
    line = newline ? newline + 1 : NULL;
  }
  file->lines = lines;
  file->path = pdi_arena_strdup(arena, path);
  file->directory = directory != NULL ? pdi_arena_strdup(arena, directory) : directory_of(arena, file->path);
  file->next = reader->files;
  reader->files = file;
  return file;
}

static void
lowercase_first(char *text)
{
  if (text[0] >= 'A' && text[0] <= 'Z' && !(text[1] >= 'A' && text[1] <= 'Z'))
    text[0] = (char)(text[0] - 'A' + 'a');
}

static source_file_t *
load_file(reader_t *reader, const char *path, const pdi_origin_t *from)
{
  source_file_t *known = find_source(reader, path);
  if (known != NULL)
    return known;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat info;
  int error = 0;
  if (fd < 0)
    error = errno;
  else if (fstat(fd, &info) != 0)
    error = errno;
  else if (!S_ISREG(info.st_mode))
    error = S_ISDIR(info.st_mode) ? EISDIR : EINVAL;
  if (error != 0) {
    if (fd >= 0)
      close(fd);
    char reason[200];
    snprintf(reason, sizeof reason, "%s", strerror(error));
    lowercase_first(reason);
    fail_at(reader, from, "cannot read '%s': %s", path, reason);
    return NULL;
  }
  char *text = pdi_arena_alloc(reader->arena, (size_t)info.st_size + 1);
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
    fail_at(reader, from, "out of memory reading '%s'", path);
    return NULL;
  }
  return add_source(reader, path, NULL, text, length, from);
}

/* ---- lexing: blanks separate tokens; "..." quotes one (with \" and \\); a # at the start of a
 * token starts a comment; with `equals`, the first = outside quotes is a token of its own. */

static int
is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int
lex(reader_t *reader, const line_ref_t *line, const char *from, int equals, tokens_t *out)
{
  out->count = 0;
  const char *p = from;
  for (;;) {
    while (is_blank(*p))
      p++;
    if (*p == '\0' || *p == '#')
      return 0;
    token_t token = {NULL, TOKEN_WORD, p, NULL};
    if (*p == '=' && equals) {
      equals = 0;
      token.kind = TOKEN_EQUALS;
      token.text = "=";
      p++;
    } else if (*p == '"') {
      char *text = pdi_arena_alloc(reader->arena, strlen(p) + 1);
      if (text == NULL)
        return fail_token(reader, line, p, "out of memory");
      size_t used = 0;
      const char *q = p + 1;
      while (*q && *q != '"') {
        if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
          q++;
        text[used++] = *q++;
      }
      if (*q != '"')
        return fail_token(reader, line, p, "unterminated quoted string (a closing \" is missing)");
      text[used] = '\0';
      q++;
      if (*q != '\0' && !is_blank(*q) && !(*q == '=' && equals))
        return fail_token(reader, line, q, "expected a blank after the closing quote");
      token.kind = TOKEN_QUOTED;
      token.text = text;
      p = q;
    } else {
      const char *q = p;
      while (*q && !is_blank(*q) && !(*q == '=' && equals))
        q++;
      token.text = copy_range(reader->arena, p, (size_t)(q - p));
      if (token.text == NULL)
        return fail_token(reader, line, p, "out of memory");
      p = q;
    }
    token.end = p;
    if (out->count == MAX_TOKENS) {
      out->count = MAX_TOKENS + 1;
      return 0;
    }
    out->items[out->count++] = token;
  }
}

/* ---- options */

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
mark_set(pdi_options_t *options, const char *key, const pdi_origin_t *origin)
{
  for (unsigned i = 0; i < PDI_OPTION_COUNT; i++) {
    if (strcmp(option_specs[i].key, key) == 0) {
      options->set[i] = 1;
      options->origin[i] = *origin;
    }
  }
}

static int
add_command_file(reader_t *reader, const source_file_t *file, const char *name, const pdi_origin_t *origin,
                 int runtime)
{
  command_file_ref_t *ref = &reader->runtime;
  if (!runtime) {
    ref = append(reader->arena, (void **)&reader->command_files, &reader->command_file_count, sizeof *ref);
    if (ref == NULL)
      return fail_at(reader, origin, "out of memory");
  }
  ref->name = name;
  ref->directory = file->directory;
  ref->origin = *origin;
  return 0;
}

static int
set_option(reader_t *reader, const line_ref_t *line, const token_t *key_token, const token_t *value_token)
{
  pdi_options_t *options = &reader->config->options;
  pdi_arena_t *arena = reader->arena;
  const char *key = key_token->text;
  const char *value = value_token->text;
  const char *directory = line->file->directory;
  pdi_origin_t at = origin_at(line, key_token->start);
  pdi_origin_t value_at = origin_at(line, value_token->start);
  for (unsigned i = 0; i < PDI_OPTION_COUNT; i++) {
    const option_spec_t *spec = &option_specs[i];
    if (strcmp(key, spec->key) != 0)
      continue;
    void *field = (char *)options + spec->offset;
    switch (spec->kind) {
    case KIND_INTEGER: {
      long n = 0;
      int status = parse_integer(value, spec->min, spec->max, &n);
      if (status == -3)
        return fail_at(reader, &value_at, "%s: " PDI_OPTION_INTEGER_MAX ", got '%s'", key, spec->max, value);
      if (status != 0)
        return fail_at(reader, &value_at, "%s: " PDI_OPTION_INTEGER_MIN ", got '%s'", key, spec->min, value);
      *(long *)field = n;
      break;
    }
    case KIND_BOOLEAN: {
      int flag = 0;
      if (parse_bool(value, &flag) != 0)
        return fail_at(reader, &value_at, "%s: %s, got '%s'", key, spec->message, value);
      *(int *)field = flag;
      break;
    }
    case KIND_CHOICE: {
      int index = choice_index(spec->choices, value);
      if (index < 0)
        return fail_at(reader, &value_at, "%s: %s, got '%s'", key, spec->message, value);
      *(int *)field = index;
      break;
    }
    case KIND_FILE: {
      if (*value == '\0')
        return fail_at(reader, &value_at, "%s: %s, got ''", key, spec->message);
      *(const char **)field = strcmp(value, "stderr") == 0 ? NULL : resolve_path(arena, directory, value);
      break;
    }
    case KIND_DIRECTORIES: {
      if (*value == '\0')
        return fail_at(reader, &value_at, "%s: %s, got ''", key, spec->message);
      if (push_string(arena, (pdi_string_list_t *)field, resolve_path(arena, directory, value)) != 0)
        return fail_at(reader, &at, "out of memory");
      break;
    }
    }
    options->set[i] = 1;
    options->origin[i] = at;
    return 0;
  }
  if (strcmp(key, "verbose") == 0) {
    if (strlen(value) != 1 || value[0] < '0' || value[0] > '3')
      return fail_at(reader, &value_at, "verbose: expected 0, 1, 2 or 3, got '%s'", value);
    options->log_level = value[0] - '0';
    mark_set(options, "log_level", &at);
    return 0;
  }
  if (strcmp(key, "debug") == 0) {
    int flag = 0;
    if (parse_bool(value, &flag) != 0)
      return fail_at(reader, &value_at, "debug: expected a boolean, got '%s'", value);
    if (flag) {
      options->log_level = PDI_LOG_LEVEL_DEBUG;
      mark_set(options, "log_level", &at);
    }
    return 0;
  }
  if (strcmp(key, "becfg_path") == 0) {
    if (*value == '\0')
      return fail_at(reader, &value_at, "becfg_path: expected a directory, got ''");
    if (push_string(arena, &options->becfg_path, resolve_path(arena, directory, value)) != 0)
      return fail_at(reader, &at, "out of memory");
    return 0;
  }
  if (strcmp(key, "config") == 0 || strcmp(key, "runtime") == 0) {
    if (*value == '\0')
      return fail_at(reader, &value_at, "%s: expected a command file, got ''", key);
    const char *name = pdi_arena_strdup(arena, value);
    return add_command_file(reader, line->file, name, &value_at, key[0] == 'r');
  }
  return fail_at(reader, &at, "unknown key '%s'", key);
}

/* ---- declarations and rules */

static int
looks_like_pattern(const char *word)
{
  return strcmp(word, "$main") == 0 || strcmp(word, "*") == 0 || strpbrk(word, "/*?[") != NULL ||
         strstr(word, ".so") != NULL;
}

static const pdi_declaration_t *
find_declaration(const pdi_declaration_t *items, unsigned count, const char *name)
{
  for (unsigned i = count; i-- > 0;)
    if (strcmp(items[i].name, name) == 0)
      return &items[i];
  return NULL;
}

static int
parse_declaration(reader_t *reader, const line_ref_t *line, const token_t *keyword, const char *rest)
{
  pdi_config_t *config = reader->config;
  int object = strcmp(keyword->text, "object") == 0;
  pdi_origin_t origin = origin_at(line, keyword->start);
  tokens_t tokens;
  if (lex(reader, line, rest, 1, &tokens) != 0)
    return -1;
  if (tokens.count != 3 || tokens.items[0].kind == TOKEN_EQUALS || tokens.items[1].kind != TOKEN_EQUALS ||
      tokens.items[2].kind == TOKEN_EQUALS || tokens.items[2].text[0] == '\0')
    return fail_at(reader, &origin, "malformed %s line: expected '%s' (a value holding blanks or '#' in double quotes)",
                   keyword->text, object ? "object ALIAS = PATTERN" : "backend NAME = LIBRARY");
  const char *name = tokens.items[0].text;
  const char *value = tokens.items[2].text;
  if (!object && strchr(value, '/') != NULL)
    value = resolve_path(reader->arena, line->file->directory, value);
  pdi_declaration_t **items = object ? &config->objects : &config->backends;
  unsigned *count = object ? &config->object_count : &config->backend_count;
  const pdi_declaration_t *known = find_declaration(*items, *count, name);
  if (known != NULL && strcmp(known->value, value) != 0) {
    char where[PATH_MAX + 40];
    pdi_origin_t first = {known->origin.file, known->origin.line, 0};
    pdi_origin_format(&first, where, sizeof where);
    where[strlen(where) >= 2 ? strlen(where) - 2 : 0] = '\0';
    if (object)
      return fail_at(reader, &origin, "object alias '%s' is already declared at %s as '%s'", name, where, known->value);
    return fail_at(reader, &origin, "backend '%s' is already declared at %s with library '%s'", name, where,
                   known->value);
  }
  if (known != NULL)
    return 0;
  pdi_declaration_t *decl = append(reader->arena, (void **)items, count, sizeof *decl);
  if (decl == NULL)
    return fail_at(reader, &origin, "out of memory");
  decl->name = name;
  decl->value = value;
  decl->origin = origin;
  return 0;
}

static int
parse_rule(reader_t *reader, const line_ref_t *line, pdi_rule_kind_t kind, const token_t *keyword, const char *rest)
{
  pdi_config_t *config = reader->config;
  const char *name = pdi_rule_kind_name(kind);
  tokens_t tokens;
  if (lex(reader, line, rest, 0, &tokens) != 0)
    return -1;
  unsigned count = tokens.count;
  int ok = kind == PDI_RULE_CALLBACK ? (count == 3 || count == 4) : count == 4;
  if (!ok) {
    const char *at = count > 4 ? tokens.items[4].start : count == 4 ? tokens.items[3].start : keyword->start;
    return fail_token(reader, line, at, "malformed %s line: expected '%s'", name,
                      kind == PDI_RULE_CALLBACK ? "callback OBJECT * BACKEND [HANDLER]"
                      : kind == PDI_RULE_RELINK ? "relink OBJECT FUNCTION BACKEND WRAPPER"
                                                : "redefine OBJECT FUNCTION BACKEND WRAPPER");
  }
  const token_t *object = &tokens.items[0];
  const token_t *function = &tokens.items[1];
  const char *pattern = object->text;
  const pdi_object_decl_t *alias =
    object->kind == TOKEN_QUOTED ? NULL : find_declaration(config->objects, config->object_count, object->text);
  if (alias != NULL)
    pattern = alias->value;
  else if (object->kind != TOKEN_QUOTED && !looks_like_pattern(object->text))
    return fail_token(reader, line, object->start, "unknown object alias '%s'", object->text);
  if (*pattern == '\0')
    return fail_token(reader, line, object->start, "object: expected an object pattern, got ''");
  if (kind == PDI_RULE_CALLBACK && strcmp(function->text, "*") != 0)
    return fail_token(reader, line, function->start, "malformed callback line: the function field must be '*', got '%s'",
                      function->text);
  if (kind != PDI_RULE_CALLBACK) {
    char symbol[256];
    char version[128];
    pdi_version_req_t req;
    if (pdi_symbol_spec_parse(function->text, symbol, sizeof symbol, version, sizeof version, &req) != 0 ||
        strpbrk(function->text, " \t") != NULL)
      return fail_token(reader, line, function->start,
                        "function: expected a function name (`name`, `name@VERSION` or `name@@VERSION`), got '%s'",
                        function->text);
  }
  for (unsigned i = 2; i < count; i++)
    if (tokens.items[i].text[0] == '\0')
      return fail_token(reader, line, tokens.items[i].start, "malformed %s line: an empty field", name);
  pdi_rule_t *rule = append(reader->arena, (void **)&config->rules, &config->rule_count, sizeof *rule);
  if (rule == NULL)
    return fail_token(reader, line, keyword->start, "out of memory");
  rule->kind = kind;
  rule->object = pattern;
  rule->function = kind == PDI_RULE_CALLBACK ? NULL : function->text;
  rule->backend = tokens.items[2].text;
  rule->wrapper = count > 3 ? tokens.items[3].text : NULL;
  rule->origin = origin_at(line, keyword->start);
  for (unsigned i = 0; i < PDI_FIELD_COUNT; i++)
    rule->fields[i] = i < count ? origin_at(line, tokens.items[i].start) : rule->origin;
  return 0;
}

/* ---- statements */

typedef enum { IN_CONFIG, IN_COMMAND_FILE } context_t;

static int run_section(reader_t *reader, const source_file_t *file, const char *section, const pdi_origin_t *from);

static int
parse_include(reader_t *reader, const line_ref_t *line, const token_t *keyword, const char *rest)
{
  pdi_origin_t origin = origin_at(line, keyword->start);
  tokens_t tokens;
  if (lex(reader, line, rest, 0, &tokens) != 0)
    return -1;
  if (tokens.count != 1 || tokens.items[0].text[0] == '\0')
    return fail_at(reader, &origin, "malformed Include line: expected 'Include \"FILE:SECTION\"'");
  const char *spec = tokens.items[0].text;
  const char *colon = strrchr(spec, ':');
  const char *section = colon != NULL && colon[1] != '\0' ? colon + 1 : "global";
  size_t file_len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
  const source_file_t *target = line->file;
  if (file_len > 0) {
    const char *name = copy_range(reader->arena, spec, file_len);
    const char *path = name ? resolve_path(reader->arena, line->file->directory, name) : NULL;
    if (path == NULL)
      return fail_at(reader, &origin, "out of memory");
    target = load_file(reader, path, &origin);
    if (target == NULL)
      return -1;
  }
  return run_section(reader, target, section, &origin);
}

/* Where the comment of a line starts (or its end), with quoted strings skipped. */
static const char *
comment_start(const char *p)
{
  for (;;) {
    while (is_blank(*p))
      p++;
    if (*p == '\0' || *p == '#')
      return p;
    if (*p == '"') {
      p++;
      while (*p && *p != '"')
        p += (*p == '\\' && (p[1] == '"' || p[1] == '\\')) ? 2 : 1;
      if (*p == '"')
        p++;
    }
    while (*p && !is_blank(*p))
      p++;
  }
}

/* The text after a keyword up to a comment, trimmed; a single quoted string is unquoted. */
static int
rest_text(reader_t *reader, const line_ref_t *line, const char *rest, const char **out)
{
  while (is_blank(*rest))
    rest++;
  const char *end = comment_start(rest);
  while (end > rest && is_blank(end[-1]))
    end--;
  if (*rest == '"') {
    tokens_t tokens;
    if (lex(reader, line, rest, 0, &tokens) != 0)
      return -1;
    if (tokens.count == 1) {
      *out = tokens.items[0].text;
      return 0;
    }
  }
  *out = copy_range(reader->arena, rest, (size_t)(end - rest));
  return *out != NULL ? 0 : fail_token(reader, line, rest, "out of memory");
}

static int
add_warning(reader_t *reader, const pdi_origin_t *origin, const char *message)
{
  pdi_config_t *config = reader->config;
  pdi_config_warning_t *warning =
    append(reader->arena, (void **)&config->warnings, &config->warning_count, sizeof *warning);
  if (warning == NULL)
    return fail_at(reader, origin, "out of memory");
  warning->message = message;
  warning->origin = *origin;
  return 0;
}

static int
statement(reader_t *reader, const line_ref_t *line, context_t context)
{
  const char *text = line->text;
  while (is_blank(*text))
    text++;
  const char *end = text;
  while (*end && !is_blank(*end) && *end != '=')
    end++;
  token_t keyword = {copy_range(reader->arena, text, (size_t)(end - text)), TOKEN_WORD, text, end};
  if (keyword.text == NULL)
    return fail_token(reader, line, text, "out of memory");
  const char *word = keyword.text;
  static const struct {
    const char *keyword;
    pdi_rule_kind_t kind;
  } rules[] = {{"relink", PDI_RULE_RELINK}, {"redefine", PDI_RULE_REDEFINE}, {"callback", PDI_RULE_CALLBACK}};
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
    if (strcmp(word, rules[i].keyword) == 0)
      return parse_rule(reader, line, rules[i].kind, &keyword, end);
  if (strcmp(word, "object") == 0 || strcmp(word, "backend") == 0)
    return parse_declaration(reader, line, &keyword, end);
  pdi_origin_t origin = origin_at(line, text);
  int config_only = strcmp(word, "Include") == 0 || strcmp(word, "Warning") == 0 || strcmp(word, "Error") == 0 ||
                    strcmp(word, "reset_config") == 0;
  tokens_t tokens;
  if (!config_only && lex(reader, line, text, 1, &tokens) != 0)
    return -1;
  int assignment = !config_only && tokens.count >= 2 && tokens.items[1].kind == TOKEN_EQUALS;
  if (context == IN_COMMAND_FILE) {
    if (assignment)
      return fail_at(reader, &origin, "unknown command '%s' (options go in a config file)", word);
    if (config_only)
      return fail_at(reader, &origin, "unknown command '%s' (it goes in a config file)", word);
    return fail_at(reader, &origin, "unknown command '%s'", word);
  }
  if (strcmp(word, "Include") == 0)
    return parse_include(reader, line, &keyword, end);
  if (strcmp(word, "Warning") == 0 || strcmp(word, "Error") == 0) {
    const char *message = NULL;
    if (rest_text(reader, line, end, &message) != 0)
      return -1;
    if (word[0] == 'E')
      return fail_at(reader, &origin, "%s", *message ? message : "Error");
    return add_warning(reader, &origin, message);
  }
  if (strcmp(word, "reset_config") == 0) {
    if (lex(reader, line, end, 0, &tokens) != 0)
      return -1;
    if (tokens.count != 0)
      return fail_token(reader, line, tokens.items[0].start, "malformed reset_config line: expected 'reset_config' alone");
    reader->command_file_count = 0;
    return 0;
  }
  if (!assignment && *word == '\0')
    return fail_at(reader, &origin, "malformed line: missing key before '='");
  if (!assignment)
    return fail_at(reader, &origin, "unknown command '%s'", word);
  if (tokens.items[0].kind != TOKEN_WORD)
    return fail_at(reader, &origin, "malformed line: expected 'key = value'");
  if (tokens.count == 2)
    return fail_token(reader, line, tokens.items[1].end, "%s: expected a value after '='", word);
  if (tokens.count > 3)
    return fail_token(reader, line, tokens.items[3].start,
                      "%s: expected one value (write a value holding blanks or '#' in double quotes)", word);
  return set_option(reader, line, &tokens.items[0], &tokens.items[2]);
}

/* `#@origin FILE[:LINE[:COLUMN]]`: the place of the next statement. */
static void
parse_origin_comment(reader_t *reader, const char *text)
{
  const char *spec = text + strlen("#@origin");
  while (is_blank(*spec))
    spec++;
  size_t len = strlen(spec);
  while (len > 0 && is_blank(spec[len - 1]))
    len--;
  unsigned numbers[2] = {0, 0};
  unsigned found = 0;
  while (found < 2) {
    size_t i = len;
    while (i > 0 && spec[i - 1] >= '0' && spec[i - 1] <= '9')
      i--;
    if (i == len || i < 2 || spec[i - 1] != ':')
      break;
    numbers[found++] = (unsigned)strtoul(spec + i, NULL, 10);
    len = i - 1;
  }
  if (len == 0)
    return;
  reader->pending_origin.file = copy_range(reader->arena, spec, len);
  reader->pending_origin.line = found == 2 ? numbers[1] : found == 1 ? numbers[0] : 0;
  reader->pending_origin.column = found == 2 ? numbers[0] : 0;
  reader->has_pending_origin = reader->pending_origin.file != NULL;
}

/* 1 for a statement, 0 for a blank or comment line (a #@origin is noted for the next statement). */
static int
is_statement(reader_t *reader, const char *text, int origins)
{
  while (is_blank(*text))
    text++;
  if (*text == '\0')
    return 0;
  if (*text == '#') {
    if (origins && strncmp(text, "#@origin", 8) == 0 && (text[8] == ' ' || text[8] == '\t'))
      parse_origin_comment(reader, text);
    return 0;
  }
  return 1;
}

static void
take_origin(reader_t *reader, const source_file_t *file, unsigned index, line_ref_t *line)
{
  line->file = file;
  line->number = index + 1;
  line->text = file->lines[index];
  line->overridden = reader->has_pending_origin;
  if (reader->has_pending_origin)
    line->origin = reader->pending_origin;
  reader->has_pending_origin = 0;
}

/* `[name]`, optionally followed by a comment: 1 with the name, 0 for another line, -1 on error. */
static int
section_header(reader_t *reader, const source_file_t *file, unsigned index, const char **name)
{
  const char *text = file->lines[index];
  while (is_blank(*text))
    text++;
  if (*text != '[')
    return 0;
  const char *close = strchr(text, ']');
  const char *after = close ? close + 1 : NULL;
  while (after && is_blank(*after))
    after++;
  if (close == NULL || (*after != '\0' && *after != '#')) {
    line_ref_t line = {file->lines[index], file, index + 1, 0, {NULL, 0, 0}};
    return fail_token(reader, &line, text, "malformed section header: expected '[NAME]'");
  }
  const char *start = text + 1;
  while (start < close && is_blank(*start))
    start++;
  const char *end = close;
  while (end > start && is_blank(end[-1]))
    end--;
  *name = copy_range(reader->arena, start, (size_t)(end - start));
  return *name != NULL ? 1 : -1;
}

static int
run_section(reader_t *reader, const source_file_t *file, const char *section, const pdi_origin_t *from)
{
  for (unsigned i = 0; i < reader->depth; i++) {
    if (reader->stack[i].file == file && strcmp(reader->stack[i].section, section) == 0) {
      char chain[1200] = "";
      size_t used = 0;
      for (unsigned j = i; j < reader->depth && used < sizeof chain; j++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s:%s -> ", reader->stack[j].file->path,
                                 reader->stack[j].section);
      return fail_at(reader, from, "Include cycle: %s%s:%s", chain, file->path, section);
    }
  }
  if (reader->depth == MAX_INCLUDE_DEPTH)
    return fail_at(reader, from, "Include nesting deeper than %d", MAX_INCLUDE_DEPTH);
  const char *current = "global";
  int found = strcmp(section, "global") == 0;
  for (unsigned i = 0; i < file->line_count && !found; i++) {
    const char *name = NULL;
    int header = section_header(reader, file, i, &name);
    if (header < 0)
      return -1;
    found = header == 1 && strcmp(name, section) == 0;
  }
  if (!found)
    return fail_at(reader, from, "no section '%s' in '%s'", section, file->path);
  reader->stack[reader->depth++] = (include_frame_t){file, section};
  int status = 0;
  reader->has_pending_origin = 0;
  for (unsigned i = 0; i < file->line_count && status == 0; i++) {
    const char *name = NULL;
    int header = section_header(reader, file, i, &name);
    if (header != 0) {
      status = header < 0 ? -1 : 0;
      current = name;
      reader->has_pending_origin = 0;
      continue;
    }
    int here = strcmp(current, section) == 0;
    if (!is_statement(reader, file->lines[i], here) || !here)
      continue;
    line_ref_t line;
    take_origin(reader, file, i, &line);
    status = statement(reader, &line, IN_CONFIG);
  }
  reader->has_pending_origin = 0;
  reader->depth--;
  return status;
}

static int
is_regular_file(const char *path)
{
  struct stat info;
  return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

static int
run_command_file(reader_t *reader, const command_file_ref_t *ref)
{
  pdi_arena_t *arena = reader->arena;
  const pdi_string_list_t *search = &reader->config->options.becfg_path;
  const char *path = NULL;
  char searched[2048] = "";
  size_t used = 0;
  for (unsigned i = 0; i <= search->count && path == NULL; i++) {
    if (i > 0 && ref->name[0] == '/')
      break;
    const char *candidate = resolve_path(arena, i == 0 ? ref->directory : search->items[i - 1], ref->name);
    if (candidate == NULL)
      return fail_at(reader, &ref->origin, "out of memory");
    if (is_regular_file(candidate))
      path = candidate;
    else if (used < sizeof searched)
      used += (size_t)snprintf(searched + used, sizeof searched - used, "%s%s", i ? ", " : "", candidate);
  }
  if (path == NULL)
    return fail_at(reader, &ref->origin, "command file '%s' not found (searched: %s)", ref->name, searched);
  const source_file_t *file = load_file(reader, path, &ref->origin);
  if (file == NULL)
    return -1;
  reader->has_pending_origin = 0;
  for (unsigned i = 0; i < file->line_count; i++) {
    if (!is_statement(reader, file->lines[i], 1))
      continue;
    line_ref_t line;
    take_origin(reader, file, i, &line);
    if (statement(reader, &line, IN_COMMAND_FILE) != 0)
      return -1;
  }
  reader->has_pending_origin = 0;
  return 0;
}

static int
validate(reader_t *reader)
{
  pdi_config_t *config = reader->config;
  pdi_options_t *options = &config->options;
  if (options->num_threads > options->max_threads) {
    unsigned at = 0;
    for (unsigned i = 0; i < PDI_OPTION_COUNT; i++)
      if (strcmp(option_specs[i].key, "num_threads") == 0)
        at = i;
    return fail_at(reader, &options->origin[at], "num_threads: expected an integer ≤ max_threads (%ld), got '%ld'",
                   options->max_threads, options->num_threads);
  }
  for (unsigned i = 0; i < config->rule_count; i++) {
    pdi_rule_t *rule = &config->rules[i];
    const pdi_origin_t *backend_at = &rule->fields[PDI_FIELD_BACKEND];
    if (pdi_config_backend(config, rule->backend) == NULL) {
      if (!options->allow_lib_as_be)
        return fail_at(reader, backend_at, "unknown backend '%s'", rule->backend);
      const pdi_object_decl_t *alias = pdi_config_object(config, rule->backend);
      if (alias != NULL)
        rule->backend_object = alias->value;
      else if (looks_like_pattern(rule->backend))
        rule->backend_object = rule->backend;
      else
        return fail_at(reader, backend_at, "unknown backend or object '%s'", rule->backend);
    }
    if (rule->kind == PDI_RULE_CALLBACK && rule->wrapper != NULL && !options->cb_allow_handler)
      return fail_at(reader, &rule->fields[PDI_FIELD_WRAPPER], "callback handler '%s' needs cb_allow_handler = on",
                     rule->wrapper);
  }
  return 0;
}

void
pdi_config_init(pdi_config_t *config)
{
  memset(config, 0, sizeof *config);
  for (unsigned i = 0; i < PDI_OPTION_COUNT; i++) {
    const option_spec_t *spec = &option_specs[i];
    void *field = (char *)&config->options + spec->offset;
    if (spec->kind == KIND_INTEGER)
      *(long *)field = spec->fallback;
    else if (spec->kind == KIND_BOOLEAN || spec->kind == KIND_CHOICE)
      *(int *)field = (int)spec->fallback;
  }
}

static int
read_config(pdi_config_t *config, const source_file_t *(*open_main)(reader_t *, const void *), const void *argument)
{
  reader_t reader;
  memset(&reader, 0, sizeof reader);
  reader.config = config;
  reader.arena = &config->arena;
  const source_file_t *file = open_main(&reader, argument);
  pdi_origin_t none = {NULL, 0, 0};
  if (file == NULL || run_section(&reader, file, "global", &none) != 0)
    return -1;
  if (reader.runtime.name != NULL && run_command_file(&reader, &reader.runtime) != 0)
    return -1;
  for (unsigned i = 0; i < reader.command_file_count; i++)
    if (run_command_file(&reader, &reader.command_files[i]) != 0)
      return -1;
  return validate(&reader);
}

static const source_file_t *
open_path(reader_t *reader, const void *argument)
{
  const char *path = argument;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL)
    snprintf(cwd, sizeof cwd, "/");
  const char *absolute = resolve_path(reader->arena, cwd, path);
  pdi_origin_t none = {NULL, 0, 0};
  if (absolute == NULL) {
    fail_at(reader, &none, "out of memory");
    return NULL;
  }
  return load_file(reader, absolute, &none);
}

typedef struct text_source {
  const char *name;
  const char *directory;
  const char *text;
  size_t length;
} text_source_t;

static const source_file_t *
open_text(reader_t *reader, const void *argument)
{
  const text_source_t *source = argument;
  pdi_origin_t none = {NULL, 0, 0};
  return add_source(reader, source->name, source->directory, source->text, source->length, &none);
}

int
pdi_config_load(pdi_config_t *config, const char *path)
{
  return read_config(config, open_path, path);
}

int
pdi_config_read(pdi_config_t *config, const char *name, const char *directory, const char *text, size_t length)
{
  text_source_t source = {name, directory, text, length};
  return read_config(config, open_text, &source);
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

/* ---- the model as JSON */

static void
put_origin(pdi_buf_t *out, const pdi_origin_t *origin)
{
  int first = 1;
  pdi_buf_putc(out, '{');
  pdi_buf_json_key(out, "file", &first);
  pdi_buf_json_str(out, origin->file);
  pdi_buf_json_key(out, "line", &first);
  if (origin->line)
    pdi_buf_dec(out, origin->line);
  else
    pdi_buf_puts(out, "null");
  pdi_buf_json_key(out, "column", &first);
  if (origin->line && origin->column)
    pdi_buf_dec(out, origin->column);
  else
    pdi_buf_puts(out, "null");
  pdi_buf_putc(out, '}');
}

static void
put_option_value(pdi_buf_t *out, const pdi_options_t *options, const option_spec_t *spec)
{
  const void *field = (const char *)options + spec->offset;
  switch (spec->kind) {
  case KIND_INTEGER: {
    long n = *(const long *)field;
    if (n < 0) {
      pdi_buf_putc(out, '-');
      pdi_buf_dec(out, (uint64_t)-n);
    } else {
      pdi_buf_dec(out, (uint64_t)n);
    }
    break;
  }
  case KIND_BOOLEAN: pdi_buf_puts(out, *(const int *)field ? "true" : "false"); break;
  case KIND_CHOICE: {
    const char *p = spec->choices;
    for (int i = *(const int *)field; i > 0 && *p; i--)
      p += strcspn(p, "|") + (p[strcspn(p, "|")] == '|');
    char choice[64];
    snprintf(choice, sizeof choice, "%.*s", (int)strcspn(p, "|"), p);
    pdi_buf_json_str(out, choice);
    break;
  }
  case KIND_FILE: {
    const char *file = *(const char *const *)field;
    pdi_buf_json_str(out, file != NULL ? file : "stderr");
    break;
  }
  case KIND_DIRECTORIES: {
    const pdi_string_list_t *list = field;
    pdi_buf_putc(out, '[');
    for (unsigned i = 0; i < list->count; i++) {
      if (i)
        pdi_buf_putc(out, ',');
      pdi_buf_json_str(out, list->items[i]);
    }
    pdi_buf_putc(out, ']');
    break;
  }
  }
}

static void
put_model(pdi_buf_t *out, const pdi_config_t *config)
{
  static const char *const names[PDI_OPTION_COUNT] = {
#define PDI_OPTION_NAME(field, key, name, kind, min, max, fallback, choices, message) name,
    PDI_OPTIONS(PDI_OPTION_NAME)
#undef PDI_OPTION_NAME
  };
  int first = 1;
  pdi_buf_putc(out, '{');
  pdi_buf_json_key(out, "options", &first);
  pdi_buf_putc(out, '[');
  int first_option = 1;
  for (unsigned i = 0; i < PDI_OPTION_COUNT; i++) {
    if (!first_option)
      pdi_buf_putc(out, ',');
    first_option = 0;
    int inner = 1;
    pdi_buf_putc(out, '{');
    pdi_buf_json_key(out, "name", &inner);
    pdi_buf_json_str(out, names[i]);
    pdi_buf_json_key(out, "value", &inner);
    put_option_value(out, &config->options, &option_specs[i]);
    pdi_buf_json_key(out, "set", &inner);
    pdi_buf_puts(out, config->options.set[i] ? "true" : "false");
    pdi_buf_json_key(out, "origin", &inner);
    put_origin(out, &config->options.origin[i]);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, ']');
  pdi_buf_json_key(out, "backends", &first);
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < config->backend_count; i++) {
    const pdi_backend_decl_t *backend = &config->backends[i];
    int inner = 1;
    pdi_buf_puts(out, i ? ",{" : "{");
    pdi_buf_json_key(out, "name", &inner);
    pdi_buf_json_str(out, backend->name);
    pdi_buf_json_key(out, "library", &inner);
    pdi_buf_json_str(out, backend->value);
    pdi_buf_json_key(out, "origin", &inner);
    put_origin(out, &backend->origin);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, ']');
  pdi_buf_json_key(out, "rules", &first);
  pdi_buf_putc(out, '[');
  static const char *const field_names[PDI_FIELD_COUNT] = {"object", "function", "backend", "wrapper"};
  for (unsigned i = 0; i < config->rule_count; i++) {
    const pdi_rule_t *rule = &config->rules[i];
    int inner = 1;
    pdi_buf_puts(out, i ? ",{" : "{");
    pdi_buf_json_key(out, "kind", &inner);
    pdi_buf_json_str(out, pdi_rule_kind_name(rule->kind));
    pdi_buf_json_key(out, "object", &inner);
    pdi_buf_json_str(out, rule->object);
    pdi_buf_json_key(out, "function", &inner);
    pdi_buf_json_str(out, rule->function);
    pdi_buf_json_key(out, "backend", &inner);
    pdi_buf_json_str(out, rule->backend_object != NULL ? rule->backend_object : rule->backend);
    pdi_buf_json_key(out, "wrapper", &inner);
    pdi_buf_json_str(out, rule->wrapper);
    pdi_buf_json_key(out, "origin", &inner);
    put_origin(out, &rule->origin);
    pdi_buf_json_key(out, "fields", &inner);
    int field_first = 1;
    pdi_buf_putc(out, '{');
    for (unsigned f = 0; f < PDI_FIELD_COUNT; f++) {
      pdi_buf_json_key(out, field_names[f], &field_first);
      put_origin(out, &rule->fields[f]);
    }
    pdi_buf_puts(out, "}}");
  }
  pdi_buf_putc(out, ']');
  pdi_buf_json_key(out, "warnings", &first);
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < config->warning_count; i++) {
    int inner = 1;
    pdi_buf_puts(out, i ? ",{" : "{");
    pdi_buf_json_key(out, "message", &inner);
    pdi_buf_json_str(out, config->warnings[i].message);
    pdi_buf_json_key(out, "origin", &inner);
    put_origin(out, &config->warnings[i].origin);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_puts(out, "]}");
}

void
pdi_config_report(pdi_buf_t *out, const pdi_config_t *config, int status)
{
  int first = 1;
  pdi_buf_putc(out, '{');
  if (status == 0) {
    pdi_buf_json_key(out, "config", &first);
    put_model(out, config);
  } else {
    pdi_buf_json_key(out, "error", &first);
    int inner = 1;
    pdi_buf_putc(out, '{');
    pdi_buf_json_key(out, "message", &inner);
    pdi_buf_json_str(out, config->failure_message != NULL ? config->failure_message : pdi_error());
    pdi_buf_json_key(out, "origin", &inner);
    put_origin(out, &config->failure_origin);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, '}');
}
