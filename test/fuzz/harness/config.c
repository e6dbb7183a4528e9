/* Fuzz harness of the text dialect's reader (src/native/config): the input is
 * the text of a config, read as if it were the file main.cfg of a private
 * scratch directory that also holds a few fixed files the input can name, so
 * that Include (of sections, of other files, in cycles), command files
 * (`config = rules.cmd`, `runtime = rt.cmd`), missing files and include depth
 * are all reachable from short inputs. The reader only reads; the harness
 * writes nothing outside its directory, and removes it. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "input.h"

static const struct {
  const char *name;
  const char *text;
} fixed_files[] = {
  {"a.cfg", "[global]\nmax_threads = 8\nInclude \"b.cfg:loop\"\n[back]\nInclude \"main.cfg:loop\"\n"
            "[ok]\nWarning from a\nconfig = rules.cmd\n"},
  {"b.cfg", "[loop]\nInclude \"a.cfg:global\"\n[tail]\nInclude \"a.cfg:ok\"\n[deep]\nInclude \":deep\"\n"},
  {"rules.cmd", "object app = $main\nbackend count = count\nrelink app malloc count count_malloc\n"
                "redefine * getpid count count_getpid\n"},
  {"rt.cmd", "backend trace = \"trace\"\ncallback libfoo.so.1 * trace\n"},
  {"bad.cmd", "relink\n[section]\nInclude \"a.cfg\"\n"},
};

/* Under PDI_FUZZ_TMP when set (scripts/fuzz.mjs removes it after the run, with
 * what inputs killed on a timeout left behind), else /tmp. */
static char directory[PATH_MAX];

static void
remove_scratch(void)
{
  char path[PATH_MAX + 32];
  for (size_t i = 0; i < sizeof fixed_files / sizeof fixed_files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", directory, fixed_files[i].name);
    unlink(path);
  }
  rmdir(directory);
}

static void
make_scratch(void)
{
  const char *parent = getenv("PDI_FUZZ_TMP");
  snprintf(directory, sizeof directory, "%s/pdi-fuzz-config.XXXXXX", parent != NULL && *parent ? parent : "/tmp");
  if (mkdtemp(directory) == NULL) {
    perror("mkdtemp");
    exit(2);
  }
  atexit(remove_scratch);
  char path[PATH_MAX + 32];
  for (size_t i = 0; i < sizeof fixed_files / sizeof fixed_files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", directory, fixed_files[i].name);
    FILE *out = fopen(path, "w");
    if (out == NULL || fputs(fixed_files[i].text, out) == EOF || fclose(out) != 0) {
      perror(path);
      exit(2);
    }
  }
}

static char name[PATH_MAX + 16];

static void
one_input(const unsigned char *data, size_t length)
{
  pdi_config_t config;
  pdi_config_init(&config);
  int status = pdi_config_read(&config, name, directory, (const char *)data, length, 0);
  /* The model as the addon hands it over: every string of it is walked. */
  pdi_buf_t out = {0};
  pdi_config_report(&out, &config, status);
  /* For whoever looks at one input by hand. */
  if (getenv("PDI_FUZZ_VERBOSE") != NULL)
    fprintf(stderr, "%.*s\n", (int)out.len, out.data ? out.data : "");
  pdi_buf_release(&out);
  pdi_config_release(&config);
}

int
main(int argc, char **argv)
{
  make_scratch();
  snprintf(name, sizeof name, "%s/main.cfg", directory);
  return fuzz_main(argc, argv, one_input);
}
