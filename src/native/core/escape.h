/* One spelling of pdi's messages, shared by the core and the backends that
 * print their own (which link nothing of the core): each control byte
 * (below 0x20, and 0x7f) written as \xHH, so that a name holding a newline or
 * an escape sequence cannot break the line or drive the terminal. */
#ifndef PDI_CORE_ESCAPE_H
#define PDI_CORE_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* `in` escaped into `out`, cut to fit `size`. */
static inline void
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

#endif
