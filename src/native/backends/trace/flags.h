/* Symbolic values of the trace backend: open flags, mmap prot and flags,
 * address families, socket types, lseek whence, access modes, signals and
 * AT_FDCWD (kind letters in prototypes.h). */
#ifndef PDI_TRACE_FLAGS_H
#define PDI_TRACE_FLAGS_H

#include "format.h"

void trace_format_flags(trace_buf_t *out, char kind, long value);

#endif
