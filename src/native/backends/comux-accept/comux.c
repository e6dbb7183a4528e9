#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "comux.h"

static const unsigned char magic[8] = {'c', 'o', 'm', 'u', 'x', '!', '!', '!'};

static uint32_t
read_u32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
read_u64(const unsigned char *p)
{
  return (uint64_t)read_u32(p) | (uint64_t)read_u32(p + 4) << 32;
}

static int fail(char *error, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *error, size_t size, const char *fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  vsnprintf(error, size, fmt, args);
  va_end(args);
  return -1;
}

/* Stable: equal sched values keep file order. */
static void
schedule(comux_doc_t *doc)
{
  uint32_t *order = doc->order;
  uint32_t *scratch = malloc((size_t)doc->num_chunks * sizeof *scratch);
  for (uint32_t i = 0; i < doc->num_chunks; i++)
    order[i] = i;
  if (scratch == NULL) {
    for (uint32_t i = 1; i < doc->num_chunks; i++) {
      uint32_t value = order[i];
      uint32_t j = i;
      while (j > 0 && doc->chunks[order[j - 1]].sched > doc->chunks[value].sched) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = value;
    }
    return;
  }
  for (uint32_t width = 1; width < doc->num_chunks; width *= 2) {
    for (uint32_t start = 0; start < doc->num_chunks; start += 2 * width) {
      uint32_t middle = start + width < doc->num_chunks ? start + width : doc->num_chunks;
      uint32_t end = start + 2 * width < doc->num_chunks ? start + 2 * width : doc->num_chunks;
      uint32_t a = start, b = middle, k = start;
      while (a < middle && b < end)
        scratch[k++] = doc->chunks[order[b]].sched < doc->chunks[order[a]].sched ? order[b++] : order[a++];
      while (a < middle)
        scratch[k++] = order[a++];
      while (b < end)
        scratch[k++] = order[b++];
    }
    memcpy(order, scratch, (size_t)doc->num_chunks * sizeof *order);
  }
  free(scratch);
}

int
comux_parse(const unsigned char *bytes, size_t length, comux_doc_t *doc, char *error, size_t size)
{
  memset(doc, 0, sizeof *doc);
  size_t present = length < sizeof magic ? length : sizeof magic;
  if (memcmp(bytes, magic, present) != 0)
    return fail(error, size, "bad magic at byte 0");
  if (length < sizeof magic)
    return fail(error, size, "truncated header (only %zu of its 20 bytes) at byte 0", length);
  if (length > COMUX_MAX_INPUT)
    return fail(error, size, "input of %zu bytes exceeds the limit %llu at byte %llu", length, COMUX_MAX_INPUT,
                COMUX_MAX_INPUT);
  if (length < 20)
    return fail(error, size, "truncated header (only %zu of its 20 bytes) at byte 0", length);
  uint32_t version = read_u32(bytes + 8);
  if (version != 0)
    return fail(error, size, "unsupported version %u at byte 8", version);
  uint32_t num_conns = read_u32(bytes + 12);
  if (num_conns > COMUX_MAX_CONNS)
    return fail(error, size, "num_conns %u exceeds the limit %u at byte 12", num_conns, COMUX_MAX_CONNS);
  uint32_t num_chunks = read_u32(bytes + 16);
  if (num_chunks > COMUX_MAX_CHUNKS)
    return fail(error, size, "num_chunks %u exceeds the limit %u at byte 16", num_chunks, COMUX_MAX_CHUNKS);

  doc->num_conns = num_conns;
  doc->num_chunks = num_chunks;
  doc->chunks = calloc(num_chunks ? num_chunks : 1, sizeof *doc->chunks);
  doc->order = calloc(num_chunks ? num_chunks : 1, sizeof *doc->order);
  doc->last_chunk = calloc(num_conns ? num_conns : 1, sizeof *doc->last_chunk);
  unsigned char *seen = calloc(num_conns ? num_conns : 1, 1);
  if (doc->chunks == NULL || doc->order == NULL || doc->last_chunk == NULL || seen == NULL) {
    free(seen);
    comux_free(doc);
    return fail(error, size, "out of memory for %u chunks at byte 16", num_chunks);
  }
  size_t offset = 20;
  int status = 0;
  for (uint32_t i = 0; i < num_chunks && status == 0; i++) {
    if (length - offset < 20) {
      status = fail(error, size, "truncated header of chunk %u (only %zu of its 20 bytes) at byte %zu", i,
                    length - offset, offset);
      break;
    }
    const unsigned char *header = bytes + offset;
    uint32_t conn = read_u32(header);
    uint64_t len = read_u64(header + 4);
    uint32_t sched = read_u32(header + 12);
    uint32_t flags = read_u32(header + 16);
    if (conn >= num_conns)
      status = fail(error, size, "chunk %u: conn_id %u is not below num_conns %u at byte %zu", i, conn, num_conns,
                    offset);
    else if (len > COMUX_MAX_CHUNK_LEN)
      status = fail(error, size, "chunk %u: len %llu exceeds the limit %llu at byte %zu", i, (unsigned long long)len,
                    COMUX_MAX_CHUNK_LEN, offset + 4);
    else if (flags & ~(COMUX_AWAIT_RESPONSE | COMUX_NO_SHUTDOWN))
      status = fail(error, size, "chunk %u: unknown flags 0x%x at byte %zu", i, flags, offset + 16);
    else if (length - offset - 20 < len)
      status = fail(error, size, "truncated data of chunk %u (only %zu of its %llu bytes) at byte %zu", i,
                    length - offset - 20, (unsigned long long)len, offset + 20);
    if (status != 0)
      break;
    doc->chunks[i] = (comux_chunk_t){conn, sched, flags, i, bytes + offset + 20, (size_t)len};
    seen[conn] = 1;
    offset += 20 + (size_t)len;
  }
  if (status == 0 && offset < length)
    status = fail(error, size, "%zu trailing bytes at byte %zu", length - offset, offset);
  for (uint32_t c = 0; c < num_conns && status == 0; c++)
    if (!seen[c])
      status = fail(error, size, "connection %u has no chunk at byte 12", c);
  free(seen);
  if (status != 0) {
    comux_free(doc);
    return -1;
  }
  schedule(doc);
  for (uint32_t k = 0; k < num_chunks; k++)
    doc->last_chunk[doc->chunks[doc->order[k]].conn] = doc->order[k];
  return 0;
}

void
comux_free(comux_doc_t *doc)
{
  free(doc->chunks);
  free(doc->order);
  free(doc->last_chunk);
  memset(doc, 0, sizeof *doc);
}

int
comux_read_all(int fd, unsigned char **out, size_t *length)
{
  /* A file's own size (and one byte to see its end) where it is known: a
   * fork server's every child reads its input, and 64 KB of fresh heap
   * for a small one cost it 16 page faults. */
  size_t capacity = 64 * 1024;
  struct stat status;
  off_t offset = lseek(fd, 0, SEEK_CUR);
  if (fstat(fd, &status) == 0 && S_ISREG(status.st_mode) && offset >= 0 && status.st_size >= offset &&
      status.st_size - offset < (off_t)capacity)
    capacity = (size_t)(status.st_size - offset) + 1;
  size_t used = 0;
  unsigned char *buffer = malloc(capacity);
  for (;;) {
    if (buffer == NULL)
      return -1;
    if (used == capacity) {
      if (capacity > COMUX_MAX_INPUT) {
        *out = buffer;
        *length = used;
        return 0;
      }
      capacity *= 2;
      unsigned char *grown = realloc(buffer, capacity);
      if (grown == NULL) {
        free(buffer);
        return -1;
      }
      buffer = grown;
    }
    ssize_t n = read(fd, buffer + used, capacity - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      free(buffer);
      return -1;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  *out = buffer;
  *length = used;
  return 0;
}
