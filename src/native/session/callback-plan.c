/* A callback rule's plan on one object: which of its import slots get a
 * stub (the backend's cb_req asked), and which another rule holds. */
#define _GNU_SOURCE
#include <limits.h>
#include <string.h>

#include "internal.h"

typedef struct callback_plan {
  pdi_session_t *session;
  const pdi_objects_t *set;
  unsigned rule_index;
  active_rule_t *active;
  site_plan_buffer_t buffer;
  int failed;
} callback_plan_t;

/* Whether the callback's backend leaves this site alone (its cb_req says 0):
 * a slot another rule holds is then no conflict. */
static int
declined_site(callback_plan_t *plan, const pdi_object_t *object, const pdi_slot_t *slot, uintptr_t target)
{
  if (plan->active->hooks.cb_req == NULL)
    return 0;
  pdi_cb_site_t site = pdi_site_describe(&plan->buffer, plan->set, object, slot, target);
  return plan->active->hooks.cb_req(&site) <= 0;
}

static pdi_cb_admission_t
admit_callback_slot(void *context, const pdi_object_t *object, const pdi_slot_t *slot)
{
  callback_plan_t *plan = context;
  const owned_patch_t *claimed = pdi_claims_latest(plan->session, slot->address);
  if (claimed != NULL && plan->session->rules[claimed->rule].rule->kind != PDI_RULE_ACT &&
      plan->session->rules[claimed->rule].rule != plan->active->rule &&
      declined_site(plan, object, slot, claimed->patch.old_value))
    return PDI_CB_PASS; /* a site the backend does not want conflicts with nothing (a redefine's, a relink's) */
  if (claimed != NULL && claimed->watched) {
    /* A lazy slot a redefine reaches as surely as a bound one it wrote:
     * the same conflict, whatever the link mode (it was only with -z now). */
    plan->failed = pdi_slot_conflict(plan->session, plan->rule_index, claimed->rule, object, slot->symbol);
    return PDI_CB_STOP;
  }
  if (claimed == NULL) {
    /* Another session's stub (an act rule of pdi run's, under pdi attach) is
     * no function of any object: skipped, the slot would go unnoticed. */
    const pdi_session_t *holder;
    const owned_patch_t *theirs = pdi_claims_find_elsewhere(plan->session, slot->address, &holder);
    if (theirs == NULL)
      return PDI_CB_ADMIT;
    if (declined_site(plan, object, slot, theirs->patch.old_value))
      return PDI_CB_PASS; /* a site the backend does not want conflicts with nothing */
    plan->failed = pdi_conflict_error(plan->active, holder->rules[theirs->rule].rule, object, slot->symbol);
    return PDI_CB_STOP;
  }
  const pdi_rule_t *owner = plan->session->rules[claimed->rule].rule;
  if (owner == plan->active->rule)
    return PDI_CB_PASS;
  if (owner->kind == PDI_RULE_ACT)
    return PDI_CB_ADMIT_STUB; /* over an act rule's stub: its hooks see the calls as the act rule made them */
  if (pdi_same_redirect(owner, plan->active->rule)) {
    plan->active->shared++;
    return PDI_CB_PASS;
  }
  plan->failed = pdi_slot_conflict(plan->session, plan->rule_index, claimed->rule, object, slot->symbol);
  return PDI_CB_STOP;
}

/* A site the backend wants (its cb_req, when it has one, names the event). */
static int
take_callback_site(void *context, const pdi_object_t *object, const pdi_slot_t *slot, uintptr_t target)
{
  callback_plan_t *plan = context;
  pdi_cb_site_t site = pdi_site_describe(&plan->buffer, plan->set, object, slot, target);
  int event = plan->active->hooks.cb_req ? plan->active->hooks.cb_req(&site) : 1;
  if (event < 0 && !plan->active->warned_event) {
    plan->active->warned_event = 1;
    char where[PATH_MAX + 40];
    pdi_origin_format(&plan->active->rule->fields[PDI_FIELD_BACKEND], where, sizeof where);
    pdi_log(PDI_LOG_WARNING,
            "%scallback on '%s': PDI_BE_FUNC_CB_REQ of backend '%s' returned %d for %s in %s, which is no event id "
            "(0 leaves a site alone, > 0 instruments it): it and every such site are left alone",
            where, plan->active->rule->object, plan->active->rule->backend, event, site.function, object->path);
  }
  if (event <= 0) {
    plan->active->declined++;
    return 0;
  }
  planned_site_t *planned = pdi_array_push(&plan->session->arena, &plan->buffer.sites, sizeof *planned);
  if (planned == NULL) {
    plan->failed = pdi_rule_error(plan->active, "out of memory");
    return 1;
  }
  *planned = (planned_site_t){slot->address, *slot->address, target, event, plan->rule_index, site, 1};
  return 0;
}

/* All or nothing per object: every instrumented import gets a stub, or the
 * object is left untouched with an error naming the need and the limit
 * (PDI_SITES_NO_ROOM). */
int
pdi_plan_callback(pdi_session_t *session, const pdi_objects_t *set, unsigned rule_index, const pdi_object_t *object)
{
  static const pdi_cb_sink_t sink = {admit_callback_slot, take_callback_site, NULL};
  active_rule_t *active = &session->rules[rule_index];
  callback_plan_t plan = {session, set, rule_index, active, {{NULL, 0, 0, 0}, NULL, 0, 0}, 0};
  if (pdi_sites_reserve(session, &plan.buffer, object) != 0)
    return pdi_rule_error(active, "out of memory");
  pdi_cb_plan(set, object, pdi_is_any_backend, session, &sink, &plan);
  if (plan.failed)
    return -1;
  return pdi_sites_install(session, object, &plan.buffer, active, &active->hooks);
}
