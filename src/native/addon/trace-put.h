/* What the JSON and the text formatting of trace records (trace-json.c,
 * trace-text.c) both write with: bytes, decimal and hexadecimal numbers
 * into a buffer sized beforehand, and the strings after a record's fixed
 * part. */
#ifndef PDI_ADDON_TRACE_PUT_H
#define PDI_ADDON_TRACE_PUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../backends/trace/ring.h"

/* The strings of a site record, and of a call record, in ring.h's order. */
enum { CALLER, FUNCTION, VERSION, CALLEE };
enum { ARGS, RET, ERRNO };

static inline char *
put_bytes(char *out, const char *bytes, size_t n)
{
  memcpy(out, bytes, n);
  return out + n;
}

#define PUT_LITERAL(out, text) put_bytes((out), (text), sizeof(text) - 1)

/* A name (a file's, a symbol's) with its control characters as \xHH, as
 * pdi's messages show names, so that none splits a line or drives the
 * terminal: up to 4 bytes out per byte in. */
static inline char *
put_name(char *out, const char *bytes, size_t n)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)bytes[i];
    if (c < 0x20 || c == 0x7f) {
      *out++ = '\\';
      *out++ = 'x';
      *out++ = digits[c >> 4];
      *out++ = digits[c & 15];
    } else
      *out++ = (char)c;
  }
  return out;
}

static inline char *
put_unsigned(char *out, uint64_t value)
{
  char digits[24];
  size_t n = sizeof digits;
  do
    digits[--n] = (char)('0' + value % 10);
  while ((value /= 10) != 0);
  return put_bytes(out, digits + n, sizeof digits - n);
}

/* 0x and the digits, no padding (the backend's tb_hex). */
static inline char *
put_hex(char *out, uint64_t value)
{
  static const char digits[] = "0123456789abcdef";
  unsigned count = value == 0 ? 1 : (unsigned)(67 - __builtin_clzll(value)) / 4;
  out = PUT_LITERAL(out, "0x");
  for (unsigned i = count; i-- > 0; value >>= 4)
    out[i] = digits[value & 15];
  return out + count;
}

/* The 8-byte registers of a function without a prototype, in hex, `separator`
 * between them, each in double quotes when `quoted` (a JSON string). */
static inline char *
put_registers(char *out, const char *bytes, size_t n, const char *separator, int quoted)
{
  for (size_t at = 0; at + 8 <= n; at += 8) {
    uint64_t value;
    memcpy(&value, bytes + at, sizeof value);
    if (at != 0)
      out = put_bytes(out, separator, strlen(separator));
    if (quoted)
      *out++ = '"';
    out = put_hex(out, value);
    if (quoted)
      *out++ = '"';
  }
  return out;
}

/* The bytes of a record's first `count` strings. */
static inline size_t
record_strings_length(const trace_ring_record_t *record, int count)
{
  size_t total = 0;
  for (int i = 0; i < count; i++)
    total += record->lengths[i];
  return total;
}

static inline void
record_strings(const trace_ring_record_t *record, int count, const char **text, size_t *length)
{
  const char *at = (const char *)(record + 1);
  for (int i = 0; i < count; i++) {
    text[i] = at;
    length[i] = record->lengths[i];
    at += length[i];
  }
}

#endif
