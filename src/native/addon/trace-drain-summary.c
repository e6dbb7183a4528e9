/* A summary drain's counts (trace-drain.h, TRACE_DRAIN_SUMMARY): per site of
 * each ring, kept when the ring closes. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>

#include "trace-drain-state.h"

/* A summary drain's record: a site's function name kept, or a call counted. */
int
trace_drain_count(open_ring_t *ring, const trace_ring_record_t *record)
{
  if (record->flags & TRACE_RECORD_SITE) {
    size_t length = record->lengths[1]; /* the function, after the caller */
    char *name = trace_sites_reserve(&ring->sites, length + 1);
    if (name == NULL)
      return -1;
    memcpy(name, (const char *)(record + 1) + record->lengths[0], length);
    return trace_sites_commit(&ring->sites, record->site, name, length);
  }
  trace_site_entry_t *entry = trace_sites_entry(&ring->sites, record->site);
  if (entry != NULL) {
    entry->pid = record->pid;
    entry->calls++;
    entry->errors += record->lengths[2] != 0;
    entry->total_ns += record->duration_ns;
  }
  return 0;
}

/* A summary drain keeps the counts of a ring it closes early. */
void
trace_drain_keep_sites(trace_drain_t *drain, open_ring_t *ring)
{
  if (drain->format != TRACE_DRAIN_SUMMARY || ring->sites.count == 0) {
    trace_sites_release(&ring->sites);
    return;
  }
  if (drain->kept_count == drain->kept_capacity) {
    size_t capacity = drain->kept_capacity ? 2 * drain->kept_capacity : 64;
    trace_sites_t *kept = mmap(NULL, capacity * sizeof *kept, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                               0);
    if (kept == MAP_FAILED) {
      trace_sites_release(&ring->sites);
      return;
    }
    if (drain->kept != NULL) {
      memcpy(kept, drain->kept, drain->kept_count * sizeof *kept);
      munmap(drain->kept, drain->kept_capacity * sizeof *kept);
    }
    drain->kept = kept;
    drain->kept_capacity = capacity;
  }
  drain->kept[drain->kept_count++] = ring->sites;
  memset(&ring->sites, 0, sizeof ring->sites);
}

void
trace_drain_each_count(const trace_drain_t *drain, trace_drain_count_fn *fn, void *context)
{
  for (size_t i = 0; i < drain->kept_count; i++) {
    const trace_sites_t *sites = &drain->kept[i];
    for (size_t j = 0; j < sites->capacity; j++) {
      const trace_site_entry_t *entry = &sites->entries[j];
      if (entry->site != 0 && entry->calls != 0)
        fn(context, entry->pid, entry->fragment, entry->length, entry->calls, entry->errors, entry->total_ns);
    }
  }
}
