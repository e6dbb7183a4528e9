/* benchprog N [quiet|check]
 *
 * Calls bench_target() (libtarget.so, through the PLT) N times and prints
 * `ns_per_call=<float>`; with `check` also `sum=<sum of the results>`; with
 * `quiet` nothing (for callgrind, which counts instructions instead).
 *
 * Besides the measured loop it imports, and calls on every run, ten libc
 * functions (strtol, strcmp, getenv, strlen, clock_gettime, malloc, free,
 * fwrite, fputs, fflush) that the start-up measurement relinks to wrappers. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int bench_target(int x);

static volatile long long sink;

int main(int argc, char **argv) {
	if (argc < 2) {
		fputs("usage: benchprog N [quiet|check]\n", stderr);
		return 2;
	}
	const char *mode = argc > 2 ? argv[2] : "";
	int quiet = strcmp(mode, "quiet") == 0;
	int check = strcmp(mode, "check") == 0;
	char *end;
	long n = strtol(argv[1], &end, 10);
	if (*end != '\0' || n < 0 || n > 0x7fffffffL) {
		fputs("benchprog: N must be an integer in [0, 2^31)\n", stderr);
		return 2;
	}
	/* An optional label put before the output lines. */
	const char *tag = getenv("BENCHPROG_TAG");

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		sink += bench_target((int)i);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	char *line = malloc(128);
	if (line == NULL) {
		return 1;
	}
	/* Quiet runs format nothing: the cost of formatting depends on the value,
	 * and callgrind's totals must differ only by the calls of the loop. */
	if (!quiet) {
		snprintf(line, 128, "ns_per_call=%.4f\n", n > 0 ? ns / (double)n : 0.0);
		if (tag != NULL) {
			fwrite(tag, 1, strlen(tag), stdout);
		}
		fputs(line, stdout);
		if (check) {
			snprintf(line, 128, "sum=%lld\n", (long long)sink);
			fputs(line, stdout);
		}
	}
	free(line);
	fflush(stdout);
	return 0;
}
