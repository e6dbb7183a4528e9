/* Mutations of one chunk's data (mutator.h): bit flips, byte sets, arithmetic,
 * interesting values, protocol tokens, inserts, deletes, duplicated ranges and
 * splices from add_buf. They never touch the document's structure, and grow a
 * chunk only within cm_room(). */
#include <string.h>

#include "mutator.h"

static const int8_t interesting8[] = {-128, -1, 0, 1, 16, 32, 64, 100, 127};
static const int16_t interesting16[] = {-32768, -129, 128, 255, 256, 512, 1000, 1024, 4096, 32767};
static const int32_t interesting32[] = {INT32_MIN, -100663046, -32769, 32768, 65535, 65536, 100663045, INT32_MAX};

/* Text that network protocols split on or count with. */
static const char *const tokens[] = {
    "\r\n",
    "\r\n\r\n",
    "\n",
    " ",
    ":",
    "/",
    "?",
    "&",
    "=",
    "%",
    "%00",
    "%25",
    "..",
    "../",
    "\0",
    "\t",
    ";",
    ",",
    "-1",
    "0",
    "4294967295",
    "18446744073709551616",
    "99999999999999999999",
    "Content-Length: ",
    "chunked",
};

size_t
cm_room(const cm_ctx_t *ctx)
{
  size_t size = cm_doc_size(ctx->doc);
  return size < ctx->max_size ? ctx->max_size - size : 0;
}

static cm_chunk_t *
pick_chunk(cm_ctx_t *ctx)
{
  if (ctx->doc->num_chunks == 0)
    return NULL;
  return &ctx->doc->chunks[cm_below(ctx->rng, ctx->doc->num_chunks)];
}

/* How many bytes an insert may add to `chunk`: at most `limit`, the room
 * left and the chunk limit. */
static size_t
growth(cm_ctx_t *ctx, const cm_chunk_t *chunk, size_t limit)
{
  size_t room = cm_room(ctx);
  if (room < limit)
    limit = room;
  if (COMUX_MAX_CHUNK_LEN - chunk->len < limit)
    limit = (size_t)(COMUX_MAX_CHUNK_LEN - chunk->len);
  return limit;
}

/* A length in [1, limit], small ones more likely; limit >= 1. */
static size_t
some_length(cm_ctx_t *ctx, size_t limit)
{
  size_t cap = cm_below(ctx->rng, 4) == 0 ? 1024 : cm_below(ctx->rng, 2) == 0 ? 64 : 8;
  return 1 + (size_t)cm_below(ctx->rng, limit < cap ? limit : cap);
}

static int
flip_bit(cm_ctx_t *ctx)
{
  cm_chunk_t *chunk = pick_chunk(ctx);
  if (chunk == NULL || chunk->len == 0)
    return 0;
  chunk->data[cm_below(ctx->rng, chunk->len)] ^= (unsigned char)(1u << cm_below(ctx->rng, 8));
  return 1;
}

/* Whether most of a chunk's first 64 bytes are printable ASCII or line ends. */
static int
printable(const cm_chunk_t *chunk)
{
  size_t length = chunk->len < 64 ? chunk->len : 64, text = 0;
  for (size_t i = 0; i < length; i++)
    text += (chunk->data[i] >= ' ' && chunk->data[i] <= '~') || chunk->data[i] == '\r' || chunk->data[i] == '\n';
  return text * 8 >= length * 7;
}

static int
set_byte(cm_ctx_t *ctx)
{
  cm_chunk_t *chunk = pick_chunk(ctx);
  if (chunk == NULL || chunk->len == 0)
    return 0;
  unsigned char *byte = &chunk->data[cm_below(ctx->rng, chunk->len)];
  /* Text protocols (HTTP, SMTP, ...) are where comux is used most: in a
   * printable chunk, three changes in four give a printable byte. */
  if (printable(chunk) && cm_below(ctx->rng, 4) != 0) {
    unsigned char value = (unsigned char)(' ' + cm_below(ctx->rng, 95));
    *byte = value != *byte ? value : (unsigned char)(value == '~' ? ' ' : value + 1);
  } else
    *byte ^= (unsigned char)(1 + cm_below(ctx->rng, 255));
  return 1;
}

static int
arith_byte(cm_ctx_t *ctx)
{
  cm_chunk_t *chunk = pick_chunk(ctx);
  if (chunk == NULL || chunk->len == 0)
    return 0;
  unsigned delta = 1 + (unsigned)cm_below(ctx->rng, 35);
  unsigned char *byte = &chunk->data[cm_below(ctx->rng, chunk->len)];
  *byte = (unsigned char)(cm_below(ctx->rng, 2) ? *byte + delta : *byte - delta);
  return 1;
}

static int
interesting(cm_ctx_t *ctx)
{
  cm_chunk_t *chunk = pick_chunk(ctx);
  if (chunk == NULL || chunk->len == 0)
    return 0;
  size_t width = (size_t)1 << cm_below(ctx->rng, 3);
  if (width > chunk->len)
    width = 1;
  uint32_t value;
  if (width == 1)
    value = (uint32_t)(int32_t)interesting8[cm_below(ctx->rng, sizeof interesting8)];
  else if (width == 2)
    value = (uint32_t)(int32_t)interesting16[cm_below(ctx->rng, sizeof interesting16 / sizeof interesting16[0])];
  else
    value = (uint32_t)interesting32[cm_below(ctx->rng, sizeof interesting32 / sizeof interesting32[0])];
  int big_endian = (int)cm_below(ctx->rng, 2);
  size_t at = cm_below(ctx->rng, chunk->len - width + 1);
  for (size_t k = 0; k < width; k++)
    chunk->data[at + k] = (unsigned char)(value >> (8 * (big_endian ? width - 1 - k : k)));
  return 1;
}

static int
insert_bytes(cm_ctx_t *ctx)
{
  cm_chunk_t *chunk = pick_chunk(ctx);
  size_t limit = chunk == NULL ? 0 : growth(ctx, chunk, 4096);
  if (limit == 0)
    return 0;
  size_t count = some_length(ctx, limit);
  unsigned char *bytes = cm_scratch(ctx, count);
  if (bytes == NULL)
    return 0;
  if (cm_below(ctx->rng, 2)) {
    memset(bytes,
           chunk->len > 0 && cm_below(ctx->rng, 2) ? chunk->data[cm_below(ctx->rng, chunk->len)]
                                                   : (int)cm_below(ctx->rng, 256),
           count);
  } else {
    for (size_t k = 0; k < count; k++)
      bytes[k] = (unsigned char)cm_next(ctx->rng);
  }
  return cm_chunk_insert(chunk, cm_below(ctx->rng, chunk->len + 1), bytes, count) == 0;
}

static int
delete_bytes(cm_ctx_t *ctx)
{
  cm_chunk_t *chunk = pick_chunk(ctx);
  if (chunk == NULL || chunk->len == 0)
    return 0;
  size_t count = some_length(ctx, chunk->len);
  cm_chunk_erase(chunk, cm_below(ctx->rng, chunk->len - count + 1), count);
  return 1;
}

/* Copies a range of the chunk to another place in it, inserted or over the bytes there. */
static int
duplicate_range(cm_ctx_t *ctx)
{
  cm_chunk_t *chunk = pick_chunk(ctx);
  if (chunk == NULL || chunk->len == 0)
    return 0;
  int insert = (int)cm_below(ctx->rng, 2);
  size_t limit = insert ? growth(ctx, chunk, chunk->len) : chunk->len;
  if (limit == 0)
    return 0;
  size_t count = some_length(ctx, limit);
  size_t from = cm_below(ctx->rng, chunk->len - count + 1);
  unsigned char *bytes = cm_scratch(ctx, count);
  if (bytes == NULL)
    return 0;
  memcpy(bytes, chunk->data + from, count);
  if (insert)
    return cm_chunk_insert(chunk, cm_below(ctx->rng, chunk->len + 1), bytes, count) == 0;
  memcpy(chunk->data + cm_below(ctx->rng, chunk->len - count + 1), bytes, count);
  return 1;
}

static int
insert_token(cm_ctx_t *ctx)
{
  cm_chunk_t *chunk = pick_chunk(ctx);
  if (chunk == NULL)
    return 0;
  const char *token = tokens[cm_below(ctx->rng, sizeof tokens / sizeof tokens[0])];
  size_t length = token[0] == '\0' ? 1 : strlen(token);
  size_t at = cm_below(ctx->rng, chunk->len + 1);
  if (chunk->len - at >= length && cm_below(ctx->rng, 2)) {
    memcpy(chunk->data + at, token, length);
    return 1;
  }
  if (growth(ctx, chunk, length) < length)
    return 0;
  return cm_chunk_insert(chunk, at, (const unsigned char *)token, length) == 0;
}

/* Replaces the chunk's tail, or inserts into it, a stretch of other data. */
static int
splice(cm_ctx_t *ctx)
{
  cm_chunk_t *chunk = pick_chunk(ctx);
  if (chunk == NULL)
    return 0;
  size_t at = cm_below(ctx->rng, chunk->len + 1);
  int replace_tail = (int)cm_below(ctx->rng, 2);
  size_t limit = growth(ctx, chunk, 1 << 16) + (replace_tail ? chunk->len - at : 0);
  size_t length;
  const unsigned char *bytes = limit == 0 ? NULL : cm_splice_source(ctx, limit, &length);
  if (bytes == NULL || length == 0)
    return 0;
  if (replace_tail)
    chunk->len = at;
  return cm_chunk_insert(chunk, at, bytes, length) == 0;
}

const cm_mutation_t cm_data_mutations[] = {
    {"flip", flip_bit, 6},
    {"byte", set_byte, 10},
    {"arith", arith_byte, 4},
    {"interesting", interesting, 4},
    {"insert", insert_bytes, 4},
    {"delete", delete_bytes, 5},
    {"duplicate", duplicate_range, 4},
    {"token", insert_token, 4},
    {"splice", splice, 4},
};
const size_t cm_data_mutation_count = sizeof cm_data_mutations / sizeof cm_data_mutations[0];
