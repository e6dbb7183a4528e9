#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>

#include "core.h"

struct pdi_arena_block {
  pdi_arena_block_t *next;
  size_t size;
  size_t used;
};

static size_t
align_up(size_t value, size_t alignment)
{
  return (value + alignment - 1) & ~(alignment - 1);
}

void *
pdi_arena_alloc(pdi_arena_t *arena, size_t size)
{
  size = align_up(size, 16);
  pdi_arena_block_t *block = arena->head;
  size_t header = align_up(sizeof(pdi_arena_block_t), 16);
  if (block == NULL || block->size - block->used < size) {
    size_t bytes = align_up(header + size, 64 * 1024);
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
      return NULL;
    block = memory;
    block->next = arena->head;
    block->size = bytes;
    block->used = header;
    arena->head = block;
  }
  void *result = (char *)block + block->used;
  block->used += size;
  return result;
}

char *
pdi_arena_strdup(pdi_arena_t *arena, const char *s)
{
  size_t len = strlen(s);
  char *copy = pdi_arena_alloc(arena, len + 1);
  if (copy != NULL)
    memcpy(copy, s, len + 1);
  return copy;
}

int
pdi_array_reserve(pdi_arena_t *arena, pdi_array_t *array, size_t count, size_t item_size)
{
  if (array->count + count <= array->capacity)
    return 0;
  size_t capacity = array->count + count;
  void *items = pdi_arena_alloc(arena, capacity * item_size);
  if (items == NULL)
    return -1;
  if (array->count)
    memcpy(items, array->items, array->count * item_size);
  array->items = items;
  array->capacity = capacity;
  array->written = array->count;
  return 0;
}

void *
pdi_array_push(pdi_arena_t *arena, pdi_array_t *array, size_t item_size)
{
  if (array->count == array->capacity) {
    size_t capacity = array->capacity ? array->capacity * 2 : 16;
    void *items = pdi_arena_alloc(arena, capacity * item_size);
    if (items == NULL)
      return NULL;
    if (array->count)
      memcpy(items, array->items, array->count * item_size);
    array->items = items;
    array->capacity = capacity;
    array->written = array->count;
  }
  void *item = (char *)array->items + array->count * item_size;
  /* Arena memory comes zeroed; only an item given out before a truncation is not. */
  if (array->count < array->written)
    memset(item, 0, item_size);
  if (++array->count > array->written)
    array->written = array->count;
  return item;
}

void
pdi_arena_release(pdi_arena_t *arena)
{
  pdi_arena_block_t *block = arena->head;
  while (block != NULL) {
    pdi_arena_block_t *next = block->next;
    munmap(block, block->size);
    block = next;
  }
  arena->head = NULL;
}
