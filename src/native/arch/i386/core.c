#if defined(__i386__)
#define _GNU_SOURCE
#include "../arch.h"
#include "../x86_plt.h"

const char *
pdi_arch_name(void)
{
  return "i386";
}

unsigned
pdi_arch_slot_kind(unsigned reloc_type)
{
  switch (reloc_type) {
  case R_386_JMP_SLOT: return PDI_SLOT_JUMP_SLOT;
  case R_386_GLOB_DAT: return PDI_SLOT_GLOB_DAT;
  case R_386_32: return PDI_SLOT_ABS;
  case R_386_COPY: return PDI_SLOT_COPY;
  default: return 0;
  }
}

/* An unbound i386 slot points at `push $offset` in its PLT entry, where
 * offset is the byte offset of its Elf32_Rel in DT_JMPREL. */
int
pdi_arch_is_lazy_stub(const pdi_object_t *object, const pdi_slot_t *slot, uintptr_t value)
{
  if (!pdi_object_in_code(object, value, 9))
    return 0;
  static const unsigned char endbr[4] = {0xf3, 0x0f, 0x1e, 0xfb};
  uint32_t operand;
  return pdi_x86_plt_push_operand((const unsigned char *)value, endbr, &operand) &&
         operand == slot->reloc_index * sizeof(Elf32_Rel);
}

/* x86 resolvers take no arguments: they read the CPU features themselves. */
uintptr_t
pdi_arch_call_ifunc_resolver(uintptr_t resolver)
{
  return ((uintptr_t(*)(void))resolver)();
}
#endif
