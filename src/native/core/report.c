#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "../arch/arch.h"
#include "../callback/callback.h"
#include "core.h"

typedef struct slot_report {
  pdi_buf_t *out;
  const pdi_objects_t *set;
  int first;
  int with_object;
} slot_report_t;

static void
put_bool(pdi_buf_t *out, const char *key, int value, int *first)
{
  pdi_buf_json_key(out, key, first);
  pdi_buf_puts(out, value ? "true" : "false");
}

static void
put_object_fields(pdi_buf_t *out, const pdi_object_t *object, int *first)
{
  pdi_buf_json_key(out, "index", first);
  pdi_buf_dec(out, object->index);
  pdi_buf_json_key(out, "path", first);
  pdi_buf_json_str(out, object->path);
  pdi_buf_json_key(out, "name", first);
  pdi_buf_json_str(out, object->name);
  pdi_buf_json_key(out, "soname", first);
  pdi_buf_json_str(out, object->soname);
  pdi_buf_json_key(out, "base", first);
  pdi_buf_json_hex(out, object->base);
  pdi_buf_json_key(out, "end", first);
  pdi_buf_json_hex(out, object->map_end);
  static const struct {
    unsigned flag;
    const char *key;
  } flags[] = {{PDI_OBJECT_MAIN, "main"},        {PDI_OBJECT_PIE, "pie"},   {PDI_OBJECT_RELRO, "relro"},
               {PDI_OBJECT_BIND_NOW, "bindNow"}, {PDI_OBJECT_VDSO, "vdso"}, {PDI_OBJECT_LOADER, "loader"},
               {PDI_OBJECT_PDI, "pdi"}};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    put_bool(out, flags[i].key, object->flags & flags[i].flag, first);
  pdi_buf_json_key(out, "relroRange", first);
  if (object->flags & PDI_OBJECT_RELRO) {
    pdi_buf_putc(out, '[');
    pdi_buf_json_hex(out, object->relro_start);
    pdi_buf_putc(out, ',');
    pdi_buf_json_hex(out, object->relro_end);
    pdi_buf_putc(out, ']');
  } else {
    pdi_buf_puts(out, "null");
  }
  pdi_buf_json_key(out, "symbols", first);
  pdi_buf_dec(out, object->nsyms);
}

static void
put_target(pdi_buf_t *out, const pdi_binding_t *binding)
{
  if (binding->target == NULL) {
    pdi_buf_puts(out, "null");
    return;
  }
  /* An IFUNC whose resolver chose code of another object is named after the definition the loader bound. */
  const pdi_object_t *definer = binding->definer != NULL ? binding->definer : binding->target;
  int first = 1;
  pdi_buf_putc(out, '{');
  pdi_buf_json_key(out, "object", &first);
  pdi_buf_json_str(out, definer->path);
  pdi_buf_json_key(out, "name", &first);
  pdi_buf_json_str(out, definer->name);
  pdi_buf_json_key(out, "symbol", &first);
  pdi_buf_json_str(out, binding->symbol_name);
  pdi_buf_json_key(out, "version", &first);
  pdi_buf_json_str(out, binding->symbol_version);
  pdi_buf_json_key(out, "offset", &first);
  pdi_buf_json_hex(out, binding->target_address - binding->target->base);
  put_bool(out, "ifunc", binding->ifunc, &first);
  pdi_buf_json_key(out, "implementation", &first);
  pdi_buf_json_str(out, binding->implementation);
  pdi_buf_json_key(out, "implementationObject", &first);
  pdi_buf_json_str(out, binding->definer != NULL ? binding->target->path : NULL);
  pdi_buf_json_key(out, "implementationName", &first);
  pdi_buf_json_str(out, binding->definer != NULL ? binding->target->name : NULL);
  put_bool(out, "canonicalPlt", binding->canonical_plt, &first);
  pdi_buf_putc(out, '}');
}

/* A callback stub (a callback or act rule at work): the rule's kind, the
 * backend whose hooks the stub runs, the function it calls in the end, and
 * the stub it calls first when a callback goes over an act rule's stub
 * ("over", null otherwise). The act backend is the one that defines
 * pdi_act_site_event (the core brings it itself for act rules). */
static void
put_stub_site(pdi_buf_t *out, const pdi_objects_t *set, const pdi_slot_t *slot, const pdi_cb_hooks_t *hooks,
              uintptr_t target, unsigned depth)
{
  uintptr_t hook = hooks->pre != NULL    ? (uintptr_t)hooks->pre
                   : hooks->post != NULL ? (uintptr_t)hooks->post
                                         : (uintptr_t)hooks->cb_req;
  const pdi_object_t *backend = hook != 0 ? pdi_objects_containing(set, hook) : NULL;
  pdi_symbol_ref_t ref;
  pdi_version_req_t any = {NULL, 0};
  int act = backend != NULL && pdi_object_lookup(backend, "pdi_act_site_event", &any, 0, &ref);
  uintptr_t callee = target, next;
  for (unsigned hops = depth; hops < 4 && pdi_cb_stub_site(callee, &next) != NULL; hops++)
    callee = next;
  uintptr_t over_target = 0;
  const pdi_cb_hooks_t *over = depth < 4 ? pdi_cb_stub_site(target, &over_target) : NULL;
  pdi_binding_t real;
  pdi_address_binding(set, slot, callee, &real);
  int first = 1;
  pdi_buf_putc(out, '{');
  pdi_buf_json_key(out, "rule", &first);
  pdi_buf_json_str(out, act ? "act" : "callback");
  pdi_buf_json_key(out, "backend", &first);
  pdi_buf_json_str(out, backend != NULL ? backend->path : NULL);
  pdi_buf_json_key(out, "calls", &first);
  put_target(out, &real);
  pdi_buf_json_key(out, "over", &first);
  if (over == NULL) {
    pdi_buf_puts(out, "null");
  } else {
    put_stub_site(out, set, slot, over, over_target, depth + 1);
  }
  pdi_buf_putc(out, '}');
}

/* A slot's stub, or null for a slot that holds none. */
static void
put_stub(pdi_buf_t *out, const pdi_objects_t *set, const pdi_slot_t *slot, const pdi_binding_t *binding)
{
  uintptr_t target = 0;
  const pdi_cb_hooks_t *hooks = NULL;
  if (binding->target != NULL || binding->lazy || binding->value == 0 ||
      (hooks = pdi_cb_stub_site(binding->value, &target)) == NULL) {
    pdi_buf_puts(out, "null");
    return;
  }
  put_stub_site(out, set, slot, hooks, target, 0);
}

static int
report_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  slot_report_t *report = context;
  pdi_buf_t *out = report->out;
  pdi_binding_t binding;
  pdi_slot_binding(report->set, object, slot, &binding);
  if (!report->first)
    pdi_buf_putc(out, ',');
  report->first = 0;
  int first = 1;
  pdi_buf_putc(out, '{');
  if (report->with_object) {
    pdi_buf_json_key(out, "object", &first);
    pdi_buf_json_str(out, object->path);
  }
  pdi_buf_json_key(out, "address", &first);
  pdi_buf_json_hex(out, (uintptr_t)slot->address);
  pdi_buf_json_key(out, "offset", &first);
  pdi_buf_json_hex(out, (uintptr_t)slot->address - object->base);
  pdi_buf_json_key(out, "kind", &first);
  pdi_buf_json_str(out, pdi_slot_kind_name(slot->kind));
  pdi_buf_json_key(out, "symbol", &first);
  pdi_buf_json_str(out, slot->symbol);
  pdi_buf_json_key(out, "version", &first);
  pdi_buf_json_str(out, slot->version);
  pdi_buf_json_key(out, "versionFile", &first);
  pdi_buf_json_str(out, slot->version_file);
  put_bool(out, "weak", slot->weak, &first);
  pdi_buf_json_key(out, "addend", &first);
  if (slot->has_addend) {
    if (slot->addend < 0) {
      pdi_buf_putc(out, '-');
      pdi_buf_dec(out, (uint64_t)(-(int64_t)slot->addend));
    } else {
      pdi_buf_dec(out, (uint64_t)slot->addend);
    }
  } else {
    pdi_buf_puts(out, "null");
  }
  put_bool(out, "relro", pdi_slot_in_relro(object, slot), &first);
  put_bool(out, "lazy", binding.lazy, &first);
  pdi_buf_json_key(out, "value", &first);
  pdi_buf_json_hex(out, binding.value);
  pdi_buf_json_key(out, "target", &first);
  put_target(out, &binding);
  pdi_buf_json_key(out, "stub", &first);
  put_stub(out, report->set, slot, &binding);
  pdi_buf_putc(out, '}');
  return 0;
}

static void
put_imports(pdi_buf_t *out, const pdi_objects_t *set, const pdi_object_t *object, int with_object, int *first)
{
  slot_report_t report = {out, set, *first, with_object};
  pdi_object_each_slot(object, report_slot, &report);
  *first = report.first;
}

/* A redefined symbol's value points outside its object (at the wrapper). */
static void
put_redefined(pdi_buf_t *out, const pdi_objects_t *set, const pdi_object_t *object)
{
  int first = 1;
  pdi_buf_putc(out, '[');
  for (size_t index = 1; index < object->nsyms; index++) {
    const ElfW(Sym) *sym = &object->symtab[index];
    unsigned type = PDI_ST_TYPE(sym->st_info);
    if (sym->st_shndx == SHN_UNDEF || sym->st_shndx == SHN_ABS || (type != STT_FUNC && type != STT_GNU_IFUNC))
      continue;
    uintptr_t address = object->base + sym->st_value;
    if (address >= object->map_start && address < object->map_end)
      continue;
    const pdi_object_t *holder = pdi_objects_containing(set, address);
    pdi_symbol_ref_t wrapper;
    int named = holder != NULL && pdi_object_symbol_at(holder, address, &wrapper);
    int field_first = 1;
    if (!first)
      pdi_buf_putc(out, ',');
    first = 0;
    pdi_buf_putc(out, '{');
    pdi_buf_json_key(out, "symbol", &field_first);
    pdi_buf_json_str(out, pdi_object_symbol_name(object, index));
    pdi_buf_json_key(out, "version", &field_first);
    pdi_buf_json_str(out, pdi_object_symbol_version(object, index, NULL, NULL));
    pdi_buf_json_key(out, "address", &field_first);
    pdi_buf_json_hex(out, address);
    pdi_buf_json_key(out, "object", &field_first);
    pdi_buf_json_str(out, holder ? holder->path : NULL);
    pdi_buf_json_key(out, "wrapper", &field_first);
    pdi_buf_json_str(out, named ? pdi_object_symbol_name(holder, wrapper.index) : NULL);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, ']');
}

int
pdi_report_process(pdi_buf_t *out, const pdi_objects_t *set, const char *imports_pattern, unsigned flags)
{
  int matched = 0;
  int first = 1;
  pdi_buf_putc(out, '{');
  pdi_buf_json_key(out, "pid", &first);
  pdi_buf_dec(out, (uint64_t)getpid());
  pdi_buf_json_key(out, "arch", &first);
  pdi_buf_json_str(out, pdi_arch_name());
  pdi_buf_json_key(out, "pageSize", &first);
  pdi_buf_dec(out, set->page_size);
  pdi_buf_json_key(out, "objects", &first);
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < set->count; i++) {
    const pdi_object_t *object = &set->items[i];
    int object_first = 1;
    if (i)
      pdi_buf_putc(out, ',');
    pdi_buf_putc(out, '{');
    put_object_fields(out, object, &object_first);
    pdi_buf_json_key(out, "redefined", &object_first);
    put_redefined(out, set, object);
    pdi_buf_json_key(out, "imports", &object_first);
    if ((flags & PDI_REPORT_IMPORTS_ALL) || (imports_pattern && pdi_object_matches(object, imports_pattern))) {
      int slot_first = 1;
      matched++;
      pdi_buf_putc(out, '[');
      put_imports(out, set, object, 0, &slot_first);
      pdi_buf_putc(out, ']');
    } else {
      pdi_buf_puts(out, "null");
    }
    pdi_buf_putc(out, '}');
  }
  pdi_buf_puts(out, "]}");
  return matched;
}

int
pdi_report_objects(pdi_buf_t *out, const pdi_objects_t *set)
{
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < set->count; i++) {
    int first = 1;
    if (i)
      pdi_buf_putc(out, ',');
    pdi_buf_putc(out, '{');
    put_object_fields(out, &set->items[i], &first);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, ']');
  return (int)set->count;
}

typedef void (*object_lister)(pdi_buf_t *out, const pdi_objects_t *set, const pdi_object_t *object, int *first);

static int
list_matching(pdi_buf_t *out, const pdi_objects_t *set, const char *pattern, object_lister list)
{
  int matched = 0;
  int first = 1;
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < set->count; i++) {
    if (!pdi_object_matches(&set->items[i], pattern))
      continue;
    matched++;
    list(out, set, &set->items[i], &first);
  }
  pdi_buf_putc(out, ']');
  return matched;
}

static void
list_imports(pdi_buf_t *out, const pdi_objects_t *set, const pdi_object_t *object, int *first)
{
  put_imports(out, set, object, 1, first);
}

int
pdi_report_imports(pdi_buf_t *out, const pdi_objects_t *set, const char *pattern)
{
  return list_matching(out, set, pattern, list_imports);
}

static const char *
symbol_type_name(unsigned type)
{
  switch (type) {
  case STT_FUNC: return "func";
  case STT_OBJECT: return "object";
  case STT_GNU_IFUNC: return "ifunc";
  case STT_TLS: return "tls";
  case STT_COMMON: return "common";
  case STT_NOTYPE: return "notype";
  default: return "other";
  }
}

static const char *
symbol_bind_name(unsigned bind)
{
  switch (bind) {
  case STB_GLOBAL: return "global";
  case STB_WEAK: return "weak";
  case STB_GNU_UNIQUE: return "unique";
  default: return "other";
  }
}

static void
put_exports(pdi_buf_t *out, const pdi_object_t *object, int *first)
{
  for (size_t index = 1; index < object->nsyms; index++) {
    const ElfW(Sym) *sym = &object->symtab[index];
    if (sym->st_shndx == SHN_UNDEF || PDI_ST_BIND(sym->st_info) == STB_LOCAL)
      continue;
    int hidden = 0;
    const char *version = pdi_object_symbol_version(object, index, &hidden, NULL);
    int field_first = 1;
    if (!*first)
      pdi_buf_putc(out, ',');
    *first = 0;
    pdi_buf_putc(out, '{');
    pdi_buf_json_key(out, "object", &field_first);
    pdi_buf_json_str(out, object->path);
    pdi_buf_json_key(out, "symbol", &field_first);
    pdi_buf_json_str(out, pdi_object_symbol_name(object, index));
    pdi_buf_json_key(out, "version", &field_first);
    pdi_buf_json_str(out, version);
    put_bool(out, "defaultVersion", version != NULL && !hidden, &field_first);
    pdi_buf_json_key(out, "type", &field_first);
    pdi_buf_json_str(out, symbol_type_name(PDI_ST_TYPE(sym->st_info)));
    pdi_buf_json_key(out, "bind", &field_first);
    pdi_buf_json_str(out, symbol_bind_name(PDI_ST_BIND(sym->st_info)));
    pdi_buf_json_key(out, "address", &field_first);
    if (sym->st_shndx == SHN_ABS || PDI_ST_TYPE(sym->st_info) == STT_TLS)
      pdi_buf_json_hex(out, sym->st_value);
    else
      pdi_buf_json_hex(out, object->base + sym->st_value);
    pdi_buf_json_key(out, "size", &field_first);
    pdi_buf_dec(out, sym->st_size);
    pdi_buf_putc(out, '}');
  }
}

static void
list_exports(pdi_buf_t *out, const pdi_objects_t *set, const pdi_object_t *object, int *first)
{
  (void)set;
  put_exports(out, object, first);
}

int
pdi_report_exports(pdi_buf_t *out, const pdi_objects_t *set, const char *pattern)
{
  return list_matching(out, set, pattern, list_exports);
}
