/* The name a trace shows for a call site, and the event number (the value
 * of cb_req) that carries it with the site's prototype: with demangling on
 * (PDI_TRACE_DEMANGLE=1, pdi trace -C), a C++ symbol's demangled name, made
 * at cb_req time (install), never in a call. */
#ifndef PDI_TRACE_NAMES_H
#define PDI_TRACE_NAMES_H

/* Turns demangling on or off for the sites planned from now on. */
void trace_names_configure(int demangle);
/* The event number of a site: its prototype's number (trace_proto_find, 0
 * for none) and, with demangling, its shown name's. Always > 0. */
int trace_site_event(const char *function, unsigned proto_number);
/* The prototype number an event carries (for trace_proto_at). */
unsigned trace_event_proto(int event);
/* The name to show for a call of `function` with `event`. */
const char *trace_event_name(int event, const char *function);

#endif
