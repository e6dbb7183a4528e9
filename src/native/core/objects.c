#define _GNU_SOURCE
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "core.h"

typedef struct scan_state {
  pdi_objects_t *set;
  pdi_array_t objects; /* pdi_object_t */
  int failed;
} scan_state_t;

static int
segment_is_writable(const pdi_object_t *object, uintptr_t address)
{
  for (unsigned i = 0; i < object->phnum; i++) {
    const ElfW(Phdr) *ph = &object->phdr[i];
    if (ph->p_type == PT_LOAD && address >= object->base + ph->p_vaddr &&
        address < object->base + ph->p_vaddr + ph->p_memsz)
      return (ph->p_flags & PF_W) != 0;
  }
  return 0;
}

/* glibc rewrites d_ptr entries of a writable dynamic section to absolute
 * addresses; read-only ones (the vDSO) and other libcs keep them relative. */
static uintptr_t
dynamic_address(const pdi_object_t *object, int dynamic_writable, ElfW(Addr) value)
{
  if (object->base == 0)
    return value;
  if (dynamic_writable && value >= object->map_start && value < object->map_end)
    return value;
  return object->base + value;
}

static size_t
gnu_hash_symbol_count(const uint32_t *table)
{
  uint32_t nbuckets = table[0];
  uint32_t symoffset = table[1];
  uint32_t bloom_size = table[2];
  const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(table + 4) + bloom_size);
  const uint32_t *chain = buckets + nbuckets;
  uint32_t last = 0;
  for (uint32_t i = 0; i < nbuckets; i++)
    if (buckets[i] > last)
      last = buckets[i];
  if (last < symoffset)
    return symoffset;
  while ((chain[last - symoffset] & 1u) == 0)
    last++;
  return (size_t)last + 1;
}

/* Rel and Rela entries begin alike (r_offset, r_info); entry_size tells them apart. */
static size_t
highest_in_table(const void *table, size_t bytes, size_t entry_size)
{
  size_t highest = 0;
  for (size_t at = 0; table != NULL && at + entry_size <= bytes; at += entry_size) {
    const ElfW(Rel) *entry = (const void *)((const char *)table + at);
    if (PDI_R_SYM(entry->r_info) > highest)
      highest = PDI_R_SYM(entry->r_info);
  }
  return highest;
}

static size_t
highest_referenced_symbol(const pdi_object_t *object)
{
  size_t highest = highest_in_table(object->rela, object->relasz, sizeof(ElfW(Rela)));
  size_t rel = highest_in_table(object->rel, object->relsz, sizeof(ElfW(Rel)));
  size_t plt = highest_in_table(object->jmprel, object->jmprelsz,
                                object->pltrel == DT_RELA ? sizeof(ElfW(Rela)) : sizeof(ElfW(Rel)));
  if (rel > highest)
    highest = rel;
  return plt > highest ? plt : highest;
}

static void
parse_dynamic(pdi_object_t *object)
{
  const ElfW(Dyn) *dyn = object->dynamic;
  int writable = segment_is_writable(object, (uintptr_t)dyn);
  ElfW(Addr) soname_offset = 0;
  int has_soname = 0;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    switch (dyn->d_tag) {
    case DT_SYMTAB: object->symtab = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_STRTAB: object->strtab = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_STRSZ: object->strsz = dyn->d_un.d_val; break;
    case DT_HASH: object->sysv_hash = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_GNU_HASH: object->gnu_hash = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_VERSYM: object->versym = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_VERDEF: object->verdef = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_VERDEFNUM: object->verdefnum = dyn->d_un.d_val; break;
    case DT_VERNEED: object->verneed = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_VERNEEDNUM: object->verneednum = dyn->d_un.d_val; break;
    case DT_JMPREL: object->jmprel = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_PLTRELSZ: object->jmprelsz = dyn->d_un.d_val; break;
    case DT_PLTREL: object->pltrel = (int)dyn->d_un.d_val; break;
    case DT_RELA: object->rela = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_RELASZ: object->relasz = dyn->d_un.d_val; break;
    case DT_REL: object->rel = (const void *)dynamic_address(object, writable, dyn->d_un.d_ptr); break;
    case DT_RELSZ: object->relsz = dyn->d_un.d_val; break;
    case DT_RELR: object->has_relr = 1; break;
    case DT_SONAME:
      soname_offset = dyn->d_un.d_val;
      has_soname = 1;
      break;
    case DT_BIND_NOW: object->flags |= PDI_OBJECT_BIND_NOW; break;
    case DT_TEXTREL: object->flags |= PDI_OBJECT_TEXTREL; break;
    case DT_FLAGS:
      if (dyn->d_un.d_val & DF_BIND_NOW)
        object->flags |= PDI_OBJECT_BIND_NOW;
      if (dyn->d_un.d_val & DF_TEXTREL)
        object->flags |= PDI_OBJECT_TEXTREL;
      break;
    case DT_FLAGS_1:
      if (dyn->d_un.d_val & DF_1_NOW)
        object->flags |= PDI_OBJECT_BIND_NOW;
      if (dyn->d_un.d_val & DF_1_PIE)
        object->flags |= PDI_OBJECT_PIE;
      break;
    default: break;
    }
  }
  if (has_soname && object->strtab != NULL && soname_offset < object->strsz)
    object->soname = object->strtab + soname_offset;
  if (object->gnu_hash != NULL)
    object->nsyms = gnu_hash_symbol_count(object->gnu_hash);
  else if (object->sysv_hash != NULL)
    object->nsyms = object->sysv_hash[1];
  /* The GNU hash only counts defined symbols (and some linkers set its
   * symoffset to 1 when there are none): the undefined ones that
   * relocations name may lie beyond it. */
  size_t referenced = highest_referenced_symbol(object);
  if (referenced + 1 > object->nsyms)
    object->nsyms = referenced + 1;
}

static const char *
base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Extent from the PT_LOAD segments, the dynamic section, RELRO pages, and
 * whether an interpreter marks the first object as the program. */
static void
read_segments(pdi_object_t *object, size_t page_size, int is_first)
{
  object->map_start = UINTPTR_MAX;
  for (unsigned i = 0; i < object->phnum; i++) {
    const ElfW(Phdr) *ph = &object->phdr[i];
    if (ph->p_type == PT_LOAD) {
      uintptr_t start = object->base + ph->p_vaddr;
      uintptr_t end = start + ph->p_memsz;
      if (start < object->map_start)
        object->map_start = start;
      if (end > object->map_end)
        object->map_end = end;
    } else if (ph->p_type == PT_DYNAMIC) {
      object->dynamic = (const ElfW(Dyn) *)(object->base + ph->p_vaddr);
    } else if (ph->p_type == PT_GNU_RELRO) {
      uintptr_t page_mask = ~(uintptr_t)(page_size - 1);
      object->flags |= PDI_OBJECT_RELRO;
      object->relro_start = (object->base + ph->p_vaddr) & page_mask;
      object->relro_end = (object->base + ph->p_vaddr + ph->p_memsz) & page_mask;
    } else if (ph->p_type == PT_INTERP && is_first) {
      object->flags |= PDI_OBJECT_MAIN;
    }
  }
  if (object->map_start == UINTPTR_MAX)
    object->map_start = object->map_end = object->base;
}

/* The loader names the program "": its path is /proc/self/exe. */
static const char *
object_path(pdi_arena_t *arena, const pdi_object_t *object, const char *loader_name)
{
  if (!(object->flags & PDI_OBJECT_MAIN))
    return pdi_arena_strdup(arena, loader_name);
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  path[n > 0 ? n : 0] = '\0';
  return pdi_arena_strdup(arena, n > 0 ? path : "");
}

/* The vDSO, the loader and pdi's own object, which rules treat apart. */
static void
mark_special(pdi_object_t *object)
{
  uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
  uintptr_t loader = (uintptr_t)getauxval(AT_BASE);
  if (vdso != 0 && vdso >= object->map_start && vdso < object->map_end) {
    object->flags |= PDI_OBJECT_VDSO;
    if (object->path[0] == '\0')
      object->path = object->name;
  }
  if (loader != 0 && object->base == loader && !(object->flags & PDI_OBJECT_MAIN))
    object->flags |= PDI_OBJECT_LOADER;
  uintptr_t self = (uintptr_t)&pdi_objects_scan;
  if (self >= object->map_start && self < object->map_end)
    object->flags |= PDI_OBJECT_PDI;
}

static int
add_object(struct dl_phdr_info *info, size_t size, void *data)
{
  (void)size;
  scan_state_t *state = data;
  pdi_objects_t *set = state->set;
  int is_first = state->objects.count == 0;
  pdi_object_t *object = pdi_array_push(&set->arena, &state->objects, sizeof *object);
  if (object == NULL) {
    state->failed = 1;
    return 1;
  }
  object->index = (unsigned)(state->objects.count - 1);
  object->base = info->dlpi_addr;
  object->phdr = info->dlpi_phdr;
  object->phnum = info->dlpi_phnum;
  read_segments(object, set->page_size, is_first);
  /* The executable comes first; a static-pie or an interpreter-less main
   * program still has an empty name there. */
  if (is_first && info->dlpi_name[0] == '\0')
    object->flags |= PDI_OBJECT_MAIN;
  if ((object->flags & PDI_OBJECT_MAIN) && object->base != 0)
    object->flags |= PDI_OBJECT_PIE;
  object->path = object_path(&set->arena, object, info->dlpi_name);
  if (object->path == NULL) {
    state->failed = 1;
    return 1;
  }
  if (object->dynamic != NULL)
    parse_dynamic(object);
  if (!(object->flags & PDI_OBJECT_MAIN))
    object->flags &= ~(unsigned)PDI_OBJECT_PIE;
  object->name = object->soname ? object->soname : base_name(object->path);
  mark_special(object);
  return 0;
}

int
pdi_objects_scan(pdi_objects_t *set)
{
  memset(set, 0, sizeof *set);
  set->page_size = (size_t)getauxval(AT_PAGESZ);
  if (set->page_size == 0)
    set->page_size = (size_t)sysconf(_SC_PAGESIZE);
  scan_state_t state = {set, {NULL, 0, 0}, 0};
  dl_iterate_phdr(add_object, &state);
  set->items = state.objects.items;
  set->count = (unsigned)state.objects.count;
  if (state.failed) {
    pdi_set_error("out of memory while listing loaded objects");
    pdi_objects_release(set);
    return -1;
  }
  return 0;
}

void
pdi_objects_release(pdi_objects_t *set)
{
  pdi_arena_release(&set->arena);
  set->items = NULL;
  set->count = 0;
}

const pdi_object_t *
pdi_objects_containing(const pdi_objects_t *set, uintptr_t address)
{
  for (unsigned i = 0; i < set->count; i++) {
    const pdi_object_t *object = &set->items[i];
    if (address < object->map_start || address >= object->map_end)
      continue;
    for (unsigned p = 0; p < object->phnum; p++) {
      const ElfW(Phdr) *ph = &object->phdr[p];
      if (ph->p_type == PT_LOAD && address >= object->base + ph->p_vaddr &&
          address < object->base + ph->p_vaddr + ph->p_memsz)
        return object;
    }
  }
  return NULL;
}

int
pdi_object_in_code(const pdi_object_t *object, uintptr_t address, size_t len)
{
  for (unsigned p = 0; p < object->phnum; p++) {
    const ElfW(Phdr) *ph = &object->phdr[p];
    uintptr_t start = object->base + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && address >= start && address + len <= start + ph->p_filesz)
      return 1;
  }
  return 0;
}
