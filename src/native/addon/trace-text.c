/* Trace records as text lines (trace-text.h). Every detail follows the
 * backend's own text (trace.c's put_prefix and PDI_BE_FUNC_POST_CB,
 * format.c's raw values): keep them together. */
#include "trace-text.h"
#include "trace-put.h"

#include <stdint.h>
#include <string.h>

/* trace.c's put_seconds: S.UUUUUU, microseconds. */
static char *
put_seconds(char *out, uint64_t ns)
{
  out = put_unsigned(out, ns / 1000000000u);
  *out++ = '.';
  uint64_t micros = ns % 1000000000u / 1000u;
  for (uint64_t scale = 100000; scale != 0; scale /= 10)
    *out++ = (char)('0' + micros / scale % 10);
  return out;
}

size_t
trace_text_site_bound(const trace_ring_record_t *site)
{
  return 4 * ((size_t)site->lengths[CALLER] + site->lengths[FUNCTION]) + 1;
}

size_t
trace_text_site(const trace_ring_record_t *site, char *out)
{
  const char *text[TRACE_SITE_STRINGS];
  size_t length[TRACE_SITE_STRINGS];
  record_strings(site, TRACE_SITE_STRINGS, text, length);
  /* The caller's file name: what follows its last '/'. */
  size_t start = length[CALLER];
  while (start > 0 && text[CALLER][start - 1] != '/')
    start--;
  char *p = put_name(out, text[CALLER] + start, length[CALLER] - start);
  *p++ = '!';
  p = put_name(p, text[FUNCTION], length[FUNCTION]);
  return (size_t)(p - out);
}

size_t
trace_text_call_bound(const trace_ring_record_t *call, size_t fragment_length)
{
  size_t strings = record_strings_length(call, TRACE_CALL_STRINGS);
  /* A raw 8-byte value takes up to 20 ("0x" and 16 digits, ", "); the numbers and literals fit in 200. */
  return 3 * strings + fragment_length + 2 * (size_t)call->depth + 200;
}

/* "ret[ errno NAME]", "<abandoned>" or the register in hex. */
static char *
put_result(char *out, const trace_ring_record_t *call, const char **text, const size_t *length)
{
  if (call->flags & TRACE_RECORD_ABANDONED)
    return PUT_LITERAL(out, "<abandoned>");
  if (call->flags & TRACE_RECORD_RAW_VALUES) {
    uint64_t value = 0;
    memcpy(&value, text[RET], length[RET] < sizeof value ? length[RET] : sizeof value);
    return put_hex(out, value);
  }
  out = put_bytes(out, text[RET], length[RET]);
  /* The backend splits " errno NAME" from the result it formatted: joined again. */
  if (length[ERRNO] != 0) {
    out = PUT_LITERAL(out, " errno ");
    out = put_bytes(out, text[ERRNO], length[ERRNO]);
  }
  return out;
}

size_t
trace_text_call(const trace_ring_record_t *call, const char *fragment, size_t fragment_length,
                const trace_text_options_t *options, char *out)
{
  const char *text[TRACE_CALL_STRINGS];
  size_t length[TRACE_CALL_STRINGS];
  record_strings(call, TRACE_CALL_STRINGS, text, length);
  /* Without a frame (no room on the thread's stack) the backend has no start: no duration, start 0. */
  int framed = !(call->flags & TRACE_RECORD_NO_ARGS);
  char *p = put_unsigned(out, call->pid);
  *p++ = ' ';
  p = put_unsigned(p, call->tid);
  p = PUT_LITERAL(p, "  ");
  if (options->timestamp) {
    /* A start before the backend's (a frame of a session before it was initialised again) shows as 0, as there. */
    p = put_seconds(p, framed && call->start_ns < UINT64_C(1) << 63 ? call->start_ns : 0);
    *p++ = ' ';
  }
  for (uint32_t i = 0; i < call->depth; i++)
    p = PUT_LITERAL(p, "  ");
  if (fragment != NULL)
    p = put_bytes(p, fragment, fragment_length);
  else /* a site never named: cannot happen with a well-behaved writer */
    *p++ = '!';
  *p++ = '(';
  if (!framed)
    *p++ = '?';
  else if (call->flags & TRACE_RECORD_RAW_VALUES)
    p = put_registers(p, text[ARGS], length[ARGS], ", ", 0); /* format.c's format_raw_args */
  else
    p = put_bytes(p, text[ARGS], length[ARGS]);
  p = PUT_LITERAL(p, ") = ");
  p = put_result(p, call, text, length);
  if (options->time && framed) {
    p = PUT_LITERAL(p, " <");
    p = put_seconds(p, call->duration_ns);
    *p++ = '>';
  }
  *p++ = '\n';
  return (size_t)(p - out);
}
