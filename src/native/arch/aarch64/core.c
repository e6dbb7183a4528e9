#if defined(__aarch64__)
#define _GNU_SOURCE
#include <string.h>

#include <sys/auxv.h>

#include "../arch.h"

const char *
pdi_arch_name(void)
{
  return "aarch64";
}

unsigned
pdi_arch_slot_kind(unsigned reloc_type)
{
  switch (reloc_type) {
  case R_AARCH64_JUMP_SLOT: return PDI_SLOT_JUMP_SLOT;
  case R_AARCH64_GLOB_DAT: return PDI_SLOT_GLOB_DAT;
  case R_AARCH64_ABS64: return PDI_SLOT_ABS;
  case R_AARCH64_COPY: return PDI_SLOT_COPY;
  default: return 0;
  }
}

/* Unbound aarch64 PLT slots all point at PLT0, whose first instruction
 * (after an optional `bti c`) is `stp x16, x30, [sp, #-16]!`. */
int
pdi_arch_is_lazy_stub(const pdi_object_t *object, const pdi_slot_t *slot, uintptr_t value)
{
  (void)slot;
  if (!pdi_object_in_code(object, value, 8) || (value & 3) != 0)
    return 0;
  const uint32_t *code = (const uint32_t *)value;
  if (code[0] == 0xd503245fu)
    code++;
  return code[0] == 0xa9bf7bf0u;
}

/* glibc passes hwcap (with _IFUNC_ARG_HWCAP) and a pointer to the hwcap
 * words to aarch64 resolvers. */
uintptr_t
pdi_arch_call_ifunc_resolver(uintptr_t resolver)
{
  struct {
    unsigned long size;
    unsigned long hwcap;
    unsigned long hwcap2;
  } hwcaps = {sizeof hwcaps, getauxval(AT_HWCAP), getauxval(AT_HWCAP2)};
  return ((uintptr_t(*)(uint64_t, void *))resolver)(hwcaps.hwcap | (1ull << 62), &hwcaps);
}
#endif
