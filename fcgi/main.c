/* main.c: the worker's start-up, its accept threads, and a clean stop on a signal. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "counter.h"
#include "db.h"
#include "log.h"
#include "routes.h"
#include "sharedfile.h"

static pthread_mutex_t	accept_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int	stopping;
static int		inflight;	/* requests between accept and finish */

static void
usage(void)
{
	fprintf(stderr, "usage: pingpong-worker [--check-config | --print-config]\n"
	    "  Run under spawn-fcgi (the listen socket is fd 0); settings come\n"
	    "  from the environment and ./.env (see README.md).\n");
	exit(2);
}

/* One accept thread: libfcgi's threaded pattern, accept serialized. */
static void *
serve(void *arg)
{
	FCGX_Request req;
	int rc;

	(void)arg;
	if (FCGX_InitRequest(&req, 0, 0) != 0)
		fatal("FCGX_InitRequest failed");
	while (!stopping) {
		pthread_mutex_lock(&accept_lock);
		rc = stopping ? -1 : FCGX_Accept_r(&req);
		if (rc == 0)
			__atomic_add_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
		pthread_mutex_unlock(&accept_lock);
		if (rc < 0) {
			if (!stopping)
				log_error(NULL, "accept failed (%d); worker exits", rc);
			break;
		}
		routes_serve(&req);
		FCGX_Finish_r(&req);
		__atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
	}
	FCGX_Free(&req, 1);
	return NULL;
}

/* Waits until in-flight requests are answered, or the deadline passes. */
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

int
main(int argc, char *argv[])
{
	char err[512];
	sigset_t stop;
	pthread_t *threads;
	long nthreads;
	int sig;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--check-config") != 0 &&
	    strcmp(argv[1], "--print-config") != 0))
		usage();
	if (config_load(CF_APP | CF_LAUNCH, err, sizeof(err)) == -1) {
		fprintf(stderr, "pingpong: configuration error: %s\n", err);
		return 2;
	}
	if (argc == 2) {
		if (strcmp(argv[1], "--print-config") == 0)
			config_print(stdout, CF_APP | CF_LAUNCH);
		return 0;
	}
	log_init("worker", (enum log_level)config_int(S_LOG_LEVEL));

	/*
	 * Stop signals are taken by sigwait() in this thread only; multiwatch
	 * sends SIGUSR1 by default, a container runtime SIGTERM.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGUSR1);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	db_init();
	counter_init();
	sharedfile_init();
	if (FCGX_Init() != 0)
		fatal("FCGX_Init failed");

	nthreads = config_int(S_THREADS);
	if ((threads = calloc((size_t)nthreads, sizeof(*threads))) == NULL)
		fatal("out of memory");
	for (long i = 0; i < nthreads; i++)
		if ((errno = pthread_create(&threads[i], NULL, serve, NULL)) != 0)
			fatal("pthread_create: %s", strerror(errno));
	log_debug(NULL, "serving with %ld threads", nthreads);

	while (sigwait(&stop, &sig) != 0)
		;
	stopping = 1;
	log_debug(NULL, "signal %d: draining", sig);
	drain(config_int(S_DB_CONNECT_TIMEOUT) * 1000 +
	    config_int(S_DB_STATEMENT_TIMEOUT) + 1000);
	db_close();
	free(threads);
	/* Threads still blocked in accept(2) end with the process. */
	exit(0);
}
