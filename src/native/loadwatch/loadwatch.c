#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <string.h>

#include "../arch/arch.h"
#include "loadwatch.h"

/*
 * ld.so calls _dl_debug_state (r_debug.r_brk) with r_state = RT_CONSISTENT
 * once new objects are mapped, before it relocates them and long before it
 * runs their constructors. At that point each new object's DT_INIT_ARRAY
 * (or DT_INIT) entry in its dynamic section is pointed at one of our
 * trampolines; when ld.so runs the object's constructors, the trampoline
 * puts the entries back, calls the on-load callback (everything is
 * relocated now, so the caller may scan and patch it), and runs the real
 * constructors.
 */

#define POOL_SIZE 64

typedef struct pending_init {
  int in_use;
  uintptr_t base;
  char path[256];
  ElfW(Dyn) *array_entry;
  ElfW(Dyn) *size_entry;
  ElfW(Dyn) *init_entry;
  ElfW(Addr) array_value;
  ElfW(Xword) size_value;
  ElfW(Addr) init_value;
  ElfW(Addr) replacement[1];
} pending_init_t;

#define MAX_KNOWN 4096

typedef struct known_object {
  uintptr_t base;
  uint64_t path_hash;
} known_object_t;

static pending_init_t pool[POOL_SIZE];
static known_object_t known[MAX_KNOWN];
static unsigned known_count;
static int watching;
static pdi_loadwatch_callback on_load;
static pdi_loadwatch_callback on_unload;
static pdi_loadwatch_listening listening;
static int last_state = RT_CONSISTENT;
static unsigned missed;

typedef void (*init_function)(int, char **, char **);

static void
restore_entries(pending_init_t *entry)
{
  pdi_patch_t patches[3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  size_t count = 0;
  if (entry->array_entry != NULL) {
    patches[count++] = (pdi_patch_t){(uintptr_t *)&entry->array_entry->d_un.d_ptr, entry->array_value, 0};
    patches[count++] = (pdi_patch_t){(uintptr_t *)&entry->size_entry->d_un.d_val, entry->size_value, 0};
  }
  if (entry->init_entry != NULL)
    patches[count++] = (pdi_patch_t){(uintptr_t *)&entry->init_entry->d_un.d_ptr, entry->init_value, 0};
  if (pdi_patch_apply(patches, count, 1) != 0)
    pdi_log(PDI_LOG_WARNING, "cannot restore the constructors entry of %s: %s", entry->path, pdi_error());
}

static void
run_pending(unsigned index, int argc, char **argv, char **envp)
{
  pending_init_t *entry = &pool[index];
  uintptr_t base = entry->base;
  init_function dt_init = entry->init_entry ? (init_function)(base + entry->init_value) : NULL;
  ElfW(Addr) *array = entry->array_entry ? (ElfW(Addr) *)(base + entry->array_value) : NULL;
  size_t array_length = entry->array_entry ? entry->size_value / sizeof(ElfW(Addr)) : 0;
  restore_entries(entry);
  __atomic_store_n(&entry->in_use, 0, __ATOMIC_RELEASE);
  if (on_load != NULL)
    on_load();
  /* ld.so calls DT_INIT before DT_INIT_ARRAY; we replaced the first one
   * present, so both still run, in that order, exactly once. */
  if (dt_init != NULL)
    dt_init(argc, argv, envp);
  for (size_t i = 0; i < array_length; i++)
    if (array[i] != 0 && array[i] != (ElfW(Addr))-1)
      ((init_function)array[i])(argc, argv, envp);
}

/* One trampoline per pool entry: trampoline_R_C runs entry R * 8 + C (the
 * index is computed, not pasted: a pasted "10" would be entry 10, not 8). */
#define TRAMPOLINE(row, column)                                                                                        \
  static void trampoline_##row##_##column(int argc, char **argv, char **envp)                                          \
  {                                                                                                                    \
    run_pending((row)*8 + (column), argc, argv, envp);                                                                 \
  }
#define TRAMPOLINES_8(row)                                                                                             \
  TRAMPOLINE(row, 0)                                                                                                   \
  TRAMPOLINE(row, 1)                                                                                                   \
  TRAMPOLINE(row, 2)                                                                                                   \
  TRAMPOLINE(row, 3) TRAMPOLINE(row, 4) TRAMPOLINE(row, 5) TRAMPOLINE(row, 6) TRAMPOLINE(row, 7)
TRAMPOLINES_8(0)
TRAMPOLINES_8(1)
TRAMPOLINES_8(2)
TRAMPOLINES_8(3)
TRAMPOLINES_8(4)
TRAMPOLINES_8(5)
TRAMPOLINES_8(6)
TRAMPOLINES_8(7)

#define ROW(row)                                                                                                       \
  trampoline_##row##_0, trampoline_##row##_1, trampoline_##row##_2, trampoline_##row##_3, trampoline_##row##_4,        \
      trampoline_##row##_5, trampoline_##row##_6, trampoline_##row##_7
static const init_function trampolines[POOL_SIZE] = {ROW(0), ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7)};
_Static_assert(POOL_SIZE == 64, "the trampolines above are 8 rows of 8");

static uint64_t
hash_path(const char *path)
{
  uint64_t hash = 1469598103934665603ull;
  for (const unsigned char *p = (const unsigned char *)path; *p; p++)
    hash = (hash ^ *p) * 1099511628211ull;
  return hash;
}

/* Remembers every object of `set`; returns a bitmap-free answer by marking
 * in `fresh` (when given) which ones were not known before. Objects that are
 * gone are forgotten, so one loaded again at the same address is new. */
static void
remember(const pdi_objects_t *set, unsigned char *fresh)
{
  known_object_t next[MAX_KNOWN];
  unsigned next_count = 0;
  for (unsigned i = 0; i < set->count && next_count < MAX_KNOWN; i++) {
    uint64_t hash = hash_path(set->items[i].path);
    int seen = 0;
    for (unsigned j = 0; j < known_count && !seen; j++)
      seen = known[j].base == set->items[i].base && known[j].path_hash == hash;
    if (fresh != NULL)
      fresh[i] = !seen;
    next[next_count++] = (known_object_t){set->items[i].base, hash};
  }
  memcpy(known, next, next_count * sizeof next[0]);
  known_count = next_count;
}

static int
is_pending(uintptr_t base, const char *path)
{
  for (unsigned i = 0; i < POOL_SIZE; i++)
    if (pool[i].in_use && pool[i].base == base && strcmp(pool[i].path, path) == 0)
      return 1;
  return 0;
}

static void
defer_constructors(const pdi_object_t *object)
{
  ElfW(Dyn) *array_entry = NULL;
  ElfW(Dyn) *size_entry = NULL;
  ElfW(Dyn) *init_entry = NULL;
  for (ElfW(Dyn) *dyn = (ElfW(Dyn) *)object->dynamic; dyn->d_tag != DT_NULL; dyn++) {
    if (dyn->d_tag == DT_INIT_ARRAY)
      array_entry = dyn;
    else if (dyn->d_tag == DT_INIT_ARRAYSZ)
      size_entry = dyn;
    else if (dyn->d_tag == DT_INIT)
      init_entry = dyn;
  }
  if (array_entry != NULL && (size_entry == NULL || size_entry->d_un.d_val == 0))
    array_entry = NULL;
  if (array_entry == NULL && init_entry == NULL)
    return;
  unsigned index = 0;
  while (index < POOL_SIZE && pool[index].in_use)
    index++;
  if (index == POOL_SIZE) {
    missed++;
    pdi_log(PDI_LOG_WARNING, "too many objects loading at once: rules reach %s only after its constructors",
            object->path);
    return;
  }
  pending_init_t *entry = &pool[index];
  memset(entry, 0, sizeof *entry);
  entry->base = object->base;
  strncpy(entry->path, object->path, sizeof entry->path - 1);
  entry->replacement[0] = (ElfW(Addr))trampolines[index];
  entry->in_use = 1;
  /* The dynamic section is still writable here: ld.so applies RELRO only
   * after relocating. Only the first entry ld.so will call is replaced. */
  if (init_entry != NULL) {
    entry->init_entry = init_entry;
    entry->init_value = init_entry->d_un.d_ptr;
    init_entry->d_un.d_ptr = (ElfW(Addr))trampolines[index] - object->base;
  } else {
    entry->array_entry = array_entry;
    entry->size_entry = size_entry;
    entry->array_value = array_entry->d_un.d_ptr;
    entry->size_value = size_entry->d_un.d_val;
    array_entry->d_un.d_ptr = (ElfW(Addr))entry->replacement - object->base;
    size_entry->d_un.d_val = sizeof(ElfW(Addr));
  }
}

static void
objects_added(void)
{
  pdi_objects_t set;
  if (pdi_objects_scan(&set) != 0)
    return;
  /* After the last session closed (a detach), the process runs its loads as
   * without pdi; the list stays current for a later attach. */
  if (!listening()) {
    remember(&set, NULL);
    pdi_objects_release(&set);
    return;
  }
  for (unsigned i = 0; i < POOL_SIZE; i++) {
    if (!pool[i].in_use)
      continue;
    int present = 0;
    for (unsigned j = 0; j < set.count && !present; j++)
      present = set.items[j].base == pool[i].base && strcmp(set.items[j].path, pool[i].path) == 0;
    if (!present)
      pool[i].in_use = 0;
  }
  unsigned char fresh[MAX_KNOWN];
  remember(&set, fresh);
  for (unsigned i = 0; i < set.count && i < MAX_KNOWN; i++) {
    const pdi_object_t *object = &set.items[i];
    if (!fresh[i] || object->dynamic == NULL || (object->flags & (PDI_OBJECT_VDSO | PDI_OBJECT_MAIN)))
      continue;
    if (!is_pending(object->base, object->path))
      defer_constructors(object);
  }
  pdi_objects_release(&set);
}

static void
forget_unloaded(void)
{
  pdi_objects_t set;
  if (pdi_objects_scan(&set) != 0)
    return;
  remember(&set, NULL);
  pdi_objects_release(&set);
  if (on_unload != NULL)
    on_unload();
}

static void
on_debug_state(void)
{
  int saved_errno = errno;
  int state = _r_debug.r_state;
  if (state == RT_CONSISTENT && last_state == RT_ADD)
    objects_added();
  else if (state == RT_CONSISTENT && last_state == RT_DELETE)
    forget_unloaded();
  last_state = state;
  errno = saved_errno;
}

int
pdi_loadwatch_start(pdi_loadwatch_callback loaded, pdi_loadwatch_callback unloaded, pdi_loadwatch_listening listens)
{
  if (watching)
    return 0;
  uintptr_t hook = (uintptr_t)_r_debug.r_brk;
  if (hook == 0) {
    pdi_set_error("the loader publishes no debug hook (r_debug.r_brk)");
    return -1;
  }
  pdi_objects_t set;
  if (pdi_objects_scan(&set) != 0)
    return -1;
  remember(&set, NULL);
  pdi_objects_release(&set);
  on_load = loaded;
  on_unload = unloaded;
  listening = listens;
  if (pdi_arch_redirect_code(hook, (uintptr_t)&on_debug_state) != 0) {
    if (pdi_mdwe_on())
      pdi_set_error("this process runs with memory-deny-write-execute (PR_SET_MDWE), which forbids patching the "
                    "loader's debug hook");
    return -1;
  }
  watching = 1;
  return 0;
}

unsigned
pdi_loadwatch_missed(void)
{
  return missed;
}

int
pdi_loadwatch_complete(void)
{
  return watching && missed == 0;
}
