/* What the parts of the comux-accept backend share: the replay claim of the
 * process tree, the message and log descriptors, and the guardian. */
#ifndef PDI_COMUX_ACCEPT_H
#define PDI_COMUX_ACCEPT_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Shared by every process of the server (MAP_SHARED, and inherited across
 * exec through PDI_COMUX_SHARED). */
#define COMUX_TREE_MAGIC 0x78756d6f63696470ull /* "pdicomux" */
#define COMUX_TREE_PAGE 4096                   /* the tree's own room; the input follows */
#define COMUX_UNIX_PATHS 16
#define COMUX_UNIX_PATH_SIZE 108 /* sun_path */
/* How far the replaying process got, in memory it shares with whoever
 * reports its end: the guardian (the tree's own record) or, for a fork-mode
 * child, its fork server (forks.c). */
typedef struct comux_progress {
  int done;   /* every chunk was sent and every reply collected */
  int exited; /* the backend ended it (a hang), or it called exit(exit_status) unseen */
  int exit_status;
  uint32_t chunks_started; /* chunks the controller has started, in schedule order */
} comux_progress_t;

/* A descriptor the fork mode needs, by its number and what it is (handback.c). */
#define COMUX_GIVEN_MAX 12
typedef struct comux_given {
  int number;
  uint64_t dev, ino;
} comux_given_t;

typedef struct comux_tree {
  uint64_t magic;        /* COMUX_TREE_MAGIC, for a process that maps it from PDI_COMUX_SHARED */
  uint64_t input_length; /* the input follows the tree's page */
  pid_t guardian;
  pid_t claimer;    /* the process that replays, 0 until one waits for a client */
  int listened;     /* some process of the tree listened */
  int fatal_signal; /* the signal that ended the claimer, when its handler saw it */
  comux_progress_t progress;
  uint64_t control_device;              /* fork mode: what the control channel is (its fstat), so that a process that */
  uint64_t control_inode;               /* claims knows it from a file the server opened at the same descriptor */
  int given_count;                      /* fork mode's descriptors as the started process had them (handback.c), */
  comux_given_t given[COMUX_GIVEN_MAX]; /* which a process that executed since checks its own against */
  int unix_count; /* Unix sockets the tree listens on at an absolute path (more than fit are counted) */
  char unix_paths[COMUX_UNIX_PATHS][COMUX_UNIX_PATH_SIZE];
} comux_tree_t;
_Static_assert(sizeof(comux_tree_t) <= COMUX_TREE_PAGE, "the tree fits its page");

extern comux_tree_t *tree;

/* This process's progress record: the tree's, a fork-mode child's own
 * (forks.c), or NULL (an unguarded replay). */
__attribute__((visibility("hidden"))) comux_progress_t *comux_progress(void);

/* The input being replayed (comux-accept.c). */
struct comux_doc;
extern struct comux_doc doc;

/* The replay's settings, from the PDI_COMUX_* variables at start
 * (comux-accept.c, docs/comux.md). */
extern int no_wait;        /* PDI_COMUX_NO_WAIT */
extern int exit_immediate; /* PDI_COMUX_EXIT_IMMEDIATE */
extern long idle_ms;       /* PDI_COMUX_IDLE_MS */
extern long timeout_ms;    /* PDI_COMUX_TIMEOUT_MS */
extern int detect_rest;    /* not PDI_COMUX_IDLE_ONLY */

/* The stdout (replies), stderr and log the process started with (-1:
 * none), kept above the server's descriptors; log_fd is stderr's or none (a
 * log file is comux_log_fd's). */
extern int output_fd;
extern int message_fd;
extern int log_fd;

/* How inputs reach the server (PDI_COMUX_FORK): one per process, read at
 * start (none); one per forked child, from pdi's control channel (control);
 * one per forked child of AFL++'s fork server (afl). */
typedef enum { COMUX_FORK_NONE, COMUX_FORK_CONTROL, COMUX_FORK_AFL } comux_fork_mode_t;
extern comux_fork_mode_t fork_mode;

/* Set in a child forked for one input (forks.c): it replays that input and
 * ends; it is not the claimer the guardian waits for. */
extern int forked_child;

/* pdi's descriptors given back to a server that closed them (handback.c):
 * INIT remembers stdout's and stderr's copies; the guardian offers them (and
 * the control channel) to the claimer, which takes them back at its claim
 * when the server closed or reused any of them. */
__attribute__((visibility("hidden"))) void comux_handback_remember(void);
__attribute__((visibility("hidden"))) void comux_handback_remember_given(int control, int input);
__attribute__((visibility("hidden"))) void comux_handback_offer(void);
__attribute__((visibility("hidden"))) void comux_handback_serve(pid_t claimer);
__attribute__((visibility("hidden"))) void comux_handback_take(int control, int input);
/* The descriptor pdi gave at number `inherited` (a request's /dev/fd/N): its copy after a handback, else itself. */
__attribute__((visibility("hidden"))) int comux_handback_descriptor(int inherited);
/* Fork mode's control channel (forks.c): its descriptor (-1 outside fork mode), and the copy to use instead. */
__attribute__((visibility("hidden"))) int comux_fork_control_fd(void);
__attribute__((visibility("hidden"))) void comux_fork_control_replace(int fd);
/* The copy of stdin AFL++'s inputs come on: the copy to use instead (comux-accept.c). */
__attribute__((visibility("hidden"))) void comux_input_replace(int fd);

/* One "pdi-comux: ..." line on fd, written with one write(). */
__attribute__((visibility("hidden"), format(printf, 2, 3))) void say(int fd, const char *fmt, ...);
/* Where LOG writes: log_fd, or the file of PDI_COMUX_LOG checked first, opened again when the server has closed it
 * (comux-accept.c); -1: nowhere. */
__attribute__((visibility("hidden"))) int comux_log_fd(void);
#define LOG(...) say(comux_log_fd(), __VA_ARGS__)

/* Forks the server off the started process, which stays behind as its
 * guardian (guardian.c) and never returns; without shared memory or a fork,
 * the server runs unguarded. */
__attribute__((visibility("hidden"))) void comux_start_guardian(void);

/* The guardian's sentinel (sentinel.c): comux_start_sentinel starts it, in
 * fork mode when the tree's memory is a memfd, in the guardian before the
 * server is forked;
 * the server forgets it (comux_sentinel_forget); the guardian, once it has
 * cleaned up, releases it and waits until it has gone. A guardian killed
 * with SIGKILL never does: the sentinel then kills every process that shares
 * the tree's memory. */
__attribute__((visibility("hidden"))) void comux_start_sentinel(void);
__attribute__((visibility("hidden"))) void comux_sentinel_forget(void);
__attribute__((visibility("hidden"))) void comux_release_sentinel(void);

/* The files of the Unix sockets the server listened on (tree->unix_paths),
 * removed once the server is gone when no process listens on them any more:
 * a server ended by the replay cannot remove them itself (nginx does at its
 * own exit), and the next replay's bind would fail (sentinel.c). */
__attribute__((visibility("hidden"))) void comux_remove_unix_sockets(void);
/* Removes pdi comux run's temporary config (PDI_COMUX_TEMPORARY_CONFIG), which
 * no process needs once the replay is claimed or pdi is gone. */
__attribute__((visibility("hidden"))) void comux_remove_temporary_config(void);
/* Removes the temporary config and the directory of the core's link
 * (PDI_CORE_LINK: pdi installed under a path the loader cannot preload),
 * for the guardian when pdi, which removes them, is gone. */
__attribute__((visibility("hidden"))) void comux_remove_core_link(void);

/* The tree's shared memory (guardian.c): the claim and state, then the
 * input, in a memfd that every process of the server inherits, across exec
 * too (PDI_COMUX_SHARED names its descriptor). comux_share makes it in the
 * started process and returns the shared copy of the input (NULL when it
 * cannot: the tree is then forked memory only); comux_join maps it in a
 * program executed in the tree and returns the input, or NULL when there
 * is no tree. Both set `tree`. */
__attribute__((visibility("hidden"))) unsigned char *comux_share(const unsigned char *input, size_t length);
__attribute__((visibility("hidden"))) unsigned char *comux_join(size_t *length);

/* Whether this process is at rest (server-state.c): every thread but the caller
 * sleeps (state S in /proc), none in a timed sleep, and it has no child
 * process, so nothing will happen until a descriptor, a timer or a signal
 * wakes it. */
__attribute__((visibility("hidden"))) int comux_server_quiet(void);

/* Whether the thread whose /proc syscall file is open as `syscall_fd` sleeps
 * in nanosleep or clock_nanosleep (sleep, usleep): a server that waits before
 * it answers, or between two parts of its reply, is not at rest. Also when
 * the file says "running" (the thread woke after its state was read, or the
 * kernel caught it on its way to sleep): the caller looks again later. */
__attribute__((visibility("hidden"))) int comux_sleeps_on_timer(int syscall_fd);

/* Replies without a timer (replies.c): the connections this process
 * accepts are noted once the replay starts, so that the controller can look
 * at the server's side of a connection. comux_reply_over says whether the
 * reply on the controller's client socket is complete: the server has read
 * everything sent on it, has nothing left to send on it, and is at rest. */
__attribute__((visibility("hidden"))) void comux_track_accepts(void);
/* Called by the thread that waits for a client, in the process that
 * replays (a fork server's child): whether it is the main thread, so that
 * the process's rest can be read from /proc/self/stat (replies.c). */
__attribute__((visibility("hidden"))) void comux_note_waiting_thread(void);
__attribute__((visibility("hidden"))) void comux_note_accepted(int fd);
__attribute__((visibility("hidden"))) int comux_reply_over(int client_fd);
/* Whether the server has handled what the client did on client_fd and is
 * at rest: it read everything sent on the connection (when its side is in
 * this process; client_fd -1: a connection just closed), and it is at rest. */
__attribute__((visibility("hidden"))) int comux_settled(int client_fd);
/* Whether the connection of client_fd is not in this process and a
 * connection waits in the listening socket's accept queue while the server
 * is at rest: a server that does not accept it (it waits on another
 * connection) until something else happens. */
__attribute__((visibility("hidden"))) int comux_connection_waits(int client_fd);

/* The status the claimer ends with, for a guardian that cannot wait for it
 * (guardian.c); and, from the claimer's controller, recording its fatal
 * signal or exit status when the guardian is not its parent (a forked worker
 * or a daemon). */
__attribute__((visibility("hidden"))) void comux_record_status(int status);
__attribute__((visibility("hidden"))) void comux_watch_claimer_end(void);

/*
 * comux_watch_crashes, in the process that replays as the controller
 * starts: a fatal signal of the server (over the default action only) first
 * has the controller copy the reply it collects to the output
 * (comux_drain_before_crash, in the crashing thread; at most 200 ms).
 */
__attribute__((visibility("hidden"))) void comux_watch_crashes(void);
__attribute__((visibility("hidden"))) void comux_drain_before_crash(void);
/* "exited with status N", "was killed by signal N (NAME)", "ended" (comux-accept.c). */
__attribute__((visibility("hidden"))) void comux_describe_status(int status, char *text, size_t size);

/* A server that forks per connection (guardian.c): comux_watch_descendants,
 * in the replaying process, makes the memory its children report to;
 * comux_watch_forked, in each child forked during the replay, records the
 * child's fatal signal there; comux_end_like_forked, when the replay is over,
 * ends the replaying process with that signal (one line on stderr), so that
 * a crash in a child is the replay's crash; it returns when no child
 * crashed. */
__attribute__((visibility("hidden"))) void comux_watch_descendants(void);
/* The pthread_atfork prepare handler of the replaying process: maps that
 * memory at its first fork. */
__attribute__((visibility("hidden"))) void comux_prepare_fork(void);
__attribute__((visibility("hidden"))) void comux_watch_forked(void);
__attribute__((visibility("hidden"))) void comux_end_like_forked(void);

/* Whether a thread of this process other than the caller, or a process it
 * forked (or one of theirs), is running (state R in /proc) now and again
 * 20 ms later: at a reply's timeout, what tells a server that loops (or a
 * forking server whose handler loops) from one that sleeps, waiting for
 * more input (server-state.c). */
__attribute__((visibility("hidden"))) int comux_server_busy(void);
/* How often the end of a reply, or the server's rest, is looked for while
 * nothing happens (controller.c, server-state.c). */
#define COMUX_REST_CHECK_NS 200000

/* CLOCK_MONOTONIC in milliseconds (controller.c). */
__attribute__((visibility("hidden"))) long comux_now_ms(void);

/* Ends the replay as a hang (status 5; in an AFL++ child, by never ending). */
__attribute__((visibility("hidden"), noreturn)) void comux_end_as_hang(void);

/* At the end of a replay whose server rested before: waits while the server
 * runs for it to rest or end (its own exit then decides the status), up to
 * timeout_ms, a hang past that (server-state.c). */
__attribute__((visibility("hidden"))) void comux_wait_for_running_server(void);

/* At the end of a replay whose server never rested: a process it forked
 * that runs on for timeout_ms is a hang (server-state.c). */
__attribute__((visibility("hidden"))) void comux_wait_for_running_children(void);

/* The listening socket's address (wrappers.c): 1 once the server listens
 * (either pointer may be NULL), else 0. */
struct sockaddr_storage;
__attribute__((visibility("hidden"))) int comux_listener(struct sockaddr_storage *address, socklen_t *length);

/* The connections waiting in the accept queue of the listening socket
 * (wrappers.c), or -1 when this process does not hold it or it is not TCP. */
__attribute__((visibility("hidden"))) int comux_listener_queue(void);

/* Whether the replay is still to start in this process: it listens, is not
 * passive, and has not come to a wait for a client yet (comux-accept.c). */
__attribute__((visibility("hidden"))) int comux_claim_open(void);

/* The server is about to wait for a client in `wait` (a function's name):
 * starts the replay, once per tree (comux-accept.c). */
__attribute__((visibility("hidden"))) void comux_server_waits(const char *wait);

/* In a wrapper of a wait for a client: a thread other than the one that
 * ends the finished replay sleeps until the process is gone. */
__attribute__((visibility("hidden"))) void comux_hold_if_finishing(void);

/* In a fork server's child at its end: its listening descriptors name
 * fresh sockets, so that its exit handlers leave the fork server's alone. */
__attribute__((visibility("hidden"))) void comux_spare_listeners(void);

/* In a fork server's child at its start: the connections an earlier child's
 * replay left in the listening sockets' accept queues are closed (wrappers.c);
 * how many. */
__attribute__((visibility("hidden"))) int comux_drop_queued_connections(void);

/* The line, written to `fd`, for replaying process `pid` that exited (wait
 * status) before its replay was over, as `progress` tells; nothing
 * otherwise. The guardian says it, and a fork server of its children. */
__attribute__((visibility("hidden"))) void comux_say_unfinished(int fd, pid_t pid, int status,
                                                                const comux_progress_t *progress);

/* The threads of this process, from /proc/self/stat; 0 when unknown
 * (replies.c). */
__attribute__((visibility("hidden"))) int comux_thread_count(void);

/* The state letter of one thread of this process (/proc/self/task), 0 when
 * it cannot be read. */
__attribute__((visibility("hidden"))) char comux_task_state(long tid);

/* The state letter of process `pid` (and its parent's pid), 0 when it is
 * gone (server-state.c). */
__attribute__((visibility("hidden"))) char comux_process_state(pid_t pid, pid_t *parent);

/* Parses `bytes` (which must outlive the replay) as the input to replay, in
 * place of the previous one: 0, or -1 with the reader's message. */
__attribute__((visibility("hidden"))) int comux_take_input(unsigned char *bytes, size_t length, char *error,
                                                           size_t error_size);

/* Reads the input to replay from PDI_COMUX_INPUT or stdin and takes it:
 * once at start (share: the copy every process of the tree finds, across
 * exec too), or in each child of AFL++'s fork server. An unreadable or
 * invalid input ends the process with status 3, one line on stderr. */
__attribute__((visibility("hidden"))) void comux_read_input(int share);

/* Fork mode (forks.c), entered by the claimer at its first wait for a client:
 * serves inputs until the control channel or AFL++ closes (then ends the
 * process) and returns only in a child forked for one input, with that input
 * taken; the caller then replays it. Without a fork server to serve (AFL++
 * absent), reads one input and returns in the process itself. */
__attribute__((visibility("hidden"))) void comux_serve_forks(void);

/* The controller thread (controller.c): comux_controller_stack maps its
 * stack, once in the process that claims (a fork server's children then
 * start theirs on their own copy; NULL when it cannot: glibc's own stack);
 * comux_start_controller starts it on that stack in the process that
 * replays. */
__attribute__((visibility("hidden"))) void *comux_controller_stack(void);
__attribute__((visibility("hidden"))) void comux_start_controller(void *stack);

/* The epoll registrations of a fork server (epoll-sets.c): noted from the
 * server's epoll_ctl calls in fork mode, and copied into fresh epoll
 * instances in each forked child, so that no child changes the set the next
 * one starts from. */
struct epoll_event;
__attribute__((visibility("hidden"))) void comux_note_epoll_ctl(int epfd, int op, int fd,
                                                                const struct epoll_event *event);
__attribute__((visibility("hidden"))) void comux_unshare_epoll(void);
/* Asked once by the fork server before its first fork: which recorded sets
 * are epoll instances still, and their descriptor flags. */
__attribute__((visibility("hidden"))) void comux_check_epoll_sets(void);
/* Fork mode (named-streams.c): the server's descriptors on its stdout and stderr pipes besides 1 and 2 (a log opened
 * as /dev/stderr), found once by the fork server; each child points them at its own output and errors. */
__attribute__((visibility("hidden"))) void comux_note_named_streams(void);
__attribute__((visibility("hidden"))) void comux_redirect_named_streams(int output, int error);

/* Whether fd is an epoll instance (epoll-sets.c). */
__attribute__((visibility("hidden"))) int comux_is_epoll(int fd);

/* Checks PDI_COMUX_FORK and PDI_COMUX_CONTROL at start: 0, or -1 after one
 * line on stderr. */
__attribute__((visibility("hidden"))) int comux_fork_setup(void);

/* Whether fork mode's control channel is open in this process: 0 (or not in
 * that mode), or -1 after one line on stderr; `claiming` words it for the
 * process that waits for a client. */
__attribute__((visibility("hidden"))) int comux_fork_control_open(int claiming);

#endif
