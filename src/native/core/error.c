#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>

#include "core.h"

static __thread char error_message[512];

const char *
pdi_error(void)
{
  return error_message;
}

void
pdi_set_error(const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  vsnprintf(error_message, sizeof error_message, fmt, args);
  va_end(args);
}
