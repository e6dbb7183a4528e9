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
  char raw[sizeof error_message];
  va_list args;
  va_start(args, fmt);
  vsnprintf(raw, sizeof raw, fmt, args);
  va_end(args);
  /* A config's bytes end up in messages: none of them may drive the terminal. */
  pdi_escape_controls(raw, error_message, sizeof error_message);
}
