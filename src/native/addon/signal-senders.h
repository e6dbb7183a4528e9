/* The si_code of the signals pdi passes on (signal-senders.c). */
#ifndef PDI_ADDON_SIGNAL_SENDERS_H
#define PDI_ADDON_SIGNAL_SENDERS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Notes the si_code of `signal` from now on, in front of the handler Node installed for it: 0, or -1 when it
 * has none (no listener) or the signal is out of range. Again for a signal already watched: 0. */
int pdi_signal_senders_watch(int signal);
/* The si_code of the last `signal` noted since the last take: 0, or -1 when none was. */
int pdi_signal_sender_take(int signal, int *code);
/* The signal that stopped child `pid`, reported once (waitid WSTOPPED, which leaves its exit to Node): 0 when it
 * has not stopped since the last take, or runs again. */
int pdi_child_stop_take(int pid);

#ifdef __cplusplus
}
#endif

#endif
