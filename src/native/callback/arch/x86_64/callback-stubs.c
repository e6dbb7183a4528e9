#if defined(__x86_64__)
#define _GNU_SOURCE
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../../arch/arch.h"

extern void pdi_cb_handler_sse(void) __attribute__((visibility("hidden")));
extern void pdi_cb_handler_avx_live(void) __attribute__((visibility("hidden")));
extern void pdi_cb_handler_avx512_live(void) __attribute__((visibility("hidden")));

size_t
pdi_arch_stub_size(void)
{
  return 16;
}

/* endbr64; mov $index, %r11d; jmp *handler(%rip): the site index rides in
 * r11, which no call passes arguments in, so every argument register and
 * the stack reach the handler untouched. */
int
pdi_arch_write_stub(unsigned char *at, unsigned index, uintptr_t handler_pointer_address)
{
  static const unsigned char endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
  memcpy(at, endbr64, 4);
  at[4] = 0x41;
  at[5] = 0xbb;
  memcpy(at + 6, &index, 4);
  at[10] = 0xff;
  at[11] = 0x25;
  intptr_t displacement = (intptr_t)handler_pointer_address - (intptr_t)(at + 16);
  if (displacement != (int32_t)displacement)
    return -1;
  int32_t disp32 = (int32_t)displacement;
  memcpy(at + 12, &disp32, 4);
  return 0;
}

/* ARCH_SHSTK_STATUS (Linux 6.6+): bit 0 set when the thread runs on a
 * shadow stack. Older kernels fail the call: no shadow stack then. */
const char *
pdi_arch_callback_blocker(void)
{
  unsigned long features = 0;
  if (syscall(SYS_arch_prctl, 0x5005, &features) == 0 && (features & 1u))
    return "this process runs with CET shadow stacks (glibc.cpu.x86_shstk), where callback stubs are untested: the "
           "handler's calls and returns pair up as a shadow stack needs, but no machine pdi is tested on enforces it";
  return NULL;
}

/* ret, rep ret, or either after endbr64. */
int
pdi_arch_returns_at_once(uintptr_t function)
{
  const unsigned char *code = (const unsigned char *)function;
  static const unsigned char endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
  if (memcmp(code, endbr64, 4) == 0)
    code += 4;
  return code[0] == 0xc3 || (code[0] == 0xf3 && code[1] == 0xc3);
}

/* The stub only set r11, which no call passes arguments in. */
uintptr_t
pdi_arch_pass_word(uintptr_t target)
{
  return target;
}

/* The ymm variant when the OS saves AVX state (CPUID.1:ECX.OSXSAVE and AVX,
 * and XCR0 enables SSE and AVX state), the zmm one with AVX-512 too
 * (CPUID.7:EBX.AVX512F, XCR0 opmask and zmm state). */
uintptr_t
pdi_arch_handler(void)
{
  unsigned eax, ebx, ecx, edx;
  __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
  int avx = (ecx & (1u << 27)) && (ecx & (1u << 28));
  unsigned xcr0 = 0;
  if (avx) {
    unsigned high;
    __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(high) : "c"(0));
    avx = (xcr0 & 6u) == 6u;
  }
  if (!avx)
    return (uintptr_t)&pdi_cb_handler_sse;
  __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(7), "c"(0));
  int avx512 = (ebx & (1u << 16)) && (xcr0 & 0xe0u) == 0xe0u;
  return avx512 ? (uintptr_t)&pdi_cb_handler_avx512_live : (uintptr_t)&pdi_cb_handler_avx_live;
}
#endif
