/* Callback site selection: which import slots of an object may take a stub,
 * and the real function behind each. What becomes of a slot (claims, the
 * backend's cb_req, the stub budget) is the caller's, through the sink. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "callback.h"

typedef struct site_plan {
  const pdi_objects_t *set;
  pdi_objects_t definers; /* the set without the excluded objects: lazy slots are resolved in it */
  int (*excluded)(const pdi_object_t *object, void *context);
  void *excluded_context;
  const pdi_cb_sink_t *sink;
  void *sink_context;
  int calls_through_plt;
} site_plan_t;

/* The real function behind an import slot, or 0 for data, null and lazy
 * slots that nothing defines. */
static uintptr_t
function_behind(const site_plan_t *plan, const pdi_object_t *object, const pdi_slot_t *slot)
{
  pdi_binding_t binding;
  pdi_slot_binding(plan->set, object, slot, &binding);
  if (binding.lazy) {
    pdi_version_req_t req = {slot->version, 0};
    if (plan->definers.items != plan->set->items)
      return pdi_resolve_definition(&plan->definers, slot->symbol, &req, NULL, NULL, NULL);
    return pdi_resolve_definition(plan->set, slot->symbol, &req, plan->excluded, plan->excluded_context, NULL);
  }
  if (binding.value == 0 || binding.target == NULL || !pdi_object_in_code(binding.target, binding.value, 1))
    return 0;
  return binding.value;
}

static int
is_jump_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  (void)object, (void)context;
  return slot->kind == PDI_SLOT_JUMP_SLOT;
}

static int
consider_callback_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  const site_plan_t *plan = context;
  if ((slot->kind != PDI_SLOT_JUMP_SLOT && slot->kind != PDI_SLOT_GLOB_DAT) || pdi_cb_excluded(slot->symbol))
    return 0;
  /* An object that calls through its PLT takes function addresses from its
   * GLOB_DAT slots (to compare or store them, as CPython compares tp_free
   * with PyObject_Free): a stub there would change the function's identity.
   * Only objects without PLT calls (-fno-plt) call through those slots. */
  if (slot->kind == PDI_SLOT_GLOB_DAT && plan->calls_through_plt)
    return 0;
  pdi_cb_admission_t admission = plan->sink->admit(plan->sink_context, object, slot);
  if (admission != PDI_CB_ADMIT)
    return admission == PDI_CB_STOP;
  uintptr_t target = function_behind(plan, object, slot);
  if (target == 0)
    return 0;
  return plan->sink->take(plan->sink_context, object, slot, target);
}

int
pdi_cb_plan(const pdi_objects_t *set, const pdi_object_t *object,
            int (*excluded)(const pdi_object_t *object, void *context), void *excluded_context,
            const pdi_cb_sink_t *sink, void *sink_context)
{
  /* Which objects may define a function is asked once per plan, not once per lazy slot and object;
   * without memory for that list every object is asked each time. */
  pdi_object_t *definers = malloc((set->count > 0 ? set->count : 1) * sizeof *definers);
  site_plan_t plan = {set, {definers, 0, set->page_size, {NULL}}, excluded, excluded_context, sink, sink_context, 0};
  for (unsigned i = 0; definers != NULL && i < set->count; i++)
    if (excluded == NULL || !excluded(&set->items[i], excluded_context))
      definers[plan.definers.count++] = set->items[i];
  if (definers == NULL) {
    plan.definers = *set;
    plan.definers.count = 0; /* resolved through `excluded` instead */
  }
  plan.calls_through_plt = pdi_object_each_slot(object, is_jump_slot, NULL);
  int stop = pdi_object_each_slot(object, consider_callback_slot, &plan);
  free(definers);
  return stop;
}
