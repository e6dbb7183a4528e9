/* Mutations of the document's structure (mutator.h): split, merge, duplicate
 * and drop chunks, reorder them (sched), move them between connections, add
 * and remove connections, change flags. Each keeps every connection with a
 * chunk and the connection ids dense. */
#include <string.h>

#include "mutator.h"

unsigned char *
cm_scratch(cm_ctx_t *ctx, size_t size)
{
  if (size > *ctx->scratch_cap) {
    cm_chunk_t holder = {0, 0, 0, *ctx->scratch, 0, *ctx->scratch_cap};
    if (cm_chunk_reserve(&holder, size) != 0)
      return NULL;
    *ctx->scratch = holder.data;
    *ctx->scratch_cap = holder.cap;
  }
  return *ctx->scratch;
}

/* A random stretch of [bytes, bytes+length) of at most `limit` bytes, copied to scratch. */
static const unsigned char *
stretch(cm_ctx_t *ctx, const unsigned char *bytes, size_t length, size_t limit, size_t *out_length)
{
  if (length == 0 || limit == 0)
    return NULL;
  size_t count = 1 + (size_t)cm_below(ctx->rng, length < limit ? length : limit);
  size_t from = cm_below(ctx->rng, length - count + 1);
  unsigned char *copy = cm_scratch(ctx, count);
  if (copy == NULL)
    return NULL;
  memcpy(copy, bytes + from, count);
  *out_length = count;
  return copy;
}

const unsigned char *
cm_splice_source(cm_ctx_t *ctx, size_t limit, size_t *length)
{
  if (ctx->add != NULL && ctx->add->num_chunks > 0) {
    const comux_chunk_t *chunk = &ctx->add->chunks[cm_below(ctx->rng, ctx->add->num_chunks)];
    return stretch(ctx, chunk->data, chunk->len, limit, length);
  }
  if (ctx->add_raw != NULL)
    return stretch(ctx, ctx->add_raw, ctx->add_raw_len, limit, length);
  if (ctx->doc->num_chunks == 0)
    return NULL;
  const cm_chunk_t *chunk = &ctx->doc->chunks[cm_below(ctx->rng, ctx->doc->num_chunks)];
  return stretch(ctx, chunk->data, chunk->len, limit, length);
}

/* A random chunk index whose connection has at least `min_count` chunks, or num_chunks. */
static uint32_t
pick_with(cm_ctx_t *ctx, uint32_t min_count)
{
  uint32_t n = ctx->doc->num_chunks;
  if (n == 0)
    return 0;
  uint32_t start = (uint32_t)cm_below(ctx->rng, n);
  for (uint32_t k = 0; k < n && k < 64; k++) {
    uint32_t i = (start + k) % n;
    if (cm_doc_conn_chunks(ctx->doc, ctx->doc->chunks[i].conn) >= min_count)
      return i;
  }
  return n;
}

static int
split_chunk(cm_ctx_t *ctx)
{
  cm_doc_t *doc = ctx->doc;
  uint32_t i = (uint32_t)cm_below(ctx->rng, doc->num_chunks);
  if (doc->num_chunks == 0 || doc->chunks[i].len < 2 || cm_room(ctx) < CM_CHUNK_HEADER)
    return 0;
  cm_chunk_t *second = cm_doc_insert(doc, i + 1);
  if (second == NULL)
    return 0;
  cm_chunk_t *first = &doc->chunks[i];
  size_t at = 1 + (size_t)cm_below(ctx->rng, first->len - 1);
  if (cm_chunk_set(second, first->data + at, first->len - at) != 0) {
    cm_doc_remove(doc, i + 1);
    return 0;
  }
  first->len = at;
  second->conn = first->conn;
  second->sched = first->sched; /* equal sched: sent right after the first part */
  second->flags = first->flags;
  if (cm_below(ctx->rng, 2))
    first->flags &= ~COMUX_AWAIT_RESPONSE;
  return 1;
}

/* Appends the next chunk of the same connection (in file order) to a chunk. */
static int
merge_chunks(cm_ctx_t *ctx)
{
  cm_doc_t *doc = ctx->doc;
  uint32_t i = pick_with(ctx, 2);
  if (i >= doc->num_chunks)
    return 0;
  uint32_t j = i + 1;
  while (j < doc->num_chunks && doc->chunks[j].conn != doc->chunks[i].conn)
    j++;
  if (j == doc->num_chunks) {
    /* The last of its connection: merge it into the one before instead. */
    j = i;
    do
      j--;
    while (doc->chunks[j].conn != doc->chunks[i].conn);
    uint32_t swap = i;
    i = j;
    j = swap;
  }
  if (doc->chunks[i].len + doc->chunks[j].len > COMUX_MAX_CHUNK_LEN ||
      cm_chunk_insert(&doc->chunks[i], doc->chunks[i].len, doc->chunks[j].data, doc->chunks[j].len) != 0)
    return 0;
  doc->chunks[i].flags = doc->chunks[j].flags;
  cm_doc_remove(doc, j);
  return 1;
}

/* Swaps two chunks' sched values, or their file places when the values are equal. */
static int
swap_chunks(cm_ctx_t *ctx)
{
  cm_doc_t *doc = ctx->doc;
  if (doc->num_chunks < 2)
    return 0;
  uint32_t a = (uint32_t)cm_below(ctx->rng, doc->num_chunks);
  uint32_t b = (a + 1 + (uint32_t)cm_below(ctx->rng, doc->num_chunks - 1)) % doc->num_chunks;
  if (cm_below(ctx->rng, 2))
    b = a + 1 < doc->num_chunks ? a + 1 : a - 1;
  uint32_t sched = doc->chunks[a].sched;
  if (sched != doc->chunks[b].sched) {
    doc->chunks[a].sched = doc->chunks[b].sched;
    doc->chunks[b].sched = sched;
  } else {
    cm_chunk_t swap = doc->chunks[a];
    doc->chunks[a] = doc->chunks[b];
    doc->chunks[b] = swap;
  }
  return 1;
}

static int
change_sched(cm_ctx_t *ctx)
{
  cm_doc_t *doc = ctx->doc;
  if (doc->num_chunks == 0)
    return 0;
  cm_chunk_t *chunk = &doc->chunks[cm_below(ctx->rng, doc->num_chunks)];
  uint32_t other = doc->chunks[cm_below(ctx->rng, doc->num_chunks)].sched;
  uint32_t before = chunk->sched;
  switch (cm_below(ctx->rng, 5)) {
  case 0: chunk->sched = other; break;
  case 1: chunk->sched = other + 1; break;
  case 2: chunk->sched = other - 1; break;
  case 3: chunk->sched = (uint32_t)cm_below(ctx->rng, 2) ? 0 : UINT32_MAX; break;
  default: chunk->sched = (uint32_t)cm_next(ctx->rng); break;
  }
  return chunk->sched != before;
}

static int
change_flags(cm_ctx_t *ctx)
{
  cm_doc_t *doc = ctx->doc;
  if (doc->num_chunks == 0)
    return 0;
  doc->chunks[cm_below(ctx->rng, doc->num_chunks)].flags ^= 1 + (uint32_t)cm_below(ctx->rng, CM_FLAGS);
  return 1;
}

/* Moves a chunk to another connection, or swaps two chunks' connections. */
static int
move_chunk(cm_ctx_t *ctx)
{
  cm_doc_t *doc = ctx->doc;
  if (doc->num_conns < 2)
    return 0;
  if (cm_below(ctx->rng, 2)) {
    uint32_t a = (uint32_t)cm_below(ctx->rng, doc->num_chunks);
    uint32_t b = (uint32_t)cm_below(ctx->rng, doc->num_chunks);
    uint32_t conn = doc->chunks[a].conn;
    doc->chunks[a].conn = doc->chunks[b].conn;
    doc->chunks[b].conn = conn;
    return conn != doc->chunks[a].conn;
  }
  uint32_t i = pick_with(ctx, 2);
  if (i >= doc->num_chunks)
    return 0;
  uint32_t conn = doc->chunks[i].conn;
  doc->chunks[i].conn = (conn + 1 + (uint32_t)cm_below(ctx->rng, doc->num_conns - 1)) % doc->num_conns;
  return 1;
}

/* A new connection: an existing chunk moved to it, or a new chunk (a copy of
 * some chunk's data or of add_buf's) at a random place. */
int
cm_add_connection(cm_ctx_t *ctx)
{
  cm_doc_t *doc = ctx->doc;
  if (doc->num_conns >= COMUX_MAX_CONNS)
    return 0;
  uint32_t i = pick_with(ctx, 2);
  if (i < doc->num_chunks && cm_below(ctx->rng, 3) == 0) {
    doc->chunks[i].conn = doc->num_conns++;
    return 1;
  }
  size_t room = cm_room(ctx);
  if (room < CM_CHUNK_HEADER)
    return 0;
  size_t length = 0, limit = room - CM_CHUNK_HEADER;
  const unsigned char *bytes = cm_splice_source(ctx, limit < COMUX_MAX_CHUNK_LEN ? limit : COMUX_MAX_CHUNK_LEN,
                                                &length);
  uint32_t at = (uint32_t)cm_below(ctx->rng, doc->num_chunks + 1);
  uint32_t sched = doc->num_chunks == 0 ? 0 : doc->chunks[cm_below(ctx->rng, doc->num_chunks)].sched;
  cm_chunk_t *chunk = cm_doc_insert(doc, at);
  if (chunk == NULL)
    return 0;
  if (bytes != NULL && cm_chunk_set(chunk, bytes, length) != 0)
    chunk->len = 0;
  chunk->conn = doc->num_conns++;
  chunk->sched = sched + (uint32_t)cm_below(ctx->rng, 2);
  chunk->flags = (uint32_t)cm_below(ctx->rng, CM_FLAGS + 1);
  return 1;
}

/* Removes a connection with its chunks, or hands its chunks to another one. */
static int
remove_connection(cm_ctx_t *ctx)
{
  cm_doc_t *doc = ctx->doc;
  if (doc->num_conns < 2)
    return 0;
  uint32_t conn = (uint32_t)cm_below(ctx->rng, doc->num_conns);
  if (cm_below(ctx->rng, 2)) {
    cm_doc_remove_conn(doc, conn);
    return 1;
  }
  uint32_t heir = (conn + 1 + (uint32_t)cm_below(ctx->rng, doc->num_conns - 1)) % doc->num_conns;
  for (uint32_t i = 0; i < doc->num_chunks; i++)
    if (doc->chunks[i].conn == conn)
      doc->chunks[i].conn = heir;
  cm_doc_drop_conn_id(doc, conn);
  return 1;
}

/* Sends a chunk twice: a copy right after it, or at a random place. */
static int
duplicate_chunk(cm_ctx_t *ctx)
{
  cm_doc_t *doc = ctx->doc;
  if (doc->num_chunks == 0)
    return 0;
  uint32_t i = (uint32_t)cm_below(ctx->rng, doc->num_chunks);
  if (cm_room(ctx) < CM_CHUNK_HEADER + doc->chunks[i].len)
    return 0;
  uint32_t at = cm_below(ctx->rng, 2) ? i + 1 : (uint32_t)cm_below(ctx->rng, doc->num_chunks + 1);
  cm_chunk_t *copy = cm_doc_insert(doc, at);
  if (copy == NULL)
    return 0;
  const cm_chunk_t *original = &doc->chunks[at <= i ? i + 1 : i];
  if (cm_chunk_set(copy, original->data, original->len) != 0) {
    cm_doc_remove(doc, at);
    return 0;
  }
  copy->conn = original->conn;
  copy->sched = original->sched;
  copy->flags = original->flags;
  return 1;
}

static int
drop_chunk(cm_ctx_t *ctx)
{
  uint32_t i = pick_with(ctx, 2);
  if (i >= ctx->doc->num_chunks)
    return 0;
  cm_doc_remove(ctx->doc, i);
  return 1;
}

const cm_mutation_t cm_chunk_mutations[] = {
    {"split", split_chunk, 4},          {"merge", merge_chunks, 3},
    {"swap", swap_chunks, 3},           {"sched", change_sched, 2},
    {"flags", change_flags, 2},         {"move", move_chunk, 3},
    {"add-conn", cm_add_connection, 2}, {"remove-conn", remove_connection, 2},
    {"dup-chunk", duplicate_chunk, 2},  {"drop-chunk", drop_chunk, 2},
};
const size_t cm_chunk_mutation_count = sizeof cm_chunk_mutations / sizeof cm_chunk_mutations[0];
