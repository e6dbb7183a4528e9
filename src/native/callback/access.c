/* The accessors and the helpers that change calls (pdi_arg_int,
 * pdi_set_arg_int, pdi_skip_int, ...): they read and write the entry of the
 * call a hook was given (callback.c builds it, the handler's frame holds the
 * registers it points at). A helper called where it has nothing to work on
 * (a result in pre, an argument or a skip in post, an argument past the
 * last one it reaches) reads 0 or does nothing, and is counted for the exit
 * report, which names the backend that called it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../arch/arch.h"
#include "access.h"
#include "callback.h"
#include "records.h"

/* The site record a call belongs to. */
static cb_site_t *
site_of(const pdi_cb_call_t *call)
{
  return (cb_site_t *)((uintptr_t)call->site - offsetof(cb_site_t, site));
}

/* ---- misuse: counted on the call path (no lock, no allocation), reported at exit */

const char *const cb_helper_names[HELPERS] = {
    "pdi_arg_int",        "pdi_arg_double", "pdi_ret_int",      "pdi_ret_double",  "pdi_set_arg_int",
    "pdi_set_arg_double", "pdi_skip_int",   "pdi_skip_double",  "pdi_set_ret_int", "pdi_set_ret_double",
    "pdi_ret_int64",      "pdi_skip_int64", "pdi_set_ret_int64"};
misuse_t cb_misuses[HELPERS][SITUATIONS];
refusal_t cb_refusals[REFUSAL_KINDS];
unsigned long cb_refused_skips;
caller_t cb_refused_caller;
int cb_refused_caller_claimed, cb_refused_caller_ready;

/* A hook of the backend whose rule the call's site belongs to. */
static const void *
hook_of(const pdi_cb_call_t *call)
{
  if (call->site == NULL)
    return NULL;
  const pdi_cb_hooks_t *hooks = &site_of(call)->hooks;
  if (hooks->pre != NULL)
    return (const void *)hooks->pre;
  return hooks->post != NULL ? (const void *)hooks->post : (const void *)hooks->cb_req;
}

/* The backend entry point (PDI_BE_FUNC_INIT, _FINI) that runs now, if any: a helper it calls last is a tail call,
 * whose return address is pdi's own, so the report names the backend by this instead. */
static const void *running_entry_point;

void
pdi_cb_entry_point_running(const void *entry_point)
{
  __atomic_store_n(&running_entry_point, entry_point, __ATOMIC_RELEASE);
}

static void
misused(const pdi_cb_entry_t *entry, unsigned helper, unsigned situation, unsigned index, const void *address)
{
  misuse_t *misuse = &cb_misuses[helper][situation];
  if (__atomic_fetch_add(&misuse->count, 1, __ATOMIC_RELAXED) != 0)
    return;
  misuse->index = index;
  misuse->caller.address = address;
  misuse->caller.hook = entry != NULL ? hook_of(&entry->call) : __atomic_load_n(&running_entry_point, __ATOMIC_ACQUIRE);
  __atomic_store_n(&misuse->ready, 1, __ATOMIC_RELEASE);
}

#define CALLER __builtin_return_address(0)

/* ---- accessors */

/* The entry a call record belongs to, or NULL for a record outside the
 * entries pdi hands hooks (NULL, a copy of *call): the helpers read and write
 * through an entry's pointers. One range check on every helper's path (that
 * the record starts an entry cost 14 more instructions per helper). The
 * record is const for backends that only read; the entry is the thread's
 * own, written by the helpers that change calls. */
static pdi_cb_entry_t *
entry_of(const pdi_cb_call_t *call)
{
  uintptr_t entry = (uintptr_t)call - offsetof(pdi_cb_entry_t, call);
  if (__builtin_expect(entry - pdi_cb_entries_start < pdi_cb_entries_size, 1))
    return entry != 0 ? (pdi_cb_entry_t *)entry : (__builtin_unreachable(), NULL); /* the entries are mapped */
  return NULL;
}

/* A helper given a record that is not a call's: counted, and it reads 0.
 * The call whose hook runs on this thread (its top entry) names the backend
 * when the helper's return address cannot: a hook that ends in the helper
 * jumps to it, and returns to pdi's handler. */
static __attribute__((noinline)) void
not_a_call(unsigned helper, const void *caller)
{
  const cb_thread_t *thread = pdi_cb_current;
  int hooked = thread != NULL && thread->in_hook && thread->depth != 0;
  misused(hooked ? &thread->entries[thread->depth - 1] : NULL, helper, NOT_A_CALL, 0, caller);
}

/* Where an argument helper is when the call's registers are gone. */
static unsigned
not_in_pre(const pdi_cb_entry_t *entry)
{
  return entry->returns != NULL || entry->call.abandoned ? IN_POST : OUTSIDE;
}

/* Whether a result helper has nothing to work on, counted unless the post
 * is an abandoned call's, which has no result (documented: it reads 0). */
static int
no_result(const pdi_cb_entry_t *entry, unsigned helper, const void *caller)
{
  if (entry == NULL) {
    not_a_call(helper, caller);
    return 1;
  }
  if (entry->returns != NULL)
    return 0;
  if (!entry->call.abandoned)
    misused(entry, helper, entry->registers != NULL ? IN_PRE : OUTSIDE, 0, caller);
  return 1;
}

/* Whether process_vm_readv works here, asked once: a seccomp filter may
 * refuse it (Docker's default one does), and qemu-user does not translate
 * its addresses. 1 yes, 0 no, -1 not asked yet. */
static int process_vm_works = -1;

static long
process_vm_copy(void *to, const void *from, int write)
{
  struct iovec local = {write ? (void *)from : to, sizeof(uintptr_t)};
  struct iovec remote = {write ? to : (void *)from, sizeof(uintptr_t)};
  return syscall(write ? SYS_process_vm_writev : SYS_process_vm_readv, syscall(SYS_getpid), &local, 1UL, &remote, 1UL,
                 0UL);
}

/* Copies a stack word that may lie outside the stack's mapping: the kernel
 * copies it or says EFAULT, where a plain access would crash the program.
 * Rare (a word on another page than the return address), so system calls
 * will do; errno stays as the hook had it. Where the kernel's copy is not to
 * be had, mincore says whether the page is mapped at all and a mapped page is
 * accessed: only a PROT_NONE page right above a stack could then crash, and
 * stacks keep their guard pages below (docs/backends.md). */
static int
copy_checked(uintptr_t *to, const uintptr_t *from, int write)
{
  int saved = errno;
  int works = __atomic_load_n(&process_vm_works, __ATOMIC_RELAXED);
  if (works < 0) {
    uintptr_t probe = 1, copy = 0;
    works = process_vm_copy(&copy, &probe, 0) == (long)sizeof copy && copy == 1;
    __atomic_store_n(&process_vm_works, works, __ATOMIC_RELAXED);
  }
  int copied;
  if (works) {
    copied = process_vm_copy(to, from, write) == (long)sizeof *to;
  } else {
    unsigned char resident;
    const uintptr_t *stack = write ? to : from;
    uintptr_t page = (uintptr_t)stack & ~(uintptr_t)(pdi_cb_page_size - 1);
    copied = syscall(SYS_mincore, (void *)page, pdi_cb_page_size, &resident) == 0;
    if (copied)
      *to = *from;
  }
  errno = saved;
  return copied;
}

/* Reads or writes integer argument i >= CB_INT_REGISTERS, a stack word;
 * 0 (and counted) past the last one reached or outside the stack. */
static int
stack_argument(pdi_cb_entry_t *entry, unsigned helper, unsigned i, uintptr_t *value, int write, const void *caller)
{
  if (i > LAST_INT_ARGUMENT) {
    misused(entry, helper, PAST_LAST, i, caller);
    return 0;
  }
  uintptr_t *word = (uintptr_t *)CB_STACK_ARGUMENTS(entry->stack_pointer) + (i - CB_INT_REGISTERS);
  /* The byte below the arguments is mapped (the return address, or the
   * handler's frame on aarch64): a word on the same 4 KiB is too. */
  uintptr_t known = (uintptr_t)CB_STACK_ARGUMENTS(entry->stack_pointer) - 1;
  if (((uintptr_t)word + sizeof *word - 1) >> 12 == known >> 12) {
    if (write)
      *word = *value;
    else
      *value = *word;
    return 1;
  }
  if (write ? copy_checked(word, value, 1) : copy_checked(value, word, 0))
    return 1;
  misused(entry, helper, OFF_STACK, i, caller);
  return 0;
}

/* pdi_arg_int's rare cases, apart so that a register read costs a hook no frame. */
static __attribute__((noinline)) uintptr_t
arg_int_elsewhere(pdi_cb_entry_t *entry, unsigned i, const void *caller)
{
  uintptr_t value = 0;
  if (entry == NULL)
    not_a_call(H_ARG_INT, caller);
  else if (entry->registers == NULL)
    misused(entry, H_ARG_INT, not_in_pre(entry), i, caller);
  else
    stack_argument(entry, H_ARG_INT, i, &value, 0, caller);
  return value;
}

uintptr_t
pdi_arg_int_impl(const pdi_cb_call_t *call, unsigned i)
{
  pdi_cb_entry_t *entry = entry_of(call);
  unsigned in_registers = CB_INT_REGISTERS; /* 0 on i386: no comparison of i with a constant 0 */
  if (__builtin_expect(entry != NULL && entry->registers != NULL && i < in_registers, 1))
    return entry->registers[i];
  return arg_int_elsewhere(entry, i, CALLER);
}

double
pdi_arg_double_impl(const pdi_cb_call_t *call, unsigned i)
{
  const pdi_cb_entry_t *entry = entry_of(call);
  double value = 0;
  if (entry == NULL)
    not_a_call(H_ARG_DOUBLE, CALLER);
  else if (entry->registers == NULL)
    misused(entry, H_ARG_DOUBLE, not_in_pre(entry), i, CALLER);
  else if (i > LAST_DOUBLE_ARGUMENT)
    misused(entry, H_ARG_DOUBLE, PAST_LAST, i, CALLER);
  else if (entry->vectors != NULL)
    memcpy(&value, entry->vectors + (size_t)i * CB_FRAME_VECTOR_STRIDE, sizeof value);
  else
    misused(entry, H_ARG_DOUBLE, NO_VECTORS, i, CALLER);
  return value;
}

uintptr_t
pdi_ret_int_impl(const pdi_cb_call_t *call)
{
  const pdi_cb_entry_t *entry = entry_of(call);
  uintptr_t value = 0;
  if (__builtin_expect(entry != NULL && entry->returns != NULL, 1))
    memcpy(&value, entry->returns + CB_RETURN_RAX, sizeof value);
  else if (entry == NULL)
    not_a_call(H_RET_INT, CALLER);
  else
    no_result(entry, H_RET_INT, CALLER);
  return value;
}

#if defined(__x86_64__)
/* x86-64: a long double result, alone on the x87 stack (its top is 7: one value; the ABI leaves the stack empty
 * otherwise), which the double helpers read and write rounded. No such thing elsewhere: aarch64's long double is a
 * 128-bit value in q0, and i386 returns every floating-point value on the x87 stack. */
static int
returns_long_double(const pdi_cb_entry_t *entry)
{
  unsigned top;
  memcpy(&top, entry->returns + CB_RETURN_X87_TOP, sizeof top);
  return top == 7;
}
#endif

double
pdi_ret_double_impl(const pdi_cb_call_t *call)
{
  const pdi_cb_entry_t *entry = entry_of(call);
  double value = 0;
  if (no_result(entry, H_RET_DOUBLE, CALLER))
    return value;
#if defined(CB_RETURN_X87_DOUBLE)
  long double x87;
  memcpy(&x87, entry->returns + CB_RETURN_X87_DOUBLE, 10);
  value = (double)x87;
#else
#if defined(__x86_64__)
  if (returns_long_double(entry)) {
    long double x87;
    memcpy(&x87, entry->returns + CB_RETURN_X87, 10);
    return (double)x87;
  }
#endif
  memcpy(&value, entry->returns + CB_RETURN_XMM0, sizeof value);
#endif
  return value;
}

/* A 64-bit integer result: rax or x0, or edx:eax on i386. */
uint64_t
pdi_ret_int64_impl(const pdi_cb_call_t *call)
{
  const pdi_cb_entry_t *entry = entry_of(call);
  uint64_t value = 0;
  if (no_result(entry, H_RET_INT64, CALLER))
    return value;
#if defined(CB_RETURN_EDX)
  uint32_t low, high;
  memcpy(&low, entry->returns + CB_RETURN_RAX, sizeof low);
  memcpy(&high, entry->returns + CB_RETURN_EDX, sizeof high);
  value = (uint64_t)high << 32 | low;
#else
  memcpy(&value, entry->returns + CB_RETURN_RAX, sizeof value);
#endif
  return value;
}

/* ---- changing calls */

_Static_assert(offsetof(pdi_cb_entry_t, skip_value) == CB_ENTRY_SKIP_VALUE, "callback-frame.h: CB_ENTRY_SKIP_VALUE");

void
pdi_set_arg_int_impl(pdi_cb_call_t *call, unsigned i, uintptr_t value)
{
  pdi_cb_entry_t *entry = entry_of(call);
  unsigned in_registers = CB_INT_REGISTERS;
  if (entry == NULL)
    not_a_call(H_SET_ARG_INT, CALLER);
  else if (entry->registers == NULL)
    misused(entry, H_SET_ARG_INT, not_in_pre(entry), i, CALLER);
  else if (i < in_registers)
    entry->registers[i] = value;
  else
    stack_argument(entry, H_SET_ARG_INT, i, &value, 1, CALLER);
}

void
pdi_set_arg_double_impl(pdi_cb_call_t *call, unsigned i, double value)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (entry == NULL)
    not_a_call(H_SET_ARG_DOUBLE, CALLER);
  else if (entry->registers == NULL)
    misused(entry, H_SET_ARG_DOUBLE, not_in_pre(entry), i, CALLER);
  else if (i > LAST_DOUBLE_ARGUMENT)
    misused(entry, H_SET_ARG_DOUBLE, PAST_LAST, i, CALLER);
  else if (entry->vectors != NULL)
    memcpy(entry->vectors + (size_t)i * CB_FRAME_VECTOR_STRIDE, &value, sizeof value);
  else
    misused(entry, H_SET_ARG_DOUBLE, NO_VECTORS, i, CALLER);
}

/* Whether a skip at this call would give a result the caller cannot read
 * (names.c: a structure, a long double, a complex value, or an integer for
 * pdi_skip_double and a floating-point value for pdi_skip_int): then the
 * call runs, and the refusal is counted for the exit report. */
static int
skip_refused(const pdi_cb_call_t *call, int floating, const void *caller)
{
  cb_site_t *site = site_of(call);
  /* Looked up on the site's first skip, not at install, where most sites never skip. */
  const char *result = __atomic_load_n(&site->unskippable, __ATOMIC_RELAXED);
  if (result == NULL) {
    result = pdi_cb_result_of(site->site.function);
    result = result != NULL ? result : "";
    __atomic_store_n(&site->unskippable, result, __ATOMIC_RELAXED);
  }
  if (*result == '\0' || result == (floating ? pdi_cb_returns_floating : pdi_cb_returns_integer))
    return 0;
  if (__atomic_exchange_n(&cb_refused_caller_claimed, 1, __ATOMIC_ACQ_REL) == 0) {
    cb_refused_caller.address = caller;
    cb_refused_caller.hook = hook_of(call);
    __atomic_store_n(&cb_refused_caller_ready, 1, __ATOMIC_RELEASE);
  }
  __atomic_fetch_add(&cb_refused_skips, 1, __ATOMIC_RELAXED);
  uintptr_t key = (uintptr_t)site | (floating ? 1u : 0u);
  for (unsigned i = 0; i < REFUSAL_KINDS; i++) {
    uintptr_t seen = 0;
    if (__atomic_load_n(&cb_refusals[i].key, __ATOMIC_ACQUIRE) == key ||
        __atomic_compare_exchange_n(&cb_refusals[i].key, &seen, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
        seen == key) {
      __atomic_fetch_add(&cb_refusals[i].count, 1, __ATOMIC_RELAXED);
      break;
    }
  }
  return 1;
}

/* An integer skip: the skip stub returns skip_value[0] in rax, x0 or eax,
 * and on i386 skip_value[1] in edx, the high half of a 64-bit result. */
static void
skip_integer(pdi_cb_call_t *call, uintptr_t low, uintptr_t high, unsigned helper, const void *caller)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (entry == NULL) {
    not_a_call(helper, caller);
    return;
  }
  if (entry->registers == NULL) {
    misused(entry, helper, not_in_pre(entry), 0, caller);
    return;
  }
  if (skip_refused(call, 0, caller))
    return;
  entry->skip_value[0] = low;
  entry->skip_value[1] = high;
  entry->skipped = 1;
}

void
pdi_skip_int_impl(pdi_cb_call_t *call, uintptr_t ret)
{
  skip_integer(call, ret, 0, H_SKIP_INT, CALLER);
}

void
pdi_skip_int64_impl(pdi_cb_call_t *call, uint64_t ret)
{
  uintptr_t high = sizeof(uintptr_t) < sizeof ret ? (uintptr_t)(ret >> 32) : 0;
  skip_integer(call, (uintptr_t)ret, high, H_SKIP_INT64, CALLER);
}

void
pdi_skip_double_impl(pdi_cb_call_t *call, double ret)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (entry == NULL) {
    not_a_call(H_SKIP_DOUBLE, CALLER);
    return;
  }
  if (entry->registers == NULL) {
    misused(entry, H_SKIP_DOUBLE, not_in_pre(entry), 0, CALLER);
    return;
  }
  if (skip_refused(call, 1, CALLER))
    return;
  memcpy(entry->skip_value, &ret, sizeof ret);
  entry->skipped = 2;
}

void
pdi_set_ret_int_impl(pdi_cb_call_t *call, uintptr_t ret)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (!no_result(entry, H_SET_RET_INT, CALLER))
    memcpy(entry->returns + CB_RETURN_RAX, &ret, sizeof ret);
}

void
pdi_set_ret_int64_impl(pdi_cb_call_t *call, uint64_t ret)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (no_result(entry, H_SET_RET_INT64, CALLER))
    return;
#if defined(CB_RETURN_EDX)
  uint32_t low = (uint32_t)ret, high = (uint32_t)(ret >> 32);
  memcpy(entry->returns + CB_RETURN_RAX, &low, sizeof low);
  memcpy(entry->returns + CB_RETURN_EDX, &high, sizeof high);
#else
  memcpy(entry->returns + CB_RETURN_RAX, &ret, sizeof ret);
#endif
}

void
pdi_set_ret_double_impl(pdi_cb_call_t *call, double ret)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (no_result(entry, H_SET_RET_DOUBLE, CALLER))
    return;
#if defined(CB_RETURN_X87_DOUBLE)
  long double x87 = ret;
  memcpy(entry->returns + CB_RETURN_X87_DOUBLE, &x87, 10);
#else
#if defined(__x86_64__)
  if (returns_long_double(entry)) {
    long double x87 = ret;
    memcpy(entry->returns + CB_RETURN_X87, &x87, 10);
    return;
  }
#endif
  memcpy(entry->returns + CB_RETURN_XMM0, &ret, sizeof ret);
#endif
}
