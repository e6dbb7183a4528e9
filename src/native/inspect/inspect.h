#ifndef PDI_INSPECT_H
#define PDI_INSPECT_H

/* `pdi inspect`: when PDI_INSPECT_OUT names a file, write the process
 * report there before main and, unless PDI_INSPECT_RUN=1, end the process. */
__attribute__((visibility("hidden"))) void pdi_inspect_from_environment(void);

/* Writes the process report (every import, or those of the objects matching
 * `imports` when not empty) to `path`: 0, or -1 after saying why on stderr.
 * Also what an attached process is asked for (pdi_attach_report). */
__attribute__((visibility("hidden"))) int pdi_inspect_write(const char *path, const char *imports);

#endif
