/* Planning and applying a session's rules on a snapshot of the process:
 * each mechanism's planner finds the slots, the session claims them, and
 * each pass is applied as one batch. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../relink/relink.h"
#include "internal.h"

static int
pattern_is_explicit(const char *pattern)
{
  return strpbrk(pattern, "*?[") == NULL;
}

/* ---- relink */

/* The file defining the function at `address`, for a message. */
static const char *
definer_of(uintptr_t address)
{
  Dl_info info;
  return dladdr((void *)address, &info) != 0 && info.dli_fname != NULL ? info.dli_fname : "an unknown object";
}

static int
collect_patch(void *context, const pdi_object_t *object, const pdi_slot_t *slot, const pdi_relink_slot_t *planned)
{
  install_context_t *install = context;
  pdi_session_t *session = install->session;
  active_rule_t *active = &session->rules[install->rule_index];
  const owned_patch_t *existing = pdi_claims_find(session, planned->patch.slot);
  if (existing != NULL && existing->rule == install->rule_index)
    return 0;
  if (planned->variable != NULL) {
    install->failed = pdi_rule_field_error(
        active, PDI_FIELD_FUNCTION, "'%s' is %s of %s, not a function: rules divert calls, not variables", active->name,
        planned->variable, planned->variable_object != NULL ? planned->variable_object->path : object->path);
    return 1;
  }
  if (planned->original == 0) {
    install->failed = pdi_rule_error(active, "no loaded object defines '%s'", active->name);
    return 1;
  }
  /* One rule over several objects (a glob), some bound to another
   * definition (a library's own dependency, loaded RTLD_LOCAL): its wrapper's
   * pdi_original() would send their calls to the first definition. */
  if (active->original != 0 && planned->original != active->original) {
    char first[PATH_MAX];
    snprintf(first, sizeof first, "%s", definer_of(active->original));
    const char *version = slot->version, *first_version = active->original_version;
    if (version && first_version && strcmp(version, first_version) && !strcmp(first, definer_of(planned->original))) {
      install->failed = pdi_rule_error(active,
                                       "%s calls %s in two versions of %s, %s@%s and %s@%s, but wrapper '%s' can "
                                       "stand for one, as pdi_original() has one answer per wrapper: write a rule "
                                       "for each version (function: %s@VERSION, @@ for the default) with a wrapper "
                                       "of its own",
                                       object->path, active->name, first, active->name, first_version, active->name,
                                       version, active->rule->wrapper, active->name);
      return 1;
    }
    install->failed = pdi_rule_error(active,
                                     "%s calls the %s of %s, but wrapper '%s' already stands for the one of %s, and "
                                     "pdi_original() has one answer per wrapper: give the objects of each definition "
                                     "a rule with a wrapper of its own",
                                     object->path, active->name, definer_of(planned->original), active->rule->wrapper,
                                     first);
    return 1;
  }
  if (pdi_claim(session, install->rule_index, object, &planned->patch) != 0) {
    install->failed = -1;
    return 1;
  }
  if (active->original == 0) {
    active->original = planned->original;
    active->original_version = slot->version;
    const pdi_object_t *definer = pdi_objects_containing(install->set, planned->original);
    active->original_object = definer != NULL ? definer->base : 0;
  }
  return 0;
}

/* ---- redefine */

/* Redefine, for one object's slots: bound ones move from the old definition
 * to the wrapper; lazy ones and ones the loader already bound to the wrapper
 * (an object loaded later) are watched, to be put back at uninstall; in pdi's
 * and the backends' objects (which must keep reaching the original) lazy ones
 * are bound to the original now, before the patched symbol table could hand
 * them the wrapper. */
static int
redefine_slot(void *context, const pdi_object_t *object, const pdi_slot_t *slot, const pdi_binding_t *binding)
{
  install_context_t *install = context;
  pdi_session_t *session = install->session;
  active_rule_t *active = &session->rules[install->rule_index];
  uintptr_t addend = slot->has_addend ? (uintptr_t)slot->addend : 0;
  const char *why = NULL;
  pdi_patch_t patch = {slot->address, binding->value, 0};
  if (pdi_object_is_protected(session, object, &why)) {
    if (!binding->lazy)
      return 0;
    patch.new_value = active->target.old_address + addend;
  } else if (binding->lazy || binding->value == active->wrapper + addend) {
    pdi_patch_t watched = {slot->address, binding->lazy ? *slot->address : active->target.old_address + addend,
                           active->wrapper + addend};
    if (pdi_claim_watched(session, install->rule_index, object, &watched) != 0)
      install->failed = -1;
    return install->failed ? 1 : 0;
  } else {
    if (binding->value != active->target.old_address + addend)
      return 0;
    patch.new_value = active->wrapper + addend;
  }
  if (pdi_claim(session, install->rule_index, object, &patch) != 0) {
    install->failed = -1;
    return 1;
  }
  return 0;
}

/* The slots of the reachable objects that name some redefine rule's
 * function, found in one walk of their relocations for all the rules (a
 * walk per rule cost comux-accept's ten rules ten walks at every start). */
typedef struct redefine_slot_entry {
  const pdi_object_t *object;
  pdi_slot_t slot;
} redefine_slot_entry_t;

typedef struct named_slots {
  pdi_session_t *session;
  pdi_arena_t arena;
  pdi_array_t entries;
  int failed;
} named_slots_t;

static int
note_named_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  named_slots_t *found = context;
  const pdi_session_t *session = found->session;
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    const active_rule_t *active = &session->rules[r];
    if (active->skipped || active->rule->kind != PDI_RULE_REDEFINE || slot->kind == PDI_SLOT_COPY ||
        strcmp(slot->symbol, active->name) != 0)
      continue;
    redefine_slot_entry_t *entry = pdi_array_push(&found->arena, &found->entries, sizeof *entry);
    if (entry == NULL) {
      found->failed = 1;
      return 1;
    }
    entry->object = object;
    entry->slot = *slot;
    return 0;
  }
  return 0;
}

static int
find_named_slots(pdi_session_t *session, const pdi_objects_t *set, unsigned limit, named_slots_t *found)
{
  memset(found, 0, sizeof *found);
  found->session = session;
  for (unsigned i = 0; i < limit && !found->failed; i++)
    if (!(set->items[i].flags & PDI_OBJECT_VDSO))
      pdi_object_each_slot(&set->items[i], note_named_slot, found);
  if (found->failed) {
    pdi_arena_release(&found->arena);
    pdi_set_error("out of memory while installing");
    return -1;
  }
  return 0;
}

/* At log level debug: what a rule took of one object. */
static void
log_object_slots(const active_rule_t *active, const pdi_object_t *object, size_t count)
{
  if (count == 0)
    return;
  char where[PATH_MAX + 16];
  pdi_log(PDI_LOG_DEBUG, "%s: %s %s: %zu slot(s) of %s", pdi_origin_where(&active->rule->origin, where, sizeof where),
          pdi_rule_kind_name(active->rule->kind), active->name, count, object->path);
}

/* A plain name (foo) replaces the definition its definer gives by default (foo@@V2): a slot bound to another version
 * of it there (an old program's foo@V1) keeps calling that one, which the outcome at the install says (outcomes.c). */
static void
note_other_version(pdi_session_t *session, const pdi_objects_t *set, active_rule_t *active,
                   const redefine_slot_entry_t *entry)
{
  const pdi_slot_t *slot = &entry->slot;
  if (session->installed || active->req.version != NULL || slot->kind == PDI_SLOT_COPY || slot->version == NULL ||
      strcmp(slot->symbol, active->name) != 0)
    return;
  pdi_version_req_t other = {slot->version, 0};
  const pdi_object_t *definer = NULL;
  if (pdi_resolve_definition(set, active->name, &other, pdi_is_any_backend, session, &definer) != 0 &&
      definer != NULL && definer->base == active->target.definer->base) {
    active->other_version_slots++;
    active->other_version = slot->version;     /* in the definer's tables, which stay loaded */
    if (active->other_version_definer == NULL) /* the scan's path goes with it: a copy */
      active->other_version_definer = pdi_arena_strdup(&session->arena, definer->path);
  }
}

static int
plan_redefine(pdi_session_t *session, const pdi_objects_t *set, unsigned rule_index, const named_slots_t *named)
{
  active_rule_t *active = &session->rules[rule_index];
  if (!active->has_target) {
    if (pdi_refuse_protected_definer(session, set, active) != 0)
      return -1;
    /* A definer that is not loaded yet (dlopen later) is waited for, as a
     * relink waits for the objects that import its function. */
    if (!pdi_redefine_find(set, active->rule->object, active->name, &active->req, pdi_is_any_backend, session,
                           &active->target))
      return 0;
    active->has_target = 1;
    active->original = active->target.old_address;
    active->original_object = active->target.definer->base;
    char where[PATH_MAX + 16];
    pdi_log(PDI_LOG_DEBUG, "%s: redefine %s: the definition of %s%s%s in %s",
            pdi_origin_where(&active->rule->origin, where, sizeof where), active->name, active->name,
            active->target.version ? "@" : "", active->target.version ? active->target.version : "",
            active->target.definer->path);
    pdi_patch_t symbol[2];
    size_t count = pdi_redefine_symbol_patches(&active->target, active->wrapper, symbol);
    for (size_t i = 0; i < count; i++)
      if (pdi_claim(session, rule_index, active->target.definer, &symbol[i]) != 0)
        return -1;
  }
  const redefine_slot_entry_t *entries = named->entries.items;
  /* The entries come object by object: a debug line each, of the slots patched and the lazy ones left to bind to
   * the wrapper through the definer's symbol (claims either way). */
  const pdi_object_t *object = NULL;
  size_t claims_before = claimed_count(session);
  for (size_t i = 0; i < named->entries.count; i++) {
    const redefine_slot_entry_t *entry = &entries[i];
    if (entry->object != object) {
      if (object != NULL)
        log_object_slots(active, object, claimed_count(session) - claims_before);
      object = entry->object;
      claims_before = claimed_count(session);
    }
    if (!pdi_redefine_slot_matches(&active->target, active->name, &entry->slot)) {
      note_other_version(session, set, active, entry);
      continue;
    }
    pdi_binding_t binding;
    pdi_slot_binding(set, entry->object, &entry->slot, &binding);
    install_context_t install = {session, rule_index, entry->object, 0, set};
    redefine_slot(&install, entry->object, &entry->slot, &binding);
    if (install.failed)
      return -1;
  }
  if (object != NULL)
    log_object_slots(active, object, claimed_count(session) - claims_before);
  return 0;
}

/* ---- callback */

int
pdi_sites_reserve(pdi_session_t *session, site_plan_buffer_t *buffer, const pdi_object_t *object)
{
  size_t bound = pdi_object_slot_bound(object);
  return pdi_array_reserve(&session->arena, &buffer->sites, bound, sizeof(planned_site_t)) == 0 &&
                 pdi_claims_reserve(session, bound) == 0
             ? 0
             : -1;
}

pdi_cb_site_t
pdi_site_describe(site_plan_buffer_t *buffer, const pdi_objects_t *set, const pdi_object_t *object,
                  const pdi_slot_t *slot, uintptr_t target)
{
  /* A slot that an act rule's stub holds calls the function through it: the callee is that function's object (was
   * none: `"callee": null` in pdi trace --config of an act rule). */
  uintptr_t through;
  for (int hops = 0; hops < 4 && pdi_cb_stub_site(target, &through) != NULL; hops++)
    target = through;
  if (buffer->callee == NULL || target < buffer->callee_start || target >= buffer->callee_end) {
    buffer->callee = pdi_objects_containing(set, target);
    if (buffer->callee == NULL ||
        !pdi_object_load_segment(buffer->callee, target, &buffer->callee_start, &buffer->callee_end))
      buffer->callee_start = buffer->callee_end = 0;
  }
  return (pdi_cb_site_t){object->path, slot->symbol, slot->version, buffer->callee ? buffer->callee->path : NULL};
}

/* The stubs a batch takes from the free ones: sites served by a stub handed
 * out before (the same library loaded again) take none. Counted only when
 * the batch is larger than what is free, which is rare. */
static size_t
new_stubs_needed(const site_plan_buffer_t *buffer, const pdi_cb_hooks_t *hooks)
{
  if (buffer->sites.count <= pdi_cb_free_stubs())
    return buffer->sites.count;
  size_t needed = 0;
  for (size_t i = 0; i < buffer->sites.count; i++) {
    const planned_site_t *site = &((const planned_site_t *)buffer->sites.items)[i];
    needed += !pdi_cb_site_has_stub(site->target, site->event, &site->site, hooks);
  }
  return needed;
}

int
pdi_sites_install(pdi_session_t *session, const pdi_object_t *object, const site_plan_buffer_t *buffer,
                  active_rule_t *reporter, const pdi_cb_hooks_t *hooks)
{
  size_t needed = new_stubs_needed(buffer, hooks);
  if (needed > pdi_cb_free_stubs()) {
    pdi_rule_error(reporter, "%s needs %zu stubs, but cb_max_stubs = %ld leaves %u free", object->path, needed,
                   session->config.options.cb_max_stubs, pdi_cb_free_stubs());
    return PDI_SITES_NO_ROOM;
  }
  pdi_cb_kept_strings_t batch = {{NULL}, {NULL}};
  for (size_t i = 0; i < buffer->sites.count; i++) {
    const planned_site_t *site = &((const planned_site_t *)buffer->sites.items)[i];
    uintptr_t stub = pdi_cb_add_site(site->target, site->event, &site->site, hooks, &batch);
    pdi_patch_t patch = {site->slot, site->value, stub};
    if (stub == 0 ||
        (site->admitted_unclaimed ? pdi_claim_admitted : pdi_claim)(session, site->owner, object, &patch) != 0)
      return stub == 0 ? pdi_rule_error(reporter, "%s", pdi_error()) : -1;
  }
  return 0;
}

/* ---- every rule of one kind */

/* How many objects, in load order, rules may reach (max_objects). */
static unsigned
reachable_objects(pdi_session_t *session, const pdi_objects_t *set)
{
  unsigned limit = set->count;
  if (session->config.options.max_objects > 0 && (long)limit > session->config.options.max_objects) {
    limit = (unsigned)session->config.options.max_objects;
    if (!session->warned_max_objects) {
      char place[PATH_MAX + 40];
      pdi_origin_format(&session->config.options.origin[PDI_OPTION_INDEX(max_objects)], place, sizeof place);
      pdi_log(PDI_LOG_WARNING, "%s%u objects are loaded but max_objects is %u: rules reach only the first %u", place,
              set->count, limit, limit);
    }
    session->warned_max_objects = 1;
  }
  return limit;
}

/* Whether a rule's error ends the open (on_error = fail, while it is
 * installing); otherwise the rule is logged once, at skip_level, and skipped:
 * after the open, on an object loaded later, as an error under on_error =
 * fail, since the program runs on. */
static int
fails_the_open(const pdi_session_t *session)
{
  return session->config.options.on_error != PDI_ON_ERROR_WARN && !session->installed;
}

static int
skip_level(const pdi_session_t *session)
{
  return session->config.options.on_error == PDI_ON_ERROR_WARN ? PDI_LOG_WARNING : PDI_LOG_ERROR;
}

/* A relink or a callback on the first `limit` objects its pattern matches.
 * An object the pattern names explicitly but that is protected is an error.
 * An object a callback has too few stubs left for is left untouched and the
 * rule goes on with the others, unless that error ends the open. */
static int
plan_on_objects(pdi_session_t *session, const pdi_objects_t *set, unsigned rule_index, unsigned limit)
{
  active_rule_t *active = &session->rules[rule_index];
  int failed = 0;
  /* Once per rule, not per object: each guard is a dozen sigaction calls. */
  if (active->rule->kind == PDI_RULE_CALLBACK)
    pdi_backend_guard(session, active->rule->backend, "in pdi_be_cb_req of");
  for (unsigned i = 0; i < limit && !failed; i++) {
    const pdi_object_t *object = &set->items[i];
    if (!pdi_object_matches(object, active->rule->object))
      continue;
    const char *why = NULL;
    if (pdi_object_is_protected(session, object, &why)) {
      if (pattern_is_explicit(active->rule->object) && strcmp(active->rule->object, "*") != 0)
        failed = pdi_rule_field_error(active, PDI_FIELD_OBJECT, "object %s %s", object->path, why);
      continue;
    }
    unsigned slots_before = active->slots;
    if (active->rule->kind == PDI_RULE_CALLBACK) {
      if (pdi_bases_hold(&active->objects_without_room, object->base))
        continue;
      failed = pdi_plan_callback(session, set, rule_index, object);
      log_object_slots(active, object, active->slots - slots_before);
      if (failed == PDI_SITES_NO_ROOM && !fails_the_open(session)) {
        pdi_log(skip_level(session), "%s (object skipped)", pdi_error());
        pdi_bases_add(&session->arena, &active->objects_without_room, object->base);
        failed = 0;
      }
      continue;
    }
    install_context_t install = {session, rule_index, object, 0, set};
    pdi_relink_plan(set, object, active->name, &active->req, active->wrapper, pdi_is_any_backend, session,
                    collect_patch, &install);
    failed = install.failed;
    log_object_slots(active, object, active->slots - slots_before);
  }
  pdi_backend_unguard();
  return failed;
}

/* Plans every active rule of one kind on `set`; with on_error = warn a
 * failing rule is logged and dropped (its claims rolled back), otherwise the
 * first error ends the plan. Returns 0 or -1. */
static int
has_active_rule(const pdi_session_t *session, pdi_rule_kind_t kind)
{
  for (unsigned r = 0; r < session->config.rule_count; r++)
    if (!session->rules[r].skipped && session->rules[r].rule->kind == kind)
      return 1;
  return 0;
}

static int
plan_rules(pdi_session_t *session, const pdi_objects_t *set, pdi_rule_kind_t kind)
{
  /* A kind without rules costs nothing: redefine's search of every object's slots above all. */
  if (!has_active_rule(session, kind))
    return 0;
  unsigned limit = reachable_objects(session, set);
  named_slots_t named;
  if (kind == PDI_RULE_REDEFINE && find_named_slots(session, set, limit, &named) != 0)
    return -1;
  int result = 0;
  for (unsigned r = 0; r < session->config.rule_count && result == 0; r++) {
    active_rule_t *active = &session->rules[r];
    if (active->skipped || active->rule->kind != kind)
      continue;
    size_t rule_start = claimed_count(session);
    unsigned slots_before = active->slots;
    unsigned shared_before = active->shared;
    int had_target = active->has_target;
    int failed = kind != PDI_RULE_CALLBACK && pdi_refuse_variable(session, set, active) != 0 ? -1
                 : kind == PDI_RULE_REDEFINE ? plan_redefine(session, set, r, &named)
                                             : plan_on_objects(session, set, r, limit);
    if (failed) {
      pdi_claims_truncate(session, rule_start);
      active->slots = slots_before;
      active->shared = shared_before;
      active->has_target = had_target;
      if (fails_the_open(session)) {
        result = -1;
        continue;
      }
      pdi_log(skip_level(session), "%s (rule skipped)", pdi_error());
      active->skipped = 1;
    }
  }
  if (kind == PDI_RULE_REDEFINE)
    pdi_arena_release(&named.arena);
  return result;
}

static int
apply_planned(pdi_session_t *session, size_t from)
{
  size_t count = claimed_count(session) - from;
  if (count == 0)
    return 0;
  pdi_patch_t *batch = pdi_arena_alloc(&session->arena, count * sizeof *batch);
  if (batch == NULL) {
    pdi_set_error("out of memory while installing");
    return -1;
  }
  size_t written = 0;
  for (size_t i = 0; i < count; i++)
    if (!claimed_patch(session, from + i)->watched)
      batch[written++] = claimed_patch(session, from + i)->patch;
  /* Originals are published before any slot moves: another thread may enter
   * a wrapper the moment its slot is stored. */
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    active_rule_t *active = &session->rules[r];
    if (active->original != 0 &&
        (pdi_originals_add(active->wrapper, active->original) != 0 ||
         (active->wrapper_seen[0] != 0 && pdi_originals_alias(active->wrapper_seen[0], active->original) != 0) ||
         (active->wrapper_seen[1] != 0 && pdi_originals_alias(active->wrapper_seen[1], active->original) != 0))) {
      pdi_set_error("too many wrappers registered");
      return -1;
    }
  }
  if (pdi_patch_apply(batch, written, 0) != 0)
    return -1;
  return 0;
}

/* The act rules in one pass (one stub per site); on_error = warn drops them all when the pass fails. */
static int
plan_act_rules(pdi_session_t *session, const pdi_objects_t *set)
{
  size_t from = claimed_count(session);
  if (pdi_act_plan(session, set, reachable_objects(session, set)) == 0)
    return 0;
  pdi_claims_truncate(session, from);
  if (fails_the_open(session))
    return -1;
  pdi_log(skip_level(session), "%s (act rules skipped)", pdi_error());
  pdi_act_skip_all(session);
  return 0;
}

void
pdi_rules_forget_unloaded(pdi_session_t *session, const pdi_objects_t *set)
{
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    active_rule_t *active = &session->rules[r];
    if (active->original_object == 0)
      continue;
    const pdi_object_t *definer = pdi_objects_containing(set, active->original);
    if (definer != NULL && definer->base == active->original_object)
      continue;
    /* The target's symbol and version lay in the unloaded definer's tables. */
    active->has_target = 0;
    memset(&active->target, 0, sizeof active->target);
    active->original = 0;
    active->original_object = 0;
    active->original_version = NULL;
  }
}

/* Redefines first, so relinks see the redefined bindings (a relink wrapper's original is then the redefine
 * wrapper); act rules next, outermost over those; callbacks last, over an act rule's stub too, so that their hooks
 * (a trace) see calls as the act rule made them. Each pass is applied before the next is planned. */
int
pdi_rules_install(pdi_session_t *session, const pdi_objects_t *set)
{
  static const pdi_rule_kind_t order[] = {PDI_RULE_REDEFINE, PDI_RULE_RELINK, PDI_RULE_ACT, PDI_RULE_CALLBACK};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    size_t from = claimed_count(session);
    int failed = order[i] == PDI_RULE_ACT ? plan_act_rules(session, set) : plan_rules(session, set, order[i]);
    if (failed != 0 || apply_planned(session, from) != 0)
      return -1;
  }
  return 0;
}
