/* The rings' reader thread (trace-drain.h). */
#define _GNU_SOURCE
#include "trace-drain.h"
#include "trace-drain-state.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring-reader.h"
#include "trace-json.h"
#include "trace-output.h"
#include "trace-sites.h"
#include "trace-text.h"

static void
nap(long ns)
{
  struct timespec pause = {0, ns};
  syscall(SYS_nanosleep, &pause, NULL);
}

static chunk_t *
chunk_new(size_t need)
{
  size_t page = 4096;
  size_t mapped = (sizeof(chunk_t) + (need > CHUNK_BYTES ? need : CHUNK_BYTES) + page - 1) & ~(page - 1);
  chunk_t *chunk = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (chunk == MAP_FAILED)
    return NULL;
  chunk->next = NULL;
  chunk->used = 0;
  chunk->cap = mapped - sizeof(chunk_t);
  chunk->mapped = mapped;
  return chunk;
}

/* The current chunk out: written to the descriptor (and reused), or queued. */
static void
flush(trace_drain_t *drain)
{
  chunk_t *chunk = drain->current;
  if (chunk == NULL || chunk->used == 0)
    return;
  if (drain->output.fd >= 0) {
    trace_output_write(&drain->output, chunk->data, chunk->used);
    chunk->used = 0;
    return;
  }
  pthread_mutex_lock(&drain->lock);
  if (drain->tail != NULL)
    drain->tail->next = chunk;
  else
    drain->head = chunk;
  drain->tail = chunk;
  __atomic_add_fetch(&drain->queued, chunk->used, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&drain->lock);
  drain->current = NULL;
}

/* Room for `need` more bytes in the current chunk, or NULL. */
static char *
room_for(trace_drain_t *drain, size_t need)
{
  if (drain->current != NULL && drain->current->cap - drain->current->used < need) {
    flush(drain);
    if (drain->current != NULL && drain->current->cap < need) {
      munmap(drain->current, drain->current->mapped);
      drain->current = NULL;
    }
  }
  if (drain->current == NULL && (drain->current = chunk_new(need)) == NULL)
    return NULL;
  return drain->current->data + drain->current->used;
}

static int
queue_full(trace_drain_t *drain)
{
  return drain->output.fd < 0 && drain->queue_limit != 0 &&
         __atomic_load_n(&drain->queued, __ATOMIC_RELAXED) > drain->queue_limit;
}

/* A site record of a JSON or text drain to the ring's sites, as the fragment its calls share. */
static int
name_site(trace_drain_t *drain, open_ring_t *ring, const trace_ring_record_t *record)
{
  int text = drain->format == TRACE_DRAIN_TEXT;
  char *fragment = trace_sites_reserve(&ring->sites,
                                       text ? trace_text_site_bound(record) : trace_json_site_bound(record));
  if (fragment == NULL)
    return -1;
  size_t length = text ? trace_text_site(record, fragment) : trace_json_site(record, fragment);
  return trace_sites_commit(&ring->sites, record->site, fragment, length);
}

/* A notice, its text as it is: a text drain's among its lines, a JSON
 * drain's to its notices' descriptor (between lines when that is the
 * output's own). */
static int
put_notice(trace_drain_t *drain, const trace_ring_record_t *record)
{
  if (drain->format != TRACE_DRAIN_TEXT && (drain->notices.fd < 0 || drain->notices.fd != drain->output.fd)) {
    if (drain->notices.fd >= 0)
      trace_output_write(&drain->notices, (const char *)(record + 1), record->lengths[0]);
    return 0;
  }
  char *out = room_for(drain, record->lengths[0]);
  if (out == NULL)
    return -1;
  memcpy(out, record + 1, record->lengths[0]);
  drain->current->used += record->lengths[0];
  return 0;
}

/* One record to the output (a site record to the ring's sites instead); -1
 * when no memory could hold it (it stays in its ring). */
static int
emit(trace_drain_t *drain, open_ring_t *ring, const trace_ring_record_t *record)
{
  if (record->flags & TRACE_RECORD_NOTICE)
    return drain->format == TRACE_DRAIN_SUMMARY ? 0 : put_notice(drain, record);
  if (drain->format == TRACE_DRAIN_SUMMARY)
    return trace_drain_count(ring, record);
  if (drain->drop_over_limit && !(record->flags & TRACE_RECORD_SITE) && queue_full(drain)) {
    __atomic_fetch_add(&trace_ring_reader_header(&ring->reader)->lost, 1, __ATOMIC_RELAXED);
    return 0;
  }
  if (record->flags & TRACE_RECORD_SITE)
    return name_site(drain, ring, record);
  size_t length = 0;
  const char *fragment = trace_sites_find(&ring->sites, record->site, &length);
  if (drain->format == TRACE_DRAIN_TEXT) {
    char *out = room_for(drain, trace_text_call_bound(record, length));
    if (out == NULL)
      return -1;
    drain->current->used += trace_text_call(record, fragment, length, &drain->text, out);
    return 0;
  }
  char *out = room_for(drain, trace_json_call_bound(record, length));
  if (out == NULL)
    return -1;
  drain->current->used += trace_json_call(record, fragment, length, out);
  return 0;
}

/* Records moved out of one ring in this turn. */
static size_t
read_ring(trace_drain_t *drain, open_ring_t *ring)
{
  size_t moved = 0;
  const trace_ring_record_t *record;
  while (moved < RECORDS_PER_TURN && (record = trace_ring_reader_next(&ring->reader)) != NULL) {
    if (emit(drain, ring, record) != 0)
      break;
    trace_ring_reader_release(&ring->reader, record);
    moved++;
  }
  return moved;
}

static void scan(trace_drain_t *drain);

/* The rings with records to read, in drain->waiting; their count. */
static size_t
collect_waiting(trace_drain_t *drain)
{
  size_t count = 0;
  for (size_t i = 0; i < drain->ring_count; i++)
    if (trace_ring_reader_next(&drain->rings[i].reader) != NULL)
      drain->waiting[count++] = (uint32_t)i;
  return count;
}

/* A text drain's turn: the records of all rings in the order their calls
 * returned, as the lines came when each process wrote its own (and as
 * strace -f shows them). Only calls that returned before the turn began are
 * taken, after a scan of the directory: whatever process made a call before
 * them (a child its parent waited for) has its ring known by then, and read.
 * A record stamped more than a second ahead is of another clock (a time
 * namespace): it is not held back. */
static size_t
read_in_order(trace_drain_t *drain)
{
  struct timespec clock;
  clock_gettime(CLOCK_MONOTONIC, &clock);
  uint64_t now = (uint64_t)clock.tv_sec * 1000000000u + (uint64_t)clock.tv_nsec;
  if (collect_waiting(drain) == 0)
    return 0;
  scan(drain);
  size_t count = collect_waiting(drain), moved = 0;
  while (count > 0 && moved < RECORDS_PER_TURN) {
    size_t first = 0;
    uint64_t first_at = UINT64_MAX;
    for (size_t i = 0; i < count; i++) {
      open_ring_t *ring = &drain->rings[drain->waiting[i]];
      uint64_t at = trace_ring_reader_returned(&ring->reader, trace_ring_reader_next(&ring->reader), ring->returned);
      if (at < first_at) {
        first = i;
        first_at = at;
      }
    }
    if (first_at > now && first_at - now < 1000000000u)
      break;
    open_ring_t *ring = &drain->rings[drain->waiting[first]];
    const trace_ring_record_t *record = trace_ring_reader_next(&ring->reader);
    if (emit(drain, ring, record) != 0)
      break;
    ring->returned = first_at;
    trace_ring_reader_release(&ring->reader, record);
    moved++;
    if (trace_ring_reader_next(&ring->reader) == NULL)
      drain->waiting[first] = drain->waiting[--count];
  }
  return moved;
}

static size_t
read_rings(trace_drain_t *drain)
{
  size_t moved = 0;
  if (drain->format == TRACE_DRAIN_TEXT)
    moved = read_in_order(drain);
  else
    for (size_t i = 0; i < drain->ring_count; i++)
      moved += read_ring(drain, &drain->rings[i]);
  if (drain->output.fd < 0 && drain->current != NULL && drain->current->used >= QUEUE_HANDOVER)
    flush(drain);
  return moved;
}

static void
note_loss(trace_drain_t *drain, const open_ring_t *ring)
{
  uint64_t lost = trace_ring_reader_lost(&ring->reader), damaged_at;
  int damaged = trace_ring_reader_damaged(&ring->reader, &damaged_at);
  trace_drain_loss_t *slot = drain->loss_count < MAX_LOSSES ? &drain->losses[drain->loss_count] : NULL;
  if (lost == 0 && !damaged)
    return;
  if (slot == NULL) {
    drain->losses[MAX_LOSSES - 1].lost += lost; /* past the table: counted under its last pid */
    return;
  }
  *slot = (trace_drain_loss_t){trace_ring_reader_header(&ring->reader)->writer_pid, damaged, lost, damaged_at};
  drain->loss_count++;
}

static int
is_open(const trace_drain_t *drain, const char *name)
{
  for (size_t i = 0; i < drain->ring_count; i++)
    if (strcmp(drain->rings[i].name, name) == 0)
      return 1;
  return 0;
}

static void
open_ring(trace_drain_t *drain, const char *name)
{
  size_t length = strlen(name);
  open_ring_t *ring = &drain->rings[drain->ring_count];
  char path[sizeof drain->directory + sizeof ring->name + 1];
  if (length < 6 || strcmp(name + length - 5, ".ring") != 0 || length >= sizeof ring->name ||
      drain->ring_count == MAX_RINGS || is_open(drain, name))
    return;
  snprintf(path, sizeof path, "%s/%s", drain->directory, name);
  if (trace_ring_reader_map(&ring->reader, path) != 0)
    return;
  trace_ring_header_t *header = trace_ring_reader_header(&ring->reader);
  if ((pid_t)header->writer_pid == drain->self) {
    __atomic_store_n(&header->reader_tid, (uint32_t)drain->tid, __ATOMIC_RELAXED);
    /* Sequentially consistent with trace_drain_quiet: whichever of the two
     * stores comes second, the header ends up with the thread it names. */
    __atomic_store_n(&drain->own, header, __ATOMIC_SEQ_CST);
    __atomic_store_n(&header->quiet_tid, __atomic_load_n(&drain->quiet_tid, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
  }
  /* The name's second number is when the ring was made: it orders the images of one pid. */
  const char *made = strchr(name, '-');
  uint32_t program_length = header->program_length;
  trace_programs_add(&drain->programs, header->writer_pid, made ? strtoull(made + 1, NULL, 10) : 0, header->program,
                     program_length <= sizeof header->program ? program_length : 0);
  memcpy(ring->name, name, length + 1);
  memset(&ring->sites, 0, sizeof ring->sites);
  ring->returned = 0;
  drain->ring_count++;
}

/* Maps the rings that appeared since the last scan (getdents64: no malloc). */
static void
scan(trace_drain_t *drain)
{
  int fd = open(drain->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  char entries[8192] __attribute__((aligned(8)));
  long got;
  while ((got = syscall(SYS_getdents64, fd, entries, sizeof entries)) > 0) {
    for (long at = 0; at < got;) {
      /* struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name */
      unsigned short record_length;
      memcpy(&record_length, entries + at + 16, sizeof record_length);
      open_ring(drain, entries + at + 19);
      at += record_length;
    }
  }
  close(fd);
}

/* Unmaps (and deletes) the empty rings of processes that are gone. */
static void
retire(trace_drain_t *drain)
{
  for (size_t i = 0; i < drain->ring_count;) {
    open_ring_t *ring = &drain->rings[i];
    pid_t writer = (pid_t)trace_ring_reader_header(&ring->reader)->writer_pid;
    if (writer == drain->self || trace_ring_reader_next(&ring->reader) != NULL || kill(writer, 0) == 0 ||
        errno != ESRCH) {
      i++;
      continue;
    }
    /* Its writer is gone: what follows a record it never finished is read now. */
    while (trace_ring_reader_skip_unfinished(&ring->reader) != 0)
      while (read_ring(drain, ring) != 0)
        ;
    note_loss(drain, ring);
    trace_ring_reader_unmap(&ring->reader);
    trace_drain_keep_sites(drain, ring);
    char path[sizeof drain->directory + sizeof ring->name + 1];
    snprintf(path, sizeof path, "%s/%s", drain->directory, ring->name);
    unlink(path);
    *ring = drain->rings[--drain->ring_count];
  }
}

/* At the end, with the writers gone: records they reserved and never
 * finished (a thread that died in a hook) are skipped and counted as lost,
 * so that what the rings hold after them is still read. */
static uint64_t
skip_unfinished(trace_drain_t *drain)
{
  uint64_t skipped = 0;
  for (size_t i = 0; i < drain->ring_count; i++)
    skipped += trace_ring_reader_skip_unfinished(&drain->rings[i].reader);
  return skipped;
}

static void *
drain_main(void *argument)
{
  trace_drain_t *drain = argument;
  drain->tid = gettid();
  unsigned idle = 0;
  unsigned busy = 0;
  scan(drain);
  while (!__atomic_load_n(&drain->stop, __ATOMIC_ACQUIRE)) {
    if (__atomic_load_n(&drain->held, __ATOMIC_ACQUIRE)) {
      nap(200000);
      continue;
    }
    if (!drain->drop_over_limit && queue_full(drain)) {
      nap(200000);
      continue;
    }
    if (read_rings(drain) != 0) {
      idle = 0;
      if (++busy % 64 == 0)
        scan(drain);
      continue;
    }
    flush(drain);
    if (++idle % 1024 == 0)
      retire(drain);
    scan(drain);
    nap(idle < 200 ? 50000 : 500000);
  }
  /* Whatever the writers committed before they ended, whatever the queue holds: read here, not by the finisher,
   * so that a JavaScript caller waits for it without blocking its event loop (trace_drain_stopped). */
  do
    scan(drain);
  while (read_rings(drain) != 0 || skip_unfinished(drain) != 0);
  flush(drain);
  __atomic_store_n(&drain->stopped, 1, __ATOMIC_RELEASE);
  return NULL;
}

void
trace_drain_stop(trace_drain_t *drain)
{
  __atomic_store_n(&drain->stop, 1, __ATOMIC_RELEASE);
}

int
trace_drain_stopped(const trace_drain_t *drain)
{
  return __atomic_load_n(&drain->stopped, __ATOMIC_ACQUIRE);
}

void
trace_drain_abandon(trace_drain_t *drain)
{
  trace_output_abandon(&drain->output);
  trace_output_abandon(&drain->notices);
  if (!trace_drain_stopped(drain))
    trace_output_interrupt(drain->thread);
}

int
trace_drain_write_errno(const trace_drain_t *drain)
{
  return __atomic_load_n(&drain->output.error, __ATOMIC_RELAXED);
}

trace_drain_t *
trace_drain_start(const char *directory, const trace_drain_options_t *options)
{
  if (strlen(directory) >= sizeof((trace_drain_t *)0)->directory) {
    errno = ENAMETOOLONG;
    return NULL;
  }
  trace_drain_t *drain = calloc(1, sizeof *drain);
  if (drain == NULL)
    return NULL;
  strcpy(drain->directory, directory);
  drain->format = options->format;
  trace_output_open(&drain->output, options->fd);
  drain->queue_limit = options->queue_limit;
  drain->drop_over_limit = options->drop_over_limit;
  drain->held = options->held;
  char lock[sizeof drain->directory + 16];
  snprintf(lock, sizeof lock, "%s/" TRACE_RING_READER_LOCK, directory);
  drain->reader_lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (drain->reader_lock_fd >= 0 && flock(drain->reader_lock_fd, LOCK_EX | LOCK_NB) != 0) {
    close(drain->reader_lock_fd);
    drain->reader_lock_fd = -1;
  }
  drain->text = options->text;
  trace_output_open(&drain->notices, drain->format == TRACE_DRAIN_JSON ? options->notice_fd : -1);
  drain->self = getpid();
  pthread_mutex_init(&drain->lock, NULL);
  int failed = pthread_create(&drain->thread, NULL, drain_main, drain);
  if (failed != 0) {
    pthread_mutex_destroy(&drain->lock);
    if (drain->reader_lock_fd >= 0)
      close(drain->reader_lock_fd);
    free(drain);
    errno = failed;
    return NULL;
  }
  return drain;
}

void
trace_drain_quiet(trace_drain_t *drain, int quiet)
{
  uint32_t tid = quiet ? (uint32_t)gettid() : 0;
  __atomic_store_n(&drain->quiet_tid, tid, __ATOMIC_SEQ_CST);
  trace_ring_header_t *own = __atomic_load_n(&drain->own, __ATOMIC_SEQ_CST);
  if (own != NULL)
    __atomic_store_n(&own->quiet_tid, tid, __ATOMIC_SEQ_CST);
}

void
trace_drain_release(trace_drain_t *drain)
{
  __atomic_store_n(&drain->held, 0, __ATOMIC_RELEASE);
}

char *
trace_drain_take(trace_drain_t *drain, size_t limit, size_t *length)
{
  pthread_mutex_lock(&drain->lock);
  chunk_t *chunks = drain->head, *last = NULL;
  size_t total = 0;
  for (chunk_t *chunk = chunks; chunk != NULL && (limit == 0 || total < limit); last = chunk, chunk = chunk->next)
    total += chunk->used;
  if (last != NULL) {
    if ((drain->head = last->next) == NULL)
      drain->tail = NULL;
    last->next = NULL;
  }
  __atomic_sub_fetch(&drain->queued, total, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&drain->lock);
  char *out = total != 0 ? malloc(total) : NULL;
  size_t at = 0;
  for (chunk_t *next; chunks != NULL; chunks = next) {
    next = chunks->next;
    if (out != NULL)
      memcpy(out + at, chunks->data, chunks->used);
    at += chunks->used;
    munmap(chunks, chunks->mapped);
  }
  *length = out != NULL ? total : 0;
  return out;
}

size_t
trace_drain_finish(trace_drain_t *drain, const trace_drain_loss_t **losses, int *write_error)
{
  trace_drain_stop(drain);
  pthread_join(drain->thread, NULL);
  drain->tid = 0;
  __atomic_store_n(&drain->own, NULL, __ATOMIC_SEQ_CST); /* about to be unmapped */
  for (size_t i = 0; i < drain->ring_count; i++) {
    note_loss(drain, &drain->rings[i]);
    trace_ring_reader_unmap(&drain->rings[i].reader);
    trace_drain_keep_sites(drain, &drain->rings[i]);
  }
  drain->ring_count = 0;
  if (drain->current != NULL) {
    munmap(drain->current, drain->current->mapped);
    drain->current = NULL;
  }
  *losses = drain->losses;
  *write_error = drain->output.error;
  return drain->loss_count;
}

void
trace_drain_each_program(const trace_drain_t *drain, trace_program_fn *fn, void *context)
{
  trace_programs_each(&drain->programs, fn, context);
}

void
trace_drain_free(trace_drain_t *drain)
{
  trace_programs_release(&drain->programs);
  for (size_t i = 0; i < drain->kept_count; i++)
    trace_sites_release(&drain->kept[i]);
  if (drain->kept != NULL)
    munmap(drain->kept, drain->kept_capacity * sizeof *drain->kept);
  size_t ignored;
  free(trace_drain_take(drain, 0, &ignored));
  pthread_mutex_destroy(&drain->lock);
  if (drain->reader_lock_fd >= 0)
    close(drain->reader_lock_fd);
  free(drain);
}
