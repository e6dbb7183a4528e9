/* Prototypes of the trace backend: how to show a function's arguments and
 * return value. A prototype's spec is a string of kind letters: the return
 * kind, an optional '!' (a failing call, -1 or NULL, sets errno), then one
 * letter per argument:
 *
 *   v void (return only)       i int              l long, ssize_t, off_t
 *   8 long long, int64_t, off64_t   9 unsigned long long, uint64_t
 *     (64 bits everywhere: two stack words, low first, and edx:eax on i386)
 *   u unsigned int             z size_t, unsigned long
 *   x unsigned long in hex     p pointer (hex, NULL)
 *   s const char * (quoted string, read safely, bounded)
 *   c char (an int shown as 'c')   b bool          d double     g float
 *   C char (its low 8 bits)    y signed char, int8_t      Y unsigned char, uint8_t
 *   h short, int16_t           H unsigned short, uint16_t (these four in decimal)
 *   a directory fd (AT_FDCWD)  O open flags       o open mode (only with O_CREAT/O_TMPFILE)
 *   m mode (octal)             P mmap prot        M mmap flags
 *   D address family           T socket type      W lseek whence
 *   F descriptor flags (pipe2, dup3: O_CLOEXEC...)  N socket flags (accept4)
 *   A access mode              S signal number    . variadic (shows "...")
 *   Flag sets (names joined by '|', 0 as 0): E epoll_create1  e eventfd
 *   t timerfd_create  j timerfd_settime  f signalfd  I inotify_init1
 *   k inotify mask  R memfd_create  G getrandom  J mremap  Z msync
 *   X send/recv MSG_*  B flock LOCK_*  w wait options  n AT_* flags
 *   r unlinkat (AT_REMOVEDIR)
 *   Enumerations (a name, else decimal): K clock id  V madvise advice
 *   L fcntl command  U epoll_ctl op  Q shutdown how  q sigprocmask how
 *   # fcntl's argument, read as the L before it says (not shown for a
 *     command without one)
 *   $ signal handler (SIG_DFL, SIG_IGN, SIG_ERR, else hex)
 *   % locale category (LC_ALL, LC_MESSAGES, ...)
 *   & socket level (SOL_SOCKET, IPPROTO_TCP, ...)
 *   * socket option name, at the level of the & before it
 *   ^ socket protocol, in the family of the D before it (IPPROTO_TCP,
 *     NETLINK_ROUTE, htons(ETH_P_ALL), else decimal)
 *
 * Integer-class letters take the next integer argument register, d and g
 * the next floating-point one (on i386 every argument is stack words). */
#ifndef PDI_TRACE_PROTOTYPES_H
#define PDI_TRACE_PROTOTYPES_H

#define TRACE_MAX_PROTO_ARGS 12

typedef struct trace_proto {
  const char *name;
  const char *spec;
} trace_proto_t;

/* Reads the user's prototypes ("name=spec;name=spec", as pdi trace writes
 * PDI_TRACE_PROTOTYPES); they take precedence over the built-in ones.
 * Returns 0, or -1 when the text is malformed. */
int trace_protos_load(const char *text);

/* The prototype of `name` as a small positive number (0: none), and back. */
unsigned trace_proto_find(const char *name);
const trace_proto_t *trace_proto_at(unsigned number);

#endif
