#ifndef PDI_RELINK_H
#define PDI_RELINK_H

#include "../core/core.h"

/* One slot a relink rule takes over: where it is, what it held, what it
 * will hold, and the real function behind it. */
typedef struct pdi_relink_slot {
  pdi_patch_t patch;
  uintptr_t original;
  /* When the slot holds a variable's address, not a function's: what it is
   * (pdi_symbol_variable_kind) and the object it is bound to, if known. */
  const char *variable;
  const pdi_object_t *variable_object;
} pdi_relink_slot_t;

typedef int (*pdi_relink_sink)(void *context, const pdi_object_t *object, const pdi_slot_t *slot,
                               const pdi_relink_slot_t *planned);

/* Plans the relink of every slot of `object` that refers to name (and
 * version, when req names one) to `wrapper`: JUMP_SLOT, GLOB_DAT and
 * absolute pointers. Lazy or canonical-PLT slots get the real definition as
 * their original, so a wrapper never calls a stub that would rebind. */
PDI_HIDDEN int pdi_relink_plan(const pdi_objects_t *set, const pdi_object_t *object, const char *name,
                               const pdi_version_req_t *req, uintptr_t wrapper,
                               int (*excluded)(const pdi_object_t *object, void *context), void *excluded_context,
                               pdi_relink_sink sink, void *sink_context);

#endif
