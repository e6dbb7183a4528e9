/* What the parts of the comux-accept backend share: the replay claim of the
 * process tree, the message and log descriptors, and the guardian. */
#ifndef PDI_COMUX_ACCEPT_H
#define PDI_COMUX_ACCEPT_H

#include <sys/types.h>

/* Shared by every process forked from the started one (MAP_SHARED). */
typedef struct comux_tree {
  pid_t guardian;
  pid_t claimer;    /* the process that replays, 0 until one waits for a client */
  int listened;     /* some process of the tree listened */
  int done;         /* every chunk was sent and every reply collected */
  int fatal_signal; /* the signal that ended the claimer, when its handler saw it */
  int exited;       /* the claimer called exit(exit_status) */
  int exit_status;
} comux_tree_t;

extern comux_tree_t *tree;

/* The stderr and log file the process started with (-1: none). */
extern int message_fd;
extern int log_fd;

/* One "pdi-comux: ..." line on fd, written with one write(). */
__attribute__((visibility("hidden"), format(printf, 2, 3))) void say(int fd, const char *fmt, ...);
#define LOG(...) say(log_fd, __VA_ARGS__)

/* Forks the server off the started process, which stays behind as its
 * guardian (guardian.c) and never returns; without shared memory or a fork,
 * the server runs unguarded. */
__attribute__((visibility("hidden"))) void comux_start_guardian(void);

#endif
