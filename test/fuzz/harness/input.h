/* The input of a fuzz harness: the file named by the first argument (how
 * test/fuzz-regressions.test.ts replays a kept input, and how afl-tmin runs
 * it), or stdin without one. Built by afl-clang-fast and run without an
 * argument, the harness is in AFL++'s persistent mode instead, inputs in
 * shared memory and many per process: this VM forks slowly (~8 ms), and a
 * reader takes microseconds. The same source stays plain C11 for gcc. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Big enough for any seed, small enough that afl-fuzz's own limit (1 MB) decides. */
#define FUZZ_MAX_INPUT (16u << 20)

static unsigned char *
fuzz_read_input(int argc, char **argv, size_t *length)
{
  FILE *in = argc > 1 ? fopen(argv[1], "rb") : stdin;
  if (in == NULL) {
    perror(argv[1]);
    exit(2);
  }
  /* One byte more than the data, so text readers may see a terminated buffer. */
  unsigned char *data = malloc(FUZZ_MAX_INPUT + 1);
  if (data == NULL)
    exit(2);
  *length = fread(data, 1, FUZZ_MAX_INPUT, in);
  data[*length] = '\0';
  if (in != stdin)
    fclose(in);
  return data;
}

typedef void (*fuzz_one_input)(const unsigned char *data, size_t length);

#if defined(__AFL_FUZZ_TESTCASE_LEN) && !defined(FUZZ_FILE_ONLY)
__AFL_FUZZ_INIT();
#endif

/* Runs `one` on the input(s); the data it gets is followed by a NUL byte. */
static int
fuzz_main(int argc, char **argv, fuzz_one_input one)
{
#if defined(__AFL_FUZZ_TESTCASE_LEN) && !defined(FUZZ_FILE_ONLY)
  __AFL_INIT();
  if (argc < 2) {
    const unsigned char *shared = __AFL_FUZZ_TESTCASE_BUF;
    unsigned char *copy = malloc(FUZZ_MAX_INPUT + 1);
    if (copy == NULL)
      return 2;
    while (__AFL_LOOP(10000)) {
      size_t length = __AFL_FUZZ_TESTCASE_LEN;
      if (length > FUZZ_MAX_INPUT)
        length = FUZZ_MAX_INPUT;
      memcpy(copy, shared, length);
      copy[length] = '\0';
      one(copy, length);
    }
    free(copy);
    return 0;
  }
#endif
  size_t length;
  unsigned char *data = fuzz_read_input(argc, argv, &length);
  one(data, length);
  free(data);
  return 0;
}

#endif
