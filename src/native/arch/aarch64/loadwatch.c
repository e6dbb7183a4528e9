#if defined(__aarch64__)
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "../arch.h"

static int
in_branch_range(uintptr_t from, uintptr_t to)
{
  intptr_t distance = (intptr_t)to - (intptr_t)from;
  return (distance & 3) == 0 && distance >= -(1l << 27) && distance < (1l << 27);
}

/* A page near the loader holding `ldr x16, 8; br x16; .quad to`, for when
 * pdi is mapped beyond the 128 MiB reach of a direct branch. */
static uintptr_t
nearby_trampoline(uintptr_t from, uintptr_t to, uintptr_t page_size)
{
  for (uintptr_t step = 1; step < 2048; step++) {
    for (int side = -1; side <= 1; side += 2) {
      uintptr_t hint = (from & ~(page_size - 1)) + (uintptr_t)((intptr_t)side * (intptr_t)(step * 16 * page_size));
      void *page = mmap((void *)hint, page_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      if (page == MAP_FAILED)
        continue;
      if (!in_branch_range(from, (uintptr_t)page)) {
        munmap(page, page_size);
        continue;
      }
      uint32_t *code = page;
      code[0] = 0x58000050u; /* ldr x16, #8 */
      code[1] = 0xd61f0200u; /* br x16 */
      memcpy(code + 2, &to, sizeof to);
      __builtin___clear_cache((char *)page, (char *)page + 16);
      if (mprotect(page, page_size, PROT_READ | PROT_EXEC) != 0) {
        munmap(page, page_size);
        return 0;
      }
      return (uintptr_t)page;
    }
  }
  return 0;
}

/* _dl_debug_state is a lone `ret` (the next function follows at once), so
 * it becomes one `b` to the handler (or to a trampoline near it); the
 * handler returns to the loader's caller through the untouched x30. */
int
pdi_arch_redirect_code(uintptr_t from, uintptr_t to)
{
  uint32_t *code = (uint32_t *)from;
  uint32_t instruction = __atomic_load_n(code, __ATOMIC_RELAXED);
  if (instruction != 0xd65f03c0u && instruction != 0xd503233fu) {
    pdi_set_error("the loader's debug hook at %p is not the expected `ret`", (void *)from);
    return -1;
  }
  uintptr_t page_size = (uintptr_t)getauxval(AT_PAGESZ);
  uintptr_t target = to;
  if (!in_branch_range(from, target) && (target = nearby_trampoline(from, to, page_size)) == 0) {
    pdi_set_error("no memory within branch reach of the loader's debug hook");
    return -1;
  }
  uintptr_t page = from & ~(page_size - 1);
  if (mprotect((void *)page, page_size, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
    pdi_set_error("cannot make the loader's code writable: %s", strerror(errno));
    return -1;
  }
  uint32_t branch = 0x14000000u | (uint32_t)((((intptr_t)target - (intptr_t)from) >> 2) & 0x03ffffff);
  __atomic_store_n(code, branch, __ATOMIC_SEQ_CST);
  __builtin___clear_cache((char *)code, (char *)(code + 1));
  mprotect((void *)page, page_size, PROT_READ | PROT_EXEC);
  return 0;
}
#endif
