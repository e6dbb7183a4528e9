/* The functions -e names plainly that a process has no call site of
 * (unseen.h): said at its end, or with -f marked for pdi trace to say once
 * for the whole tree, instead of by every followed program (echo, cat) that
 * never imports them. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../callback/never-stubbed.h"
#include "filter.h"
#include "names.h"
#include "unseen.h"

/* A copy: programs such as nginx rewrite their environment strings. */
static char seen_directory_path[4096];
static const char *seen_directory;

static void
mark_seen(const char *function)
{
  char path[4096];
  if (strchr(function, '/') != NULL ||
      snprintf(path, sizeof path, "%s/%s", seen_directory, function) >= (int)sizeof path)
    return;
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0)
    close(fd);
}

void
trace_unseen_follow(const char *directory)
{
  seen_directory = directory != NULL && *directory && strlen(directory) < sizeof seen_directory_path
                       ? strcpy(seen_directory_path, directory)
                       : NULL;
  trace_filter_on_first_site(seen_directory != NULL ? mark_seen : NULL);
}

static void
report_unseen_function(const char *function, void *context)
{
  const char *never = pdi_never_stubbed_reason(function);
  char name[1024];
  trace_message_text(function, name, sizeof name);
  if (never != NULL)
    dprintf(*(const int *)context, "pdi: trace: %s: pdi never traces %s (%s: docs/mechanisms.md, \"Which imports\")\n",
            name, name, never);
  else
    dprintf(*(const int *)context,
            "pdi: trace: %s: process %d has no call site of it to trace (it does not import it, or only takes its "
            "address from a pointer slot, GLOB_DAT, which is not traced: docs/trace.md, \"What is traced, and what is "
            "not\")\n",
            name, (int)getpid());
}

void
trace_unseen_report(int fd)
{
  if (seen_directory == NULL)
    trace_filter_each_unkept_name(report_unseen_function, &fd);
}
