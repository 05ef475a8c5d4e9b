/* fcgiserve.h: FastCGI request threads, deferred answers and a clean stop, shared by the three programs. */
#ifndef PP_FCGISERVE_H
#define PP_FCGISERVE_H

#include <fcgiapp.h>

/* Answers one request completely. */
typedef void (*fcgi_handler)(FCGX_Request *);

/*
 * Answers one request, or returns 1 to answer it later from another
 * thread, ending it then with fcgiserve_finish; 0 when answered.
 */
typedef int (*fcgi_deferring_handler)(FCGX_Request *);

/* Ends a request a deferring handler kept (any thread, once). */
void	fcgiserve_finish(FCGX_Request *req);

/*
 * Blocks the stop signals (TERM, INT, HUP, QUIT and USR1, multiwatch's
 * graceful signal) in every thread; call first, before any thread starts.
 */
void	fcgiserve_block_signals(void);

/*
 * Serves the listen socket on fd 0 (spawn-fcgi's) with nthreads threads
 * until a stop signal; then waits up to drain_ms for requests in flight
 * (deferred ones included) and returns.  Requests go to handler, or to
 * deferring when it is not NULL.  Threads still waiting in epoll_wait(2)
 * end when the process exits.
 */
void	fcgiserve_run(int nthreads, fcgi_handler handler, fcgi_deferring_handler deferring,
	    long drain_ms);

#endif
