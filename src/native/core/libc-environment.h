/* The C library's own getenv, setenv and unsetenv, whatever the program
 * defines under those names: bash defines and exports its own, which keep the
 * shell's variable table apart from environ once it has made it. The trace
 * backend reads its settings with these; the attach path sets variables with
 * them. Header-only: the backends link none of the core. */
#ifndef PDI_LIBC_ENVIRONMENT_H
#define PDI_LIBC_ENVIRONMENT_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct pdi_libc_environment {
  char *(*get)(const char *);
  int (*set)(const char *, const char *, int);
  int (*unset)(const char *);
} pdi_libc_environment_t;

/* Fills `found` from libc.so.6: 0, or -1 (and `found` untouched) when it is
 * not loaded or lacks one of them. */
static inline int
pdi_find_libc_environment(pdi_libc_environment_t *found)
{
  void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  if (libc == NULL)
    return -1;
  void *get = dlsym(libc, "getenv"), *set = dlsym(libc, "setenv"), *unset = dlsym(libc, "unsetenv");
  dlclose(libc);
  if (get == NULL || set == NULL || unset == NULL)
    return -1;
  memcpy(&found->get, &get, sizeof get);
  memcpy(&found->set, &set, sizeof set);
  memcpy(&found->unset, &unset, sizeof unset);
  return 0;
}

/* libc.so.6's functions, or, when it is not loaded, the getenv, setenv and
 * unsetenv this object's own references bind to. */
static inline pdi_libc_environment_t
pdi_libc_environment(void)
{
  pdi_libc_environment_t found = {getenv, setenv, unsetenv};
  pdi_find_libc_environment(&found);
  return found;
}

/* The file named by variable `name`, a relative one made absolute against
 * the current directory and set back, so that descendants which change
 * directory before they exec write to the same file (a report path given as
 * `counts.txt` means the directory the program started in). The value as it
 * is when it cannot be made absolute. */
static inline const char *
pdi_anchor_path_variable(const pdi_libc_environment_t *environment, const char *name)
{
  const char *value = environment->get(name);
  char directory[4096], absolute[8192];
  if (value == NULL || *value == '\0' || *value == '/' || getcwd(directory, sizeof directory) == NULL)
    return value;
  int length = snprintf(absolute, sizeof absolute, "%s/%s", strcmp(directory, "/") == 0 ? "" : directory, value);
  if (length < 0 || (size_t)length >= sizeof absolute || environment->set(name, absolute, 1) != 0)
    return value;
  return environment->get(name);
}

#endif
