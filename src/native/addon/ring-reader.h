/* The reader side of the trace event ring (backends/trace/ring.h). */
#ifndef PDI_ADDON_RING_READER_H
#define PDI_ADDON_RING_READER_H

#include <stddef.h>
#include <stdint.h>

#include "../backends/trace/ring.h"

typedef struct trace_ring_reader {
  trace_ring_header_t *header;
  size_t bytes;
  /* The traced program can write anywhere in its mapping of the ring: the
   * capacity is the one checked at mapping, and a record that cannot be one
   * marks the ring damaged at its position; nothing after it is read. */
  uint64_t capacity;
  int damaged;
  uint64_t damaged_at;
  /* For the same reason the read position is the reader's own (the header's
   * is a copy for the writers), and a record is checked and used in a copy
   * (`copy`, mapped as needed; `copy_at` its position while `copied`) that
   * the program cannot change under the reader. */
  uint64_t position;
  trace_ring_record_t *copy;
  size_t copy_room;
  uint64_t copy_at;
  int copied;
} trace_ring_reader_t;

/* Maps the ring file at `path` into `reader`: 0, or -1 with errno set
 * (EAGAIN while the writer has not finished creating it). No allocation. */
int trace_ring_reader_map(trace_ring_reader_t *reader, const char *path);
void trace_ring_reader_unmap(trace_ring_reader_t *reader);

/* A copy of the next committed record (padding skipped), or NULL; release
 * it with trace_ring_reader_release once used. Its size and string lengths
 * are checked: NULL from then on when they cannot be (a damaged ring). */
const trace_ring_record_t *trace_ring_reader_next(trace_ring_reader_t *reader);
/* Once the writers are gone: skips the record at the read position if a
 * writer reserved it and never finished it, counting it as lost; 1 if it
 * did. */
uint64_t trace_ring_reader_skip_unfinished(trace_ring_reader_t *reader);
/* Frees the space of the record trace_ring_reader_next returned. */
void trace_ring_reader_release(trace_ring_reader_t *reader, const trace_ring_record_t *record);
/* The ring's header, for its writer's pid and the reader's own thread. */
trace_ring_header_t *trace_ring_reader_header(const trace_ring_reader_t *reader);
uint64_t trace_ring_reader_lost(const trace_ring_reader_t *reader);
/* 1 when the ring is damaged, its position in `*at`. */
int trace_ring_reader_damaged(const trace_ring_reader_t *reader, uint64_t *at);
/* When a record's call returned, on the clock all rings share (ring.h,
 * started_ns), a notice's when it was written; `untimed` for a record
 * without times (a site, a call without a frame). */
uint64_t trace_ring_reader_returned(const trace_ring_reader_t *reader, const trace_ring_record_t *record,
                                    uint64_t untimed);

#endif
