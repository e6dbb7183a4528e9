/* Reading the program's own memory from a hook without faulting: an
 * invalid pointer reads as nothing instead of crashing the program. Uses
 * process_vm_readv on the own pid, and where that is refused (a seccomp
 * filter such as Docker's default, qemu-user, which does not carry it out)
 * probes each piece through a pipe. Hooks neither allocate nor lock here. */
#ifndef PDI_BACKENDS_SAFE_READ_H
#define PDI_BACKENDS_SAFE_READ_H

#include <stddef.h>
#include <stdint.h>

/* Once, before any hook runs; `forced` "pipe" takes the fallback (for
 * tests: PDI_TRACE_PROBE, PDI_ACT_PROBE). 0, or -1 with errno. */
int safe_read_init(const char *forced);
/* In a child after fork. */
void safe_read_forked(void);
/* Copies up to n bytes from address into out; returns how many were
 * readable from the start. */
size_t safe_read(uintptr_t address, char *out, size_t n);
/* The same, after asking the kernel which process this is: a child of a raw
 * clone (no CLONE_VM, no fork handlers) would otherwise read its parent's
 * memory. One system call more, for a decision that must be right (act's
 * conditions); a trace's display goes without (docs/trace.md). */
size_t safe_read_checked(uintptr_t address, char *out, size_t n);

#endif
