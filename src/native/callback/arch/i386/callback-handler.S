/*
 * The i386 generic callback handler.
 *
 * A stub pushes the site index and jumps here: the caller's return address
 * is just above it, and above that the caller's stack arguments (cdecl).
 * The handler saves eax, ecx and edx (regparm and fastcall arguments), runs
 * the pre path, restores them, drops the index and the return address
 * (kept on the thread's callback stack) and calls the real function through
 * the entry, so the callee sees the caller's stack exactly. A function that
 * returns a struct through a hidden pointer pops that pointer itself
 * (`ret $4`); the post path works from whatever esp it gets back. On return
 * it saves eax, edx and the x87 result registers (st0, st1), runs the post
 * path, restores them and returns to the caller.
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

/* ecx = the address of the next instruction: with `addl
 * $_GLOBAL_OFFSET_TABLE_, %ecx` after the call, the GOT. A called thunk,
 * not call/pop, so the return stack buffer stays in step. */
	.type pc_thunk_cx, @function
	.p2align 4
pc_thunk_cx:
	.cfi_startproc
	movl (%esp), %ecx
	ret
	.cfi_endproc
	.size pc_thunk_cx, .-pc_thunk_cx

/* The common pre path of callback.c's pdi_cb_pre, for a thread that has
 * its slot, is not inside a hook, has room on its callback stack and whose
 * open frame (if any) lies above this call: the site's real function goes
 * to the frame, the call's entry is filled, the pre hook runs with errno
 * kept (a skipped call keeps the hook's), and then: no post hook and no
 * skip, the entry is popped and the code goes to \pass (the call goes to the
 * real function without coming back); otherwise the entry stays pushed and
 * goes to \join in eax. Anything else (tail calls included) goes to \slow,
 * the C path, before anything but the frame's target word is written. esi
 * and edi are used and put back. */
.macro FAST_PRE slow, pass, join
	movl %esi, CB_FRAME_FAST_ESI(%esp)
	movl %edi, CB_FRAME_FAST_EDI(%esp)
	call pc_thunk_cx
	addl $_GLOBAL_OFFSET_TABLE_, %ecx
	movl CB_FRAME_SITE(%esp), %eax
	imull $CB_SITE_SIZE, %eax, %eax
	addl pdi_cb_sites@GOTOFF(%ecx), %eax
	movl %eax, CB_FRAME_FAST_SITE(%esp)
	movl CB_SITE_TARGET(%eax), %edx
	movl %edx, CB_FRAME_TARGET(%esp)
	movl pdi_cb_current@gotntpoff(%ecx), %edi
	movl %gs:(%edi), %edi
	testl %edi, %edi
	jz 57f
	/* Inside a hook, or left in one by a signal handler's siglongjmp: C tells. */
	cmpl $0, CB_THREAD_IN_HOOK(%edi)
	jne 57f
	movl CB_THREAD_DEPTH(%edi), %ecx
	cmpl CB_THREAD_CAPACITY(%edi), %ecx
	je 57f
	imull $CB_ENTRY_SIZE, %ecx, %esi
	addl CB_THREAD_ENTRIES(%edi), %esi
	leal CB_FRAME_SIZE+4(%esp), %edx
	testl %ecx, %ecx
	jz 41f
	cmpl %edx, CB_ENTRY_STACK_POINTER-CB_ENTRY_SIZE(%esi)
	jbe 57f
	/* From here to the end the thread counts as inside pdi, as in a hook: a
	 * signal handler's instrumented call goes straight to its function
	 * instead of taking the entry being built. */
41:
	movl %edx, CB_THREAD_ENTERED_AT(%edi)
	movl $1, CB_THREAD_IN_HOOK(%edi)
	movl (%edx), %eax
	movl %eax, CB_ENTRY_RETURN_ADDRESS(%esi)
	movl CB_FRAME_TARGET(%esp), %eax
	movl %eax, CB_ENTRY_TARGET(%esi)
	movl %edx, CB_ENTRY_STACK_POINTER(%esi)
	movl $0, CB_ENTRY_VECTORS(%esi)
	movl $0, CB_ENTRY_RETURNS(%esi)
	movl $0, CB_ENTRY_SKIPPED(%esi)
	movl $0, CB_ENTRY_USER(%esi)
	movl $0, CB_ENTRY_ABANDONED(%esi)
	movl %ecx, CB_ENTRY_DEPTH(%esi)
	/* Pushed once complete: a signal handler's instrumented call nests above it. */
	incl CB_THREAD_DEPTH(%edi)
	movl CB_FRAME_FAST_SITE(%esp), %eax
	movl CB_SITE_EVENT(%eax), %edx
	movl %edx, CB_ENTRY_EVENT(%esi)
	leal CB_SITE_SITE(%eax), %edx
	movl %edx, CB_ENTRY_SITE(%esi)
	movl CB_SITE_PRE(%eax), %edx
	testl %edx, %edx
	jz 42f
	leal CB_FRAME_REGISTERS(%esp), %eax
	movl %eax, CB_ENTRY_REGISTERS(%esi)
	movl CB_THREAD_ERROR(%edi), %eax
	movl (%eax), %eax
	movl %eax, CB_FRAME_FAST_ERRNO(%esp)
	leal CB_ENTRY_CALL(%esi), %eax
	movl %eax, CB_FRAME_ARG0(%esp)
	movl %edx, CB_FRAME_ARG1(%esp)
	call pdi_cb_run_hook
	movl $0, CB_ENTRY_REGISTERS(%esi)
	movl CB_ENTRY_SKIPPED(%esi), %ecx
	testl %ecx, %ecx
	jnz 44f
	movl CB_THREAD_ERROR(%edi), %eax
	movl CB_FRAME_FAST_ERRNO(%esp), %edx
	movl %edx, (%eax)
	jmp 43f
	/* No pre hook: no registers to show. */
42:
	movl $0, CB_ENTRY_REGISTERS(%esi)
43:
	movl CB_FRAME_FAST_SITE(%esp), %eax
	cmpl $0, CB_SITE_POST(%eax)
	jne 45f
	/* No post hook: the call does not come back, and its entry is popped. */
	decl CB_THREAD_DEPTH(%edi)
	movl $0, CB_THREAD_IN_HOOK(%edi)
	jmp 58f
	/* Skipped: the skip stub stands in for the real function. */
44:
	call pc_thunk_cx
	addl $_GLOBAL_OFFSET_TABLE_, %ecx
	leal pdi_cb_skip_int@GOTOFF(%ecx), %edx
	cmpl $2, CB_ENTRY_SKIPPED(%esi)
	jne 46f
	leal pdi_cb_skip_double@GOTOFF(%ecx), %edx
46:
	movl %edx, CB_ENTRY_TARGET(%esi)
	movl %edx, CB_FRAME_TARGET(%esp)
45:
	movl $0, CB_THREAD_IN_HOOK(%edi)
	movl %esi, %eax
	movl CB_FRAME_FAST_ESI(%esp), %esi
	movl CB_FRAME_FAST_EDI(%esp), %edi
	jmp \join
57:
	movl CB_FRAME_FAST_ESI(%esp), %esi
	movl CB_FRAME_FAST_EDI(%esp), %edi
	jmp \slow
58:
	movl CB_FRAME_FAST_ESI(%esp), %esi
	movl CB_FRAME_FAST_EDI(%esp), %edi
	jmp \pass
.endm

/* The common post path of pdi_cb_post: the returning call's entry (ebx) is
 * on top of its thread's stack; the post hook runs with errno kept and the
 * entry is popped; ecx gets the caller's return address and the code goes
 * on at \done. Anything else goes to \slow, also a thread marked inside pdi
 * (at exit, another thread may own its frames: callback.c). esi is used and
 * put back. */
.macro FAST_POST slow, done
	movl %esi, CB_RETURN_FAST_ESI(%esp)
	call pc_thunk_cx
	addl $_GLOBAL_OFFSET_TABLE_, %ecx
	movl pdi_cb_current@gotntpoff(%ecx), %esi
	movl %gs:(%esi), %esi
	testl %esi, %esi
	jz 59f
	cmpl $0, CB_THREAD_IN_HOOK(%esi)
	jne 59f
	movl CB_THREAD_DEPTH(%esi), %ecx
	testl %ecx, %ecx
	jz 59f
	imull $CB_ENTRY_SIZE, %ecx, %ecx
	addl CB_THREAD_ENTRIES(%esi), %ecx
	subl $CB_ENTRY_SIZE, %ecx
	cmpl %ecx, %ebx
	jne 59f
	movl CB_ENTRY_STACK_POINTER(%ebx), %eax
	movl %eax, CB_THREAD_ENTERED_AT(%esi)
	movl $1, CB_THREAD_IN_HOOK(%esi)
	movl CB_ENTRY_SITE(%ebx), %eax
	movl CB_SITE_POST-CB_SITE_SITE(%eax), %edx
	testl %edx, %edx
	jz 52f
	leal CB_RETURN_AREA(%esp), %eax
	movl %eax, CB_ENTRY_RETURNS(%ebx)
	movl CB_THREAD_ERROR(%esi), %eax
	movl (%eax), %eax
	movl %eax, CB_RETURN_FAST_ERRNO(%esp)
	leal CB_ENTRY_CALL(%ebx), %eax
	movl %eax, 0(%esp)
	movl %edx, 4(%esp)
	call pdi_cb_run_hook
	movl CB_THREAD_ERROR(%esi), %eax
	movl CB_RETURN_FAST_ERRNO(%esp), %edx
	movl %edx, (%eax)
	movl $0, CB_ENTRY_RETURNS(%ebx)
52:
	movl CB_ENTRY_RETURN_ADDRESS(%ebx), %ecx
	decl CB_THREAD_DEPTH(%esi)
	movl $0, CB_THREAD_IN_HOOK(%esi)
	movl CB_RETURN_FAST_ESI(%esp), %esi
	jmp \done
59:
	movl CB_RETURN_FAST_ESI(%esp), %esi
	jmp \slow
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
	FAST_PRE 47f, 1f, 49f
47:
	movl %esp, CB_FRAME_ARG0(%esp)
	call pdi_cb_pre
49:
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
	.cfi_escape 0x16, 0x04, 0x03, 0x74, (CB_RETURN_SIZE & 0x7f) | 0x80, CB_RETURN_SIZE >> 7
	movl %eax, CB_RETURN_AREA+CB_RETURN_RAX(%esp)
	movl %edx, CB_RETURN_AREA+CB_RETURN_EDX(%esp)
	/* Read from the entry now: once it is popped, a signal handler's
	 * instrumented call may take its place. */
	movl 4(%ebx), %ecx
	movl %ecx, CB_RETURN_CALLER(%esp)
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
	FAST_POST 50f, 51f
50:
	movl %ebx, 0(%esp)
	leal CB_RETURN_AREA(%esp), %eax
	movl %eax, 4(%esp)
	call pdi_cb_post
	movl %eax, %ecx
51:
	.cfi_register %eip, %ecx
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
	movl CB_RETURN_CALLER(%esp), %ebx
	.cfi_restore %ebx
	addl $CB_RETURN_SIZE, %esp
	.cfi_def_cfa_offset 1
	.cfi_escape 0x16, 0x04, 0x02, 0x74, 0x00
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

/* void pdi_cb_run_hook(pdi_cb_call_t *call, void (*hook)(pdi_cb_call_t *)):
 * runs a hook with the floating-point environment kept as it was, as errno
 * is: the x87 control and status words (rounding, precision, exception
 * flags) and, on a CPU with SSE (pdi_cb_has_mxcsr), MXCSR. The x87 words
 * are written back only when they differ (fldenv for the status word, which
 * has no other way in); MXCSR always, which costs less than reading it
 * back (x86-64's pdi_cb_run_hook). A program that unmasked exceptions (feenableexcept) would
 * have the hook's own floating-point work trap inside pdi: the hook then
 * runs with every exception masked, and the comparison after it puts the
 * program's words back. Outside the handlers' range: a call returning here
 * is a hook's. */
	.globl pdi_cb_run_hook
	.hidden pdi_cb_run_hook
	.type pdi_cb_run_hook, @function
	.p2align 4
pdi_cb_run_hook:
	.cfi_startproc
	pushl %ebx
	.cfi_adjust_cfa_offset 4
	.cfi_offset %ebx, -8
	subl $56, %esp
	.cfi_adjust_cfa_offset 56
	call 1f
1:
	popl %ebx
	addl $_GLOBAL_OFFSET_TABLE_+(.-1b), %ebx
	fnstcw 4(%esp)
	fnstsw 6(%esp)
	/* The masks: x87 control word bits 0-5, MXCSR bits 7-12. */
	movzwl 4(%esp), %eax
	orl $0x3f, %eax
	cmpw 4(%esp), %ax
	je 5f
	movw %ax, 12(%esp)
	fldcw 12(%esp)
5:
	cmpl $0, pdi_cb_has_mxcsr@GOTOFF(%ebx)
	je 2f
	stmxcsr 8(%esp)
	movl 8(%esp), %eax
	orl $0x1f80, %eax
	cmpl 8(%esp), %eax
	je 2f
	movl %eax, 12(%esp)
	ldmxcsr 12(%esp)
2:
	movl 64(%esp), %eax
	movl %eax, 0(%esp)
	call *68(%esp)
	fnstcw 12(%esp)
	fnstsw 14(%esp)
	movl 12(%esp), %eax
	cmpl 4(%esp), %eax
	je 3f
	fnstenv 20(%esp)
	movzwl 4(%esp), %eax
	movw %ax, 20(%esp)
	movzwl 6(%esp), %eax
	movw %ax, 24(%esp)
	fldenv 20(%esp)
3:
	cmpl $0, pdi_cb_has_mxcsr@GOTOFF(%ebx)
	je 4f
	ldmxcsr 8(%esp)
4:
	addl $56, %esp
	.cfi_adjust_cfa_offset -56
	popl %ebx
	.cfi_adjust_cfa_offset -4
	.cfi_restore %ebx
	ret
	.cfi_endproc
	.size pdi_cb_run_hook, .-pdi_cb_run_hook
#endif
	.section .note.GNU-stack, "", %progbits
