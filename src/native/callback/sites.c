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

/* The string, copied once per distinct text in a row (a rule's sites share
 * their object's path): the copy made last is taken again when it is equal. */
static const char *
keep_string(const char *text, const char **last)
{
  if (text == NULL)
    return NULL;
  if (*last != NULL && strcmp(*last, text) == 0)
    return *last;
  *last = pdi_arena_strdup(&kept_strings, text);
  return *last;
}

int
pdi_cb_site_keep(pdi_cb_site_t *kept, const pdi_cb_site_t *site)
{
  static const char *last_object, *last_callee;
  const char *no_reuse = NULL;
  kept->object = keep_string(site->object, &last_object);
  kept->function = keep_string(site->function, &no_reuse);
  no_reuse = NULL;
  kept->version = keep_string(site->version, &no_reuse);
  kept->callee = keep_string(site->callee, &last_callee);
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
