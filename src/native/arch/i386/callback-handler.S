/*
 * The i386 generic callback handler.
 *
 * A stub pushes the site index and jumps here: the caller's return address
 * is just above it, and above that the caller's stack arguments (cdecl).
 * The handler saves eax, ecx and edx (regparm and fastcall arguments), runs
 * the C pre path, restores them, drops the index and the return address
 * (kept on the thread's callback stack) and calls the real function through
 * the entry, so the callee sees the caller's stack exactly. A function that
 * returns a struct through a hidden pointer pops that pointer itself
 * (`ret $4`); the post path works from whatever esp it gets back. On return
 * it saves eax, edx and the x87 result registers (st0, st1), runs the C post
 * path, restores them and jumps back to the caller.
 *
 * While the real function runs, ebx points at the entry: word 0 is the
 * caller's return address, word 1 the caller's ebx; the CFI says so, with a
 * CFA no real frame can have and the caller's esp given explicitly.
 */
#if defined(__i386__)

#include "callback-frame.h"

	.text

/* The handlers' code lies between these two labels: a return address in
 * it belongs to a function the handler called (callback.c, tail calls). */
	.globl pdi_cb_handlers_begin
	.hidden pdi_cb_handlers_begin
pdi_cb_handlers_begin:

/* eax, ecx and edx back from the frame, on both ways to the real function. */
.macro RESTORE_ARGUMENTS
	movl CB_FRAME_EAX(%esp), %eax
	movl CB_FRAME_ECX(%esp), %ecx
	movl CB_FRAME_EDX(%esp), %edx
.endm

	.globl pdi_cb_handler
	.hidden pdi_cb_handler
	.type pdi_cb_handler, @function
	.p2align 4
pdi_cb_handler:
	.cfi_startproc
	.cfi_def_cfa_offset 8
	subl $CB_FRAME_SIZE, %esp
	.cfi_adjust_cfa_offset CB_FRAME_SIZE
	movl %eax, CB_FRAME_EAX(%esp)
	movl %ecx, CB_FRAME_ECX(%esp)
	movl %edx, CB_FRAME_EDX(%esp)
	movl %esp, CB_FRAME_ARG0(%esp)
	call pdi_cb_pre
	testl %eax, %eax
	.cfi_remember_state
	jz 1f
	movl %ebx, 4(%eax)
	movl %eax, %ebx
	RESTORE_ARGUMENTS
	addl $CB_FRAME_SIZE+8, %esp
	/* return address: *(ebx + 0); caller's ebx: *(ebx + 4); caller's esp: ours */
	.cfi_def_cfa_offset 1
	.cfi_escape 0x10, 0x08, 0x02, 0x73, 0x00
	.cfi_escape 0x10, 0x03, 0x02, 0x73, 0x04
	.cfi_escape 0x16, 0x04, 0x02, 0x74, 0x00
	call *8(%ebx)
	subl $CB_RETURN_SIZE, %esp
	.cfi_def_cfa_offset 1+CB_RETURN_SIZE
	.cfi_escape 0x16, 0x04, 0x02, 0x74, CB_RETURN_SIZE
	movl %eax, CB_RETURN_AREA+CB_RETURN_RAX(%esp)
	movl %edx, CB_RETURN_AREA+CB_RETURN_EDX(%esp)
	fnstsw %ax
	shrl $11, %eax
	andl $7, %eax
	movl %eax, CB_RETURN_AREA+CB_RETURN_X87_TOP(%esp)
	jz 2f
	fstpt CB_RETURN_AREA+CB_RETURN_X87(%esp)
	cmpl $7, %eax
	je 2f
	fstpt CB_RETURN_AREA+CB_RETURN_X87+12(%esp)
2:
	movl %ebx, 0(%esp)
	leal CB_RETURN_AREA(%esp), %eax
	movl %eax, 4(%esp)
	call pdi_cb_post
	movl %eax, %ecx
	movl CB_RETURN_AREA+CB_RETURN_X87_TOP(%esp), %eax
	testl %eax, %eax
	jz 3f
	cmpl $7, %eax
	je 4f
	fldt CB_RETURN_AREA+CB_RETURN_X87+12(%esp)
4:
	fldt CB_RETURN_AREA+CB_RETURN_X87(%esp)
3:
	movl CB_RETURN_AREA+CB_RETURN_EDX(%esp), %edx
	movl CB_RETURN_AREA+CB_RETURN_RAX(%esp), %eax
	addl $CB_RETURN_SIZE, %esp
	.cfi_def_cfa_offset 1
	.cfi_escape 0x16, 0x04, 0x02, 0x74, 0x00
	.cfi_register %eip, %ecx
	movl 4(%ebx), %ebx
	.cfi_restore %ebx
	/* A return, not a jump: the caller's call made a return stack buffer
	 * entry that only a ret consumes. */
	pushl %ecx
	.cfi_def_cfa %esp, 4
	.cfi_restore %esp
	.cfi_offset %eip, -4
	ret
	/* Not instrumented: the target goes where the index was, and `ret`
	 * jumps to it with the caller's return address back on top. */
1:
	.cfi_restore_state
	movl CB_FRAME_TARGET(%esp), %eax
	movl %eax, CB_FRAME_SITE(%esp)
	RESTORE_ARGUMENTS
	addl $CB_FRAME_SIZE, %esp
	.cfi_adjust_cfa_offset -CB_FRAME_SIZE
	ret
	.cfi_endproc
	.size pdi_cb_handler, .-pdi_cb_handler
/* What a skipped call runs instead of the real function (pdi_skip_int,
 * pdi_skip_double): the value the pre hook gave, from the entry in ebx
 * (an integer in eax, its high word in edx; a double on the x87 stack). */
	.globl pdi_cb_skip_int
	.hidden pdi_cb_skip_int
	.type pdi_cb_skip_int, @function
	.p2align 4
pdi_cb_skip_int:
	movl CB_ENTRY_SKIP_VALUE(%ebx), %eax
	movl CB_ENTRY_SKIP_VALUE+4(%ebx), %edx
	ret
	.size pdi_cb_skip_int, .-pdi_cb_skip_int

	.globl pdi_cb_skip_double
	.hidden pdi_cb_skip_double
	.type pdi_cb_skip_double, @function
	.p2align 4
pdi_cb_skip_double:
	fldl CB_ENTRY_SKIP_VALUE(%ebx)
	ret
	.size pdi_cb_skip_double, .-pdi_cb_skip_double

/* A site with neither hook (pdi_arch_pass_word): the stub pushed the site
 * index just below the caller's return address; the site's real function
 * takes its place and `ret` jumps there with every register and the stack
 * as the caller made them. */
	.globl pdi_cb_pass
	.hidden pdi_cb_pass
	.type pdi_cb_pass, @function
	.p2align 4
pdi_cb_pass:
	.cfi_startproc
	.cfi_def_cfa_offset 8
	pushl %eax
	.cfi_adjust_cfa_offset 4
	pushl %ecx
	.cfi_adjust_cfa_offset 4
	call 1f
1:
	popl %ecx
	addl $_GLOBAL_OFFSET_TABLE_+(.-1b), %ecx
	movl pdi_cb_sites@GOTOFF(%ecx), %ecx
	movl 8(%esp), %eax
	imull $CB_SITE_SIZE, %eax, %eax
	movl (%ecx,%eax), %eax
	movl %eax, 8(%esp)
	popl %ecx
	.cfi_adjust_cfa_offset -4
	popl %eax
	.cfi_adjust_cfa_offset -4
	ret
	.cfi_endproc
	.size pdi_cb_pass, .-pdi_cb_pass

	.globl pdi_cb_handlers_end
	.hidden pdi_cb_handlers_end
pdi_cb_handlers_end:
#endif
	.section .note.GNU-stack, "", %progbits
