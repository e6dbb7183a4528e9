#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>

#include "core.h"

static int
reserve(pdi_buf_t *buf, size_t extra)
{
  if (buf->failed)
    return -1;
  if (buf->len + extra <= buf->cap)
    return 0;
  size_t cap = buf->cap ? buf->cap : 64 * 1024;
  while (cap < buf->len + extra)
    cap *= 2;
  void *data = buf->data ? mremap(buf->data, buf->cap, cap, MREMAP_MAYMOVE)
                         : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) {
    buf->failed = 1;
    return -1;
  }
  buf->data = data;
  buf->cap = cap;
  return 0;
}

void
pdi_buf_put(pdi_buf_t *buf, const char *bytes, size_t len)
{
  if (reserve(buf, len) == 0) {
    memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
  }
}

void
pdi_buf_puts(pdi_buf_t *buf, const char *s)
{
  pdi_buf_put(buf, s, strlen(s));
}

void
pdi_buf_putc(pdi_buf_t *buf, char c)
{
  pdi_buf_put(buf, &c, 1);
}

void
pdi_buf_dec(pdi_buf_t *buf, uint64_t value)
{
  char digits[24];
  size_t n = sizeof digits;
  do {
    digits[--n] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  pdi_buf_put(buf, digits + n, sizeof digits - n);
}

void
pdi_buf_hex(pdi_buf_t *buf, uint64_t value)
{
  char digits[20];
  size_t n = sizeof digits;
  do {
    digits[--n] = "0123456789abcdef"[value & 15];
    value >>= 4;
  } while (value != 0);
  digits[--n] = 'x';
  digits[--n] = '0';
  pdi_buf_put(buf, digits + n, sizeof digits - n);
}

void
pdi_buf_json_hex(pdi_buf_t *buf, uint64_t value)
{
  pdi_buf_putc(buf, '"');
  pdi_buf_hex(buf, value);
  pdi_buf_putc(buf, '"');
}

void
pdi_buf_json_str(pdi_buf_t *buf, const char *s)
{
  if (s == NULL) {
    pdi_buf_puts(buf, "null");
    return;
  }
  pdi_buf_putc(buf, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      pdi_buf_putc(buf, '\\');
      pdi_buf_putc(buf, (char)c);
    } else if (c < 0x20 || c == 0x7f) {
      char escape[7] = {'\\', 'u', '0', '0', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15], 0};
      pdi_buf_put(buf, escape, 6);
    } else {
      pdi_buf_putc(buf, (char)c);
    }
  }
  pdi_buf_putc(buf, '"');
}

void
pdi_buf_json_key(pdi_buf_t *buf, const char *key, int *first)
{
  if (!*first)
    pdi_buf_putc(buf, ',');
  *first = 0;
  pdi_buf_json_str(buf, key);
  pdi_buf_putc(buf, ':');
}

void
pdi_buf_release(pdi_buf_t *buf)
{
  if (buf->data != NULL)
    munmap(buf->data, buf->cap);
  buf->data = NULL;
  buf->len = buf->cap = 0;
  buf->failed = 0;
}
