#if defined(__x86_64__)
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "../arch.h"

static int
is_padding(unsigned char byte)
{
  return byte == 0x90 || byte == 0xcc || byte == 0x66 || byte == 0x0f || byte == 0x1f || byte == 0x00 || byte == 0x2e ||
         byte == 0x84 || byte == 0x40 || byte == 0x44;
}

/* _dl_debug_state is `endbr64; ret` (or a bare `ret` before its padding):
 * a 5-byte `jmp rel32` over it keeps the calling convention, and ld.so only
 * ever reaches it by a direct call. */
int
pdi_arch_redirect_code(uintptr_t from, uintptr_t to)
{
  static const unsigned char endbr_ret[5] = {0xf3, 0x0f, 0x1e, 0xfa, 0xc3};
  const unsigned char *code = (const unsigned char *)from;
  int fits = memcmp(code, endbr_ret, sizeof endbr_ret) == 0 ||
             (code[0] == 0xc3 && is_padding(code[1]) && is_padding(code[2]) && is_padding(code[3]) &&
              is_padding(code[4]));
  if (!fits) {
    pdi_set_error("the loader's debug hook at %p is not the expected `ret`", (void *)from);
    return -1;
  }
  intptr_t distance = (intptr_t)to - (intptr_t)(from + 5);
  if (distance != (int32_t)distance) {
    pdi_set_error("the loader's debug hook is too far from pdi for a direct jump");
    return -1;
  }
  if ((from & 7) > 3) {
    pdi_set_error("the loader's debug hook is not aligned for an atomic patch");
    return -1;
  }
  uintptr_t page_size = (uintptr_t)getauxval(AT_PAGESZ);
  uintptr_t page = from & ~(page_size - 1);
  size_t length = ((from + 8 - page) + page_size - 1) & ~(page_size - 1);
  if (mprotect((void *)page, length, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
    pdi_set_error("cannot make the loader's code writable: %s", strerror(errno));
    return -1;
  }
  uint64_t *word = (uint64_t *)(from & ~(uintptr_t)7);
  unsigned shift = (unsigned)(from & 7) * 8;
  uint64_t patched = __atomic_load_n(word, __ATOMIC_RELAXED);
  uint64_t jump = 0xe9u | ((uint64_t)(uint32_t)(int32_t)distance << 8);
  uint64_t mask = 0xffffffffffull << shift;
  patched = (patched & ~mask) | (jump << shift);
  __atomic_store_n(word, patched, __ATOMIC_SEQ_CST);
  mprotect((void *)page, length, PROT_READ | PROT_EXEC);
  return 0;
}
#endif
