/*
 * pdi-comux-mutator.so: an AFL++ custom mutator for comux files
 * (docs/comux-mutator.md, the format in docs/comux.md). Every output is a
 * valid comux file that fits max_size: the input is parsed with the
 * comux-accept backend's own reader (comux.c), mutated as a document (chunk
 * data, chunk boundaries, schedule, flags, connections) and written again. An
 * input that is not comux is wrapped into a one-connection file, so a
 * campaign recovers from invalid seeds. Trimming removes whole chunks and
 * halves chunk data, and never offers an invalid file either.
 *
 *     AFL_CUSTOM_MUTATOR_LIBRARY=.../pdi-comux-mutator.so AFL_CUSTOM_MUTATOR_ONLY=1 afl-fuzz ...
 *
 * AFL_CUSTOM_MUTATOR_ONLY=1 is what keeps the inputs valid (≥95%, in
 * practice all of them): without it AFL++ also runs its own havoc and
 * splicing on the same queue, byte-level changes that break the headers of
 * most files they touch, and the target then rejects them (status 3).
 *
 * All state lives in the instance that afl_custom_init returns (AFL++ may
 * load several); the randomness is a xorshift64* seeded from `seed` alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

#define CM_EXPORT __attribute__((visibility("default")))
#define CM_MAX_STACK 6
#define CM_SOFT_MAX (64 * 1024)

typedef struct cm_state {
  cm_rng_t rng;
  cm_doc_t doc;
  unsigned char *out; /* the buffer afl_custom_fuzz returns */
  size_t out_cap;
  unsigned char *scratch;
  size_t scratch_cap;
  cm_trim_t trim;
  char description[96];
  char described[96];
} cm_state_t;

CM_EXPORT void *afl_custom_init(void *afl, unsigned int seed);
CM_EXPORT size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf, uint8_t *add_buf,
                                 size_t add_buf_size, size_t max_size);
CM_EXPORT const char *afl_custom_describe(void *data, size_t max_description_len);
CM_EXPORT int32_t afl_custom_init_trim(void *data, uint8_t *buf, size_t buf_size);
CM_EXPORT size_t afl_custom_trim(void *data, uint8_t **out_buf);
CM_EXPORT int32_t afl_custom_post_trim(void *data, uint8_t success);
CM_EXPORT void afl_custom_deinit(void *data);

void *
afl_custom_init(void *afl, unsigned int seed)
{
  (void)afl;
  cm_state_t *state = calloc(1, sizeof *state);
  if (state == NULL)
    return NULL;
  state->out_cap = 64 * 1024;
  state->out = malloc(state->out_cap);
  if (state->out == NULL) {
    free(state);
    return NULL;
  }
  cm_seed(&state->rng, seed);
  return state;
}

static void
note(cm_state_t *state, const char *name)
{
  size_t used = strlen(state->description);
  snprintf(state->description + used, sizeof state->description - used, "%s%s", used ? "+" : "", name);
}

static const cm_mutation_t *
pick_mutation(cm_rng_t *rng)
{
  unsigned total = 0;
  for (size_t i = 0; i < cm_data_mutation_count; i++)
    total += cm_data_mutations[i].weight;
  for (size_t i = 0; i < cm_chunk_mutation_count; i++)
    total += cm_chunk_mutations[i].weight;
  unsigned ticket = (unsigned)cm_below(rng, total);
  for (size_t i = 0; i < cm_data_mutation_count; i++) {
    if (ticket < cm_data_mutations[i].weight)
      return &cm_data_mutations[i];
    ticket -= cm_data_mutations[i].weight;
  }
  for (size_t i = 0; i < cm_chunk_mutation_count; i++) {
    if (ticket < cm_chunk_mutations[i].weight)
      return &cm_chunk_mutations[i];
    ticket -= cm_chunk_mutations[i].weight;
  }
  return &cm_data_mutations[0];
}

/* One mutation that applies (a few tries), noted in the description. */
static void
mutate_once(cm_state_t *state, cm_ctx_t *ctx)
{
  if (ctx->doc->num_chunks == 0) {
    if (cm_add_connection(ctx))
      note(state, "add-conn");
    return;
  }
  for (int attempt = 0; attempt < 8; attempt++) {
    const cm_mutation_t *mutation = pick_mutation(&state->rng);
    if (mutation->apply(ctx)) {
      note(state, mutation->name);
      return;
    }
  }
}

static int
reserve_out(cm_state_t *state, size_t size)
{
  cm_chunk_t holder = {0, 0, 0, state->out, 0, state->out_cap};
  if (cm_chunk_reserve(&holder, size) != 0)
    return -1;
  state->out = holder.data;
  state->out_cap = holder.cap;
  return 0;
}

size_t
afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf, uint8_t *add_buf, size_t add_buf_size,
                size_t max_size)
{
  cm_state_t *state = data;
  *out_buf = state->out;
  state->description[0] = '\0';
  if (max_size > COMUX_MAX_INPUT)
    max_size = COMUX_MAX_INPUT;
  if (max_size < CM_HEADER)
    return 0; /* no comux file is that small: AFL++ skips an empty result */
  int stack = 1;
  while (stack < CM_MAX_STACK && cm_below(&state->rng, 2))
    stack++;
  if (cm_doc_load(&state->doc, buf, buf_size) != 0) {
    if (cm_doc_wrap(&state->doc, buf, buf_size, max_size) != 0)
      return 0;
    note(state, "wrap");
    stack = (int)cm_below(&state->rng, 2);
  }
  comux_doc_t add;
  char error[160];
  int have_add = add_buf != NULL && add_buf_size > 0 &&
                 comux_parse(add_buf, add_buf_size, &add, error, sizeof error) == 0;
  /* Growth stops at twice the input (at least 64 KiB), so that outputs fed back do not only grow. */
  size_t soft_max = cm_doc_size(&state->doc) * 2;
  if (soft_max < CM_SOFT_MAX)
    soft_max = CM_SOFT_MAX;
  cm_ctx_t ctx = {.rng = &state->rng,
                  .doc = &state->doc,
                  .max_size = soft_max < max_size ? soft_max : max_size,
                  .add = have_add ? &add : NULL,
                  .add_raw = have_add ? NULL : add_buf,
                  .add_raw_len = add_buf_size,
                  .scratch = &state->scratch,
                  .scratch_cap = &state->scratch_cap};
  for (int k = 0; k < stack; k++)
    mutate_once(state, &ctx);
  if (have_add)
    comux_free(&add);
  cm_doc_shrink(&state->doc, max_size);
  size_t size = cm_doc_size(&state->doc);
  if (reserve_out(state, size) != 0)
    return 0;
  cm_doc_write(&state->doc, state->out);
  *out_buf = state->out;
  return size;
}

const char *
afl_custom_describe(void *data, size_t max_description_len)
{
  cm_state_t *state = data;
  size_t limit = max_description_len < sizeof state->described ? max_description_len : sizeof state->described - 1;
  const char *text = state->description[0] != '\0' ? state->description : "comux";
  snprintf(state->described, limit + 1, "%s", text);
  return state->described;
}

int32_t
afl_custom_init_trim(void *data, uint8_t *buf, size_t buf_size)
{
  cm_state_t *state = data;
  return cm_trim_init(&state->trim, buf, buf_size);
}

size_t
afl_custom_trim(void *data, uint8_t **out_buf)
{
  cm_state_t *state = data;
  return cm_trim_candidate(&state->trim, out_buf);
}

int32_t
afl_custom_post_trim(void *data, uint8_t success)
{
  cm_state_t *state = data;
  return cm_trim_result(&state->trim, success != 0);
}

void
afl_custom_deinit(void *data)
{
  cm_state_t *state = data;
  if (state == NULL)
    return;
  cm_doc_free(&state->doc);
  cm_trim_free(&state->trim);
  free(state->out);
  free(state->scratch);
  free(state);
}
