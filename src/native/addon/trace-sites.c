/* Call sites by address (trace-sites.h). */
#define _GNU_SOURCE
#include "trace-sites.h"

#include <string.h>
#include <sys/mman.h>

#define FIRST_CAPACITY 1024u
#define BLOCK_BYTES ((size_t)1 << 18)

static size_t
slot_of(uint64_t site, size_t capacity)
{
  return (size_t)((site >> 3) * 0x9e3779b97f4a7c15ull >> 32) & (capacity - 1);
}

static void *
map(size_t bytes)
{
  void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return memory == MAP_FAILED ? NULL : memory;
}

char *
trace_sites_reserve(trace_sites_t *sites, size_t bound)
{
  size_t header = sizeof(char *) + sizeof(size_t);
  if (sites->block == NULL || sites->block_size - sites->block_used < bound) {
    size_t size = header + (bound > BLOCK_BYTES ? bound : BLOCK_BYTES);
    char *block = map(size);
    if (block == NULL)
      return NULL;
    memcpy(block, &sites->block, sizeof(char *));
    memcpy(block + sizeof(char *), &size, sizeof size);
    sites->block = block;
    sites->block_size = size;
    sites->block_used = header;
  }
  return sites->block + sites->block_used;
}

static trace_site_entry_t *
entry_for(trace_site_entry_t *entries, size_t capacity, uint64_t site)
{
  size_t i = slot_of(site, capacity);
  while (entries[i].site != 0 && entries[i].site != site)
    i = (i + 1) & (capacity - 1);
  return &entries[i];
}

static int
grow(trace_sites_t *sites)
{
  size_t capacity = sites->capacity ? 2 * sites->capacity : FIRST_CAPACITY;
  trace_site_entry_t *entries = map(capacity * sizeof *entries);
  if (entries == NULL)
    return -1;
  for (size_t i = 0; i < sites->capacity; i++)
    if (sites->entries[i].site != 0)
      *entry_for(entries, capacity, sites->entries[i].site) = sites->entries[i];
  if (sites->entries != NULL)
    munmap(sites->entries, sites->capacity * sizeof *entries);
  sites->entries = entries;
  sites->capacity = capacity;
  return 0;
}

int
trace_sites_commit(trace_sites_t *sites, uint64_t site, const char *fragment, size_t length)
{
  if (site == 0 || ((sites->count + 1) * 2 > sites->capacity && grow(sites) != 0))
    return -1;
  sites->block_used += (length + 7) & ~(size_t)7;
  trace_site_entry_t *entry = entry_for(sites->entries, sites->capacity, site);
  sites->count += entry->site == 0;
  *entry = (trace_site_entry_t){site, fragment, length};
  return 0;
}

const char *
trace_sites_find(const trace_sites_t *sites, uint64_t site, size_t *length)
{
  if (sites->capacity == 0 || site == 0)
    return NULL;
  const trace_site_entry_t *entry = entry_for(sites->entries, sites->capacity, site);
  if (entry->site == 0)
    return NULL;
  *length = entry->length;
  return entry->fragment;
}

void
trace_sites_release(trace_sites_t *sites)
{
  for (char *block = sites->block; block != NULL;) {
    char *previous;
    size_t size;
    memcpy(&previous, block, sizeof previous);
    memcpy(&size, block + sizeof(char *), sizeof size);
    munmap(block, size);
    block = previous;
  }
  if (sites->entries != NULL)
    munmap(sites->entries, sites->capacity * sizeof *sites->entries);
  memset(sites, 0, sizeof *sites);
}
