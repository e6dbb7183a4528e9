/* startup-backend.so: the pdi backend of the start-up measurement.
 *
 * Ten wrappers for libc functions that benchprog imports, each forwarding to
 * the original through a pdi_original cached in a static. Each one sets its
 * bit in `called`; with PDI_BENCH_REPORT set, the backend prints the mask at
 * exit, so run.ts can check that all ten rules took effect. */
#define _POSIX_C_SOURCE 200809L
#include <pdi/backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

static unsigned called;

/* WRAP(bit, return type, name, (parameters), (arguments)) */
#define WRAP(bit, ret, name, params, args)                                        \
	EXPORT ret wrap_##name params {                                               \
		static ret(*original) params;                                             \
		if (original == NULL) {                                                   \
			original = (ret(*) params)pdi_original((const void *)wrap_##name);    \
		}                                                                         \
		called |= 1u << (bit);                                                    \
		return original args;                                                     \
	}

WRAP(0, long, strtol, (const char *s, char **end, int base), (s, end, base))
WRAP(1, int, strcmp, (const char *a, const char *b), (a, b))
WRAP(2, char *, getenv, (const char *name), (name))
WRAP(3, size_t, strlen, (const char *s), (s))
WRAP(4, int, clock_gettime, (clockid_t clock, struct timespec *ts), (clock, ts))
WRAP(5, void *, malloc, (size_t size), (size))
WRAP(6, size_t, fwrite, (const void *p, size_t size, size_t n, FILE *f), (p, size, n, f))
WRAP(7, int, fputs, (const char *s, FILE *f), (s, f))
WRAP(8, int, fflush, (FILE *f), (f))

EXPORT void wrap_free(void *p) {
	static void (*original)(void *);
	if (original == NULL) {
		original = (void (*)(void *))pdi_original((const void *)wrap_free);
	}
	called |= 1u << 9;
	original(p);
}

__attribute__((destructor)) static void report(void) {
	if (getenv("PDI_BENCH_REPORT") != NULL) {
		fprintf(stderr, "startup-backend: called=%#x\n", called);
	}
}
