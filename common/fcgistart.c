/* fcgistart.c: what every FastCGI program does first: settings, log, privileges, its stop signals blocked. */
#include <pthread.h>
#include <signal.h>

#include "config.h"
#include "fcgiserve.h"
#include "log.h"
#include "privdrop.h"
#include "stopsignals.h"

void
fcgiserve_stop_signals(sigset_t *set)
{
	stop_signals_fill(set);
	sigaddset(set, SIGUSR1);	/* multiwatch's graceful stop */
}

int
fcgiserve_start(int argc, char *argv[], unsigned owners, const char *component)
{
	sigset_t stop;
	char why[256];
	int rc;

	if (stdio_open() == -1)		/* before any file: none may become stderr */
		return 1;
	if ((rc = config_main(argc, argv, owners)) != -1)
		return rc;
	log_init(component, (enum log_level)config_int(S_LOG_LEVEL),
	    (enum log_format)config_int(S_LOG_FORMAT));
	/* Settings and secret files are read; as root, nothing else needs it. */
	if (privdrop(config_str(S_USER), why, sizeof(why)) == -1)
		fatal("%s", why);
	/* Blocked in every thread: fcgiserve_run's main thread waits for them. */
	fcgiserve_stop_signals(&stop);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	return -1;
}
