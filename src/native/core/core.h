/* The ELF model of a running process, written once and shared by the
 * preload core, the addon and every mechanism. */
#ifndef PDI_CORE_H
#define PDI_CORE_H

#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>

#include "escape.h"

#if defined(__LP64__)
#define PDI_R_SYM(info) ELF64_R_SYM(info)
#define PDI_R_TYPE(info) ELF64_R_TYPE(info)
#define PDI_ST_TYPE(info) ELF64_ST_TYPE(info)
#define PDI_ST_BIND(info) ELF64_ST_BIND(info)
#else
#define PDI_R_SYM(info) ELF32_R_SYM(info)
#define PDI_R_TYPE(info) ELF32_R_TYPE(info)
#define PDI_ST_TYPE(info) ELF32_ST_TYPE(info)
#define PDI_ST_BIND(info) ELF32_ST_BIND(info)
#endif

#define PDI_HIDDEN __attribute__((visibility("hidden")))

/* ---- memory: an mmap-backed arena, so the model never depends on malloc */

typedef struct pdi_arena_block pdi_arena_block_t;

typedef struct pdi_arena {
  pdi_arena_block_t *head;
} pdi_arena_t;

/* Zeroed memory (fresh anonymous pages, never handed out twice), or NULL. */
PDI_HIDDEN void *pdi_arena_alloc(pdi_arena_t *arena, size_t size);
PDI_HIDDEN char *pdi_arena_strdup(pdi_arena_t *arena, const char *s);
PDI_HIDDEN void pdi_arena_release(pdi_arena_t *arena);

/* A growable array in an arena: `items` holds `count` items of one size in
 * room for `capacity`. Growing copies the items into twice the room (the old
 * room stays in the arena until it is released), so pointers into the array
 * are valid only until the next push. Read items as ((T *)array.items)[i]. */
typedef struct pdi_array {
  void *items;
  size_t count;
  size_t capacity;
  size_t written; /* items below this were ever handed out: pushing there must clear them again */
} pdi_array_t;

/* Appends one zeroed item of item_size bytes and returns it, or NULL when the
 * arena cannot grow (the array is then unchanged). */
PDI_HIDDEN void *pdi_array_push(pdi_arena_t *arena, pdi_array_t *array, size_t item_size);
/* Room for `count` more items without growing on the way; 0 or -1. */
PDI_HIDDEN int pdi_array_reserve(pdi_arena_t *arena, pdi_array_t *array, size_t count, size_t item_size);

/* ---- output: a growable byte buffer with JSON helpers */

typedef struct pdi_buf {
  char *data;
  size_t len;
  size_t cap;
  int failed;
} pdi_buf_t;

PDI_HIDDEN void pdi_buf_put(pdi_buf_t *buf, const char *bytes, size_t len);
PDI_HIDDEN void pdi_buf_puts(pdi_buf_t *buf, const char *s);
PDI_HIDDEN void pdi_buf_putc(pdi_buf_t *buf, char c);
PDI_HIDDEN void pdi_buf_dec(pdi_buf_t *buf, uint64_t value);
PDI_HIDDEN void pdi_buf_hex(pdi_buf_t *buf, uint64_t value);
PDI_HIDDEN void pdi_buf_json_str(pdi_buf_t *buf, const char *s);
PDI_HIDDEN void pdi_buf_json_hex(pdi_buf_t *buf, uint64_t value);
PDI_HIDDEN void pdi_buf_json_key(pdi_buf_t *buf, const char *key, int *first);
PDI_HIDDEN void pdi_buf_release(pdi_buf_t *buf);

/* ---- loaded objects */

enum {
  PDI_OBJECT_MAIN = 1u << 0,
  PDI_OBJECT_PIE = 1u << 1,
  PDI_OBJECT_RELRO = 1u << 2,
  PDI_OBJECT_BIND_NOW = 1u << 3,
  PDI_OBJECT_VDSO = 1u << 4,
  PDI_OBJECT_LOADER = 1u << 5,
  PDI_OBJECT_PDI = 1u << 6,
  PDI_OBJECT_TEXTREL = 1u << 7
};

typedef struct pdi_object {
  unsigned index;
  unsigned flags;
  const char *path;
  /* Where the file is: `path`, except for one the loader names relatively (LD_LIBRARY_PATH=.), the absolute
   * path the kernel mapped it from, which the directory current at its load meant (a chdir cannot change it). */
  const char *file;
  const char *soname;
  const char *name;
  uintptr_t base;
  uintptr_t map_start;
  uintptr_t map_end;
  /* The file-backed part of the first executable PT_LOAD (where the PLT and
   * most code lie), asked before the others; empty when there is none. */
  uintptr_t code_start;
  uintptr_t code_end;
  const ElfW(Phdr) *phdr;
  unsigned phnum;
  const ElfW(Dyn) *dynamic;

  const ElfW(Sym) *symtab;
  const char *strtab;
  size_t strsz;
  size_t nsyms;
  const uint32_t *sysv_hash;
  const uint32_t *gnu_hash;

  const ElfW(Versym) *versym;
  const ElfW(Verdef) *verdef;
  size_t verdefnum;
  const ElfW(Verneed) *verneed;
  size_t verneednum;

  const void *jmprel;
  size_t jmprelsz;
  int pltrel;
  const ElfW(Rela) *rela;
  size_t relasz;
  const ElfW(Rel) *rel;
  size_t relsz;
  int has_relr;

  uintptr_t relro_start;
  uintptr_t relro_end;
} pdi_object_t;

typedef struct pdi_objects {
  pdi_object_t *items;
  unsigned count;
  size_t page_size;
  pdi_arena_t arena;
} pdi_objects_t;

/* How many relocations an object has: a bound for what a pass over its slots collects. */
PDI_HIDDEN size_t pdi_object_slot_bound(const pdi_object_t *object);

/* Snapshot of every object of the process, in load (search) order;
 * returns 0 or -1 with pdi_error() set. */
PDI_HIDDEN int pdi_objects_scan(pdi_objects_t *set);
PDI_HIDDEN void pdi_objects_release(pdi_objects_t *set);
/* A set of one object that the caller mapped itself, read by the same code as
 * a scanned one; the base and program headers are what dl_iterate_phdr would
 * give. Only the fuzz harness of the ELF reader uses it (test/fuzz/harness/elf.c):
 * the model is built for objects the loader accepted, and this is how a
 * mutated file reaches it without a loader. */
PDI_HIDDEN int pdi_object_from_mapping(pdi_objects_t *set, uintptr_t base, const ElfW(Phdr) *phdr, unsigned phnum,
                                       const char *path);
/* Bytes from pointer to the end of the object's PT_LOAD segment that holds
 * it, 0 when none does: what every table of the dynamic section is bounded by. */
PDI_HIDDEN size_t pdi_object_mapped_room(const pdi_object_t *object, const void *pointer);
/* The loaded segment (PT_LOAD, its memory size) holding `address`: 1 and
 * its bounds, or 0. */
PDI_HIDDEN int pdi_object_load_segment(const pdi_object_t *object, uintptr_t address, uintptr_t *start, uintptr_t *end);
PDI_HIDDEN const pdi_object_t *pdi_objects_containing(const pdi_objects_t *set, uintptr_t address);
/* Whether [address, address+len) lies inside one executable segment. */
PDI_HIDDEN int pdi_object_in_code(const pdi_object_t *object, uintptr_t address, size_t len);

/* Object patterns (docs/config.md, "The model"): $main, soname or file name,
 * absolute path, glob, and "*" for every object that is not protected (pdi,
 * vDSO). */
PDI_HIDDEN int pdi_object_matches(const pdi_object_t *object, const char *pattern);
PDI_HIDDEN int pdi_glob_match(const char *pattern, const char *text);
/* Whether an object pattern has a '[' that no ']' closes: it would match only a name with that '[' in it. */
PDI_HIDDEN int pdi_glob_unclosed(const char *pattern);

/* ---- symbols */

typedef struct pdi_symbol_ref {
  const ElfW(Sym) *sym;
  size_t index;
} pdi_symbol_ref_t;

/* A requested version: NULL version = what an unversioned reference binds
 * to; require_default = the "@@" spelling. */
typedef struct pdi_version_req {
  const char *version;
  int require_default;
} pdi_version_req_t;

/* The longest symbol name (and version) a rule may give, with its NUL: C++ and Rust names run to thousands of bytes. */
#define PDI_SYMBOL_SIZE 8192

enum { PDI_LOOKUP_ACCEPT_CANONICAL_PLT = 1u << 0, PDI_LOOKUP_ACCEPT_TLS = 1u << 1 };

/* Splits "foo@@V2" / "foo@V1" / "foo" into a name (copied to name_out) and
 * a version request; returns -1 if the name does not fit. */
PDI_HIDDEN int pdi_symbol_spec_parse(const char *spec, char *name_out, size_t name_cap, char *version_out,
                                     size_t version_cap, pdi_version_req_t *req);

/* Finds a defined symbol by name and version through the GNU or SysV hash. */
PDI_HIDDEN int pdi_object_lookup(const pdi_object_t *object, const char *name, const pdi_version_req_t *req,
                                 unsigned flags, pdi_symbol_ref_t *out);
/* The same with the name's GNU hash (pdi_gnu_hash) computed once for many objects. */
PDI_HIDDEN int pdi_object_lookup_hashed(const pdi_object_t *object, const char *name, uint32_t hash,
                                        const pdi_version_req_t *req, unsigned flags, pdi_symbol_ref_t *out);
PDI_HIDDEN uint32_t pdi_gnu_hash(const char *name);
/* The bucket of an address in a power-of-two table: the multiplication by
 * 2^64 / phi spreads the address's bits, aligned ones included, into the
 * high half that is taken (the claims' and the callback sites' indexes). */
static inline size_t
pdi_address_bucket(uintptr_t address, size_t capacity)
{
  return (size_t)(((uint64_t)address * 0x9e3779b97f4a7c15ull) >> 32) & (capacity - 1);
}
/* Exact address to defined symbol (used only for reporting). */
PDI_HIDDEN int pdi_object_symbol_at(const pdi_object_t *object, uintptr_t address, pdi_symbol_ref_t *out);
PDI_HIDDEN const char *pdi_object_symbol_name(const pdi_object_t *object, size_t index);
/* Version of a symbol: its definition's name (verdef) or, for an undefined
 * symbol, the required version (verneed) and the file it is needed from. */
PDI_HIDDEN const char *pdi_object_symbol_version(const pdi_object_t *object, size_t index, int *hidden,
                                                 const char **file);
PDI_HIDDEN int pdi_symbol_is_defined(const ElfW(Sym) *sym);

/* What a reference to name@version resolves to (the real code: IFUNCs
 * resolved, canonical PLT entries skipped); 0 when nothing defines it. */
PDI_HIDDEN uintptr_t pdi_resolve_definition(const pdi_objects_t *set, const char *name, const pdi_version_req_t *req,
                                            int (*excluded)(const pdi_object_t *object, void *context), void *context,
                                            const pdi_object_t **definer);
/* What a symbol of type `st_info` is when it is no code: "a data object" or
 * "a thread-local variable"; NULL for FUNC, IFUNC and NOTYPE (assembly). */
PDI_HIDDEN const char *pdi_symbol_variable_kind(unsigned char st_info);
/* What name@version is when every object that defines it (among those
 * `pattern` matches, any for NULL or "*") defines a variable: the first one's
 * kind (pdi_symbol_variable_kind) and that object; NULL when some object
 * defines it as code, or none defines it. */
PDI_HIDDEN const char *pdi_variable_definition(const pdi_objects_t *set, const char *pattern, const char *name,
                                               const pdi_version_req_t *req,
                                               int (*excluded)(const pdi_object_t *object, void *context),
                                               void *context, const pdi_object_t **definer);
/* The same with the name's GNU hash given. */
PDI_HIDDEN uintptr_t pdi_resolve_hashed(const pdi_objects_t *set, const char *name, uint32_t hash,
                                        const pdi_version_req_t *req,
                                        int (*excluded)(const pdi_object_t *object, void *context), void *context,
                                        const pdi_object_t **definer);

/* ---- import slots */

enum { PDI_SLOT_JUMP_SLOT = 1, PDI_SLOT_GLOB_DAT, PDI_SLOT_ABS, PDI_SLOT_COPY };

typedef struct pdi_slot {
  uintptr_t *address;
  unsigned kind;
  unsigned reloc_type;
  size_t reloc_index;
  size_t sym_index;
  const char *symbol;
  const char *version;
  const char *version_file;
  int version_hidden;
  int weak;
  intptr_t addend;
  int has_addend;
} pdi_slot_t;

typedef int (*pdi_slot_visitor)(const pdi_object_t *object, const pdi_slot_t *slot, void *context);

/* Visits every relocation slot that refers to a named symbol; stops early
 * and returns the visitor's value when it is non-zero. */
PDI_HIDDEN int pdi_object_each_slot(const pdi_object_t *object, pdi_slot_visitor visit, void *context);
PDI_HIDDEN const char *pdi_slot_kind_name(unsigned kind);
PDI_HIDDEN int pdi_slot_in_relro(const pdi_object_t *object, const pdi_slot_t *slot);

typedef struct pdi_binding {
  uintptr_t value;
  uintptr_t target_address;
  int lazy;
  /* The object that holds the address. */
  const pdi_object_t *target;
  /* The object whose IFUNC symbol the loader bound, when it is not `target` (the resolver chose code of `target`);
   * `symbol` is then the definer's, `implementation` the name in `target`. */
  const pdi_object_t *definer;
  pdi_symbol_ref_t symbol;
  const char *symbol_name;
  const char *symbol_version;
  int ifunc;
  const char *implementation;
  int canonical_plt;
} pdi_binding_t;

/* What a slot points to now: still lazy, null, or which object and symbol. */
PDI_HIDDEN void pdi_slot_binding(const pdi_objects_t *set, const pdi_object_t *object, const pdi_slot_t *slot,
                                 pdi_binding_t *out);
/* The same for an address the slot's function lives at (what a callback
 * stub in the slot calls): which object and symbol. */
PDI_HIDDEN void pdi_address_binding(const pdi_objects_t *set, const pdi_slot_t *slot, uintptr_t address,
                                    pdi_binding_t *out);

/* ---- errors: one thread-local message, like plthook's accessor */

PDI_HIDDEN const char *pdi_error(void);
PDI_HIDDEN void pdi_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends `text` with "..." at or before byte `end` (its terminating NUL
 * after), on a UTF-8 character's boundary: a message cut short says so. */
PDI_HIDDEN void pdi_mark_cut(char *text, size_t end);

/* ---- log: "pdi: ..." lines on stderr, or on the file of log_file / PDI_LOG */

enum { PDI_LOG_ERROR = 0, PDI_LOG_WARNING, PDI_LOG_INFO, PDI_LOG_DEBUG };

/* `quiet`: a log file that cannot be opened is not said (another process of the program said it). */
PDI_HIDDEN void pdi_log_configure(int level, const char *file, int quiet);
/* The log's level and destination, to put back when a session that set them
 * closes before the process ends (pdi attach's detach, interpose()'s close):
 * the log is the process's, and another session (pdi run's) had set it. */
typedef struct pdi_log_state {
  int fd, level;
} pdi_log_state_t;
PDI_HIDDEN pdi_log_state_t pdi_log_state(void);
PDI_HIDDEN void pdi_log_restore(pdi_log_state_t state);
PDI_HIDDEN int pdi_log_enabled(int level);
PDI_HIDDEN void pdi_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- patching: batched, atomic pointer stores into GOT pages */

typedef struct pdi_patch {
  uintptr_t *slot;
  uintptr_t old_value;
  uintptr_t new_value;
} pdi_patch_t;

/* Stores every patch's new value (or, with restore, its old value): one
 * protection change per non-writable page, atomic stores, protections put
 * back as they were. Returns 0 or -1 with pdi_error() set, before any store. */
PDI_HIDDEN int pdi_patch_apply(const pdi_patch_t *patches, size_t count, int restore);

/* Whether the process runs with memory-deny-write-execute (PR_SET_MDWE,
 * Linux 6.3+): no mapping may gain PROT_EXEC, so pdi can neither write
 * callback stubs nor patch the loader's code. GOT and symbol table pages
 * only need PROT_WRITE, which MDWE leaves alone. */
PDI_HIDDEN int pdi_mdwe_on(void);

/* ---- reports (JSON), shared by `pdi inspect` and the addon */

enum { PDI_REPORT_IMPORTS_ALL = 1u << 0 };

PDI_HIDDEN int pdi_report_process(pdi_buf_t *out, const pdi_objects_t *set, const char *imports_pattern,
                                  unsigned flags);
PDI_HIDDEN int pdi_report_objects(pdi_buf_t *out, const pdi_objects_t *set);
PDI_HIDDEN int pdi_report_imports(pdi_buf_t *out, const pdi_objects_t *set, const char *pattern);
PDI_HIDDEN int pdi_report_exports(pdi_buf_t *out, const pdi_objects_t *set, const char *pattern);

#endif
