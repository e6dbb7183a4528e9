/* wrapper-backend.so: the pdi relink wrapper of the per-call measurements
 * (bench/relink, and bench/callback's relink row).
 *
 * bench_wrapper does the same work as classic.c's bench_target: one cached
 * lookup of the real function (pdi_original instead of dlsym), then
 * original(x) + 1000. Like classic.so, this object holds nothing else, so the
 * two wrappers are compiled to the same code at the same offset (the wrappers
 * of the start-up measurement live in startup-backend.c for that reason). */
#include <pdi/backend.h>
#include <stddef.h>

__attribute__((visibility("default"))) int bench_wrapper(int x) {
	static int (*original)(int);
	if (original == NULL) {
		original = (int (*)(int))pdi_original((const void *)bench_wrapper);
	}
	return original(x) + 1000;
}
