/* What the helpers (access.c) count on the call path and the exit report
 * (access-report.c) reads: each helper's misuses by situation, and the skips
 * refused. Counted without a lock or an allocation, reported once. */
#ifndef PDI_CB_ACCESS_H
#define PDI_CB_ACCESS_H

#include <stdint.h>

#include "../core/core.h"

enum {
  H_ARG_INT,
  H_ARG_DOUBLE,
  H_RET_INT,
  H_RET_DOUBLE,
  H_SET_ARG_INT,
  H_SET_ARG_DOUBLE,
  H_SKIP_INT,
  H_SKIP_DOUBLE,
  H_SET_RET_INT,
  H_SET_RET_DOUBLE,
  H_RET_INT64,
  H_SKIP_INT64,
  H_SET_RET_INT64,
  HELPERS
};
PDI_HIDDEN extern const char *const cb_helper_names[HELPERS];

/* Where a helper found nothing to work on. NO_VECTORS: a floating-point
 * argument helper where no argument travels in such a register (i386);
 * NOT_A_CALL: a record that is none of the entries pdi hands hooks. */
enum { IN_PRE, IN_POST, OUTSIDE, PAST_LAST, OFF_STACK, NO_VECTORS, NOT_A_CALL, SITUATIONS };

/* Who called a helper, found at exit: the helper's return address, and a
 * hook of the site whose call it was given. A hook that ends in a helper
 * call jumps to it (a sibling call, at -O2), so the return address is then
 * pdi's handler: the site's backend is named instead. */
typedef struct caller {
  const void *address;
  const void *hook;
} caller_t;

typedef struct misuse {
  unsigned long count;
  unsigned index; /* the first argument index, for PAST_LAST and OFF_STACK */
  caller_t caller;
  int ready; /* caller written */
} misuse_t;

PDI_HIDDEN extern misuse_t cb_misuses[HELPERS][SITUATIONS];

/* The skips refused (skip_refused), by site and helper, for the report:
 * the first few kinds each, and the backend that made the first. */
#define REFUSAL_KINDS 8
typedef struct refusal {
  uintptr_t key; /* the site's record, | 1 for pdi_skip_double; 0 for a free entry */
  unsigned long count;
} refusal_t;
PDI_HIDDEN extern refusal_t cb_refusals[REFUSAL_KINDS];
PDI_HIDDEN extern unsigned long cb_refused_skips;
PDI_HIDDEN extern caller_t cb_refused_caller;
PDI_HIDDEN extern int cb_refused_caller_claimed, cb_refused_caller_ready;

/* The argument index past the last that pdi_arg_int and pdi_set_arg_int
 * reach: the ABI cannot tell how many a call has, and a word past the
 * caller's outgoing arguments is the caller's frame, or beyond its stack. */
#define STACK_WORDS 64
#define LAST_INT_ARGUMENT (CB_INT_REGISTERS + STACK_WORDS - 1)
#define LAST_DOUBLE_ARGUMENT 7

#endif
