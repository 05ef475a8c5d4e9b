/* fcgiserve.h: the FastCGI accept threads and clean stop shared by both programs. */
#ifndef PP_FCGISERVE_H
#define PP_FCGISERVE_H

#include <fcgiapp.h>

typedef void (*fcgi_handler)(FCGX_Request *);

/*
 * Blocks the stop signals (TERM, INT, HUP, QUIT and USR1, multiwatch's
 * graceful signal) in every thread; call first, before any thread starts.
 */
void	fcgiserve_block_signals(void);

/*
 * Serves the listen socket on fd 0 (spawn-fcgi's) with nthreads accept
 * threads, accept serialized as in libfcgi's threaded example, until a stop
 * signal; then waits up to drain_ms for requests in flight and returns.
 * Threads still blocked in accept(2) end when the process exits.
 */
void	fcgiserve_run(int nthreads, fcgi_handler handler, long drain_ms);

#endif
