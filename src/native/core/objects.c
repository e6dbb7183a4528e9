#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "core.h"
#include "proc-self.h"

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

size_t
pdi_object_mapped_room(const pdi_object_t *object, const void *pointer)
{
  uintptr_t start, end;
  return pdi_object_load_segment(object, (uintptr_t)pointer, &start, &end) ? (size_t)(end - (uintptr_t)pointer) : 0;
}

int
pdi_object_load_segment(const pdi_object_t *object, uintptr_t address, uintptr_t *start, uintptr_t *end)
{
  for (unsigned i = 0; i < object->phnum; i++) {
    const ElfW(Phdr) *ph = &object->phdr[i];
    uintptr_t first = object->base + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && address >= first && address - first < ph->p_memsz) {
      *start = first;
      *end = ph->p_memsz > UINTPTR_MAX - first ? UINTPTR_MAX : first + ph->p_memsz;
      return 1;
    }
  }
  return 0;
}

/* The symbols the GNU hash covers, or 0 when its table does not fit in the
 * mapping. Every lookup starts at a bucket no higher than the last one and
 * stops at the first chain end after it, so the walk here, from the last
 * bucket to its chain end, bounds every later walk too. */
static size_t
gnu_hash_symbol_count(const pdi_object_t *object, const uint32_t *table)
{
  uint64_t room = pdi_object_mapped_room(object, table);
  if (room < 16)
    return 0;
  uint32_t nbuckets = table[0];
  uint32_t symoffset = table[1];
  uint32_t bloom_size = table[2];
  uint64_t head = 16 + (uint64_t)bloom_size * sizeof(ElfW(Addr)) + (uint64_t)nbuckets * 4;
  if (head > room)
    return 0;
  const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(table + 4) + bloom_size);
  const uint32_t *chain = buckets + nbuckets;
  uint64_t chain_count = (room - head) / 4;
  uint32_t last = 0;
  for (uint32_t i = 0; i < nbuckets; i++)
    if (buckets[i] > last)
      last = buckets[i];
  if (last < symoffset)
    return symoffset;
  for (uint64_t at = last - symoffset;; at++) {
    if (at >= chain_count)
      return 0;
    if (chain[at] & 1u)
      return (size_t)(at + symoffset) + 1;
  }
}

static int
sysv_hash_fits(const pdi_object_t *object, const uint32_t *table)
{
  uint64_t room = pdi_object_mapped_room(object, table);
  return room >= 8 && ((uint64_t)table[0] + table[1] + 2) * 4 <= room;
}

/* How many entries of entry_size fit between table and the end of its segment, up to count. */
static size_t
mapped_entries(const pdi_object_t *object, const void *table, size_t count, size_t entry_size)
{
  size_t fit = table != NULL ? pdi_object_mapped_room(object, table) / entry_size : 0;
  return count < fit ? count : fit;
}

/* The version definitions whose entry and first auxiliary entry are mapped. */
static size_t
mapped_verdefs(const pdi_object_t *object)
{
  uintptr_t at = (uintptr_t)object->verdef;
  size_t n = 0;
  while (at != 0 && n < object->verdefnum) {
    const ElfW(Verdef) *def = (const void *)at;
    if (pdi_object_mapped_room(object, def) < sizeof *def ||
        pdi_object_mapped_room(object, (const void *)(at + def->vd_aux)) < sizeof(ElfW(Verdaux)))
      break;
    n++;
    if (def->vd_next == 0)
      break;
    at += def->vd_next;
  }
  return n;
}

/* The version needs whose entry and every auxiliary entry are mapped. */
static size_t
mapped_verneeds(const pdi_object_t *object)
{
  uintptr_t at = (uintptr_t)object->verneed;
  size_t n = 0;
  while (at != 0 && n < object->verneednum) {
    const ElfW(Verneed) *need = (const void *)at;
    if (pdi_object_mapped_room(object, need) < sizeof *need)
      break;
    uintptr_t aux = at + need->vn_aux;
    unsigned a = 0;
    for (; a < need->vn_cnt; a++) {
      const ElfW(Vernaux) *entry = (const void *)aux;
      if (pdi_object_mapped_room(object, entry) < sizeof *entry)
        break;
      if (entry->vna_next == 0) {
        a = need->vn_cnt;
        break;
      }
      aux += entry->vna_next;
    }
    if (a < need->vn_cnt)
      break;
    n++;
    if (need->vn_next == 0)
      break;
    at += need->vn_next;
  }
  return n;
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

/* The tables before any is read: strings and relocations cut to what is
 * mapped, hash tables that do not fit dropped. */
static void
bound_tables(pdi_object_t *object)
{
  object->strsz = mapped_entries(object, object->strtab, object->strsz, 1);
  /* Every string must end inside the table. */
  while (object->strsz > 0 && object->strtab[object->strsz - 1] != '\0')
    object->strsz--;
  object->jmprelsz = mapped_entries(object, object->jmprel, object->jmprelsz, 1);
  object->relasz = mapped_entries(object, object->rela, object->relasz, 1);
  object->relsz = mapped_entries(object, object->rel, object->relsz, 1);
  if (object->sysv_hash != NULL && !sysv_hash_fits(object, object->sysv_hash))
    object->sysv_hash = NULL;
  object->verdefnum = mapped_verdefs(object);
  object->verneednum = mapped_verneeds(object);
}

/* How many symbols the object has: what the hash tables cover, and every
 * symbol a relocation names, cut to the symbol and version tables mapped. */
static void
count_symbols(pdi_object_t *object)
{
  size_t gnu_count = object->gnu_hash != NULL ? gnu_hash_symbol_count(object, object->gnu_hash) : 0;
  if (gnu_count == 0)
    object->gnu_hash = NULL;
  if (object->gnu_hash != NULL)
    object->nsyms = gnu_count;
  else if (object->sysv_hash != NULL)
    object->nsyms = object->sysv_hash[1];
  /* The GNU hash only counts defined symbols (and some linkers set its
   * symoffset to 1 when there are none): the undefined ones that
   * relocations name may lie beyond it. */
  size_t referenced = highest_referenced_symbol(object);
  if (referenced + 1 > object->nsyms)
    object->nsyms = referenced + 1;
  object->nsyms = mapped_entries(object, object->symtab, object->nsyms, sizeof(ElfW(Sym)));
  if (object->versym != NULL)
    object->nsyms = mapped_entries(object, object->versym, object->nsyms, sizeof(ElfW(Versym)));
  if (object->nsyms == 0)
    object->symtab = NULL;
}

static void
parse_dynamic(pdi_object_t *object)
{
  const ElfW(Dyn) *dyn = object->dynamic;
  int writable = segment_is_writable(object, (uintptr_t)dyn);
  ElfW(Addr) soname_offset = 0;
  int has_soname = 0;
  const ElfW(Dyn) *end = dyn + mapped_entries(object, dyn, SIZE_MAX, sizeof *dyn);
  for (; dyn < end && dyn->d_tag != DT_NULL; dyn++) {
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
  bound_tables(object);
  if (has_soname && object->strtab != NULL && soname_offset < object->strsz)
    object->soname = object->strtab + soname_offset;
  count_symbols(object);
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
  object->code_start = object->code_end = 0;
  for (unsigned i = 0; i < object->phnum; i++) {
    const ElfW(Phdr) *ph = &object->phdr[i];
    if (ph->p_type == PT_LOAD) {
      uintptr_t start = object->base + ph->p_vaddr;
      uintptr_t end = start + ph->p_memsz;
      if (start < object->map_start)
        object->map_start = start;
      if (end > object->map_end)
        object->map_end = end;
      if ((ph->p_flags & PF_X) && object->code_end == 0 && ph->p_filesz <= UINTPTR_MAX - start) {
        object->code_start = start;
        object->code_end = start + ph->p_filesz;
      }
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
  ssize_t n = pdi_proc_self_readlink_exe(path, sizeof path - 1);
  path[n > 0 ? n : 0] = '\0';
  return pdi_arena_strdup(arena, n > 0 ? path : "");
}

/* The file of a /proc/self/maps line whose mapping holds `address`, without
 * the kernel's " (deleted)"; NULL for any other line, or one without a path. */
static const char *
maps_line_file(pdi_arena_t *arena, char *line, uintptr_t address)
{
  char *end;
  uintptr_t start = (uintptr_t)strtoul(line, &end, 16);
  if (*end != '-')
    return NULL;
  uintptr_t stop = (uintptr_t)strtoul(end + 1, &end, 16);
  if (address < start || address >= stop)
    return NULL;
  char *path = end;
  for (int field = 0; field < 4; field++) { /* permissions, offset, device, inode */
    path += strspn(path, " ");
    path += strcspn(path, " ");
  }
  path += strspn(path, " ");
  if (*path != '/')
    return NULL;
  size_t length = strlen(path);
  static const char deleted[] = " (deleted)";
  if (length > sizeof deleted - 1 && strcmp(path + length - (sizeof deleted - 1), deleted) == 0)
    path[length - (sizeof deleted - 1)] = '\0';
  return pdi_arena_strdup(arena, path);
}

/* The file the kernel mapped at `address`, from /proc/self/maps (which
 * qemu-user shows for the guest too), or NULL. */
static const char *
mapped_file(pdi_arena_t *arena, uintptr_t address)
{
  int fd = pdi_proc_self_open("maps");
  if (fd < 0)
    return NULL;
  char buffer[8192];
  size_t held = 0;
  const char *found = NULL;
  ssize_t got;
  while (found == NULL && (got = read(fd, buffer + held, sizeof buffer - 1 - held)) > 0) {
    held += (size_t)got;
    buffer[held] = '\0';
    char *line = buffer, *end;
    while (found == NULL && (end = strchr(line, '\n')) != NULL) {
      *end = '\0';
      found = maps_line_file(arena, line, address);
      line = end + 1;
    }
    held -= (size_t)(line - buffer);
    memmove(buffer, line, held);
    if (held == sizeof buffer - 1)
      held = 0; /* a line longer than the buffer, which no path of a loaded object makes */
  }
  close(fd);
  return found;
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
  object->file = object->path;
  if (object->path[0] != '/' && object->path[0] != '\0' && !(object->flags & PDI_OBJECT_VDSO)) {
    const char *mapped = mapped_file(&set->arena, object->map_start);
    if (mapped != NULL)
      object->file = mapped;
  }
  return 0;
}

static void
begin_scan(pdi_objects_t *set, scan_state_t *state)
{
  memset(set, 0, sizeof *set);
  set->page_size = (size_t)getauxval(AT_PAGESZ);
  if (set->page_size == 0)
    set->page_size = (size_t)sysconf(_SC_PAGESIZE);
  memset(state, 0, sizeof *state);
  state->set = set;
}

static int
end_scan(pdi_objects_t *set, const scan_state_t *state)
{
  set->items = state->objects.items;
  set->count = (unsigned)state->objects.count;
  if (state->failed) {
    pdi_set_error("out of memory while listing loaded objects");
    pdi_objects_release(set);
    return -1;
  }
  return 0;
}

int
pdi_objects_scan(pdi_objects_t *set)
{
  scan_state_t state;
  begin_scan(set, &state);
  dl_iterate_phdr(add_object, &state);
  return end_scan(set, &state);
}

int
pdi_object_from_mapping(pdi_objects_t *set, uintptr_t base, const ElfW(Phdr) *phdr, unsigned phnum, const char *path)
{
  scan_state_t state;
  begin_scan(set, &state);
  struct dl_phdr_info info;
  memset(&info, 0, sizeof info);
  info.dlpi_addr = base;
  info.dlpi_name = path;
  info.dlpi_phdr = phdr;
  info.dlpi_phnum = (ElfW(Half))phnum;
  add_object(&info, sizeof info, &state);
  return end_scan(set, &state);
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
  if (address >= object->code_start && address < object->code_end && len <= object->code_end - address)
    return 1;
  for (unsigned p = 0; p < object->phnum; p++) {
    const ElfW(Phdr) *ph = &object->phdr[p];
    uintptr_t start = object->base + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && address >= start && address + len <= start + ph->p_filesz)
      return 1;
  }
  return 0;
}
