#ifndef PDI_INSPECT_H
#define PDI_INSPECT_H

/* `pdi inspect`: when PDI_INSPECT_OUT names a file, write the process
 * report there before main and, unless PDI_INSPECT_RUN=1, end the process. */
__attribute__((visibility("hidden"))) void pdi_inspect_from_environment(void);

#endif
