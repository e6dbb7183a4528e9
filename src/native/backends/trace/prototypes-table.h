#ifndef PDI_TRACE_PROTOTYPES_TABLE_H
#define PDI_TRACE_PROTOTYPES_TABLE_H

#include "prototypes.h"

/* Sorted by name (strcmp order), for a binary search. */
extern const trace_proto_t trace_builtin_protos[];
extern const unsigned trace_builtin_protos_count;

#endif
