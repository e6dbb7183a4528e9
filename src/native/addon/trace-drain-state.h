/* The state of a trace drain (trace-drain.c), shared by its parts. */
#ifndef PDI_ADDON_TRACE_DRAIN_STATE_H
#define PDI_ADDON_TRACE_DRAIN_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ring-reader.h"
#include "trace-drain.h"
#include "trace-output.h"
#include "trace-programs.h"
#include "trace-sites.h"

#define MAX_RINGS 4096
#define MAX_LOSSES 4096
#define CHUNK_BYTES ((size_t)1 << 17)
/* Queued output handed over while busy once a chunk holds this much. */
#define QUEUE_HANDOVER ((size_t)1 << 16)
/* Records taken from one ring before the next ring gets its turn. */
#define RECORDS_PER_TURN 4096

typedef struct chunk {
  struct chunk *next;
  size_t used, cap, mapped;
  char data[];
} chunk_t;

typedef struct open_ring {
  trace_ring_reader_t reader;
  trace_sites_t sites; /* the sites the ring named: JSON or text fragments, or summary counts */
  uint64_t returned;   /* text: when the call of its last record returned (read_in_order) */
  char name[96];
} open_ring_t;

struct trace_drain {
  char directory[4096];
  trace_drain_format_t format;
  trace_output_t output;
  size_t queue_limit;
  int drop_over_limit; /* past queue_limit, calls are dropped (counted lost) rather than left in their rings */
  int held;            /* trace_drain_options_t.held, until trace_drain_release */
  /* DIRECTORY/TRACE_RING_READER_LOCK, locked (LOCK_EX) while the drain lives: the writers' way to tell that it runs, also
   * from another pid namespace, where the reader's pid means nothing (trace_ring_reader_running). */
  int reader_lock_fd;
  trace_text_options_t text;
  trace_output_t notices; /* JSON: trace_drain_options_t.notice_fd */
  pthread_t thread;
  int stop;    /* set by trace_drain_stop: read what is left, then end */
  int stopped; /* the thread has read everything and is ending */
  pid_t tid, self;
  /* The thread delivering events (trace_drain_quiet), and the ring of this
   * process once open, whose header names it to the writers. */
  uint32_t quiet_tid;
  trace_ring_header_t *own;
  open_ring_t rings[MAX_RINGS];
  size_t ring_count;
  uint32_t waiting[MAX_RINGS]; /* text: the rings with records to read in this turn */
  chunk_t *current;
  pthread_mutex_t lock;
  chunk_t *head, *tail;
  size_t queued;
  trace_sites_t *kept; /* summary: the site tables of rings closed before the end */
  size_t kept_count, kept_capacity;
  trace_programs_t programs; /* each ring's program, as it was opened */
  trace_drain_loss_t losses[MAX_LOSSES];
  size_t loss_count;
};

/* trace-drain-summary.c: a summary drain's record counted (-1 without memory), and the counts of a ring it closes
 * kept. */
int trace_drain_count(open_ring_t *ring, const trace_ring_record_t *record);
void trace_drain_keep_sites(trace_drain_t *drain, open_ring_t *ring);

#endif
