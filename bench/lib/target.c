/* libtarget.so: the function every mode of the relink and callback benchmarks calls. */
__attribute__((visibility("default"), noinline)) int bench_target(int x) {
	return x + 1;
}
