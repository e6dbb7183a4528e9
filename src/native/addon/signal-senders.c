/* Who sent the signals pdi passes on to the program it runs (src/ts/launch/signals.ts). Node's handler (libuv's)
 * gets no siginfo: this one, put in front of it, notes each signal's si_code and calls it. A signal the terminal
 * sends (Ctrl-C, a hangup: SI_KERNEL) went to the whole foreground process group, the program in it too, which
 * must not get it a second time from pdi. */
#define _GNU_SOURCE
#include "signal-senders.h"

#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

#define SIGNAL_LIMIT 65

static struct sigaction chained[SIGNAL_LIMIT];
static volatile sig_atomic_t noted[SIGNAL_LIMIT];
static volatile sig_atomic_t noted_code[SIGNAL_LIMIT];

static void
note_then_chain(int signal, siginfo_t *info, void *context)
{
  noted_code[signal] = info != NULL ? info->si_code : SI_USER;
  noted[signal] = 1;
  const struct sigaction *next = &chained[signal];
  if (next->sa_flags & SA_SIGINFO)
    next->sa_sigaction(signal, info, context);
  else if (next->sa_handler != SIG_DFL && next->sa_handler != SIG_IGN)
    next->sa_handler(signal);
}

int
pdi_signal_senders_watch(int signal)
{
  struct sigaction current;
  if (signal <= 0 || signal >= SIGNAL_LIMIT || sigaction(signal, NULL, &current) != 0)
    return -1;
  if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == note_then_chain)
    return 0;
  if (!(current.sa_flags & SA_SIGINFO) && (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN))
    return -1;
  /* Written before ours is installed: a signal in between still finds Node's own handler. */
  chained[signal] = current;
  struct sigaction ours = current;
  ours.sa_flags |= SA_SIGINFO;
  ours.sa_sigaction = note_then_chain;
  return sigaction(signal, &ours, NULL);
}

int
pdi_signal_sender_take(int signal, int *code)
{
  if (signal <= 0 || signal >= SIGNAL_LIMIT || !noted[signal])
    return -1;
  *code = noted_code[signal];
  noted[signal] = 0;
  return 0;
}

int
pdi_child_stop_take(int pid)
{
  siginfo_t info;
  info.si_pid = 0;
  if (pid <= 0 || waitid(P_PID, (id_t)pid, &info, WSTOPPED | WNOHANG) != 0 || info.si_pid != pid ||
      info.si_code != CLD_STOPPED)
    return 0;
  return info.si_status;
}
