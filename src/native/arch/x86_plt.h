#ifndef PDI_ARCH_X86_PLT_H
#define PDI_ARCH_X86_PLT_H

#include <stdint.h>
#include <string.h>

/* Both x86 PLTs hand ld.so the slot's relocation with `push imm32`, which an
 * unbound GOT entry points at (after an `endbr` in IBT PLTs). Reads that
 * immediate; returns 0 when the code there is not such a push. */
static inline int
pdi_x86_plt_push_operand(const unsigned char *code, const unsigned char endbr[4], uint32_t *operand)
{
  if (memcmp(code, endbr, 4) == 0)
    code += 4;
  if (code[0] != 0x68)
    return 0;
  memcpy(operand, code + 1, sizeof *operand);
  return 1;
}

#endif
