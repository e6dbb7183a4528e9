/* Uninstall: what each claimed slot gets back when a session closes, and
 * the slots a redefine reached after its install (session.c closes). */
#define _GNU_SOURCE
#include "../loadwatch/loadwatch.h"
#include "internal.h"

/* What `slot` holds once the first `count` patches of `batch` are put back
 * (its last entry for the slot wins), or holds now. */
static uintptr_t
value_after(const pdi_patch_t *batch, size_t count, uintptr_t *slot)
{
  for (size_t i = count; i-- > 0;)
    if (batch[i].slot == slot)
      return batch[i].old_value;
  return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}

/* Whether a claim is put back after `batch`: always, a watched one only if
 * its slot then holds the wrapper (only those pay for the look). */
int
pdi_claim_puts_back(const owned_patch_t *owned, const pdi_patch_t *batch, size_t count)
{
  return !owned->watched || value_after(batch, count, owned->patch.slot) == owned->patch.new_value;
}

static int
sweep_redefined_slot(void *context, const pdi_object_t *object, const pdi_slot_t *slot, const pdi_binding_t *binding)
{
  install_context_t *sweep = context;
  pdi_session_t *session = sweep->session;
  const active_rule_t *active = &session->rules[sweep->rule_index];
  uintptr_t addend = slot->has_addend ? (uintptr_t)slot->addend : 0;
  if (binding->lazy || binding->value != active->wrapper + addend || pdi_claims_find(session, slot->address) != NULL)
    return 0;
  pdi_patch_t patch = {slot->address, active->target.old_address + addend, binding->value};
  if (pdi_claim(session, sweep->rule_index, object, &patch) != 0)
    pdi_log(PDI_LOG_WARNING, "uninstall: %s", pdi_error());
  return 0;
}

typedef struct sweep_walk {
  pdi_session_t *session;
  const pdi_objects_t *set;
} sweep_walk_t;

static int
sweep_slot_of_any_rule(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  const sweep_walk_t *walk = context;
  for (unsigned r = 0; r < walk->session->config.rule_count; r++) {
    const active_rule_t *active = &walk->session->rules[r];
    if (!active->has_target || !pdi_redefine_slot_matches(&active->target, active->name, slot))
      continue;
    pdi_binding_t binding;
    pdi_slot_binding(walk->set, object, slot, &binding);
    install_context_t sweep = {walk->session, r, object, 0, walk->set};
    sweep_redefined_slot(&sweep, object, slot, &binding);
  }
  return 0;
}

/* Whether claim i goes back to what it held: every one, but a stub's when
 * the stubs were passed to their functions instead (pdi_cb_pass_all), and
 * at exit a rule's whose backend finishes nothing. */
static int
to_restore(const pdi_session_t *session, size_t i, int stubs_passed)
{
  const active_rule_t *active = &session->rules[claimed_patch(session, i)->rule];
  return (!stubs_passed || !pdi_rule_has_stubs(active->rule)) && !active->left_at_exit;
}

/* Every slot of the session that is still loaded gets back what it held;
 * with stubs_passed, the callback stubs' slots keep them. */
void
pdi_restore_slots(pdi_session_t *session, int stubs_passed)
{
  size_t remaining = 0;
  for (size_t i = 0; i < claimed_count(session); i++)
    remaining += to_restore(session, i, stubs_passed);
  pdi_objects_t set;
  if (remaining == 0 || pdi_objects_scan(&set) != 0)
    return;
  /* Bindings made after a redefine (lazy calls, objects loaded later) went
   * through the patched symbol table to the wrapper. Their slots are watched
   * claims when the load watch heard of every object; otherwise they are
   * found again, in one walk of each object's relocations for all the rules. */
  int any_target = 0;
  for (unsigned r = 0; r < session->config.rule_count; r++)
    any_target |= session->rules[r].has_target;
  sweep_walk_t walk = {session, &set};
  for (unsigned i = 0; any_target && !pdi_loadwatch_complete() && i < set.count; i++)
    pdi_object_each_slot(&set.items[i], sweep_slot_of_any_rule, &walk);
  size_t claimed = claimed_count(session);
  pdi_patch_t *batch = pdi_arena_alloc(&session->arena, claimed * sizeof *batch);
  size_t count = 0;
  for (size_t i = claimed; batch != NULL && i-- > 0;) {
    const owned_patch_t *owned = claimed_patch(session, i);
    if (to_restore(session, i, stubs_passed) && pdi_claim_is_loaded(&set, owned) &&
        pdi_claim_puts_back(owned, batch, count))
      batch[count++] = owned->patch;
  }
  if (batch != NULL && pdi_patch_apply(batch, count, 1) != 0)
    pdi_log(PDI_LOG_ERROR, "uninstall: %s", pdi_error());
  pdi_objects_release(&set);
}
