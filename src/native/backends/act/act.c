/*
 * The act backend (docs/act.md): with a callback rule it changes the calls
 * that its rules select, without C from the user: fail a call with an errno
 * (return=-1 errno=ENOENT), give a result (return=0, return=double:1.5),
 * delay it, raise a signal, or only count. Rules come from PDI_ACT_RULES
 * (act-spec.h); PDI_ACT_REPORT names a file for the counts at exit (one
 * JSON object per rule and line), and PDI_ACT_VERBOSE=1 prints them on
 * stderr.
 *
 * The hooks neither allocate nor lock: counters are atomic, delays and
 * signals are raw system calls, a string argument is read without faulting
 * (safe-read.h: an invalid pointer does not match, it does not crash).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pdi/backend.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../../core/kept-fd.h"
#include "../../core/proc-self.h"
#include "../common/safe-read.h"
#include "act-spec.h"

static act_rule_t rules[ACT_MAX_RULES];
static unsigned rule_count;
static int configured; /* by the core (config `act` rules), not by PDI_ACT_RULES */
static char report_path[PATH_MAX];
static char main_path[PATH_MAX];
static kept_fd_t verbose_report = {
    .fd = -1}; /* PDI_ACT_VERBOSE: the stderr the process started with (programs close theirs) */
/* Configured rules come in sessions, which may close in any order (interpose()
 * in a Node process): each session's report file (PDI_ACT_REPORT when it was
 * configured), kept at its first rule, and the rules of the sessions already
 * closed, whose strings are gone with their config. */
static char *session_reports[ACT_MAX_RULES];
static unsigned char released[ACT_MAX_RULES];
/* Each rule's part in its probability sample, from its function's name: the
 * rule's place among the rules would make its sample change with the rules
 * before it (a merged config, a second session). Made here, as the hooks may
 * not read a closed session's strings. */
static uint64_t sample_salts[ACT_MAX_RULES];

/* FNV-1a of the function's name, without its @VERSION. */
static uint64_t
sample_salt(const char *function)
{
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const char *c = function; c != NULL && *c != '\0' && *c != '@'; c++)
    hash = (hash ^ (unsigned char)*c) * 0x100000001b3ull;
  return hash;
}

/* Whether rule `rule` is for the caller `object`. */
static int
object_matches(const char *pattern, const char *object)
{
  if (strcmp(pattern, "*") == 0)
    return 1;
  if (strcmp(pattern, "$main") == 0)
    return strcmp(object, main_path) == 0;
  const char *base = strrchr(object, '/');
  return fnmatch(pattern, object, 0) == 0 || fnmatch(pattern, base ? base + 1 : object, 0) == 0;
}

static void
open_reports(int verbose)
{
  const char *report = getenv("PDI_ACT_REPORT");
  snprintf(report_path, sizeof report_path, "%s", report != NULL ? report : "");
  if (verbose && verbose_report.fd < 0)
    kept_fd_copy_stderr(&verbose_report);
}

int
PDI_BE_FUNC_INIT(const pdi_backend_t *self)
{
  (void)self;
  ssize_t n = pdi_proc_self_readlink_exe(main_path, sizeof main_path - 1);
  main_path[n > 0 ? n : 0] = '\0';
  /* Once per load: a string condition reads the memory of the process it runs in. */
  static int registered;
  if (!registered &&
      (safe_read_init(getenv("PDI_ACT_PROBE")) != 0 || pthread_atfork(NULL, NULL, safe_read_forked) != 0)) {
    fprintf(stderr, "pdi: act: cannot set up reading string arguments: %s\n", strerror(errno));
    return 1;
  }
  registered = 1;
  if (configured)
    return 0;
  char error[512];
  /* The rules point into the text: it is kept for the life of the process. */
  const char *text = getenv("PDI_ACT_RULES");
  char *copy = strdup(text != NULL ? text : "");
  if (copy == NULL || act_parse(copy, rules, &rule_count, error, sizeof error) != 0) {
    fprintf(stderr, "pdi: %s\n", copy == NULL ? "act: out of memory" : error);
    return 1;
  }
  for (unsigned i = 0; i < rule_count; i++)
    sample_salts[i] = sample_salt(rules[i].function);
  const char *verbose = getenv("PDI_ACT_VERBOSE");
  open_reports(verbose != NULL && strcmp(verbose, "1") == 0);
  return 0;
}

/* The rules of each instrumented site, found at install (cb_req may
 * allocate, hooks may not): the event is 1 + the index of the site's list
 * here; sites with the same rules share one. A list ends with a negative
 * entry. */
#define MAX_LISTS 1024
static short *site_lists[MAX_LISTS];
static unsigned list_count;

static int
same_list(const short *a, const short *b)
{
  while (*a >= 0 && *a == *b)
    a++, b++;
  return *a == *b;
}

/* The event of a site whose rules are `list` (ending with -1). */
static int
site_event(const short *list, unsigned n)
{
  if (n == 0)
    return 0;
  for (unsigned i = 0; i < list_count; i++)
    if (same_list(site_lists[i], list))
      return (int)i + 1;
  if (list_count == MAX_LISTS || (site_lists[list_count] = malloc((n + 1) * sizeof list[0])) == NULL)
    return 0; /* beyond the table: the site is left alone */
  memcpy(site_lists[list_count], list, (n + 1) * sizeof list[0]);
  return (int)++list_count;
}

int
PDI_BE_FUNC_CB_REQ(const pdi_cb_site_t *site)
{
  if (configured)
    return 0; /* the core asks pdi_act_site_event instead */
  short list[ACT_MAX_RULES + 1];
  unsigned n = 0;
  for (unsigned i = 0; i < rule_count; i++)
    if (strcmp(rules[i].function, site->function) == 0 && object_matches(rules[i].object, site->object))
      list[n++] = (short)i;
  list[n] = -1;
  return site_event(list, n);
}

/* A glob the hooks read, in memory of the backend's own that is never freed:
 * the session's copy goes with its config when it closes, while a hook of
 * another thread may still be matching a call it began before the close
 * (interpose() in a Node process with workers: the read crashed the process
 * with SIGSEGV). Kept once per distinct glob, so that sessions opened and
 * closed in a loop take no more memory. */
static const char *
kept_glob(const char *glob)
{
  static struct kept {
    struct kept *next;
    char text[];
  } * kept;
  if (glob == NULL)
    return NULL;
  for (const struct kept *k = kept; k != NULL; k = k->next)
    if (strcmp(k->text, glob) == 0)
      return k->text;
  struct kept *copy = malloc(sizeof *copy + strlen(glob) + 1);
  if (copy == NULL)
    return NULL; /* matches nothing */
  strcpy(copy->text, glob);
  copy->next = kept;
  kept = copy;
  return copy->text;
}

/* The core's side (config `act` rules, docs/act.md), private to pdi: the
 * rules come parsed from the config (their strings stay the core's while the
 * session is open) and the core, which matches objects as every rule does,
 * names each site's rules. Every session of the process (pdi run's, then
 * pdi attach's) adds its rules after those already here, whose sites keep
 * their events: the backend's number of the session's first rule, -1 past
 * ACT_MAX_RULES in all, -2 when `rule_size` says that the core and the
 * backend were built from different sources. */
__attribute__((visibility("default"))) int
pdi_act_configure(const act_rule_t *given, unsigned count, size_t rule_size)
{
  if (rule_size != sizeof(act_rule_t))
    return -2;
  if (count > ACT_MAX_RULES - rule_count)
    return -1;
  unsigned first = rule_count;
  memcpy(&rules[first], given, count * sizeof rules[0]);
  for (unsigned i = first; i < first + count; i++) {
    rules[i].seen = rules[i].fired = 0;
    rules[i].arg_glob = kept_glob(rules[i].arg_glob);
    sample_salts[i] = sample_salt(rules[i].function);
    released[i] = 0;
  }
  /* The core logs the counts itself, where its log goes; the report file is this session's. */
  const char *report = getenv("PDI_ACT_REPORT");
  if (report != NULL && report[0] == '\0')
    report = NULL;
  /* The file of a session still open is that session's, not this one's: a
   * pdi attach session finds pdi run's in the environment the program inherited. */
  for (unsigned i = 0; report != NULL && i < first; i++)
    if (!released[i] && session_reports[i] != NULL && strcmp(session_reports[i], report) == 0)
      report = NULL;
  free(session_reports[first]);
  session_reports[first] = report != NULL ? strdup(report) : NULL;
  rule_count = first + count;
  configured = 1;
  return (int)first;
}

static void write_reports(const char *path, unsigned first, unsigned count);

/* A session closed (at exit too): its rules' counts go to its report file,
 * numbered from its first rule; its rules are given back once every later
 * session's are (sessions may close in any order). */
__attribute__((visibility("default"))) void
pdi_act_release(unsigned first, unsigned count)
{
  if (first + count > rule_count)
    return;
  write_reports(session_reports[first], first, count);
  free(session_reports[first]);
  session_reports[first] = NULL;
  for (unsigned i = first; i < first + count; i++)
    released[i] = 1;
  while (rule_count > 0 && released[rule_count - 1])
    rule_count--;
}

__attribute__((visibility("default"))) int
pdi_act_counts(unsigned rule, unsigned long *seen, unsigned long *fired)
{
  if (rule >= rule_count)
    return -1;
  *seen = __atomic_load_n(&rules[rule].seen, __ATOMIC_RELAXED);
  *fired = __atomic_load_n(&rules[rule].fired, __ATOMIC_RELAXED);
  return 0;
}

/* `list`: indexes of the configured rules, ending with -1. */
__attribute__((visibility("default"))) int
pdi_act_site_event(const short *list)
{
  unsigned n = 0;
  while (list[n] >= 0 && list[n] < (short)rule_count)
    n++;
  return list[n] < 0 ? site_event(list, n) : 0;
}

/* A uniform number in [0, 1) from the seed, the rule's salt and the call
 * number: the same calls fire in every run, whatever the threads'
 * interleaving and the other rules. */
static double
chance(uint64_t seed, uint64_t salt, unsigned long call)
{
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + salt * 0xbf58476d1ce4e5b9ull + call * 0x94d049bb133111ebull;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return (double)(x >> 11) / (double)(1ull << 53);
}

/* fnmatch without locale or allocation (it may do both): `*`, `?`,
 * `[...]` with ranges and `!`/`^`, `\` escapes; bytes compared as bytes. */
static int
glob_matches(const char *glob, const char *text)
{
  const char *star = NULL, *resume = NULL;
  while (*text != '\0') {
    if (*glob == '*') {
      star = ++glob;
      resume = text;
      continue;
    }
    int ok = 0;
    const char *after = glob + 1;
    if (*glob == '?') {
      ok = 1;
    } else if (*glob == '[') {
      const char *at = glob + 1;
      int negate = *at == '!' || *at == '^';
      at += negate;
      int found = 0;
      /* The reader refuses a '[' that nothing closes; this stops at its end all the same. */
      while (*at != '\0') {
        int range = at[1] == '-' && at[2] != ']' && at[2] != '\0';
        unsigned char low = (unsigned char)*at, high = range ? (unsigned char)at[2] : low;
        found |= (unsigned char)*text >= low && (unsigned char)*text <= high;
        at += range ? 3 : 1;
        if (*at == ']')
          break;
      }
      ok = *at == ']' && found != negate;
      after = *at == ']' ? at + 1 : at;
    } else {
      if (*glob == '\\' && glob[1] != '\0')
        after = ++glob + 1;
      ok = *glob == *text;
    }
    if (ok) {
      glob = after;
      text++;
    } else if (star != NULL) {
      glob = star;
      text = ++resume;
    } else {
      return 0;
    }
  }
  while (*glob == '*')
    glob++;
  return *glob == '\0';
}

/* Whether the string at `address` matches `glob`, read without faulting. */
static int
string_matches(uintptr_t address, const char *glob)
{
  if (glob == NULL)
    return 0; /* a rule whose slot a new session was filling */
  char text[4096];
  size_t got = safe_read_checked(address, text, sizeof text - 1);
  text[got] = '\0';
  return memchr(text, '\0', got) != NULL && glob_matches(glob, text);
}

/* Whether argument register `value` holds `wanted`. A value that fits in 32
 * bits is compared with the register's low half: an int argument leaves the
 * high half undefined (close(-1) passes 0x00000000ffffffff on x86-64, and a
 * truncated long keeps its high bits), as its callee reads only the low. */
static int
argument_equals(uintptr_t value, long wanted)
{
  if ((long)value == wanted)
    return 1;
  return wanted >= INT32_MIN && wanted <= (long)UINT32_MAX && (uint32_t)value == (uint32_t)wanted;
}

static int
conditions_hold(const act_rule_t *rule, unsigned index, unsigned long call, const pdi_cb_call_t *hooked)
{
  if (rule->call_count != 0) {
    unsigned i = 0;
    while (i < rule->call_count && rule->calls[i] != call)
      i++;
    if (i == rule->call_count)
      return 0;
  }
  if (rule->from != 0 && (call < rule->from || (rule->times != 0 && call >= rule->from + rule->times)))
    return 0;
  if (rule->from == 0 && rule->times != 0 && call > rule->times)
    return 0;
  if (rule->every != 0 && call % rule->every != 0)
    return 0;
  if (rule->probability >= 0 && chance(rule->seed, sample_salts[index], call) >= rule->probability)
    return 0;
  if (rule->arg_index >= 0) {
    uintptr_t value = pdi_arg_int(hooked, (unsigned)rule->arg_index);
    if (rule->has_arg_equals ? !argument_equals(value, rule->arg_equals) : !string_matches(value, rule->arg_glob))
      return 0;
  }
  return 1;
}

/* A skip's floating-point result: a float (sinf, strtof) travels in the low
 * 32 bits of the result register on x86-64 and aarch64, so its bits go
 * there (backend.h); on i386 st0 holds it as a double. */
static void
skip_floating(pdi_cb_call_t *call, const act_rule_t *rule)
{
#if defined(__i386__)
  pdi_skip_double(call, rule->return_double);
#else
  if (!rule->returns_float) {
    pdi_skip_double(call, rule->return_double);
    return;
  }
  union {
    double d;
    float f;
  } bits = {.d = 0};
  bits.f = (float)rule->return_double;
  pdi_skip_double(call, bits.d);
#endif
}

/* `program_errno`: errno as the call found it, which a skip without errno= leaves as it was (the string reads of the
 * conditions and the delay's nanosleep may have set it: EFAULT for an argv string at the end of its page). */
static void
act(const act_rule_t *rule, pdi_cb_call_t *call, int program_errno)
{
  if (rule->delay_ns > 0) {
    struct timespec left = {(time_t)(rule->delay_ns / 1000000000LL), (long)(rule->delay_ns % 1000000000LL)};
    while (syscall(SYS_nanosleep, &left, &left) != 0 && errno == EINTR)
      ;
  }
  if (rule->signal != 0)
    syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), rule->signal);
  errno = rule->error != 0 ? rule->error : program_errno;
  if (!rule->returns)
    return;
  if (rule->returns_double)
    skip_floating(call, rule);
  else
    pdi_skip_int64(call, (uint64_t)rule->return_value);
}

void
PDI_BE_FUNC_PRE_CB(pdi_cb_call_t *call)
{
  int acted = 0, program_errno = errno;
  for (const short *index = site_lists[call->event - 1]; *index >= 0; index++) {
    act_rule_t *rule = &rules[*index];
    unsigned long number = __atomic_add_fetch(&rule->seen, 1, __ATOMIC_RELAXED);
    if (acted || !conditions_hold(rule, (unsigned)*index, number, call))
      continue;
    __atomic_add_fetch(&rule->fired, 1, __ATOMIC_RELAXED);
    act(rule, call, program_errno);
    acted = 1;
  }
}

/* `text` as a JSON string at `out` (room for 6 bytes per byte of it and 3). */
static char *
put_json_string(char *out, const char *text)
{
  *out++ = '"';
  for (const unsigned char *c = (const unsigned char *)text; *c; c++)
    if (*c == '"' || *c == '\\')
      out += sprintf(out, "\\%c", *c);
    else if (*c < 0x20)
      out += sprintf(out, "\\u%04x", *c);
    else
      *out++ = (char)*c;
  *out++ = '"';
  *out = '\0';
  return out;
}

/* One line per rule, written at once: processes of a run append to one file. */
static void
write_report_line(int fd, const act_rule_t *rule, unsigned index, const char *where)
{
  size_t room = 6 * (strlen(where) + strlen(rule->object) + strlen(rule->function)) + 160;
  char *line = malloc(room), *at = line;
  if (line == NULL)
    return;
  at += sprintf(at, "{\"pid\":%d,\"rule\":", (int)getpid());
  at = put_json_string(at, where);
  at += sprintf(at, ",\"index\":%u,\"object\":", index);
  at = put_json_string(at, rule->object);
  at += sprintf(at, ",\"function\":");
  at = put_json_string(at, rule->function);
  at += sprintf(at, ",\"seen\":%lu,\"fired\":%lu}\n", rule->seen, rule->fired);
  if (kept_fd_write(fd, line, (size_t)(at - line)) < 0)
    (void)0; /* a report that cannot be written is not the program's failure */
  free(line);
}

/* Where a rule was written: the config's FILE:LINE, or "line N" of PDI_ACT_RULES. */
static void
rule_where(const act_rule_t *rule, char *where, size_t size)
{
  if (rule->label != NULL)
    snprintf(where, size, "%s", rule->label);
  else
    snprintf(where, size, "line %u", rule->line);
}

/* Rules [first, first + count) appended to `path` (nothing without one), each
 * with its number from `first`. */
static void
write_reports(const char *path, unsigned first, unsigned count)
{
  int fd = path != NULL && path[0] ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
  if (fd < 0)
    return;
  for (unsigned i = first; i < first + count; i++) {
    char where[PATH_MAX + 32];
    rule_where(&rules[i], where, sizeof where);
    write_report_line(fd, &rules[i], i - first, where);
  }
  close(fd);
}

void
PDI_BE_FUNC_FINI(void)
{
  if (configured)
    return; /* each session reports its own rules when the core releases them */
  int report_fd = kept_fd_get(&verbose_report, verbose_report.fd >= 0 ? STDERR_FILENO : -1);
  for (unsigned i = 0; report_fd >= 0 && i < rule_count; i++) {
    const act_rule_t *rule = &rules[i];
    char where[PATH_MAX + 32];
    rule_where(rule, where, sizeof where);
    dprintf(report_fd, "pdi: act rule %s (%s %s): %lu call(s) seen, %lu fired\n", where, rule->object, rule->function,
            rule->seen, rule->fired);
  }
  write_reports(report_path, 0, rule_count);
  kept_fd_close(&verbose_report);
}
