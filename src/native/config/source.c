/* The files of a config and the places in them: reading files into lines, paths, and errors that
 * name FILE:LINE:COL. */
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

#include "reader.h"

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

const char *
pdi_origin_where(const pdi_origin_t *origin, char *out, size_t size)
{
  if (origin->file == NULL)
    snprintf(out, size, "?");
  else if (origin->line == 0)
    snprintf(out, size, "%s", origin->file);
  else
    snprintf(out, size, "%s:%u", origin->file, origin->line);
  return out;
}

int
pdi_error_at(const pdi_origin_t *origin, const char *subject, const char *fmt, va_list args)
{
  char message[1200];
  vsnprintf(message, sizeof message, fmt, args);
  char place[PATH_MAX + 40];
  pdi_origin_format(origin, place, sizeof place);
  if (subject != NULL)
    pdi_set_error("%s%s: %s", place, subject, message);
  else
    pdi_set_error("%s%s", place, message);
  return -1;
}

static int
error_at(const pdi_origin_t *origin, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  pdi_error_at(origin, NULL, fmt, args);
  va_end(args);
  return -1;
}

static int
ends_with(const char *text, const char *suffix)
{
  size_t length = strlen(text), suffix_length = strlen(suffix);
  return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

int
config_is_other_spelling(reader_t *reader, const char *file)
{
  /* Read here, not the source a compiled config's #@origin names. */
  return file != NULL && (ends_with(file, ".json") || ends_with(file, ".yaml") || ends_with(file, ".yml")) &&
         config_find_source(reader, file) != NULL;
}

int
config_fails_at_structured_start(reader_t *reader)
{
  const pdi_config_t *config = reader->config;
  const source_file_t *file = config->failure_origin.file != NULL
                                  ? config_find_source(reader, config->failure_origin.file)
                                  : NULL;
  if (file == NULL || file->compiled)
    return 0;
  for (unsigned i = 0; i < file->line_count; i++) {
    const char *line = file->lines[i];
    line += strspn(line, " \t");
    if (*line == '\0' || *line == '#' || *line == '\r')
      continue;
    if (i + 1 != config->failure_origin.line)
      return 0;
    if (*line == '{' || (strncmp(line, "---", 3) == 0 && (line[3] == '\0' || strchr(" \t\r", line[3]))))
      return 1;
    /* The keys of the JSON/YAML model's top level, which no command of the
     * text dialect resembles (`relink:` and `max_threads:` have hints of
     * their own). */
    static const char *const keys[] = {"options", "backends", "rules", "$schema"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      size_t length = strlen(keys[k]);
      const char *after = line + length + strspn(line + length, " \t");
      if (strncmp(line, keys[k], length) == 0 && *after == ':' &&
          (after[1] == '\0' || strchr(" \t\r", after[1]) != NULL))
        return 1;
    }
    return 0;
  }
  return 0;
}

/* Whether two origins name one file (either may name none). */
static int
same_file(const char *a, const char *b)
{
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
config_fail(reader_t *reader, const pdi_origin_t *origin, const char *fmt, ...)
{
  char raw[600], message[600];
  va_list args;
  va_start(args, fmt);
  vsnprintf(raw, sizeof raw, fmt, args);
  va_end(args);
  pdi_escape_controls(raw, message, sizeof message);
  pdi_config_t *config = reader->config;
  /* A file read once per Include of it meets its errors as often. */
  for (size_t i = 0; i < reader->failures.count; i++) {
    const pdi_config_failure_t *seen = (const pdi_config_failure_t *)reader->failures.items + i;
    if (strcmp(seen->message, message) == 0 && seen->origin.line == origin->line &&
        seen->origin.column == origin->column && same_file(seen->origin.file, origin->file))
      return -1;
  }
  const char *file = origin->file != NULL ? pdi_arena_strdup(reader->arena, origin->file) : NULL;
  const char *copy = pdi_arena_strdup(reader->arena, message);
  if (config->failure_message == NULL) {
    /* pdi_error() names the first error: the later ones may follow from it. */
    error_at(origin, "%s", message);
    config->failure_message = copy != NULL ? copy : "out of memory";
    config->failure_origin = *origin;
    config->failure_origin.file = file;
  }
  pdi_config_failure_t *failure = pdi_array_push(reader->arena, &reader->failures, sizeof *failure);
  if (failure != NULL && copy != NULL) {
    failure->message = copy;
    failure->origin = *origin;
    failure->origin.file = file;
  }
  if (failure == NULL || copy == NULL || reader->failures.count >= PDI_CONFIG_MAX_FAILURES ||
      config_is_other_spelling(reader, origin->file))
    reader->stopped = 1;
  return -1;
}

/* Whether failure a comes before b in file order: the files in the order of their first error, then by line and
 * column within one. */
static int
failure_before(const pdi_config_failure_t *a, const pdi_config_failure_t *b, const pdi_config_failure_t *all,
               size_t count)
{
  if (!same_file(a->origin.file, b->origin.file)) {
    for (size_t i = 0; i < count; i++) {
      if (same_file(all[i].origin.file, a->origin.file))
        return 1;
      if (same_file(all[i].origin.file, b->origin.file))
        return 0;
    }
    return 0;
  }
  return a->origin.line != b->origin.line ? a->origin.line < b->origin.line : a->origin.column < b->origin.column;
}

void
config_order_failures(reader_t *reader)
{
  pdi_config_failure_t *failures = reader->failures.items;
  size_t count = reader->failures.count;
  if (count < 2)
    return;
  /* The file order is the found one's: sorted against a copy, which an in-place sort would change under it. */
  pdi_config_failure_t found[PDI_CONFIG_MAX_FAILURES];
  memcpy(found, failures, count * sizeof *failures);
  for (size_t i = 1; i < count; i++) {
    pdi_config_failure_t moving = failures[i];
    size_t j = i;
    for (; j > 0 && failure_before(&moving, &failures[j - 1], found, count); j--)
      failures[j] = failures[j - 1];
    failures[j] = moving;
  }
  pdi_config_t *config = reader->config;
  config->failure_message = failures[0].message;
  config->failure_origin = failures[0].origin;
  error_at(&failures[0].origin, "%s", failures[0].message);
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

pdi_origin_t
config_origin_at(const line_ref_t *line, const char *at)
{
  if (line->overridden) {
    unsigned column = column_at(line->text, at);
    for (unsigned i = 0; i < line->field_count; i++)
      if (line->fields[i].column == column)
        return line->fields[i].origin;
    return line->origin;
  }
  pdi_origin_t origin = {line->file->path, line->number, column_at(line->text, at)};
  return origin;
}

int
config_fail_token(reader_t *reader, const line_ref_t *line, const char *at, const char *fmt, ...)
{
  char message[600];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  pdi_origin_t origin = config_origin_at(line, at);
  return config_fail(reader, &origin, "%s", message);
}

/* ---- memory and paths */

char *
config_copy_range(pdi_arena_t *arena, const char *start, size_t len)
{
  char *copy = pdi_arena_alloc(arena, len + 1);
  if (copy != NULL) {
    memcpy(copy, start, len);
    copy[len] = '\0';
  }
  return copy;
}

/* `name` made absolute against `directory` and normalized lexically (`.`, `..` and repeated
 * slashes removed, symbolic links kept), like Node's path.resolve. NULL when out of memory. */
const char *
config_resolve_path(pdi_arena_t *arena, const char *directory, const char *name)
{
  size_t dir_len = name[0] == '/' ? 0 : strlen(directory);
  size_t name_len = strlen(name);
  char *joined = config_copy_range(arena, directory, dir_len);
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
  return slash == path ? "/" : config_copy_range(arena, path, (size_t)(slash - path));
}

/* ---- sources */

source_file_t *
config_find_source(reader_t *reader, const char *path)
{
  for (source_file_t *file = reader->files; file != NULL; file = file->next)
    if (strcmp(file->path, path) == 0)
      return file;
  return NULL;
}

source_file_t *
config_add_source(reader_t *reader, const char *path, const char *directory, const char *text, size_t length,
                  const pdi_origin_t *from)
{
  pdi_arena_t *arena = reader->arena;
  /* A UTF-8 byte-order mark (some editors write one) is no part of the first command. */
  if (length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
    text += 3;
    length -= 3;
  }
  unsigned count = 1;
  unsigned column = 1; /* in characters, as every place the reader names */
  for (size_t i = 0; i < length; i++) {
    if (text[i] == '\0') {
      pdi_origin_t at = {path, count, column};
      config_fail(reader, &at, "a NUL byte in a text config");
      return NULL;
    }
    count += text[i] == '\n';
    column = text[i] == '\n' ? 1 : column + (((unsigned char)text[i] & 0xc0) != 0x80);
  }
  source_file_t *file = pdi_arena_alloc(arena, sizeof *file);
  const char **lines = pdi_arena_alloc(arena, count * sizeof *lines);
  char *copy = config_copy_range(arena, text, length);
  if (file == NULL || lines == NULL || copy == NULL) {
    config_fail(reader, from, "out of memory reading '%s'", path);
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
  file->compiled = strncmp(lines[0], CONFIG_COMPILED_HEADER, strlen(CONFIG_COMPILED_HEADER)) == 0;
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

/* The largest config file read, as pdi's (src/ts/config/config-file.ts): a file past it is no config. */
#define CONFIG_SIZE_LIMIT (16 << 20)

/* Everything `fd` gives until its end, not only the size fstat says: the files of /proc and /sys say 0 and hold text
 * (a config Included from /proc was read as empty). NULL when memory runs out or past CONFIG_SIZE_LIMIT. */
static char *
read_to_end(int fd, size_t size_hint, size_t *length, int *too_large)
{
  /* Room for one byte past what fstat says (and a NUL): a regular file's end is seen by a read that returns 0,
   * without growing; up to one byte past the limit, which is how a file past it is known. */
  size_t most = (size_t)CONFIG_SIZE_LIMIT + 2;
  size_t capacity = size_hint + 2 > 4096 ? size_hint + 2 : 4096;
  capacity = capacity > most ? most : capacity;
  char *text = malloc(capacity);
  *length = 0;
  while (text != NULL) {
    if (*length + 1 == capacity) {
      if (*length > (size_t)CONFIG_SIZE_LIMIT) {
        *too_large = 1;
        free(text);
        return NULL;
      }
      size_t grown_capacity = capacity * 2 > most ? most : capacity * 2;
      char *grown = realloc(text, grown_capacity);
      if (grown == NULL)
        free(text);
      text = grown;
      capacity = grown_capacity;
      continue;
    }
    ssize_t n = read(fd, text + *length, capacity - 1 - *length);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    *length += (size_t)n;
  }
  if (text != NULL && *length > (size_t)CONFIG_SIZE_LIMIT) {
    *too_large = 1;
    free(text);
    return NULL;
  }
  return text;
}

source_file_t *
config_load_file(reader_t *reader, const char *path, const pdi_origin_t *from)
{
  source_file_t *known = config_find_source(reader, path);
  if (known != NULL)
    return known;
  /* O_NONBLOCK: a FIFO without a writer is refused below (not a regular file) at once, instead of
   * blocking the open, and with it pdi's main thread or the program before main. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
    config_fail(reader, from, "cannot read '%s': %s", path, reason);
    return NULL;
  }
  if (info.st_size > CONFIG_SIZE_LIMIT) {
    close(fd);
    config_fail(reader, from, "cannot read '%s': larger than %d MiB, too large for a config", path,
                CONFIG_SIZE_LIMIT >> 20);
    return NULL;
  }
  size_t length = 0;
  int too_large = 0;
  char *text = read_to_end(fd, (size_t)info.st_size, &length, &too_large);
  close(fd);
  if (too_large) {
    config_fail(reader, from, "cannot read '%s': larger than %d MiB, too large for a config", path,
                CONFIG_SIZE_LIMIT >> 20);
    return NULL;
  }
  if (text == NULL) {
    config_fail(reader, from, "out of memory reading '%s'", path);
    return NULL;
  }
  source_file_t *file = config_add_source(reader, path, NULL, text, length, from);
  free(text);
  return file;
}
