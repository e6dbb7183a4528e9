/* The accessors and the helpers that change calls (pdi_arg_int,
 * pdi_set_arg_int, pdi_skip_int, ...): they read and write the entry of the
 * call a hook was given (callback.c builds it, the handler's frame holds the
 * registers it points at). */
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>

#include "../arch/arch.h"
#include "callback.h"
#include "records.h"

/* The site record a call belongs to. */
static cb_site_t *
site_of(const pdi_cb_call_t *call)
{
  return (cb_site_t *)((uintptr_t)call->site - offsetof(cb_site_t, site));
}

/* ---- accessors */

/* The entry a call record belongs to. The record is const for backends
 * that only read; the entry is the thread's own, written by the helpers
 * that change calls. */
static pdi_cb_entry_t *
entry_of(const pdi_cb_call_t *call)
{
  return (pdi_cb_entry_t *)((uintptr_t)call - offsetof(pdi_cb_entry_t, call));
}

uintptr_t
pdi_arg_int_impl(const pdi_cb_call_t *call, unsigned i)
{
  const pdi_cb_entry_t *entry = entry_of(call);
  if (entry->registers == NULL)
    return 0;
  unsigned in_registers = CB_INT_REGISTERS;
  if (i < in_registers)
    return entry->registers[i];
  return CB_STACK_ARGUMENTS(entry->stack_pointer)[i - in_registers];
}

double
pdi_arg_double_impl(const pdi_cb_call_t *call, unsigned i)
{
  const pdi_cb_entry_t *entry = entry_of(call);
  double value = 0;
  if (entry->vectors != NULL && i < 8)
    memcpy(&value, entry->vectors + (size_t)i * CB_FRAME_VECTOR_STRIDE, sizeof value);
  return value;
}

uintptr_t
pdi_ret_int_impl(const pdi_cb_call_t *call)
{
  const pdi_cb_entry_t *entry = entry_of(call);
  uintptr_t value = 0;
  if (entry->returns != NULL)
    memcpy(&value, entry->returns + CB_RETURN_RAX, sizeof value);
  return value;
}

double
pdi_ret_double_impl(const pdi_cb_call_t *call)
{
  const pdi_cb_entry_t *entry = entry_of(call);
  double value = 0;
  if (entry->returns == NULL)
    return value;
#if defined(CB_RETURN_X87_DOUBLE)
  long double x87;
  memcpy(&x87, entry->returns + CB_RETURN_X87_DOUBLE, 10);
  value = (double)x87;
#else
  memcpy(&value, entry->returns + CB_RETURN_XMM0, sizeof value);
#endif
  return value;
}

/* ---- changing calls */

_Static_assert(offsetof(pdi_cb_entry_t, skip_value) == CB_ENTRY_SKIP_VALUE, "callback-frame.h: CB_ENTRY_SKIP_VALUE");

void
pdi_set_arg_int_impl(pdi_cb_call_t *call, unsigned i, uintptr_t value)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (entry->registers == NULL)
    return;
  unsigned in_registers = CB_INT_REGISTERS;
  if (i < in_registers)
    entry->registers[i] = value;
  else
    ((uintptr_t *)CB_STACK_ARGUMENTS(entry->stack_pointer))[i - in_registers] = value;
}

void
pdi_set_arg_double_impl(pdi_cb_call_t *call, unsigned i, double value)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (entry->vectors != NULL && i < 8)
    memcpy(entry->vectors + (size_t)i * CB_FRAME_VECTOR_STRIDE, &value, sizeof value);
}

/* Whether a skip at this call would give a result the caller cannot read
 * (names.c): then the call runs, and the refusal is counted for the exit report. */
static int
skip_refused(const pdi_cb_call_t *call)
{
  cb_site_t *site = site_of(call);
  /* Looked up on the site's first skip, not at install, where most sites never skip. */
  const char *why = __atomic_load_n(&site->unskippable, __ATOMIC_RELAXED);
  if (why == NULL) {
    why = pdi_cb_unskippable(site->site.function);
    __atomic_store_n(&site->unskippable, why != NULL ? why : "", __ATOMIC_RELAXED);
  }
  if (why == NULL || *why == '\0')
    return 0;
  const cb_site_t *none = NULL;
  __atomic_compare_exchange_n(&pdi_cb_refused_site, &none, site, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  __atomic_fetch_add(&pdi_cb_refused_skips, 1, __ATOMIC_RELAXED);
  return 1;
}

void
pdi_skip_int_impl(pdi_cb_call_t *call, uintptr_t ret)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (entry->registers == NULL || skip_refused(call))
    return;
  entry->skip_value[0] = ret;
  entry->skip_value[1] = 0;
  entry->skipped = 1;
}

void
pdi_skip_double_impl(pdi_cb_call_t *call, double ret)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (entry->registers == NULL || skip_refused(call))
    return;
  memcpy(entry->skip_value, &ret, sizeof ret);
  entry->skipped = 2;
}

void
pdi_set_ret_int_impl(pdi_cb_call_t *call, uintptr_t ret)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (entry->returns != NULL)
    memcpy(entry->returns + CB_RETURN_RAX, &ret, sizeof ret);
}

void
pdi_set_ret_double_impl(pdi_cb_call_t *call, double ret)
{
  pdi_cb_entry_t *entry = entry_of(call);
  if (entry->returns == NULL)
    return;
#if defined(CB_RETURN_X87_DOUBLE)
  long double x87 = ret;
  memcpy(entry->returns + CB_RETURN_X87_DOUBLE, &x87, 10);
#else
  memcpy(entry->returns + CB_RETURN_XMM0, &ret, sizeof ret);
#endif
}
