/* fcgiserve.c: accept threads, a signal-waiting main thread, and draining on stop. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgiserve.h"
#include "log.h"

static volatile int	stopping;
static int		inflight;	/* requests between accept and finish */
static fcgi_handler	handle;
static sigset_t		stop_signals;

void
fcgiserve_block_signals(void)
{
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGUSR1);
	sigaddset(&stop_signals, SIGHUP);
	sigaddset(&stop_signals, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void *
serve(void *arg)
{
	FCGX_Request req;
	int rc;

	(void)arg;
	if (FCGX_InitRequest(&req, 0, 0) != 0)
		fatal("FCGX_InitRequest failed");
	/*
	 * No accept lock: Linux wakes one thread per connection, and with
	 * nginx's kept-alive connections FCGX_Accept_r mostly reads the next
	 * request of this thread's connection, which must not hold up others.
	 */
	while (!stopping) {
		rc = FCGX_Accept_r(&req);
		if (rc == 0)
			__atomic_add_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
		if (rc < 0) {
			if (!stopping)
				log_error(NULL, "FastCGI accept failed (%d); exiting", rc);
			break;
		}
		handle(&req);
		FCGX_Finish_r(&req);
		__atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
	}
	FCGX_Free(&req, 1);
	if (!stopping)
		exit(1);	/* multiwatch starts a fresh process */
	return NULL;
}

static void
drain(long max_ms)
{
	struct timespec step = { 0, 10 * 1000 * 1000 };

	for (long waited = 0; waited < max_ms; waited += 10) {
		if (__atomic_load_n(&inflight, __ATOMIC_SEQ_CST) == 0)
			return;
		nanosleep(&step, NULL);
	}
	log_warning(NULL, "%d requests still in flight after %ld ms; exiting",
	    __atomic_load_n(&inflight, __ATOMIC_SEQ_CST), max_ms);
}

void
fcgiserve_run(int nthreads, fcgi_handler handler, long drain_ms)
{
	pthread_t tid;
	int sig;

	handle = handler;
	if (FCGX_Init() != 0)
		fatal("FCGX_Init failed");
	for (int i = 0; i < nthreads; i++) {
		if ((errno = pthread_create(&tid, NULL, serve, NULL)) != 0)
			fatal("pthread_create: %s", strerror(errno));
		pthread_detach(tid);
	}
	while (sigwait(&stop_signals, &sig) != 0)
		;
	stopping = 1;
	log_debug(NULL, "signal %d: draining", sig);
	drain(drain_ms);
}
