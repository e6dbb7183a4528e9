/* What the rules of a session met: their outcome at the open (logged at
 * info), and at the end the rules that met nothing, said once as warnings;
 * with the other processes of a launched program when they share their
 * verdicts (verdicts.c). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Notes the rules whose object pattern matches an object of `set` (every
 * object, not only the max_objects that rules reach), with the matching the
 * rules use, for the report at exit; nothing when there is none to make. */
void
pdi_session_note_matched_objects(pdi_session_t *session, const pdi_objects_t *set)
{
  if (!session->reports_unloaded && session->matched_marks == NULL)
    return;
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    active_rule_t *active = &session->rules[r];
    for (unsigned i = 0; i < set->count && !active->object_seen; i++)
      active->object_seen = pdi_object_matches(&set->items[i], active->rule->object);
    if (active->object_seen && !active->object_marked && session->matched_marks != NULL) {
      char mark[PATH_MAX];
      int fd = snprintf(mark, sizeof mark, "%s/%u", session->matched_marks, r) < (int)sizeof mark
                   ? open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)
                   : -1;
      if (fd >= 0)
        close(fd);
      active->object_marked = 1;
    }
  }
}

/* Whether a rule has redirected no slot, shared none with a duplicate and
 * found no pointer slot of its function: it changed nothing anywhere. */
static int
reached_nothing(const active_rule_t *active)
{
  return active->slots == 0 && active->shared == 0 && active->pointer_slots == 0;
}

/* The function as the rule spells it, version included (`vfoo@V1`). */
static const char *
rule_function(const active_rule_t *active)
{
  return active->rule->function != NULL ? active->rule->function : active->name;
}

/* Slots that hold the function's address: a warning when the rule has no other slot (it can fire on nothing). */
static void
log_pointer_slots(const active_rule_t *active, const char *where, unsigned count, const char *before,
                  const char *objects, const char *after)
{
  pdi_log(active->slots == 0 && active->shared == 0 ? PDI_LOG_WARNING : PDI_LOG_INFO,
          "%s: %s %s: %u slot(s) in %s%s%s hold its address as a pointer (GLOB_DAT, or abs in data) and are left "
          "alone, so that the function's address stays the same: calls made through them are not seen (relink and "
          "redefine reach them; docs/mechanisms.md)",
          where, pdi_rule_kind_name(active->rule->kind), rule_function(active), count, before, objects, after);
}

void
pdi_act_report_late_pointers(pdi_session_t *session)
{
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    active_rule_t *active = &session->rules[r];
    if (active->pointer_slots_unsaid == 0)
      continue;
    char where[PATH_MAX + 16];
    pdi_origin_where(&active->rule->origin, where, sizeof where);
    log_pointer_slots(active, where, active->pointer_slots_unsaid, "", active->pointer_object_unsaid,
                      ", loaded later,");
    active->pointer_slots_unsaid = 0;
    active->pointer_object_unsaid = NULL;
  }
}

void
pdi_session_log_outcomes(const pdi_session_t *session)
{
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    const active_rule_t *active = &session->rules[r];
    const pdi_rule_t *rule = active->rule;
    if (active->skipped)
      continue;
    char where[PATH_MAX + 16];
    pdi_origin_where(&rule->origin, where, sizeof where);
    if (active->shared != 0)
      pdi_log(PDI_LOG_INFO, "%s: %s %s: %u slot(s) already redirected the same way by an earlier rule (a duplicate)",
              where, pdi_rule_kind_name(rule->kind), rule->function ? rule->function : rule->object, active->shared);
    if (active->other_version_slots != 0)
      pdi_log(PDI_LOG_WARNING,
              "%s: redefine %s: %u slot(s) bound to %s@%s, another version of it in %s, are left alone: a name "
              "without a version replaces the one its definer gives by default (%s@@%s); give %s@%s a rule and a "
              "wrapper of its own",
              where, active->name, active->other_version_slots, active->name, active->other_version,
              active->other_version_definer ? active->other_version_definer : "?", active->name,
              active->target.version ? active->target.version : "?", active->name, active->other_version);
    if (active->pointer_slots != 0)
      log_pointer_slots(active, where, active->pointer_slots, "objects matching '", rule->object, "'");
    if (reached_nothing(active) && rule->kind == PDI_RULE_CALLBACK && active->declined != 0)
      pdi_log(PDI_LOG_INFO, "%s: callback on '%s': PDI_BE_FUNC_CB_REQ of backend '%s' left all %u import(s) alone",
              where, rule->object, rule->backend, active->declined);
    else if (reached_nothing(active) && rule->kind == PDI_RULE_CALLBACK)
      pdi_log(PDI_LOG_INFO, "%s: callback on '%s': no loaded object matches it yet", where, rule->object);
    else if (reached_nothing(active))
      pdi_log(PDI_LOG_INFO, "%s: %s %s: no loaded object matching '%s' %s it yet", where,
              pdi_rule_kind_name(rule->kind), rule_function(active), rule->object,
              rule->kind == PDI_RULE_REDEFINE ? "defines" : "imports");
    else if (active->slots != 0 || active->shared != 0)
      pdi_log(PDI_LOG_INFO, "%s %s in %s: %u slot(s) -> %s", pdi_rule_kind_name(rule->kind),
              rule->function ? rule->function : "*", rule->object, active->slots,
              rule->wrapper ? rule->wrapper : rule->backend);
  }
}

/* A redefine rule that found no definition of its function in any object it matched (a misspelled name, or one
 * that nothing loaded defines): nothing of the process changed. */
static int
never_defined(const active_rule_t *active)
{
  return active->rule->kind == PDI_RULE_REDEFINE && !active->has_target && !active->definer_seen;
}

/* What a rule met in this process so far, as VERDICT_* bits: an object its pattern matches, and (relink and act)
 * an import of its function there or (redefine) a definition of it; a callback has nothing past the object. */
static unsigned
rule_progress(const active_rule_t *active)
{
  if (active->skipped)
    return 0; /* reported as it was skipped */
  pdi_rule_kind_t kind = active->rule->kind;
  int reached = kind == PDI_RULE_RELINK || kind == PDI_RULE_ACT ? !reached_nothing(active)
                : kind == PDI_RULE_REDEFINE                     ? !never_defined(active)
                                                                : 1;
  return VERDICT_ACTIVE | (active->object_seen ? VERDICT_SEEN : 0) | (reached ? VERDICT_REACHED : 0);
}

/* The last scan at exit: a definer that no load event brought is not reported as missing. */
static void
note_late_definers(pdi_session_t *session, const pdi_objects_t *set)
{
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    active_rule_t *active = &session->rules[r];
    pdi_redefine_target_t target;
    if (!active->skipped && never_defined(active))
      active->definer_seen = pdi_redefine_find(set, active->rule->object, active->name, &active->req,
                                               pdi_is_any_backend, session, &target);
  }
}

/* At the exit of the process that opened the session (not in a forked
 * child; a program started by exec opens its own), each rule whose object
 * pattern matched no object during the whole life of the process, once, as
 * a warning: rules wait for objects loaded later, so this is no error. A
 * rule skipped for an error was reported then. Without the load watch,
 * objects loaded and unloaded went unseen, so nothing is said (nor under
 * PDI_WARN_UNLOADED=0). One last scan covers objects that no load event
 * brought (no constructor, the last load). Runs after the slots are put
 * back; allocates nothing but the scan's own mapping, and logs as the rest
 * of the core does (one write). */
void
pdi_session_report_never_matched(pdi_session_t *session, const char *during)
{
  if (!session->reports_unloaded || !pdi_log_enabled(PDI_LOG_WARNING) || getpid() != session->opener)
    return;
  int pending = 0;
  for (unsigned r = 0; r < session->config.rule_count; r++)
    pending |= !session->rules[r].skipped && (!session->rules[r].object_seen || never_defined(&session->rules[r]));
  pdi_objects_t set;
  if (pending && pdi_objects_scan(&set) == 0) {
    pdi_session_note_matched_objects(session, &set);
    note_late_definers(session, &set);
    pdi_objects_release(&set);
  }
  pdi_session_note_verdicts(session);
  if (!pdi_verdicts_leave(session))
    return; /* another process of the program reports, of all of them, when it ends */
  for (unsigned r = 0; r < session->config.rule_count; r++) {
    const active_rule_t *active = &session->rules[r];
    int unreported = active->rule->kind == PDI_RULE_CALLBACK && active->rule->backend != NULL &&
                     strcmp(active->rule->backend, session->unreported_backend) == 0;
    if (!active->skipped && !unreported)
      pdi_verdicts_warn(active->rule, rule_function(active), pdi_verdicts_of(session, r, rule_progress(active)),
                        during);
  }
}

void
pdi_session_note_verdicts(pdi_session_t *session)
{
  for (unsigned r = 0; session->verdicts != NULL && r < session->config.rule_count; r++)
    pdi_verdicts_note(session, r, rule_progress(&session->rules[r]));
}
