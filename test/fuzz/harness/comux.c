/* Fuzz harness of the comux format reader (src/native/backends/comux-accept/comux.c):
 * parse the input as a comux document, walk what it made, free it. A reader
 * that accepts must have built a document every index of which is in range. */
#include <stdlib.h>

#include "comux.h"
#include "input.h"

static void
one_input(const unsigned char *data, size_t length)
{
  comux_doc_t doc;
  char error[256];
  if (comux_parse(data, length, &doc, error, sizeof error) == 0) {
    /* What the replay controller relies on, checked so that a wrong index aborts here. */
    for (uint32_t k = 0; k < doc.num_chunks; k++) {
      const comux_chunk_t *chunk = &doc.chunks[doc.order[k]];
      if (doc.order[k] >= doc.num_chunks || chunk->conn >= doc.num_conns || chunk->data < data ||
          chunk->data + chunk->len > data + length)
        abort();
    }
    for (uint32_t c = 0; c < doc.num_conns && doc.num_chunks > 0; c++)
      if (doc.last_chunk[c] >= doc.num_chunks)
        abort();
    comux_free(&doc);
  }
}

int
main(int argc, char **argv)
{
  return fuzz_main(argc, argv, one_input);
}
