/* The program of each ring a drain opened (ring.h's header names it), for
 * the `-c` tables' `pid N (PROGRAM)` lines. Memory comes from mmap, never
 * malloc (trace-drain.h says why). */
#ifndef PDI_ADDON_TRACE_PROGRAMS_H
#define PDI_ADDON_TRACE_PROGRAMS_H

#include <stddef.h>
#include <stdint.h>

typedef struct trace_programs {
  char *bytes; /* records: pid, length (uint32), opened_ns (uint64), the path padded to 8 */
  size_t used, capacity;
} trace_programs_t;

/* Notes that the ring opened at `opened_ns` (CLOCK_MONOTONIC) by `pid` belongs to `path`; -1 without memory. */
int trace_programs_add(trace_programs_t *programs, uint32_t pid, uint64_t opened_ns, const char *path, size_t length);
typedef void trace_program_fn(void *context, uint32_t pid, uint64_t opened_ns, const char *path, size_t length);
/* Every note, in the order they were added. */
void trace_programs_each(const trace_programs_t *programs, trace_program_fn *fn, void *context);
void trace_programs_release(trace_programs_t *programs);

#endif
