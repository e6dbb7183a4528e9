/* The wrapper -> original registry behind pdi_original(): append-only, so
 * wrappers read it without locks while rules are installed elsewhere. */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "session.h"

#define MAX_ORIGINALS 65536

typedef struct original_entry {
  uintptr_t wrapper;
  uintptr_t original;
  int alias; /* pdi_originals_alias's */
} original_entry_t;

static original_entry_t *entries;
static unsigned entry_count;

/* Adds or updates the entry of `key`: a wrapper's always; an alias's only
 * over an alias, and one that two rules give different originals answers
 * NULL, as before. */
static int
add_entry(uintptr_t key, uintptr_t original, int alias)
{
  if (entries == NULL) {
    void *memory = mmap(NULL, MAX_ORIGINALS * sizeof *entries, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                        0);
    if (memory == MAP_FAILED)
      return -1;
    entries = memory;
  }
  unsigned count = __atomic_load_n(&entry_count, __ATOMIC_RELAXED);
  for (unsigned i = 0; i < count; i++) {
    if (entries[i].wrapper == key) {
      if (!alias)
        entries[i].alias = 0;
      else if (!entries[i].alias)
        return 0;
      else if (entries[i].original != original)
        original = 0;
      __atomic_store_n(&entries[i].original, original, __ATOMIC_RELEASE);
      return 0;
    }
  }
  if (count == MAX_ORIGINALS)
    return -1;
  entries[count].wrapper = key;
  entries[count].original = original;
  entries[count].alias = alias;
  __atomic_store_n(&entry_count, count + 1, __ATOMIC_RELEASE);
  return 0;
}

int
pdi_originals_add(uintptr_t wrapper, uintptr_t original)
{
  return add_entry(wrapper, original, 0);
}

int
pdi_originals_alias(uintptr_t seen, uintptr_t original)
{
  return add_entry(seen, original, 1);
}

/* Deliberately keeps the entry: a thread that loaded the wrapper's address
 * just before the uninstall may still be on its way into the wrapper, and
 * the function the rule replaced is still the right one to call. */
void
pdi_originals_remove(uintptr_t wrapper)
{
  (void)wrapper;
}

void *
pdi_original_impl(const void *wrapper)
{
  unsigned count = __atomic_load_n(&entry_count, __ATOMIC_ACQUIRE);
  for (unsigned i = count; i-- > 0;)
    if (entries[i].wrapper == (uintptr_t)wrapper)
      return (void *)__atomic_load_n(&entries[i].original, __ATOMIC_ACQUIRE);
  return NULL;
}
