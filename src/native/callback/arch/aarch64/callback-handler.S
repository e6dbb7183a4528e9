/*
 * The aarch64 generic callback handler.
 *
 * A stub branches here through x17 with the site index in x16 (the two
 * intra-procedure-call registers: no argument travels in them, and BTI
 * allows `br` through them into a `bti c` landing pad). The handler saves
 * x0-x8 (x8: indirect result) and q0-q7 whole, runs the pre path,
 * restores them, and calls the real function with sp exactly as the caller
 * left it (stack arguments start at sp on aarch64). On return it saves x0,
 * x1 and q0-q3 (HFA results), runs the post path and returns to the
 * caller's return address, which the thread's callback stack kept. x18 is
 * never touched.
 *
 * While the real function runs, x19 points at the entry: word 0 is the
 * caller's return address, word 1 the caller's x19; the CFI says so, with a
 * CFA no real frame can have and the caller's sp given explicitly.
 */
#if defined(__aarch64__)

#include "callback-frame.h"

	.text

/* The handlers' code lies between these two labels: a return address in
 * it belongs to a function the handler called (callback.c, tail calls). */
	.globl pdi_cb_handlers_begin
	.hidden pdi_cb_handlers_begin
pdi_cb_handlers_begin:

/* x0-x8 and q0-q7 back from the frame, on both ways to the real function. */
.macro RESTORE_ARGUMENTS
	ldp q0, q1, [sp, #CB_FRAME_VECTORS]
	ldp q2, q3, [sp, #CB_FRAME_VECTORS + 32]
	ldp q4, q5, [sp, #CB_FRAME_VECTORS + 64]
	ldp q6, q7, [sp, #CB_FRAME_VECTORS + 96]
	ldp x0, x1, [sp, #0]
	ldp x2, x3, [sp, #16]
	ldp x4, x5, [sp, #32]
	ldp x6, x7, [sp, #48]
	ldr x8, [sp, #CB_FRAME_X8]
.endm

/* The common pre path of callback.c's pdi_cb_pre, for a thread that has
 * its slot, is not inside a hook, has room on its callback stack and left
 * no frame behind: the site's real function goes to the frame, the call's
 * entry is filled, the pre hook runs with errno kept (a skipped call keeps
 * the hook's), and then: no post hook and no skip, the entry is popped and
 * the code goes to \pass (the call goes to the real function without coming
 * back); otherwise the entry stays pushed and goes to \join in x0. Anything else goes to \slow, the C path, before
 * anything but the frame's target word is written. */
.macro FAST_PRE slow, pass, join
	adrp x10, pdi_cb_sites
	ldr x10, [x10, #:lo12:pdi_cb_sites]
	mov x11, #CB_SITE_SIZE
	madd x0, x16, x11, x10
	ldr x1, [x0, #CB_SITE_TARGET]
	str x1, [sp, #CB_FRAME_TARGET]
	mrs x9, tpidr_el0
	adrp x10, :gottprel:pdi_cb_current
	ldr x10, [x10, #:gottprel_lo12:pdi_cb_current]
	ldr x2, [x9, x10]
	cbz x2, \slow
	/* Inside a hook, or left in one by a signal handler's siglongjmp: C tells. */
	ldr w3, [x2, #CB_THREAD_IN_HOOK]
	cbnz w3, \slow
	ldr w3, [x2, #CB_THREAD_DEPTH]
	ldr w4, [x2, #CB_THREAD_CAPACITY]
	cmp w3, w4
	b.eq \slow
	ldr x4, [x2, #CB_THREAD_ENTRIES]
	mov x11, #CB_ENTRY_SIZE
	madd x4, x3, x11, x4
	add x5, sp, #CB_FRAME_SIZE
	ldr x6, [sp, #CB_FRAME_LR]
	/* The open frame on top: one above this call nests it; one at the same
	 * stack pointer does only for a tail call, which returns into the
	 * handlers; the C path abandons the others. */
	cbz w3, 41f
	ldur x7, [x4, #CB_ENTRY_STACK_POINTER - CB_ENTRY_SIZE]
	cmp x7, x5
	b.hi 41f
	b.lo \slow
	adr x7, pdi_cb_handlers_begin
	cmp x6, x7
	b.lo \slow
	adr x7, pdi_cb_handlers_end
	cmp x6, x7
	b.hs \slow
	/* From here to the end the thread counts as inside pdi, as in a hook: a
	 * signal handler's instrumented call goes straight to its function
	 * instead of taking the entry being built. */
41:
	str x5, [x2, #CB_THREAD_ENTERED_AT]
	mov w7, #1
	str w7, [x2, #CB_THREAD_IN_HOOK]
	str x6, [x4, #CB_ENTRY_RETURN_ADDRESS]
	str x1, [x4, #CB_ENTRY_TARGET]
	str x5, [x4, #CB_ENTRY_STACK_POINTER]
	str xzr, [x4, #CB_ENTRY_RETURNS]
	str wzr, [x4, #CB_ENTRY_SKIPPED]
	str xzr, [x4, #CB_ENTRY_USER]
	str wzr, [x4, #CB_ENTRY_ABANDONED]
	ldr w7, [x0, #CB_SITE_EVENT]
	str w7, [x4, #CB_ENTRY_EVENT]
	add x7, x0, #CB_SITE_SITE
	str x7, [x4, #CB_ENTRY_SITE]
	str w3, [x4, #CB_ENTRY_DEPTH]
	/* Pushed once complete: a signal handler's instrumented call nests above it. */
	add w7, w3, #1
	str w7, [x2, #CB_THREAD_DEPTH]
	ldr x10, [x0, #CB_SITE_PRE]
	cbz x10, 42f
	mov x7, sp
	add x8, sp, #CB_FRAME_VECTORS
	stp x7, x8, [x4, #CB_ENTRY_REGISTERS]
	stp x0, x2, [sp, #CB_FRAME_FAST_SITE]
	str x4, [sp, #CB_FRAME_FAST_ENTRY]
	ldr x9, [x2, #CB_THREAD_ERROR]
	ldr w7, [x9]
	str w7, [sp, #CB_FRAME_FAST_ERRNO]
	add x0, x4, #CB_ENTRY_CALL
	mov x1, x10
	bl pdi_cb_run_hook
	ldp x0, x2, [sp, #CB_FRAME_FAST_SITE]
	ldr x4, [sp, #CB_FRAME_FAST_ENTRY]
	stp xzr, xzr, [x4, #CB_ENTRY_REGISTERS]
	ldr w7, [x4, #CB_ENTRY_SKIPPED]
	cbnz w7, 44f
	ldr x9, [x2, #CB_THREAD_ERROR]
	ldr w7, [sp, #CB_FRAME_FAST_ERRNO]
	str w7, [x9]
	b 43f
	/* No pre hook: no registers to show. */
42:
	stp xzr, xzr, [x4, #CB_ENTRY_REGISTERS]
43:
	ldr x7, [x0, #CB_SITE_POST]
	cbnz x7, 45f
	/* No post hook: the call does not come back, and its entry is popped. */
	ldr w7, [x2, #CB_THREAD_DEPTH]
	sub w7, w7, #1
	str w7, [x2, #CB_THREAD_DEPTH]
	str wzr, [x2, #CB_THREAD_IN_HOOK]
	b \pass
	/* Skipped: the skip stub stands in for the real function. */
44:
	adr x9, pdi_cb_skip_int
	cmp w7, #2
	b.ne 46f
	adr x9, pdi_cb_skip_double
46:
	str x9, [x4, #CB_ENTRY_TARGET]
	str x9, [sp, #CB_FRAME_TARGET]
45:
	str wzr, [x2, #CB_THREAD_IN_HOOK]
	mov x0, x4
	b \join
.endm

/* The common post path of pdi_cb_post: the returning call's entry (x19) is
 * on top of its thread's stack; the post hook runs with errno kept and the
 * entry is popped; x17 gets the caller's return address and the code goes
 * on at \done. Anything else goes to \slow, also a thread marked inside pdi
 * (at exit, another thread may own its frames: callback.c). */
.macro FAST_POST slow, done
	mrs x9, tpidr_el0
	adrp x10, :gottprel:pdi_cb_current
	ldr x10, [x10, #:gottprel_lo12:pdi_cb_current]
	ldr x2, [x9, x10]
	cbz x2, \slow
	ldr w3, [x2, #CB_THREAD_IN_HOOK]
	cbnz w3, \slow
	ldr w3, [x2, #CB_THREAD_DEPTH]
	cbz w3, \slow
	ldr x4, [x2, #CB_THREAD_ENTRIES]
	mov x11, #CB_ENTRY_SIZE
	madd x4, x3, x11, x4
	sub x4, x4, #CB_ENTRY_SIZE
	cmp x4, x19
	b.ne \slow
	ldr x7, [x19, #CB_ENTRY_STACK_POINTER]
	str x7, [x2, #CB_THREAD_ENTERED_AT]
	mov w7, #1
	str w7, [x2, #CB_THREAD_IN_HOOK]
	ldr x0, [x19, #CB_ENTRY_SITE]
	ldr x10, [x0, #CB_SITE_POST - CB_SITE_SITE]
	cbz x10, 52f
	mov x7, sp
	str x7, [x19, #CB_ENTRY_RETURNS]
	str x2, [sp, #CB_RETURN_FAST_THREAD]
	ldr x9, [x2, #CB_THREAD_ERROR]
	ldr w7, [x9]
	str w7, [sp, #CB_RETURN_FAST_ERRNO]
	add x0, x19, #CB_ENTRY_CALL
	mov x1, x10
	bl pdi_cb_run_hook
	ldr x2, [sp, #CB_RETURN_FAST_THREAD]
	ldr x9, [x2, #CB_THREAD_ERROR]
	ldr w7, [sp, #CB_RETURN_FAST_ERRNO]
	str w7, [x9]
	str xzr, [x19, #CB_ENTRY_RETURNS]
52:
	ldr x17, [x19, #CB_ENTRY_RETURN_ADDRESS]
	ldr w3, [x2, #CB_THREAD_DEPTH]
	sub w3, w3, #1
	str w3, [x2, #CB_THREAD_DEPTH]
	str wzr, [x2, #CB_THREAD_IN_HOOK]
	b \done
.endm

	.globl pdi_cb_handler
	.hidden pdi_cb_handler
	.type pdi_cb_handler, %function
	.p2align 4
pdi_cb_handler:
	.cfi_startproc
	hint #38
	sub sp, sp, #CB_FRAME_SIZE
	.cfi_def_cfa_offset CB_FRAME_SIZE
	stp x0, x1, [sp, #0]
	stp x2, x3, [sp, #16]
	stp x4, x5, [sp, #32]
	stp x6, x7, [sp, #48]
	stp x8, x16, [sp, #CB_FRAME_X8]
	str x30, [sp, #CB_FRAME_LR]
	.cfi_offset x30, CB_FRAME_LR - CB_FRAME_SIZE
	stp q0, q1, [sp, #CB_FRAME_VECTORS]
	stp q2, q3, [sp, #CB_FRAME_VECTORS + 32]
	stp q4, q5, [sp, #CB_FRAME_VECTORS + 64]
	stp q6, q7, [sp, #CB_FRAME_VECTORS + 96]
	FAST_PRE 47f, 1f, 49f
47:
	mov x0, sp
	bl pdi_cb_pre
49:
	ldr x17, [sp, #CB_FRAME_TARGET]
	.cfi_remember_state
	cbz x0, 1f
	str x19, [x0, #8]
	mov x19, x0
	RESTORE_ARGUMENTS
	add sp, sp, #CB_FRAME_SIZE
	.cfi_def_cfa_offset 1
	.cfi_escape 0x10, 30, 0x02, 0x83, 0x00
	.cfi_escape 0x10, 19, 0x02, 0x83, 0x08
	.cfi_escape 0x16, 31, 0x02, 0x8f, 0x00
	blr x17
	sub sp, sp, #CB_RETURN_SIZE
	.cfi_def_cfa_offset 1 + CB_RETURN_SIZE
	.cfi_escape 0x16, 31, 0x03, 0x8f, (CB_RETURN_SIZE & 0x7f) | 0x80, CB_RETURN_SIZE >> 7
	stp x0, x1, [sp, #0]
	stp q0, q1, [sp, #16]
	stp q2, q3, [sp, #48]
	/* Read from the entry now: once it is popped, a signal handler's
	 * instrumented call may take its place. */
	ldr x9, [x19, #8]
	str x9, [sp, #CB_RETURN_CALLER]
	FAST_POST 50f, 51f
50:
	mov x0, x19
	mov x1, sp
	bl pdi_cb_post
	mov x17, x0
51:
	.cfi_register x30, x17
	ldp q0, q1, [sp, #16]
	ldp q2, q3, [sp, #48]
	ldp x0, x1, [sp, #0]
	ldr x19, [sp, #CB_RETURN_CALLER]
	.cfi_restore x19
	add sp, sp, #CB_RETURN_SIZE
	.cfi_def_cfa_offset 1
	.cfi_escape 0x16, 31, 0x02, 0x8f, 0x00
	ret x17
	/* Not instrumented (no thread slot, stack full, inside a hook, or no
	 * post hook): everything back as it came, caller's x30 included. */
1:
	.cfi_restore_state
	ldr x17, [sp, #CB_FRAME_TARGET]
	RESTORE_ARGUMENTS
	ldr x30, [sp, #CB_FRAME_LR]
	add sp, sp, #CB_FRAME_SIZE
	.cfi_def_cfa_offset 0
	br x17
	.cfi_endproc
	.size pdi_cb_handler, .-pdi_cb_handler
/* What a skipped call runs instead of the real function (pdi_skip_int,
 * pdi_skip_double): the value the pre hook gave, from the entry in x19. */
	.globl pdi_cb_skip_int
	.hidden pdi_cb_skip_int
	.type pdi_cb_skip_int, @function
	.p2align 4
pdi_cb_skip_int:
	bti c
	ldr x0, [x19, #CB_ENTRY_SKIP_VALUE]
	ret
	.size pdi_cb_skip_int, .-pdi_cb_skip_int

	.globl pdi_cb_skip_double
	.hidden pdi_cb_skip_double
	.type pdi_cb_skip_double, @function
	.p2align 4
pdi_cb_skip_double:
	bti c
	ldr d0, [x19, #CB_ENTRY_SKIP_VALUE]
	ret
	.size pdi_cb_skip_double, .-pdi_cb_skip_double

	.globl pdi_cb_handlers_end
	.hidden pdi_cb_handlers_end
pdi_cb_handlers_end:

/* void pdi_cb_run_hook(pdi_cb_call_t *call, void (*hook)(pdi_cb_call_t *)):
 * runs a hook with the floating-point environment kept as it was, as errno
 * is: FPCR (rounding, flush-to-zero, trap enables) and FPSR (cumulative
 * exception flags), written back only when they differ. A program that
 * enabled traps (feenableexcept, on a core that has them) would have the
 * hook's own floating-point work trap inside pdi: the hook then runs with
 * FPCR's trap enables (IOE DZE OFE UFE IXE, bits 8-12, and IDE, bit 15)
 * clear, and the comparison after it puts the program's FPCR back. Outside
 * the handlers' range: a call returning here is a hook's. */
	.globl pdi_cb_run_hook
	.hidden pdi_cb_run_hook
	.type pdi_cb_run_hook, @function
	.p2align 4
pdi_cb_run_hook:
	.cfi_startproc
	bti c
	stp x29, x30, [sp, #-32]!
	.cfi_def_cfa_offset 32
	.cfi_offset x29, -32
	.cfi_offset x30, -24
	mov x29, sp
	mrs x2, fpcr
	mrs x3, fpsr
	stp x2, x3, [sp, #16]
	mov x5, #0x9f00
	tst x2, x5
	b.eq 3f
	bic x4, x2, x5
	msr fpcr, x4
3:
	blr x1
	ldp x2, x3, [sp, #16]
	mrs x4, fpcr
	cmp x4, x2
	b.eq 1f
	msr fpcr, x2
1:
	mrs x4, fpsr
	cmp x4, x3
	b.eq 2f
	msr fpsr, x3
2:
	ldp x29, x30, [sp], #32
	.cfi_restore x29
	.cfi_restore x30
	.cfi_def_cfa_offset 0
	ret
	.cfi_endproc
	.size pdi_cb_run_hook, .-pdi_cb_run_hook
#endif
	.section .note.GNU-stack, "", %progbits
