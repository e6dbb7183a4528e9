/*
 * The trace backend: with a callback rule it logs every instrumented call,
 * like ltrace but in-process (docs/trace.md):
 *
 *     PID TID  [SECONDS ]caller!function(args) = ret [errno NAME] [<DURATION>]
 *
 * two spaces after the ids (DESIGN §3c), indented by depth, one line per
 * call, written when the call returns (a frame left by longjmp or an
 * exception ends in "= <abandoned>"). That is the text of a config that
 * declares the backend by hand; pdi trace, trace() and observe() set
 * PDI_TRACE_RING instead: each call is a record of an event ring
 * (trace-ring.h) and pdi's reader formats it (the addon's trace-text.c
 * into these very lines, trace-json.c into JSON).
 * Arguments and return values are decoded by prototype (prototypes.h);
 * other functions show PDI_TRACE_ARGS integer registers in hex. Settings come
 * from the environment: PDI_TRACE_OUTPUT (a file, else the stderr the process
 * started with), PDI_TRACE_ARGS, PDI_TRACE_STRING_SIZE, PDI_TRACE_DEPTH, PDI_TRACE_TIME,
 * PDI_TRACE_TIMESTAMP, PDI_TRACE_FUNCTIONS (filter.h),
 * PDI_TRACE_PROTOTYPES and PDI_TRACE_FOLLOW.
 *
 * Without PDI_TRACE_FOLLOW=1 only the process that starts is traced, across
 * its own execs (PDI_TRACE_ROOT names it): a forked child records nothing,
 * and a program a child execs instruments nothing and loses what would make
 * its own children load pdi. With it, every process and image writes its
 * own lines, into the file opened for appending.
 *
 * Hooks neither allocate nor lock: what pre decodes waits for post on a
 * per-thread stack of frames, mapped on the thread's first call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pdi/backend.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../core/kept-fd.h"
#include "../../core/libc-environment.h"
#include "../common/safe-read.h"
#include "exec-environment.h"
#include "filter.h"
#include "clock.h"
#include "format.h"
#include "names.h"
#include "output.h"
#include "marks.h"
#include "trace-ring.h"
#include "unseen.h"

#define MAX_RAW_ARGS 6
#define MAX_THREADS 4096
#define STACK_BYTES ((size_t)1 << 20)

typedef struct frame {
  uint64_t start_ns;
  uint32_t length;
  uint32_t session; /* the session_number its pre hook ran in */
  char text[];
} frame_t;

typedef struct thread_state {
  unsigned generation;
  pid_t tid;
  size_t top;
  char *line; /* line_cap bytes after the stack */
} thread_state_t;

/* An active trace session is open in this process (INIT to FINI). */
static int in_session;
/* The sessions INIT opened: a call in flight since an earlier one (an attach
 * replaced a killed pdi trace's) is not the new trace's to show, nor is one
 * whose pre recorded nothing for a gone reader (call->user UNRECORDED_CALL). */
static uint32_t session_number;
#define UNRECORDED_CALL UINTPTR_MAX
/* A call whose pre was not the trace's (unfollowed, too deep): nor is its post, in a child traced since (was posted). */
#define UNTRACED_CALL (UINTPTR_MAX - 1)
/* What INIT returns when one is: pdi says so (src/ts/attach). */
#define TRACE_ALREADY_ACTIVE 2

static int output_to_ring;       /* PDI_TRACE_RING; otherwise the text lines go where output.h says */
static int output_retired;       /* the output of a finished session, closed at the next start: see FINI */
static unsigned long lost_lines; /* lines a write failed for, and the first failure's errno: reported at exit */
static int lost_errno;
/* With events to a ring and PDI_TRACE_NOTICES=stderr (pdi trace --json): stderr as it was at start, for the
 * notices of the end (programs close theirs at exit); none otherwise. */
static kept_fd_t notice = {.fd = -1};
/* With events to a ring and PDI_TRACE_NOTICES=ring (pdi trace's text mode): the notices go to the ring, after the
 * process's calls. */
static int notices_to_ring;
static trace_format_options_t format_options = {32, 3, 1};
static long max_depth = -1; /* -1: no limit */
static int show_time, show_timestamp;
static uint64_t started_ns;
static size_t frame_cap, line_cap;
static pid_t own_pid;
static pid_t init_pid; /* the process image whose INIT ran: it alone says what -e could not see */
static unsigned fork_generation;
static thread_state_t *states[MAX_THREADS];
static pthread_key_t exit_key;
/* PDI_TRACE_RING: events go to a ring, not text. A copy: programs such as
 * nginx rewrite their environment strings (a process title), and forked
 * children open their rings here later. */
static char ring_directory_path[4096];
static const char *ring_directory;
static pid_t ring_reader;
static uint64_t ring_capacity = (uint64_t)1 << 22;
static int following;  /* PDI_TRACE_FOLLOW=1: children are traced too */
static int unfollowed; /* a forked child of a process not following: records nothing */
static int inactive;   /* not following, and not the traced process: instruments nothing */

/* The C library's getenv, setenv and unsetenv, not the program's (bash's
 * own ignored pdi trace's settings: ../../core/libc-environment.h). */
static pdi_libc_environment_t libc_environment = {getenv, setenv, unsetenv};

char *
trace_getenv(const char *name)
{
  return libc_environment.get(name);
}

static int
too_deep(const pdi_cb_call_t *call)
{
  return max_depth >= 0 && (unsigned long)call->depth > (unsigned long)max_depth;
}

/* Thread exit: the next thread given this state's index asks for its tid. */
static void
forget_thread(void *state)
{
  ((thread_state_t *)state)->tid = 0;
}

static long
number_from_env(const char *name, long fallback)
{
  const char *text = libc_environment.get(name);
  return text && *text ? strtol(text, NULL, 10) : fallback;
}

/* A followed child that cannot make its ring, most often one that runs as
 * a user who may not write into pdi's directory (a server that changed
 * user, then forked): said where the notices go, in its parent's ring while
 * it still maps it; then the child goes on untraced, as pdi does not wait
 * for a process without a ring. */
static void
say_untraced_child(int error)
{
  char text[sizeof ring_directory_path + 256];
  int length = snprintf(text, sizeof text,
                        "pdi: trace: process %d (uid %u) cannot make its event ring in %s: %s; it runs on untraced\n",
                        (int)getpid(), (unsigned)geteuid(), ring_directory, strerror(error));
  size_t size = length < 0 ? 0 : (size_t)length < sizeof text ? (size_t)length : sizeof text - 1;
  if (notices_to_ring) {
    trace_ring_notice(text, size);
  } else {
    /* -c has no channel for a process's notices (it says its own once, in its summary): the process's stderr. */
    ssize_t written = write(kept_fd_get(&notice, STDERR_FILENO), text, size); /* a failure loses it */
    (void)written;
  }
  trace_ring_forked();
  unfollowed = 1;
}

/* Not run for vfork (nor posix_spawn): such a child shares the parent's
 * memory until it execs, so nothing may be set for it here or elsewhere;
 * its calls before exec count as the parent's. */
static void
after_fork_in_child(void)
{
  own_pid = getpid();
  fork_generation++;
  safe_read_forked();
  if (!following) {
    unfollowed = 1;
    if (ring_directory != NULL)
      trace_ring_forked();
    /* A daemon child must not hold the trace file (or pdi's stderr) open, nor close a descriptor of the program
     * that has its number now. */
    trace_output_close();
    output_retired = 0;
  }
  trace_output_close_report(); /* a child reports lines lost on its own stderr */
  if (!following)
    return;
  /* A forked child's times count from its parent's start. */
  if (ring_directory != NULL && trace_ring_open_forked(ring_directory, ring_reader, ring_capacity, started_ns) != 0)
    say_untraced_child(errno);
}

/* Events to the ring of PDI_TRACE_RING (a directory), read by the process
 * PDI_TRACE_RING_READER, when set; 0 when not, -1 on failure. */
static int
open_ring(void)
{
  const char *directory = libc_environment.get("PDI_TRACE_RING");
  ring_directory = NULL;
  if (directory == NULL || *directory == '\0')
    return 0;
  if (strlen(directory) >= sizeof ring_directory_path)
    return -1;
  ring_directory = strcpy(ring_directory_path, directory);
  ring_reader = (pid_t)number_from_env("PDI_TRACE_RING_READER", 0);
  long shift = number_from_env("PDI_TRACE_RING_SHIFT", 22);
  ring_capacity = (uint64_t)1 << (shift < 16 ? 16 : shift > 30 ? 30 : shift);
  return trace_ring_open(directory, ring_reader, ring_capacity, started_ns);
}

/* Whether the process that reads the ring has ended or is ending: Node
 * that exited right after starting the program removes the ring's
 * directory first, then ends. */
static int
reader_gone(void)
{
  if (ring_directory != NULL && access(ring_directory, F_OK) != 0 && errno == ENOENT)
    return 1;
  char lock[sizeof ring_directory_path + 16];
  if (ring_directory != NULL)
    snprintf(lock, sizeof lock, "%s/" TRACE_RING_READER_LOCK, ring_directory);
  return ring_reader > 0 && !trace_ring_reader_running(ring_directory != NULL ? lock : NULL, ring_reader);
}

/* No stubs, no output, and nothing of pdi for the programs this one runs:
 * what INIT does when there is nothing to trace for. */
static int
go_untraced(void)
{
  inactive = 1;
  trace_stop_following_exec(&libc_environment);
  return 0;
}

/* Without -f, whether this process image is the traced process (the one
 * pdi started, or what it became by exec): PDI_TRACE_ROOT holds its pid,
 * set here by its first image (or by observe() in Node). Whether the file
 * of PDI_TRACE_OUTPUT is appended to is left in `appending`. */
static int
traced_process(int *appending)
{
  long root = number_from_env("PDI_TRACE_ROOT", 0);
  *appending = root != 0;
  if (root == 0) {
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    libc_environment.set("PDI_TRACE_ROOT", pid, 1); /* before main: one thread */
    return 1;
  }
  return root == (long)getpid();
}

static void
read_settings(void)
{
  long args = number_from_env("PDI_TRACE_ARGS", 3);
  format_options.raw_args = args < 0 ? 0 : args > MAX_RAW_ARGS ? MAX_RAW_ARGS : (unsigned)args;
  long size = number_from_env("PDI_TRACE_STRING_SIZE", 32);
  format_options.string_size = size < 0 ? 0 : size > 4096 ? 4096 : (size_t)size;
  max_depth = number_from_env("PDI_TRACE_DEPTH", -1);
  /* pdi trace -c counts calls and errors only: no argument is decoded, no string read (a system call each). */
  format_options.show_values = number_from_env("PDI_TRACE_VALUES", 1) != 0;
  show_time = ring_directory != NULL || number_from_env("PDI_TRACE_TIME", 0) != 0;
  show_timestamp = number_from_env("PDI_TRACE_TIMESTAMP", 0) != 0;
  trace_names_configure(number_from_env("PDI_TRACE_DEMANGLE", 0) != 0);
  /* Every argument a quoted, fully escaped string, and room for the rest. */
  frame_cap = TRACE_MAX_PROTO_ARGS * (4 * format_options.string_size + 24) + 64;
  /* Sized for the largest -s: thread states outlive a re-initialisation with other settings (only touched pages count). */
  line_cap = TRACE_MAX_PROTO_ARGS * (4 * 4096 + 24) + 64 + 4 * 4096 + 1024;
}

/* The descriptor the next line goes to, or -1 (output.h). */
static int
current_output(void)
{
  return output_to_ring ? -1 : trace_output_fd(own_pid);
}

int
PDI_BE_FUNC_INIT(const pdi_backend_t *self)
{
  (void)self;
  /* One trace per process: its ring, output and filter are this object's
   * globals, which a second session (pdi trace -p on a traced process) would
   * take from the first. pdi names the refusal (TRACE_ALREADY_ACTIVE). */
  if (in_session)
    return TRACE_ALREADY_ACTIVE;
  libc_environment = pdi_libc_environment();
  if (output_retired)
    trace_output_close();
  output_retired = 0;
  following = number_from_env("PDI_TRACE_FOLLOW", 0) == 1;
  int appending = following;
  inactive = 0;
  /* Left set by a fork after an earlier session of this process (pdi trace
   * -p of a forker, detached): its child, traced in turn, recorded nothing. */
  unfollowed = 0;
  if (!following && !traced_process(&appending)) {
    /* A child of the traced process (fork, then exec): no stubs, no output,
     * and nothing of pdi for the programs it runs in turn. */
    return go_untraced();
  }
  started_ns = trace_epoch_ns();
  if (open_ring() != 0)
    return reader_gone() ? go_untraced() : 1;
  /* Appending: followed processes, and the traced process's later images; pdi empties the file first. */
  output_to_ring = ring_directory != NULL;
  if (!output_to_ring &&
      trace_output_open(pdi_anchor_path_variable(&libc_environment, "PDI_TRACE_OUTPUT"), appending) != 0)
    return 1;
  read_settings();
  const char *notices = libc_environment.get("PDI_TRACE_NOTICES");
  kept_fd_close(&notice);
  if (output_to_ring && notices != NULL && strcmp(notices, "stderr") == 0)
    kept_fd_keep(&notice, kept_fd_copy_high(STDERR_FILENO));
  notices_to_ring = output_to_ring && notices != NULL && strcmp(notices, "ring") == 0;
  init_pid = own_pid = getpid();
  /* Once per load: the backend stays loaded when a session closes, and may be initialised again. */
  static int registered;
  if (!registered &&
      (pthread_atfork(NULL, NULL, after_fork_in_child) != 0 || pthread_key_create(&exit_key, forget_thread) != 0))
    return 1;
  registered = 1;
  if (trace_filter_load(libc_environment.get("PDI_TRACE_FUNCTIONS")) != 0 ||
      trace_protos_load(libc_environment.get("PDI_TRACE_PROTOTYPES")) != 0 ||
      safe_read_init(libc_environment.get("PDI_TRACE_PROBE")) != 0)
    return 1;
  trace_unseen_follow(libc_environment.get("PDI_TRACE_SEEN"), following);
  __atomic_add_fetch(&session_number, 1, __ATOMIC_RELEASE);
  in_session = 1;
  return 0;
}

static void
notice_to_fd(const char *line, size_t length, void *fd)
{
  ssize_t written = write(*(const int *)fd, line, length); /* a failure loses the notice with the output */
  (void)written;
}

static void
notice_to_ring(const char *line, size_t length, void *unused)
{
  (void)unused;
  trace_ring_notice(line, length);
}

void
PDI_BE_FUNC_FINI(void)
{
  if (!inactive && notices_to_ring && getpid() == init_pid) {
    trace_unseen_report(notice_to_ring, NULL);
  } else if (!inactive && getpid() == init_pid) {
    int notices = !output_to_ring ? current_output() : notice.fd >= 0 ? kept_fd_get(&notice, STDERR_FILENO) : -1;
    if (notices >= 0)
      trace_unseen_report(notice_to_fd, &notices);
  }
  kept_fd_close(&notice);
  unsigned long lost = __atomic_exchange_n(&lost_lines, 0, __ATOMIC_RELAXED);
  const char *file = libc_environment.get("PDI_TRACE_OUTPUT");
  /* Not for a pipe whose reader has gone (in a program that ignores
   * SIGPIPE): that reader wanted no more lines, and pdi says nothing of it. */
  if (lost != 0 && lost_errno != EPIPE && trace_output_to_file() && file != NULL && *file) {
    char name[4096 * 4 + 1], reason[128];
    trace_message_text(file, name, sizeof name);
    trace_message_reason(lost_errno, reason, sizeof reason);
    dprintf(trace_output_report_fd(), "pdi: trace: writing %s failed: %s (%lu line(s) of process %d lost)\n", name,
            reason, lost, (int)getpid());
  }
  trace_output_close_report();
  /* A session closed while the program runs (a detach, interpose()'s
   * close) may leave calls inside a hook that still write their line: the
   * descriptor stays open, so that no file the program opens next can take
   * its number and receive trace lines, until the next INIT. */
  output_retired = !output_to_ring;
  trace_ring_retire();
  in_session = 0;
}

int
PDI_BE_FUNC_CB_REQ(const pdi_cb_site_t *site)
{
  if (inactive)
    return 0;
  char *readable = trace_names_demangled(site->function);
  if (!trace_filter_wants(site->function, readable, site->callee)) {
    free(readable);
    return 0;
  }
  return trace_site_event(readable, trace_proto_find(site->function));
}

/* The calling thread's state, mapped on its first call (an index no thread
 * uses any more is taken over by the next thread, its stack empty, its tid
 * forgotten when the last one exited). */
static thread_state_t *
state_of(const pdi_cb_call_t *call)
{
  if (call->thread >= MAX_THREADS)
    return NULL;
  thread_state_t *state = states[call->thread];
  if (state == NULL) {
    size_t bytes = sizeof *state + STACK_BYTES + line_cap;
    void *mapped = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapped == MAP_FAILED)
      return NULL;
    state = mapped;
    state->line = (char *)(state + 1) + STACK_BYTES;
    states[call->thread] = state;
  }
  /* Not in a vfork child (posix_spawn's too), which runs on the parent's memory: its tid would stay the parent's. */
  if ((state->tid == 0 || state->generation != fork_generation) && getpid() == own_pid) {
    state->generation = fork_generation;
    state->tid = gettid();
    pthread_setspecific(exit_key, state);
  }
  return state;
}

/* The thread's cached tid; a vfork child's own before its thread cached one. */
static pid_t
tid_of(const thread_state_t *state)
{
  return state && state->tid != 0 && state->generation == fork_generation ? state->tid : gettid();
}

static char *
stack_of(thread_state_t *state)
{
  return (char *)(state + 1);
}

static void
put_raw_args(trace_buf_t *out, const pdi_cb_call_t *call)
{
  if (out->len + 8 * format_options.raw_args >= out->cap)
    return;
  for (unsigned i = 0; i < format_options.raw_args; i++) {
    uint64_t value = (uint64_t)pdi_arg_int(call, i);
    memcpy(out->data + out->len, &value, sizeof value);
    out->len += sizeof value;
  }
}

void
PDI_BE_FUNC_PRE_CB(pdi_cb_call_t *call)
{
  call->user = UNTRACED_CALL;
  if (unfollowed || too_deep(call))
    return;
  call->user = 0;
  if (trace_ring_reader_gone()) {
    call->user = UNRECORDED_CALL;
    return;
  }
  thread_state_t *state = state_of(call);
  if (state == NULL || state->top + sizeof(frame_t) + frame_cap > STACK_BYTES)
    return;
  frame_t *frame = (frame_t *)(stack_of(state) + state->top);
  trace_buf_t args = {frame->text, 0, frame_cap};
  const trace_proto_t *proto = trace_proto_at(trace_event_proto(call->event));
  if (format_options.show_values && proto == NULL && ring_directory != NULL)
    put_raw_args(&args, call); /* the reader shows them in hex: no formatting on the program's thread */
  else if (format_options.show_values)
    trace_format_args(&args, call, proto, &format_options);
  frame->length = (uint32_t)args.len;
  frame->session = __atomic_load_n(&session_number, __ATOMIC_ACQUIRE);
  frame->start_ns = show_time || show_timestamp ? trace_now_ns() : 0;
  call->user = state->top + 1;
  state->top += (sizeof(frame_t) + args.len + 7) & ~(size_t)7;
}

/* "PID TID  [SECONDS ]INDENT" */
static void
put_prefix(trace_buf_t *line, const pdi_cb_call_t *call, const thread_state_t *state, const frame_t *frame)
{
  tb_dec(line, own_pid);
  tb_char(line, ' ');
  tb_dec(line, tid_of(state));
  tb_str(line, "  ");
  if (show_timestamp) {
    tb_seconds(line, frame && frame->start_ns > started_ns ? frame->start_ns - started_ns : 0);
    tb_char(line, ' ');
  }
  for (unsigned i = 0; i < call->depth; i++)
    tb_str(line, "  ");
}

/* One record to the ring: the return value decoded into the state's line
 * buffer (raw for a function without a prototype), " errno NAME" split
 * from it. */
static void
post_to_ring(const pdi_cb_call_t *call, thread_state_t *state, const frame_t *frame, int error)
{
  char fallback[512];
  trace_buf_t ret = state ? (trace_buf_t){state->line, 0, line_cap} : (trace_buf_t){fallback, 0, sizeof fallback};
  const char *errno_name = NULL;
  size_t errno_length = 0;
  const trace_proto_t *proto = trace_proto_at(trace_event_proto(call->event));
  if (call->abandoned) {
  } else if (proto == NULL) {
    uint64_t value = (uint64_t)pdi_ret_int(call);
    memcpy(ret.data, &value, sizeof value);
    ret.len = sizeof value;
  } else {
    trace_format_return(&ret, call, proto, error, &format_options);
    /* Only a prototype marked '!' can add " errno NAME" (format.c). */
    const char *mark = proto->spec[1] == '!' ? memmem(ret.data, ret.len, " errno ", 7) : NULL;
    if (mark != NULL) {
      errno_name = mark + 7;
      errno_length = ret.len - (size_t)(errno_name - ret.data);
      ret.len = (size_t)(mark - ret.data);
    }
  }
  const pdi_cb_site_t *site = call->site;
  uint64_t now = trace_now_ns();
  trace_ring_event_t event = {
      .pid = own_pid,
      .tid = tid_of(state),
      .thread = call->thread,
      .depth = call->depth,
      .flags = (call->abandoned ? TRACE_RECORD_ABANDONED : 0) | (proto == NULL ? TRACE_RECORD_RAW_VALUES : 0),
      .start_ns = frame ? frame->start_ns - started_ns : 0,
      .duration_ns = frame ? now - frame->start_ns : 0,
      .site = site,
      .site_strings = {site->object, trace_event_name(call->event, site->function), site->version, site->callee},
      .strings = {frame ? frame->text : NULL, call->abandoned ? NULL : ret.data, errno_name},
      .lengths = {frame ? frame->length : 0, ret.len, errno_length},
  };
  trace_ring_write(&event);
}

void
PDI_BE_FUNC_POST_CB(pdi_cb_call_t *call)
{
  int error = errno;
  if (call->user == UNTRACED_CALL) {
    call->user = 0;
    return;
  }
  if (unfollowed || too_deep(call))
    return;
  if (call->user == UNRECORDED_CALL) {
    trace_ring_lost_to_gone_reader(); /* in its session's ring; not in a later one, whose reader runs */
    call->user = 0;
    return;
  }
  thread_state_t *state = state_of(call);
  frame_t *frame = NULL;
  if (state != NULL && call->user != 0) {
    state->top = call->user - 1;
    frame = (frame_t *)(stack_of(state) + state->top);
    if (frame->session != __atomic_load_n(&session_number, __ATOMIC_ACQUIRE)) {
      call->user = 0;
      errno = error;
      return;
    }
  }
  if (ring_directory != NULL) {
    if (!trace_ring_lost_to_gone_reader()) /* pdi was killed: nothing reads the calls any more */
      post_to_ring(call, state, frame, error);
    call->user = 0;
    errno = error;
    return;
  }
  char fallback[512];
  trace_buf_t line = state ? (trace_buf_t){state->line, 0, line_cap} : (trace_buf_t){fallback, 0, sizeof fallback};
  put_prefix(&line, call, state, frame);
  const char *object = strrchr(call->site->object, '/');
  tb_name(&line, object ? object + 1 : call->site->object);
  tb_char(&line, '!');
  tb_name(&line, trace_event_name(call->event, call->site->function));
  tb_char(&line, '(');
  tb_mem(&line, frame ? frame->text : "?", frame ? frame->length : 1);
  tb_str(&line, ") = ");
  if (call->abandoned)
    tb_str(&line, "<abandoned>");
  else
    trace_format_return(&line, call, trace_proto_at(trace_event_proto(call->event)), error, &format_options);
  if (show_time && frame != NULL) {
    tb_str(&line, " <");
    tb_seconds(&line, trace_now_ns() - frame->start_ns);
    tb_char(&line, '>');
  }
  line.cap++; /* the byte kept for the newline */
  tb_char(&line, '\n');
  int fd = current_output();
  if (fd < 0 || write(fd, line.data, line.len) < 0) {
    int none = 0;
    __atomic_compare_exchange_n(&lost_errno, &none, fd < 0 ? EBADF : errno, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    __atomic_fetch_add(&lost_lines, 1, __ATOMIC_RELAXED);
  }
  call->user = 0;
}
