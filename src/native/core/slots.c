#define _GNU_SOURCE
#include <string.h>

#include "../arch/arch.h"
#include "core.h"

const char *
pdi_slot_kind_name(unsigned kind)
{
  switch (kind) {
  case PDI_SLOT_JUMP_SLOT: return "jump_slot";
  case PDI_SLOT_GLOB_DAT: return "glob_dat";
  case PDI_SLOT_ABS: return "abs";
  case PDI_SLOT_COPY: return "copy";
  default: return "unknown";
  }
}

/* The loaded segment the last slot of a walk lay in: relocations come
 * grouped by segment, so most slots are checked against it alone. */
typedef struct segment_cache {
  uintptr_t start, end;
} segment_cache_t;

/* Whether a whole word at `address` lies in one of the object's loaded
 * segments: a slot outside them could not have been relocated by the loader. */
static int
slot_is_mapped(const pdi_object_t *object, uintptr_t address, segment_cache_t *cache)
{
  if (!(address >= cache->start && address < cache->end) &&
      !pdi_object_load_segment(object, address, &cache->start, &cache->end))
    return 0;
  return cache->end - address >= sizeof(uintptr_t);
}

static int
visit_reloc(const pdi_object_t *object, ElfW(Addr) offset, ElfW(Xword) info, intptr_t addend, int has_addend,
            size_t reloc_index, segment_cache_t *segment, pdi_slot_visitor visit, void *context)
{
  size_t sym_index = PDI_R_SYM(info);
  unsigned type = (unsigned)PDI_R_TYPE(info);
  unsigned kind = pdi_arch_slot_kind(type);
  if (kind == 0 || sym_index == 0 || object->symtab == NULL)
    return 0;
  if (object->nsyms != 0 && sym_index >= object->nsyms)
    return 0;
  if (!slot_is_mapped(object, object->base + offset, segment))
    return 0;
  const ElfW(Sym) *sym = &object->symtab[sym_index];
  pdi_slot_t slot;
  memset(&slot, 0, sizeof slot);
  slot.address = (uintptr_t *)(object->base + offset);
  slot.kind = kind;
  slot.reloc_type = type;
  slot.reloc_index = reloc_index;
  slot.sym_index = sym_index;
  slot.symbol = pdi_object_symbol_name(object, sym_index);
  slot.version = pdi_object_symbol_version(object, sym_index, &slot.version_hidden, &slot.version_file);
  slot.weak = PDI_ST_BIND(sym->st_info) == STB_WEAK;
  slot.addend = addend;
  slot.has_addend = has_addend;
  return visit(object, &slot, context);
}

static int
in_skipped_range(const void *entry, const void *skip_start, size_t skip_bytes)
{
  return skip_start != NULL && (const char *)entry >= (const char *)skip_start &&
         (const char *)entry < (const char *)skip_start + skip_bytes;
}

/* Rel and Rela entries begin alike (r_offset, r_info); a Rela entry adds
 * r_addend. */
static int
visit_table(const pdi_object_t *object, const void *table, size_t bytes, int has_addend, const void *skip_start,
            size_t skip_bytes, pdi_slot_visitor visit, void *context)
{
  size_t entry_size = has_addend ? sizeof(ElfW(Rela)) : sizeof(ElfW(Rel));
  segment_cache_t segment = {0, 0};
  for (size_t i = 0; (i + 1) * entry_size <= bytes; i++) {
    const ElfW(Rela) *entry = (const void *)((const char *)table + i * entry_size);
    if (in_skipped_range(entry, skip_start, skip_bytes))
      continue;
    intptr_t addend = has_addend ? (intptr_t)entry->r_addend : 0;
    int stop = visit_reloc(object, entry->r_offset, entry->r_info, addend, has_addend, i, &segment, visit, context);
    if (stop)
      return stop;
  }
  return 0;
}

int
pdi_object_each_slot(const pdi_object_t *object, pdi_slot_visitor visit, void *context)
{
  int stop = 0;
  /* Some linkers make DT_RELA/DT_REL span the PLT relocations too; those are
   * visited once, from DT_JMPREL, where their index means something. */
  if (object->jmprel != NULL && object->jmprelsz != 0) {
    stop = visit_table(object, object->jmprel, object->jmprelsz, object->pltrel == DT_RELA, NULL, 0, visit, context);
    if (stop)
      return stop;
  }
  if (object->rela != NULL && object->relasz != 0) {
    stop = visit_table(object, object->rela, object->relasz, 1, object->jmprel, object->jmprelsz, visit, context);
    if (stop)
      return stop;
  }
  if (object->rel != NULL && object->relsz != 0)
    stop = visit_table(object, object->rel, object->relsz, 0, object->jmprel, object->jmprelsz, visit, context);
  return stop;
}

size_t
pdi_object_slot_bound(const pdi_object_t *object)
{
  size_t rel_size = sizeof(ElfW(Rel)), rela_size = sizeof(ElfW(Rela));
  size_t jmprel = object->jmprel != NULL ? object->jmprelsz / (object->pltrel == DT_RELA ? rela_size : rel_size) : 0;
  return jmprel + (object->rela != NULL ? object->relasz / rela_size : 0) +
         (object->rel != NULL ? object->relsz / rel_size : 0);
}

int
pdi_slot_in_relro(const pdi_object_t *object, const pdi_slot_t *slot)
{
  uintptr_t address = (uintptr_t)slot->address;
  return (object->flags & PDI_OBJECT_RELRO) && address >= object->relro_start && address < object->relro_end;
}

/* Whether `object` imports a symbol named `name` (an undefined entry of its dynamic symbol table). */
static int
imports_name(const pdi_object_t *object, const char *name)
{
  for (size_t index = 1; index < object->nsyms; index++)
    if (object->symtab[index].st_shndx == SHN_UNDEF && strcmp(pdi_object_symbol_name(object, index), name) == 0)
      return 1;
  return 0;
}

/* The object whose IFUNC symbol the loader bound, when its resolver returned code of another object (glibc's
 * gettimeofday and time pick the vdso's): the first definition in the loader's order (the vdso and pdi's core are
 * not in its global scope), when that is an IFUNC of an object other than `target` that can reach the code at
 * `value`: the vdso's, or a function it imports. Any other function of another object (a relink wrapper put
 * into the slot of glibc's IFUNC strlen) is not its resolver's pick. */
static const pdi_object_t *
ifunc_definer(const pdi_objects_t *set, const pdi_object_t *target, const pdi_slot_t *slot, uintptr_t value,
              pdi_symbol_ref_t *ref)
{
  pdi_version_req_t req = {slot->version, 0};
  for (unsigned i = 0; i < set->count; i++) {
    const pdi_object_t *candidate = &set->items[i];
    if (candidate->flags & (PDI_OBJECT_PDI | PDI_OBJECT_VDSO))
      continue;
    if (!pdi_object_lookup(candidate, slot->symbol, &req, 0, ref))
      continue;
    if (candidate == target || PDI_ST_TYPE(ref->sym->st_info) != STT_GNU_IFUNC)
      return NULL;
    pdi_symbol_ref_t picked;
    if (target->flags & PDI_OBJECT_VDSO)
      return candidate;
    return pdi_object_symbol_at(target, value, &picked) &&
                   imports_name(candidate, pdi_object_symbol_name(target, picked.index))
               ? candidate
               : NULL;
  }
  return NULL;
}

static void
name_symbol(const pdi_object_t *object, const pdi_symbol_ref_t *ref, pdi_binding_t *out)
{
  out->symbol = *ref;
  out->symbol_name = pdi_object_symbol_name(object, ref->index);
  out->symbol_version = pdi_object_symbol_version(object, ref->index, NULL, NULL);
}

static void
name_target(const pdi_objects_t *set, const pdi_object_t *target, const pdi_slot_t *slot, uintptr_t value,
            pdi_binding_t *out)
{
  pdi_version_req_t req = {slot->version, 0};
  pdi_symbol_ref_t ref, impl;
  uintptr_t addend = slot->has_addend ? (uintptr_t)slot->addend : 0;
  if (pdi_object_lookup(target, slot->symbol, &req, PDI_LOOKUP_ACCEPT_CANONICAL_PLT, &ref)) {
    int ifunc = PDI_ST_TYPE(ref.sym->st_info) == STT_GNU_IFUNC;
    if (target->base + ref.sym->st_value + addend == value || ifunc) {
      name_symbol(target, &ref, out);
      out->canonical_plt = ref.sym->st_shndx == SHN_UNDEF;
      out->ifunc = ifunc;
      if (ifunc && pdi_object_symbol_at(target, value, &impl))
        out->implementation = pdi_object_symbol_name(target, impl.index);
      return;
    }
  }
  const pdi_object_t *definer = ifunc_definer(set, target, slot, value, &ref);
  if (definer != NULL) {
    name_symbol(definer, &ref, out);
    out->definer = definer;
    out->ifunc = 1;
    if (pdi_object_symbol_at(target, value, &impl))
      out->implementation = pdi_object_symbol_name(target, impl.index);
    return;
  }
  if (pdi_object_symbol_at(target, value - addend, &ref))
    name_symbol(target, &ref, out);
}

static const pdi_object_t *
copy_source(const pdi_objects_t *set, const pdi_object_t *object, const pdi_slot_t *slot, pdi_symbol_ref_t *ref)
{
  pdi_version_req_t req = {slot->version, 0};
  for (unsigned i = 0; i < set->count; i++) {
    const pdi_object_t *candidate = &set->items[i];
    if (candidate == object)
      continue;
    if (pdi_object_lookup(candidate, slot->symbol, &req, 0, ref))
      return candidate;
  }
  return NULL;
}

void
pdi_slot_binding(const pdi_objects_t *set, const pdi_object_t *object, const pdi_slot_t *slot, pdi_binding_t *out)
{
  memset(out, 0, sizeof *out);
  if (slot->kind == PDI_SLOT_COPY) {
    out->value = (uintptr_t)slot->address;
    out->target = copy_source(set, object, slot, &out->symbol);
    if (out->target != NULL) {
      out->target_address = out->target->base + out->symbol.sym->st_value;
      out->symbol_name = pdi_object_symbol_name(out->target, out->symbol.index);
      out->symbol_version = pdi_object_symbol_version(out->target, out->symbol.index, NULL, NULL);
    }
    return;
  }
  uintptr_t value = __atomic_load_n(slot->address, __ATOMIC_ACQUIRE);
  out->value = value;
  if (value == 0)
    return;
  if (slot->kind == PDI_SLOT_JUMP_SLOT && pdi_arch_is_lazy_stub(object, slot, value)) {
    out->lazy = 1;
    return;
  }
  out->target_address = value;
  out->target = pdi_objects_containing(set, value);
  if (out->target != NULL)
    name_target(set, out->target, slot, value, out);
}

void
pdi_address_binding(const pdi_objects_t *set, const pdi_slot_t *slot, uintptr_t address, pdi_binding_t *out)
{
  memset(out, 0, sizeof *out);
  out->value = address;
  out->target_address = address;
  out->target = pdi_objects_containing(set, address);
  if (out->target != NULL)
    name_target(set, out->target, slot, address, out);
}
