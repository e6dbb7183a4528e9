/* callback.c's own records: a call site and a thread's slot. The
 * handlers' fast paths read them too, at the offsets their
 * callback-frame.h names, checked here when a port defines CB_FAST_PATH. */
#ifndef PDI_CALLBACK_RECORDS_H
#define PDI_CALLBACK_RECORDS_H

#include <stddef.h>

#include "../arch/arch.h"
#include "callback.h"

typedef struct cb_site {
  uintptr_t target;
  int event;
  const char *unskippable; /* what the function returns (pdi_cb_result_of), "" if not known, NULL until asked */
  pdi_cb_site_t site;
  pdi_cb_hooks_t hooks;
} cb_site_t;

#if defined(CB_SITE_SIZE)
_Static_assert(sizeof(cb_site_t) == CB_SITE_SIZE && offsetof(cb_site_t, target) == 0, "callback-frame.h: CB_SITE_SIZE");
#endif

/* The system's page size, known before any hook runs (the accessors' stack checks). */
PDI_HIDDEN extern size_t pdi_cb_page_size;
/* Where every thread's entries lie, one array after another (0 and 0 until
 * the first install): the helpers accept only records within it. */
PDI_HIDDEN extern uintptr_t pdi_cb_entries_start;
PDI_HIDDEN extern size_t pdi_cb_entries_size;

typedef struct cb_thread {
  int in_use;
  unsigned index;
  int *error; /* the thread's errno, found once: __errno_location per hook costs a call */
  int in_hook;
  unsigned depth;
  unsigned capacity;
  pdi_cb_entry_t *entries;
  /* While in_hook is 1: the stack pointer of the call whose handling marked
   * it, which everything pdi and the hook run lies below (callback.c). */
  uintptr_t entered_at;
  /* Who claimed the slot: the address of the claiming thread's pdi_cb_current,
   * set by the claim's compare-and-swap, before in_use (callback.c). */
  uintptr_t owner;
} cb_thread_t;

/* The calling thread's slot, or NULL before its first instrumented call. */
PDI_HIDDEN extern __thread cb_thread_t *pdi_cb_current __attribute__((tls_model("initial-exec")));

#if defined(CB_FAST_PATH)
#define CB_OFFSET(type, field, value) _Static_assert(offsetof(type, field) == (value), "callback-frame.h: " #value)
CB_OFFSET(pdi_cb_entry_t, return_address, CB_ENTRY_RETURN_ADDRESS);
CB_OFFSET(pdi_cb_entry_t, target, CB_ENTRY_TARGET);
CB_OFFSET(pdi_cb_entry_t, stack_pointer, CB_ENTRY_STACK_POINTER);
CB_OFFSET(pdi_cb_entry_t, registers, CB_ENTRY_REGISTERS);
CB_OFFSET(pdi_cb_entry_t, vectors, CB_ENTRY_VECTORS);
CB_OFFSET(pdi_cb_entry_t, returns, CB_ENTRY_RETURNS);
CB_OFFSET(pdi_cb_entry_t, skipped, CB_ENTRY_SKIPPED);
CB_OFFSET(pdi_cb_entry_t, call, CB_ENTRY_CALL);
CB_OFFSET(pdi_cb_entry_t, call.event, CB_ENTRY_EVENT);
CB_OFFSET(pdi_cb_entry_t, call.site, CB_ENTRY_SITE);
CB_OFFSET(pdi_cb_entry_t, call.depth, CB_ENTRY_DEPTH);
CB_OFFSET(pdi_cb_entry_t, call.user, CB_ENTRY_USER);
CB_OFFSET(pdi_cb_entry_t, call.abandoned, CB_ENTRY_ABANDONED);
CB_OFFSET(cb_thread_t, error, CB_THREAD_ERROR);
CB_OFFSET(cb_thread_t, in_hook, CB_THREAD_IN_HOOK);
CB_OFFSET(cb_thread_t, depth, CB_THREAD_DEPTH);
CB_OFFSET(cb_thread_t, capacity, CB_THREAD_CAPACITY);
CB_OFFSET(cb_thread_t, entries, CB_THREAD_ENTRIES);
CB_OFFSET(cb_thread_t, entered_at, CB_THREAD_ENTERED_AT);
CB_OFFSET(cb_site_t, event, CB_SITE_EVENT);
CB_OFFSET(cb_site_t, site, CB_SITE_SITE);
CB_OFFSET(cb_site_t, hooks.pre, CB_SITE_PRE);
CB_OFFSET(cb_site_t, hooks.post, CB_SITE_POST);
_Static_assert(sizeof(pdi_cb_entry_t) == CB_ENTRY_SIZE, "callback-frame.h: CB_ENTRY_SIZE");
#endif

#endif
