/* What a backend's own code gets for its wrapper's name (pdi_originals_alias). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include "internal.h"

typedef struct wrapper_sight {
  const char *name;
  uintptr_t start, end; /* the wrapper's object */
  uintptr_t seen;
} wrapper_sight_t;

static int
note_own_binding(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  (void)object;
  wrapper_sight_t *sight = context;
  if (slot->kind == PDI_SLOT_COPY || slot->symbol == NULL || strcmp(slot->symbol, sight->name) != 0)
    return 0;
  uintptr_t value = *slot->address;
  if (value == 0 || (value >= sight->start && value < sight->end))
    return 0; /* the wrapper itself, or a lazy slot not bound yet */
  sight->seen = value;
  return 1;
}

void
pdi_find_wrapper_aliases(active_rule_t *active)
{
  const char *name = active->rule->wrapper;
  uintptr_t seen = (uintptr_t)dlsym(RTLD_DEFAULT, name);
  active->wrapper_seen[0] = 0;
  active->wrapper_seen[1] = seen != active->wrapper ? seen : 0;
  pdi_objects_t set;
  if (active->wrapper_seen[1] == 0 || pdi_objects_scan(&set) != 0)
    return;
  const pdi_object_t *own = pdi_objects_containing(&set, active->wrapper);
  if (own != NULL) {
    wrapper_sight_t sight = {name, own->map_start, own->map_end, 0};
    pdi_object_each_slot(own, note_own_binding, &sight);
    active->wrapper_seen[0] = sight.seen != seen ? sight.seen : 0;
  }
  pdi_objects_release(&set);
}
