/* The writer side of the trace event ring (ring.h). */
#define _GNU_SOURCE
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "trace-ring.h"

static trace_ring_header_t *ring;
static uint64_t ring_capacity;
static int reader_gone;

/* Sites already named in this ring (their record committed), by address:
 * open addressing, filled with compare-and-swap, cleared with a new ring. */
#define SITE_SLOTS 16384u
#define SITE_PROBES 64u
static uintptr_t announced[SITE_SLOTS];

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
  close(fd);
  if (mapped == MAP_FAILED)
    return -1;
  trace_ring_header_t *header = mapped;
  header->capacity = capacity;
  header->reader_pid = (uint32_t)reader;
  header->writer_pid = (uint32_t)pid;
  header->started_ns = started_ns;
  __atomic_store_n(&header->magic, TRACE_RING_MAGIC, __ATOMIC_RELEASE);
  /* A backend initialised again (observe() after close()) lets go of its
   * previous ring now, long after the hooks that wrote it have finished. */
  if (ring != NULL)
    munmap(ring, TRACE_RING_HEADER + ring_capacity);
  memset(announced, 0, sizeof announced);
  ring_capacity = capacity;
  ring = header;
  return 0;
}

void
trace_ring_forked(void)
{
  /* The parent's ring stays the parent's; the child opens its own. */
  ring = NULL;
  reader_gone = 0;
  memset(announced, 0, sizeof announced);
}

static int
reader_alive(void)
{
  pid_t reader = (pid_t)ring->reader_pid;
  return reader > 0 && (kill(reader, 0) == 0 || errno == EPERM);
}

static void
pause_briefly(void)
{
  struct timespec pause = {0, 20000};
  syscall(SYS_nanosleep, &pause, NULL);
}

/* Reserves `need` bytes (a multiple of 8) and returns where the record
 * goes, or NULL when the event is lost (counted). */
static trace_ring_record_t *
reserve(uint32_t need)
{
  if (ring == NULL)
    return NULL;
  if (need > ring_capacity / 2) {
    __atomic_fetch_add(&ring->lost, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  char *data = (char *)ring + TRACE_RING_HEADER;
  int saved = errno;
  for (unsigned spins = 0;; spins++) {
    uint64_t at = __atomic_load_n(&ring->reserve, __ATOMIC_ACQUIRE);
    uint64_t offset = at & (ring_capacity - 1);
    uint64_t tail = offset + need > ring_capacity ? ring_capacity - offset : 0;
    uint64_t read = __atomic_load_n(&ring->read, __ATOMIC_ACQUIRE);
    if (at + tail + need - read > ring_capacity) {
      if (reader_gone || ((spins & 63) == 63 && !reader_alive())) {
        reader_gone = 1;
        __atomic_fetch_add(&ring->lost, 1, __ATOMIC_RELAXED);
        errno = saved;
        return NULL;
      }
      pause_briefly();
      continue;
    }
    if (!__atomic_compare_exchange_n(&ring->reserve, &at, at + tail + need, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
      continue;
    errno = saved;
    if (tail != 0) {
      __atomic_store_n((uint32_t *)(data + offset), TRACE_RING_PADDING | (uint32_t)tail, __ATOMIC_RELEASE);
      offset = 0;
    }
    trace_ring_record_t *record = (trace_ring_record_t *)(data + offset);
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
put_record(const trace_ring_event_t *event, unsigned flags, const char *const *strings, const size_t *given, int count)
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
  trace_ring_record_t *record = reserve((uint32_t)total);
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
  return 1;
}

void
trace_ring_write(const trace_ring_event_t *event)
{
  if (ring == NULL || __atomic_load_n(&ring->reader_tid, __ATOMIC_RELAXED) == (uint32_t)event->tid ||
      __atomic_load_n(&ring->quiet_tid, __ATOMIC_RELAXED) == (uint32_t)event->tid)
    return;
  uintptr_t site = (uintptr_t)event->site;
  if (!site_known(site)) {
    unsigned flags = TRACE_RECORD_SITE | (event->site_strings[2] ? TRACE_RECORD_HAS_VERSION : 0) |
                     (event->site_strings[3] ? TRACE_RECORD_HAS_CALLEE : 0);
    if (!put_record(event, flags, event->site_strings, NULL, TRACE_SITE_STRINGS))
      return;
    site_remember(site);
  }
  unsigned flags = event->flags | (event->strings[0] == NULL ? TRACE_RECORD_NO_ARGS : 0);
  put_record(event, flags, event->strings, event->lengths, TRACE_CALL_STRINGS);
}

void
trace_ring_notice(const char *text, size_t length)
{
  /* Stamped as a call returning now: a text reader merges it with the other
   * rings' lines in time order, after the calls of an image before an exec. */
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t at = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
  uint64_t started = ring != NULL ? ring->started_ns : at;
  trace_ring_event_t event = {.pid = getpid(), .tid = gettid(), .start_ns = at > started ? at - started : 0};
  const char *strings[TRACE_CALL_STRINGS] = {text, NULL, NULL};
  size_t lengths[TRACE_CALL_STRINGS] = {length, 0, 0};
  put_record(&event, TRACE_RECORD_NOTICE, strings, lengths, TRACE_CALL_STRINGS);
}
