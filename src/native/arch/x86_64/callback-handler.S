/*
 * The x86-64 generic callback handler.
 *
 * A stub jumps here with the site index in r11d and the caller's return
 * address on top of the stack. The handler saves every argument register
 * (rdi rsi rdx rcx r8 r9, rax for the variadic vector count, r10, and the
 * vector registers 0-7 whole: ymm or zmm when their upper halves are live,
 * since hooks may run AVX code whose vzeroupper would clear them), runs the C pre
 * path, restores them exactly, then drops the return address (kept on the
 * thread's callback stack) and calls the real function: the callee sees the
 * caller's stack pointer and stack arguments exactly as the caller left
 * them. On return it saves rax, rdx, vector registers 0 and 1 whole and the x87 state, runs the
 * C post path, restores them and jumps back to the caller.
 *
 * While the real function runs, rbx points at the call's callback stack
 * entry: word 0 is the caller's return address, word 1 the caller's rbx.
 * The CFI below says so, so debuggers, backtrace() and C++ exceptions walk
 * through this frame.
 */
#if defined(__x86_64__)

#include "callback-frame.h"

	.text

/* The handlers' code lies between these two labels: a return address in
 * it belongs to a function the handler called (callback.c, tail calls). */
	.globl pdi_cb_handlers_begin
	.hidden pdi_cb_handlers_begin
pdi_cb_handlers_begin:

.macro STORE8 move, reg
	\move %\reg\()0, CB_FRAME_VECTORS+0*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()1, CB_FRAME_VECTORS+1*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()2, CB_FRAME_VECTORS+2*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()3, CB_FRAME_VECTORS+3*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()4, CB_FRAME_VECTORS+4*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()5, CB_FRAME_VECTORS+5*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()6, CB_FRAME_VECTORS+6*CB_FRAME_VECTOR_STRIDE(%rsp)
	\move %\reg\()7, CB_FRAME_VECTORS+7*CB_FRAME_VECTOR_STRIDE(%rsp)
.endm

.macro LOAD8 move, reg
	\move CB_FRAME_VECTORS+0*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()0
	\move CB_FRAME_VECTORS+1*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()1
	\move CB_FRAME_VECTORS+2*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()2
	\move CB_FRAME_VECTORS+3*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()3
	\move CB_FRAME_VECTORS+4*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()4
	\move CB_FRAME_VECTORS+5*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()5
	\move CB_FRAME_VECTORS+6*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()6
	\move CB_FRAME_VECTORS+7*CB_FRAME_VECTOR_STRIDE(%rsp), %\reg\()7
.endm

/* Which widths of the argument registers 0-7 hold anything, as CB_SAVED_*
 * bits in \flags(%rsp), found by value (vextract, vptest) rather than
 * with XGETBV(1), which costs about 15 ns on some machines: upper halves
 * that hold zeros lose nothing to a hook's vzeroupper. xmm8 and xmm9 carry
 * no argument; ecx is free (saved before). zmm16-31 and the opmask
 * registers carry no argument and no result and a call may clobber them
 * (glibc's EVEX string functions keep them in use): never saved. */
.macro ARG_WIDTHS flags, avx512
	xorl %ecx, %ecx
.ifc \avx512, yes
	vextractf64x4 $1, %zmm0, %ymm8
	vextractf64x4 $1, %zmm1, %ymm9
	vpor %ymm9, %ymm8, %ymm8
	vextractf64x4 $1, %zmm2, %ymm9
	vpor %ymm9, %ymm8, %ymm8
	vextractf64x4 $1, %zmm3, %ymm9
	vpor %ymm9, %ymm8, %ymm8
	vextractf64x4 $1, %zmm4, %ymm9
	vpor %ymm9, %ymm8, %ymm8
	vextractf64x4 $1, %zmm5, %ymm9
	vpor %ymm9, %ymm8, %ymm8
	vextractf64x4 $1, %zmm6, %ymm9
	vpor %ymm9, %ymm8, %ymm8
	vextractf64x4 $1, %zmm7, %ymm9
	vpor %ymm9, %ymm8, %ymm8
	vptest %ymm8, %ymm8
	jz 10f
	orl $CB_SAVED_ZMM, %ecx
10:
.endif
	vextractf128 $1, %ymm0, %xmm8
	vextractf128 $1, %ymm1, %xmm9
	vpor %xmm9, %xmm8, %xmm8
	vextractf128 $1, %ymm2, %xmm9
	vpor %xmm9, %xmm8, %xmm8
	vextractf128 $1, %ymm3, %xmm9
	vpor %xmm9, %xmm8, %xmm8
	vextractf128 $1, %ymm4, %xmm9
	vpor %xmm9, %xmm8, %xmm8
	vextractf128 $1, %ymm5, %xmm9
	vpor %xmm9, %xmm8, %xmm8
	vextractf128 $1, %ymm6, %xmm9
	vpor %xmm9, %xmm8, %xmm8
	vextractf128 $1, %ymm7, %xmm9
	vpor %xmm9, %xmm8, %xmm8
	vptest %xmm8, %xmm8
	jz 11f
	orl $CB_SAVED_YMM, %ecx
11:
	movq %rcx, \flags(%rsp)
.endm

/* The same for the result registers 0 and 1; xmm2 and xmm3 are free after
 * a return; a vzeroupper then leaves the upper state clean for the C code. */
.macro RESULT_WIDTHS flags, avx512
	xorl %ecx, %ecx
.ifc \avx512, yes
	vextractf64x4 $1, %zmm0, %ymm2
	vextractf64x4 $1, %zmm1, %ymm3
	vpor %ymm3, %ymm2, %ymm2
	vptest %ymm2, %ymm2
	jz 23f
	orl $CB_SAVED_ZMM, %ecx
23:
.endif
	vextractf128 $1, %ymm0, %xmm2
	vextractf128 $1, %ymm1, %xmm3
	vpor %xmm3, %xmm2, %xmm2
	vptest %xmm2, %xmm2
	jz 24f
	orl $CB_SAVED_YMM, %ecx
24:
	movq %rcx, \flags(%rsp)
.endm

/* sse: xmm only. avx_live: ymm only when their upper halves hold something; otherwise
 * xmm, and the upper state is never made dirty, which would slow every
 * later SSE instruction of the program. avx512_live: the same, and zmm
 * whole when their upper halves hold something (an __m512 argument). */
.macro SAVE_VECTORS variant
.ifc \variant, sse
	STORE8 movdqu, xmm
.endif
.ifc \variant, avx_live
	ARG_WIDTHS CB_FRAME_UPPER, no
	testl $CB_SAVED_YMM, %ecx
	jnz 5f
	vzeroupper
	STORE8 movdqu, xmm
	jmp 6f
5:
	STORE8 vmovdqu, ymm
	vzeroupper
6:
.endif
.ifc \variant, avx512_live
	ARG_WIDTHS CB_FRAME_UPPER, yes
	testl $CB_SAVED_ZMM, %ecx
	jnz 14f
	testl $CB_SAVED_YMM, %ecx
	jnz 5f
	vzeroupper
	STORE8 movdqu, xmm
	jmp 6f
5:
	STORE8 vmovdqu, ymm
	vzeroupper
	jmp 6f
14:
	STORE8 vmovdqu64, zmm
	vzeroupper
6:
.endif
.endm

.macro RESTORE_VECTORS variant
.ifc \variant, sse
	LOAD8 movdqu, xmm
.endif
.ifc \variant, avx_live
	testq $CB_SAVED_YMM, CB_FRAME_UPPER(%rsp)
	jnz 7f
	LOAD8 movdqu, xmm
	jmp 8f
7:
	LOAD8 vmovdqu, ymm
8:
.endif
.ifc \variant, avx512_live
	testq $CB_SAVED_ZMM, CB_FRAME_UPPER(%rsp)
	jnz 16f
	testq $CB_SAVED_YMM, CB_FRAME_UPPER(%rsp)
	jnz 7f
	LOAD8 movdqu, xmm
	jmp 8f
7:
	LOAD8 vmovdqu, ymm
	jmp 8f
16:
	LOAD8 vmovdqu64, zmm
8:
.endif
.endm

/* The result registers xmm0 and xmm1 (a vector result's whole width, as
 * for the arguments) around the post path. */
.macro SAVE_RESULTS variant
.ifc \variant, sse
	movdqu %xmm0, CB_RETURN_XMM0(%rsp)
	movdqu %xmm1, CB_RETURN_XMM1(%rsp)
.endif
.ifc \variant, avx_live
	RESULT_WIDTHS CB_RETURN_UPPER, no
	SAVE_RESULT_WIDTHS
.endif
.ifc \variant, avx512_live
	RESULT_WIDTHS CB_RETURN_UPPER, yes
	SAVE_RESULT_WIDTHS
.endif
.endm

.macro SAVE_RESULT_WIDTHS
	testl $CB_SAVED_ZMM, %ecx
	jnz 18f
	testl $CB_SAVED_YMM, %ecx
	jnz 17f
	vzeroupper
	movdqu %xmm0, CB_RETURN_XMM0(%rsp)
	movdqu %xmm1, CB_RETURN_XMM1(%rsp)
	jmp 19f
17:
	vmovdqu %ymm0, CB_RETURN_XMM0(%rsp)
	vmovdqu %ymm1, CB_RETURN_XMM1(%rsp)
	vzeroupper
	jmp 19f
18:
	vmovdqu64 %zmm0, CB_RETURN_XMM0(%rsp)
	vmovdqu64 %zmm1, CB_RETURN_XMM1(%rsp)
	vzeroupper
19:
.endm

.macro RESTORE_RESULTS variant
.ifc \variant, sse
	movdqu CB_RETURN_XMM1(%rsp), %xmm1
	movdqu CB_RETURN_XMM0(%rsp), %xmm0
.endif
.ifc \variant, avx_live
	RESTORE_RESULT_WIDTHS
.endif
.ifc \variant, avx512_live
	RESTORE_RESULT_WIDTHS
.endif
.endm

.macro RESTORE_RESULT_WIDTHS
	testq $CB_SAVED_ZMM, CB_RETURN_UPPER(%rsp)
	jnz 21f
	testq $CB_SAVED_YMM, CB_RETURN_UPPER(%rsp)
	jnz 20f
	movdqu CB_RETURN_XMM1(%rsp), %xmm1
	movdqu CB_RETURN_XMM0(%rsp), %xmm0
	jmp 22f
20:
	vmovdqu CB_RETURN_XMM1(%rsp), %ymm1
	vmovdqu CB_RETURN_XMM0(%rsp), %ymm0
	jmp 22f
21:
	vmovdqu64 CB_RETURN_XMM1(%rsp), %zmm1
	vmovdqu64 CB_RETURN_XMM0(%rsp), %zmm0
22:
.endm

/* The integer argument registers back from the frame. */
.macro RESTORE_ARGUMENTS
	movq 0(%rsp), %rdi
	movq 8(%rsp), %rsi
	movq 16(%rsp), %rdx
	movq 24(%rsp), %rcx
	movq 32(%rsp), %r8
	movq 40(%rsp), %r9
	movq CB_FRAME_RAX(%rsp), %rax
	movq CB_FRAME_R10(%rsp), %r10
.endm

.macro HANDLER name, variant
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
	SAVE_VECTORS \variant
	movq %rsp, %rdi
	call pdi_cb_pre
	RESTORE_VECTORS \variant
	movq CB_FRAME_TARGET(%rsp), %r11
	testq %rax, %rax
	.cfi_remember_state
	jz 1f
	/* Instrumented: rbx keeps the entry for the post path and the CFI. */
	movq %rbx, 8(%rax)
	movq %rax, %rbx
	RESTORE_ARGUMENTS
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
	SAVE_RESULTS \variant
	/* The x87 stack holds a long double result (TOP 7) or a complex one
	 * (TOP 6); it must be empty while C code runs, so those are popped here
	 * and pushed back below. fnsave would do the same at ten times the cost. */
	fnstsw %ax
	shrl $11, %eax
	andl $7, %eax
	movl %eax, CB_RETURN_X87_TOP(%rsp)
	jz 2f
	fstpt CB_RETURN_X87(%rsp)
	cmpl $7, %eax
	je 2f
	fstpt CB_RETURN_X87+16(%rsp)
2:
	movq %rbx, %rdi
	movq %rsp, %rsi
	call pdi_cb_post
	movq %rax, %r11
	movl CB_RETURN_X87_TOP(%rsp), %eax
	testl %eax, %eax
	jz 3f
	cmpl $7, %eax
	je 4f
	fldt CB_RETURN_X87+16(%rsp)
4:
	fldt CB_RETURN_X87(%rsp)
3:
	RESTORE_RESULTS \variant
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
	RESTORE_ARGUMENTS
	addq $CB_FRAME_SIZE, %rsp
	.cfi_adjust_cfa_offset -CB_FRAME_SIZE
	jmp *%r11
	.cfi_endproc
	.size \name, .-\name
.endm

	HANDLER pdi_cb_handler_sse, sse
	HANDLER pdi_cb_handler_avx_live, avx_live
	HANDLER pdi_cb_handler_avx512_live, avx512_live

/* What a skipped call runs instead of the real function (pdi_skip_int,
 * pdi_skip_double): the value the pre hook gave, from the entry in rbx. */
	.globl pdi_cb_skip_int
	.hidden pdi_cb_skip_int
	.type pdi_cb_skip_int, @function
	.p2align 4
pdi_cb_skip_int:
	endbr64
	movq CB_ENTRY_SKIP_VALUE(%rbx), %rax
	ret
	.size pdi_cb_skip_int, .-pdi_cb_skip_int

	.globl pdi_cb_skip_double
	.hidden pdi_cb_skip_double
	.type pdi_cb_skip_double, @function
	.p2align 4
pdi_cb_skip_double:
	endbr64
	movq CB_ENTRY_SKIP_VALUE(%rbx), %xmm0
	ret
	.size pdi_cb_skip_double, .-pdi_cb_skip_double

	.globl pdi_cb_handlers_end
	.hidden pdi_cb_handlers_end
pdi_cb_handlers_end:
#endif
	.section .note.GNU-stack, "", %progbits
