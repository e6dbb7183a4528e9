/* The callback pool's sites beyond their sessions (sites.h): descriptions
 * kept in an arena that is never released, and an open-addressing index by
 * target (stub number + 1 per entry, 0 for none; never deleted from). Used
 * under the session lock, like the rest of the pool's bookkeeping. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>

#include "sites.h"

static pdi_arena_t kept_strings;
static unsigned *by_target;
static size_t index_size; /* a power of two, at least twice the pool */

/* The string, copied unless the batch's last copy of this field is of the
 * same string (the same memory, or equal text). */
static const char *
keep_string(const char *text, pdi_cb_kept_strings_t *batch, unsigned field)
{
  if (text == NULL)
    return NULL;
  if (batch->copy[field] != NULL && (batch->given[field] == text || strcmp(batch->copy[field], text) == 0))
    return batch->copy[field];
  batch->given[field] = text;
  batch->copy[field] = pdi_arena_strdup(&kept_strings, text);
  return batch->copy[field];
}

int
pdi_cb_site_keep(pdi_cb_site_t *kept, const pdi_cb_site_t *site, pdi_cb_kept_strings_t *batch)
{
  enum { OBJECT, VERSION, CALLEE };
  kept->object = keep_string(site->object, batch, OBJECT);
  kept->function = site->function != NULL ? pdi_arena_strdup(&kept_strings, site->function) : NULL;
  kept->version = keep_string(site->version, batch, VERSION);
  kept->callee = keep_string(site->callee, batch, CALLEE);
  if ((site->object && !kept->object) || (site->function && !kept->function) || (site->version && !kept->version) ||
      (site->callee && !kept->callee)) {
    pdi_set_error("out of memory for the description of a callback site");
    return -1;
  }
  return 0;
}

static int
same_text(const char *a, const char *b)
{
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
same_site(const cb_site_t *a, const cb_site_t *b)
{
  return a->target == b->target && a->event == b->event && a->hooks.pre == b->hooks.pre &&
         a->hooks.post == b->hooks.post && a->hooks.cb_req == b->hooks.cb_req && a->hooks.handler == b->hooks.handler &&
         same_text(a->site.function, b->site.function) && same_text(a->site.object, b->site.object) &&
         same_text(a->site.version, b->site.version) && same_text(a->site.callee, b->site.callee);
}

long
pdi_cb_site_find(const cb_site_t *sites, const cb_site_t *wanted)
{
  if (by_target == NULL)
    return -1;
  for (size_t at = pdi_address_bucket(wanted->target, index_size); by_target[at] != 0; at = (at + 1) & (index_size - 1))
    if (same_site(&sites[by_target[at] - 1], wanted))
      return (long)by_target[at] - 1;
  return -1;
}

int
pdi_cb_site_remember(const cb_site_t *sites, unsigned index, unsigned capacity)
{
  if (by_target == NULL) {
    size_t size = 16;
    while (size < 2 * (size_t)capacity)
      size *= 2;
    void *memory = mmap(NULL, size * sizeof *by_target, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
      return -1;
    by_target = memory;
    index_size = size;
  }
  size_t at = pdi_address_bucket(sites[index].target, index_size);
  while (by_target[at] != 0)
    at = (at + 1) & (index_size - 1);
  by_target[at] = index + 1;
  return 0;
}
