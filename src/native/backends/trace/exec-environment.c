/* The environment of a traced process's later programs (exec-environment.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pdi/backend.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec-environment.h"

/* Whether the LD_PRELOAD entry `entry` (`length` bytes) names the core:
 * the file `core` (when it could be read), or the very path it was loaded
 * by, which pdi may have removed since (a link of its own, at its exit). */
static int
names_file(const char *entry, size_t length, const struct stat *core, const char *core_path)
{
  char path[4096];
  struct stat file;
  if (length == 0 || length >= sizeof path)
    return 0;
  memcpy(path, entry, length);
  path[length] = '\0';
  if (strcmp(path, core_path) == 0)
    return 1;
  return core != NULL && stat(path, &file) == 0 && file.st_dev == core->st_dev && file.st_ino == core->st_ino;
}

/* LD_PRELOAD without the core that loaded this backend (the entry pdi
 * put first), so that an exec'd program does not even load pdi: loaded
 * without PDI_CONFIG the core does nothing, but its mere presence shows
 * (the loader's complaint about a 64-bit core in a 32-bit program, the
 * variable in the program's environment). Only the core's entries go, each
 * with the separator after it (before it, for the last entry): the rest of
 * the list is passed on byte for byte, its spaces and colons as written. */
static void
drop_core_preload(const pdi_libc_environment_t *environment)
{
  const char *list = environment->get("LD_PRELOAD");
  Dl_info info;
  struct stat core;
  if (list == NULL || pdi_arg_int == NULL || dladdr((void *)pdi_arg_int, &info) == 0 || info.dli_fname == NULL)
    return;
  const struct stat *readable = stat(info.dli_fname, &core) == 0 ? &core : NULL;
  char *kept = malloc(strlen(list) + 1);
  if (kept == NULL)
    return;
  size_t used = 0;
  int dropped = 0;
  int entries = 0;
  /* The loader separates entries with spaces or colons. */
  for (const char *entry = list; *entry != '\0';) {
    size_t length = strcspn(entry, " :");
    int last = entry[length] == '\0';
    if (names_file(entry, length, readable, info.dli_fname)) {
      dropped = 1;
      if (last && used > 0)
        used--; /* the separator written before it */
    } else {
      memcpy(kept + used, entry, length + !last);
      used += length + !last;
      entries += length > 0;
    }
    entry += length + !last;
  }
  kept[used] = '\0';
  if (dropped && entries == 0)
    environment->unset("LD_PRELOAD");
  else if (dropped)
    environment->set("LD_PRELOAD", kept, 1);
  free(kept);
}

void
trace_stop_following_exec(const pdi_libc_environment_t *environment)
{
  environment->unset("PDI_CONFIG");
  environment->unset("PDI_CONFIG_TEMPORARY");
  environment->unset("PDI_WARN_UNLOADED");
  environment->unset("PDI_MATCHED_MARKS");
  environment->unset("DI_CFG_FILE");
  environment->unset("PDI_CORE_LINK");
  environment->unset("PDI_LAUNCHER_PID");
  environment->unset("PDI_WARNINGS_FILE");
  environment->unset("PDI_SESSION_OWNER");
  for (char **entry = environ; *entry != NULL;) {
    char name[64];
    size_t length = strcspn(*entry, "=");
    if (strncmp(*entry, "PDI_TRACE_", 10) != 0 || length >= sizeof name) {
      entry++;
      continue;
    }
    memcpy(name, *entry, length);
    name[length] = '\0';
    environment->unset(name); /* moves the later entries down: look at this slot again */
  }
  drop_core_preload(environment);
}
