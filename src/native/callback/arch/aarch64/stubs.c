#if defined(__aarch64__)
#include "../../callback.h"

/* The aarch64 handler is not written yet: callback rules are refused here. */
size_t
pdi_arch_stub_size(void)
{
  return 0;
}

int
pdi_arch_write_stub(unsigned char *at, unsigned index, uintptr_t handler_pointer_address)
{
  (void)at;
  (void)index;
  (void)handler_pointer_address;
  return -1;
}

uintptr_t
pdi_arch_handler(void)
{
  return 0;
}
#endif
