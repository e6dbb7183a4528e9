/* audit.so: the classic pre + post auditing path of glibc's dynamic loader,
 * used with LD_AUDIT=audit.so.
 *
 * Every object is audited both ways (la_objopen returns LA_FLG_BINDTO |
 * LA_FLG_BINDFROM), so every PLT call goes through the loader's profiling
 * trampoline (_dl_runtime_profile). For bench_target, la_symbind64 leaves
 * both hooks on: each call runs la_x86_64_gnu_pltenter, the real function
 * and, because pltenter sets a frame size >= 0, la_x86_64_gnu_pltexit. Every
 * other binding is marked LA_SYMB_NOPLTENTER | LA_SYMB_NOPLTEXIT (the
 * counterpart of a callback backend's CB_REQ returning 0). The hooks do
 * nothing else.
 *
 * Built with -DBENCH_COUNT as audit-count.so, the hooks count the calls of
 * bench_target (and of anything else, which must be 0) and add up its
 * argument and return value: the correctness check. With PDI_BENCH_REPORT
 * set, the library prints one line on stderr at exit:
 *   audit: objects=K
 *   audit-count: objects=K pltenter=P pltexit=Q args=A rets=R other=O */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned int la_version(unsigned int version) {
	(void)version;
	return LAV_CURRENT;
}

/* How many objects the loader reported (la_objopen), printed at exit with
 * PDI_BENCH_REPORT set: shows that the audit library is active at all (the
 * loader only warns and goes on when it cannot use one). */
static unsigned objects;

unsigned int la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie) {
	objects++;
	(void)map;
	(void)lmid;
	(void)cookie;
	return LA_FLG_BINDTO | LA_FLG_BINDFROM;
}

uintptr_t la_symbind64(Elf64_Sym *sym, unsigned int ndx, uintptr_t *refcook, uintptr_t *defcook, unsigned int *flags,
                       const char *symname) {
	(void)ndx;
	(void)refcook;
	(void)defcook;
	/* Only bench_target gets pltenter and pltexit (as only bench_target gets a
	 * callback): the frame size of 0 that pltenter sets is right for it, but
	 * would leave a function with stack arguments without them (valgrind's
	 * launcher, which inherits LD_AUDIT, crashes then). Decided once per
	 * binding, not per call. */
	if (strcmp(symname, "bench_target") != 0) {
		*flags |= LA_SYMB_NOPLTENTER | LA_SYMB_NOPLTEXIT;
	}
	return sym->st_value;
}

#if defined(BENCH_COUNT)
static unsigned long long enter_calls, exit_calls, args, rets, foreign_calls;

/* A call of bench_target adds one to `calls` and `value` to `sum`; any other call is foreign. */
static inline void count_call(const char *symname, unsigned long long *calls, unsigned long long *sum, unsigned value) {
	if (strcmp(symname, "bench_target") == 0) {
		++*calls;
		*sum += value;
	} else {
		foreign_calls++;
	}
}
#endif

Elf64_Addr la_x86_64_gnu_pltenter(Elf64_Sym *sym, unsigned int ndx, uintptr_t *refcook, uintptr_t *defcook,
                                  La_x86_64_regs *regs, unsigned int *flags, const char *symname,
                                  long int *framesizep) {
	(void)ndx;
	(void)refcook;
	(void)defcook;
	(void)flags;
#if defined(BENCH_COUNT)
	count_call(symname, &enter_calls, &args, (unsigned)regs->lr_rdi);
#else
	(void)regs;
	(void)symname;
#endif
	/* >= 0 asks for la_pltexit; the number is how many bytes of the caller's
	 * stack arguments to copy for the call. */
	*framesizep = 0;
	return sym->st_value;
}

unsigned int la_x86_64_gnu_pltexit(Elf64_Sym *sym, unsigned int ndx, uintptr_t *refcook, uintptr_t *defcook,
                                   const La_x86_64_regs *inregs, La_x86_64_retval *outregs, const char *symname) {
	(void)sym;
	(void)ndx;
	(void)refcook;
	(void)defcook;
	(void)inregs;
#if defined(BENCH_COUNT)
	count_call(symname, &exit_calls, &rets, (unsigned)outregs->lrv_rax);
#else
	(void)outregs;
	(void)symname;
#endif
	return 0;
}

__attribute__((destructor)) static void report(void) {
	if (getenv("PDI_BENCH_REPORT") == NULL) {
		return;
	}
#if defined(BENCH_COUNT)
	fprintf(stderr, "audit-count: objects=%u pltenter=%llu pltexit=%llu args=%llu rets=%llu other=%llu\n", objects,
	        enter_calls, exit_calls, args, rets, foreign_calls);
#else
	fprintf(stderr, "audit: objects=%u\n", objects);
#endif
}
