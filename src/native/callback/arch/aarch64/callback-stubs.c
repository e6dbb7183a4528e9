#if defined(__aarch64__)
#define _GNU_SOURCE
#include <string.h>
#include <sys/prctl.h>

#include "../../../arch/arch.h"

extern void pdi_cb_handler(void) __attribute__((visibility("hidden")));

size_t
pdi_arch_stub_size(void)
{
  return 16;
}

/* bti c; movz w16, #index; ldr x17, <handler pointer>; br x17: the site
 * index rides in x16 and the branch goes through x17, the registers a call
 * may clobber between caller and callee, so no argument is disturbed. */
int
pdi_arch_write_stub(unsigned char *at, unsigned index, uintptr_t handler_pointer_address)
{
  if (index > 0xffff)
    return -1;
  intptr_t distance = (intptr_t)handler_pointer_address - (intptr_t)(at + 8);
  if ((distance & 3) != 0 || distance < -(1l << 20) || distance >= (1l << 20))
    return -1;
  uint32_t code[4] = {
      0xd503245fu,
      0x52800010u | ((uint32_t)index << 5),
      0x58000011u | (((uint32_t)(distance >> 2) & 0x7ffffu) << 5),
      0xd61f0220u,
  };
  memcpy(at, code, sizeof code);
  return 0;
}

/* PR_GET_SHADOW_STACK_STATUS (Linux 6.13+, arm64 GCS): bit 0 set when the
 * thread runs on a guarded control stack. Older kernels fail the call. */
const char *
pdi_arch_callback_blocker(void)
{
  unsigned long status = 0;
  if (prctl(74, &status, 0, 0, 0) == 0 && (status & 1u))
    return "this process runs with a guarded control stack (arm64 GCS), where callback stubs are untested: the "
           "handler's calls and returns pair up as GCS needs, but no machine pdi is tested on enforces it";
  return NULL;
}

/* ret, or bti c; ret. */
int
pdi_arch_returns_at_once(uintptr_t function)
{
  uint32_t code[2];
  memcpy(code, (const void *)function, sizeof code);
  return code[0] == 0xd65f03c0u || (code[0] == 0xd503245fu && code[1] == 0xd65f03c0u);
}

/* The stub only set x16 and x17, the intra-procedure-call registers that
 * any PLT entry or linker veneer may clobber too. */
uintptr_t
pdi_arch_pass_word(uintptr_t target)
{
  return target;
}

uintptr_t
pdi_arch_handler(void)
{
  return (uintptr_t)&pdi_cb_handler;
}
#endif
