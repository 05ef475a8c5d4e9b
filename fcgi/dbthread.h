/* dbthread.h: the worker's database thread: the pongs waiting share one statement. */
#ifndef PP_DBTHREAD_H
#define PP_DBTHREAD_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>

#include "db.h"

enum job_kind {
	JOB_PONG,	/* takes the next number */
	JOB_READ,	/* reads the count (/pings, /health/ready) */
};

/* One request that needs the database; made by the caller, answered by done. */
struct job {
	struct job	*next;
	enum job_kind	 kind;
	int64_t		 deadline;	/* clock_ms(): arrival + timeouts */
	/*
	 * Called on the database thread with the outcome: for a pong, n is
	 * its number, committed; for a read, the count.  DB_FAILED (why
	 * filled) goes to one job per failure, so it is logged once; the
	 * others get DB_UNAVAILABLE.  A failed statement's numbers are never
	 * handed out.  done owns the job from then on.
	 */
	void		(*done)(struct job *, enum db_status st, int64_t n, const char *why);
};

/*
 * Everything the database thread calls, and what bounds it (issue 26: it
 * must never wait on anything unbounded, for then every pong waits):
 *   next_batch()        q_lock, held only to unlink the queue: no I/O.
 *   db_connect()        resolve_hosts (resolve.c, a thread per lookup,
 *                       waited for until the connect's deadline), then
 *                       PQconnectPoll over poll(2): PING_PONG_DB_CONNECT_TIMEOUT
 *                       in all; then the set-up (handover check, schema,
 *                       prepares) under one PING_PONG_DB_STATEMENT_TIMEOUT
 *                       (+ a cancel's answer).
 *   leadergate_enter()  the latest send-by of the batch, and at most
 *                       GATE_PATIENCE_MS (1 s).
 *   db_increment(),
 *   db_read()           one statement, poll(2) until the statement timeout,
 *                       then PP_DB_CANCEL_WAIT_MS for the cancel's answer;
 *                       the cancel itself runs on a thread of its own
 *                       (PQcancel blocks in libpq 15), never on this one.
 *                       Sent again unnamed within the same timeout when a
 *                       pooler lost the prepared one; a right revoked
 *                       (42501) adds one db_connect().
 *   guard_next(), guard_check(), guard_tripped()
 *                       atomics in a shared mapping: no I/O.
 *   metrics_*()         relaxed atomics in a shared mapping: no I/O.
 *   sharedfile_update() a mutex held for one assignment: the file is
 *                       written by sharedfile.c's own thread (lock wait
 *                       PP_SHARED_LOCK_WAIT_MS, retry PP_SHARED_RETRY_MS).
 *   job->done()         routes.c: formats the answer and writes it to
 *                       nginx's FastCGI socket (fcgiserve_finish); bounded
 *                       by nginx reading its upstreams, which it always
 *                       does (fastcgi_buffering), never by the client.
 *   log_*()             one write(2) of at most PIPE_BUF bytes to stderr,
 *                       the launcher's pipe, drained by its relay thread;
 *                       failures are logged once per outage, not per job.
 */

/* Starts the database thread. */
void	dbthread_start(void);

/*
 * Queues a job.  The database thread takes every job waiting when it is
 * free: the pongs among them (up to PING_PONG_BATCH_MAX) share one
 * statement, UPDATE ... + k, and get its k numbers in arrival order; the
 * reads share one read.  No timer and no added wait: a job alone goes
 * straight through.  A job is sent only while a whole statement timeout is
 * left before its deadline; one with less is answered 503 (DB_FAILED for
 * the first of them, then DB_UNAVAILABLE) before any statement is sent,
 * and never shortens the statement of the others.
 */
void	dbthread_submit(struct job *j);

#endif
