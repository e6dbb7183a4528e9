/* A session's `act` rules (docs/act.md): the core brings the bundled act
 * backend itself, hands it the rules the config reader parsed, and puts its
 * stubs on the slots of the functions the rules name, outermost: over a
 * relink or redefine of the same slot, as a wrapper of the wrapper. Which
 * rules a call site gets is decided here, with the object patterns every
 * rule uses; the backend counts and acts. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../backends/act/act-spec.h"
#include "internal.h"

#define ACT_BACKEND_NAME "pdi.act"

static int
has_act_rules(const pdi_config_t *config)
{
  for (unsigned r = 0; r < config->rule_count; r++)
    if (config->rules[r].kind == PDI_RULE_ACT)
      return 1;
  return 0;
}

int
pdi_act_declare_backend(pdi_session_t *session)
{
  pdi_config_t *config = &session->config;
  if (!has_act_rules(config))
    return 0;
  unsigned count = 0;
  for (unsigned r = 0; r < config->rule_count; r++)
    if (config->rules[r].kind == PDI_RULE_ACT && ++count > ACT_MAX_RULES) {
      char where[PATH_MAX + 16];
      pdi_set_error("%s: act: more than %d act rules", pdi_origin_where(&config->rules[r].origin, where, sizeof where),
                    ACT_MAX_RULES);
      return -1;
    }
  pdi_backend_decl_t *backends = pdi_arena_alloc(&session->arena, (config->backend_count + 1) * sizeof *backends);
  if (backends == NULL) {
    pdi_set_error("out of memory");
    return -1;
  }
  memcpy(backends, config->backends, config->backend_count * sizeof *backends);
  const pdi_rule_t *first = NULL;
  for (unsigned r = 0; r < config->rule_count; r++) {
    pdi_rule_t *rule = &config->rules[r];
    if (rule->kind != PDI_RULE_ACT)
      continue;
    rule->backend = ACT_BACKEND_NAME;
    first = first != NULL ? first : rule;
  }
  backends[config->backend_count] = (pdi_backend_decl_t){ACT_BACKEND_NAME, "act", first->origin, first->origin};
  config->backends = backends;
  config->backend_count++;
  return 0;
}

static loaded_backend_t *
act_backend(pdi_session_t *session)
{
  for (unsigned i = 0; i < session->config.backend_count; i++)
    if (strcmp(session->backends[i].decl->name, ACT_BACKEND_NAME) == 0)
      return session->backends[i].handle != NULL && !session->backends[i].failed ? &session->backends[i] : NULL;
  return NULL;
}

int
pdi_act_configure_backend(pdi_session_t *session)
{
  loaded_backend_t *backend = act_backend(session);
  if (backend == NULL)
    return 0; /* none, or it failed to load (already reported) */
  int (*configure)(const act_rule_t *, unsigned,
                   size_t) = (int (*)(const act_rule_t *, unsigned, size_t))dlsym(backend->handle, "pdi_act_configure");
  session->act_event = (int (*)(const short *))dlsym(backend->handle, "pdi_act_site_event");
  session->act_counts = (int (*)(unsigned, unsigned long *, unsigned long *))dlsym(backend->handle, "pdi_act_counts");
  session->act_release = (void (*)(unsigned, unsigned))dlsym(backend->handle, "pdi_act_release");
  act_rule_t *rules = pdi_arena_alloc(&session->arena, session->config.rule_count * sizeof *rules);
  unsigned count = 0;
  for (unsigned r = 0; rules != NULL && r < session->config.rule_count; r++)
    if (session->config.rules[r].kind == PDI_RULE_ACT)
      rules[count++] = *session->config.rules[r].act;
  int first = configure != NULL && session->act_event != NULL && session->act_counts != NULL &&
                      session->act_release != NULL && rules != NULL
                  ? configure(rules, count, sizeof *rules)
                  : -2;
  if (first == -1) {
    pdi_set_error("%s: act: more than %d act rules in the sessions of this process",
                  backend->decl->origin.file ? backend->decl->origin.file : "act", ACT_MAX_RULES);
    session->act_event = NULL;
    return -1;
  }
  if (first < 0) {
    session->act_event = NULL;
    pdi_set_error("%s: the act backend %s does not match this pdi (a mixed installation?)",
                  backend->decl->origin.file ? backend->decl->origin.file : "act", backend->path);
    return -1;
  }
  session->act_first = (unsigned)first;
  session->act_count = count;
  return 0;
}

void
pdi_act_release(pdi_session_t *session)
{
  if (session->act_event != NULL)
    session->act_release(session->act_first, session->act_count);
  session->act_event = NULL;
  session->act_counts = NULL;
}

void
pdi_act_log_counts(const pdi_session_t *session)
{
  if (session->act_counts == NULL || !pdi_log_enabled(PDI_LOG_INFO))
    return;
  /* A process the program started (a forked child, a program it ran) has
   * lines of its own: they are named, or they read as the program's. */
  char process[32] = "";
  if (getpid() != session->opener || (session->launcher != 0 && getppid() != session->launcher))
    snprintf(process, sizeof process, " (process %d)", (int)getpid());
  unsigned number = session->act_first; /* the n-th act rule of the config is the backend's rule first + n */
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    const pdi_rule_t *rule = &session->config.rules[r];
    unsigned long seen = 0, fired = 0;
    if (rule->kind != PDI_RULE_ACT || session->act_counts(number++, &seen, &fired) != 0)
      continue;
    pdi_log(PDI_LOG_INFO, "%s: act %s %s: %lu call(s) seen, %lu fired%s", rule->act->label, rule->object,
            rule->function, seen, fired, process);
  }
}

/* ---- planning: one pass for every act rule, after the other mechanisms */

typedef struct act_plan {
  pdi_session_t *session;
  const pdi_objects_t *set;
  unsigned rules[ACT_MAX_RULES]; /* the config's act rules that reach this object */
  short numbers[ACT_MAX_RULES];  /* and the backend's number of each */
  unsigned rule_count;
  site_plan_buffer_t buffer;
  int failed;
  /* per rule of `rules`: this object's pointer slots are not counted yet, and how many it has */
  unsigned char pointers_uncounted[ACT_MAX_RULES];
  unsigned pointers_found[ACT_MAX_RULES];
} act_plan_t;

static int
names_function(const active_rule_t *active, const pdi_slot_t *slot)
{
  return strcmp(active->name, slot->symbol) == 0 &&
         (active->req.version == NULL || (slot->version != NULL && strcmp(slot->version, active->req.version) == 0));
}

/* The rules of this object that name the slot's function: config indexes
 * into `indexes`, the backend's numbers into `numbers` (ending with -1). */
static unsigned
rules_of_slot(const act_plan_t *plan, const pdi_slot_t *slot, unsigned *indexes, short *numbers)
{
  unsigned n = 0;
  for (unsigned i = 0; i < plan->rule_count; i++)
    if (names_function(&plan->session->rules[plan->rules[i]], slot)) {
      indexes[n] = plan->rules[i];
      numbers[n++] = plan->numbers[i];
    }
  numbers[n] = -1;
  return n;
}

static pdi_cb_admission_t
admit_act_slot(void *context, const pdi_object_t *object, const pdi_slot_t *slot)
{
  act_plan_t *plan = context;
  unsigned indexes[ACT_MAX_RULES];
  short numbers[ACT_MAX_RULES + 1];
  if (rules_of_slot(plan, slot, indexes, numbers) == 0)
    return PDI_CB_PASS;
  const owned_patch_t *claimed = pdi_claims_find(plan->session, slot->address);
  /* A slot another session (pdi run's, under pdi attach) changed holds what
   * that session put there, a stub of its own act rule too: a conflict, as
   * for every rule (pdi_claim), not a site passed over without a word. */
  const pdi_session_t *holder;
  const owned_patch_t *theirs = claimed == NULL ? pdi_claims_find_elsewhere(plan->session, slot->address, &holder)
                                                : NULL;
  if (theirs != NULL) {
    plan->failed = pdi_conflict_error(&plan->session->rules[indexes[0]], holder->rules[theirs->rule].rule, object,
                                      slot->symbol);
    return PDI_CB_STOP;
  }
  if (claimed == NULL)
    return PDI_CB_ADMIT;
  const pdi_rule_t *owner = plan->session->rules[claimed->rule].rule;
  if (owner->kind == PDI_RULE_ACT)
    return PDI_CB_PASS; /* taken when the object was first planned */
  if (owner->kind != PDI_RULE_CALLBACK)
    return PDI_CB_ADMIT; /* over a relink or redefine: the act stub calls its wrapper */
  uintptr_t under;
  if (pdi_cb_stub_site(claimed->patch.old_value, &under) != NULL)
    return PDI_CB_PASS; /* a callback over the act stub planned before (a dlopen plans the slots again) */
  plan->failed = pdi_slot_conflict(plan->session, indexes[0], claimed->rule, object, slot->symbol);
  return PDI_CB_STOP;
}

static int
take_act_site(void *context, const pdi_object_t *object, const pdi_slot_t *slot, uintptr_t target)
{
  act_plan_t *plan = context;
  pdi_session_t *session = plan->session;
  unsigned indexes[ACT_MAX_RULES];
  short numbers[ACT_MAX_RULES + 1];
  unsigned n = rules_of_slot(plan, slot, indexes, numbers);
  int event = session->act_event(numbers);
  if (event <= 0) {
    pdi_log(PDI_LOG_WARNING, "act %s in %s: too many different rule lists; this call site is left alone", slot->symbol,
            object->path);
    return 0;
  }
  pdi_cb_site_t site = pdi_site_describe(&plan->buffer, plan->set, object, slot, target);
  planned_site_t *planned = pdi_array_push(&session->arena, &plan->buffer.sites, sizeof *planned);
  if (planned == NULL) {
    plan->failed = pdi_rule_error(&session->rules[indexes[0]], "out of memory");
    return 1;
  }
  *planned = (planned_site_t){slot->address, *slot->address, target, event, indexes[0], site, 0};
  for (unsigned i = 1; i < n; i++)
    session->rules[indexes[i]].slots++;
  return 0;
}

static void
note_pointer_slot(void *context, const pdi_object_t *object, const pdi_slot_t *slot)
{
  (void)object;
  act_plan_t *plan = context;
  for (unsigned i = 0; i < plan->rule_count; i++)
    if (plan->pointers_uncounted[i] && names_function(&plan->session->rules[plan->rules[i]], slot))
      plan->pointers_found[i]++;
}

/* Each object's pointer slots are counted once: a later load plans every
 * object again. Those of an object loaded after the install wait to be
 * reported (pdi_act_report_late_pointers). */
static int
count_pointer_slots(act_plan_t *plan, const pdi_object_t *object)
{
  pdi_session_t *session = plan->session;
  for (unsigned i = 0; i < plan->rule_count; i++) {
    active_rule_t *active = &session->rules[plan->rules[i]];
    if (plan->pointers_found[i] == 0)
      continue;
    if (pdi_bases_add(&session->arena, &active->pointer_objects, object->base) != 0)
      return pdi_rule_error(active, "out of memory");
    active->pointer_slots += plan->pointers_found[i];
    if (session->installed) {
      active->pointer_slots_unsaid += plan->pointers_found[i];
      active->pointer_object_unsaid = object->path;
    }
  }
  return 0;
}

/* One object: every site its act rules name gets a stub, or none does. */
static int
plan_act_object(act_plan_t *plan, const pdi_object_t *object)
{
  static const pdi_cb_sink_t sink = {admit_act_slot, take_act_site, note_pointer_slot};
  pdi_session_t *session = plan->session;
  active_rule_t *first = &session->rules[plan->rules[0]];
  plan->buffer = (site_plan_buffer_t){{NULL, 0, 0, 0}, NULL, 0, 0};
  for (unsigned i = 0; i < plan->rule_count; i++) {
    plan->pointers_uncounted[i] = !pdi_bases_hold(&session->rules[plan->rules[i]].pointer_objects, object->base);
    plan->pointers_found[i] = 0;
  }
  if (pdi_sites_reserve(session, &plan->buffer, object) != 0)
    return pdi_rule_error(first, "out of memory");
  pdi_cb_plan(plan->set, object, pdi_is_any_backend, session, &sink, plan);
  if (plan->failed || count_pointer_slots(plan, object) != 0)
    return -1;
  return pdi_sites_install(session, object, &plan->buffer, first, &first->hooks);
}

int
pdi_act_plan(pdi_session_t *session, const pdi_objects_t *set, unsigned limit)
{
  if (session->act_event == NULL)
    return 0;
  for (unsigned r = 0; r < session->config.rule_count; r++)
    if (session->rules[r].rule->kind == PDI_RULE_ACT && !session->rules[r].skipped &&
        pdi_refuse_variable(session, set, &session->rules[r]) != 0)
      return -1;
  act_plan_t plan = {.session = session, .set = set};
  for (unsigned i = 0; i < limit; i++) {
    const pdi_object_t *object = &set->items[i];
    if (pdi_object_is_protected(session, object, NULL))
      continue;
    plan.rule_count = 0;
    short number = (short)session->act_first; /* the n-th act rule of the config is the backend's rule first + n */
    for (unsigned r = 0; r < session->config.rule_count; r++) {
      const active_rule_t *active = &session->rules[r];
      if (active->rule->kind != PDI_RULE_ACT)
        continue;
      if (!active->skipped && pdi_object_matches(object, active->rule->object)) {
        plan.rules[plan.rule_count] = r;
        plan.numbers[plan.rule_count++] = number;
      }
      number++;
    }
    if (plan.rule_count > 0 && plan_act_object(&plan, object) != 0)
      return -1;
  }
  return 0;
}

/* After a failed act pass under on_error = warn: every act rule is dropped. */
void
pdi_act_skip_all(pdi_session_t *session)
{
  for (unsigned r = 0; r < session->config.rule_count; r++)
    if (session->rules[r].rule->kind == PDI_RULE_ACT)
      session->rules[r].skipped = 1;
}
