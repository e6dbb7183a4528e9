/* The rules' verdicts shared by every process of one launched program
 * (docs/config.md, "Objects that never load"). A program that runs others
 * (a shell script, make, a pyenv shim that execs python) opens the config in
 * each of them; each used to warn at its exit of the rules that met nothing
 * in it, so a rule that worked in one process was reported as void by every
 * other one. Here the processes of the tree note what each rule met, in a
 * file next to the temporary config of the pdi command that launched them,
 * and only the last of them to end reports, of the whole tree; when that
 * one ends without its exit handlers after others left the report to it,
 * the pdi command makes it once the program has ended
 * (pdi_verdicts_report_ended).
 *
 * The file: a header (which processes are in the tree now, and whether the
 * report was made) and one byte per rule (VERDICT_* bits, or-ed in). A
 * process counts as in the tree from its session's open until its exit; one
 * that ended without its exit handlers (a signal, _exit) is dropped when the
 * last one looks; a program image replaced by exec leaves its pid to the new
 * one. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/process-start.h"
#include "internal.h"

#define VERDICT_MEMBERS 1024

/* Its first two words are read by src/ts/launch/environment.ts (reportLeftUnmade). */
typedef struct verdict_board {
  int reported;
  int deferred; /* a process that ended normally left the report to others */
  int said;     /* the config's own lines were said (pdi_verdicts_first_to_say) */
  pid_t members[VERDICT_MEMBERS];
  unsigned char progress[];
} verdict_board_t;

static size_t
board_size(unsigned rule_count)
{
  return sizeof(verdict_board_t) + rule_count;
}

/* `config_path`'s directory + "/verdicts" in `path`; 0, or -1 when none. */
static int
board_path(const char *config_path, char *path, size_t size)
{
  const char *slash = strrchr(config_path, '/');
  return slash != NULL && snprintf(path, size, "%.*s/verdicts", (int)(slash - config_path), config_path) < (int)size
             ? 0
             : -1;
}

/* Whether process `pid` has ended: gone, or a zombie, which has run its exit. */
static int
process_ended(pid_t pid)
{
  char state = pdi_process_state(pid);
  return state == 0 || state == 'Z' || state == 'X';
}

/* The board at `path`, mapped shared, of at least `least` bytes: made that
 * large when `create` (the processes, which all read one config), taken as
 * it is otherwise (pdi, after the program). Its size in `*size`; NULL when
 * there is none. */
static verdict_board_t *
map_board(const char *path, size_t least, int create, size_t *size)
{
  int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
  if (fd < 0)
    return NULL;
  struct stat status;
  void *mapped = MAP_FAILED;
  if (fstat(fd, &status) == 0 && S_ISREG(status.st_mode) &&
      ((size_t)status.st_size >= least || (create && ftruncate(fd, (off_t)least) == 0))) {
    *size = create ? least : (size_t)status.st_size;
    mapped = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  close(fd);
  return mapped != MAP_FAILED ? mapped : NULL;
}

/* The board's path for a config that a pdi command wrote for the program it launched; -1 for any other config. */
static int
launched_board_path(const char *config_path, char *path, size_t size)
{
  const char *temporary = getenv("PDI_CONFIG_TEMPORARY");
  return temporary != NULL && strcmp(temporary, "1") == 0 ? board_path(config_path, path, size) : -1;
}

int
pdi_verdicts_first_to_say(const char *config_path)
{
  char path[PATH_MAX];
  size_t size;
  verdict_board_t *board = launched_board_path(config_path, path, sizeof path) == 0
                               ? map_board(path, board_size(0), 1, &size)
                               : NULL;
  if (board == NULL)
    return 1;
  int first = __atomic_exchange_n(&board->said, 1, __ATOMIC_ACQ_REL) == 0;
  munmap(board, size);
  return first;
}

void
pdi_verdicts_join(pdi_session_t *session, const char *config_path)
{
  char path[PATH_MAX];
  if (!session->reports_unloaded || session->config.rule_count == 0 ||
      launched_board_path(config_path, path, sizeof path) != 0)
    return;
  size_t size;
  verdict_board_t *board = map_board(path, board_size(session->config.rule_count), 1, &size);
  if (board == NULL)
    return;
  pid_t self = getpid();
  int member = 0;
  for (unsigned i = 0; i < VERDICT_MEMBERS && !member; i++)
    member = __atomic_load_n(&board->members[i], __ATOMIC_ACQUIRE) == self; /* this pid before an exec */
  for (unsigned i = 0; i < VERDICT_MEMBERS && !member; i++) {
    pid_t free_slot = 0;
    member = __atomic_compare_exchange_n(&board->members[i], &free_slot, self, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  }
  if (!member) {
    munmap(board, size); /* a tree of more than VERDICT_MEMBERS at once: this one reports alone, as before */
    return;
  }
  session->verdicts = board;
}

void
pdi_verdicts_note(pdi_session_t *session, unsigned rule, unsigned bits)
{
  verdict_board_t *board = session->verdicts;
  if (board != NULL && bits != 0)
    __atomic_fetch_or(&board->progress[rule], (unsigned char)bits, __ATOMIC_ACQ_REL);
}

unsigned
pdi_verdicts_of(const pdi_session_t *session, unsigned rule, unsigned own)
{
  const verdict_board_t *board = session->verdicts;
  return board != NULL ? __atomic_load_n(&board->progress[rule], __ATOMIC_ACQUIRE) : own;
}

/* Whether every member has ended (dropping those that ended unseen) and the report is this caller's to make. */
static int
last_to_end(verdict_board_t *board)
{
  for (unsigned i = 0; i < VERDICT_MEMBERS; i++) {
    pid_t member = __atomic_load_n(&board->members[i], __ATOMIC_ACQUIRE);
    if (member == 0)
      continue;
    if (!process_ended(member)) {
      __atomic_store_n(&board->deferred, 1, __ATOMIC_RELEASE);
      return 0; /* it reports when it ends */
    }
    __atomic_compare_exchange_n(&board->members[i], &member, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  }
  int unreported = 0;
  return __atomic_compare_exchange_n(&board->reported, &unreported, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

int
pdi_verdicts_leave(pdi_session_t *session)
{
  verdict_board_t *board = session->verdicts;
  if (board == NULL)
    return 1;
  pid_t self = getpid();
  for (unsigned i = 0; i < VERDICT_MEMBERS; i++) {
    pid_t expected = self;
    __atomic_compare_exchange_n(&board->members[i], &expected, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  }
  return last_to_end(board);
}

void
pdi_verdicts_warn(const pdi_rule_t *rule, const char *function, unsigned met, const char *during)
{
  if (!(met & VERDICT_ACTIVE))
    return;
  char where[PATH_MAX + 16];
  pdi_origin_where(&rule->origin, where, sizeof where);
  const char *kind = pdi_rule_kind_name(rule->kind);
  if (!(met & VERDICT_SEEN))
    pdi_log(PDI_LOG_WARNING, "%s: %s %s: no object matching '%s' was loaded", where, kind,
            rule->function ? rule->function : rule->object, rule->object);
  else if ((rule->kind == PDI_RULE_RELINK || rule->kind == PDI_RULE_ACT) && !(met & VERDICT_REACHED))
    pdi_log(PDI_LOG_WARNING, "%s: %s %s: no object matching '%s' imported it %s: the rule %s", where, kind, function,
            rule->object, during, rule->kind == PDI_RULE_ACT ? "saw no call" : "changed nothing");
  else if (rule->kind == PDI_RULE_REDEFINE && !(met & VERDICT_REACHED))
    pdi_log(PDI_LOG_WARNING, "%s: %s %s: no object matching '%s' defined it %s: the rule changed nothing", where, kind,
            function, rule->object, during);
}

int
pdi_verdicts_report_ended(const char *config_path)
{
  char path[PATH_MAX];
  if (board_path(config_path, path, sizeof path) != 0)
    return 0;
  size_t size;
  verdict_board_t *board = map_board(path, board_size(0), 0, &size);
  if (board == NULL)
    return 0; /* no process shared its verdicts */
  int reported = 0;
  pdi_config_t config;
  pdi_config_init(&config);
  /* Only for processes that left the report to one that ended without its exit handlers: a program whose processes
   * all ended so (dash alone, or a wrapper that changed the user and whose program was stopped) said nothing before
   * either. */
  if (__atomic_load_n(&board->deferred, __ATOMIC_ACQUIRE) && last_to_end(board) &&
      pdi_config_load(&config, config_path) == 0 && board_size(config.rule_count) <= size) {
    pdi_log_state_t before = pdi_log_state();
    pdi_log_configure(config.options.log_level, config.options.log_file, 1);
    for (unsigned r = 0; r < config.rule_count; r++)
      pdi_verdicts_warn(&config.rules[r], config.rules[r].function, board->progress[r], "while the program ran");
    pdi_log_restore(before);
    reported = 1;
  }
  pdi_config_release(&config);
  munmap(board, size);
  return reported;
}
