/*
 * The x86-64 generic callback handler.
 *
 * A stub jumps here with the site index in r11d and the caller's return
 * address on top of the stack. The handler saves every argument register
 * (rdi rsi rdx rcx r8 r9, rax for the variadic vector count, r10, and the
 * vector registers 0-7 whole: ymm when the CPU has AVX, since hooks may run
 * AVX code whose vzeroupper would clear their upper halves), runs the C pre
 * path, restores them exactly, then drops the return address (kept on the
 * thread's callback stack) and calls the real function: the callee sees the
 * caller's stack pointer and stack arguments exactly as the caller left
 * them. On return it saves rax, rdx, xmm0, xmm1 and the x87 state, runs the
 * C post path, restores them and jumps back to the caller.
 *
 * While the real function runs, rbx points at the call's callback stack
 * entry: word 0 is the caller's return address, word 1 the caller's rbx.
 * The CFI below says so, so debuggers, backtrace() and C++ exceptions walk
 * through this frame.
 */
#if defined(__x86_64__)

#include "frame.h"

	.text

.macro HANDLER name, move, reg
	.globl \name
	.hidden \name
	.type \name, @function
	.p2align 4
\name:
	.cfi_startproc
	endbr64
	subq $CB_FRAME_SIZE, %rsp
	.cfi_adjust_cfa_offset CB_FRAME_SIZE
	movq %rdi, 0(%rsp)
	movq %rsi, 8(%rsp)
	movq %rdx, 16(%rsp)
	movq %rcx, 24(%rsp)
	movq %r8, 32(%rsp)
	movq %r9, 40(%rsp)
	movq %rax, CB_FRAME_RAX(%rsp)
	movq %r10, CB_FRAME_R10(%rsp)
	movq %r11, CB_FRAME_SITE(%rsp)
	\move %\reg\()0, CB_FRAME_VECTORS+0*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()1, CB_FRAME_VECTORS+1*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()2, CB_FRAME_VECTORS+2*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()3, CB_FRAME_VECTORS+3*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()4, CB_FRAME_VECTORS+4*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()5, CB_FRAME_VECTORS+5*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()6, CB_FRAME_VECTORS+6*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()7, CB_FRAME_VECTORS+7*CB_FRAME_VECTOR_STRIDE(%rsp)
	movq %rsp, %rdi
	call pdi_cb_pre
	\move CB_FRAME_VECTORS+0*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()0
	\move CB_FRAME_VECTORS+1*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()1
	\move CB_FRAME_VECTORS+2*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()2
	\move CB_FRAME_VECTORS+3*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()3
	\move CB_FRAME_VECTORS+4*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()4
	\move CB_FRAME_VECTORS+5*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()5
	\move CB_FRAME_VECTORS+6*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()6
	\move CB_FRAME_VECTORS+7*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()7
	movq CB_FRAME_TARGET(%rsp), %r11
	testq %rax, %rax
	.cfi_remember_state
	jz 1f
	/* Instrumented: rbx keeps the entry for the post path and the CFI. */
	movq %rbx, 8(%rax)
	movq %rax, %rbx
	movq 0(%rsp), %rdi
	movq 8(%rsp), %rsi
	movq 16(%rsp), %rdx
	movq 24(%rsp), %rcx
	movq 32(%rsp), %r8
	movq 40(%rsp), %r9
	movq CB_FRAME_RAX(%rsp), %rax
	movq CB_FRAME_R10(%rsp), %r10
	addq $CB_FRAME_SIZE+8, %rsp
	/* return address: *(rbx + 0); caller's rbx: *(rbx + 8); caller's rsp:
	 * ours. The frame takes no stack, so its CFA would equal the callee's;
	 * unwinders tell frames apart by CFA, hence one that no real frame can
	 * have (rsp + 1: real CFAs are 8-aligned and above the callee's) and the
	 * caller's rsp given explicitly. */
	.cfi_def_cfa_offset 1
	.cfi_escape 0x10, 0x10, 0x02, 0x73, 0x00
	.cfi_escape 0x10, 0x03, 0x02, 0x73, 0x08
	.cfi_escape 0x16, 0x07, 0x02, 0x77, 0x00
	call *%r11
	subq $CB_RETURN_SIZE, %rsp
	.cfi_def_cfa_offset 1+CB_RETURN_SIZE
	.cfi_escape 0x16, 0x07, 0x03, 0x77, (CB_RETURN_SIZE & 0x7f) | 0x80, CB_RETURN_SIZE >> 7
	movq %rax, CB_RETURN_RAX(%rsp)
	movq %rdx, CB_RETURN_RDX(%rsp)
	movdqu %xmm0, CB_RETURN_XMM0(%rsp)
	movdqu %xmm1, CB_RETURN_XMM1(%rsp)
	fnsave CB_RETURN_X87(%rsp)
	movq %rbx, %rdi
	movq %rsp, %rsi
	call pdi_cb_post
	movq %rax, %r11
	frstor CB_RETURN_X87(%rsp)
	movdqu CB_RETURN_XMM1(%rsp), %xmm1
	movdqu CB_RETURN_XMM0(%rsp), %xmm0
	movq CB_RETURN_RDX(%rsp), %rdx
	movq CB_RETURN_RAX(%rsp), %rax
	addq $CB_RETURN_SIZE, %rsp
	.cfi_def_cfa_offset 1
	.cfi_escape 0x16, 0x07, 0x02, 0x77, 0x00
	.cfi_register %rip, %r11
	movq 8(%rbx), %rbx
	.cfi_restore %rbx
	jmp *%r11
	/* Not instrumented (no thread slot, stack full, or called from a hook):
	 * restore everything and go to the real function with the caller's
	 * return address still in place. */
1:
	.cfi_restore_state
	movq 0(%rsp), %rdi
	movq 8(%rsp), %rsi
	movq 16(%rsp), %rdx
	movq 24(%rsp), %rcx
	movq 32(%rsp), %r8
	movq 40(%rsp), %r9
	movq CB_FRAME_RAX(%rsp), %rax
	movq CB_FRAME_R10(%rsp), %r10
	addq $CB_FRAME_SIZE, %rsp
	.cfi_adjust_cfa_offset -CB_FRAME_SIZE
	jmp *%r11
	.cfi_endproc
	.size \name, .-\name
.endm

	HANDLER pdi_cb_handler_sse, movdqu, xmm
	HANDLER pdi_cb_handler_avx, vmovdqu, ymm

	.section .note.GNU-stack, "", @progbits
#endif
