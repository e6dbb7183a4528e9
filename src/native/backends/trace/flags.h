/* Symbolic values of the trace backend: open flags, mmap prot and flags,
 * address families, socket types, lseek whence, access modes, signals and
 * AT_FDCWD (kind letters in prototypes.h). */
#ifndef PDI_TRACE_FLAGS_H
#define PDI_TRACE_FLAGS_H

#include "format.h"

void trace_format_flags(trace_buf_t *out, char kind, long value);

/* fcntl's third argument as its command reads it: FD_CLOEXEC for F_SETFD,
 * open flags for F_SETFL, a signal, a lease, seals, a pointer, a number, and
 * "..." for a command it does not know.
 * Returns 0 (nothing written) for a command that takes no argument. */
int trace_format_fcntl_arg(trace_buf_t *out, int command, long value);

/* A socket option's name at its level (SO_KEEPALIVE at SOL_SOCKET,
 * TCP_NODELAY at IPPROTO_TCP), else decimal. Returns 1. */
int trace_format_socket_option(trace_buf_t *out, int level, int name);

/* socket's protocol as its family reads it: IPPROTO_* for AF_INET and
 * AF_INET6 (0 is IPPROTO_IP), NETLINK_* for AF_NETLINK, htons(ETH_P_*) for
 * AF_PACKET, else decimal. Returns 1. */
int trace_format_socket_protocol(trace_buf_t *out, int family, int protocol);

#endif
