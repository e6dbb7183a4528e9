#define _GNU_SOURCE
#include <string.h>

#include "core.h"

#define VERSYM_HIDDEN 0x8000u
#define VERSYM_INDEX 0x7fffu

int
pdi_symbol_spec_parse(const char *spec, char *name_out, size_t name_cap, char *version_out, size_t version_cap,
                      pdi_version_req_t *req)
{
  const char *at = strchr(spec, '@');
  size_t name_len = at ? (size_t)(at - spec) : strlen(spec);
  if (name_len == 0 || name_len >= name_cap)
    return -1;
  memcpy(name_out, spec, name_len);
  name_out[name_len] = '\0';
  req->version = NULL;
  req->require_default = 0;
  if (at == NULL)
    return 0;
  const char *version = at + 1;
  if (*version == '@') {
    req->require_default = 1;
    version++;
  }
  size_t version_len = strlen(version);
  if (version_len == 0 || version_len >= version_cap || strchr(version, '@') != NULL)
    return -1;
  memcpy(version_out, version, version_len + 1);
  req->version = version_out;
  return 0;
}

const char *
pdi_object_symbol_name(const pdi_object_t *object, size_t index)
{
  const ElfW(Sym) *sym = &object->symtab[index];
  if (sym->st_name >= object->strsz)
    return "";
  return object->strtab + sym->st_name;
}

int
pdi_symbol_is_defined(const ElfW(Sym) *sym)
{
  return sym->st_shndx != SHN_UNDEF && PDI_ST_TYPE(sym->st_info) != STT_TLS &&
         (sym->st_value != 0 || sym->st_shndx == SHN_ABS);
}

static const char *
verdef_name(const pdi_object_t *object, unsigned index)
{
  const ElfW(Verdef) *def = object->verdef;
  for (size_t n = 0; def != NULL && n < object->verdefnum; n++) {
    if ((def->vd_ndx & VERSYM_INDEX) == index && !(def->vd_flags & VER_FLG_BASE)) {
      const ElfW(Verdaux) *aux = (const void *)((const char *)def + def->vd_aux);
      return aux->vda_name < object->strsz ? object->strtab + aux->vda_name : NULL;
    }
    if (def->vd_next == 0)
      break;
    def = (const void *)((const char *)def + def->vd_next);
  }
  return NULL;
}

static const char *
verneed_name(const pdi_object_t *object, unsigned index, const char **file)
{
  const ElfW(Verneed) *need = object->verneed;
  for (size_t n = 0; need != NULL && n < object->verneednum; n++) {
    const ElfW(Vernaux) *aux = (const void *)((const char *)need + need->vn_aux);
    for (unsigned a = 0; a < need->vn_cnt; a++) {
      if ((aux->vna_other & VERSYM_INDEX) == index) {
        if (file != NULL)
          *file = need->vn_file < object->strsz ? object->strtab + need->vn_file : NULL;
        return aux->vna_name < object->strsz ? object->strtab + aux->vna_name : NULL;
      }
      if (aux->vna_next == 0)
        break;
      aux = (const void *)((const char *)aux + aux->vna_next);
    }
    if (need->vn_next == 0)
      break;
    need = (const void *)((const char *)need + need->vn_next);
  }
  return NULL;
}

const char *
pdi_object_symbol_version(const pdi_object_t *object, size_t index, int *hidden, const char **file)
{
  if (hidden != NULL)
    *hidden = 0;
  if (file != NULL)
    *file = NULL;
  if (object->versym == NULL)
    return NULL;
  unsigned raw = object->versym[index];
  unsigned version = raw & VERSYM_INDEX;
  if (hidden != NULL)
    *hidden = (raw & VERSYM_HIDDEN) != 0;
  if (version <= 1)
    return NULL;
  /* A copy-relocated definition keeps the versym of the reference it
   * satisfies, so a defined symbol may still name a verneed entry. */
  if (object->symtab[index].st_shndx == SHN_UNDEF) {
    const char *name = verneed_name(object, version, file);
    return name ? name : verdef_name(object, version);
  }
  const char *name = verdef_name(object, version);
  return name ? name : verneed_name(object, version, file);
}

typedef struct candidate_filter {
  const char *name;
  const pdi_version_req_t *req;
  unsigned flags;
  pdi_symbol_ref_t hidden_only;
  unsigned hidden_matches;
  uint32_t gnu_hash; /* of name */
} candidate_filter_t;

/* 1 = accept, 0 = keep looking; remembers a lone hidden match so an
 * unversioned request can fall back to it as ld.so does. */
static int
consider(const pdi_object_t *object, size_t index, candidate_filter_t *filter)
{
  const ElfW(Sym) *sym = &object->symtab[index];
  int canonical_plt = sym->st_shndx == SHN_UNDEF && sym->st_value != 0 &&
                      (filter->flags & PDI_LOOKUP_ACCEPT_CANONICAL_PLT);
  int tls = PDI_ST_TYPE(sym->st_info) == STT_TLS && sym->st_shndx != SHN_UNDEF &&
            (filter->flags & PDI_LOOKUP_ACCEPT_TLS);
  if (!canonical_plt && !tls && !pdi_symbol_is_defined(sym))
    return 0;
  if (PDI_ST_BIND(sym->st_info) == STB_LOCAL)
    return 0;
  if (strcmp(pdi_object_symbol_name(object, index), filter->name) != 0)
    return 0;
  int hidden = 0;
  const char *version = pdi_object_symbol_version(object, index, &hidden, NULL);
  if (filter->req->version != NULL) {
    if (object->versym == NULL)
      return 1;
    if (version == NULL || strcmp(version, filter->req->version) != 0)
      return 0;
    return !(filter->req->require_default && hidden);
  }
  if (!hidden)
    return 1;
  filter->hidden_only.sym = sym;
  filter->hidden_only.index = index;
  filter->hidden_matches++;
  return 0;
}

uint32_t
pdi_gnu_hash(const char *name)
{
  uint32_t h = 5381;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = h * 33 + *p;
  return h;
}

static unsigned long
sysv_hash(const char *name)
{
  unsigned long h = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    h = (h << 4) + *p;
    unsigned long g = h & 0xf0000000ul;
    if (g)
      h ^= g >> 24;
    h &= ~g;
  }
  return h;
}

/* Whether a GNU hash table's Bloom filter lets a name with this hash
 * through: most objects asked define nothing of the name, and are ruled out
 * here without the rest of a lookup. */
static int
gnu_bloom_passes(const uint32_t *table, uint32_t hash)
{
  const unsigned word_bits = sizeof(ElfW(Addr)) * 8;
  uint32_t bloom_size = table[2], bloom_shift = table[3];
  if (table[0] == 0 || bloom_size == 0)
    return 0;
  ElfW(Addr) word = ((const ElfW(Addr) *)(table + 4))[(hash / word_bits) & (bloom_size - 1)];
  ElfW(Addr) mask = ((ElfW(Addr))1 << (hash % word_bits)) | ((ElfW(Addr))1 << ((hash >> bloom_shift) % word_bits));
  return (word & mask) == mask;
}

static int
lookup_gnu(const pdi_object_t *object, candidate_filter_t *filter, pdi_symbol_ref_t *out)
{
  const uint32_t *table = object->gnu_hash;
  uint32_t nbuckets = table[0];
  uint32_t symoffset = table[1];
  const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(table + 4) + table[2]);
  const uint32_t *chain = buckets + nbuckets;

  /* Reached only past pdi_object_lookup_hashed's Bloom check, which also ruled out an empty table. */
  uint32_t h = filter->gnu_hash;
  uint32_t index = buckets[h % nbuckets];
  if (index < symoffset)
    return 0;
  /* The chain stays inside the table (gnu_hash_symbol_count, objects.c); the symbol
   * table may have been cut shorter. */
  for (; index < object->nsyms; index++) {
    uint32_t entry = chain[index - symoffset];
    if ((entry | 1u) == (h | 1u) && consider(object, index, filter)) {
      out->sym = &object->symtab[index];
      out->index = index;
      return 1;
    }
    if (entry & 1u)
      return 0;
  }
  return 0;
}

static int
lookup_sysv(const pdi_object_t *object, candidate_filter_t *filter, pdi_symbol_ref_t *out)
{
  const uint32_t *table = object->sysv_hash;
  uint32_t nbucket = table[0];
  uint32_t nchain = table[1];
  const uint32_t *buckets = table + 2;
  const uint32_t *chain = buckets + nbucket;
  if (nbucket == 0)
    return 0;
  /* No chain is longer than the table: a longer walk is a loop. */
  uint32_t steps = 0;
  for (uint32_t index = buckets[sysv_hash(filter->name) % nbucket];
       index != STN_UNDEF && index < nchain && index < object->nsyms && steps < nchain; index = chain[index], steps++) {
    if (consider(object, index, filter)) {
      out->sym = &object->symtab[index];
      out->index = index;
      return 1;
    }
  }
  return 0;
}

int
pdi_object_lookup(const pdi_object_t *object, const char *name, const pdi_version_req_t *req, unsigned flags,
                  pdi_symbol_ref_t *out)
{
  return pdi_object_lookup_hashed(object, name, pdi_gnu_hash(name), req, flags, out);
}

static __attribute__((noinline)) int
lookup_hashed_table(const pdi_object_t *object, const char *name, uint32_t hash, const pdi_version_req_t *req,
                    unsigned flags, pdi_symbol_ref_t *out)
{
  static const pdi_version_req_t unversioned = {NULL, 0};
  candidate_filter_t filter = {name, req ? req : &unversioned, flags, {NULL, 0}, 0, hash};
  int found = 0;
  if (object->gnu_hash != NULL)
    found = lookup_gnu(object, &filter, out);
  else if (object->sysv_hash != NULL)
    found = lookup_sysv(object, &filter, out);
  if (!found && filter.hidden_matches == 1) {
    *out = filter.hidden_only;
    found = 1;
  }
  return found;
}

int
pdi_object_lookup_hashed(const pdi_object_t *object, const char *name, uint32_t hash, const pdi_version_req_t *req,
                         unsigned flags, pdi_symbol_ref_t *out)
{
  if (object->symtab == NULL || object->strtab == NULL)
    return 0;
  if (object->gnu_hash != NULL && !gnu_bloom_passes(object->gnu_hash, hash))
    return 0;
  return lookup_hashed_table(object, name, hash, req, flags, out);
}

int
pdi_object_symbol_at(const pdi_object_t *object, uintptr_t address, pdi_symbol_ref_t *out)
{
  if (object->symtab == NULL)
    return 0;
  int found = 0;
  for (size_t index = 1; index < object->nsyms; index++) {
    const ElfW(Sym) *sym = &object->symtab[index];
    if (!pdi_symbol_is_defined(sym) || sym->st_shndx == SHN_ABS)
      continue;
    if (object->base + sym->st_value != address)
      continue;
    if (!found || (PDI_ST_BIND(out->sym->st_info) != STB_GLOBAL && PDI_ST_BIND(sym->st_info) == STB_GLOBAL)) {
      out->sym = sym;
      out->index = index;
      found = 1;
    }
  }
  return found;
}
