/* The functions that never go through a callback stub, and why
 * (docs/mechanisms.md, "Which imports"). One list for the core
 * (callback/names.c hashes it for the planner) and for the trace backend,
 * which is built without the core and names the reason when `-e` asks for
 * one of these functions (a backend links nothing of pdi, so it includes
 * this header instead). */
#ifndef PDI_NEVER_STUBBED_H
#define PDI_NEVER_STUBBED_H

#include <stddef.h>
#include <string.h>

#define PDI_RETURNS_TWICE "it returns twice"
#define PDI_NEVER_RETURNS "it does not return to its caller"
#define PDI_FINDS_CALLER "it finds its caller by its return address"
#define PDI_SWITCHES_STACKS "it switches to another stack and returns when switched back"

typedef struct pdi_never_stubbed {
  const char *name;
  const char *reason;
} pdi_never_stubbed_t;

static const pdi_never_stubbed_t pdi_never_stubbed[] = {
    /* return twice */
    {"setjmp", PDI_RETURNS_TWICE},
    {"_setjmp", PDI_RETURNS_TWICE},
    {"sigsetjmp", PDI_RETURNS_TWICE},
    {"__sigsetjmp", PDI_RETURNS_TWICE},
    {"vfork", PDI_RETURNS_TWICE},
    {"__vfork", PDI_RETURNS_TWICE},
    {"getcontext", PDI_RETURNS_TWICE},
    {"swapcontext", PDI_RETURNS_TWICE},
    {"savectx", PDI_RETURNS_TWICE},
    {"clone", PDI_RETURNS_TWICE},
    {"clone3", PDI_RETURNS_TWICE},
    /* never return (or leave by jumping) */
    {"exit", PDI_NEVER_RETURNS},
    {"_exit", PDI_NEVER_RETURNS},
    {"_Exit", PDI_NEVER_RETURNS},
    {"quick_exit", PDI_NEVER_RETURNS},
    {"abort", PDI_NEVER_RETURNS},
    {"pthread_exit", PDI_NEVER_RETURNS},
    {"__cxa_throw", PDI_NEVER_RETURNS},
    {"__cxa_rethrow", PDI_NEVER_RETURNS},
    {"_Unwind_Resume", PDI_NEVER_RETURNS},
    {"_Unwind_RaiseException", PDI_NEVER_RETURNS},
    {"__stack_chk_fail", PDI_NEVER_RETURNS},
    {"__chk_fail", PDI_NEVER_RETURNS},
    {"__fortify_fail", PDI_NEVER_RETURNS},
    {"__assert_fail", PDI_NEVER_RETURNS},
    {"__assert_perror_fail", PDI_NEVER_RETURNS},
    {"err", PDI_NEVER_RETURNS},
    {"errx", PDI_NEVER_RETURNS},
    {"verr", PDI_NEVER_RETURNS},
    {"verrx", PDI_NEVER_RETURNS},
    {"longjmp", PDI_NEVER_RETURNS},
    {"_longjmp", PDI_NEVER_RETURNS},
    {"siglongjmp", PDI_NEVER_RETURNS},
    {"__longjmp_chk", PDI_NEVER_RETURNS},
    {"__libc_start_main", PDI_NEVER_RETURNS},
    {"setcontext", PDI_NEVER_RETURNS},
    /* switch stacks (Boost.Context's fibers and coroutines): the frame stays
     * open on one stack while calls run on another, in any order in memory */
    {"jump_fcontext", PDI_SWITCHES_STACKS},
    {"ontop_fcontext", PDI_SWITCHES_STACKS},
    /* find their caller by return address */
    {"dlsym", PDI_FINDS_CALLER},
    {"dlvsym", PDI_FINDS_CALLER},
    {"dladdr", PDI_FINDS_CALLER},
    {"dladdr1", PDI_FINDS_CALLER},
    {"dlopen", PDI_FINDS_CALLER},
    {"dlmopen", PDI_FINDS_CALLER},
    {"__tls_get_addr", PDI_FINDS_CALLER},
    {"__cxa_thread_atexit_impl", PDI_FINDS_CALLER},
    {NULL, NULL}};

/* Why `function` never gets a stub, or NULL when it may. A plain scan: for
 * the few names a user asks about; the planner uses names.c's hash. */
static inline const char *
pdi_never_stubbed_reason(const char *function)
{
  for (const pdi_never_stubbed_t *entry = pdi_never_stubbed; entry->name != NULL; entry++)
    if (strcmp(entry->name, function) == 0)
      return entry->reason;
  return NULL;
}

#endif
