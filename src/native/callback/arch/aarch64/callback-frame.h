/* The aarch64 handler's frame (offsets from sp after it is built), shared by
 * callback-handler.S and the C paths (arch.h lists what they read). */
#ifndef PDI_CB_FRAME_AARCH64_H
#define PDI_CB_FRAME_AARCH64_H

#define CB_FRAME_X8 64
#define CB_FRAME_REGISTERS 0
#define CB_FRAME_SITE 72
#define CB_FRAME_TARGET 80
#define CB_FRAME_LR 88
#define CB_FRAME_VECTORS 96
#define CB_FRAME_VECTOR_STRIDE 16
#define CB_FRAME_FAST 224 /* the fast path's words kept across the pre hook */
#define CB_FRAME_FAST_SITE (CB_FRAME_FAST + 0)
#define CB_FRAME_FAST_THREAD (CB_FRAME_FAST + 8)
#define CB_FRAME_FAST_ENTRY (CB_FRAME_FAST + 16)
#define CB_FRAME_FAST_ERRNO (CB_FRAME_FAST + 24)
#define CB_FRAME_SIZE 256

#define CB_RETURN_RAX 0
#define CB_RETURN_XMM0 16
#define CB_RETURN_FAST_THREAD 80 /* the fast path's words kept across the post hook */
#define CB_RETURN_FAST_ERRNO 88
#define CB_RETURN_CALLER 96 /* the caller's x19, taken from the entry while it is still pushed */
#define CB_RETURN_SIZE 112

/* x0-x7 carry integer arguments; the rest are on the stack at sp. */
#define CB_INT_REGISTERS 8
#define CB_STACK_ARGUMENTS(stack_pointer) ((const uintptr_t *)(stack_pointer))
#define CB_RETURN_ADDRESS(frame, stack_pointer) ((frame)[CB_FRAME_LR / 8])

/* Where a skip stub finds its value: the entry's skip_value (callback.h). */
#define CB_ENTRY_SKIP_VALUE 24

/* The handler runs the common pre and post paths itself (lp64-records.h). */
#define CB_FAST_PATH 1
#include "../lp64-records.h"

#endif
