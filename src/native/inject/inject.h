/* pdi-inject: loads the pdi core into a running process and calls one of
 * its attach entry points there (docs/attach.md). One run is one operation;
 * the TypeScript front spawns it per attach, detach or report. */
#ifndef PDI_INJECT_H
#define PDI_INJECT_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "../arch/inject.h"

/* Exit statuses: a refusal or failure (one line on stderr), and the kernel's
 * EPERM from PTRACE_SEIZE, whose reason the caller works out and words. */
#define INJECT_FAILED 2
#define INJECT_NOT_PERMITTED 3

/* An address range of the target mapped from one of the files below. */
typedef struct {
  uintptr_t start, end;
} inject_range_t;

#define INJECT_MAX_RANGES 32

typedef struct {
  inject_range_t list[INJECT_MAX_RANGES];
  unsigned count;
} inject_ranges_t;

/* What the injector knows of the target before stopping any thread. */
typedef struct {
  pid_t pid;
  /* where /proc shows its program and maps: /proc/PID, or /proc/PID/task/TID
   * of a live thread when the main thread has ended (pthread_exit), which
   * leaves /proc/PID/exe unreadable and /proc/PID/maps empty */
  char proc[64];
  char libc[4096];             /* the path of its C library, as mapped */
  uintptr_t libc_bias;         /* where that library is loaded */
  inject_range_t libc_mapping; /* its first mapping, to open it by (/proc/PID/map_files) */
  uintptr_t dlopen, dlsym, dlerror;
  inject_ranges_t loader; /* ld.so: a thread stopped in there may hold its lock */
  inject_ranges_t core;   /* the code of pdi-preload.so and the bundled backends, when loaded */
  int core_mapped;        /* the core given on the command line is loaded, at core_bias */
  uintptr_t core_bias;
  inject_ranges_t libc_code;
  /* the code of the loader and of the C library's allocator and dl*
   * functions: a return address into it on a thread's stack says the thread
   * may hold their locks, even blocked in a system call (malloc_stats in a
   * write), and an injected dlopen on it would wait for itself */
  inject_ranges_t lock_code;
} inject_target_t;

/* Fails with one line on stderr and INJECT_FAILED. */
__attribute__((noreturn, format(printf, 1, 2))) void inject_fail(const char *fmt, ...);

/* target.c: checks the program of `pid` (running, dynamic, this machine's
 * architecture, a C library with dlopen) and reads its maps. */
void inject_target_read(inject_target_t *target, pid_t pid, const char *core);

/* The addresses in the target of the loaded core's functions `names` (read
 * from the core's file in one mapping, as the C library's are), each 0 when
 * the core is not loaded or lacks it (at most 4 names): a detach finds pdi_attach_close so,
 * without calling dlopen and dlsym, whose loader calls a trace of the C
 * library would see. */
void inject_core_functions(const inject_target_t *target, const char *core, const char *const *names, size_t count,
                           uintptr_t *addresses);

/* A thread held for calls, and what must be given back to it. */
typedef struct {
  pid_t pid, tid;
  pdi_inject_regs_t saved;
  siginfo_t *deferred; /* signals that came while it was borrowed, in order */
  size_t deferred_count, deferred_cap;
  uintptr_t scratch; /* the next free byte below, going down */
} inject_thread_t;

/* thread.c: seizes one thread of the target at a safe point. */
void inject_thread_hold(inject_thread_t *thread, const inject_target_t *target);
/* Writes `size` bytes to the held thread's stack scratch; their address. */
uintptr_t inject_push(inject_thread_t *thread, const void *data, size_t size);
/* Calls fn(args) in the target on the held thread; its integer result. */
uintptr_t inject_call(inject_thread_t *thread, uintptr_t fn, const uintptr_t *args, unsigned count);
/* A NUL-terminated string of the target (at most size - 1 bytes). */
void inject_read_string(inject_thread_t *thread, uintptr_t address, char *out, size_t size);
/* Restores the thread as it was and lets it go, with any signal that came
 * meanwhile; 0, or -1 after saying why. */
int inject_thread_release(inject_thread_t *thread);
/* Releases the held thread, if any: inject_fail does, before exiting. */
void inject_release_held(void);

#endif
