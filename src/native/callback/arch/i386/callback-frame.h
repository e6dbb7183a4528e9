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
#define CB_FRAME_FAST_SITE 20 /* the fast path's words: the site, esi and edi (which it uses), errno */
#define CB_FRAME_TARGET 24
#define CB_FRAME_FAST_ESI 28
#define CB_FRAME_FAST_EDI 32
#define CB_FRAME_FAST_ERRNO 36
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
#define CB_RETURN_FAST_ESI 48 /* the fast path's words: esi (which it uses), errno */
#define CB_RETURN_FAST_ERRNO 52
#define CB_RETURN_CALLER 56 /* the caller's ebx, taken from the entry while it is still pushed */
#define CB_RETURN_SIZE 64

/* cdecl: every argument is on the caller's stack above the return address
 * (eax/ecx/edx, which regparm functions use, are preserved but not numbered). */
#define CB_INT_REGISTERS 0
#define CB_STACK_POINTER(frame) ((uintptr_t)(frame) + CB_FRAME_SIZE + 4)
#define CB_STACK_ARGUMENTS(stack_pointer) ((const uintptr_t *)((stack_pointer) + 4))
#define CB_RETURN_ADDRESS(frame, stack_pointer) (*(const uintptr_t *)(stack_pointer))

/* The handler runs the common pre and post paths itself, reading
 * callback.c's records at these offsets (ILP32), which callback.c checks
 * with _Static_assert; pdi_cb_pass indexes the sites too. */
#define CB_FAST_PATH 1
#define CB_ENTRY_SIZE 64
#define CB_ENTRY_RETURN_ADDRESS 0
#define CB_ENTRY_TARGET 8
#define CB_ENTRY_STACK_POINTER 20
#define CB_ENTRY_REGISTERS 24
#define CB_ENTRY_VECTORS 28
#define CB_ENTRY_RETURNS 32
#define CB_ENTRY_SKIPPED 36
#define CB_ENTRY_CALL 40
#define CB_ENTRY_EVENT 40
#define CB_ENTRY_SITE 44
#define CB_ENTRY_DEPTH 52
#define CB_ENTRY_USER 56
#define CB_ENTRY_ABANDONED 60
#define CB_THREAD_ERROR 8
#define CB_THREAD_IN_HOOK 12
#define CB_THREAD_DEPTH 16
#define CB_THREAD_CAPACITY 20
#define CB_THREAD_ENTRIES 24
#define CB_THREAD_ENTERED_AT 28
#define CB_SITE_SIZE 44
#define CB_SITE_TARGET 0
#define CB_SITE_EVENT 4
#define CB_SITE_SITE 12
#define CB_SITE_PRE 32
#define CB_SITE_POST 36

/* Where a skip stub finds its value: the entry's skip_value (callback.h). */
#define CB_ENTRY_SKIP_VALUE 12

#endif
