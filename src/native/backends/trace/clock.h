/* The trace's clock: CLOCK_MONOTONIC, counted from when the trace began. */
#ifndef PDI_TRACE_CLOCK_H
#define PDI_TRACE_CLOCK_H

#include <stdint.h>

uint64_t trace_now_ns(void);
/* When the trace began: PDI_TRACE_EPOCH (CLOCK_MONOTONIC ns, set by pdi as it starts the program), so that every
 * process and every exec'd image of one trace counts from it (-t); now, without it or for a value in the future. */
uint64_t trace_epoch_ns(void);

#endif
