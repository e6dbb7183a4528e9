/* The reader side of the trace event ring (ring-reader.h). */
#define _GNU_SOURCE
#include "ring-reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backends/trace/ring.h"

int
trace_ring_reader_map(trace_ring_reader_t *reader, const char *path)
{
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat status;
  void *mapped = MAP_FAILED;
  if (fstat(fd, &status) == 0 && (size_t)status.st_size > TRACE_RING_HEADER)
    mapped = mmap(NULL, (size_t)status.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (mapped == MAP_FAILED) {
    errno = EAGAIN;
    return -1;
  }
  trace_ring_header_t *header = mapped;
  uint64_t capacity = header->capacity;
  if (__atomic_load_n(&header->magic, __ATOMIC_ACQUIRE) != TRACE_RING_MAGIC ||
      capacity + TRACE_RING_HEADER != (uint64_t)status.st_size || capacity < 4096 || (capacity & (capacity - 1)) != 0) {
    munmap(mapped, (size_t)status.st_size);
    errno = EAGAIN;
    return -1;
  }
  reader->header = header;
  reader->bytes = (size_t)status.st_size;
  reader->capacity = capacity;
  reader->damaged = 0;
  reader->damaged_at = 0;
  reader->position = __atomic_load_n(&header->read, __ATOMIC_RELAXED);
  reader->copy = NULL;
  reader->copy_room = 0;
  reader->copied = 0;
  return 0;
}

void
trace_ring_reader_unmap(trace_ring_reader_t *reader)
{
  if (reader->header != NULL)
    munmap(reader->header, reader->bytes);
  if (reader->copy != NULL)
    munmap(reader->copy, reader->copy_room);
  reader->header = NULL;
  reader->copy = NULL;
}

/* Frees `length` bytes at the read position and moves it past them. */
static void
consume(trace_ring_reader_t *reader, uint64_t length)
{
  memset((char *)reader->header + TRACE_RING_HEADER + (reader->position & (reader->capacity - 1)), 0, length);
  reader->position += length;
  reader->copied = 0;
  __atomic_store_n(&reader->header->read, reader->position, __ATOMIC_RELEASE);
}

/* Room for a copy of `length` bytes (mapped: this may run on a thread of
 * the traced process itself, observe()). */
static int
copy_room(trace_ring_reader_t *reader, uint64_t length)
{
  if (length <= reader->copy_room)
    return 0;
  size_t room = ((size_t)length + 65535) & ~(size_t)65535;
  void *copy = mmap(NULL, room, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (copy == MAP_FAILED)
    return -1;
  if (reader->copy != NULL)
    munmap(reader->copy, reader->copy_room);
  reader->copy = copy;
  reader->copy_room = room;
  return 0;
}

/* Whether a committed record of `length` bytes can be one. */
static int
record_fits(const trace_ring_record_t *record, uint64_t length)
{
  if (length < sizeof *record)
    return 0;
  uint64_t strings = 0;
  for (int i = 0; i < 4; i++)
    strings += record->lengths[i];
  return sizeof *record + strings <= length;
}

const trace_ring_record_t *
trace_ring_reader_next(trace_ring_reader_t *reader)
{
  char *data = (char *)reader->header + TRACE_RING_HEADER;
  uint64_t capacity = reader->capacity;
  while (!reader->damaged) {
    uint64_t read = reader->position;
    if (reader->copied && reader->copy_at == read)
      return reader->copy;
    uint64_t offset = read & (capacity - 1);
    uint32_t size = __atomic_load_n((uint32_t *)(data + offset), __ATOMIC_ACQUIRE);
    if (size == 0 || (size & TRACE_RING_RESERVED))
      return NULL;
    uint32_t kind = size & (TRACE_RING_PADDING | TRACE_RING_ABANDONED);
    uint64_t length = size & ~kind;
    int bad = kind == (TRACE_RING_PADDING | TRACE_RING_ABANDONED) || length == 0 || (length & 7) != 0 ||
              length > capacity - offset;
    if (!bad && kind == 0) {
      if (copy_room(reader, length) != 0)
        return NULL;
      memcpy(reader->copy, data + offset, length);
      reader->copy->size = (uint32_t)length;
      if (record_fits(reader->copy, length)) {
        reader->copied = 1;
        reader->copy_at = read;
        return reader->copy;
      }
      bad = 1;
    }
    if (bad) {
      reader->damaged = 1;
      reader->damaged_at = read;
      return NULL;
    }
    if (kind == TRACE_RING_ABANDONED)
      __atomic_fetch_add(&reader->header->lost, 1, __ATOMIC_RELAXED);
    consume(reader, length);
  }
  return NULL;
}

uint64_t
trace_ring_reader_skip_unfinished(trace_ring_reader_t *reader)
{
  char *data = (char *)reader->header + TRACE_RING_HEADER;
  uint64_t offset = reader->position & (reader->capacity - 1);
  uint32_t size = __atomic_load_n((uint32_t *)(data + offset), __ATOMIC_ACQUIRE);
  uint32_t length = size & ~(TRACE_RING_RESERVED | TRACE_RING_PADDING);
  if (reader->damaged || !(size & TRACE_RING_RESERVED) || length == 0 || (length & 7) != 0 ||
      length > reader->capacity - offset)
    return 0;
  consume(reader, length);
  __atomic_fetch_add(&reader->header->lost, 1, __ATOMIC_RELAXED);
  return 1;
}

void
trace_ring_reader_release(trace_ring_reader_t *reader, const trace_ring_record_t *record)
{
  consume(reader, record->size); /* the copy's size, checked */
}

trace_ring_header_t *
trace_ring_reader_header(const trace_ring_reader_t *reader)
{
  return reader->header;
}

uint64_t
trace_ring_reader_lost(const trace_ring_reader_t *reader)
{
  return __atomic_load_n(&reader->header->lost, __ATOMIC_RELAXED);
}

int
trace_ring_reader_damaged(const trace_ring_reader_t *reader, uint64_t *at)
{
  *at = reader->damaged_at;
  return reader->damaged;
}

uint64_t
trace_ring_reader_returned(const trace_ring_reader_t *reader, const trace_ring_record_t *record, uint64_t untimed)
{
  if (record->flags & (TRACE_RECORD_SITE | TRACE_RECORD_NO_ARGS))
    return untimed;
  return reader->header->started_ns + record->start_ns + record->duration_ns;
}
