/* pdi trace -f in text mode: PDI_TRACE_ALIVE names a directory where each
 * followed process leaves a file, <pid>-<start ns>.alive, so that pdi trace
 * waits until none of them runs any more (src/ts/trace/followed.ts), as it
 * does with the rings of --json and -c. */
#ifndef PDI_TRACE_ALIVE_H
#define PDI_TRACE_ALIVE_H

/* Takes the directory (NULL or empty: none) and marks this process. */
void trace_alive_configure(const char *directory);

/* Marks a forked child (its fork handler). */
void trace_alive_forked(void);

#endif
