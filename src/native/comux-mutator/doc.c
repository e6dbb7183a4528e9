/* The editable comux document of the mutator and its PRNG (mutator.h). */
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

static const unsigned char magic[8] = {'c', 'o', 'm', 'u', 'x', '!', '!', '!'};

void
cm_seed(cm_rng_t *rng, uint64_t seed)
{
  uint64_t z = seed + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  rng->s = z != 0 ? z : 0x2545f4914f6cdd1dull;
}

uint64_t
cm_next(cm_rng_t *rng)
{
  uint64_t x = rng->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng->s = x;
  return x * 0x2545f4914f6cdd1dull;
}

uint64_t
cm_below(cm_rng_t *rng, uint64_t n)
{
  return n == 0 ? 0 : (cm_next(rng) >> 8) % n;
}

int
cm_chunk_reserve(cm_chunk_t *chunk, size_t cap)
{
  if (cap <= chunk->cap)
    return 0;
  size_t grown = chunk->cap < 64 ? 64 : chunk->cap;
  while (grown < cap)
    grown = grown > SIZE_MAX / 2 ? cap : grown * 2;
  unsigned char *data = realloc(chunk->data, grown);
  if (data == NULL)
    return -1;
  chunk->data = data;
  chunk->cap = grown;
  return 0;
}

int
cm_chunk_set(cm_chunk_t *chunk, const unsigned char *bytes, size_t length)
{
  if (cm_chunk_reserve(chunk, length) != 0)
    return -1;
  if (length > 0)
    memcpy(chunk->data, bytes, length);
  chunk->len = length;
  return 0;
}

int
cm_chunk_insert(cm_chunk_t *chunk, size_t at, const unsigned char *bytes, size_t length)
{
  if (cm_chunk_reserve(chunk, chunk->len + length) != 0)
    return -1;
  memmove(chunk->data + at + length, chunk->data + at, chunk->len - at);
  memcpy(chunk->data + at, bytes, length);
  chunk->len += length;
  return 0;
}

void
cm_chunk_erase(cm_chunk_t *chunk, size_t at, size_t length)
{
  memmove(chunk->data + at, chunk->data + at + length, chunk->len - at - length);
  chunk->len -= length;
}

static int
reserve_chunks(cm_doc_t *doc, uint32_t count)
{
  if (count <= doc->cap_chunks)
    return 0;
  uint32_t grown = doc->cap_chunks < 8 ? 8 : doc->cap_chunks;
  while (grown < count)
    grown *= 2;
  cm_chunk_t *chunks = realloc(doc->chunks, (size_t)grown * sizeof *chunks);
  if (chunks == NULL)
    return -1;
  memset(chunks + doc->cap_chunks, 0, (size_t)(grown - doc->cap_chunks) * sizeof *chunks);
  doc->chunks = chunks;
  doc->cap_chunks = grown;
  return 0;
}

int
cm_doc_load(cm_doc_t *doc, const unsigned char *bytes, size_t length)
{
  comux_doc_t parsed;
  char error[160];
  if (bytes == NULL || comux_parse(bytes, length, &parsed, error, sizeof error) != 0)
    return -1;
  int status = reserve_chunks(doc, parsed.num_chunks);
  doc->num_conns = parsed.num_conns;
  doc->num_chunks = 0;
  for (uint32_t i = 0; i < parsed.num_chunks && status == 0; i++) {
    const comux_chunk_t *from = &parsed.chunks[i];
    cm_chunk_t *to = &doc->chunks[i];
    status = cm_chunk_set(to, from->data, from->len);
    to->conn = from->conn;
    to->sched = from->sched;
    to->flags = from->flags;
    doc->num_chunks = i + 1;
  }
  comux_free(&parsed);
  if (status != 0) {
    doc->num_conns = doc->num_chunks = 0;
    return -1;
  }
  return 0;
}

void
cm_doc_free(cm_doc_t *doc)
{
  for (uint32_t i = 0; i < doc->cap_chunks; i++)
    free(doc->chunks[i].data);
  free(doc->chunks);
  memset(doc, 0, sizeof *doc);
}

size_t
cm_doc_size(const cm_doc_t *doc)
{
  size_t size = CM_HEADER;
  for (uint32_t i = 0; i < doc->num_chunks; i++)
    size += CM_CHUNK_HEADER + doc->chunks[i].len;
  return size;
}

static unsigned char *
put_u32(unsigned char *p, uint32_t value)
{
  p[0] = (unsigned char)value;
  p[1] = (unsigned char)(value >> 8);
  p[2] = (unsigned char)(value >> 16);
  p[3] = (unsigned char)(value >> 24);
  return p + 4;
}

void
cm_doc_write(const cm_doc_t *doc, unsigned char *out)
{
  memcpy(out, magic, sizeof magic);
  unsigned char *p = put_u32(out + sizeof magic, 0);
  p = put_u32(p, doc->num_conns);
  p = put_u32(p, doc->num_chunks);
  for (uint32_t i = 0; i < doc->num_chunks; i++) {
    const cm_chunk_t *chunk = &doc->chunks[i];
    uint64_t len = chunk->len;
    p = put_u32(p, chunk->conn);
    p = put_u32(p, (uint32_t)len);
    p = put_u32(p, (uint32_t)(len >> 32));
    p = put_u32(p, chunk->sched);
    p = put_u32(p, chunk->flags);
    if (chunk->len > 0)
      memcpy(p, chunk->data, chunk->len);
    p += chunk->len;
  }
}

cm_chunk_t *
cm_doc_insert(cm_doc_t *doc, uint32_t index)
{
  if (doc->num_chunks >= COMUX_MAX_CHUNKS || reserve_chunks(doc, doc->num_chunks + 1) != 0)
    return NULL;
  cm_chunk_t spare = doc->chunks[doc->num_chunks];
  memmove(doc->chunks + index + 1, doc->chunks + index, (size_t)(doc->num_chunks - index) * sizeof spare);
  spare.len = 0;
  spare.conn = spare.sched = spare.flags = 0;
  doc->chunks[index] = spare;
  doc->num_chunks++;
  return &doc->chunks[index];
}

void
cm_doc_remove(cm_doc_t *doc, uint32_t index)
{
  cm_chunk_t removed = doc->chunks[index];
  memmove(doc->chunks + index, doc->chunks + index + 1, (size_t)(doc->num_chunks - index - 1) * sizeof removed);
  doc->num_chunks--;
  doc->chunks[doc->num_chunks] = removed;
}

void
cm_doc_drop_conn_id(cm_doc_t *doc, uint32_t conn)
{
  for (uint32_t i = 0; i < doc->num_chunks; i++)
    if (doc->chunks[i].conn > conn)
      doc->chunks[i].conn--;
  doc->num_conns--;
}

void
cm_doc_remove_conn(cm_doc_t *doc, uint32_t conn)
{
  for (uint32_t i = doc->num_chunks; i-- > 0;)
    if (doc->chunks[i].conn == conn)
      cm_doc_remove(doc, i);
  cm_doc_drop_conn_id(doc, conn);
}

uint32_t
cm_doc_conn_chunks(const cm_doc_t *doc, uint32_t conn)
{
  uint32_t count = 0;
  for (uint32_t i = 0; i < doc->num_chunks; i++)
    count += doc->chunks[i].conn == conn;
  return count;
}

int
cm_doc_wrap(cm_doc_t *doc, const unsigned char *bytes, size_t length, size_t max_size)
{
  doc->num_conns = doc->num_chunks = 0;
  if (max_size < CM_HEADER + CM_CHUNK_HEADER)
    return 0;
  size_t fits = max_size - CM_HEADER - CM_CHUNK_HEADER;
  if (fits > COMUX_MAX_CHUNK_LEN)
    fits = COMUX_MAX_CHUNK_LEN;
  cm_chunk_t *chunk = cm_doc_insert(doc, 0);
  if (chunk == NULL || cm_chunk_set(chunk, bytes, length < fits ? length : fits) != 0) {
    doc->num_chunks = 0;
    return -1;
  }
  chunk->flags = COMUX_AWAIT_RESPONSE;
  doc->num_conns = 1;
  return 0;
}

/* Keeps the chunks that `keep` accepts, in file order; the others' slots
 * (and buffers) go past num_chunks. */
static void
compact(cm_doc_t *doc, int (*keep)(const cm_chunk_t *chunk, uint32_t limit), uint32_t limit)
{
  uint32_t kept = 0;
  for (uint32_t i = 0; i < doc->num_chunks; i++) {
    if (!keep(&doc->chunks[i], limit))
      continue;
    cm_chunk_t swap = doc->chunks[kept];
    doc->chunks[kept++] = doc->chunks[i];
    doc->chunks[i] = swap;
  }
  doc->num_chunks = kept;
}

static int
unmarked(const cm_chunk_t *chunk, uint32_t limit)
{
  (void)limit;
  return chunk->conn != UINT32_MAX;
}

static int
below_limit(const cm_chunk_t *chunk, uint32_t limit)
{
  return chunk->conn < limit;
}

/* Removes chunks of connections that keep another one, from the last, while
 * the size is over max_size; -1 when out of memory. */
static int
drop_extra_chunks(cm_doc_t *doc, size_t *size, size_t max_size)
{
  uint32_t *counts = calloc(doc->num_conns ? doc->num_conns : 1, sizeof *counts);
  if (counts == NULL)
    return -1;
  for (uint32_t i = 0; i < doc->num_chunks; i++)
    counts[doc->chunks[i].conn]++;
  for (uint32_t i = doc->num_chunks; i-- > 0 && *size > max_size;) {
    cm_chunk_t *chunk = &doc->chunks[i];
    if (counts[chunk->conn] > 1) {
      counts[chunk->conn]--;
      chunk->conn = UINT32_MAX;
      *size -= CM_CHUNK_HEADER;
    }
  }
  free(counts);
  compact(doc, unmarked, 0);
  return 0;
}

void
cm_doc_shrink(cm_doc_t *doc, size_t max_size)
{
  size_t size = cm_doc_size(doc);
  if (size <= max_size)
    return;
  uint32_t largest = 0;
  for (uint32_t i = 1; i < doc->num_chunks; i++)
    if (doc->chunks[i].len > doc->chunks[largest].len)
      largest = i;
  /* The largest chunk first, then from the last chunk back. */
  for (uint32_t k = 0; k <= doc->num_chunks && size > max_size; k++) {
    uint32_t i = k == 0 ? largest : doc->num_chunks - k;
    if (i >= doc->num_chunks)
      continue;
    cm_chunk_t *chunk = &doc->chunks[i];
    size_t cut = size - max_size < chunk->len ? size - max_size : chunk->len;
    chunk->len -= cut;
    size -= cut;
  }
  if (size > max_size && drop_extra_chunks(doc, &size, max_size) != 0) {
    doc->num_conns = doc->num_chunks = 0;
    return;
  }
  if (size > max_size) {
    /* Every connection has one empty chunk left: keep the first ones that fit. */
    uint32_t keep = (uint32_t)((max_size - CM_HEADER) / CM_CHUNK_HEADER);
    compact(doc, below_limit, keep);
    doc->num_conns = keep;
  }
}
