/* The call sites a ring has named (backends/trace/ring.h, site records),
 * each as the JSON fragment its call lines share. Memory comes from mmap,
 * never malloc (trace-drain.h says why). */
#ifndef PDI_ADDON_TRACE_SITES_H
#define PDI_ADDON_TRACE_SITES_H

#include <stddef.h>
#include <stdint.h>

typedef struct trace_site_entry {
  uint64_t site;
  const char *fragment;
  size_t length;
} trace_site_entry_t;

typedef struct trace_sites {
  trace_site_entry_t *entries; /* open addressing; site 0 marks a free entry */
  size_t capacity, count;
  char *block; /* the arena's current block; each block starts with the previous one's address */
  size_t block_used, block_size;
} trace_sites_t;

/* Room for a fragment of up to `bound` bytes in the arena, or NULL. */
char *trace_sites_reserve(trace_sites_t *sites, size_t bound);
/* Records the fragment written at the last reservation for `site` (a site
 * named again gets the new one). -1 when the table cannot grow. */
int trace_sites_commit(trace_sites_t *sites, uint64_t site, const char *fragment, size_t length);
/* The fragment of `site`, or NULL. */
const char *trace_sites_find(const trace_sites_t *sites, uint64_t site, size_t *length);
void trace_sites_release(trace_sites_t *sites);

#endif
