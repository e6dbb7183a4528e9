/* relink-backend.so: the pdi relink wrapper the callback is compared with
 * (the same as bench/relink's bench-backend.c): one cached lookup of the real
 * function, then original(x) + 1000, so a run shows that the wrapper ran. */
#include <pdi/backend.h>
#include <stddef.h>

__attribute__((visibility("default"))) int bench_wrapper(int x) {
	static int (*original)(int);
	if (original == NULL) {
		original = (int (*)(int))pdi_original((const void *)bench_wrapper);
	}
	return original(x) + 1000;
}
