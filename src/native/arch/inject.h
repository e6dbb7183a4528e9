/* What `pdi-inject` (src/native/inject) needs from the machine of the
 * process it attaches to: saving and restoring a stopped thread's
 * registers, and turning them into a call of a function in that process
 * whose return traps. One implementation per architecture, in
 * src/native/arch/<arch>/inject.c; an architecture without one refuses to
 * attach (PDI_INJECT_SUPPORTED is 0 there). Not part of the core: only the
 * injector program is built from these files. */
#ifndef PDI_ARCH_INJECT_H
#define PDI_ARCH_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#if defined(__x86_64__)
#define PDI_INJECT_SUPPORTED 1
#else
#define PDI_INJECT_SUPPORTED 0
#endif

/* A thread's whole user state: the general registers (NT_PRSTATUS) and the
 * floating-point and vector state, kept as the kernel hands them out. */
typedef struct {
  unsigned char general[1024];
  size_t general_len;
  unsigned char vector[16384];
  size_t vector_len;
  unsigned vector_type;
} pdi_inject_regs_t;

/* Whether this injector can enter a program of that ELF class and machine,
 * and the name of what it enters, for messages. An x86-64 injector could
 * enter i386 programs too (the kernel shows it their threads' 32-bit
 * registers; the call frame is why prepare hands back stack bytes), but no
 * machine pdi is tested on runs i386 programs natively (docs/attach.md). */
int pdi_inject_arch_accepts(int elf_class, int machine);
const char *pdi_inject_arch_name(void);

/* Reads or writes `tid`'s registers (a thread stopped under ptrace); `all`
 * includes the vector state. 0, or -1 with errno. */
int pdi_inject_arch_get(pid_t tid, pdi_inject_regs_t *regs, int all);
int pdi_inject_arch_set(pid_t tid, const pdi_inject_regs_t *regs, int all);

uintptr_t pdi_inject_arch_pc(const pdi_inject_regs_t *regs);
uintptr_t pdi_inject_arch_sp(const pdi_inject_regs_t *regs);
/* Whether the thread stopped inside a system call that waits (which the
 * kernel will restart from these registers, when they are restored as they
 * were); not in one that manages memory, which malloc makes under its lock. */
int pdi_inject_arch_in_syscall(const pdi_inject_regs_t *regs);
/* The lowest address of the thread's stack that its code may still use
 * (the red zone below the stack pointer included): scratch memory for the
 * call goes below it. */
uintptr_t pdi_inject_arch_stack_floor(const pdi_inject_regs_t *regs);

/* The stack words a call needs, written by the injector before it starts
 * the call: the return address and the arguments that travel on the stack. */
typedef struct {
  uintptr_t at;
  unsigned char bytes[64];
  size_t len;
} pdi_inject_frame_t;

/* `call` becomes `saved` set up to call fn(args[0..count-1]) with the stack
 * pointer just below `stack` (aligned as the ABI wants at a call), no
 * system call to restart, and the return address 0: the return faults at
 * address 0 (SIGSEGV), which the injector waits for. What must be written
 * on the stack first is left in *frame. -1 when count is more than 6. */
int pdi_inject_arch_prepare(const pdi_inject_regs_t *saved, pdi_inject_regs_t *call, uintptr_t fn,
                            const uintptr_t *args, unsigned count, uintptr_t stack, pdi_inject_frame_t *frame);
/* The integer result of a call that has returned. */
uintptr_t pdi_inject_arch_result(const pdi_inject_regs_t *regs);

#endif
