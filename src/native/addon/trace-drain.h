/* A reader thread for the trace event rings of a directory (docs/trace.md,
 * "Transport"). It keeps the traced processes from waiting on the event
 * loop: it maps each ring as it appears, moves committed records out as
 * fast as they come and turns them into JSON lines, written to a file
 * descriptor (`pdi trace --json`) or queued for JavaScript to take, into
 * text lines written to a file descriptor (`pdi trace`), or into counts
 * per call site (`pdi trace -c`).
 *
 * The thread allocates its buffers with mmap and lists directories with
 * getdents64, never malloc, so that it can drain rings of its own process
 * (observe()) even when a traced thread waits for it inside a libc call. */
#ifndef PDI_ADDON_TRACE_DRAIN_H
#define PDI_ADDON_TRACE_DRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "trace-programs.h"
#include "trace-text.h"

typedef struct trace_drain trace_drain_t;

typedef enum trace_drain_format {
  TRACE_DRAIN_JSON,    /* trace-json.h lines; the processes' notices to `notice_fd` */
  TRACE_DRAIN_SUMMARY, /* no output: calls, errors and time counted per site */
  TRACE_DRAIN_TEXT     /* trace-text.h lines, and the processes' notices (TRACE_RECORD_NOTICE) */
} trace_drain_format_t;

typedef struct trace_drain_loss {
  uint32_t pid;
  int damaged; /* the ring held a record that cannot be one, at byte damaged_at of its stream */
  uint64_t lost;
  uint64_t damaged_at;
} trace_drain_loss_t;

typedef struct trace_drain_options {
  trace_drain_format_t format;
  /* With `fd` >= 0 the output is written there; otherwise it waits for
   * trace_drain_take, and the thread stops reading (so writers wait) while
   * more than `queue_limit` bytes wait (0: no limit); with
   * `drop_over_limit` it reads on instead and drops the calls, counted as
   * lost in their rings: writers of the reader's own process must never
   * wait for its event loop, which may wait for them. */
  int fd;
  size_t queue_limit;
  int drop_over_limit;
  trace_text_options_t text; /* TRACE_DRAIN_TEXT: -T, -t */
  /* TRACE_DRAIN_JSON: where the processes' notices (TRACE_RECORD_NOTICE)
   * go, outside the JSON lines (`pdi trace --json`: pdi's stderr, also for
   * a process it attached to); into the output between lines when it is
   * `fd`; -1: not said. */
  int notice_fd;
  /* Nothing is read until trace_drain_release: pdi trace -p says that it
   * traces before the first line of the trace, which shares its stderr. */
  int held;
} trace_drain_options_t;

/* Starts reading the rings that appear in `directory`. NULL with errno set
 * on failure. */
trace_drain_t *trace_drain_start(const char *directory, const trace_drain_options_t *options);
/* From the thread that hands the events over in the reader's own process
 * (observe()): with `quiet` set, that thread's calls are not recorded
 * until it is cleared again, as they are the delivery's own. */
void trace_drain_quiet(trace_drain_t *drain, int quiet);
/* Starts the reading of a drain started `held`. */
void trace_drain_release(trace_drain_t *drain);
/* What waits in the queue, as one malloc'd block (free it), or NULL: all
 * of it with `limit` 0, else whole chunks (whole lines) from its head until
 * `limit` bytes are reached, so that one delivery keeps the event loop busy
 * for a bounded time. */
char *trace_drain_take(trace_drain_t *drain, size_t limit, size_t *length);
/* Asks the thread to read everything the rings hold, write or queue it
 * and end; returns at once (trace_drain_stopped says when it is done).
 * Call it when the writers are gone. */
void trace_drain_stop(trace_drain_t *drain);
int trace_drain_stopped(const trace_drain_t *drain);
/* Gives up the output: nothing more is written (its error becomes
 * ECANCELED), and a write that waits for a reader that reads nothing more
 * (`pdi trace ... | less` left on one screen) is interrupted. Call it until
 * trace_drain_stopped, as the interruption may land just before the write. */
void trace_drain_abandon(trace_drain_t *drain);
/* Stops the thread after reading everything the rings hold (call it when
 * the writers are gone), flushes, closes the rings. Returns the number of
 * rings that lost events, their losses in `*losses` (valid until
 * trace_drain_free); `*write_error` is the errno of a failed write, or 0. */
size_t trace_drain_finish(trace_drain_t *drain, const trace_drain_loss_t **losses, int *write_error);
/* While it runs: the errno of the output's first failed write, or 0 (a
 * reader gone from a pipe is EPIPE: `pdi trace -p ... | head` stops then). */
int trace_drain_write_errno(const trace_drain_t *drain);
/* A summary drain's counts after trace_drain_finish, one call per site of
 * every ring (a function may come several times: one per caller). */
typedef void trace_drain_count_fn(void *context, uint32_t pid, const char *function, size_t length, uint64_t calls,
                                  uint64_t errors, uint64_t total_ns);
/* The program of each ring the drain opened (in the order it opened them; `opened_ns` orders one pid's images). */
void trace_drain_each_program(const trace_drain_t *drain, trace_program_fn *fn, void *context);
void trace_drain_each_count(const trace_drain_t *drain, trace_drain_count_fn *fn, void *context);
/* Frees the drain; trace_drain_finish must have run. */
void trace_drain_free(trace_drain_t *drain);

#endif
