/* The trace event ring (docs/trace.md, "Transport"): a file DIR/<pid>-<start ns>.ring
 * mapped MAP_SHARED by the traced process (the writer, ring.c) and by pdi
 * (the reader, ring-reader.c in the addon).
 *
 * Layout: a one-page header, then `capacity` bytes (a power of two) of
 * records. Positions grow without wrapping; a record starts at
 * position % capacity and never straddles the end (a padding record fills
 * the tail instead). Writers reserve space with a compare-and-swap on
 * `reserve`, fill the record, then publish its `size` word with a release
 * store: a zero size word means "not committed yet", and right after the
 * reservation the writer stores TRACE_RING_RESERVED | length there, so that
 * a record whose writer died (exec from another thread, a killed process)
 * can be skipped, and counted as lost, once its process is gone. The reader copies
 * committed records from `read`, zeroes what it consumed and advances
 * `read`. A full ring makes the writer wait while `reader_pid` is alive;
 * with the reader gone the event is counted in `lost` instead. A reader
 * that drains rings of its own process (observe() in Node) names its
 * thread in `reader_tid`: that thread's calls are pdi's own, and waiting
 * for itself would never end. While it hands events over to JavaScript, it
 * names the thread doing so in `quiet_tid`: the calls of that delivery (and
 * of the callback it runs) are pdi's too, and recording them would make
 * more events than were delivered, without end. */
#ifndef PDI_TRACE_RING_H
#define PDI_TRACE_RING_H

#include <stdint.h>

#define TRACE_RING_MAGIC 0x676e6972u /* "ring" */
#define TRACE_RING_HEADER 4096u
/* In the rings' directory: the file the reader holds locked (flock, LOCK_EX) while it reads. */
#define TRACE_RING_READER_LOCK "reader.lock"
#define TRACE_RING_PADDING 0x80000000u   /* in size: skip to the end */
#define TRACE_RING_RESERVED 0x40000000u  /* in size: being written; the length follows */
#define TRACE_RING_ABANDONED 0x20000000u /* in size: left unfinished by a jump out of its hook; skipped as lost */

typedef struct trace_ring_header {
  uint32_t magic;
  uint32_t reader_pid;
  uint64_t capacity;
  uint64_t reserve; /* written by writers (CAS) */
  uint64_t read;    /* written by the reader */
  uint64_t lost;    /* events dropped: the reader gone, or an event bigger than the ring */
  uint32_t writer_pid;
  uint32_t reader_tid; /* a thread of the reader itself, when it reads in-process: never recorded */
  uint32_t quiet_tid;  /* a thread of the reader's process delivering events (0: none): never recorded */
  /* The inode of the writer's pid namespace (0: unknown): in another than the reader's, writer_pid is not a pid the
   * reader can look at, and whether the writer runs is told by the lock on its ring file (LOCK_EX, held by its mapping). */
  uint32_t writer_pid_ns;
  /* The writer's CLOCK_MONOTONIC time (ns) that its records' start_ns count from: the records of different rings
   * compare by started_ns + start_ns + duration_ns, when their calls returned. */
  uint64_t started_ns;
  /* The writer's program (/proc/self/exe when the ring was made), not NUL-terminated; 0 when unknown. */
  uint32_t program_length;
  char program[TRACE_RING_HEADER - 68];
} trace_ring_header_t;

#ifdef __cplusplus
static_assert(sizeof(trace_ring_header_t) == TRACE_RING_HEADER, "the ring header is one page");
#else
_Static_assert(sizeof(trace_ring_header_t) == TRACE_RING_HEADER, "the ring header is one page");
#endif

/* Two kinds of records. A site record (TRACE_RECORD_SITE) names a call
 * site once per ring: its strings are caller, function, version, callee.
 * A call record refers to its site by `site` (the address of the core's
 * pdi_cb_site_t, unique within the ring's process image) and carries the
 * strings args, ret, errno. A site's record always lies before the first
 * call record that refers to it. Strings follow the fixed part, not
 * NUL-terminated. With TRACE_RECORD_RAW_VALUES, args and ret are 64-bit
 * register values (a function without a prototype), shown in hex. A
 * notice record (TRACE_RECORD_NOTICE, below) is a line of text. */
typedef struct trace_ring_record {
  uint32_t size; /* whole record, a multiple of 8; 0 until committed */
  uint32_t pid;
  uint32_t tid;
  uint32_t thread;
  uint32_t depth;
  uint32_t flags; /* TRACE_RECORD_* */
  uint64_t start_ns;
  uint64_t duration_ns;
  uint64_t site;
  uint16_t lengths[4];
} trace_ring_record_t;

#define TRACE_RECORD_ABANDONED 1u
#define TRACE_RECORD_HAS_VERSION 2u /* site records */
#define TRACE_RECORD_HAS_CALLEE 4u  /* site records */
#define TRACE_RECORD_NO_ARGS 8u     /* the arguments were not decoded (no room on the thread's stack) */
#define TRACE_RECORD_SITE 16u
#define TRACE_RECORD_RAW_VALUES 32u
/* A notice of the process's end (a -e name it has no call site of), its
 * whole text, newline included, as the first string; no site. Written only
 * with PDI_TRACE_NOTICES=ring (pdi trace's text mode), so that it comes
 * after the process's lines, where they go. Its start_ns is when it was
 * written (duration 0), so that it keeps its place among other rings'. */
#define TRACE_RECORD_NOTICE 64u
#define TRACE_SITE_STRINGS 4 /* caller, function, version, callee */
#define TRACE_CALL_STRINGS 3 /* args, ret, errno */

#endif
