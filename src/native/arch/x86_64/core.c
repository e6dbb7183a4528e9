#if defined(__x86_64__)
#define _GNU_SOURCE
#include "../arch.h"
#include "../x86_plt.h"

const char *
pdi_arch_name(void)
{
  return "x86_64";
}

unsigned
pdi_arch_slot_kind(unsigned reloc_type)
{
  switch (reloc_type) {
  case R_X86_64_JUMP_SLOT: return PDI_SLOT_JUMP_SLOT;
  case R_X86_64_GLOB_DAT: return PDI_SLOT_GLOB_DAT;
  case R_X86_64_64: return PDI_SLOT_ABS;
  case R_X86_64_COPY: return PDI_SLOT_COPY;
  default: return 0;
  }
}

/* A lazy GOT entry points back into its own object's PLT, at the
 * `push $index` (after `endbr64` in IBT PLTs) that hands ld.so the
 * relocation index: seeing our own index there proves the slot is unbound. */
int
pdi_arch_is_lazy_stub(const pdi_object_t *object, const pdi_slot_t *slot, uintptr_t value)
{
  if (!pdi_object_in_code(object, value, 9))
    return 0;
  static const unsigned char endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};
  uint32_t operand;
  return pdi_x86_plt_push_operand((const unsigned char *)value, endbr, &operand) && operand == slot->reloc_index;
}

/* x86 resolvers take no arguments: they read the CPU features themselves. */
uintptr_t
pdi_arch_call_ifunc_resolver(uintptr_t resolver)
{
  return ((uintptr_t(*)(void))resolver)();
}
#endif
