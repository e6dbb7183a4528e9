/* The rings' programs (trace-programs.h). */
#define _GNU_SOURCE
#include "trace-programs.h"

#include <string.h>
#include <sys/mman.h>

#define RECORD_HEAD 16u

int
trace_programs_add(trace_programs_t *programs, uint32_t pid, uint64_t opened_ns, const char *path, size_t length)
{
  size_t need = RECORD_HEAD + ((length + 7) & ~(size_t)7);
  if (programs->capacity - programs->used < need) {
    size_t capacity = programs->capacity ? 2 * programs->capacity : 65536;
    while (capacity - programs->used < need)
      capacity *= 2;
    void *bytes = programs->bytes == NULL
                      ? mmap(NULL, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                      : mremap(programs->bytes, programs->capacity, capacity, MREMAP_MAYMOVE);
    if (bytes == MAP_FAILED)
      return -1;
    programs->bytes = bytes;
    programs->capacity = capacity;
  }
  char *record = programs->bytes + programs->used;
  uint32_t stored_length = (uint32_t)length;
  memcpy(record, &pid, 4);
  memcpy(record + 4, &stored_length, 4);
  memcpy(record + 8, &opened_ns, 8);
  memcpy(record + RECORD_HEAD, path, length);
  programs->used += need;
  return 0;
}

void
trace_programs_each(const trace_programs_t *programs, trace_program_fn *fn, void *context)
{
  for (size_t at = 0; at < programs->used;) {
    const char *record = programs->bytes + at;
    uint32_t pid, length;
    uint64_t opened_ns;
    memcpy(&pid, record, 4);
    memcpy(&length, record + 4, 4);
    memcpy(&opened_ns, record + 8, 8);
    fn(context, pid, opened_ns, record + RECORD_HEAD, length);
    at += RECORD_HEAD + ((length + 7) & ~(size_t)7);
  }
}

void
trace_programs_release(trace_programs_t *programs)
{
  if (programs->bytes != NULL)
    munmap(programs->bytes, programs->capacity);
  *programs = (trace_programs_t){0};
}
