/* The x86-64 handler's frame on the program stack (offsets from rsp after
 * it is built), shared by callback-handler.S and the C paths (arch.h lists
 * what they read). */
#ifndef PDI_CB_FRAME_X86_64_H
#define PDI_CB_FRAME_X86_64_H

#define CB_FRAME_RDI 0
#define CB_FRAME_RAX 48
#define CB_FRAME_R10 56
#define CB_FRAME_REGISTERS 0
#define CB_FRAME_SITE 64
#define CB_FRAME_TARGET 72
#define CB_FRAME_VECTORS 80
#define CB_FRAME_VECTOR_STRIDE 64 /* room for a zmm register */
#define CB_FRAME_UPPER 592        /* which widths were saved: CB_SAVED_* */
#define CB_FRAME_FAST 600         /* the fast path's words kept across the pre hook */
#define CB_FRAME_FAST_SITE (CB_FRAME_FAST + 0)
#define CB_FRAME_FAST_THREAD (CB_FRAME_FAST + 8)
#define CB_FRAME_FAST_ENTRY (CB_FRAME_FAST + 16)
#define CB_FRAME_FAST_ERRNO (CB_FRAME_FAST + 24)
#define CB_FRAME_SIZE 632 /* 8 mod 16: rsp is 16-aligned at the C calls */

#define CB_SAVED_YMM 1
#define CB_SAVED_ZMM 2

#define CB_RETURN_RAX 0
#define CB_RETURN_RDX 8
#define CB_RETURN_XMM0 16
#define CB_RETURN_XMM1 80
#define CB_RETURN_X87 144
#define CB_RETURN_X87_TOP 176
#define CB_RETURN_UPPER 184
#define CB_RETURN_FAST_THREAD 192 /* the fast path's words kept across the post hook */
#define CB_RETURN_FAST_ERRNO 200
#define CB_RETURN_CALLER 208     /* the caller's rbx, taken from the entry while it is still pushed */
#define CB_RETURN_X87_STATUS 216 /* the x87 status word the post hook runs at */
#define CB_RETURN_SIZE 224       /* 0 mod 16 */

/* rdi rsi rdx rcx r8 r9 carry integer arguments; the rest are on the
 * caller's stack above the return address. */
#define CB_INT_REGISTERS 6
#define CB_STACK_ARGUMENTS(stack_pointer) ((const uintptr_t *)((stack_pointer) + 8))
#define CB_RETURN_ADDRESS(frame, stack_pointer) (*(const uintptr_t *)(stack_pointer))

/* Where a skip stub finds its value: the entry's skip_value (callback.h). */
#define CB_ENTRY_SKIP_VALUE 24

/* The handler runs the common pre and post paths itself (lp64-records.h). */
#define CB_FAST_PATH 1
#include "../lp64-records.h"

#endif
