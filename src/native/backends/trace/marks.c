/* The marks pdi trace reads (marks.h). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "marks.h"

int
trace_marks_take(trace_marks_t *marks, const char *directory)
{
  marks->taken = directory != NULL && *directory && strlen(directory) < sizeof marks->path;
  if (marks->taken)
    strcpy(marks->path, directory);
  return marks->taken;
}

/* Creates the empty file `path`. */
static void
mark(const char *path)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0)
    close(fd);
}

void
trace_marks_leave(const trace_marks_t *marks, const char *name)
{
  char path[sizeof marks->path + 256];
  if (marks->taken && strchr(name, '/') == NULL &&
      snprintf(path, sizeof path, "%s/%s", marks->path, name) < (int)sizeof path)
    mark(path);
}

int
trace_marks_has(const trace_marks_t *marks, const char *name)
{
  char path[sizeof marks->path + 256];
  return marks->taken && strchr(name, '/') == NULL &&
         snprintf(path, sizeof path, "%s/%s", marks->path, name) < (int)sizeof path && access(path, F_OK) == 0;
}
