/* Splitting the backend's list settings (PDI_TRACE_FUNCTIONS,
 * PDI_TRACE_PROTOTYPES) into entries. Init time only. */
#ifndef PDI_TRACE_LIST_H
#define PDI_TRACE_LIST_H

#include <stddef.h>

/* The entries of `text` between `separator`s (empty ones dropped), NUL-
 * terminated in a copy of it: an array of `*count` of them, or NULL when out
 * of memory. Both stay allocated: the tables made of them live as long. */
char **trace_list_split(const char *text, char separator, size_t *count);

#endif
