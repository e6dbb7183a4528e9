/* The marks of followed processes in text mode (alive.h). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alive.h"

/* A copy: programs such as nginx rewrite their environment strings. */
static char alive_directory_path[4096];
static const char *alive_directory;

static void
mark_alive(void)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  char path[4096 + 64];
  snprintf(path, sizeof path, "%s/%d-%lld.alive", alive_directory, (int)getpid(),
           (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0)
    close(fd);
}

void
trace_alive_configure(const char *directory)
{
  alive_directory = directory != NULL && *directory && strlen(directory) < sizeof alive_directory_path
                        ? strcpy(alive_directory_path, directory)
                        : NULL;
  if (alive_directory != NULL)
    mark_alive();
}

void
trace_alive_forked(void)
{
  if (alive_directory != NULL)
    mark_alive();
}
