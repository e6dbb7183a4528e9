/* The pdi_* helpers a backend calls, bound by the core after the backend
 * has loaded (backends link nothing of pdi: the same works whether the core
 * is preloaded or in the addon), and the functions it calls that nothing
 * defines, found before its first call would end the program. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct helper {
  const char *name;
  void *address;
} helper_t;

static const helper_t helpers[] = {
    {"pdi_original", (void *)&pdi_original_impl},
    {"pdi_arg_int", (void *)&pdi_arg_int_impl},
    {"pdi_arg_double", (void *)&pdi_arg_double_impl},
    {"pdi_ret_int", (void *)&pdi_ret_int_impl},
    {"pdi_ret_double", (void *)&pdi_ret_double_impl},
    {"pdi_set_arg_int", (void *)&pdi_set_arg_int_impl},
    {"pdi_set_arg_double", (void *)&pdi_set_arg_double_impl},
    {"pdi_skip_int", (void *)&pdi_skip_int_impl},
    {"pdi_skip_double", (void *)&pdi_skip_double_impl},
    {"pdi_set_ret_int", (void *)&pdi_set_ret_int_impl},
    {"pdi_set_ret_double", (void *)&pdi_set_ret_double_impl},
    {"pdi_ret_int64", (void *)&pdi_ret_int64_impl},
    {"pdi_skip_int64", (void *)&pdi_skip_int64_impl},
    {"pdi_set_ret_int64", (void *)&pdi_set_ret_int64_impl},
    {"pdi_cb_target", (void *)&pdi_cb_target_impl},
};

/* A pdi_* helper the loader had to bind as the backend loaded, before the
 * core binds it: a reference that is not weak (an assembly handler's
 * `call *pdi_cb_target@GOTPCREL(%rip)`, or `@PLT` linked with -z now). */
int
pdi_backend_helper_bound_early(const char *why, char *out, size_t size)
{
  const char *undefined = strstr(why, "undefined symbol: ");
  if (undefined == NULL)
    return 0;
  undefined += strlen("undefined symbol: ");
  for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++)
    if (strcmp(undefined, helpers[i].name) == 0) {
      snprintf(out, size,
               "its reference to %s is not weak: pdi binds its helpers after the backend loads (<pdi/backend.h> "
               "declares them weak; in assembly, add .weak %s)",
               helpers[i].name, helpers[i].name);
      return 1;
    }
  return 0;
}

typedef struct helper_binding {
  pdi_patch_t patches[64];
  size_t count;
  const char *unknown;
  void *handle;
  const char *missing; /* the first function nothing defines */
} helper_binding_t;

/* Whether the dynamic loader would find a function the backend calls
 * through its PLT: in the backend and its own dependencies (its local
 * scope, as it is loaded RTLD_LOCAL) or in the program's global scope. */
static int
defined_for(void *handle, const pdi_slot_t *slot)
{
  if (slot->version != NULL)
    return dlvsym(handle, slot->symbol, slot->version) != NULL ||
           dlvsym(RTLD_DEFAULT, slot->symbol, slot->version) != NULL;
  return dlsym(handle, slot->symbol) != NULL || dlsym(RTLD_DEFAULT, slot->symbol) != NULL;
}

static int
bind_helper_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  (void)object;
  helper_binding_t *binding = context;
  /* Lazy binding would find a missing function only at its first call,
   * ending the program there ("symbol lookup error"): it is named now. A
   * weak reference is the backend's way to bind one at its first call (a
   * function of a library loaded later). */
  if (slot->kind == PDI_SLOT_JUMP_SLOT && !slot->weak && binding->missing == NULL &&
      strncmp(slot->symbol, "pdi_", 4) != 0 && !defined_for(binding->handle, slot))
    binding->missing = slot->symbol;
  if (strncmp(slot->symbol, "pdi_", 4) != 0 || slot->kind == PDI_SLOT_COPY)
    return 0;
  for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++) {
    if (strcmp(slot->symbol, helpers[i].name) != 0)
      continue;
    if (binding->count == sizeof binding->patches / sizeof binding->patches[0])
      return 0;
    pdi_patch_t *patch = &binding->patches[binding->count++];
    patch->slot = slot->address;
    patch->old_value = *slot->address;
    patch->new_value = (uintptr_t)helpers[i].address + (slot->has_addend ? (uintptr_t)slot->addend : 0);
    return 0;
  }
  binding->unknown = slot->symbol;
  return 1;
}

pdi_helpers_outcome_t
pdi_backend_bind_helpers(const loaded_backend_t *backend, const char **name)
{
  pdi_objects_t set;
  if (pdi_objects_scan(&set) != 0)
    return PDI_HELPERS_NOT_BOUND;
  const pdi_object_t *object = NULL;
  for (unsigned i = 0; i < set.count && object == NULL; i++)
    if (set.items[i].base == backend->base && strcmp(set.items[i].path, backend->path) == 0)
      object = &set.items[i];
  pdi_helpers_outcome_t outcome = PDI_HELPERS_BOUND;
  if (object == NULL) {
    outcome = PDI_HELPERS_NOT_FOUND;
  } else {
    helper_binding_t binding = {.count = 0, .unknown = NULL, .handle = backend->handle, .missing = NULL};
    pdi_object_each_slot(object, bind_helper_slot, &binding);
    /* The names lie in the backend's own string table, mapped as long as it stays loaded. */
    if (binding.unknown != NULL) {
      *name = binding.unknown;
      outcome = PDI_HELPERS_UNKNOWN;
    } else if (binding.missing != NULL) {
      *name = binding.missing;
      outcome = PDI_HELPERS_CALLS_MISSING;
    } else if (pdi_patch_apply(binding.patches, binding.count, 0) != 0) {
      outcome = PDI_HELPERS_NOT_BOUND;
    }
  }
  pdi_objects_release(&set);
  return outcome;
}
