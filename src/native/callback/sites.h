/* What the callback pool keeps of its sites beyond the session that made
 * them (sites.c): their descriptions, and an index that hands an identical
 * site the stub it already has. */
#ifndef PDI_CALLBACK_SITES_H
#define PDI_CALLBACK_SITES_H

#include "records.h"

/* Copies site's strings into memory that lives as long as the process: a
 * hook may still read call->site of a stub entered just before the session
 * that made it closed, or after its object was unloaded. 0, or -1 with
 * pdi_error() set, out of memory. */
PDI_HIDDEN int pdi_cb_site_keep(pdi_cb_site_t *kept, const pdi_cb_site_t *site, pdi_cb_kept_strings_t *batch);

/* The index of a stub among the first `used` of `sites` that does exactly
 * what a new one would (same target, event, hooks and description), or -1.
 * Such a stub is taken again instead of a new one: installing and removing
 * rules in a loop (interpose()/close(), a library dlopened again and again)
 * then uses no more stubs than one install. */
PDI_HIDDEN long pdi_cb_site_find(const cb_site_t *sites, const cb_site_t *wanted);

/* Records stub `index` (sites[index] filled) for pdi_cb_site_find; capacity
 * is the pool's size. 0, or -1 out of memory (the stub is then just not found). */
PDI_HIDDEN int pdi_cb_site_remember(const cb_site_t *sites, unsigned index, unsigned capacity);

#endif
