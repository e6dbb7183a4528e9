/* libtarget.so: the function every mode of the callback benchmark calls. */
__attribute__((visibility("default"), noinline)) int bench_target(int x) {
	return x + 1;
}
