/* The comux mutator's inside (docs/comux-mutator.md): a comux file as an
 * editable document, a small PRNG, and the mutations. Every function here
 * keeps a document valid: each connection below num_conns has a chunk, flags
 * are AWAIT_RESPONSE|NO_SHUTDOWN only. Nothing here is exported from the
 * library (-fvisibility=hidden); comux-mutator.c holds the AFL++ entry points. */
#ifndef PDI_COMUX_MUTATOR_H
#define PDI_COMUX_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "../backends/comux-accept/comux.h"

#define CM_HEADER 20u
#define CM_CHUNK_HEADER 20u
#define CM_FLAGS (COMUX_AWAIT_RESPONSE | COMUX_NO_SHUTDOWN)

/* A chunk owns its data buffer (cap bytes); a removed chunk's slot keeps its
 * buffer past num_chunks, for the next insert to reuse. */
typedef struct cm_chunk {
  uint32_t conn;
  uint32_t sched;
  uint32_t flags;
  unsigned char *data;
  size_t len;
  size_t cap;
} cm_chunk_t;

typedef struct cm_doc {
  uint32_t num_conns;
  uint32_t num_chunks;
  uint32_t cap_chunks; /* slots allocated (and zeroed or owning a buffer) */
  cm_chunk_t *chunks;  /* file order */
} cm_doc_t;

/* xorshift64*, seeded through splitmix64: deterministic per instance. */
typedef struct cm_rng {
  uint64_t s;
} cm_rng_t;

void cm_seed(cm_rng_t *rng, uint64_t seed);
uint64_t cm_next(cm_rng_t *rng);
/* Uniform enough in [0, n); 0 when n is 0. */
uint64_t cm_below(cm_rng_t *rng, uint64_t n);

/* 0, or -1 when `bytes` is not a valid comux file (or out of memory). */
int cm_doc_load(cm_doc_t *doc, const unsigned char *bytes, size_t length);
void cm_doc_free(cm_doc_t *doc);
size_t cm_doc_size(const cm_doc_t *doc);
/* Writes cm_doc_size(doc) bytes. */
void cm_doc_write(const cm_doc_t *doc, unsigned char *out);
/* A new empty chunk slot at `index` (later chunks move up), or NULL. */
cm_chunk_t *cm_doc_insert(cm_doc_t *doc, uint32_t index);
void cm_doc_remove(cm_doc_t *doc, uint32_t index);
/* Removes connection `conn`'s chunks and renumbers the connections above it. */
void cm_doc_remove_conn(cm_doc_t *doc, uint32_t conn);
/* Renumbers the connections above `conn` down by one; `conn` must have no chunk left. */
void cm_doc_drop_conn_id(cm_doc_t *doc, uint32_t conn);
uint32_t cm_doc_conn_chunks(const cm_doc_t *doc, uint32_t conn);
/* A one-connection document carrying `bytes` (cut to fit max_size) in one
 * AWAIT_RESPONSE chunk; an empty document when even that does not fit. */
int cm_doc_wrap(cm_doc_t *doc, const unsigned char *bytes, size_t length, size_t max_size);
/* Cuts data, then chunks, then connections until the document fits max_size (>= CM_HEADER). */
void cm_doc_shrink(cm_doc_t *doc, size_t max_size);

int cm_chunk_reserve(cm_chunk_t *chunk, size_t cap);
/* Replaces the data; `bytes` must not point into the chunk itself. */
int cm_chunk_set(cm_chunk_t *chunk, const unsigned char *bytes, size_t length);
/* Inserts `length` bytes at `at`; `bytes` must not point into the chunk itself. */
int cm_chunk_insert(cm_chunk_t *chunk, size_t at, const unsigned char *bytes, size_t length);
void cm_chunk_erase(cm_chunk_t *chunk, size_t at, size_t length);

/* What one fuzz call mutates, and with what. */
typedef struct cm_ctx {
  cm_rng_t *rng;
  cm_doc_t *doc;
  size_t max_size;              /* what the document may grow to: a soft limit, never above AFL++'s max_size */
  const comux_doc_t *add;       /* add_buf as comux, or NULL */
  const unsigned char *add_raw; /* add_buf when it is not comux, or NULL */
  size_t add_raw_len;
  unsigned char **scratch; /* a buffer of the state, grown on demand */
  size_t *scratch_cap;
} cm_ctx_t;

/* Bytes the document may still grow by. */
size_t cm_room(const cm_ctx_t *ctx);
/* A scratch buffer of at least `size` bytes, or NULL. */
unsigned char *cm_scratch(cm_ctx_t *ctx, size_t size);

/* A mutation: 1 when it changed the document, 0 when it did not apply. */
typedef int (*cm_mutation_fn)(cm_ctx_t *ctx);

typedef struct cm_mutation {
  const char *name;
  cm_mutation_fn apply;
  unsigned weight;
} cm_mutation_t;

extern const cm_mutation_t cm_data_mutations[];
extern const size_t cm_data_mutation_count;
extern const cm_mutation_t cm_chunk_mutations[];
extern const size_t cm_chunk_mutation_count;

/* The add-conn mutation, the one that applies to an empty document. */
int cm_add_connection(cm_ctx_t *ctx);

/* Bytes of a random stretch of some other data (add_buf's chunks, add_buf
 * itself, or another chunk), copied to the scratch buffer; NULL when there is none. */
const unsigned char *cm_splice_source(cm_ctx_t *ctx, size_t limit, size_t *length);

/* Trimming (trim.c). */
typedef struct cm_trim {
  unsigned char *current; /* the accepted input */
  size_t current_len;
  size_t current_cap;
  unsigned char *candidate; /* what afl_custom_trim returned last */
  size_t candidate_len;
  size_t candidate_cap;
  cm_doc_t doc;
  int phase;     /* 0: remove chunks from the last, 1: cut a chunk's tail, 2: its head, 3: done */
  uint32_t pos;  /* the chunk index of the phase */
  int32_t steps; /* attempts so far */
  int32_t max_steps;
} cm_trim_t;

int32_t cm_trim_init(cm_trim_t *trim, const unsigned char *bytes, size_t length);
size_t cm_trim_candidate(cm_trim_t *trim, unsigned char **out);
int32_t cm_trim_result(cm_trim_t *trim, int success);
void cm_trim_free(cm_trim_t *trim);

#endif
