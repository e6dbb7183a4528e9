/* Marks for pdi trace: an empty file that a traced process leaves says
 * something to pdi trace, which looks for it (or reads its directory). */
#ifndef PDI_TRACE_MARKS_H
#define PDI_TRACE_MARKS_H

#include <stddef.h>

/* A directory's path, copied: programs such as nginx rewrite their
 * environment strings. */
typedef struct trace_marks {
  char path[4096];
  int taken; /* a directory was given */
} trace_marks_t;

/* Takes directory (NULL, empty or too long: none); whether one was taken. */
int trace_marks_take(trace_marks_t *marks, const char *directory);

/* Leaves the file `name` in the taken directory. */
void trace_marks_leave(const trace_marks_t *marks, const char *name);

/* Whether the file `name` is in the taken directory. */
int trace_marks_has(const trace_marks_t *marks, const char *name);

#endif
