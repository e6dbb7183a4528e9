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
pdi_escape_controls(const char *in, char *out, size_t size)
{
  size_t n = 0;
  for (; *in != '\0' && n + 1 < size; in++) {
    unsigned char c = (unsigned char)*in;
    if (c >= 0x20 && c != 0x7f) {
      out[n++] = (char)c;
      continue;
    }
    if (n + 5 > size)
      break;
    snprintf(out + n, 5, "\\x%02x", c);
    n += 4;
  }
  out[n] = '\0';
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
