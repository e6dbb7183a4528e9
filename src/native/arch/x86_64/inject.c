#if defined(__x86_64__)
#define _GNU_SOURCE
#include <elf.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "../inject.h"

int
pdi_inject_arch_accepts(int elf_class, int machine)
{
  return elf_class == ELFCLASS64 && machine == EM_X86_64;
}

const char *
pdi_inject_arch_name(void)
{
  return "x86-64";
}

static struct user_regs_struct *
gp(pdi_inject_regs_t *regs)
{
  return (struct user_regs_struct *)(void *)regs->general;
}

static const struct user_regs_struct *
cgp(const pdi_inject_regs_t *regs)
{
  return (const struct user_regs_struct *)(const void *)regs->general;
}

int
pdi_inject_arch_get(pid_t tid, pdi_inject_regs_t *regs, int all)
{
  struct iovec io = {regs->general, sizeof regs->general};
  if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &io) != 0)
    return -1;
  regs->general_len = io.iov_len;
  if (!all)
    return 0;
  /* XSAVE state (AVX and later registers too) where the machine has it. */
  regs->vector_type = NT_X86_XSTATE;
  io = (struct iovec){regs->vector, sizeof regs->vector};
  if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &io) != 0) {
    regs->vector_type = NT_PRFPREG;
    io = (struct iovec){regs->vector, sizeof regs->vector};
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRFPREG, &io) != 0)
      return -1;
  }
  regs->vector_len = io.iov_len;
  return 0;
}

int
pdi_inject_arch_set(pid_t tid, const pdi_inject_regs_t *regs, int all)
{
  struct iovec io = {(void *)regs->general, regs->general_len};
  if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &io) != 0)
    return -1;
  if (!all)
    return 0;
  io = (struct iovec){(void *)regs->vector, regs->vector_len};
  return ptrace(PTRACE_SETREGSET, tid, (void *)(uintptr_t)regs->vector_type, &io) != 0 ? -1 : 0;
}

uintptr_t
pdi_inject_arch_pc(const pdi_inject_regs_t *regs)
{
  return (uintptr_t)cgp(regs)->rip;
}

/* orig_rax holds the number of the system call the thread was in; user
 * code interrupted anywhere else has -1 there. */
int
pdi_inject_arch_in_syscall(const pdi_inject_regs_t *regs)
{
  long number = (long)cgp(regs)->orig_rax;
  /* malloc makes these while it holds its arena's lock, which the injected
   * dlopen would then wait for on the same thread, forever. */
  int memory = number == SYS_mmap || number == SYS_munmap || number == SYS_mremap || number == SYS_brk ||
               number == SYS_madvise || number == SYS_mprotect;
  return number >= 0 && !memory;
}

/* The SysV ABI lets leaf code use 128 bytes below rsp without moving it. */
uintptr_t
pdi_inject_arch_sp(const pdi_inject_regs_t *regs)
{
  return (uintptr_t)cgp(regs)->rsp;
}

uintptr_t
pdi_inject_arch_stack_floor(const pdi_inject_regs_t *regs)
{
  return (uintptr_t)cgp(regs)->rsp - 128;
}

int
pdi_inject_arch_prepare(const pdi_inject_regs_t *saved, pdi_inject_regs_t *call, uintptr_t fn, const uintptr_t *args,
                        unsigned count, uintptr_t stack, pdi_inject_frame_t *frame)
{
  if (count > 6)
    return -1;
  memcpy(call, saved, sizeof *call);
  struct user_regs_struct *r = gp(call);
  unsigned long long *slots[6] = {&r->rdi, &r->rsi, &r->rdx, &r->rcx, &r->r8, &r->r9};
  for (unsigned i = 0; i < count; i++)
    *slots[i] = args[i];
  /* At a function's first instruction rsp + 8 is a multiple of 16: the
   * return address was just pushed. */
  uintptr_t top = stack & ~(uintptr_t)15;
  r->rsp = top - 8;
  frame->at = top - 8;
  memset(frame->bytes, 0, 8);
  frame->len = 8;
  r->rip = fn;
  r->rax = 0;
  /* -1: the kernel must not take the call for an interrupted system call
   * to restart (it would move rip back over a `syscall` that is not there). */
  r->orig_rax = (unsigned long long)-1;
  r->eflags &= ~(1ULL << 10); /* the ABI wants the direction flag clear */
  return 0;
}

uintptr_t
pdi_inject_arch_result(const pdi_inject_regs_t *regs)
{
  return (uintptr_t)cgp(regs)->rax;
}
#endif
