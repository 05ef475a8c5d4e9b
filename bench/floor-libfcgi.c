/* floor-libfcgi.c: make bench's second reference: a plain libfcgi responder, one thread per kept connection, answering "pong 0". */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fcgiserve.h"
#include "log.h"
#include "pong0.h"

/*
 * libfcgi's own model: each thread accepts a connection and reads its
 * requests with blocking reads until nginx closes it, so a kept
 * connection holds its thread even while idle.  300 threads cover the
 * connections nginx keeps at the bench's 256 clients.
 */
#define THREADS		300
#define LISTEN_FD	0	/* spawn-fcgi's listening socket */

static void *
serve(void *arg)
{
	FCGX_Request req;

	(void)arg;
	if (FCGX_InitRequest(&req, LISTEN_FD, 0) != 0)
		return NULL;
	while (FCGX_Accept_r(&req) == 0) {
		pong0(&req);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	sigset_t stop;
	pthread_t tid;
	int rc, sig, n;

	/* The programs' start: settings, log, privileges, the stop signals blocked. */
	if ((rc = fcgiserve_start(argc, argv, CF_APP | CF_LAUNCH, "floor-libfcgi")) != -1)
		return rc;
	if (FCGX_Init() != 0)
		fatal("FCGX_Init failed");
	for (n = 0; n < THREADS && (errno = pthread_create(&tid, NULL, serve, NULL)) == 0; n++)
		pthread_detach(tid);
	if (n == 0)	/* no thread serves yet: exit(3) is safe */
		fatal("pthread_create: %s", strerror(errno));
	if (n < THREADS)
		log_warning(NULL, "pthread_create: %s; %d of %d threads", strerror(errno), n, THREADS);
	/* Waits for a stop signal (fcgiserve_start blocked them). */
	fcgiserve_stop_signals(&stop);
	while (sigwait(&stop, &sig) != 0)
		;
	_exit(0);
}
