/* What the process pdi runs in forbids callback stubs: memory-deny-write-execute, or a hardware shadow stack. */
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
