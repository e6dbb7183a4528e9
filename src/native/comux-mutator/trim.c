/* Trimming that keeps files valid (mutator.h). Three passes over the accepted
 * input: remove each chunk, from the last (with its connection when it is the
 * connection's only chunk, never the last connection); then for each chunk,
 * cut the second half of its data, or else the first half, again while that
 * keeps the coverage. Every candidate is a whole valid comux file. */
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

#define CM_TRIM_MAX_STEPS 1024

enum { REMOVE, CUT_TAIL, CUT_HEAD, DONE };

static int
keep_bytes(unsigned char **buffer, size_t *cap, const unsigned char *bytes, size_t length)
{
  cm_chunk_t holder = {0, 0, 0, *buffer, 0, *cap};
  if (cm_chunk_set(&holder, bytes, length) != 0)
    return -1;
  *buffer = holder.data;
  *cap = holder.cap;
  return 0;
}

/* Moves (phase, pos) to the next step that applies to trim->doc; 0 when none is left.
 * In the REMOVE phase, pos counts the chunks left to try: the chunk is pos - 1. */
static int
find_step(cm_trim_t *trim)
{
  const cm_doc_t *doc = &trim->doc;
  while (trim->phase != DONE) {
    if (trim->phase == REMOVE) {
      if (trim->pos == 0) {
        trim->phase = CUT_TAIL;
        continue;
      }
      const cm_chunk_t *chunk = &doc->chunks[trim->pos - 1];
      if (doc->num_conns > 1 || cm_doc_conn_chunks(doc, chunk->conn) > 1)
        return 1;
      trim->pos--;
      continue;
    }
    if (trim->pos >= doc->num_chunks) {
      trim->phase = DONE;
      break;
    }
    size_t len = doc->chunks[trim->pos].len;
    if (len >= (trim->phase == CUT_TAIL ? 1u : 2u))
      return 1;
    trim->phase = CUT_TAIL;
    trim->pos++;
  }
  return 0;
}

static unsigned
bit_length(size_t value)
{
  unsigned bits = 0;
  for (; value != 0; value >>= 1)
    bits++;
  return bits;
}

int32_t
cm_trim_init(cm_trim_t *trim, const unsigned char *bytes, size_t length)
{
  trim->phase = DONE;
  trim->steps = trim->max_steps = 0;
  trim->candidate_len = 0;
  if (keep_bytes(&trim->current, &trim->current_cap, bytes, length) != 0)
    return 0;
  trim->current_len = length;
  if (cm_doc_load(&trim->doc, trim->current, trim->current_len) != 0)
    return 0;
  uint64_t bound = trim->doc.num_chunks;
  for (uint32_t i = 0; i < trim->doc.num_chunks && bound < CM_TRIM_MAX_STEPS; i++)
    bound += 2 + bit_length(trim->doc.chunks[i].len);
  trim->max_steps = bound < CM_TRIM_MAX_STEPS ? (int32_t)bound : CM_TRIM_MAX_STEPS;
  trim->phase = REMOVE;
  trim->pos = trim->doc.num_chunks;
  if (!find_step(trim))
    trim->max_steps = 0;
  return trim->max_steps;
}

size_t
cm_trim_candidate(cm_trim_t *trim, unsigned char **out)
{
  cm_doc_t *doc = &trim->doc;
  if (trim->phase == REMOVE) {
    uint32_t index = trim->pos - 1;
    uint32_t conn = doc->chunks[index].conn;
    if (cm_doc_conn_chunks(doc, conn) > 1)
      cm_doc_remove(doc, index);
    else
      cm_doc_remove_conn(doc, conn);
  } else if (trim->phase == CUT_TAIL) {
    doc->chunks[trim->pos].len /= 2;
  } else if (trim->phase == CUT_HEAD) {
    cm_chunk_t *chunk = &doc->chunks[trim->pos];
    cm_chunk_erase(chunk, 0, chunk->len - chunk->len / 2);
  }
  size_t size = cm_doc_size(doc);
  cm_chunk_t holder = {0, 0, 0, trim->candidate, 0, trim->candidate_cap};
  if (cm_chunk_reserve(&holder, size) != 0) {
    /* Out of memory: offer the accepted input again, which cannot be worse. */
    *out = trim->current;
    return trim->current_len;
  }
  trim->candidate = holder.data;
  trim->candidate_cap = holder.cap;
  cm_doc_write(doc, trim->candidate);
  trim->candidate_len = size;
  *out = trim->candidate;
  return size;
}

int32_t
cm_trim_result(cm_trim_t *trim, int success)
{
  trim->steps++;
  if (success && trim->candidate_len > 0) {
    unsigned char *swap = trim->current;
    size_t cap = trim->current_cap;
    trim->current = trim->candidate;
    trim->current_cap = trim->candidate_cap;
    trim->current_len = trim->candidate_len;
    trim->candidate = swap;
    trim->candidate_cap = cap;
  }
  trim->candidate_len = 0;
  if (trim->phase == REMOVE) {
    trim->pos--;
  } else if (trim->phase == CUT_TAIL) {
    if (!success)
      trim->phase = CUT_HEAD;
  } else if (trim->phase == CUT_HEAD) {
    trim->phase = CUT_TAIL;
    if (!success)
      trim->pos++;
  }
  if (cm_doc_load(&trim->doc, trim->current, trim->current_len) != 0)
    trim->phase = DONE;
  if (trim->steps >= trim->max_steps || !find_step(trim))
    return trim->max_steps;
  return trim->steps;
}

void
cm_trim_free(cm_trim_t *trim)
{
  free(trim->current);
  free(trim->candidate);
  cm_doc_free(&trim->doc);
  memset(trim, 0, sizeof *trim);
}
