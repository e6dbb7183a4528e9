#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
  int length = vsnprintf(raw, sizeof raw, fmt, args);
  va_end(args);
  if (length >= (int)sizeof raw)
    pdi_mark_cut(raw, sizeof raw - 1);
  /* A config's bytes end up in messages: none of them may drive the terminal. */
  pdi_escape_controls(raw, error_message, sizeof error_message);
}

void
pdi_mark_cut(char *text, size_t end)
{
  size_t at = end >= 3 ? end - 3 : 0;
  while (at > 0 && ((unsigned char)text[at] & 0xc0) == 0x80)
    at--;
  memcpy(text + at, "...", 4);
}
