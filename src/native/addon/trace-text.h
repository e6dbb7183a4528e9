/* One trace ring record (backends/trace/ring.h) as a line of `pdi trace`'s
 * text mode (DESIGN §3c, docs/trace.md "The line format"): byte for byte
 * the line the trace backend writes itself when it has no ring
 * (PDI_BE_FUNC_POST_CB in backends/trace/trace.c), so that the traced
 * program formats nothing and writes nothing per call. */
#ifndef PDI_ADDON_TRACE_TEXT_H
#define PDI_ADDON_TRACE_TEXT_H

#include <stddef.h>

#include "../backends/trace/ring.h"

typedef struct trace_text_options {
  int time;      /* -T: " <SECONDS>" after the result */
  int timestamp; /* -t: "SECONDS " after the ids */
} trace_text_options_t;

/* A site record as the fragment its call lines share: "caller!function",
 * the caller's file name only. */
size_t trace_text_site_bound(const trace_ring_record_t *site);
size_t trace_text_site(const trace_ring_record_t *site, char *out);
/* A call record as its line (ending in '\n'), with its site's fragment
 * (NULL if the site was never named); `out` has room for
 * trace_text_call_bound bytes. Returns the line's length. */
size_t trace_text_call_bound(const trace_ring_record_t *call, size_t fragment_length);
size_t trace_text_call(const trace_ring_record_t *call, const char *fragment, size_t fragment_length,
                       const trace_text_options_t *options, char *out);

#endif
