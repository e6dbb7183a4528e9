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

struct trace_ring_reader {
  trace_ring_header_t *header;
  size_t bytes;
};

trace_ring_reader_t *
trace_ring_reader_open(const char *path)
{
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct stat status;
  void *mapped = MAP_FAILED;
  if (fstat(fd, &status) == 0 && (size_t)status.st_size > TRACE_RING_HEADER)
    mapped = mmap(NULL, (size_t)status.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (mapped == MAP_FAILED) {
    errno = EAGAIN;
    return NULL;
  }
  trace_ring_header_t *header = mapped;
  if (__atomic_load_n(&header->magic, __ATOMIC_ACQUIRE) != TRACE_RING_MAGIC ||
      header->capacity + TRACE_RING_HEADER != (uint64_t)status.st_size) {
    munmap(mapped, (size_t)status.st_size);
    errno = EAGAIN;
    return NULL;
  }
  trace_ring_reader_t *reader = malloc(sizeof *reader);
  if (reader == NULL) {
    munmap(mapped, (size_t)status.st_size);
    return NULL;
  }
  reader->header = header;
  reader->bytes = (size_t)status.st_size;
  return reader;
}

size_t
trace_ring_reader_read(trace_ring_reader_t *reader, void *out, size_t cap)
{
  trace_ring_header_t *header = reader->header;
  char *data = (char *)header + TRACE_RING_HEADER;
  uint64_t capacity = header->capacity;
  uint64_t read = __atomic_load_n(&header->read, __ATOMIC_RELAXED);
  size_t moved = 0;
  for (;;) {
    uint64_t offset = read & (capacity - 1);
    uint32_t size = __atomic_load_n((uint32_t *)(data + offset), __ATOMIC_ACQUIRE);
    if (size == 0)
      break;
    uint32_t length = size & ~TRACE_RING_PADDING;
    if (!(size & TRACE_RING_PADDING)) {
      if (moved + length > cap)
        break;
      memcpy((char *)out + moved, data + offset, length);
      moved += length;
    }
    memset(data + offset, 0, length);
    read += length;
    __atomic_store_n(&header->read, read, __ATOMIC_RELEASE);
  }
  return moved;
}

uint64_t
trace_ring_reader_lost(const trace_ring_reader_t *reader)
{
  return __atomic_load_n(&reader->header->lost, __ATOMIC_RELAXED);
}

size_t
trace_ring_reader_capacity(const trace_ring_reader_t *reader)
{
  return (size_t)reader->header->capacity;
}

void
trace_ring_reader_close(trace_ring_reader_t *reader)
{
  munmap(reader->header, reader->bytes);
  free(reader);
}
