/* Call formatting for the trace backend, free of its output: a bounded
 * text buffer and the decoders of arguments and return values. Nothing
 * here allocates, locks or keeps state, so the code runs inside callback
 * hooks and can serve another transport (an event ring) as well. */
#ifndef PDI_TRACE_FORMAT_H
#define PDI_TRACE_FORMAT_H

#include <pdi/backend.h>
#include <stddef.h>
#include <stdint.h>

#include "prototypes.h"

/* Appends stop silently at cap - 1 bytes; `len` never exceeds that. */
typedef struct trace_buf {
  char *data;
  size_t len;
  size_t cap;
} trace_buf_t;

void tb_mem(trace_buf_t *out, const char *bytes, size_t n);
void tb_str(trace_buf_t *out, const char *text);
/* A file's or a symbol's name, its control characters as \xHH (as the
 * text lines pdi writes from the ring show them). */
void tb_name(trace_buf_t *out, const char *name);
void tb_char(trace_buf_t *out, char c);
void tb_dec(trace_buf_t *out, long value);
void tb_udec(trace_buf_t *out, unsigned long value);
void tb_hex(trace_buf_t *out, unsigned long value);
/* A fixed-width decimal, zero-padded (for fractions of seconds). */
void tb_dec_width(trace_buf_t *out, unsigned long value, unsigned width);
/* Nanoseconds as seconds with µs resolution: 1.000012. */
void tb_seconds(trace_buf_t *out, uint64_t ns);
/* A C string at `address` in the process, quoted and escaped, at most
 * `limit` bytes of it and "..." after the quote when cut; an unreadable
 * address shows as itself in hex, NULL as NULL. */
void tb_cstring(trace_buf_t *out, uintptr_t address, size_t limit);

typedef struct trace_format_options {
  size_t string_size; /* -s */
  unsigned raw_args;  /* --args: integer registers shown without a prototype */
  /* 0 (pdi trace -c, which shows no value): the caller decodes no argument; strings are not read, only their
   * addresses shown */
  int show_values;
} trace_format_options_t;

/* The argument list (without parentheses) of a call in pre: decoded by
 * `proto`, or the first raw_args integer registers in hex when NULL. */
void trace_format_args(trace_buf_t *out, const pdi_cb_call_t *call, const trace_proto_t *proto,
                       const trace_format_options_t *options);
/* The return value of a call in post, and " errno NAME" when the prototype
 * says the call failed; `error` is errno as the callee left it. */
void trace_format_return(trace_buf_t *out, const pdi_cb_call_t *call, const trace_proto_t *proto, int error,
                         const trace_format_options_t *options);

const char *trace_errno_name(int value);

/* The C library's getenv, whatever the program defines under that name
 * (trace.c). */
char *trace_getenv(const char *name);

#endif
