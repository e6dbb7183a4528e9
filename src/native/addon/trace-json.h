/* One trace ring record (backends/trace/ring.h) as a line of
 * `pdi trace --json` (DESIGN §3c, docs/trace.md "JSON events"). The
 * decoder's C-like text of arguments and results is turned into JSON
 * values here, in the reader, so that the traced program pays for none of
 * it and the TypeScript API parses the very lines the CLI writes. */
#ifndef PDI_ADDON_TRACE_JSON_H
#define PDI_ADDON_TRACE_JSON_H

#include <stddef.h>

#include "../backends/trace/ring.h"

/* A site record as the fragment its call lines share:
 * "caller":...,"callee":...,"function":...,"version":..., (trailing comma). */
size_t trace_json_site_bound(const trace_ring_record_t *site);
size_t trace_json_site(const trace_ring_record_t *site, char *out);
/* A call record as its JSON line (ending in '\n'), with its site's fragment
 * (NULL if the site was never named); `out` has room for
 * trace_json_call_bound bytes. Returns the line's length. */
size_t trace_json_call_bound(const trace_ring_record_t *call, size_t fragment_length);
size_t trace_json_call(const trace_ring_record_t *call, const char *fragment, size_t fragment_length, char *out);

#endif
