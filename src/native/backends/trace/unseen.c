/* The functions -e names plainly that a process has no call site of
 * (unseen.h): said at its end, or with -f marked for pdi trace to say once
 * for the whole tree, instead of by every followed program (echo, cat) that
 * never imports them. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

#include "../../callback/never-stubbed.h"
#include "filter.h"
#include "marks.h"
#include "names.h"
#include "unseen.h"

static trace_marks_t seen;
static int reporting; /* not following: the process says its names itself, except those an earlier image marked */

static void
mark_seen(const char *function)
{
  trace_marks_leave(&seen, function);
}

void
trace_unseen_follow(const char *directory, int following)
{
  reporting = !following;
  trace_filter_on_first_site(trace_marks_take(&seen, directory) ? mark_seen : NULL);
}

typedef struct report {
  trace_notice_fn *put;
  void *context;
} report_t;

static void
report_unseen_function(const char *function, void *context)
{
  const report_t *report = context;
  /* A site an earlier image of this process had (sh -c 'getpid; exec cat'): its calls are in the trace. */
  if (trace_marks_has(&seen, function))
    return;
  const char *never = pdi_never_stubbed_reason(function);
  char name[1024], line[3 * sizeof name];
  trace_message_text(function, name, sizeof name);
  int length =
      never != NULL
          ? snprintf(line, sizeof line,
                     "pdi: trace: %s: pdi never traces %s (%s: docs/mechanisms.md, \"Which imports\")\n", name, name,
                     never)
          : snprintf(line, sizeof line,
                     "pdi: trace: %s: process %d has no call site of it to trace (it does not import it, or only takes "
                     "its address from a pointer slot, GLOB_DAT, which is not traced: docs/trace.md, \"What is traced, "
                     "and what is not\")\n",
                     name, (int)getpid());
  if (length > 0)
    report->put(line, (size_t)length < sizeof line ? (size_t)length : sizeof line - 1, report->context);
}

void
trace_unseen_report(trace_notice_fn *put, void *context)
{
  report_t report = {put, context};
  if (!seen.taken || reporting)
    trace_filter_each_unkept_name(report_unseen_function, &report);
}
