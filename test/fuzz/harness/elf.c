/* Fuzz harness of the core's ELF reader: the input is a shared object (or
 * program) file, mapped here the way the loader would lay it out, then read
 * by the core's own code (pdi_object_from_mapping in src/native/core/objects.c
 * runs add_object, read_segments and parse_dynamic on it, as pdi_objects_scan
 * does on a loaded object), and walked the way inspect and the mechanisms walk
 * objects: every relocation slot and what it is bound to, every symbol, its
 * version and its lookup through the GNU or SysV hash, and the JSON reports.
 *
 * Nothing is relocated and nothing is run: no loader looked at the file, so
 * the harness only bounds the program headers (it must not crash itself) and
 * leaves every check of the dynamic section to the core. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"
#include "input.h"

#define MAX_PHNUM 64
#define MAX_SPAN (64u << 20)

typedef struct image {
  ElfW(Phdr) phdr[MAX_PHNUM];
  unsigned phnum;
  uintptr_t base;
  unsigned char *reserve;
  size_t span;
} image_t;

/* The program headers, if they are inside the file and their PT_LOAD segments
 * are inside the file and a bounded span; 0 or -1. */
static int
read_headers(const unsigned char *data, size_t length, image_t *image, ElfW(Addr) *low, ElfW(Addr) *high)
{
  ElfW(Ehdr) ehdr;
  if (length < sizeof ehdr)
    return -1;
  memcpy(&ehdr, data, sizeof ehdr);
  if (memcmp(ehdr.e_ident, ELFMAG, SELFMAG) != 0 || ehdr.e_phentsize != sizeof(ElfW(Phdr)) ||
      ehdr.e_phnum == 0 || ehdr.e_phnum > MAX_PHNUM || ehdr.e_phoff > length ||
      (length - ehdr.e_phoff) / sizeof(ElfW(Phdr)) < ehdr.e_phnum)
    return -1;
  image->phnum = ehdr.e_phnum;
  memcpy(image->phdr, data + ehdr.e_phoff, image->phnum * sizeof(ElfW(Phdr)));
  *low = (ElfW(Addr))-1;
  *high = 0;
  for (unsigned i = 0; i < image->phnum; i++) {
    const ElfW(Phdr) *ph = &image->phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    if (ph->p_filesz > ph->p_memsz || ph->p_memsz > MAX_SPAN || ph->p_vaddr > (ElfW(Addr))-1 - MAX_SPAN ||
        ph->p_offset > length || ph->p_filesz > length - ph->p_offset)
      return -1;
    if (ph->p_vaddr < *low)
      *low = ph->p_vaddr;
    if (ph->p_vaddr + ph->p_memsz > *high)
      *high = ph->p_vaddr + ph->p_memsz;
  }
  return *low < *high && *high - *low <= MAX_SPAN ? 0 : -1;
}

/* A PROT_NONE reservation over the whole span with each segment's pages made
 * readable, as the loader leaves the gaps: a read outside every segment's pages
 * faults here as it would in a process. */
static int
map_image(const unsigned char *data, size_t length, image_t *image)
{
  ElfW(Addr) low, high;
  if (read_headers(data, length, image, &low, &high) != 0)
    return -1;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  low &= ~(ElfW(Addr))(page - 1);
  image->span = (size_t)((high - low + page - 1) & ~(ElfW(Addr))(page - 1));
  image->reserve = mmap(NULL, image->span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (image->reserve == MAP_FAILED)
    return -1;
  image->base = (uintptr_t)image->reserve - low;
  for (unsigned i = 0; i < image->phnum; i++) {
    const ElfW(Phdr) *ph = &image->phdr[i];
    if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
      continue;
    uintptr_t start = (image->base + ph->p_vaddr) & ~(page - 1);
    uintptr_t end = (image->base + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
    if (mprotect((void *)start, end - start, PROT_READ | PROT_WRITE) != 0)
      return -1;
  }
  for (unsigned i = 0; i < image->phnum; i++) {
    const ElfW(Phdr) *ph = &image->phdr[i];
    if (ph->p_type == PT_LOAD)
      memcpy((void *)(image->base + ph->p_vaddr), data + ph->p_offset, ph->p_filesz);
  }
  return 0;
}

static int
visit_slot(const pdi_object_t *object, const pdi_slot_t *slot, void *context)
{
  const pdi_objects_t *set = context;
  /* What the loader leaves in a lazy slot: the link-time address moved by the base. */
  if (slot->kind == PDI_SLOT_JUMP_SLOT && *slot->address != 0 && *slot->address < object->map_end - object->base)
    *slot->address += object->base;
  pdi_binding_t binding;
  pdi_slot_binding(set, object, slot, &binding);
  (void)pdi_slot_in_relro(object, slot);
  (void)pdi_slot_kind_name(slot->kind);
  pdi_version_req_t req = {slot->version, 0};
  pdi_symbol_ref_t ref;
  (void)pdi_object_lookup(object, slot->symbol, &req, PDI_LOOKUP_ACCEPT_CANONICAL_PLT, &ref);
  return 0;
}

static void
walk_symbols(const pdi_object_t *object)
{
  static const char *const absent[] = {"", "a", "malloc", "fuzz_absent_name"};
  pdi_symbol_ref_t ref;
  for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
    (void)pdi_object_lookup(object, absent[i], NULL, 0, &ref);
  for (size_t index = 0; object->symtab != NULL && index < object->nsyms; index++) {
    int hidden;
    const char *file;
    const char *name = pdi_object_symbol_name(object, index);
    const char *version = pdi_object_symbol_version(object, index, &hidden, &file);
    pdi_version_req_t exact = {version, !hidden}, plain = {NULL, 0};
    (void)pdi_object_lookup(object, name, &exact, 0, &ref);
    (void)pdi_object_lookup(object, name, &plain, PDI_LOOKUP_ACCEPT_CANONICAL_PLT, &ref);
    if (pdi_symbol_is_defined(&object->symtab[index]))
      (void)pdi_object_symbol_at(object, object->base + object->symtab[index].st_value, &ref);
  }
}

static void
one_input(const unsigned char *data, size_t length)
{
  image_t image;
  memset(&image, 0, sizeof image);
  if (map_image(data, length, &image) == 0) {
    pdi_objects_t set;
    if (pdi_object_from_mapping(&set, image.base, image.phdr, image.phnum, "fuzz-input.so") == 0) {
      const pdi_object_t *object = &set.items[0];
      walk_symbols(object);
      (void)pdi_object_each_slot(object, visit_slot, &set);
      pdi_buf_t out = {0};
      pdi_report_process(&out, &set, "*", PDI_REPORT_IMPORTS_ALL);
      pdi_buf_putc(&out, '\n'); /* two JSON documents, one per line */
      pdi_report_exports(&out, &set, "*");
      /* For whoever looks at one input by hand. */
      if (getenv("PDI_FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "%.*s\n", (int)out.len, out.data ? out.data : "");
      pdi_buf_release(&out);
      pdi_objects_release(&set);
    }
  }
  if (image.reserve != NULL && image.reserve != MAP_FAILED)
    munmap(image.reserve, image.span);
}

int
main(int argc, char **argv)
{
  return fuzz_main(argc, argv, one_input);
}
