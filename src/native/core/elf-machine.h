/* The name of an ELF machine, for messages about a file built for another
 * architecture: the core's backend loader and pdi-inject (which links none
 * of the core) both say it so. */
#ifndef PDI_ELF_MACHINE_H
#define PDI_ELF_MACHINE_H

#include <elf.h>

/* "x86-64", "aarch64", ... for e_machine and EI_CLASS; NULL for one pdi has
 * no name for. */
static inline const char *
pdi_elf_machine_name(unsigned machine, unsigned elf_class)
{
  switch (machine) {
  case EM_X86_64: return elf_class == ELFCLASS32 ? "x32" : "x86-64";
  case EM_386: return "i386";
  case EM_AARCH64: return "aarch64";
  case EM_ARM: return "arm";
  case EM_RISCV: return elf_class == ELFCLASS32 ? "riscv32" : "riscv64";
  default: return NULL;
  }
}

#endif
