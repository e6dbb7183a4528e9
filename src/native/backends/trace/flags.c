/* Symbolic values (flags.h). */
#define _GNU_SOURCE
#include "flags.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct named {
  long value;
  const char *name;
} named_t;

#define NAMED(x)                                                                                                       \
  {                                                                                                                    \
    x, #x                                                                                                              \
  }
#define END                                                                                                            \
  {                                                                                                                    \
    0, NULL                                                                                                            \
  }

static const named_t open_flags[] = {
    NAMED(O_CREAT),     NAMED(O_EXCL),     NAMED(O_NOCTTY),  NAMED(O_TRUNC),   NAMED(O_APPEND),    NAMED(O_NONBLOCK),
    NAMED(O_SYNC),      NAMED(O_DSYNC),    NAMED(O_ASYNC),   NAMED(O_DIRECT),  NAMED(O_LARGEFILE), NAMED(O_TMPFILE),
    NAMED(O_DIRECTORY), NAMED(O_NOFOLLOW), NAMED(O_NOATIME), NAMED(O_CLOEXEC), NAMED(O_PATH),      END};
static const named_t access_modes[] = {NAMED(O_RDONLY), NAMED(O_WRONLY), NAMED(O_RDWR), END};
static const named_t prot_flags[] = {NAMED(PROT_READ),
                                     NAMED(PROT_WRITE),
                                     NAMED(PROT_EXEC),
#ifdef PROT_GROWSDOWN
                                     NAMED(PROT_GROWSDOWN),
#endif
#ifdef PROT_GROWSUP
                                     NAMED(PROT_GROWSUP),
#endif
                                     END};
static const named_t map_types[] = {NAMED(MAP_SHARED), NAMED(MAP_PRIVATE),
#ifdef MAP_SHARED_VALIDATE
                                    NAMED(MAP_SHARED_VALIDATE),
#endif
                                    END};
static const named_t map_flags[] = {NAMED(MAP_FIXED),
                                    NAMED(MAP_ANONYMOUS),
                                    NAMED(MAP_NORESERVE),
                                    NAMED(MAP_POPULATE),
                                    NAMED(MAP_GROWSDOWN),
                                    NAMED(MAP_DENYWRITE),
                                    NAMED(MAP_EXECUTABLE),
                                    NAMED(MAP_LOCKED),
                                    NAMED(MAP_NONBLOCK),
                                    NAMED(MAP_STACK),
                                    NAMED(MAP_HUGETLB),
#ifdef MAP_FIXED_NOREPLACE
                                    NAMED(MAP_FIXED_NOREPLACE),
#endif
                                    END};
static const named_t families[] = {NAMED(AF_UNSPEC),  NAMED(AF_UNIX),   NAMED(AF_INET),      NAMED(AF_INET6),
                                   NAMED(AF_NETLINK), NAMED(AF_PACKET), NAMED(AF_BLUETOOTH), END};
static const named_t socket_types[] = {NAMED(SOCK_STREAM), NAMED(SOCK_DGRAM),     NAMED(SOCK_RAW),
                                       NAMED(SOCK_RDM),    NAMED(SOCK_SEQPACKET), END};
static const named_t socket_flags[] = {NAMED(SOCK_NONBLOCK), NAMED(SOCK_CLOEXEC), END};
static const named_t whences[] = {NAMED(SEEK_SET),
                                  NAMED(SEEK_CUR),
                                  NAMED(SEEK_END),
#ifdef SEEK_DATA
                                  NAMED(SEEK_DATA),
                                  NAMED(SEEK_HOLE),
#endif
                                  END};
static const named_t access_bits[] = {NAMED(R_OK), NAMED(W_OK), NAMED(X_OK), END};
static const named_t signals[] = {NAMED(SIGHUP),  NAMED(SIGINT),   NAMED(SIGQUIT), NAMED(SIGILL),  NAMED(SIGTRAP),
                                  NAMED(SIGABRT), NAMED(SIGBUS),   NAMED(SIGFPE),  NAMED(SIGKILL), NAMED(SIGUSR1),
                                  NAMED(SIGSEGV), NAMED(SIGUSR2),  NAMED(SIGPIPE), NAMED(SIGALRM), NAMED(SIGTERM),
                                  NAMED(SIGCHLD), NAMED(SIGCONT),  NAMED(SIGSTOP), NAMED(SIGTSTP), NAMED(SIGTTIN),
                                  NAMED(SIGTTOU), NAMED(SIGURG),   NAMED(SIGXCPU), NAMED(SIGXFSZ), NAMED(SIGVTALRM),
                                  NAMED(SIGPROF), NAMED(SIGWINCH), NAMED(SIGIO),   NAMED(SIGSYS),  END};

/* The name of value in an enumeration; 0 when it has none. */
static int
one_of(trace_buf_t *out, const named_t *table, long value)
{
  for (; table->name != NULL; table++)
    if (table->value == value) {
      tb_str(out, table->name);
      return 1;
    }
  return 0;
}

/* Every flag of `table` set in value, joined by '|', then what is left in
 * hex; `shown` says whether something came before. */
static void
flag_set(trace_buf_t *out, const named_t *table, long value, int shown)
{
  for (; table->name != NULL; table++) {
    if (table->value == 0 || (value & table->value) != table->value)
      continue;
    if (shown++)
      tb_char(out, '|');
    tb_str(out, table->name);
    value &= ~table->value;
  }
  if (value != 0 || !shown) {
    if (shown)
      tb_char(out, '|');
    tb_hex(out, (unsigned long)value);
  }
}

static int
enumerated(trace_buf_t *out, const named_t *table, long value)
{
  if (!one_of(out, table, value))
    tb_dec(out, value);
  return 1;
}

void
trace_format_flags(trace_buf_t *out, char kind, long value)
{
  int shown = 0;
  switch (kind) {
  case 'a':
    if ((int)value == AT_FDCWD)
      tb_str(out, "AT_FDCWD");
    else
      tb_dec(out, (int)value);
    break;
  case 'O':
    value = (unsigned)value;
    if ((value & O_PATH) == 0)
      shown = one_of(out, access_modes, value & O_ACCMODE);
    flag_set(out, open_flags, shown ? value & ~(long)O_ACCMODE : value, shown);
    break;
  case 'P':
    if ((unsigned)value == PROT_NONE)
      tb_str(out, "PROT_NONE");
    else
      flag_set(out, prot_flags, (unsigned)value, 0);
    break;
  case 'M':
    value = (unsigned)value;
    shown = one_of(out, map_types, value & MAP_TYPE);
    flag_set(out, map_flags, shown ? value & ~(long)MAP_TYPE : value, shown);
    break;
  case 'D': enumerated(out, families, (int)value); break;
  case 'T':
    value = (unsigned)value;
    shown = (value & 0xf) != 0 && one_of(out, socket_types, value & 0xf);
    if (shown || (value & ~0xfl) != 0 || value == 0)
      flag_set(out, socket_flags, shown ? value & ~0xfl : value, shown);
    break;
  case 'F': /* pipe2, dup3: O_CLOEXEC and its kin, no access mode */
  case 'N': /* accept4: SOCK_NONBLOCK, SOCK_CLOEXEC, no socket type */
    if ((unsigned)value == 0)
      tb_char(out, '0');
    else
      flag_set(out, kind == 'F' ? open_flags : socket_flags, (unsigned)value, 0);
    break;
  case 'W': enumerated(out, whences, (int)value); break;
  case 'A':
    if ((int)value == F_OK)
      tb_str(out, "F_OK");
    else
      flag_set(out, access_bits, (unsigned)value, 0);
    break;
  case 'S': enumerated(out, signals, (int)value); break;
  default: tb_hex(out, (unsigned long)value); break;
  }
}
