/* stopsignals.c: the signals that stop a pingpong process, one set for the programs and the launcher. */
#include <signal.h>

#include "stopsignals.h"

void
stop_signals_fill(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}
