/* What the process pdi runs in means for callback stubs: memory-deny-write-
 * execute or a hardware shadow stack forbid them; a signal handler on an
 * alternate stack runs its calls on another stack than the frames it
 * interrupted. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../arch/arch.h"
#include "callback.h"

const char *
pdi_cb_blocker(void)
{
  if (pdi_mdwe_on())
    return "this process runs with memory-deny-write-execute (PR_SET_MDWE), which forbids making the stubs pdi "
           "writes executable";
  return pdi_arch_callback_blocker();
}

/* Asked only when a frame seems to be left (a call above it), which is rare:
 * a system call, no lock, nothing that may be interposed. */
int
pdi_cb_on_other_signal_stack(uintptr_t frame_pointer, uintptr_t stack_pointer)
{
  stack_t alternate;
  if (syscall(SYS_sigaltstack, NULL, &alternate) != 0 || !(alternate.ss_flags & SS_ONSTACK))
    return 0;
  uintptr_t low = (uintptr_t)alternate.ss_sp, high = low + alternate.ss_size;
  return stack_pointer > low && stack_pointer <= high && !(frame_pointer > low && frame_pointer <= high);
}
