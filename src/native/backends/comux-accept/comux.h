/* The comux format (docs/comux.md): one conversation of several client
 * connections in one file. The reader validates everything before a single
 * byte is sent, with the same messages as the TypeScript parser. */
#ifndef PDI_COMUX_H
#define PDI_COMUX_H

#include <stddef.h>
#include <stdint.h>

#define COMUX_MAX_CONNS 65536u
#define COMUX_MAX_CHUNKS 1048576u
#define COMUX_MAX_CHUNK_LEN 67108864ull
#define COMUX_MAX_INPUT 268435456ull

/* The exit status of a replay whose server ended (or was stopped) before it
 * waited for a client. */
#define COMUX_EXIT_NOT_SERVING 4
/* The exit status of a replay whose server neither replied nor went back to
 * waiting within PDI_COMUX_TIMEOUT_MS: it hangs (comux-accept.c). */
#define COMUX_EXIT_HANG 5

#define COMUX_AWAIT_RESPONSE 0x1u
#define COMUX_NO_SHUTDOWN 0x2u

typedef struct comux_chunk {
  uint32_t conn;
  uint32_t sched;
  uint32_t flags;
  uint32_t index;
  const unsigned char *data;
  size_t len;
} comux_chunk_t;

typedef struct comux_doc {
  uint32_t num_conns;
  uint32_t num_chunks;
  comux_chunk_t *chunks; /* file order */
  uint32_t *order;       /* chunk indices in schedule order */
  uint32_t *last_chunk;  /* per connection: index of its last chunk in schedule order */
} comux_doc_t;

/* 0, or -1 with `error` = "<what> at byte N". The document points into
 * `bytes`, which must outlive it. */
int comux_parse(const unsigned char *bytes, size_t length, comux_doc_t *doc, char *error, size_t error_size);
void comux_free(comux_doc_t *doc);

/* Reads all of fd (up to just over COMUX_MAX_INPUT, so that a longer input
 * is still seen as too long) into a malloc'd buffer; 0, or -1 with errno. */
__attribute__((visibility("hidden"))) int comux_read_all(int fd, unsigned char **out, size_t *length);

#endif
