/* Callback site selection: which import slots of an object may take a stub,
 * and the real function behind each. What becomes of a slot (claims, the
 * backend's cb_req, the stub budget) is the caller's, through the sink. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "callback.h"

typedef struct site_plan {
  const pdi_objects_t *set;
  /* Where a lazy slot's function is looked for: the set without the
   * excluded objects, listed once per plan, or the set and the predicate. */
  const pdi_objects_t *definers;
  int (*excluded)(const pdi_object_t *object, void *context);
  void *excluded_context;
  const pdi_cb_sink_t *sink;
  void *sink_context;
  int calls_through_plt;
} site_plan_t;

/* The real function behind an import slot, or 0 for data, null and lazy
 * slots that nothing defines. */
static uintptr_t
function_behind(const site_plan_t *plan, const pdi_object_t *object, const pdi_slot_t *slot, uint32_t hash)
{
  pdi_binding_t binding;
  pdi_slot_binding(plan->set, object, slot, &binding);
  if (binding.lazy) {
    pdi_version_req_t req = {slot->version, 0};
    return pdi_resolve_hashed(plan->definers, slot->symbol, hash, &req, plan->excluded, plan->excluded_context, NULL);
  }
  if (binding.value == 0 || binding.target == NULL || !pdi_object_in_code(binding.target, binding.value, 1))
    return 0;
  return binding.value;
}

/* A PLT call of the object's own code. The start files (crti.o,
 * crtbeginS.o, and the programs' Scrt1.o and crt1.o for __libc_start_main,
 * and on aarch64 for the abort after it) call through a PLT whatever the
 * object was built with: on aarch64 a -fno-plt library still has JUMP_SLOTs
 * for these, and so has an aarch64 or i386 -fno-plt program, which tell
 * nothing about how its own code calls. So does libc_nonshared.a, linked
 * into every object: its atexit, at_quick_exit, pthread_atfork and (i386)
 * __stack_chk_fail_local call __cxa_atexit, __cxa_at_quick_exit,
 * __register_atfork and __stack_chk_fail through a PLT, and on aarch64
 * libgcc's outline atomics (GCC's default for code with atomic operations)
 * ask __getauxval through one which CPU features there are. And code LLVM
 * compiles (Rust) calls the functions it names through its GOT, but makes
 * its own calls through a PLT: _Unwind_Resume, memcpy, memset, and the math
 * functions its intrinsics become. */
static int
is_own_plt_call(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  static const char *const not_own[] = {"__cxa_finalize",
                                        "__gmon_start__",
                                        "_ITM_registerTMCloneTable",
                                        "_ITM_deregisterTMCloneTable",
                                        "__register_frame_info",
                                        "__deregister_frame_info",
                                        "__libc_start_main",
                                        "abort",
                                        "__cxa_atexit",
                                        "__cxa_at_quick_exit",
                                        "__register_atfork",
                                        "__stack_chk_fail",
                                        "__getauxval",
                                        "_Unwind_Resume",
                                        "memcpy",
                                        "memmove",
                                        "memset",
                                        "memcmp",
                                        "bcmp",
                                        "fmod",
                                        "fmodf",
                                        "pow",
                                        "powf",
                                        "exp",
                                        "expf",
                                        "exp2",
                                        "exp2f",
                                        "log",
                                        "logf",
                                        "log2",
                                        "log2f",
                                        "log10",
                                        "log10f",
                                        "sin",
                                        "sinf",
                                        "cos",
                                        "cosf",
                                        "fma",
                                        "fmaf"};
  (void)object, (void)context;
  if (slot->kind != PDI_SLOT_JUMP_SLOT)
    return 0;
  for (size_t i = 0; slot->symbol != NULL && i < sizeof not_own / sizeof not_own[0]; i++)
    if (strcmp(slot->symbol, not_own[i]) == 0)
      return 0;
  return 1;
}

/* An aarch64 function with a calling convention of its own (SVE arguments
 * or results, the vector PCS: STO_AARCH64_VARIANT_PCS on the import) keeps
 * arguments in registers the handler does not save whole (z0-z7 beyond
 * their low 128 bits, p0-p3): a stub would truncate them. */
static int
variant_pcs(const pdi_object_t *object, const pdi_slot_t *slot)
{
#if defined(__aarch64__)
  return object->symtab != NULL && slot->sym_index < object->nsyms && (object->symtab[slot->sym_index].st_other & 0x80);
#else
  (void)object, (void)slot;
  return 0;
#endif
}

static int
consider_callback_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  const site_plan_t *plan = context;
  if (slot->kind != PDI_SLOT_ABS && slot->kind != PDI_SLOT_JUMP_SLOT && slot->kind != PDI_SLOT_GLOB_DAT)
    return 0;
  /* Hashed once: for the list of functions never stubbed, then for the definition. */
  uint32_t hash = pdi_gnu_hash(slot->symbol);
  if (pdi_cb_excluded_hashed(slot->symbol, hash))
    return 0;
  if (slot->kind != PDI_SLOT_ABS && variant_pcs(object, slot))
    return 0;
  /* A function's address in data (a table of function pointers, as
   * SQLite's aSyscall) is never a call site, only reported as one. So are
   * the GLOB_DAT slots of an object that calls through its PLT: it takes
   * function addresses from them (to compare or store them, as CPython
   * compares tp_free with PyObject_Free), and a stub there would change the
   * function's identity. Only objects without PLT calls (-fno-plt) call
   * through those slots. */
  if (slot->kind == PDI_SLOT_ABS || (slot->kind == PDI_SLOT_GLOB_DAT && plan->calls_through_plt)) {
    if (plan->sink->pointer_slot != NULL && function_behind(plan, object, slot, hash) != 0)
      plan->sink->pointer_slot(plan->sink_context, object, slot);
    return 0;
  }
  pdi_cb_admission_t admission = plan->sink->admit(plan->sink_context, object, slot);
  if (admission == PDI_CB_ADMIT_STUB)
    return plan->sink->take(plan->sink_context, object, slot, __atomic_load_n(slot->address, __ATOMIC_ACQUIRE));
  if (admission != PDI_CB_ADMIT)
    return admission == PDI_CB_STOP;
  uintptr_t target = function_behind(plan, object, slot, hash);
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
  site_plan_t plan = {set, set, excluded, excluded_context, sink, sink_context, 0};
  pdi_object_t *definers = malloc((set->count > 0 ? set->count : 1) * sizeof *definers);
  pdi_objects_t filtered = {definers, 0, set->page_size, {NULL}};
  if (definers != NULL) {
    for (unsigned i = 0; i < set->count; i++)
      if (excluded == NULL || !excluded(&set->items[i], excluded_context))
        definers[filtered.count++] = set->items[i];
    plan.definers = &filtered;
    plan.excluded = NULL;
  }
  plan.calls_through_plt = pdi_object_each_slot(object, is_own_plt_call, NULL);
  int stop = pdi_object_each_slot(object, consider_callback_slot, &plan);
  free(definers);
  return stop;
}
