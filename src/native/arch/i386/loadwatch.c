#if defined(__i386__)
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "../arch.h"

/* _dl_debug_state is `ret` (or `endbr32; ret`) followed by padding up to
 * the next 16-byte boundary: glibc pads with a multi-byte nop
 * (8d b4 26 00 00 00 00) or plain nops. A 5-byte `jmp rel32` reaches
 * anything in the 32-bit address space. */
static int
room_for_jump(const unsigned char *code)
{
  static const unsigned char endbr32_ret[5] = {0xf3, 0x0f, 0x1e, 0xfb, 0xc3};
  static const unsigned char lea_nop[4] = {0x8d, 0xb4, 0x26, 0x00};
  if (memcmp(code, endbr32_ret, sizeof endbr32_ret) == 0)
    return 1;
  if (code[0] != 0xc3)
    return 0;
  if (memcmp(code + 1, lea_nop, sizeof lea_nop) == 0)
    return 1;
  for (int i = 1; i < 5; i++)
    if (code[i] != 0x90 && code[i] != 0xcc)
      return 0;
  return 1;
}

int
pdi_arch_redirect_code(uintptr_t from, uintptr_t to)
{
  if (!room_for_jump((const unsigned char *)from)) {
    pdi_set_error("the loader's debug hook at %p is not the expected `ret`", (void *)from);
    return -1;
  }
  uintptr_t page_size = (uintptr_t)getauxval(AT_PAGESZ);
  uintptr_t page = from & ~(page_size - 1);
  size_t length = ((from + 8 - page) + page_size - 1) & ~(page_size - 1);
  if (mprotect((void *)page, length, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
    pdi_set_error("cannot make the loader's code writable: %s", strerror(errno));
    return -1;
  }
  unsigned char jump[5] = {0xe9};
  uint32_t distance = (uint32_t)(to - (from + 5));
  memcpy(jump + 1, &distance, 4);
  /* The first byte last: until it changes, the old `ret` still runs. */
  memcpy((unsigned char *)from + 1, jump + 1, 4);
  __atomic_store_n((unsigned char *)from, jump[0], __ATOMIC_SEQ_CST);
  mprotect((void *)page, length, PROT_READ | PROT_EXEC);
  return 0;
}
#endif
