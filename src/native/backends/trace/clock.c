#define _GNU_SOURCE
#include "clock.h"

#include <stdlib.h>
#include <time.h>

#include "format.h"

uint64_t
trace_now_ns(void)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

uint64_t
trace_epoch_ns(void)
{
  uint64_t now = trace_now_ns();
  const char *text = trace_getenv("PDI_TRACE_EPOCH");
  uint64_t epoch = text != NULL ? strtoull(text, NULL, 10) : 0;
  return epoch != 0 && epoch <= now ? epoch : now;
}
