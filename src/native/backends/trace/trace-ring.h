/* The trace backend's writer of ring.h: one ring per process. */
#ifndef PDI_TRACE_TRACE_RING_H
#define PDI_TRACE_TRACE_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ring.h"

typedef struct trace_ring_event {
  pid_t pid, tid;
  unsigned thread, depth, flags;
  uint64_t start_ns, duration_ns;
  /* The call site: its identity, and its strings (caller, function, version,
   * callee; NULL when absent), read only when the site is announced. */
  const void *site;
  const char *site_strings[TRACE_SITE_STRINGS];
  /* args (NULL: not decoded), ret, errno (ring.h order) */
  const char *strings[TRACE_CALL_STRINGS];
  size_t lengths[TRACE_CALL_STRINGS];
} trace_ring_event_t;

/* Creates DIRECTORY/<pid>-<ns>.ring of `capacity` bytes (a power of two),
 * whose events' times count from `started_ns` (CLOCK_MONOTONIC). */
int trace_ring_open(const char *directory, pid_t reader, uint64_t capacity, uint64_t started_ns);
/* Whether the reader that holds LOCK_PATH (DIRECTORY/TRACE_RING_READER_LOCK)
 * locked runs; without that file (or with NULL), whether process `reader` does. */
int trace_ring_reader_running(const char *lock_path, pid_t reader);
/* In a child after fork: the parent's ring is no longer this process's. */
void trace_ring_forked(void);
/* In a followed child after fork: its own ring in place of the parent's (0), or -1 with errno when it cannot be made
 * (a child that runs as a user who may not write into DIRECTORY): the parent's is then still the ring, for a notice
 * that says so, until trace_ring_forked. */
int trace_ring_open_forked(const char *directory, pid_t reader, uint64_t capacity, uint64_t started_ns);
/* Copies one call into the ring (after its site's record, the first time),
 * waiting while the ring is full and the reader lives; counts the event as
 * lost otherwise. */
void trace_ring_write(const trace_ring_event_t *event);
/* Whether the ring's reader is known to be gone (pdi killed): the hooks then
 * skip their work, and each call counts as lost once, by the second. */
int trace_ring_reader_gone(void);
int trace_ring_lost_to_gone_reader(void);
/* Copies a notice of the process's end (ring.h, TRACE_RECORD_NOTICE). */
void trace_ring_notice(const char *text, size_t length);
/* At the end of a session while the process runs on: unmaps the ring once
 * no hook writes into it (later calls are not recorded). Nothing at exit. */
void trace_ring_retire(void);

#endif
