#if defined(__i386__)
#define _GNU_SOURCE
#include <cpuid.h>
#include <string.h>

#include "../../../arch/arch.h"

extern void pdi_cb_handler(void) __attribute__((visibility("hidden")));
extern void pdi_cb_pass(void) __attribute__((visibility("hidden")));

size_t
pdi_arch_stub_size(void)
{
  return 16;
}

/* endbr32; push $index; jmp *handler_pointer: i386 has no register that no
 * call passes arguments in, so the index travels on the stack, just below
 * the caller's return address, and the handler takes it off again. */
int
pdi_arch_write_stub(unsigned char *at, unsigned index, uintptr_t handler_pointer_address)
{
  static const unsigned char endbr32[4] = {0xf3, 0x0f, 0x1e, 0xfb};
  memcpy(at, endbr32, 4);
  at[4] = 0x68;
  memcpy(at + 5, &index, 4);
  at[9] = 0xff;
  at[10] = 0x25;
  uint32_t pointer = (uint32_t)handler_pointer_address;
  memcpy(at + 11, &pointer, 4);
  at[15] = 0x90;
  return 0;
}

/* Linux has no user shadow stacks for 32-bit processes. */
const char *
pdi_arch_callback_blocker(void)
{
  return NULL;
}

/* ret, or endbr32; ret. */
int
pdi_arch_returns_at_once(uintptr_t function)
{
  const unsigned char *code = (const unsigned char *)function;
  static const unsigned char endbr32[4] = {0xf3, 0x0f, 0x1e, 0xfb};
  if (memcmp(code, endbr32, 4) == 0)
    code += 4;
  return code[0] == 0xc3 || (code[0] == 0xf3 && code[1] == 0xc3);
}

/* The stub pushed the site index: pdi_cb_pass (callback-handler.S) puts the
 * target in its place and returns to it. */
uintptr_t
pdi_arch_pass_word(uintptr_t target)
{
  (void)target;
  return (uintptr_t)&pdi_cb_pass;
}

/* Whether the CPU has SSE, so MXCSR exists: pdi_cb_run_hook
 * (callback-handler.S) keeps it around hooks only then. Set before the first
 * stub is written, read by every hook call after. */
__attribute__((visibility("hidden"))) int pdi_cb_has_mxcsr;

uintptr_t
pdi_arch_handler(void)
{
  unsigned eax, ebx, ecx, edx;
  pdi_cb_has_mxcsr = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (edx & bit_SSE) != 0;
  return (uintptr_t)&pdi_cb_handler;
}
#endif
