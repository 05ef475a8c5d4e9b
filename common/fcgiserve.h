/* fcgiserve.h: the FastCGI programs' shared layer: their start (fcgistart.c), request threads, deferred answers and a clean stop (fcgiserve.c). */
#ifndef PP_FCGISERVE_H
#define PP_FCGISERVE_H

#include <signal.h>

#include <fcgiapp.h>

/* Answers one request completely (with http_answer, httpanswer.h). */
typedef void (*fcgi_handler)(FCGX_Request *);

/*
 * Answers one request, or returns 1 to answer it later from another
 * thread, ending it then with fcgiserve_finish; 0 when answered.
 */
typedef int (*fcgi_deferring_handler)(FCGX_Request *);

/* Ends a request a deferring handler kept (any thread, once). */
void	fcgiserve_finish(FCGX_Request *req);

/*
 * FCGI_SCRATCH_MAX bytes (aligned for any type) that belong to req until
 * it is finished: a deferring handler keeps its state there, with no
 * allocation per request.
 */
#define FCGI_SCRATCH_MAX	128
void	*fcgiserve_scratch(FCGX_Request *req);

/*
 * The start every program shares: the command line and settings of the
 * given owners (config_main), the log as component, and the stop signals
 * (fcgiserve_stop_signals) blocked in every thread.  Returns -1 when the
 * program should go on and serve, else the status to exit with.  Call
 * first, before any thread starts.
 */
int	fcgiserve_start(int argc, char *argv[], unsigned owners, const char *component);

/* The programs' stop signals: every process's (stopsignals.h) and SIGUSR1, multiwatch's graceful one. */
void	fcgiserve_stop_signals(sigset_t *set);

/*
 * Serves the listen socket on fd 0 (spawn-fcgi's) with nthreads threads
 * until a stop signal, or until a request thread fails; then waits up to
 * drain_ms for requests in flight (deferred ones included) and returns the
 * status to _exit with: 0 after a signal, 1 after a failure (logged).
 * Requests go to handler, or to deferring when it is not NULL.  Threads
 * still waiting in epoll_wait(2) end when the process exits.
 */
int	fcgiserve_run(int nthreads, fcgi_handler handler, fcgi_deferring_handler deferring,
	    long drain_ms);

#endif
