/* Callback: every imported function call of an object goes through a stub
 * into a per-architecture assembly handler (section 3 of arch/arch.h), which
 * calls the C pre path, calls the real function with the caller's stack
 * intact, then calls the C post path. */
#ifndef PDI_CALLBACK_H
#define PDI_CALLBACK_H

#include <pdi/backend.h>

#include "../core/core.h"

/* One live instrumented call on a thread's callback stack. The handler
 * finds it through a callee-saved register (rbx on x86-64, x19 on aarch64,
 * ebx on i386) and its CFI reads the caller's return address and register
 * from the first two words, so the layout of those two is fixed; the i386
 * handler calls through the third. */
/* Words 0-2 and the skip value are read by the assembly handlers and the
 * skip stubs (CB_ENTRY_SKIP_VALUE in each callback-frame.h). */
typedef struct pdi_cb_entry {
  uintptr_t return_address;
  uintptr_t caller_register;
  uintptr_t target;
  uintptr_t skip_value[2]; /* pdi_skip_*: what the skip stub returns (a double takes 8 bytes) */
  uintptr_t stack_pointer;
  uintptr_t *registers;   /* pre: the saved argument registers, restored from here */
  unsigned char *vectors; /* pre: the saved vector registers */
  unsigned char *returns; /* post: the saved return registers, restored from here */
  int skipped;
  pdi_cb_call_t call;
} pdi_cb_entry_t;

typedef struct pdi_cb_hooks {
  int (*cb_req)(const pdi_cb_site_t *site);
  void (*pre)(pdi_cb_call_t *call);
  void (*post)(pdi_cb_call_t *call);
  uintptr_t handler; /* a rule's own generic handler (cb_allow_handler), or 0 for pdi's */
} pdi_cb_hooks_t;

/* Limits of the callback machinery, from the config; fixed by the first
 * install in the process. */
typedef struct pdi_cb_limits {
  unsigned max_threads;
  unsigned num_threads;
  size_t stack_size;
  unsigned max_stubs;
} pdi_cb_limits_t;

PDI_HIDDEN int pdi_cb_prepare(const pdi_cb_limits_t *limits);
PDI_HIDDEN unsigned pdi_cb_free_stubs(void);
/* names.c: what a function returns that pdi_skip_* cannot give ("a
 * structure", "a long double", "a complex value"), or NULL. The table is
 * built on first use; pdi_cb_names_build builds it before any thread can
 * ask from a hook. */
PDI_HIDDEN void pdi_cb_names_build(void);
PDI_HIDDEN const char *pdi_cb_unskippable(const char *function);
/* What names.c knows a function returns: pdi_cb_unskippable's answers,
 * pdi_cb_returns_integer, pdi_cb_returns_floating, or NULL (not known, or
 * void). pdi_skip_int refuses a floating-point result, pdi_skip_double an
 * integer one (access.c). */
PDI_HIDDEN extern const char pdi_cb_returns_integer[];
PDI_HIDDEN extern const char pdi_cb_returns_floating[];
PDI_HIDDEN const char *pdi_cb_result_of(const char *function);
/* Whether `function`'s floating-point result is a float (libm's NAMEf,
 * strtof...): it travels in the low 32 bits of the result register on
 * x86-64 and aarch64, where a skip must give its bits, not a double's. */
PDI_HIDDEN int pdi_cb_returns_float(const char *function);
/* The built-in prototype of a libc or POSIX function (the trace backend's
 * spec letters, prototypes.h), or NULL when not known. */
PDI_HIDDEN const char *pdi_cb_prototype_of(const char *function);
/* Why the process forbids callback stubs (memory-deny-write-execute, a
 * shadow stack), or NULL. */
PDI_HIDDEN const char *pdi_cb_blocker(void);
/* Whether a call at stack_pointer runs on the thread's alternate signal stack
 * (sigaltstack, SA_ONSTACK) while the open frame at frame_pointer does not: a
 * signal handler then interrupted that frame, which is still live, whatever
 * the two stacks' order in memory. */
PDI_HIDDEN int pdi_cb_on_other_signal_stack(uintptr_t frame_pointer, uintptr_t stack_pointer);
/* The copies made last for one batch of sites (pdi_sites_install: one
 * object's, under the session lock, while every string given is unchanged):
 * the sites of a batch share their object's path, mostly their callee's and
 * a few versions, copied once each. Zeroed per batch. */
typedef struct pdi_cb_kept_strings {
  const char *given[3], *copy[3];
} pdi_cb_kept_strings_t;

/* Reserves a stub for a call site and returns its address (the value the
 * slot gets); 0 when the pool is exhausted (pdi_sites_install checks that
 * first), or with pdi_error() set when a site cannot be kept or its stubs
 * cannot be made executable. */
/* Whether pdi_cb_add_site would take a stub it handed out before for this
 * site (a library dlopened again) rather than a free one. */
PDI_HIDDEN int pdi_cb_site_has_stub(uintptr_t target, int event, const pdi_cb_site_t *site,
                                    const pdi_cb_hooks_t *hooks);
PDI_HIDDEN uintptr_t pdi_cb_add_site(uintptr_t target, int event, const pdi_cb_site_t *site,
                                     const pdi_cb_hooks_t *hooks, pdi_cb_kept_strings_t *batch);
/* When `address` is the start of a stub handed out (in the pool, in a
 * group's page of stubs, not of their handler words): the hooks of its
 * site, and the real function it calls in `target` (for inspect's report);
 * else NULL. */
PDI_HIDDEN const pdi_cb_hooks_t *pdi_cb_stub_site(uintptr_t address, uintptr_t *target);
/* Whether a function must never go through a stub (returns twice, never
 * returns, or finds its caller by return address). */
PDI_HIDDEN int pdi_cb_excluded(const char *function);
/* The same with the name's GNU hash (pdi_gnu_hash) given. */
PDI_HIDDEN int pdi_cb_excluded_hashed(const char *function, uint32_t hash);
/* Why a function never gets a stub ("it does not return to its caller"),
 * or NULL (never-stubbed.h). */
PDI_HIDDEN const char *pdi_cb_never_stubbed_reason(const char *function);

/* What the site planner hands its caller, slot by slot. `admit` comes first,
 * before the function behind the slot is looked up: a slot that already
 * holds a stub has none, and its owner still decides (a duplicate, a
 * conflict). `take` then gets each admitted slot that calls a function,
 * with that function; non-zero ends the plan. */
typedef enum pdi_cb_admission {
  PDI_CB_ADMIT,     /* look up the function and offer the slot to take */
  PDI_CB_PASS,      /* leave this slot alone */
  PDI_CB_STOP,      /* end the plan */
  PDI_CB_ADMIT_STUB /* offer the slot to take, calling what it holds: another rule's stub (an act rule's) */
} pdi_cb_admission_t;

typedef struct pdi_cb_sink {
  pdi_cb_admission_t (*admit)(void *context, const pdi_object_t *object, const pdi_slot_t *slot);
  int (*take)(void *context, const pdi_object_t *object, const pdi_slot_t *slot, uintptr_t target);
  /* Optional: a GLOB_DAT slot of an object that calls through its PLT, left
   * alone so that the function's address stays the same (a pointer slot). */
  void (*pointer_slot)(void *context, const pdi_object_t *object, const pdi_slot_t *slot);
} pdi_cb_sink_t;

/* Plans a callback on `object`: the import slots that may get a stub
 * (function imports through the PLT or, in objects built without PLT calls,
 * through GLOB_DAT slots; never the excluded functions) and the real
 * function each one calls, found while skipping the `excluded` objects.
 * Returns non-zero when the sink ended the plan. */
PDI_HIDDEN int pdi_cb_plan(const pdi_objects_t *set, const pdi_object_t *object,
                           int (*excluded)(const pdi_object_t *object, void *context), void *excluded_context,
                           const pdi_cb_sink_t *sink, void *sink_context);
/* Points every stub straight at its real function, as a site without hooks:
 * the slots keep their stubs, and no call reaches a hook any more. */
PDI_HIDDEN void pdi_cb_pass_all(void);
/* Reports the calls that ran without hooks; before the backends finish.
 * When the process ends, posts every frame still open (as abandoned) too;
 * otherwise (close() in-process) a call in flight on another thread gets
 * its post when it returns, on its own thread. */
PDI_HIDDEN void pdi_cb_finish(int process_ends);

/* C paths called by the assembly handler. */
PDI_HIDDEN pdi_cb_entry_t *pdi_cb_pre(uintptr_t *frame);
PDI_HIDDEN uintptr_t pdi_cb_post(pdi_cb_entry_t *entry, unsigned char *returns);

/* Accessors bound into backends. */
PDI_HIDDEN uintptr_t pdi_arg_int_impl(const pdi_cb_call_t *call, unsigned i);
PDI_HIDDEN double pdi_arg_double_impl(const pdi_cb_call_t *call, unsigned i);
PDI_HIDDEN uintptr_t pdi_ret_int_impl(const pdi_cb_call_t *call);
PDI_HIDDEN double pdi_ret_double_impl(const pdi_cb_call_t *call);
PDI_HIDDEN void pdi_set_arg_int_impl(pdi_cb_call_t *call, unsigned i, uintptr_t value);
PDI_HIDDEN void pdi_set_arg_double_impl(pdi_cb_call_t *call, unsigned i, double value);
PDI_HIDDEN void pdi_skip_int_impl(pdi_cb_call_t *call, uintptr_t ret);
PDI_HIDDEN void pdi_skip_double_impl(pdi_cb_call_t *call, double ret);
PDI_HIDDEN void pdi_set_ret_int_impl(pdi_cb_call_t *call, uintptr_t ret);
PDI_HIDDEN uint64_t pdi_ret_int64_impl(const pdi_cb_call_t *call);
PDI_HIDDEN void pdi_skip_int64_impl(pdi_cb_call_t *call, uint64_t ret);
PDI_HIDDEN void pdi_set_ret_int64_impl(pdi_cb_call_t *call, uint64_t ret);
PDI_HIDDEN void pdi_set_ret_double_impl(pdi_cb_call_t *call, double ret);
PDI_HIDDEN void *pdi_cb_target_impl(unsigned site);

/* The exit report of the helpers (access.c): calls where they had nothing
 * to work on, and refused skips, each naming the backend; and forgetting
 * them in a forked child, whose parent reports its own. */
PDI_HIDDEN void pdi_cb_report_helpers(void);
/* The backend's PDI_BE_FUNC_INIT or _FINI that the session calls now (NULL once it returned), which the report
 * names for a helper it misused. */
PDI_HIDDEN void pdi_cb_entry_point_running(const void *entry_point);
PDI_HIDDEN void pdi_cb_forget_helpers(void);
/* A backend was loaded from `path` under the config's `name` (backends.c),
 * which the report names it by. */
PDI_HIDDEN void pdi_cb_backend_loaded(const char *path, const char *name);

/* The per-arch stubs a skipped call runs instead of the real function
 * (callback-handler.S): they return the entry's skip value. */
PDI_HIDDEN void pdi_cb_skip_int(void);
PDI_HIDDEN void pdi_cb_skip_double(void);

/* Runs hook(call) with the floating-point environment (rounding modes,
 * exception flags and masks) kept as it was (callback-handler.S): a hook's
 * FP work never reaches the real function or the caller. */
PDI_HIDDEN void pdi_cb_run_hook(pdi_cb_call_t *call, void (*hook)(pdi_cb_call_t *));

#endif
