/* List settings (list.h). */
#define _GNU_SOURCE
#include "list.h"

#include <stdlib.h>
#include <string.h>

char **
trace_list_split(const char *text, char separator, size_t *count)
{
  char *copy = strdup(text);
  size_t entries = 1;
  for (const char *c = text; *c; c++)
    entries += *c == separator;
  char **list = calloc(entries, sizeof *list);
  if (copy == NULL || list == NULL) {
    free(copy);
    free(list);
    return NULL;
  }
  char separators[2] = {separator, '\0'};
  char *save = NULL;
  *count = 0;
  for (char *entry = strtok_r(copy, separators, &save); entry != NULL; entry = strtok_r(NULL, separators, &save))
    list[(*count)++] = entry;
  return list;
}
