/* classic.so: the usual LD_PRELOAD wrapper, for comparison with pdi's relink.
 * Same work as bench_wrapper in ../lib/wrapper-backend.c: one cached lookup of the
 * real function, then original(x) + 1000. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

__attribute__((visibility("default"))) int bench_target(int x) {
	static int (*original)(int);
	if (original == NULL) {
		original = (int (*)(int))dlsym(RTLD_NEXT, "bench_target");
	}
	return original(x) + 1000;
}
