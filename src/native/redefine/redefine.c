#define _GNU_SOURCE
#include <string.h>

#include "../arch/arch.h"
#include "redefine.h"

int
pdi_redefine_find(const pdi_objects_t *set, const char *pattern, const char *name, const pdi_version_req_t *req,
                  int (*excluded)(const pdi_object_t *object, void *context), void *context, pdi_redefine_target_t *out)
{
  memset(out, 0, sizeof *out);
  const pdi_object_t *definer = NULL;
  if (pattern == NULL || strcmp(pattern, "*") == 0) {
    if (pdi_resolve_definition(set, name, req, excluded, context, &definer) == 0)
      return 0;
  } else {
    for (unsigned i = 0; i < set->count && definer == NULL; i++) {
      const pdi_object_t *object = &set->items[i];
      pdi_symbol_ref_t probe;
      if (!(object->flags & (PDI_OBJECT_PDI | PDI_OBJECT_VDSO)) && pdi_object_matches(object, pattern) &&
          !(excluded != NULL && excluded(object, context)) && pdi_object_lookup(object, name, req, 0, &probe))
        definer = object;
    }
  }
  pdi_symbol_ref_t ref;
  if (definer == NULL || !pdi_object_lookup(definer, name, req, 0, &ref))
    return 0;
  out->definer = definer;
  out->sym = (ElfW(Sym) *)ref.sym;
  out->sym_index = ref.index;
  out->version = pdi_object_symbol_version(definer, ref.index, NULL, NULL);
  uintptr_t code = definer->base + ref.sym->st_value;
  out->old_address = PDI_ST_TYPE(ref.sym->st_info) == STT_GNU_IFUNC ? pdi_arch_call_ifunc_resolver(code) : code;
  return out->old_address != 0;
}

size_t
pdi_redefine_symbol_patches(const pdi_redefine_target_t *target, uintptr_t wrapper, pdi_patch_t out[2])
{
  size_t count = 0;
  ElfW(Sym) *sym = target->sym;
  if (PDI_ST_TYPE(sym->st_info) == STT_GNU_IFUNC) {
    /* st_info shares an aligned word with its neighbours (st_name or
     * st_size, st_other, st_shndx): store that whole word with one byte changed. */
    uintptr_t *word = (uintptr_t *)((uintptr_t)&sym->st_info & ~(uintptr_t)(sizeof(uintptr_t) - 1));
    uintptr_t value = *word;
    unsigned char *bytes = (unsigned char *)&value;
    size_t offset = (size_t)((uintptr_t)&sym->st_info - (uintptr_t)word);
    bytes[offset] = (unsigned char)((sym->st_info & 0xf0) | STT_FUNC);
    out[count++] = (pdi_patch_t){word, *word, value};
  }
  /* Unsigned arithmetic: the loader adds the base back modulo 2^N, so a
   * wrapper below the definer's base still resolves exactly. */
  out[count++] = (pdi_patch_t){(uintptr_t *)&sym->st_value, sym->st_value,
                               (uintptr_t)(wrapper - target->definer->base)};
  return count;
}

int
pdi_redefine_slot_matches(const pdi_redefine_target_t *target, const char *name, const pdi_slot_t *slot)
{
  if (slot->kind == PDI_SLOT_COPY || strcmp(slot->symbol, name) != 0)
    return 0;
  return slot->version == NULL || target->version == NULL || strcmp(slot->version, target->version) == 0;
}
