/* The writer side of the trace event ring (ring.h). */
#define _GNU_SOURCE
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "trace-ring.h"

static trace_ring_header_t *ring;
static uint64_t ring_capacity;
static int reader_gone;
/* DIRECTORY/TRACE_RING_READER_LOCK, which the reader holds locked while it lives. */
static char reader_lock[4096 + 16];

/* A session closed while the process runs on (a detach, observe()'s
 * close) lets go of its ring once no hook is writing into it: `writers`
 * counts the hooks inside the functions below, `retired` turns later ones
 * away. Both are sequentially consistent, so a hook either sees `retired` or
 * is seen in `writers`. `exiting` (set by an atexit handler, which runs
 * before the core finishes its sessions) keeps the ring to the end: calls
 * of other threads while the process exits are still written. */
static unsigned writers;
static int retired, exiting;

/* Sites already named in this ring (their record committed), by address:
 * open addressing, filled with compare-and-swap, cleared with a new ring. */
#define SITE_SLOTS 16384u
#define SITE_PROBES 64u
static uintptr_t announced[SITE_SLOTS];

/* What each thread is reserving, by the core's thread index: a signal
 * handler that jumps out of a hook (siglongjmp) can leave a reservation
 * unfinished, which would stop the reader there for the process's life. The
 * thread's next record finishes it as one the reader skips and counts as
 * lost (ring.h, TRACE_RING_ABANDONED). A later thread given the index of one
 * that ended finishes its reservation the same way. Only this thread (or a
 * signal handler's jump out of it) changes its entry: signal fences order
 * the stores. */
enum { RESERVING_NONE, RESERVING_TRIED, RESERVING_WON };
typedef struct reserving {
  uint64_t at; /* the reserve position tried (TRIED) or taken (WON) */
  uint32_t need;
  uint16_t state;
  uint16_t ring; /* ring_generation when it was written: a forked child's new ring is not its parent's */
  /* The waits so far, kept across the thread's jumps out of its hooks: a wait counted afresh at each call never
   * reached its end under a timer whose handler jumps out more often (every 2 ms) than the wait lasts, and the
   * program hung. tried_pauses: tried_and_won's; waited_at and pauses: reserve's on a full ring; unfinished_pauses:
   * those of them in a row that found the record to read next unfinished (stop_waiting). */
  uint32_t tried_pauses;
  uint32_t pauses;
  uint32_t unfinished_pauses;
  uint64_t waited_at;
} reserving_t;
#define RESERVING_SLOTS 4096u
static reserving_t reserving[RESERVING_SLOTS];
static uint16_t ring_generation;

/* Pauses (about a second) in a row a writer waits on a full ring whose next
 * record to read stays unfinished before it counts its events as lost
 * instead: another thread left that record unfinished and has not written
 * since. In a row: the reader zeroes a record before it moves `read` past
 * it, so a writer that had waited long for a slow reader, counting every
 * pause, saw that moment as a stall and dropped the calls it made until
 * the reader went on (a loaded machine: 1519 calls in a row). */
#define STALL_PAUSES 16384u
static uint64_t stalled_at = UINT64_MAX;

static void pause_briefly(void);

static void
note_exit(void)
{
  __atomic_store_n(&exiting, 1, __ATOMIC_RELEASE);
}

int
trace_ring_open(const char *directory, pid_t reader, uint64_t capacity, uint64_t started_ns)
{
  char path[4096];
  pid_t pid = getpid();
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  /* The start time tells apart the rings of one pid before and after exec. */
  unsigned long long stamp = (unsigned long long)now.tv_sec * 1000000000u + (unsigned long long)now.tv_nsec;
  if (snprintf(path, sizeof path, "%s/%d-%llu.ring", directory, (int)pid, stamp) >= (int)sizeof path)
    return -1;
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  size_t bytes = TRACE_RING_HEADER + capacity;
  void *mapped = MAP_FAILED;
  if (ftruncate(fd, (off_t)bytes) == 0)
    mapped = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  /* Locked while mapped, whose reference keeps the lock after the close:
   * until this image ends or unmaps it (a forked child unmaps its copy).
   * How a reader in another pid namespace tells that the writer runs. */
  int locked = mapped != MAP_FAILED && flock(fd, LOCK_EX | LOCK_NB) == 0;
  close(fd);
  if (mapped == MAP_FAILED)
    return -1;
  if (!locked) {
    munmap(mapped, bytes);
    return -1;
  }
  snprintf(reader_lock, sizeof reader_lock, "%s/" TRACE_RING_READER_LOCK, directory);
  struct stat pid_namespace;
  trace_ring_header_t *header = mapped;
  header->capacity = capacity;
  header->reader_pid = (uint32_t)reader;
  header->writer_pid = (uint32_t)pid;
  header->writer_pid_ns = stat("/proc/self/ns/pid", &pid_namespace) == 0 ? (uint32_t)pid_namespace.st_ino : 0;
  header->started_ns = started_ns;
  ssize_t program = readlink("/proc/self/exe", header->program, sizeof header->program);
  header->program_length = program > 0 ? (uint32_t)program : 0;
  __atomic_store_n(&header->magic, TRACE_RING_MAGIC, __ATOMIC_RELEASE);
  /* A backend initialised again (observe() after close()) lets go of its
   * previous ring now, long after the hooks that wrote it have finished. */
  if (ring != NULL)
    munmap(ring, TRACE_RING_HEADER + ring_capacity);
  memset(announced, 0, sizeof announced);
  ring_capacity = capacity;
  ring_generation++;
  stalled_at = UINT64_MAX;
  ring = header;
  __atomic_store_n(&retired, 0, __ATOMIC_SEQ_CST);
  static int registered;
  if (!registered && atexit(note_exit) == 0)
    registered = 1;
  return 0;
}

/* Whether the ring may be written; every 1 is followed by leave(). */
static int
enter(void)
{
  __atomic_add_fetch(&writers, 1, __ATOMIC_SEQ_CST);
  if (!__atomic_load_n(&retired, __ATOMIC_SEQ_CST))
    return 1;
  __atomic_sub_fetch(&writers, 1, __ATOMIC_RELEASE);
  return 0;
}

static void
leave(void)
{
  __atomic_sub_fetch(&writers, 1, __ATOMIC_RELEASE);
}

void
trace_ring_retire(void)
{
  if (ring == NULL || __atomic_load_n(&exiting, __ATOMIC_ACQUIRE))
    return;
  __atomic_store_n(&retired, 1, __ATOMIC_SEQ_CST);
  /* A few tens of ms for hooks that are writing now. One that waits on a
   * full ring, or that a signal handler's jump left counted, keeps the ring
   * mapped until the next start, which unmaps it. */
  for (unsigned pause = 0; __atomic_load_n(&writers, __ATOMIC_SEQ_CST) != 0; pause++) {
    if (pause == 2500)
      return;
    pause_briefly();
  }
  munmap(ring, TRACE_RING_HEADER + ring_capacity);
  ring = NULL;
}

void
trace_ring_forked(void)
{
  /* The parent's ring stays the parent's; the child opens its own, and lets
   * go of its copy of the parent's mapping (a daemon would keep its pages in
   * TMPDIR for its life), unless the forking thread was inside a hook. */
  if (ring != NULL && __atomic_load_n(&writers, __ATOMIC_SEQ_CST) == 0)
    munmap(ring, TRACE_RING_HEADER + ring_capacity);
  ring = NULL;
  reader_gone = 0;
  ring_generation++;
  memset(announced, 0, sizeof announced);
}

int
trace_ring_open_forked(const char *directory, pid_t reader, uint64_t capacity, uint64_t started_ns)
{
  trace_ring_header_t *parents = ring;
  uint64_t parents_capacity = ring_capacity;
  /* Unless the forking thread was inside a hook, the parent's mapping goes once the child has its own. */
  int keep = parents != NULL && __atomic_load_n(&writers, __ATOMIC_SEQ_CST) != 0;
  ring = NULL;
  if (trace_ring_open(directory, reader, capacity, started_ns) != 0) {
    ring = parents;
    return -1;
  }
  if (parents != NULL && !keep)
    munmap(parents, TRACE_RING_HEADER + parents_capacity);
  reader_gone = 0;
  return 0;
}

int
trace_ring_reader_running(const char *lock_path, pid_t reader)
{
  /* Raw calls: this runs in a hook that waits on a full ring. */
  int fd = lock_path == NULL ? -1 : (int)syscall(SYS_openat, AT_FDCWD, lock_path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    long locked = syscall(SYS_flock, fd, LOCK_SH | LOCK_NB);
    int held = locked != 0 && errno == EWOULDBLOCK;
    if (locked == 0)
      syscall(SYS_flock, fd, LOCK_UN);
    syscall(SYS_close, fd);
    return held;
  }
  /* No lock file: the reader's pid, as seen from here (not from another pid namespace than the reader's). */
  return reader > 0 && (syscall(SYS_kill, reader, 0) == 0 || errno == EPERM);
}

static int
reader_alive(void)
{
  return trace_ring_reader_running(reader_lock, (pid_t)ring->reader_pid);
}

int
trace_ring_reader_gone(void)
{
  return ring != NULL && reader_gone;
}

int
trace_ring_lost_to_gone_reader(void)
{
  if (!trace_ring_reader_gone())
    return 0;
  if (enter()) {
    __atomic_fetch_add(&ring->lost, 1, __ATOMIC_RELAXED);
    leave();
  }
  return 1;
}

static void
pause_briefly(void)
{
  struct timespec pause = {0, 20000};
  syscall(SYS_nanosleep, &pause, NULL);
}

static int
unfinished(uint32_t size)
{
  return size == 0 || (size & TRACE_RING_RESERVED);
}

static uint32_t *
word_at(uint64_t position)
{
  return (uint32_t *)((char *)ring + TRACE_RING_HEADER + (position & (ring_capacity - 1)));
}

/* Whether the reservation tried at `at` was this thread's: the jump may
 * have come right after the compare-and-swap won, before the entry said
 * so. Another winner stores its length there within instructions; a word
 * that stays empty is this thread's. */
static int
tried_and_won(reserving_t *own)
{
  uint64_t at = own->at;
  for (; own->tried_pauses < 256; own->tried_pauses++) {
    if (__atomic_load_n(&ring->reserve, __ATOMIC_ACQUIRE) == at ||
        __atomic_load_n(&ring->read, __ATOMIC_ACQUIRE) > at || __atomic_load_n(word_at(at), __ATOMIC_ACQUIRE) != 0)
      return 0;
    pause_briefly();
  }
  return 1;
}

/* Finishes the thread's reservation that a jump left unfinished, if any;
 * the caller clears the entry. */
static void
settle(reserving_t *own)
{
  uint64_t at = own->at;
  uint32_t need = own->need;
  if (own->state == RESERVING_TRIED && !tried_and_won(own))
    return;
  uint64_t offset = at & (ring_capacity - 1);
  uint64_t tail = offset + need > ring_capacity ? ring_capacity - offset : 0;
  uint64_t read = __atomic_load_n(&ring->read, __ATOMIC_ACQUIRE);
  if (read <= at + tail) {
    uint32_t padding = 0, reserved = 0;
    if (tail != 0 && read <= at)
      __atomic_compare_exchange_n(word_at(at), &padding, TRACE_RING_PADDING | (uint32_t)tail, 0, __ATOMIC_RELEASE,
                                  __ATOMIC_RELAXED);
    /* Empty (the jump came before the length was stored) or reserved: the
     * reader counts it as lost when it skips it. Committed: left as it is. */
    uint32_t *size = word_at(at + tail);
    if (!__atomic_compare_exchange_n(size, &reserved, TRACE_RING_ABANDONED | need, 0, __ATOMIC_RELEASE,
                                     __ATOMIC_RELAXED) &&
        reserved == (TRACE_RING_RESERVED | need))
      __atomic_compare_exchange_n(size, &reserved, TRACE_RING_ABANDONED | need, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
  }
}

/* Whether a writer waiting on a full ring should count its event as lost:
 * the reader is gone, or the record it reads next stays unfinished. */
static int
stop_waiting(uint64_t read, reserving_t *waits)
{
  if (reader_gone || ((waits->pauses & 63) == 63 && !reader_alive()))
    return reader_gone = 1;
  if (!unfinished(__atomic_load_n(word_at(read), __ATOMIC_ACQUIRE))) {
    waits->unfinished_pauses = 0;
    return 0;
  }
  if (__atomic_load_n(&stalled_at, __ATOMIC_RELAXED) == read)
    return 1;
  if (++waits->unfinished_pauses < STALL_PAUSES)
    return 0;
  __atomic_store_n(&stalled_at, read, __ATOMIC_RELAXED);
  return 1;
}

/* Reserves `need` bytes (a multiple of 8) and returns where the record
 * goes, or NULL when the event is lost (counted). `own`: the thread's entry
 * in `reserving` (NULL for a notice, written once at the end). */
static trace_ring_record_t *
reserve(uint32_t need, reserving_t *own)
{
  if (ring == NULL)
    return NULL;
  if (own != NULL && own->state != RESERVING_NONE) {
    if (own->ring == ring_generation)
      settle(own);
    own->state = RESERVING_NONE;
  }
  if (need > ring_capacity / 2 || need >= TRACE_RING_ABANDONED) {
    __atomic_fetch_add(&ring->lost, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  int saved = errno;
  reserving_t notice = {.waited_at = UINT64_MAX};
  reserving_t *waits = own != NULL && own->ring == ring_generation ? own : &notice;
  for (;;) {
    uint64_t at = __atomic_load_n(&ring->reserve, __ATOMIC_ACQUIRE);
    uint64_t offset = at & (ring_capacity - 1);
    uint64_t tail = offset + need > ring_capacity ? ring_capacity - offset : 0;
    uint64_t read = __atomic_load_n(&ring->read, __ATOMIC_ACQUIRE);
    if (at + tail + need - read > ring_capacity) {
      if (read != waits->waited_at)
        waits->pauses = waits->unfinished_pauses = 0;
      else
        waits->pauses++;
      waits->waited_at = read;
      if (stop_waiting(read, waits)) {
        __atomic_fetch_add(&ring->lost, 1, __ATOMIC_RELAXED);
        errno = saved;
        return NULL;
      }
      pause_briefly();
      continue;
    }
    if (own != NULL) {
      own->at = at;
      own->need = need;
      own->ring = ring_generation;
      own->tried_pauses = 0;
      __atomic_signal_fence(__ATOMIC_SEQ_CST);
      own->state = RESERVING_TRIED;
      __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
    if (!__atomic_compare_exchange_n(&ring->reserve, &at, at + tail + need, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
      continue;
    waits->pauses = waits->unfinished_pauses = 0;
    if (own != NULL)
      own->state = RESERVING_WON;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    errno = saved;
    if (tail != 0)
      __atomic_store_n(word_at(at), TRACE_RING_PADDING | (uint32_t)tail, __ATOMIC_RELEASE);
    trace_ring_record_t *record = (trace_ring_record_t *)word_at(at + tail);
    __atomic_store_n(&record->size, TRACE_RING_RESERVED | need, __ATOMIC_RELEASE);
    return record;
  }
}

static size_t
site_slot(uintptr_t site)
{
  return (size_t)(((uint64_t)site >> 3) * 0x9e3779b97f4a7c15ull >> 50) & (SITE_SLOTS - 1);
}

static int
site_known(uintptr_t site)
{
  for (size_t i = site_slot(site), probe = 0; probe < SITE_PROBES; probe++, i = (i + 1) & (SITE_SLOTS - 1)) {
    uintptr_t entry = __atomic_load_n(&announced[i], __ATOMIC_ACQUIRE);
    if (entry == site)
      return 1;
    if (entry == 0)
      return 0;
  }
  return 0;
}

/* Without room the site stays unknown and is named again before each call. */
static void
site_remember(uintptr_t site)
{
  for (size_t i = site_slot(site), probe = 0; probe < SITE_PROBES; probe++, i = (i + 1) & (SITE_SLOTS - 1)) {
    uintptr_t expected = 0;
    if (__atomic_compare_exchange_n(&announced[i], &expected, site, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED) ||
        expected == site)
      return;
  }
}

/* Most strings here are a few bytes: a plain loop is cheaper than a call to memcpy. */
static inline void
copy_bytes(char *to, const char *from, size_t n)
{
  if (n > 32) {
    memcpy(to, from, n);
    return;
  }
  for (; n >= 8; n -= 8, to += 8, from += 8)
    __builtin_memcpy(to, from, 8);
  for (size_t i = 0; i < n; i++)
    to[i] = from[i];
}

static void
fill_header(trace_ring_record_t *record, const trace_ring_event_t *event, unsigned flags)
{
  record->pid = (uint32_t)event->pid;
  record->tid = (uint32_t)event->tid;
  record->thread = event->thread;
  record->depth = event->depth;
  record->flags = flags;
  record->start_ns = event->start_ns;
  record->duration_ns = event->duration_ns;
  record->site = (uint64_t)(uintptr_t)event->site;
}

/* One record of `count` strings; 0 when it was lost. */
static int
put_record(const trace_ring_event_t *event, unsigned flags, const char *const *strings, const size_t *given, int count,
           reserving_t *own)
{
  size_t total = sizeof(trace_ring_record_t);
  size_t lengths[4];
  for (int i = 0; i < count; i++) {
    lengths[i] = strings[i] == NULL ? 0 : given ? given[i] : strlen(strings[i]);
    if (lengths[i] > 65535)
      lengths[i] = 65535;
    total += lengths[i];
  }
  total = (total + 7) & ~(size_t)7;
  trace_ring_record_t *record = reserve((uint32_t)total, own);
  if (record == NULL)
    return 0;
  fill_header(record, event, flags);
  char *out = (char *)(record + 1);
  record->lengths[3] = 0;
  for (int i = 0; i < count; i++) {
    record->lengths[i] = (uint16_t)lengths[i];
    copy_bytes(out, strings[i], lengths[i]);
    out += lengths[i];
  }
  __atomic_store_n(&record->size, (uint32_t)total, __ATOMIC_RELEASE);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (own != NULL)
    own->state = RESERVING_NONE;
  return 1;
}

static void
write_event(const trace_ring_event_t *event)
{
  if (ring == NULL || __atomic_load_n(&ring->reader_tid, __ATOMIC_RELAXED) == (uint32_t)event->tid ||
      __atomic_load_n(&ring->quiet_tid, __ATOMIC_RELAXED) == (uint32_t)event->tid)
    return;
  uintptr_t site = (uintptr_t)event->site;
  reserving_t *own = event->thread < RESERVING_SLOTS ? &reserving[event->thread] : NULL;
  if (!site_known(site)) {
    unsigned flags = TRACE_RECORD_SITE | (event->site_strings[2] ? TRACE_RECORD_HAS_VERSION : 0) |
                     (event->site_strings[3] ? TRACE_RECORD_HAS_CALLEE : 0);
    if (!put_record(event, flags, event->site_strings, NULL, TRACE_SITE_STRINGS, own))
      return;
    site_remember(site);
  }
  unsigned flags = event->flags | (event->strings[0] == NULL ? TRACE_RECORD_NO_ARGS : 0);
  put_record(event, flags, event->strings, event->lengths, TRACE_CALL_STRINGS, own);
}

void
trace_ring_write(const trace_ring_event_t *event)
{
  if (enter()) {
    write_event(event);
    leave();
  }
}

void
trace_ring_notice(const char *text, size_t length)
{
  if (!enter())
    return;
  /* Stamped as a call returning now: a text reader merges it with the other
   * rings' lines in time order, after the calls of an image before an exec. */
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t at = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
  uint64_t started = ring != NULL ? ring->started_ns : at;
  trace_ring_event_t event = {.pid = getpid(), .tid = gettid(), .start_ns = at > started ? at - started : 0};
  const char *strings[TRACE_CALL_STRINGS] = {text, NULL, NULL};
  size_t lengths[TRACE_CALL_STRINGS] = {length, 0, 0};
  put_record(&event, TRACE_RECORD_NOTICE, strings, lengths, TRACE_CALL_STRINGS, NULL);
  leave();
}
