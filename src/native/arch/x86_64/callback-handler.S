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

/* The result registers 0 and 1, the same way. */
.macro STORE2 move, reg
	\move %\reg\()0, CB_RETURN_XMM0(%rsp)
	\move %\reg\()1, CB_RETURN_XMM1(%rsp)
.endm

.macro LOAD2 move, reg
	\move CB_RETURN_XMM1(%rsp), %\reg\()1
	\move CB_RETURN_XMM0(%rsp), %\reg\()0
.endm

/* Which widths of the vector registers \first and \rest hold anything, as
 * CB_SAVED_* bits in ecx and in \flags(%rsp), found by value (vextract,
 * vptest) rather than with XGETBV(1), which costs about 15 ns on some
 * machines: upper halves that hold zeros lose nothing to a hook's
 * vzeroupper. \acc and \tmp are vector registers that carry no argument
 * (8 and 9 before the call, 2 and 3 after it); ecx is free (saved before).
 * zmm16-31 and the opmask registers carry no argument and no result and a
 * call may clobber them (glibc's EVEX string functions keep them in use):
 * never saved. */
.macro UPPER_WIDTHS flags, avx512, acc, tmp, first, rest:vararg
	xorl %ecx, %ecx
.ifc \avx512, yes
	vextractf64x4 $1, %zmm\first, %ymm\acc
	.irp r, \rest
	vextractf64x4 $1, %zmm\r, %ymm\tmp
	vpor %ymm\tmp, %ymm\acc, %ymm\acc
	.endr
	vptest %ymm\acc, %ymm\acc
	jz 34f
	orl $CB_SAVED_ZMM, %ecx
34:
.endif
	vextractf128 $1, %ymm\first, %xmm\acc
	.irp r, \rest
	vextractf128 $1, %ymm\r, %xmm\tmp
	vpor %xmm\tmp, %xmm\acc, %xmm\acc
	.endr
	vptest %xmm\acc, %xmm\acc
	jz 35f
	orl $CB_SAVED_YMM, %ecx
35:
	movq %rcx, \flags(%rsp)
.endm

/* `\op \arg, MOVE, REG` in the width the CB_SAVED_* bits of \flags name:
 * xmm, ymm, or zmm (with AVX-512 only). */
.macro BY_WIDTH flags, avx512, op, arg
.ifc \avx512, yes
	testq $CB_SAVED_ZMM, \flags
	jnz 32f
.endif
	testq $CB_SAVED_YMM, \flags
	jnz 31f
	\op \arg, movdqu, xmm
	jmp 33f
31:
	\op \arg, vmovdqu, ymm
.ifc \avx512, yes
	jmp 33f
32:
	\op \arg, vmovdqu64, zmm
.endif
33:
.endm

/* A save that leaves the upper state clean for the C code that follows: the
 * vzeroupper comes before a legacy-SSE xmm save (the state is clean when it
 * runs) and after a VEX one (which needs the upper halves first). */
.macro CLEAN_SAVE store, move, reg
.ifc \reg, xmm
	vzeroupper
.endif
	\store \move, \reg
.ifnc \reg, xmm
	vzeroupper
.endif
.endm

.macro PLAIN op, move, reg
	\op \move, \reg
.endm

/* sse: xmm only. live: ymm or zmm (with AVX-512) only when their upper
 * halves hold something; otherwise xmm, and the upper state is never made
 * dirty, which would slow every later SSE instruction of the program. */
.macro SAVE_VECTORS vectors, avx512
.ifc \vectors, sse
	STORE8 movdqu, xmm
.else
	UPPER_WIDTHS CB_FRAME_UPPER, \avx512, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7
	BY_WIDTH %rcx, \avx512, CLEAN_SAVE, STORE8
.endif
.endm

.macro RESTORE_VECTORS vectors, avx512
.ifc \vectors, sse
	LOAD8 movdqu, xmm
.else
	BY_WIDTH CB_FRAME_UPPER(%rsp), \avx512, PLAIN, LOAD8
.endif
.endm

/* The result registers 0 and 1 (a vector result's whole width, as for the
 * arguments) around the post path. */
.macro SAVE_RESULTS vectors, avx512
.ifc \vectors, sse
	STORE2 movdqu, xmm
.else
	UPPER_WIDTHS CB_RETURN_UPPER, \avx512, 2, 3, 0, 1
	BY_WIDTH %rcx, \avx512, CLEAN_SAVE, STORE2
.endif
.endm

.macro RESTORE_RESULTS vectors, avx512
.ifc \vectors, sse
	LOAD2 movdqu, xmm
.else
	BY_WIDTH CB_RETURN_UPPER(%rsp), \avx512, PLAIN, LOAD2
.endif
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

.macro HANDLER name, vectors, avx512
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
	SAVE_VECTORS \vectors, \avx512
	movq %rsp, %rdi
	call pdi_cb_pre
	RESTORE_VECTORS \vectors, \avx512
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
	SAVE_RESULTS \vectors, \avx512
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
	RESTORE_RESULTS \vectors, \avx512
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

	HANDLER pdi_cb_handler_sse, sse, no
	HANDLER pdi_cb_handler_avx_live, live, no
	HANDLER pdi_cb_handler_avx512_live, live, yes

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
