/* Where the trace backend writes its text lines without a ring (trace.c): a
 * copy of stderr or the file of PDI_TRACE_OUTPUT, each near the descriptor
 * limit and checked before every line (../../core/kept-fd.h). A program that
 * closes every descriptor it did not open (closefrom, close_range, a
 * daemon's loop) or puts a file of its own on their numbers (dup2) finds
 * neither trace lines in its files nor numbers taken; once it has closed
 * them, the lines go to the file opened again, or else to its stderr (fd 2). */
#ifndef PDI_TRACE_OUTPUT_H
#define PDI_TRACE_OUTPUT_H

#include <sys/types.h>

#define TRACE_OUTPUT_HIDDEN __attribute__((visibility("hidden")))

/* Opens `file` (truncated unless `appending`), with a copy of stderr for the
 * report of lines lost, or without one a copy of stderr; what was open
 * before is closed first. 0, or -1 on failure. */
TRACE_OUTPUT_HIDDEN int trace_output_open(const char *file, int appending);
/* The descriptor the next line goes to, or -1; the file is opened again only
 * in process `owner` (not in a vfork child, which would leave the record of
 * its own descriptor in its parent's memory). */
TRACE_OUTPUT_HIDDEN int trace_output_fd(pid_t owner);
/* Whether the lines go to PDI_TRACE_OUTPUT. */
TRACE_OUTPUT_HIDDEN int trace_output_to_file(void);
/* Closes the output where it is still the backend's, and forgets it. */
TRACE_OUTPUT_HIDDEN void trace_output_close(void);
/* Where the report of lines lost goes: the copy of stderr, or fd 2. */
TRACE_OUTPUT_HIDDEN int trace_output_report_fd(void);
/* Closes that copy (at the end, and in a forked child, which reports on its own stderr). */
TRACE_OUTPUT_HIDDEN void trace_output_close_report(void);

#endif
