/* One spelling of pdi's messages, shared by the core and the backends that
 * print their own (which link nothing of the core): each control byte
 * (below 0x20, and 0x7f) written as \xHH, so that a name holding a newline or
 * an escape sequence cannot break the line or drive the terminal, and so is
 * each byte that is not well-formed UTF-8. */
#ifndef PDI_CORE_ESCAPE_H
#define PDI_CORE_ESCAPE_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The length of the well-formed UTF-8 sequence at s (a lead byte of 0x80
 * or more), or 0 when the bytes there form none: a stray continuation
 * byte, an overlong form, a surrogate, past U+10FFFF or cut short. */
static inline size_t
pdi_utf8_sequence(const unsigned char *s)
{
  size_t n;
  unsigned char low = 0x80, high = 0xbf;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2;
  else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    n = 3;
    low = s[0] == 0xe0 ? 0xa0 : low;
    high = s[0] == 0xed ? 0x9f : high;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    n = 4;
    low = s[0] == 0xf0 ? 0x90 : low;
    high = s[0] == 0xf4 ? 0x8f : high;
  } else
    return 0;
  if (s[1] < low || s[1] > high)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return n;
}

/* `in` escaped into `out`, cut to fit `size`: a byte that is not part of
 * well-formed UTF-8 is written as \xHH too, so that a name in another
 * encoding (or a stray byte of a config) shows what it holds. */
static inline void
pdi_escape_controls(const char *in, char *out, size_t size)
{
  size_t n = 0;
  while (*in != '\0' && n + 1 < size) {
    unsigned char c = (unsigned char)*in;
    size_t sequence = c >= 0x80 ? pdi_utf8_sequence((const unsigned char *)in) : 0;
    if ((c >= 0x20 && c < 0x7f) || sequence > 0) {
      size_t length = sequence > 0 ? sequence : 1;
      if (n + length + 1 > size)
        break;
      memcpy(out + n, in, length);
      n += length;
      in += length;
      continue;
    }
    if (n + 5 > size)
      break;
    snprintf(out + n, 5, "\\x%02x", c);
    n += 4;
    in++;
  }
  out[n] = '\0';
}

#endif
