/* Which rule of a session owns which slot: the claims in the order they
 * were made (undone in reverse), a hash index from slot address to the
 * latest claim, and the rules that decide between two rules wanting one
 * slot (a duplicate is shared, a relink composes over a redefine, anything
 * else conflicts, also across open sessions). */
#define _GNU_SOURCE
#include <limits.h>
#include <string.h>

#include "internal.h"

static int index_slot(pdi_session_t *session, size_t patch);

/* A table for at least `wanted` slots at most half full, the claims re-indexed into it. */
static int
grow_index(pdi_session_t *session, size_t wanted)
{
  slot_claims_t *claims = &session->claims;
  size_t capacity = claims->index_capacity ? claims->index_capacity : 256;
  while (wanted * 2 > capacity)
    capacity *= 2;
  if (capacity == claims->index_capacity)
    return 0;
  size_t *table = pdi_arena_alloc(&session->arena, capacity * sizeof *table); /* zeroed */
  if (table == NULL)
    return -1;
  size_t *old = claims->index;
  size_t old_capacity = claims->index_capacity;
  claims->index = table;
  claims->index_capacity = capacity;
  claims->index_count = 0;
  for (size_t i = 0; i < old_capacity; i++)
    if (old[i] != 0 && index_slot(session, old[i] - 1) != 0)
      return -1;
  return 0;
}

int
pdi_claims_reserve(pdi_session_t *session, size_t count)
{
  if (pdi_array_reserve(&session->arena, &session->claims.patches, count, sizeof(owned_patch_t)) != 0)
    return -1;
  return grow_index(session, session->claims.index_count + count);
}

static int
index_slot(pdi_session_t *session, size_t patch)
{
  slot_claims_t *claims = &session->claims;
  if ((claims->index_count + 1) * 2 > claims->index_capacity && grow_index(session, claims->index_count + 1) != 0)
    return -1;
  uintptr_t *slot = claimed_patch(session, patch)->patch.slot;
  size_t at = pdi_address_bucket((uintptr_t)slot, claims->index_capacity);
  while (claims->index[at] != 0 && claimed_patch(session, claims->index[at] - 1)->patch.slot != slot)
    at = (at + 1) & (claims->index_capacity - 1);
  if (claims->index[at] == 0)
    claims->index_count++;
  claims->index[at] = patch + 1;
  return 0;
}

/* After claims were dropped (a rolled-back rule, unloaded objects). */
static void
reindex_slots(pdi_session_t *session)
{
  slot_claims_t *claims = &session->claims;
  if (claims->index != NULL)
    memset(claims->index, 0, claims->index_capacity * sizeof *claims->index);
  claims->index_count = 0;
  for (size_t i = 0; i < claimed_count(session); i++)
    index_slot(session, i);
}

static const owned_patch_t *
latest_claim(const pdi_session_t *session, uintptr_t *slot)
{
  const slot_claims_t *claims = &session->claims;
  if (claims->index_capacity == 0)
    return NULL;
  size_t at = pdi_address_bucket((uintptr_t)slot, claims->index_capacity);
  while (claims->index[at] != 0) {
    const owned_patch_t *owned = claimed_patch(session, claims->index[at] - 1);
    if (owned->patch.slot == slot)
      return owned;
    at = (at + 1) & (claims->index_capacity - 1);
  }
  return NULL;
}

const owned_patch_t *
pdi_claims_find(const pdi_session_t *session, uintptr_t *slot)
{
  const owned_patch_t *latest = latest_claim(session, slot);
  return latest != NULL && !latest->watched ? latest : NULL;
}

const owned_patch_t *
pdi_claims_latest(const pdi_session_t *session, uintptr_t *slot)
{
  return latest_claim(session, slot);
}

void
pdi_claims_truncate(pdi_session_t *session, size_t count)
{
  session->claims.patches.count = count;
  reindex_slots(session);
}

int
pdi_claim_is_loaded(const pdi_objects_t *set, const owned_patch_t *owned)
{
  for (unsigned i = 0; i < set->count; i++)
    if (set->items[i].base == owned->object_base && strcmp(set->items[i].path, owned->object_path) == 0)
      return 1;
  return 0;
}

void
pdi_claims_keep_loaded(pdi_session_t *session, const pdi_objects_t *set)
{
  size_t kept = 0;
  for (size_t i = 0; i < claimed_count(session); i++)
    if (pdi_claim_is_loaded(set, claimed_patch(session, i)))
      *claimed_patch(session, kept++) = *claimed_patch(session, i);
  pdi_claims_truncate(session, kept);
}

int
pdi_conflict_error(const active_rule_t *active, const pdi_rule_t *other, const pdi_object_t *object,
                   const char *function)
{
  char where[PATH_MAX + 16];
  return pdi_rule_error(active, "conflicts with the %s at %s, which already redirects %s's slot for %s",
                        pdi_rule_kind_name(other->kind), pdi_origin_where(&other->origin, where, sizeof where),
                        object->name, function);
}

int
pdi_slot_conflict(const pdi_session_t *session, unsigned in_hand, unsigned owner, const pdi_object_t *object,
                  const char *function)
{
  unsigned subject = in_hand, other = owner;
  if (owner > in_hand && session->config.options.on_error != PDI_ON_ERROR_WARN && !session->installed)
    subject = owner, other = in_hand;
  return pdi_conflict_error(&session->rules[subject], session->rules[other].rule, object, function);
}

static int
same_text(const char *a, const char *b)
{
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static const char *
backend_of(const pdi_rule_t *rule)
{
  return rule->backend_object != NULL ? rule->backend_object : rule->backend;
}

/* Two rules of one kind that send a slot to the same wrapper (or the same
 * callback backend and handler): the later one is a duplicate, not a
 * conflict, and leaves the slot to the earlier. */
int
pdi_same_redirect(const pdi_rule_t *a, const pdi_rule_t *b)
{
  return a->kind == b->kind && same_text(backend_of(a), backend_of(b)) && same_text(a->wrapper, b->wrapper);
}

/* The conflicts visible in the config itself, the same rule `pdi config
 * check` applies (src/ts/config/verify.ts): object patterns that are equal or
 * `*`, and on them two relinks (or two redefines) of one function with
 * different wrappers, a callback and a relink, or two different callbacks.
 * A relink over a redefine composes. Other overlaps are found per slot. */
static int
rules_conflict(const pdi_rule_t *earlier, const pdi_rule_t *later)
{
  if (earlier->kind == PDI_RULE_ACT || later->kind == PDI_RULE_ACT)
    return 0; /* act composes outermost; over a callback's slot it is refused per slot */
  if (strcmp(earlier->object, later->object) != 0 && strcmp(earlier->object, "*") != 0 &&
      strcmp(later->object, "*") != 0)
    return 0;
  if (pdi_same_redirect(earlier, later))
    return 0;
  int callbacks = (earlier->kind == PDI_RULE_CALLBACK) + (later->kind == PDI_RULE_CALLBACK);
  if (callbacks == 2)
    return 1;
  if (callbacks == 1)
    return earlier->kind == PDI_RULE_RELINK || later->kind == PDI_RULE_RELINK;
  return earlier->kind == later->kind && strcmp(earlier->function, later->function) == 0;
}

/* Whether two relink or redefine rules share a wrapper for different
 * functions, or for one function in both kinds: pdi_original(wrapper) has
 * one answer, so one of them would call the other's original (or, under a
 * relink composed over a redefine, the wrapper itself, forever). The same
 * check as src/ts/config/verify.ts. */
static int
wrapper_shared(const pdi_rule_t *earlier, const pdi_rule_t *later)
{
  if (earlier->kind != PDI_RULE_RELINK && earlier->kind != PDI_RULE_REDEFINE)
    return 0;
  if (later->kind != PDI_RULE_RELINK && later->kind != PDI_RULE_REDEFINE)
    return 0;
  if (!same_text(backend_of(earlier), backend_of(later)) || !same_text(earlier->wrapper, later->wrapper))
    return 0;
  return earlier->kind != later->kind || !same_text(earlier->function, later->function);
}

int
pdi_rule_conflicts_earlier(const pdi_session_t *session, unsigned index)
{
  const active_rule_t *active = &session->rules[index];
  for (unsigned e = 0; e < index; e++) {
    const pdi_rule_t *earlier = session->rules[e].rule;
    if (session->rules[e].skipped)
      continue;
    if (wrapper_shared(earlier, active->rule)) {
      char where[PATH_MAX + 16];
      return pdi_rule_field_error(active, PDI_FIELD_WRAPPER,
                                  "wrapper '%s' already serves the %s of %s at %s, and pdi_original() has one answer "
                                  "per wrapper: give each its own wrapper",
                                  active->rule->wrapper, pdi_rule_kind_name(earlier->kind), earlier->function,
                                  pdi_origin_where(&earlier->origin, where, sizeof where));
    }
    if (!rules_conflict(earlier, active->rule))
      continue;
    char where[PATH_MAX + 16];
    return pdi_rule_error(active, "conflicts with the %s at %s, which already redirects %s in %s",
                          pdi_rule_kind_name(earlier->kind), pdi_origin_where(&earlier->origin, where, sizeof where),
                          earlier->function ? earlier->function : "every import", earlier->object);
  }
  return 0;
}

static int
add_claim(pdi_session_t *session, unsigned rule_index, const pdi_object_t *object, const pdi_patch_t *patch,
          int watched)
{
  active_rule_t *active = &session->rules[rule_index];
  owned_patch_t *owned = pdi_array_push(&session->arena, &session->claims.patches, sizeof *owned);
  if (owned == NULL)
    return pdi_rule_error(active, "out of memory");
  owned->patch = *patch;
  owned->rule = rule_index;
  owned->watched = watched;
  owned->object_base = object->base;
  /* Claims come object by object: the previous claim's copy of the path is usually this one. */
  const owned_patch_t *previous = claimed_count(session) > 1 ? claimed_patch(session, claimed_count(session) - 2)
                                                             : NULL;
  owned->object_path = previous != NULL && previous->object_base == object->base &&
                               strcmp(previous->object_path, object->path) == 0
                           ? previous->object_path
                           : pdi_arena_strdup(&session->arena, object->path);
  active->slots += !watched;
  if (index_slot(session, claimed_count(session) - 1) != 0)
    return pdi_rule_error(active, "out of memory");
  return 0;
}

int
pdi_claim(pdi_session_t *session, unsigned rule_index, const pdi_object_t *object, const pdi_patch_t *patch)
{
  active_rule_t *active = &session->rules[rule_index];
  const owned_patch_t *existing = pdi_claims_find(session, patch->slot);
  if (existing != NULL && existing->rule == rule_index)
    return 0;
  if (existing != NULL && existing->patch.new_value == patch->new_value &&
      pdi_same_redirect(session->rules[existing->rule].rule, active->rule)) {
    active->shared++;
    return 0;
  }
  /* Within a session a relink composes over a redefine of the same slot:
   * its wrapper runs first and its original is the redefine wrapper. */
  pdi_rule_kind_t under = existing != NULL ? session->rules[existing->rule].rule->kind : PDI_RULE_RELINK;
  int composes = existing != NULL && ((active->rule->kind == PDI_RULE_RELINK && under == PDI_RULE_REDEFINE) ||
                                      (active->rule->kind == PDI_RULE_ACT && under != PDI_RULE_CALLBACK) ||
                                      (active->rule->kind == PDI_RULE_CALLBACK && under == PDI_RULE_ACT));
  if (existing != NULL && !composes)
    return pdi_slot_conflict(session, rule_index, existing->rule, object, active->name);
  const pdi_session_t *holder;
  const owned_patch_t *theirs = pdi_claims_find_elsewhere(session, patch->slot, &holder);
  if (theirs != NULL)
    return pdi_conflict_error(active, holder->rules[theirs->rule].rule, object, active->name);
  return add_claim(session, rule_index, object, patch, 0);
}

int
pdi_claim_admitted(pdi_session_t *session, unsigned rule_index, const pdi_object_t *object, const pdi_patch_t *patch)
{
  /* The plan found no session's claim on the slot; one of this plan's own
   * (a slot named by two relocations) is still looked for. */
  return pdi_claims_find(session, patch->slot) != NULL ? pdi_claim(session, rule_index, object, patch)
                                                       : add_claim(session, rule_index, object, patch, 0);
}

const owned_patch_t *
pdi_claims_find_elsewhere(const pdi_session_t *session, uintptr_t *slot, const pdi_session_t **holder)
{
  for (const pdi_session_t *other = pdi_sessions_first(); other != NULL; other = other->next) {
    const owned_patch_t *theirs = other != session ? pdi_claims_find(other, slot) : NULL;
    if (theirs != NULL) {
      *holder = other;
      return theirs;
    }
  }
  return NULL;
}

int
pdi_claim_watched(pdi_session_t *session, unsigned rule_index, const pdi_object_t *object, const pdi_patch_t *patch)
{
  return latest_claim(session, patch->slot) != NULL ? 0 : add_claim(session, rule_index, object, patch, 1);
}
