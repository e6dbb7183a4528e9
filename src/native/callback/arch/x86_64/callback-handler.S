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
 * C post path, restores them and returns to the caller.
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
 * CB_SAVED_* bits in ecx and in \flags(%rsp), found by value (the registers
 * or-ed together, then tested) rather than with XGETBV(1), which costs
 * about 15 ns on some machines: upper halves that hold zeros lose nothing to
 * a hook's vzeroupper. The 256-bit or makes the upper state dirty; the save
 * that follows cleans it (CLEAN_SAVE). \acc and \tmp are vector registers
 * that carry no argument (8 and 9 before the call, 2 and 3 after it); ecx
 * is free (saved before). zmm16-31 and the opmask registers carry no
 * argument and no result and a call may clobber them (glibc's EVEX string
 * functions keep them in use): never saved. */
.macro UPPER_WIDTHS flags, avx512, acc, tmp, first, rest:vararg
	xorl %ecx, %ecx
.ifc \avx512, yes
	vmovdqa64 %zmm\first, %zmm\acc
	.irp r, \rest
	vpord %zmm\r, %zmm\acc, %zmm\acc
	.endr
	vextractf64x4 $1, %zmm\acc, %ymm\tmp
	vptest %ymm\tmp, %ymm\tmp
	jz 34f
	orl $CB_SAVED_ZMM, %ecx
34:
.else
	vmovaps %ymm\first, %ymm\acc
	.irp r, \rest
	vorps %ymm\r, %ymm\acc, %ymm\acc
	.endr
.endif
	vptest upper_halves(%rip), %ymm\acc
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

/* The common pre path of callback.c's pdi_cb_pre, for a thread that has
 * its slot, is not inside a hook, has room on its callback stack and left
 * no frame behind: the site's real function goes to the frame, the call's
 * entry is filled, the pre hook runs with errno kept (a skipped call keeps
 * the hook's), and then: no post hook and no skip, the entry is popped and
 * the code goes to \pass (the call goes to the real function without coming
 * back); otherwise the entry stays pushed and goes to \join in rax. Anything else goes to \slow, the C path, before
 * anything but the frame's target word is written. */
.macro FAST_PRE slow, pass, join
	movl %r11d, %eax
	imulq $CB_SITE_SIZE, %rax, %rax
	addq pdi_cb_sites(%rip), %rax
	movq CB_SITE_TARGET(%rax), %rcx
	movq %rcx, CB_FRAME_TARGET(%rsp)
	movq pdi_cb_current@gottpoff(%rip), %rdx
	movq %fs:(%rdx), %rdx
	testq %rdx, %rdx
	jz \slow
	/* Inside a hook, or left in one by a signal handler's siglongjmp: C tells. */
	cmpl $0, CB_THREAD_IN_HOOK(%rdx)
	jne \slow
	movl CB_THREAD_DEPTH(%rdx), %esi
	cmpl CB_THREAD_CAPACITY(%rdx), %esi
	je \slow
	imulq $CB_ENTRY_SIZE, %rsi, %rdi
	addq CB_THREAD_ENTRIES(%rdx), %rdi
	leaq CB_FRAME_SIZE(%rsp), %r8
	movq (%r8), %r9
	/* The open frame on top: one above this call nests it; one at the same
	 * stack pointer does only for a tail call, which returns into the
	 * handlers; the C path abandons the others. */
	testl %esi, %esi
	jz 41f
	cmpq %r8, CB_ENTRY_STACK_POINTER-CB_ENTRY_SIZE(%rdi)
	ja 41f
	jb \slow
	leaq pdi_cb_handlers_begin(%rip), %r10
	cmpq %r10, %r9
	jb \slow
	leaq pdi_cb_handlers_end(%rip), %r10
	cmpq %r10, %r9
	jae \slow
	/* From here to the end the thread counts as inside pdi, as in a hook: a
	 * signal handler's instrumented call goes straight to its function
	 * instead of taking the entry being built. */
41:
	movq %r8, CB_THREAD_ENTERED_AT(%rdx)
	movl $1, CB_THREAD_IN_HOOK(%rdx)
	movq %r9, CB_ENTRY_RETURN_ADDRESS(%rdi)
	movq %rcx, CB_ENTRY_TARGET(%rdi)
	movq %r8, CB_ENTRY_STACK_POINTER(%rdi)
	xorl %r9d, %r9d
	movq %r9, CB_ENTRY_RETURNS(%rdi)
	movl %r9d, CB_ENTRY_SKIPPED(%rdi)
	movq %r9, CB_ENTRY_USER(%rdi)
	movl %r9d, CB_ENTRY_ABANDONED(%rdi)
	movl CB_SITE_EVENT(%rax), %r9d
	movl %r9d, CB_ENTRY_EVENT(%rdi)
	leaq CB_SITE_SITE(%rax), %r9
	movq %r9, CB_ENTRY_SITE(%rdi)
	movl %esi, CB_ENTRY_DEPTH(%rdi)
	/* Pushed once complete: a signal handler's instrumented call nests above it. */
	incl CB_THREAD_DEPTH(%rdx)
	movq CB_SITE_PRE(%rax), %r10
	testq %r10, %r10
	jz 42f
	movq %rsp, CB_ENTRY_REGISTERS(%rdi)
	leaq CB_FRAME_VECTORS(%rsp), %r9
	movq %r9, CB_ENTRY_VECTORS(%rdi)
	movq %rax, CB_FRAME_FAST_SITE(%rsp)
	movq %rdx, CB_FRAME_FAST_THREAD(%rsp)
	movq %rdi, CB_FRAME_FAST_ENTRY(%rsp)
	movq CB_THREAD_ERROR(%rdx), %r9
	movl (%r9), %ecx
	movl %ecx, CB_FRAME_FAST_ERRNO(%rsp)
	addq $CB_ENTRY_CALL, %rdi
	movq %r10, %rsi
	call pdi_cb_run_hook
	movq CB_FRAME_FAST_THREAD(%rsp), %rdx
	movq CB_FRAME_FAST_ENTRY(%rsp), %rdi
	movq CB_FRAME_FAST_SITE(%rsp), %rax
	xorl %ecx, %ecx
	movq %rcx, CB_ENTRY_REGISTERS(%rdi)
	movq %rcx, CB_ENTRY_VECTORS(%rdi)
	movl CB_ENTRY_SKIPPED(%rdi), %ecx
	testl %ecx, %ecx
	jnz 44f
	movq CB_THREAD_ERROR(%rdx), %r9
	movl CB_FRAME_FAST_ERRNO(%rsp), %ecx
	movl %ecx, (%r9)
	jmp 43f
	/* No pre hook: no registers to show. */
42:
	movq $0, CB_ENTRY_REGISTERS(%rdi)
	movq $0, CB_ENTRY_VECTORS(%rdi)
43:
	cmpq $0, CB_SITE_POST(%rax)
	jne 45f
	/* No post hook: the call does not come back, and its entry is popped. */
	decl CB_THREAD_DEPTH(%rdx)
	movl $0, CB_THREAD_IN_HOOK(%rdx)
	jmp \pass
	/* Skipped: the skip stub stands in for the real function. */
44:
	leaq pdi_cb_skip_int(%rip), %r9
	cmpl $2, %ecx
	jne 46f
	leaq pdi_cb_skip_double(%rip), %r9
46:
	movq %r9, CB_ENTRY_TARGET(%rdi)
	movq %r9, CB_FRAME_TARGET(%rsp)
45:
	movl $0, CB_THREAD_IN_HOOK(%rdx)
	movq %rdi, %rax
	jmp \join
.endm

/* The common post path of pdi_cb_post: the returning call's entry (rbx) is
 * on top of its thread's stack; the post hook runs with errno kept and the
 * entry is popped; r11 gets the caller's return address and the code goes
 * on at \done. Anything else goes to \slow, also a thread marked inside pdi
 * (at exit, another thread may own its frames: callback.c). */
.macro FAST_POST slow, done
	movq pdi_cb_current@gottpoff(%rip), %rdx
	movq %fs:(%rdx), %rdx
	testq %rdx, %rdx
	jz \slow
	cmpl $0, CB_THREAD_IN_HOOK(%rdx)
	jne \slow
	movl CB_THREAD_DEPTH(%rdx), %ecx
	testl %ecx, %ecx
	jz \slow
	imulq $CB_ENTRY_SIZE, %rcx, %rcx
	addq CB_THREAD_ENTRIES(%rdx), %rcx
	subq $CB_ENTRY_SIZE, %rcx
	cmpq %rcx, %rbx
	jne \slow
	movq CB_ENTRY_STACK_POINTER(%rbx), %rax
	movq %rax, CB_THREAD_ENTERED_AT(%rdx)
	movl $1, CB_THREAD_IN_HOOK(%rdx)
	movq CB_ENTRY_SITE(%rbx), %rax
	movq CB_SITE_POST-CB_SITE_SITE(%rax), %r10
	testq %r10, %r10
	jz 52f
	movq %rsp, CB_ENTRY_RETURNS(%rbx)
	movq %rdx, CB_RETURN_FAST_THREAD(%rsp)
	movq CB_THREAD_ERROR(%rdx), %r9
	movl (%r9), %ecx
	movl %ecx, CB_RETURN_FAST_ERRNO(%rsp)
	leaq CB_ENTRY_CALL(%rbx), %rdi
	movq %r10, %rsi
	movzwl CB_RETURN_X87_STATUS(%rsp), %edx
	call pdi_cb_run_hook_at_status
	movq CB_RETURN_FAST_THREAD(%rsp), %rdx
	movq CB_THREAD_ERROR(%rdx), %r9
	movl CB_RETURN_FAST_ERRNO(%rsp), %ecx
	movl %ecx, (%r9)
	movq $0, CB_ENTRY_RETURNS(%rbx)
52:
	movq CB_ENTRY_RETURN_ADDRESS(%rbx), %r11
	decl CB_THREAD_DEPTH(%rdx)
	movl $0, CB_THREAD_IN_HOOK(%rdx)
	jmp \done
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
	FAST_PRE 47f, 48f, 49f
47:
	movq %rsp, %rdi
	call pdi_cb_pre
	testq %rax, %rax
	jz 48f
49:
	RESTORE_VECTORS \vectors, \avx512
	movq CB_FRAME_TARGET(%rsp), %r11
	.cfi_remember_state
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
	/* Read from the entry now: once it is popped, a signal handler's
	 * instrumented call may take its place. */
	movq 8(%rbx), %r9
	movq %r9, CB_RETURN_CALLER(%rsp)
	SAVE_RESULTS \vectors, \avx512
	/* The x87 stack holds a long double result (TOP 7) or a complex one
	 * (TOP 6); it must be empty while C code runs, so those are popped here
	 * and pushed back below. fnsave would do the same at ten times the cost. */
	fnstsw %ax
	movw %ax, CB_RETURN_X87_STATUS(%rsp)
	shrl $11, %eax
	andl $7, %eax
	movl %eax, CB_RETURN_X87_TOP(%rsp)
	jz 2f
	fstpt CB_RETURN_X87(%rsp)
	cmpl $7, %eax
	je 1f
	fstpt CB_RETURN_X87+16(%rsp)
1:
	/* The status word the post hook runs at (pdi_cb_run_hook_at_status). */
	fnstsw CB_RETURN_X87_STATUS(%rsp)
2:
	FAST_POST 50f, 51f
50:
	movq %rbx, %rdi
	movq %rsp, %rsi
	call pdi_cb_post
	movq %rax, %r11
51:
	.cfi_register %rip, %r11
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
	movq CB_RETURN_CALLER(%rsp), %rbx
	.cfi_restore %rbx
	addq $CB_RETURN_SIZE, %rsp
	.cfi_def_cfa_offset 1
	.cfi_escape 0x16, 0x07, 0x02, 0x77, 0x00
	/* A return, not a jump: the caller's call made a return stack buffer
	 * entry that only a ret consumes; left there, it would make every later
	 * return up the caller's chain mispredict. */
	pushq %r11
	.cfi_def_cfa %rsp, 8
	.cfi_restore %rsp
	.cfi_offset %rip, -8
	ret
	/* Not instrumented (no thread slot, stack full, inside a hook, or no
	 * post hook): restore everything and go to the real function with the
	 * caller's return address still in place. */
48:
	.cfi_restore_state
	RESTORE_VECTORS \vectors, \avx512
	movq CB_FRAME_TARGET(%rsp), %r11
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

	.section .rodata
	.p2align 5
/* vptest's mask for the upper half of a ymm register. */
upper_halves:
	.quad 0, 0, -1, -1
	.text

	.globl pdi_cb_handlers_end
	.hidden pdi_cb_handlers_end
pdi_cb_handlers_end:

/* void pdi_cb_run_hook(pdi_cb_call_t *call, void (*hook)(pdi_cb_call_t *)):
 * runs a hook with the floating-point environment kept as it was, as errno
 * is: MXCSR (SSE rounding, exception masks and flags) and the x87 control
 * and status words (x87 rounding and precision, exception flags). MXCSR is
 * written back after the hook unconditionally, which costs less than
 * reading it (stmxcsr and fnstsw take about 30 cycles each on AMD Zen 4,
 * ldmxcsr 2); the x87 words are compared and written back when they differ
 * (fldenv for the status word, which has no other way in). The post path
 * has just read the status word and enters at pdi_cb_run_hook_at_status
 * with it in dx. A program
 * that unmasked exceptions (feenableexcept) would have the hook's own
 * floating-point work trap inside pdi: the hook then runs with every
 * exception masked, and the comparison after it puts the program's words
 * back. Outside the handlers' range: a call returning here is a hook's. */
	.globl pdi_cb_run_hook
	.hidden pdi_cb_run_hook
	.type pdi_cb_run_hook, @function
	.p2align 4
pdi_cb_run_hook:
	.cfi_startproc
	endbr64
	fnstsw %ax
	movl %eax, %edx
pdi_cb_run_hook_at_status:
	subq $56, %rsp
	.cfi_adjust_cfa_offset 56
	stmxcsr 0(%rsp)
	fnstcw 4(%rsp)
	movw %dx, 6(%rsp)
	/* The masks: MXCSR bits 7-12, x87 control word bits 0-5. */
	movl 0(%rsp), %eax
	orl $0x1f80, %eax
	cmpl 0(%rsp), %eax
	jne 5f
6:
	movzwl 4(%rsp), %eax
	orl $0x3f, %eax
	cmpw 4(%rsp), %ax
	jne 7f
8:
	call *%rsi
	ldmxcsr 0(%rsp)
	fnstsw %ax
	cmpw 6(%rsp), %ax
	jne 4f
	fnstcw 8(%rsp)
	movzwl 8(%rsp), %eax
	cmpw 4(%rsp), %ax
	jne 4f
2:
	addq $56, %rsp
	.cfi_adjust_cfa_offset -56
	ret
	.cfi_adjust_cfa_offset 56
4:
	fnstenv 16(%rsp)
	movzwl 4(%rsp), %eax
	movw %ax, 16(%rsp)
	movzwl 6(%rsp), %eax
	movw %ax, 20(%rsp)
	fldenv 16(%rsp)
	jmp 2b
5:
	movl %eax, 8(%rsp)
	ldmxcsr 8(%rsp)
	jmp 6b
7:
	movw %ax, 8(%rsp)
	fldcw 8(%rsp)
	jmp 8b
	.cfi_endproc
	.size pdi_cb_run_hook, .-pdi_cb_run_hook
#endif
	.section .note.GNU-stack, "", %progbits
