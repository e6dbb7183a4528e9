/* The i386 handler's frame (offsets from esp after it is built), shared by
 * callback-handler.S and the C paths (arch.h lists what they read). The
 * stub pushed the site index just below the caller's return address, so the
 * frame ends with it. */
#ifndef PDI_CB_FRAME_I386_H
#define PDI_CB_FRAME_I386_H

#define CB_FRAME_ARG0 0
#define CB_FRAME_ARG1 4
#define CB_FRAME_REGISTERS 8
#define CB_FRAME_EAX 8
#define CB_FRAME_ECX 12
#define CB_FRAME_EDX 16
#define CB_FRAME_TARGET 24
#define CB_FRAME_SIZE 40
#define CB_FRAME_SITE CB_FRAME_SIZE
#define CB_FRAME_VECTORS (-1)
#define CB_FRAME_VECTOR_STRIDE 0

#define CB_RETURN_RAX 0
#define CB_RETURN_EDX 4
#define CB_RETURN_X87 8
#define CB_RETURN_X87_DOUBLE 8
#define CB_RETURN_XMM0 8
#define CB_RETURN_X87_TOP 32
#define CB_RETURN_AREA 8
#define CB_RETURN_SIZE 48

/* cdecl: every argument is on the caller's stack above the return address
 * (eax/ecx/edx, which regparm functions use, are preserved but not numbered). */
#define CB_INT_REGISTERS 0
#define CB_STACK_POINTER(frame) ((uintptr_t)(frame) + CB_FRAME_SIZE + 4)
#define CB_STACK_ARGUMENTS(stack_pointer) ((const uintptr_t *)((stack_pointer) + 4))
#define CB_RETURN_ADDRESS(frame, stack_pointer) (*(const uintptr_t *)(stack_pointer))

/* A callback site's record (callback.c: cb_site_t, the real function
 * first), which pdi_cb_pass indexes. */
#define CB_SITE_SIZE 44

/* Where a skip stub finds its value: the entry's skip_value (callback.h). */
#define CB_ENTRY_SKIP_VALUE 12

#endif
