/* Shown names of call sites (names.h). Runs at cb_req time, except the
 * lookups, which only read. */
#define _GNU_SOURCE
#include "names.h"
#include "../../core/escape.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Events are 1 + the prototype number in the low 16 bits and the shown
 * name's number in the bits above, when demangling made one. */
#define PROTO_BITS 16
#define PROTO_MASK ((1u << PROTO_BITS) - 1)
#define NAME_CAPACITY 32767u

typedef char *demangle_fn(const char *name, char *buffer, size_t *length, int *status);

static int demangling;
static demangle_fn *demangle;
/* Written once each, before the site they belong to takes calls; only
 * grows, so events of sites planned before a re-initialisation stay good. */
static const char *shown[NAME_CAPACITY + 1];
static unsigned shown_count;

void
trace_names_configure(int on)
{
  demangling = on;
  /* libstdc++'s, present in every C++ program; in others nothing is mangled. */
  if (on && demangle == NULL)
    demangle = (demangle_fn *)dlsym(RTLD_DEFAULT, "__cxa_demangle");
}

char *
trace_names_demangled(const char *function)
{
  if (!demangling || demangle == NULL || function[0] != '_' || function[1] != 'Z')
    return NULL;
  int status = -1;
  char *readable = demangle(function, NULL, NULL, &status);
  if (readable != NULL && status != 0) {
    free(readable);
    return NULL;
  }
  return readable;
}

static unsigned
shown_name(char *readable)
{
  if (readable == NULL)
    return 0;
  if (shown_count >= NAME_CAPACITY) {
    free(readable);
    return 0;
  }
  __atomic_store_n(&shown[shown_count + 1], readable, __ATOMIC_RELEASE);
  return ++shown_count;
}

int
trace_site_event(char *readable, unsigned proto_number)
{
  /* Prototypes past the 65534th (of a user's file that large) are beyond what an event carries. */
  if (proto_number >= PROTO_MASK)
    proto_number = 0;
  return (int)((shown_name(readable) << PROTO_BITS) | (1 + proto_number));
}

unsigned
trace_event_proto(int event)
{
  return ((unsigned)event & PROTO_MASK) - 1;
}

const char *
trace_event_name(int event, const char *function)
{
  unsigned number = (unsigned)event >> PROTO_BITS;
  const char *name = number != 0 ? __atomic_load_n(&shown[number], __ATOMIC_ACQUIRE) : NULL;
  return name != NULL ? name : function;
}

void
trace_message_text(const char *text, char *out, size_t size)
{
  pdi_escape_controls(text, out, size);
}

void
trace_message_reason(int error, char *out, size_t size)
{
  snprintf(out, size, "%s", strerror(error));
  /* Not an abbreviation in capitals. */
  if (out[0] >= 'A' && out[0] <= 'Z' && !(out[1] >= 'A' && out[1] <= 'Z'))
    out[0] = (char)(out[0] - 'A' + 'a');
}
