/* What a traced process leaves its later programs when it is not followed:
 * an environment without pdi (exec-environment.c). */
#ifndef PDI_TRACE_EXEC_ENVIRONMENT_H
#define PDI_TRACE_EXEC_ENVIRONMENT_H

#include "../../core/libc-environment.h"

/* Not following: the programs this process execs start as without pdi.
 * Done before main, so that programs reading the environment later (a
 * shell's variable table, posix_spawn with environ) see the result. */
void trace_stop_following_exec(const pdi_libc_environment_t *environment);

#endif
