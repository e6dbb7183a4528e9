/* Function filters of the trace backend (pdi trace -e): comma-separated
 * globs over function names; "!glob" excludes; "glob@OBJ" only matches
 * calls bound to a callee object whose file name (or path) matches the
 * glob OBJ. A function is traced when it matches some inclusion (or there
 * is none) and no exclusion. Decided per site, at cb_req time. */
#ifndef PDI_TRACE_FILTER_H
#define PDI_TRACE_FILTER_H

/* Returns 0, or -1 when the list is malformed (an empty pattern). */
int trace_filter_load(const char *list);
/* `readable`: the function's demangled name (-C), which patterns match
 * as well as the symbol, or NULL. */
int trace_filter_wants(const char *function, const char *readable, const char *callee);
/* Each including pattern that is a plain function name (no glob, no @OBJ)
 * and that no site was instrumented for: what -e asked for and cannot see. */
void trace_filter_each_unkept_name(void (*report)(const char *function, void *context), void *context);
/* Called with such a plain name when a site is first instrumented for it. */
void trace_filter_on_first_site(void (*noted)(const char *function));

#endif
