/* pdi's descriptors given back to a server that closed them.
 *
 * A daemon closes every descriptor it did not open (closefrom, close_range, a
 * loop of close) and may then get the same numbers for files of its own: the
 * backend's copies of stdout and stderr and pdi's control channel are gone,
 * and a reply written to "its stdout" would land in the daemon's log. The
 * guardian, forked before the server ran a line of its own, still holds them.
 * At its claim the replaying process checks each by identity; when one is
 * not pdi's any more, it asks the guardian for all of them over an abstract
 * Unix socket (reached by name: no descriptor or file to lose) and takes the
 * copies it is sent. The guardian hands them to the claimer only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../core/kept-fd.h"
#include "comux-accept.h"

/* stdout's and stderr's copies first; then what the fork mode needs: pdi's control channel and the files pdi gave
 * after it (the requests' /dev/fd/N), or AFL++'s fork-server descriptors and the copy of stdin its inputs come on. */
enum { HANDED_OUTPUT, HANDED_MESSAGE, HANDED_GIVEN };
#define HANDED_MAX (HANDED_GIVEN + COMUX_GIVEN_MAX)
#define FILES_AFTER_CONTROL 8
#define AFL_CONTROL_FD 198
#define AFL_STATUS_FD 199

static kept_fd_t kept[HANDED_GIVEN]; /* this process's copies of stdout and stderr, as its INIT made them */
static int offered = -1;             /* the guardian's listening socket */
/* In the claimer, after a handback: the number each file pdi gave had, and its copy now. */
static int handed_count;
static int handed_numbers[COMUX_GIVEN_MAX];
static int handed_copies[COMUX_GIVEN_MAX];

void
comux_handback_remember(void)
{
  kept_fd_keep(&kept[HANDED_OUTPUT], output_fd);
  kept_fd_keep(&kept[HANDED_MESSAGE], message_fd);
}

/* Notes descriptor `number` in the tree, which outlives an exec (a wrapper's). */
static void
give(int number, int inheritable_only)
{
  struct stat status;
  int flags = number >= 0 ? fcntl(number, F_GETFD) : -1;
  if (tree->given_count == COMUX_GIVEN_MAX || flags < 0 || (inheritable_only && (flags & FD_CLOEXEC)) ||
      fstat(number, &status) != 0)
    return;
  tree->given[tree->given_count++] = (comux_given_t){number, (uint64_t)status.st_dev, (uint64_t)status.st_ino};
}

void
comux_handback_remember_given(int control, int input)
{
  if (tree == NULL)
    return;
  tree->given_count = 0;
  if (fork_mode == COMUX_FORK_CONTROL) {
    give(control, 0);
    /* pdi's files are inheritable; the backend's own descriptors (the tree's memory) are close-on-exec. */
    for (int fd = control + 1; fd <= control + FILES_AFTER_CONTROL; fd++)
      give(fd, 1);
  } else if (fork_mode == COMUX_FORK_AFL) {
    give(AFL_CONTROL_FD, 0);
    give(AFL_STATUS_FD, 0);
    give(input, 0);
  }
}

static socklen_t
guardian_address(pid_t guardian, struct sockaddr_un *address)
{
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  /* Abstract (a leading NUL): nothing in the file system for the server to remove or close. */
  int length = snprintf(address->sun_path + 1, sizeof address->sun_path - 1, "pdi-comux-handback-%d", (int)guardian);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)length);
}

void
comux_handback_offer(void)
{
  struct sockaddr_un address;
  socklen_t length = guardian_address(getpid(), &address);
  offered = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (offered >= 0 && (bind(offered, (struct sockaddr *)&address, length) != 0 || listen(offered, 4) != 0)) {
    LOG("cannot offer pdi's descriptors to the server: %s", strerror(errno));
    close(offered);
    offered = -1;
  }
}

/* Sends the guardian's copies, each with its number (the payload): stdout's and stderr's, then the given ones. */
static void
hand_to(int asking)
{
  int fds[HANDED_MAX];
  int count = 0;
  fds[count++] = output_fd;
  fds[count++] = message_fd;
  for (int i = 0; i < tree->given_count && i < COMUX_GIVEN_MAX; i++)
    fds[count++] = tree->given[i].number;
  char control_space[CMSG_SPACE(sizeof fds)];
  memset(control_space, 0, sizeof control_space);
  struct iovec numbers = {fds, sizeof(int) * (size_t)count};
  struct msghdr message = {.msg_iov = &numbers,
                           .msg_iovlen = 1,
                           .msg_control = control_space,
                           .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count)};
  struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
  rights->cmsg_level = SOL_SOCKET;
  rights->cmsg_type = SCM_RIGHTS;
  rights->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
  memcpy(CMSG_DATA(rights), fds, sizeof(int) * (size_t)count);
  sendmsg(asking, &message, MSG_NOSIGNAL);
}

void
comux_handback_serve(pid_t claimer)
{
  int asking;
  while (offered >= 0 && (asking = accept4(offered, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
    struct ucred peer;
    socklen_t size = sizeof peer;
    if (getsockopt(asking, SOL_SOCKET, SO_PEERCRED, &peer, &size) == 0 && claimer != 0 && peer.pid == claimer &&
        output_fd >= 0 && message_fd >= 0)
      hand_to(asking);
    close(asking);
  }
}

/* The copies the guardian sends, each moved above the server's descriptors, and the numbers they had in it;
 * how many came (0: none). */
static int
ask_guardian(int fds[HANDED_MAX], int numbers[HANDED_MAX])
{
  struct sockaddr_un address;
  socklen_t length = guardian_address(tree->guardian, &address);
  int asking = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (asking < 0 || connect(asking, (struct sockaddr *)&address, length) != 0) {
    if (asking >= 0)
      close(asking);
    return 0;
  }
  char control_space[CMSG_SPACE(sizeof(int) * HANDED_MAX)];
  struct iovec payload = {numbers, sizeof(int) * HANDED_MAX};
  struct msghdr message = {
      .msg_iov = &payload, .msg_iovlen = 1, .msg_control = control_space, .msg_controllen = sizeof control_space};
  /* The guardian looks every 10 ms; a guardian that never answers leaves the replay as it was. */
  struct pollfd answer = {.fd = asking, .events = POLLIN};
  ssize_t got = poll(&answer, 1, 2000) == 1 ? recvmsg(asking, &message, MSG_CMSG_CLOEXEC) : -1;
  close(asking);
  struct cmsghdr *rights = got > 0 ? CMSG_FIRSTHDR(&message) : NULL;
  if (rights == NULL || rights->cmsg_level != SOL_SOCKET || rights->cmsg_type != SCM_RIGHTS)
    return 0;
  size_t count = (rights->cmsg_len - CMSG_LEN(0)) / sizeof(int);
  memcpy(fds, CMSG_DATA(rights), count * sizeof(int));
  for (size_t i = 0; i < count; i++) {
    int above = fcntl(fds[i], F_DUPFD_CLOEXEC, 100);
    close(fds[i]);
    fds[i] = above;
  }
  return count * sizeof(int) == (size_t)got ? (int)count : 0;
}

static int
given_still_there(void)
{
  for (int i = 0; i < tree->given_count && i < COMUX_GIVEN_MAX; i++) {
    struct stat status;
    const comux_given_t *given = &tree->given[i];
    if (fstat(given->number, &status) != 0 || (uint64_t)status.st_dev != given->dev ||
        (uint64_t)status.st_ino != given->ino)
      return 0;
  }
  return 1;
}

/* A given descriptor back: AFL++'s at its own number (its fork server speaks on 198 and 199), pdi's control
 * channel and AFL's stdin copy in their variables, the requests' files through comux_handback_descriptor. */
static void
take_given(int number, int copy, int control, int input)
{
  if (number == AFL_CONTROL_FD || number == AFL_STATUS_FD) {
    dup2(copy, number);
    close(copy);
  } else if (number == control)
    comux_fork_control_replace(copy);
  else if (number == input)
    comux_input_replace(copy);
  else if (handed_count < COMUX_GIVEN_MAX) {
    handed_numbers[handed_count] = number;
    handed_copies[handed_count++] = copy;
  }
}

void
comux_handback_take(int control, int input)
{
  if (tree == NULL || tree->guardian == 0 || tree->guardian == getpid())
    return;
  int output_ours = kept_fd_get(&kept[HANDED_OUTPUT], -1) == output_fd;
  int message_ours = kept_fd_get(&kept[HANDED_MESSAGE], -1) == message_fd;
  if (output_ours && message_ours && given_still_there())
    return;
  int fds[HANDED_MAX], numbers[HANDED_MAX];
  int count = ask_guardian(fds, numbers);
  int old_message = message_fd;
  /* What cannot be had back is not written at all: a file the server opened at that number is not pdi's stdout. */
  output_fd = count > HANDED_OUTPUT ? fds[HANDED_OUTPUT] : output_ours ? output_fd : -1;
  message_fd = count > HANDED_MESSAGE ? fds[HANDED_MESSAGE] : message_ours ? message_fd : -1;
  if (log_fd == old_message)
    log_fd = message_fd;
  for (int i = HANDED_GIVEN; i < count; i++)
    take_given(numbers[i], fds[i], control, input);
  if (count > 0)
    LOG("process %d closed pdi's descriptors before it waited for a client; the guardian gave them back",
        (int)getpid());
  else
    say(message_fd,
        "process %d closed pdi's descriptors before it waited for a client, and its guardian %d cannot "
        "give them back from here (another network namespace, as with unshare -n, cannot reach it)",
        (int)getpid(), (int)tree->guardian);
}

int
comux_handback_descriptor(int inherited)
{
  for (int i = 0; i < handed_count; i++)
    if (handed_numbers[i] == inherited)
      return handed_copies[i];
  return inherited;
}
