/* /proc/PID/stat, read by the core and by pdi-inject (which links nothing of
 * the core): a process's state, and its start time, which with its pid names
 * one process for good (a pid may be reused, not with the same start). */
#ifndef PDI_PROCESS_START_H
#define PDI_PROCESS_START_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat from the state on ("S 1 2 ..."), in `text`;
 * NULL when it cannot be read (the process has ended). The command name
 * (field 2) may hold spaces and parentheses: the fields start after its
 * last ')'. */
static inline const char *
pdi_process_stat(pid_t pid, char *text, size_t size)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *file = fopen(path, "re");
  if (file == NULL)
    return NULL;
  size_t length = fread(text, 1, size - 1, file);
  fclose(file);
  text[length] = '\0';
  const char *end = strrchr(text, ')');
  return end != NULL && end[1] == ' ' && end[2] != '\0' ? end + 2 : NULL;
}

/* The state letter (R, S, Z...), 0 when the process cannot be read. */
static inline char
pdi_process_state(pid_t pid)
{
  char text[1024];
  const char *fields = pdi_process_stat(pid, text, sizeof text);
  return fields != NULL ? fields[0] : 0;
}

/* The start time (field 22, clock ticks since boot), 0 when the process has
 * ended. */
static inline unsigned long long
pdi_process_start(pid_t pid)
{
  char text[1024];
  const char *field = pdi_process_stat(pid, text, sizeof text);
  for (int index = 3; field != NULL && index < 22; index++)
    field = strchr(field, ' ') != NULL ? strchr(field, ' ') + 1 : NULL;
  return field != NULL ? strtoull(field, NULL, 10) : 0;
}

/* Whether the process `pid` that started at `start` has ended (a pid reused
 * since has another start); never for pid 0, an owner nobody named. */
static inline int
pdi_process_gone(pid_t pid, unsigned long long start)
{
  return pid > 0 && pdi_process_start(pid) != start;
}

#endif
