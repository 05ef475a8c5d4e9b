/* counter.h: the worker's database thread: the pongs waiting share one statement. */
#ifndef PP_COUNTER_H
#define PP_COUNTER_H

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
	int64_t		 deadline;	/* db_now_ms() clock: arrival + timeouts */
	/*
	 * Called on the database thread with the outcome: for a pong, n is
	 * its number, committed; for a read, the count.  DB_FAILED (why
	 * filled) goes to one job per failure, so it is logged once; the
	 * others get DB_UNAVAILABLE.  A failed statement's numbers are never
	 * handed out.  done owns the job from then on.
	 */
	void		(*done)(struct job *, enum db_status st, int64_t n, const char *why);
};

/* Starts the database thread. */
void	counter_init(void);

/*
 * Queues a job.  The database thread takes every job waiting when it is
 * free: the pongs among them (up to PING_PONG_BATCH_MAX) share one
 * statement, UPDATE ... + k, and get its k numbers in arrival order; the
 * reads share one read.  No timer and no added wait: a job alone goes
 * straight through.  A job still queued at its deadline gets DB_UNAVAILABLE.
 */
void	counter_submit(struct job *j);

#endif
