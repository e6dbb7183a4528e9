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

/* The length of the well-formed UTF-8 sequence (RFC 3629) at s, of at most
 * n bytes, or 0 when the bytes there form none: an ASCII or stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF or cut
 * short. Shared by the messages below and the trace's JSON strings. */
static inline size_t
pdi_utf8_length(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  size_t length = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
  if (length == 0 || length > n)
    return 0;
  unsigned char low = 0x80, high = 0xbf;
  if (c == 0xe0)
    low = 0xa0;
  else if (c == 0xed)
    high = 0x9f;
  else if (c == 0xf0)
    low = 0x90;
  else if (c == 0xf4)
    high = 0x8f;
  if (s[1] < low || s[1] > high)
    return 0;
  for (size_t i = 2; i < length; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return length;
}

/* `in` escaped into `out`, cut to fit `size`: a byte that is not part of
 * well-formed UTF-8 is written as \xHH too, so that a name in another
 * encoding (or a stray byte of a config) shows what it holds. Whether all
 * of `in` fit (0: cut). */
static inline int
pdi_escape_controls(const char *in, char *out, size_t size)
{
  size_t n = 0, left = strlen(in);
  while (*in != '\0' && n + 1 < size) {
    unsigned char c = (unsigned char)*in;
    size_t sequence = pdi_utf8_length((const unsigned char *)in, left);
    if ((c >= 0x20 && c < 0x7f) || sequence > 0) {
      size_t length = sequence > 0 ? sequence : 1;
      if (n + length + 1 > size)
        break;
      memcpy(out + n, in, length);
      n += length;
      in += length;
      left -= length;
      continue;
    }
    if (n + 5 > size)
      break;
    snprintf(out + n, 5, "\\x%02x", c);
    n += 4;
    in++;
    left--;
  }
  out[n] = '\0';
  return *in == '\0';
}

#endif
