#define _GNU_SOURCE
#include <string.h>

#include "relink.h"

typedef struct plan {
  const pdi_objects_t *set;
  const char *name;
  const pdi_version_req_t *req;
  uintptr_t wrapper;
  int (*excluded)(const pdi_object_t *object, void *context);
  void *excluded_context;
  pdi_relink_sink sink;
  void *sink_context;
} plan_t;

static int
slot_refers_to(const pdi_slot_t *slot, const plan_t *plan)
{
  if (slot->kind == PDI_SLOT_COPY || strcmp(slot->symbol, plan->name) != 0)
    return 0;
  return plan->req->version == NULL || (slot->version != NULL && strcmp(slot->version, plan->req->version) == 0);
}

static int
plan_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  const plan_t *plan = context;
  if (!slot_refers_to(slot, plan))
    return 0;
  pdi_binding_t binding;
  pdi_slot_binding(plan->set, object, slot, &binding);
  uintptr_t addend = slot->has_addend ? (uintptr_t)slot->addend : 0;
  pdi_relink_slot_t planned;
  planned.patch.slot = slot->address;
  planned.patch.old_value = binding.value;
  planned.patch.new_value = plan->wrapper + addend;
  planned.original = binding.value - addend;
  /* A weak reference that nothing defines stays null: code tests it. */
  if (binding.value == 0 && !binding.lazy)
    return 0;
  /* The definition the slot is bound to says what it is; the import's own entry (its type from link time) when
   * that cannot be named: another version of the name may be a function elsewhere. */
  const ElfW(Sym) *imported = slot->sym_index < object->nsyms ? &object->symtab[slot->sym_index] : NULL;
  planned.variable = binding.symbol.sym != NULL ? pdi_symbol_variable_kind(binding.symbol.sym->st_info)
                     : imported != NULL         ? pdi_symbol_variable_kind(imported->st_info)
                                                : NULL;
  planned.variable_object = binding.target;
  if (binding.lazy || binding.canonical_plt || binding.target == NULL) {
    pdi_version_req_t req = {slot->version, 0};
    planned.original = pdi_resolve_definition(plan->set, plan->name, plan->req->version ? plan->req : &req,
                                              plan->excluded, plan->excluded_context, NULL);
  }
  return plan->sink(plan->sink_context, object, slot, &planned);
}

int
pdi_relink_plan(const pdi_objects_t *set, const pdi_object_t *object, const char *name, const pdi_version_req_t *req,
                uintptr_t wrapper, int (*excluded)(const pdi_object_t *object, void *context), void *excluded_context,
                pdi_relink_sink sink, void *sink_context)
{
  plan_t plan = {set, name, req, wrapper, excluded, excluded_context, sink, sink_context};
  /* foo@@V1 names V1's default definition: where V1 is not the default
   * (the library moved on to V2), no slot is the rule's, and it changes
   * nothing, as a version nothing defines. */
  if (req->version != NULL && req->require_default &&
      pdi_resolve_definition(set, name, req, excluded, excluded_context, NULL) == 0)
    return 0;
  return pdi_object_each_slot(object, plan_slot, &plan);
}
