/* One trace ring record (backends/trace/ring.h) as a line of
 * `pdi trace --json` (DESIGN §3c, docs/trace.md "JSON events"). The
 * decoder's C-like text of arguments and results is turned into JSON
 * values here, in the reader, so that the traced program pays for none of
 * it and the TypeScript API parses the very lines the CLI writes. */
#ifndef PDI_ADDON_TRACE_JSON_H
#define PDI_ADDON_TRACE_JSON_H

#include <stddef.h>

#include "../backends/trace/ring.h"

/* Bytes trace_json_record may write for `record`, newline included. */
size_t trace_json_bound(const trace_ring_record_t *record);
/* Writes the record's JSON line (ending in '\n') to `out`, which has room
 * for trace_json_bound bytes; returns its length. */
size_t trace_json_record(const trace_ring_record_t *record, char *out);

#endif
