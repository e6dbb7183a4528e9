/* Trace records as JSON lines (trace-json.h). */
#include "trace-json.h"
#include "../core/escape.h"
#include "trace-put.h"

#include <stdint.h>
#include <string.h>

#define MAX_SAFE_INTEGER 9007199254740991ull /* 2^53 - 1: what a JavaScript number holds exactly */

/* The bytes as the inside of a JSON string: at most 6 bytes out per byte in.
 * A byte that is not part of well-formed UTF-8 (0x80 to 0xff) becomes the lone
 * surrogate U+DC80 + (byte - 0x80), \udcHH, as Python's surrogateescape reads
 * and writes them (PEP 383): well-formed UTF-8 never holds a surrogate, so a
 * consumer gets the bytes back (docs/trace.md, "JSON events"). */
static char *
put_escaped(char *out, const unsigned char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      *out++ = '\\';
      *out++ = (char)c;
    } else if (c == '\n') {
      out = PUT_LITERAL(out, "\\n");
    } else if (c == '\t') {
      out = PUT_LITERAL(out, "\\t");
    } else if (c == '\r') {
      out = PUT_LITERAL(out, "\\r");
    } else if (c < 0x20) {
      out = PUT_LITERAL(out, "\\u00");
      *out++ = hex[c >> 4];
      *out++ = hex[c & 15];
    } else if (c < 0x80) {
      *out++ = (char)c;
    } else {
      size_t length = pdi_utf8_length(s + i, n - i);
      if (length == 0) {
        out = PUT_LITERAL(out, "\\udc");
        *out++ = hex[c >> 4];
        *out++ = hex[c & 15];
      } else {
        out = put_bytes(out, (const char *)s + i, length);
        i += length - 1;
      }
    }
  }
  return out;
}

static char *
put_string(char *out, const char *s, size_t n)
{
  *out++ = '"';
  out = put_escaped(out, (const unsigned char *)s, n);
  *out++ = '"';
  return out;
}

static int
is_octal(char c)
{
  return c >= '0' && c <= '7';
}

/* The body of a quoted string of the decoder (format.c: \n \t \r \" \\ \'
 * and three-digit octal escapes) as a JSON string's inside. */
static char *
put_unquoted(char *out, const char *s, size_t n)
{
  unsigned char bytes[4096];
  size_t held = 0;
  for (size_t i = 0; i < n; i++) {
    if (held == sizeof bytes) {
      out = put_escaped(out, bytes, held);
      held = 0;
    }
    char c = s[i];
    if (c != '\\' || i + 1 == n) {
      bytes[held++] = (unsigned char)c;
    } else if (i + 3 < n && is_octal(s[i + 1]) && is_octal(s[i + 2]) && is_octal(s[i + 3])) {
      bytes[held++] = (unsigned char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
      i += 3;
    } else {
      c = s[++i];
      bytes[held++] = (unsigned char)(c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c);
    }
  }
  return put_escaped(out, bytes, held);
}

static size_t
digits_at(const char *s, size_t n, size_t at)
{
  size_t start = at;
  while (at < n && s[at] >= '0' && s[at] <= '9')
    at++;
  return at - start;
}

/* -?(0|[1-9][0-9]*) whose value a JavaScript number holds exactly. */
static int
is_safe_integer(const char *s, size_t n)
{
  size_t sign = n > 0 && s[0] == '-';
  size_t digits = digits_at(s, n, sign);
  if (digits == 0 || sign + digits != n || (digits > 1 && s[sign] == '0') || digits > 16)
    return 0;
  uint64_t value = 0;
  for (size_t i = sign; i < n; i++)
    value = value * 10 + (uint64_t)(s[i] - '0');
  return value <= MAX_SAFE_INTEGER;
}

/* A JSON number with a fraction or an exponent (what %g prints). */
static int
is_json_fraction(const char *s, size_t n)
{
  size_t at = n > 0 && s[0] == '-';
  size_t digits = digits_at(s, n, at);
  if (digits == 0 || (digits > 1 && s[at] == '0'))
    return 0;
  at += digits;
  size_t whole = at;
  if (at < n && s[at] == '.') {
    digits = digits_at(s, n, at + 1);
    if (digits == 0)
      return 0;
    at += 1 + digits;
  }
  if (at < n && (s[at] == 'e' || s[at] == 'E')) {
    at++;
    if (at < n && (s[at] == '+' || s[at] == '-'))
      at++;
    digits = digits_at(s, n, at);
    if (digits == 0)
      return 0;
    at += digits;
  }
  return at == n && at != whole;
}

/* One decoded value (format.c's text) as JSON: quoted strings as strings,
 * numbers as numbers, true/false, NULL as "0x0", anything else (pointers,
 * flag names, octal modes, character literals) as its text. */
static char *
put_value(char *out, const char *s, size_t n)
{
  if (n > 0 && s[0] == '"') {
    size_t close = n - 1;
    while (close > 0 && s[close] != '"')
      close--;
    if (close == 0)
      return put_string(out, s, n);
    *out++ = '"';
    out = put_unquoted(out, s + 1, close - 1);
    out = put_escaped(out, (const unsigned char *)s + close + 1, n - close - 1);
    *out++ = '"';
    return out;
  }
  if (is_safe_integer(s, n) || is_json_fraction(s, n))
    return put_bytes(out, s, n);
  if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0))
    return put_bytes(out, s, n);
  if (n == 4 && memcmp(s, "NULL", 4) == 0)
    return PUT_LITERAL(out, "\"0x0\"");
  return put_string(out, s, n);
}

/* The decoder's argument list, split at the ", " outside quotes. */
static char *
put_arguments(char *out, const char *s, size_t n)
{
  *out++ = '[';
  size_t start = 0;
  char quote = 0;
  for (size_t i = 0; i < n; i++) {
    if (quote != 0) {
      if (s[i] == '\\')
        i++;
      else if (s[i] == quote)
        quote = 0;
    } else if (s[i] == '"' || s[i] == '\'') {
      quote = s[i];
    } else if (s[i] == ',' && i + 1 < n && s[i + 1] == ' ') {
      out = put_value(out, s + start, i - start);
      *out++ = ',';
      start = i + 2;
      i++;
    }
  }
  if (n > 0)
    out = put_value(out, s + start, n - start);
  *out++ = ']';
  return out;
}

static char *
put_optional_string(char *out, const char *s, size_t n, int present)
{
  return present ? put_string(out, s, n) : PUT_LITERAL(out, "null");
}

size_t
trace_json_site_bound(const trace_ring_record_t *site)
{
  size_t strings = record_strings_length(site, TRACE_SITE_STRINGS);
  return 6 * strings + 64;
}

size_t
trace_json_site(const trace_ring_record_t *site, char *out)
{
  const char *text[TRACE_SITE_STRINGS];
  size_t length[TRACE_SITE_STRINGS];
  record_strings(site, TRACE_SITE_STRINGS, text, length);
  char *p = out;
  p = PUT_LITERAL(p, "\"caller\":");
  p = put_string(p, text[CALLER], length[CALLER]);
  p = PUT_LITERAL(p, ",\"callee\":");
  p = put_optional_string(p, text[CALLEE], length[CALLEE], site->flags & TRACE_RECORD_HAS_CALLEE);
  p = PUT_LITERAL(p, ",\"function\":");
  p = put_string(p, text[FUNCTION], length[FUNCTION]);
  p = PUT_LITERAL(p, ",\"version\":");
  p = put_optional_string(p, text[VERSION], length[VERSION], site->flags & TRACE_RECORD_HAS_VERSION);
  *p++ = ',';
  return (size_t)(p - out);
}

size_t
trace_json_call_bound(const trace_ring_record_t *call, size_t fragment_length)
{
  size_t strings = record_strings_length(call, TRACE_CALL_STRINGS);
  /* Six bytes per string byte at worst (\u00XX; a raw 8-byte value takes 20), plus the numbers. */
  return 6 * strings + fragment_length + 400;
}

static char *
put_raw_values(char *out, const char *bytes, size_t n)
{
  *out++ = '[';
  out = put_registers(out, bytes, n, ",", 1);
  *out++ = ']';
  return out;
}

static char *
put_result(char *out, const trace_ring_record_t *call, const char *text, size_t length)
{
  if ((call->flags & TRACE_RECORD_ABANDONED) || length == 0 || (length == 4 && memcmp(text, "void", 4) == 0))
    return PUT_LITERAL(out, "null");
  if (call->flags & TRACE_RECORD_RAW_VALUES) {
    uint64_t value = 0;
    memcpy(&value, text, length < sizeof value ? length : sizeof value);
    return put_registers(out, (const char *)&value, sizeof value, "", 1);
  }
  return put_value(out, text, length);
}

size_t
trace_json_call(const trace_ring_record_t *call, const char *fragment, size_t fragment_length, char *out)
{
  const char *text[TRACE_CALL_STRINGS];
  size_t length[TRACE_CALL_STRINGS];
  record_strings(call, TRACE_CALL_STRINGS, text, length);
  char *p = out;
  p = PUT_LITERAL(p, "{\"pid\":");
  p = put_unsigned(p, call->pid);
  p = PUT_LITERAL(p, ",\"tid\":");
  p = put_unsigned(p, call->tid);
  p = PUT_LITERAL(p, ",\"thread\":");
  p = put_unsigned(p, call->thread);
  p = PUT_LITERAL(p, ",\"depth\":");
  p = put_unsigned(p, call->depth);
  *p++ = ',';
  if (fragment != NULL)
    p = put_bytes(p, fragment, fragment_length);
  else /* a site never named: cannot happen with a well-behaved writer */
    p = PUT_LITERAL(p, "\"caller\":\"\",\"callee\":null,\"function\":\"\",\"version\":null,");
  p = PUT_LITERAL(p, "\"args\":");
  if (call->flags & TRACE_RECORD_NO_ARGS)
    p = PUT_LITERAL(p, "null");
  else if (call->flags & TRACE_RECORD_RAW_VALUES)
    p = put_raw_values(p, text[ARGS], length[ARGS]);
  else
    p = put_arguments(p, text[ARGS], length[ARGS]);
  p = PUT_LITERAL(p, ",\"ret\":");
  p = put_result(p, call, text[RET], length[RET]);
  p = PUT_LITERAL(p, ",\"errno\":");
  p = put_optional_string(p, text[ERRNO], length[ERRNO], length[ERRNO] != 0);
  p = PUT_LITERAL(p, ",\"startNs\":");
  p = put_unsigned(p, call->start_ns);
  p = PUT_LITERAL(p, ",\"durationNs\":");
  p = put_unsigned(p, call->duration_ns);
  p = call->flags & TRACE_RECORD_ABANDONED ? PUT_LITERAL(p, ",\"abandoned\":true}\n")
                                           : PUT_LITERAL(p, ",\"abandoned\":false}\n");
  return (size_t)(p - out);
}
