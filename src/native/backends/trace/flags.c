/* Symbolic values (flags.h). */
#define _GNU_SOURCE
#include "flags.h"

#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <locale.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
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

/* Flag sets of the file descriptors that system calls make: 0 shows as 0. */
static const named_t epoll_flags[] = {NAMED(EPOLL_CLOEXEC), END};
static const named_t eventfd_flags[] = {NAMED(EFD_SEMAPHORE), NAMED(EFD_NONBLOCK), NAMED(EFD_CLOEXEC), END};
static const named_t timerfd_flags[] = {NAMED(TFD_NONBLOCK), NAMED(TFD_CLOEXEC), END};
static const named_t timerfd_set_flags[] = {NAMED(TFD_TIMER_ABSTIME),
#ifdef TFD_TIMER_CANCEL_ON_SET
                                            NAMED(TFD_TIMER_CANCEL_ON_SET),
#endif
                                            END};
static const named_t signalfd_flags[] = {NAMED(SFD_NONBLOCK), NAMED(SFD_CLOEXEC), END};
static const named_t inotify_flags[] = {NAMED(IN_NONBLOCK), NAMED(IN_CLOEXEC), END};
static const named_t inotify_mask[] = {
    NAMED(IN_ACCESS),        NAMED(IN_MODIFY),      NAMED(IN_ATTRIB),      NAMED(IN_CLOSE_WRITE),
    NAMED(IN_CLOSE_NOWRITE), NAMED(IN_OPEN),        NAMED(IN_MOVED_FROM),  NAMED(IN_MOVED_TO),
    NAMED(IN_CREATE),        NAMED(IN_DELETE),      NAMED(IN_DELETE_SELF), NAMED(IN_MOVE_SELF),
    NAMED(IN_UNMOUNT),       NAMED(IN_Q_OVERFLOW),  NAMED(IN_IGNORED),     NAMED(IN_ONLYDIR),
    NAMED(IN_DONT_FOLLOW),   NAMED(IN_EXCL_UNLINK),
#ifdef IN_MASK_CREATE
    NAMED(IN_MASK_CREATE),
#endif
    NAMED(IN_MASK_ADD),      NAMED(IN_ISDIR),       NAMED(IN_ONESHOT),     END};
static const named_t memfd_flags[] = {NAMED(MFD_CLOEXEC),
                                      NAMED(MFD_ALLOW_SEALING),
                                      NAMED(MFD_HUGETLB),
#ifdef MFD_NOEXEC_SEAL
                                      NAMED(MFD_NOEXEC_SEAL),
#endif
#ifdef MFD_EXEC
                                      NAMED(MFD_EXEC),
#endif
                                      END};
static const named_t random_flags[] = {NAMED(GRND_NONBLOCK), NAMED(GRND_RANDOM),
#ifdef GRND_INSECURE
                                       NAMED(GRND_INSECURE),
#endif
                                       END};
static const named_t mremap_flags[] = {NAMED(MREMAP_MAYMOVE), NAMED(MREMAP_FIXED),
#ifdef MREMAP_DONTUNMAP
                                       NAMED(MREMAP_DONTUNMAP),
#endif
                                       END};
static const named_t msync_flags[] = {NAMED(MS_ASYNC), NAMED(MS_INVALIDATE), NAMED(MS_SYNC), END};
static const named_t message_flags[] = {NAMED(MSG_OOB),      NAMED(MSG_PEEK),         NAMED(MSG_DONTROUTE),
                                        NAMED(MSG_CTRUNC),   NAMED(MSG_PROXY),        NAMED(MSG_TRUNC),
                                        NAMED(MSG_DONTWAIT), NAMED(MSG_EOR),          NAMED(MSG_WAITALL),
                                        NAMED(MSG_FIN),      NAMED(MSG_SYN),          NAMED(MSG_CONFIRM),
                                        NAMED(MSG_RST),      NAMED(MSG_ERRQUEUE),     NAMED(MSG_NOSIGNAL),
                                        NAMED(MSG_MORE),     NAMED(MSG_WAITFORONE),
#ifdef MSG_ZEROCOPY
                                        NAMED(MSG_ZEROCOPY),
#endif
                                        NAMED(MSG_FASTOPEN), NAMED(MSG_CMSG_CLOEXEC), END};
static const named_t lock_ops[] = {NAMED(LOCK_SH), NAMED(LOCK_EX), NAMED(LOCK_NB), NAMED(LOCK_UN), END};
static const named_t wait_options[] = {NAMED(WNOHANG),     NAMED(WUNTRACED), NAMED(WCONTINUED), NAMED(WNOWAIT),
                                       NAMED(__WNOTHREAD), NAMED(__WALL),    NAMED(__WCLONE),   END};
/* AT_EACCESS (faccessat) has AT_REMOVEDIR's value (unlinkat: its own kind). */
static const named_t at_flags[] = {NAMED(AT_SYMLINK_NOFOLLOW),
                                   NAMED(AT_EACCESS),
                                   NAMED(AT_SYMLINK_FOLLOW),
                                   NAMED(AT_NO_AUTOMOUNT),
                                   NAMED(AT_EMPTY_PATH),
#ifdef AT_STATX_FORCE_SYNC
                                   NAMED(AT_STATX_FORCE_SYNC),
                                   NAMED(AT_STATX_DONT_SYNC),
#endif
                                   END};
static const named_t unlink_flags[] = {NAMED(AT_REMOVEDIR), END};

/* Enumerations: a value without a name shows in decimal. */
static const named_t clocks[] = {NAMED(CLOCK_REALTIME),
                                 NAMED(CLOCK_MONOTONIC),
                                 NAMED(CLOCK_PROCESS_CPUTIME_ID),
                                 NAMED(CLOCK_THREAD_CPUTIME_ID),
                                 NAMED(CLOCK_MONOTONIC_RAW),
                                 NAMED(CLOCK_REALTIME_COARSE),
                                 NAMED(CLOCK_MONOTONIC_COARSE),
                                 NAMED(CLOCK_BOOTTIME),
                                 NAMED(CLOCK_REALTIME_ALARM),
                                 NAMED(CLOCK_BOOTTIME_ALARM),
#ifdef CLOCK_TAI
                                 NAMED(CLOCK_TAI),
#endif
                                 END};
static const named_t advices[] = {NAMED(MADV_NORMAL),
                                  NAMED(MADV_RANDOM),
                                  NAMED(MADV_SEQUENTIAL),
                                  NAMED(MADV_WILLNEED),
                                  NAMED(MADV_DONTNEED),
                                  NAMED(MADV_FREE),
                                  NAMED(MADV_REMOVE),
                                  NAMED(MADV_DONTFORK),
                                  NAMED(MADV_DOFORK),
                                  NAMED(MADV_MERGEABLE),
                                  NAMED(MADV_UNMERGEABLE),
                                  NAMED(MADV_HUGEPAGE),
                                  NAMED(MADV_NOHUGEPAGE),
                                  NAMED(MADV_DONTDUMP),
                                  NAMED(MADV_DODUMP),
                                  NAMED(MADV_WIPEONFORK),
                                  NAMED(MADV_KEEPONFORK),
                                  NAMED(MADV_HWPOISON),
#ifdef MADV_COLD
                                  NAMED(MADV_COLD),
                                  NAMED(MADV_PAGEOUT),
#endif
                                  END};
static const named_t fcntl_commands[] = {NAMED(F_DUPFD),
                                         NAMED(F_GETFD),
                                         NAMED(F_SETFD),
                                         NAMED(F_GETFL),
                                         NAMED(F_SETFL),
                                         NAMED(F_GETLK),
                                         NAMED(F_SETLK),
                                         NAMED(F_SETLKW),
                                         NAMED(F_SETOWN),
                                         NAMED(F_GETOWN),
                                         NAMED(F_SETSIG),
                                         NAMED(F_GETSIG),
                                         NAMED(F_SETOWN_EX),
                                         NAMED(F_GETOWN_EX),
                                         NAMED(F_SETLEASE),
                                         NAMED(F_GETLEASE),
                                         NAMED(F_NOTIFY),
                                         NAMED(F_DUPFD_CLOEXEC),
                                         NAMED(F_SETPIPE_SZ),
                                         NAMED(F_GETPIPE_SZ),
#ifdef F_OFD_GETLK
                                         NAMED(F_OFD_GETLK),
                                         NAMED(F_OFD_SETLK),
                                         NAMED(F_OFD_SETLKW),
#endif
#ifdef F_ADD_SEALS
                                         NAMED(F_ADD_SEALS),
                                         NAMED(F_GET_SEALS),
#endif
                                         END};
static const named_t epoll_ops[] = {NAMED(EPOLL_CTL_ADD), NAMED(EPOLL_CTL_DEL), NAMED(EPOLL_CTL_MOD), END};
static const named_t shutdown_hows[] = {NAMED(SHUT_RD), NAMED(SHUT_WR), NAMED(SHUT_RDWR), END};
static const named_t mask_hows[] = {NAMED(SIG_BLOCK), NAMED(SIG_UNBLOCK), NAMED(SIG_SETMASK), END};

static const named_t socket_levels[] = {NAMED(SOL_SOCKET),  NAMED(IPPROTO_IP),   NAMED(IPPROTO_TCP),
                                        NAMED(IPPROTO_UDP), NAMED(IPPROTO_IPV6), END};
static const named_t locale_categories[] = {NAMED(LC_CTYPE),
                                            NAMED(LC_NUMERIC),
                                            NAMED(LC_TIME),
                                            NAMED(LC_COLLATE),
                                            NAMED(LC_MONETARY),
                                            NAMED(LC_MESSAGES),
                                            NAMED(LC_ALL),
                                            NAMED(LC_PAPER),
                                            NAMED(LC_NAME),
                                            NAMED(LC_ADDRESS),
                                            NAMED(LC_TELEPHONE),
                                            NAMED(LC_MEASUREMENT),
                                            NAMED(LC_IDENTIFICATION),
                                            END};

/* The kinds shown by one table: an enumeration (its name, else decimal) or a
 * flag set (names joined by '|', the rest in hex, 0 as 0). */
typedef struct kind_table {
  char kind;
  char is_set;
  const named_t *table;
} kind_table_t;

static const kind_table_t kind_tables[] = {
    {'D', 0, families},      {'W', 0, whences},        {'S', 0, signals},           {'K', 0, clocks},
    {'V', 0, advices},       {'L', 0, fcntl_commands}, {'U', 0, epoll_ops},         {'Q', 0, shutdown_hows},
    {'q', 0, mask_hows},     {'F', 1, open_flags},     {'N', 1, socket_flags},      {'E', 1, epoll_flags},
    {'e', 1, eventfd_flags}, {'t', 1, timerfd_flags},  {'j', 1, timerfd_set_flags}, {'f', 1, signalfd_flags},
    {'I', 1, inotify_flags}, {'k', 1, inotify_mask},   {'R', 1, memfd_flags},       {'G', 1, random_flags},
    {'J', 1, mremap_flags},  {'Z', 1, msync_flags},    {'X', 1, message_flags},     {'B', 1, lock_ops},
    {'w', 1, wait_options},  {'n', 1, at_flags},       {'r', 1, unlink_flags},      {'%', 0, locale_categories},
    {'&', 0, socket_levels},
};

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

static const kind_table_t *
kind_table(char kind)
{
  for (size_t i = 0; i < sizeof kind_tables / sizeof kind_tables[0]; i++)
    if (kind_tables[i].kind == kind)
      return &kind_tables[i];
  return NULL;
}

void
trace_format_flags(trace_buf_t *out, char kind, long value)
{
  int shown = 0;
  const kind_table_t *by_table = kind_table(kind);
  if (by_table != NULL && !by_table->is_set) {
    if (!one_of(out, by_table->table, (int)value))
      tb_dec(out, (int)value);
    return;
  }
  if (by_table != NULL) {
    if ((unsigned)value == 0)
      tb_char(out, '0');
    else
      flag_set(out, by_table->table, (unsigned)value, 0);
    return;
  }
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
  case 'T':
    value = (unsigned)value;
    shown = (value & 0xf) != 0 && one_of(out, socket_types, value & 0xf);
    if (shown || (value & ~0xfl) != 0 || value == 0)
      flag_set(out, socket_flags, shown ? value & ~0xfl : value, shown);
    break;
  case '$': /* a signal handler */
    if ((uintptr_t)value == (uintptr_t)SIG_DFL)
      tb_str(out, "SIG_DFL");
    else if ((uintptr_t)value == (uintptr_t)SIG_IGN)
      tb_str(out, "SIG_IGN");
    else if ((uintptr_t)value == (uintptr_t)SIG_ERR)
      tb_str(out, "SIG_ERR");
    else
      tb_hex(out, (unsigned long)value);
    break;
  case 'A':
    if ((int)value == F_OK)
      tb_str(out, "F_OK");
    else
      flag_set(out, access_bits, (unsigned)value, 0);
    break;
  default: tb_hex(out, (unsigned long)value); break;
  }
}

static const named_t fd_flags[] = {NAMED(FD_CLOEXEC), END};
static const named_t leases[] = {NAMED(F_RDLCK), NAMED(F_WRLCK), NAMED(F_UNLCK), END};
#ifdef F_ADD_SEALS
static const named_t seals[] = {NAMED(F_SEAL_SEAL),
                                NAMED(F_SEAL_SHRINK),
                                NAMED(F_SEAL_GROW),
                                NAMED(F_SEAL_WRITE),
#ifdef F_SEAL_FUTURE_WRITE
                                NAMED(F_SEAL_FUTURE_WRITE),
#endif
                                END};
#endif

int
trace_format_fcntl_arg(trace_buf_t *out, int command, long value)
{
  const named_t *set = NULL;
  switch (command) {
  case F_GETFD:
  case F_GETFL:
  case F_GETOWN:
  case F_GETSIG:
  case F_GETLEASE:
  case F_GETPIPE_SZ:
#ifdef F_GET_SEALS
  case F_GET_SEALS:
#endif
    return 0;
  case F_SETFL: trace_format_flags(out, 'O', value); return 1;
  case F_SETSIG: trace_format_flags(out, 'S', value); return 1;
  case F_SETLEASE:
    if (!one_of(out, leases, (int)value))
      tb_dec(out, (int)value);
    return 1;
  case F_GETLK:
  case F_SETLK:
  case F_SETLKW:
  case F_GETOWN_EX:
  case F_SETOWN_EX:
#ifdef F_OFD_GETLK
  case F_OFD_GETLK:
  case F_OFD_SETLK:
  case F_OFD_SETLKW:
#endif
    if (value == 0)
      tb_str(out, "NULL");
    else
      tb_hex(out, (unsigned long)value);
    return 1;
  case F_SETFD: set = fd_flags; break;
#ifdef F_ADD_SEALS
  case F_ADD_SEALS: set = seals; break;
#endif
  case F_DUPFD:
  case F_DUPFD_CLOEXEC:
  case F_SETOWN:
  case F_SETPIPE_SZ:
  case F_NOTIFY: tb_dec(out, (int)value); return 1;
  default: tb_str(out, "..."); return 1; /* a command pdi does not know: as variadic */
  }
  if ((unsigned)value == 0)
    tb_char(out, '0');
  else
    flag_set(out, set, (unsigned)value, 0);
  return 1;
}

static const named_t socket_options[] = {
    NAMED(SO_DEBUG),     NAMED(SO_REUSEADDR), NAMED(SO_TYPE),         NAMED(SO_ERROR),      NAMED(SO_DONTROUTE),
    NAMED(SO_BROADCAST), NAMED(SO_SNDBUF),    NAMED(SO_RCVBUF),       NAMED(SO_KEEPALIVE),  NAMED(SO_OOBINLINE),
    NAMED(SO_LINGER),    NAMED(SO_REUSEPORT), NAMED(SO_RCVLOWAT),     NAMED(SO_SNDLOWAT),   NAMED(SO_RCVTIMEO),
    NAMED(SO_SNDTIMEO),  NAMED(SO_PASSCRED),  NAMED(SO_PEERCRED),     NAMED(SO_ACCEPTCONN), NAMED(SO_PROTOCOL),
    NAMED(SO_DOMAIN),    NAMED(SO_PRIORITY),  NAMED(SO_BINDTODEVICE), NAMED(SO_TIMESTAMP),  END};
static const named_t tcp_options[] = {
    NAMED(TCP_NODELAY),  NAMED(TCP_MAXSEG),     NAMED(TCP_CORK),     NAMED(TCP_KEEPIDLE),     NAMED(TCP_KEEPINTVL),
    NAMED(TCP_KEEPCNT),  NAMED(TCP_SYNCNT),     NAMED(TCP_LINGER2),  NAMED(TCP_DEFER_ACCEPT), NAMED(TCP_INFO),
    NAMED(TCP_QUICKACK), NAMED(TCP_CONGESTION), NAMED(TCP_FASTOPEN), NAMED(TCP_USER_TIMEOUT), END};
static const named_t ip_options[] = {NAMED(IP_TOS), NAMED(IP_TTL), NAMED(IP_RECVERR), NAMED(IP_MTU_DISCOVER), END};
static const named_t ipv6_options[] = {NAMED(IPV6_V6ONLY), NAMED(IPV6_RECVERR), NAMED(IPV6_UNICAST_HOPS),
                                       NAMED(IPV6_TCLASS), END};

int
trace_format_socket_option(trace_buf_t *out, int level, int name)
{
  const named_t *table = level == SOL_SOCKET     ? socket_options
                         : level == IPPROTO_TCP  ? tcp_options
                         : level == IPPROTO_IP   ? ip_options
                         : level == IPPROTO_IPV6 ? ipv6_options
                                                 : NULL;
  if (table == NULL || !one_of(out, table, name))
    tb_dec(out, name);
  return 1;
}

static const named_t ip_protocols[] = {NAMED(IPPROTO_IP),
                                       NAMED(IPPROTO_ICMP),
                                       NAMED(IPPROTO_TCP),
                                       NAMED(IPPROTO_UDP),
                                       NAMED(IPPROTO_IPV6),
                                       NAMED(IPPROTO_ICMPV6),
                                       NAMED(IPPROTO_SCTP),
                                       NAMED(IPPROTO_UDPLITE),
                                       NAMED(IPPROTO_RAW),
                                       NAMED(IPPROTO_MPTCP),
                                       END};
static const named_t netlink_protocols[] = {NAMED(NETLINK_ROUTE),
                                            NAMED(NETLINK_SOCK_DIAG),
                                            NAMED(NETLINK_NETFILTER),
                                            NAMED(NETLINK_AUDIT),
                                            NAMED(NETLINK_KOBJECT_UEVENT),
                                            NAMED(NETLINK_GENERIC),
                                            END};
static const named_t ethernet_protocols[] = {NAMED(ETH_P_ALL), NAMED(ETH_P_IP), NAMED(ETH_P_ARP), NAMED(ETH_P_IPV6),
                                             END};

int
trace_format_socket_protocol(trace_buf_t *out, int family, int protocol)
{
  if (family == AF_INET || family == AF_INET6) {
    if (!one_of(out, ip_protocols, protocol))
      tb_dec(out, protocol);
  } else if (family == AF_NETLINK) {
    if (!one_of(out, netlink_protocols, protocol))
      tb_dec(out, protocol);
  } else if (family == AF_PACKET && protocol != 0) {
    /* The protocol travels in network byte order: htons(ETH_P_ALL). */
    size_t before = out->len;
    tb_str(out, "htons(");
    if (one_of(out, ethernet_protocols, ntohs((uint16_t)protocol)))
      tb_char(out, ')');
    else {
      out->len = before;
      tb_dec(out, protocol);
    }
  } else {
    tb_dec(out, protocol);
  }
  return 1;
}
