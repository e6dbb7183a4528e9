/* A process's start time, shared by the core and pdi-inject (which links
 * nothing of the core): with its pid, it names one process for good, since a
 * pid may be reused but not with the same start. */
#ifndef PDI_PROCESS_START_H
#define PDI_PROCESS_START_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Field 22 of /proc/PID/stat (clock ticks since boot), 0 when the process has
 * ended. The command name (field 2) may hold spaces and parentheses: fields
 * are counted from its last ')'. */
static inline unsigned long long
pdi_process_start(pid_t pid)
{
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *file = fopen(path, "re");
  if (file == NULL)
    return 0;
  size_t length = fread(text, 1, sizeof text - 1, file);
  fclose(file);
  text[length] = '\0';
  const char *field = strrchr(text, ')');
  for (int index = 2; field != NULL && index < 22; index++)
    field = strchr(field + 1, ' ');
  return field != NULL ? strtoull(field + 1, NULL, 10) : 0;
}

#endif
