#define _GNU_SOURCE
#include <string.h>

#include "../arch/arch.h"
#include "core.h"

/* What ld.so would bind a reference to: the first definition in load order,
 * never a canonical PLT entry (the real code behind it), never in pdi's own
 * objects, the vDSO or an excluded object (backends); an IFUNC's resolver
 * is run so the chosen implementation comes back. */
uintptr_t
pdi_resolve_definition(const pdi_objects_t *set, const char *name, const pdi_version_req_t *req,
                       int (*excluded)(const pdi_object_t *object, void *context), void *context,
                       const pdi_object_t **definer)
{
  return pdi_resolve_hashed(set, name, pdi_gnu_hash(name), req, excluded, context, definer);
}

uintptr_t
pdi_resolve_hashed(const pdi_objects_t *set, const char *name, uint32_t hash, const pdi_version_req_t *req,
                   int (*excluded)(const pdi_object_t *object, void *context), void *context,
                   const pdi_object_t **definer)
{
  for (unsigned i = 0; i < set->count; i++) {
    const pdi_object_t *object = &set->items[i];
    if (object->flags & (PDI_OBJECT_PDI | PDI_OBJECT_VDSO))
      continue;
    if (excluded != NULL && excluded(object, context))
      continue;
    pdi_symbol_ref_t ref;
    if (!pdi_object_lookup_hashed(object, name, hash, req, 0, &ref))
      continue;
    if (definer != NULL)
      *definer = object;
    if (PDI_ST_TYPE(ref.sym->st_info) != STT_GNU_IFUNC)
      return object->base + ref.sym->st_value;
    /* Calling the resolver as ld.so does (not dlsym) keeps the loader's
     * lock out of this path, which may run inside a load. */
    return pdi_arch_call_ifunc_resolver(object->base + ref.sym->st_value);
  }
  return 0;
}

const char *
pdi_symbol_variable_kind(unsigned char st_info)
{
  switch (PDI_ST_TYPE(st_info)) {
  case STT_OBJECT:
  case STT_COMMON: return "a data object";
  case STT_TLS: return "a thread-local variable";
  default: return NULL;
  }
}

const char *
pdi_variable_definition(const pdi_objects_t *set, const char *pattern, const char *name, const pdi_version_req_t *req,
                        int (*excluded)(const pdi_object_t *object, void *context), void *context,
                        const pdi_object_t **definer)
{
  int any = pattern == NULL || strcmp(pattern, "*") == 0;
  uint32_t hash = pdi_gnu_hash(name);
  const char *kind = NULL;
  for (unsigned i = 0; i < set->count; i++) {
    const pdi_object_t *object = &set->items[i];
    pdi_symbol_ref_t ref;
    if ((object->flags & (PDI_OBJECT_PDI | PDI_OBJECT_VDSO)) || (excluded != NULL && excluded(object, context)) ||
        (!any && !pdi_object_matches(object, pattern)) ||
        !pdi_object_lookup_hashed(object, name, hash, req, PDI_LOOKUP_ACCEPT_TLS, &ref))
      continue;
    const char *this_kind = pdi_symbol_variable_kind(ref.sym->st_info);
    if (this_kind == NULL)
      return NULL; /* a function of that name (another version of it, say): the rule may be for it */
    if (kind == NULL) {
      kind = this_kind;
      *definer = object;
    }
  }
  return kind;
}
