/* stopsignals.h: the signals that stop a pingpong process, one set for the programs and the launcher. */
#ifndef PP_STOPSIGNALS_H
#define PP_STOPSIGNALS_H

#include <signal.h>

/*
 * Empties set and adds the signals that stop every pingpong process: TERM
 * (Kubernetes, systemd, kill), INT (Ctrl-C), HUP (the terminal gone) and
 * QUIT.  Each process adds its own to them: the FastCGI programs SIGUSR1
 * (multiwatch's graceful stop; fcgistart.c), the launcher SIGCHLD (not a
 * stop: its parts' deaths, read from the same signalfd; launcher/supervise.c).
 */
void	stop_signals_fill(sigset_t *set);

#endif
