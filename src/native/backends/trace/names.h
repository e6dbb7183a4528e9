/* The name a trace shows for a call site, and the event number (the value
 * of cb_req) that carries it with the site's prototype: with demangling on
 * (PDI_TRACE_DEMANGLE=1, pdi trace -C), a C++ symbol's demangled name, made
 * at cb_req time (install), never in a call. */
#ifndef PDI_TRACE_NAMES_H
#define PDI_TRACE_NAMES_H

#include <stddef.h>

/* Turns demangling on or off for the sites planned from now on. */
void trace_names_configure(int demangle);
/* With demangling on, the demangled name of a C++ symbol (malloc'd), else
 * NULL: what a site shows, and what -e patterns match besides the symbol. */
char *trace_names_demangled(const char *function);
/* The event number of a site: its prototype's number (trace_proto_find, 0
 * for none) and its shown name's, `readable` from trace_names_demangled
 * (kept for the events, or freed). Always > 0. */
int trace_site_event(char *readable, unsigned proto_number);
/* The prototype number an event carries (for trace_proto_at). */
unsigned trace_event_proto(int event);
/* The name to show for a call of `function` with `event`. */
const char *trace_event_name(int event, const char *function);

/* For pdi's messages on stderr (not the trace): `text` on one line, each
 * control character as \xHH, as the core and the CLI write them, so that a
 * name holding a newline or an escape sequence cannot break the line or
 * drive the terminal; cut to fit `size`. */
void trace_message_text(const char *text, char *out, size_t size);
/* The reason of `error` in pdi's words: the C library's, not capitalised
 * ("no space left on device"). */
void trace_message_reason(int error, char *out, size_t size);

#endif
