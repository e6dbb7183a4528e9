/* Entry points and wrappers a backend defined in C++ without C linkage:
 * found by their mangled names, so that a message can name them. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The first defined function of `object` that C++ mangled from NAME
 * (Itanium mangling: _Z, the length, the name, the parameters), or NULL. */
static const char *
mangled_function(const pdi_object_t *object, const char *name)
{
  char prefix[160];
  int length = snprintf(prefix, sizeof prefix, "_Z%zu%s", strlen(name), name);
  if (length < 0 || (size_t)length >= sizeof prefix)
    return NULL;
  for (size_t index = 0; index < object->nsyms; index++) {
    const ElfW(Sym) *symbol = &object->symtab[index];
    const char *symbol_name = pdi_object_symbol_name(object, index);
    if (pdi_symbol_is_defined(symbol) && PDI_ST_TYPE(symbol->st_info) == STT_FUNC &&
        strncmp(symbol_name, prefix, (size_t)length) == 0)
      return symbol_name;
  }
  return NULL;
}

/* The first of `count` names that the object at `base` defines only as a
 * C++ function, its mangled name copied into `mangled`; NULL if none. One
 * scan of the loaded objects for all the names. */
static const char *
first_mangled(uintptr_t base, const char *const *names, size_t count, char *mangled, size_t size)
{
  pdi_objects_t set;
  if (base == 0 || count == 0 || pdi_objects_scan(&set) != 0)
    return NULL;
  const char *found = NULL;
  for (unsigned i = 0; i < set.count && found == NULL; i++) {
    if (set.items[i].base != base)
      continue;
    for (size_t n = 0; n < count && found == NULL; n++) {
      const char *symbol = mangled_function(&set.items[i], names[n]);
      if (symbol != NULL) {
        snprintf(mangled, size, "%s", symbol);
        found = names[n];
      }
    }
  }
  pdi_objects_release(&set);
  return found;
}

int
pdi_cxx_spelling(uintptr_t base, const char *name, char *mangled, size_t size)
{
  return first_mangled(base, &name, 1, mangled, size) != NULL;
}

const char *
pdi_cxx_entry_point(void *handle, uintptr_t base, char *mangled, size_t size)
{
  static const char *const entries[] = {"pdi_be_init", "pdi_be_fini", "pdi_be_cb_req", "pdi_be_pre_cb",
                                        "pdi_be_post_cb"};
  const char *missing[sizeof entries / sizeof entries[0]];
  size_t count = 0;
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
    if (dlsym(handle, entries[i]) == NULL)
      missing[count++] = entries[i];
  return first_mangled(base, missing, count, mangled, size);
}
