#ifndef PDI_REDEFINE_H
#define PDI_REDEFINE_H

#include "../core/core.h"

/* The definition a redefine rule replaces. */
typedef struct pdi_redefine_target {
  const pdi_object_t *definer;
  ElfW(Sym) *sym;
  size_t sym_index;
  const char *version;
  /* What existing bindings hold: the code (an IFUNC's chosen implementation). */
  uintptr_t old_address;
} pdi_redefine_target_t;

/* Finds name@version defined by an object matching `pattern`, or, for "*",
 * the definition the process binds to. Returns 1 when found. */
PDI_HIDDEN int pdi_redefine_find(const pdi_objects_t *set, const char *pattern, const char *name,
                                 const pdi_version_req_t *req,
                                 int (*excluded)(const pdi_object_t *object, void *context), void *context,
                                 pdi_redefine_target_t *out);

/* The stores that make the symbol table entry resolve to `wrapper`: its
 * value and, for an IFUNC, its type (a plain function, so the loader never
 * calls the wrapper as a resolver). Fills up to two patches; returns how many. */
PDI_HIDDEN size_t pdi_redefine_symbol_patches(const pdi_redefine_target_t *target, uintptr_t wrapper,
                                              pdi_patch_t out[2]);

/* Whether `slot` refers to `name` with a version compatible with the
 * target's (copy relocations never do): a slot a redefine moves. The session
 * finds these in one walk of each object's relocations for all its rules. */
PDI_HIDDEN int pdi_redefine_slot_matches(const pdi_redefine_target_t *target, const char *name, const pdi_slot_t *slot);

#endif
