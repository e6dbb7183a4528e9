#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static int
class_match(const char **pattern, unsigned char c)
{
  const char *p = *pattern + 1;
  int negate = *p == '!' || *p == '^';
  if (negate)
    p++;
  int matched = 0;
  int first = 1;
  while (*p && (*p != ']' || first)) {
    unsigned char lo = (unsigned char)*p;
    unsigned char hi = lo;
    if (p[1] == '-' && p[2] && p[2] != ']') {
      hi = (unsigned char)p[2];
      p += 2;
    }
    if (c >= lo && c <= hi)
      matched = 1;
    p++;
    first = 0;
  }
  if (*p != ']')
    return -1;
  *pattern = p + 1;
  return matched != negate;
}

int
pdi_glob_match(const char *pattern, const char *text)
{
  const char *star_pattern = NULL;
  const char *star_text = NULL;
  while (*text) {
    if (*pattern == '*') {
      star_pattern = ++pattern;
      star_text = text;
      continue;
    }
    if (*pattern == '[') {
      const char *after = pattern;
      int matched = class_match(&after, (unsigned char)*text);
      if (matched == 1) {
        pattern = after;
        text++;
        continue;
      }
      if (matched == -1 && *text == '[') {
        pattern++;
        text++;
        continue;
      }
    } else if (*pattern == '?' || (*pattern != '\0' && *pattern == *text)) {
      pattern++;
      text++;
      continue;
    }
    if (star_pattern == NULL)
      return 0;
    pattern = star_pattern;
    text = ++star_text;
  }
  while (*pattern == '*')
    pattern++;
  return *pattern == '\0';
}

int
pdi_glob_unclosed(const char *pattern)
{
  for (const char *at = pattern; *at != '\0'; at++) {
    if (*at != '[')
      continue;
    const char *after = at;
    if (class_match(&after, 0) == -1)
      return 1;
    at = after - 1;
  }
  return 0;
}

static int
has_glob(const char *pattern)
{
  return strpbrk(pattern, "*?[") != NULL;
}

static const char *
base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static int
same_file(const char *a, const char *b)
{
  char real_a[PATH_MAX];
  char real_b[PATH_MAX];
  if (realpath(a, real_a) == NULL || realpath(b, real_b) == NULL)
    return 0;
  return strcmp(real_a, real_b) == 0;
}

/* A path glob against the object as the loader names it, else as the file
 * system does: its directory's links resolved (/lib is /usr/lib with a
 * merged /usr), then the file's own link too (libfoo.so.1 -> .so.1.2.3),
 * as a plain path is compared by the file it names. */
static int
path_glob_matches(const char *pattern, const char *path)
{
  if (pdi_glob_match(pattern, path))
    return 1;
  char real[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (path[0] != '/' || slash == NULL || (size_t)(slash - path) >= sizeof real)
    return 0;
  char directory[PATH_MAX];
  memcpy(directory, path, (size_t)(slash - path));
  directory[slash - path] = '\0';
  size_t used;
  if (realpath(slash == path ? "/" : directory, real) != NULL && (used = strlen(real)) + strlen(slash) < sizeof real) {
    memcpy(real + (used == 1 ? 0 : used), slash, strlen(slash) + 1);
    if (pdi_glob_match(pattern, real))
      return 1;
  }
  return realpath(path, real) != NULL && pdi_glob_match(pattern, real);
}

int
pdi_object_matches(const pdi_object_t *object, const char *pattern)
{
  if (strcmp(pattern, "$main") == 0)
    return (object->flags & PDI_OBJECT_MAIN) != 0;
  if (strcmp(pattern, "*") == 0)
    return !(object->flags & (PDI_OBJECT_PDI | PDI_OBJECT_VDSO));
  if (strchr(pattern, '/') != NULL) {
    if (has_glob(pattern))
      return path_glob_matches(pattern, object->path) ||
             (object->file != object->path && path_glob_matches(pattern, object->file));
    return strcmp(pattern, object->path) == 0 || (object->file[0] == '/' && same_file(pattern, object->file));
  }
  if (has_glob(pattern))
    return (object->soname && pdi_glob_match(pattern, object->soname)) ||
           pdi_glob_match(pattern, base_name(object->path));
  return (object->soname && strcmp(pattern, object->soname) == 0) || strcmp(pattern, base_name(object->path)) == 0;
}
