/*
 * The aarch64 generic callback handler.
 *
 * A stub branches here through x17 with the site index in x16 (the two
 * intra-procedure-call registers: no argument travels in them, and BTI
 * allows `br` through them into a `bti c` landing pad). The handler saves
 * x0-x8 (x8: indirect result) and q0-q7 whole, runs the C pre path,
 * restores them, and calls the real function with sp exactly as the caller
 * left it (stack arguments start at sp on aarch64). On return it saves x0,
 * x1 and q0-q3 (HFA results), runs the C post path and returns to the
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
	mov x0, sp
	bl pdi_cb_pre
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
	mov x0, x19
	mov x1, sp
	bl pdi_cb_post
	mov x17, x0
	ldp q0, q1, [sp, #16]
	ldp q2, q3, [sp, #48]
	ldp x0, x1, [sp, #0]
	add sp, sp, #CB_RETURN_SIZE
	.cfi_def_cfa_offset 1
	.cfi_escape 0x16, 31, 0x02, 0x8f, 0x00
	.cfi_register x30, x17
	ldr x19, [x19, #8]
	.cfi_restore x19
	ret x17
	/* Not instrumented: everything back as it came, caller's x30 included. */
1:
	.cfi_restore_state
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
#endif
	.section .note.GNU-stack, "", %progbits
