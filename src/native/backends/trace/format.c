/* Decoding calls into text (format.h). */
#define _GNU_SOURCE
#include "format.h"
#include "../common/safe-read.h"

#include <fcntl.h>
#include <fenv.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flags.h"

void
tb_mem(trace_buf_t *out, const char *bytes, size_t n)
{
  size_t room = out->cap - 1 - out->len;
  if (n > room)
    n = room;
  memcpy(out->data + out->len, bytes, n);
  out->len += n;
}

void
tb_str(trace_buf_t *out, const char *text)
{
  tb_mem(out, text, strlen(text));
}

void
tb_char(trace_buf_t *out, char c)
{
  if (out->len + 1 < out->cap)
    out->data[out->len++] = c;
}

void
tb_udec(trace_buf_t *out, unsigned long value)
{
  char digits[24];
  size_t n = sizeof digits;
  do
    digits[--n] = (char)('0' + value % 10);
  while ((value /= 10) != 0);
  tb_mem(out, digits + n, sizeof digits - n);
}

/* A 64-bit value on i386, where unsigned long has 32 bits: nine digits at a
 * time past it. Elsewhere tb_udec. */
static void
tb_udec64(trace_buf_t *out, uint64_t value)
{
  if (value == (unsigned long)value) {
    tb_udec(out, (unsigned long)value);
    return;
  }
  tb_udec64(out, value / 1000000000u);
  tb_dec_width(out, (unsigned long)(value % 1000000000u), 9);
}

/* A 64-bit integer of kind '8' (signed) or '9' (unsigned), in decimal. */
static void
tb_wide(trace_buf_t *out, char kind, uint64_t value)
{
  if (kind == '8' && (int64_t)value < 0) {
    tb_char(out, '-');
    value = 0ull - value;
  }
  tb_udec64(out, value);
}

void
tb_dec(trace_buf_t *out, long value)
{
  if (value < 0) {
    tb_char(out, '-');
    tb_udec(out, 0ul - (unsigned long)value);
  } else {
    tb_udec(out, (unsigned long)value);
  }
}

void
tb_dec_width(trace_buf_t *out, unsigned long value, unsigned width)
{
  char digits[24];
  size_t n = sizeof digits;
  while (n > sizeof digits - width || value != 0) {
    digits[--n] = (char)('0' + value % 10);
    value /= 10;
  }
  tb_mem(out, digits + n, sizeof digits - n);
}

void
tb_seconds(trace_buf_t *out, uint64_t ns)
{
  tb_udec(out, (unsigned long)(ns / 1000000000u));
  tb_char(out, '.');
  tb_dec_width(out, (unsigned long)(ns % 1000000000u / 1000u), 6);
}

static void
tb_radix(trace_buf_t *out, unsigned long value, unsigned shift, const char *prefix)
{
  static const char digits_of[] = "0123456789abcdef";
  /* Digits written straight into the buffer: this runs for most arguments of most calls. */
  unsigned bits = value == 0 ? 1 : (unsigned)(8 * sizeof value) - (unsigned)__builtin_clzl(value);
  size_t count = (bits + shift - 1) / shift;
  size_t prefix_length = prefix[1] == '\0' ? 1 : 2;
  if (out->len + prefix_length + count >= out->cap) {
    char digits[24];
    size_t n = sizeof digits;
    do
      digits[--n] = digits_of[value & ((1u << shift) - 1)];
    while ((value >>= shift) != 0);
    tb_str(out, prefix);
    tb_mem(out, digits + n, sizeof digits - n);
    return;
  }
  char *at = out->data + out->len;
  at[0] = prefix[0];
  if (prefix_length == 2)
    at[1] = prefix[1];
  at += prefix_length;
  for (size_t i = count; i-- > 0; value >>= shift)
    at[i] = digits_of[value & ((1u << shift) - 1)];
  out->len += prefix_length + count;
}

void
tb_hex(trace_buf_t *out, unsigned long value)
{
  tb_radix(out, value, 4, "0x");
}

void
tb_name(trace_buf_t *out, const char *name)
{
  static const char digits[] = "0123456789abcdef";
  for (const unsigned char *c = (const unsigned char *)name; *c != '\0'; c++)
    if (*c < 0x20 || *c == 0x7f) {
      char escape[4] = {'\\', 'x', digits[*c >> 4], digits[*c & 15]};
      tb_mem(out, escape, 4);
    } else
      tb_char(out, (char)*c);
}

static void
tb_escaped(trace_buf_t *out, unsigned char c)
{
  static const char plain[] = "\n\t\r\"\\";
  static const char shown[] = "ntr\"\\";
  const char *special = c ? strchr(plain, c) : NULL;
  if (special != NULL) {
    tb_char(out, '\\');
    tb_char(out, shown[special - plain]);
  } else if (c < 0x20 || c >= 0x7f) {
    char octal[4] = {'\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7))};
    tb_mem(out, octal, 4);
  } else {
    tb_char(out, (char)c);
  }
}

void
tb_cstring(trace_buf_t *out, uintptr_t address, size_t limit)
{
  if (address == 0) {
    tb_str(out, "NULL");
    return;
  }
  char chunk[256];
  size_t length = 0; /* bytes of the string seen, up to limit + 1 */
  int ended = 0, unterminated = 0;
  while (!ended && length <= limit) {
    size_t want = limit + 1 - length < sizeof chunk ? limit + 1 - length : sizeof chunk;
    size_t got = safe_read(address + length, chunk, want);
    if (length == 0 && got == 0) {
      tb_hex(out, address);
      return;
    }
    if (length == 0)
      tb_char(out, '"');
    const char *end = memchr(chunk, '\0', got);
    size_t n = end ? (size_t)(end - chunk) : got;
    for (size_t i = 0; i < n && length + i < limit; i++)
      tb_escaped(out, (unsigned char)chunk[i]);
    length += n;
    unterminated = end == NULL && got < want;
    ended = end != NULL || unterminated;
  }
  tb_char(out, '"');
  if (length > limit || unterminated)
    tb_str(out, "...");
}

/* The C locale, made when the backend loads (glibc gives its own static
 * object for "C": nothing is allocated). */
static locale_t c_locale;

__attribute__((constructor)) static void
make_c_locale(void)
{
  c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* A value as C shows it, whatever the program chose: its locale's decimal
 * comma (`1,5`, which JSON would take for text) and its rounding mode
 * (FE_UPWARD showed 0.1 as 0.100001) are the program's, not the trace's. */
static void
tb_double(trace_buf_t *out, double value)
{
  char text[40];
  locale_t program_locale = c_locale != (locale_t)0 ? uselocale(c_locale) : (locale_t)0;
  int rounding = fegetround();
  if (rounding != FE_TONEAREST)
    fesetround(FE_TONEAREST);
  int n = snprintf(text, sizeof text, "%g", value);
  if (rounding != FE_TONEAREST)
    fesetround(rounding);
  if (program_locale != (locale_t)0)
    uselocale(program_locale);
  if (n > 0)
    tb_mem(out, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

static void
tb_char_literal(trace_buf_t *out, int value)
{
  if (value < 0 || value > 0xff) {
    tb_dec(out, value);
    return;
  }
  tb_char(out, '\'');
  if (value == '\'')
    tb_str(out, "\\'");
  else if (value != '"')
    tb_escaped(out, (unsigned char)value);
  else
    tb_char(out, '"');
  tb_char(out, '\'');
}

/* One integer-class value of kind `kind`; `flags` is the value it depends
 * on: the previous open flags (for 'o'), fcntl's command (for '#'), the
 * socket level (for '*'), the address family (for '^'). Returns 0
 * when the value is not shown at all. */
static int
format_integer(trace_buf_t *out, char kind, uintptr_t value, long flags, const trace_format_options_t *options)
{
  switch (kind) {
  case 'i': tb_dec(out, (int)value); break;
  case 'l': tb_dec(out, (long)value); break;
  case 'u': tb_udec(out, (unsigned)value); break;
  case 'z': tb_udec(out, (unsigned long)value); break;
  case 'x': tb_hex(out, (unsigned long)value); break;
  case 'p':
    if (value == 0)
      tb_str(out, "NULL");
    else
      tb_hex(out, (unsigned long)value);
    break;
  case 's':
    if (options->show_values)
      tb_cstring(out, value, options->string_size);
    else
      tb_hex(out, (unsigned long)value);
    break;
  case 'c': tb_char_literal(out, (int)value); break;
  /* Types narrower than int: a returned one has only its low bits set by the
   * callee (the ABI leaves the rest of the register undefined). */
  case 'C': tb_char_literal(out, (char)value); break;
  case 'y': tb_dec(out, (signed char)value); break;
  case 'Y': tb_udec(out, (unsigned char)value); break;
  case 'h': tb_dec(out, (short)value); break;
  case 'H': tb_udec(out, (unsigned short)value); break;
  case 'b': tb_str(out, (value & 0xff) ? "true" : "false"); break;
  case 'o':
    if ((flags & O_CREAT) == 0 && (flags & (O_TMPFILE & ~O_DIRECTORY)) == 0)
      return 0;
    tb_radix(out, (unsigned)value, 3, "0");
    break;
  case 'm': tb_radix(out, (unsigned)value, 3, "0"); break;
  case '#': return trace_format_fcntl_arg(out, (int)flags, (long)value);
  case '*': return trace_format_socket_option(out, (int)flags, (int)value);
  case '^': return trace_format_socket_protocol(out, (int)flags, (int)value);
  default: trace_format_flags(out, kind, (long)value); break;
  }
  return 1;
}

static void
format_raw_args(trace_buf_t *out, const pdi_cb_call_t *call, unsigned count)
{
  for (unsigned i = 0; i < count; i++) {
    if (i)
      tb_str(out, ", ");
    tb_hex(out, (unsigned long)pdi_arg_int(call, i));
  }
}

/* Where the arguments past the registers are: on x86-64 and aarch64 each one
 * that finds its class's registers taken goes to the next stack word, in
 * the order of the parameters, whatever its class (a double after the
 * eighth comes between the integers there); pdi_arg_int reads stack word
 * k as integer argument INT_REGISTERS + k. On i386 every argument is on the
 * stack, where pdi_arg_int reads word k as argument k: an integer takes one
 * word, a double two, a float one. */
#if defined(__x86_64__)
#define INT_REGISTERS 6u
#define FLOAT_REGISTERS 8u
#elif defined(__aarch64__)
#define INT_REGISTERS 8u
#define FLOAT_REGISTERS 8u
#endif

typedef struct stack_words {
  unsigned used; /* stack words taken by the parameters so far */
} stack_words_t;

static uintptr_t
next_int(const pdi_cb_call_t *call, unsigned *ints, stack_words_t *stack)
{
#ifdef INT_REGISTERS
  if (*ints >= INT_REGISTERS)
    return pdi_arg_int(call, INT_REGISTERS + stack->used++);
  return pdi_arg_int(call, (*ints)++);
#else
  (void)ints;
  return pdi_arg_int(call, stack->used++);
#endif
}

/* A 64-bit integer ('8', '9'): one register or stack word, or on i386 two
 * stack words, the low one first. */
static uint64_t
next_int64(const pdi_cb_call_t *call, unsigned *ints, stack_words_t *stack)
{
  uint64_t low = next_int(call, ints, stack);
  if (sizeof(uintptr_t) == sizeof low)
    return low;
  uint64_t high = next_int(call, ints, stack);
  return (uint64_t)(uint32_t)low | high << 32;
}

/* A float's bits are the value's first 4, as 'g' reads them. */
static double
next_double(const pdi_cb_call_t *call, unsigned *floats, stack_words_t *stack, int is_float)
{
#ifdef FLOAT_REGISTERS
  (void)is_float;
  if (*floats >= FLOAT_REGISTERS) {
    uintptr_t word = pdi_arg_int(call, INT_REGISTERS + stack->used++);
    double value;
    memcpy(&value, &word, sizeof value);
    return value;
  }
  return pdi_arg_double(call, (*floats)++);
#else
  (void)floats;
  uint32_t words[2] = {(uint32_t)pdi_arg_int(call, stack->used++), 0};
  if (!is_float)
    words[1] = (uint32_t)pdi_arg_int(call, stack->used++);
  double value;
  memcpy(&value, words, sizeof value);
  return value;
#endif
}

void
trace_format_args(trace_buf_t *out, const pdi_cb_call_t *call, const trace_proto_t *proto,
                  const trace_format_options_t *options)
{
  if (proto == NULL) {
    format_raw_args(out, call, options->raw_args);
    return;
  }
  const char *kind = proto->spec + (proto->spec[1] == '!' ? 2 : 1);
  unsigned ints = 0, floats = 0, shown = 0;
  stack_words_t stack = {0};
  long depended = 0; /* the last open flags, fcntl command, socket level or family, for 'o', '#', '*' and '^' */
  for (; *kind; kind++) {
    size_t before = out->len;
    if (shown)
      tb_str(out, ", ");
    if (*kind == '.') {
      tb_str(out, "...");
    } else if (*kind == 'd' || *kind == 'g') {
      double value = next_double(call, &floats, &stack, *kind == 'g');
      if (*kind == 'g') {
        float narrow;
        memcpy(&narrow, &value, sizeof narrow);
        value = narrow;
      }
      tb_double(out, value);
    } else if (*kind == '8' || *kind == '9') {
      tb_wide(out, *kind, next_int64(call, &ints, &stack));
    } else {
      uintptr_t value = next_int(call, &ints, &stack);
      if (*kind == 'O' || *kind == 'L' || *kind == '&' || *kind == 'D')
        depended = (long)value;
      if (!format_integer(out, *kind, value, depended, options)) {
        out->len = before;
        continue;
      }
    }
    shown++;
  }
}

static int
failed(char kind, uintptr_t value)
{
  switch (kind) {
  case 'i': return (int)value == -1;
  case 'l':
  case 'z': return (long)value == -1;
  case 'p':
  case 's': return value == 0 || value == (uintptr_t)MAP_FAILED;
  default: return 0;
  }
}

void
trace_format_return(trace_buf_t *out, const pdi_cb_call_t *call, const trace_proto_t *proto, int error,
                    const trace_format_options_t *options)
{
  if (proto == NULL) {
    tb_hex(out, (unsigned long)pdi_ret_int(call));
    return;
  }
  char kind = proto->spec[0];
  if (kind == 'v') {
    tb_str(out, "void");
    return;
  }
  if (kind == 'd' || kind == 'g') {
    double value = pdi_ret_double(call);
#if !defined(__i386__) /* i386 returns a float in st0, read as a double already */
    if (kind == 'g') {
      float narrow;
      memcpy(&narrow, &value, sizeof narrow);
      value = narrow;
    }
#endif
    tb_double(out, value);
    return;
  }
  int failure;
  if (kind == '8' || kind == '9') {
    uint64_t value = pdi_ret_int64(call);
    tb_wide(out, kind, value);
    failure = (int64_t)value == -1;
  } else {
    uintptr_t value = pdi_ret_int(call);
    format_integer(out, kind == 'o' ? 'm' : kind, value, 0, options);
    failure = failed(kind, value);
  }
  if (proto->spec[1] == '!' && failure) {
    const char *name = trace_errno_name(error);
    tb_str(out, " errno ");
    if (name != NULL)
      tb_str(out, name);
    else
      tb_dec(out, error);
  }
}
