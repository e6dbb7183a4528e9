/* Entry points and wrappers a backend defined in C++ without C linkage:
 * found by their mangled names, so that a message can name them. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The name a C++ compiler gives a function NAME of the object at `base`
 * that was defined without extern "C" (Itanium mangling: _Z, the length,
 * the name, the parameters), into `mangled`: 1 if the object has one. */
int
pdi_cxx_spelling(uintptr_t base, const char *name, char *mangled, size_t size)
{
  char prefix[160];
  int length = snprintf(prefix, sizeof prefix, "_Z%zu%s", strlen(name), name);
  pdi_objects_t set;
  if (base == 0 || length < 0 || (size_t)length >= sizeof prefix || pdi_objects_scan(&set) != 0)
    return 0;
  int found = 0;
  for (unsigned i = 0; i < set.count && !found; i++) {
    const pdi_object_t *object = &set.items[i];
    for (size_t index = 0; object->base == base && index < object->nsyms && !found; index++) {
      const ElfW(Sym) *symbol = &object->symtab[index];
      const char *symbol_name = pdi_object_symbol_name(object, index);
      found = pdi_symbol_is_defined(symbol) && PDI_ST_TYPE(symbol->st_info) == STT_FUNC &&
              strncmp(symbol_name, prefix, (size_t)length) == 0;
      if (found)
        snprintf(mangled, size, "%s", symbol_name);
    }
  }
  pdi_objects_release(&set);
  return found;
}

/* An entry point defined in C++ without the header's declarations (or
 * extern "C") has a mangled name the core never looks up: its init would
 * not run, and could not refuse the load. Its C name, or NULL. */
const char *
pdi_cxx_entry_point(void *handle, uintptr_t base, char *mangled, size_t size)
{
  static const char *const entries[] = {"pdi_be_init", "pdi_be_fini", "pdi_be_cb_req", "pdi_be_pre_cb",
                                        "pdi_be_post_cb"};
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
    if (dlsym(handle, entries[i]) == NULL && pdi_cxx_spelling(base, entries[i], mangled, size))
      return entries[i];
  }
  return NULL;
}
