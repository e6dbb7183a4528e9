/* The reader side of the trace event ring (backends/trace/ring.h). */
#ifndef PDI_ADDON_RING_READER_H
#define PDI_ADDON_RING_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct trace_ring_reader trace_ring_reader_t;

/* Maps the ring file at `path`; NULL with errno set when it cannot, EAGAIN
 * when the writer has not finished creating it. */
trace_ring_reader_t *trace_ring_reader_open(const char *path);
/* Moves up to `cap` bytes of committed records (padding left out) into
 * `out` and frees their space in the ring; returns the bytes moved. */
size_t trace_ring_reader_read(trace_ring_reader_t *reader, void *out, size_t cap);
uint64_t trace_ring_reader_lost(const trace_ring_reader_t *reader);
size_t trace_ring_reader_capacity(const trace_ring_reader_t *reader);
void trace_ring_reader_close(trace_ring_reader_t *reader);

#endif
