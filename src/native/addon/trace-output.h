/* Where a trace drain writes its lines (trace-drain.c): a file descriptor,
 * and the first write error, kept. */
#ifndef PDI_ADDON_TRACE_OUTPUT_H
#define PDI_ADDON_TRACE_OUTPUT_H

#include <pthread.h>
#include <stddef.h>

typedef struct trace_output {
  int fd;          /* -1: none (the lines are queued for JavaScript instead) */
  int whole_lines; /* no regular file: written in whole lines of at most PIPE_BUF bytes */
  int error;       /* errno of the first failed write; nothing more is written after it */
} trace_output_t;

void trace_output_open(trace_output_t *output, int fd);
/* Writes lines (each ending in '\n') whole, retrying short writes. */
void trace_output_write(trace_output_t *output, const char *data, size_t length);
/* Nothing more is written: the output's error becomes ECANCELED, unless it
 * has one already. */
void trace_output_abandon(trace_output_t *output);
/* Interrupts a write that `writer` waits in, once (its output abandoned
 * first, it does not write again). */
void trace_output_interrupt(pthread_t writer);

#endif
