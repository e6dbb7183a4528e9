/* What -e asks for and the trace cannot see (docs/trace.md, "What is traced,
 * and what is not"): the functions -e names plainly (no glob, no @OBJ) that
 * no site was instrumented for in a process. */
#ifndef PDI_TRACE_UNSEEN_H
#define PDI_TRACE_UNSEEN_H

#include <stddef.h>

/* pdi trace's PDI_TRACE_SEEN directory (NULL or empty: none): each such name
 * is marked there as soon as a site is instrumented for it. With -f
 * (`following`) pdi trace reports the names no followed process marked, once;
 * without, the traced process reports them at its end, but for those an
 * earlier image of it (before an exec) marked. Called after
 * trace_filter_load. */
void trace_unseen_follow(const char *directory, int following);

/* At the end of a traced process: one line (newline included) to `put` for
 * each such name without a site, unless a PDI_TRACE_SEEN directory takes
 * the names (with -f) or has it marked. */
typedef void trace_notice_fn(const char *line, size_t length, void *context);
void trace_unseen_report(trace_notice_fn *put, void *context);

#endif
