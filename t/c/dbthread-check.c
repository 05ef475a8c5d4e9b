/* dbthread-check.c: t/84's check of the database thread's rule, with the database played: no statement is sent for a job once its send-by has passed, a slow reconnect included. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "dbthread.h"
#include "guard.h"
#include "leadergate.h"
#include "metrics.h"
#include "sharedfile.h"

/*
 * Why a C stand-in and not a daemon: the case is a reconnect that ends
 * after the job's send-by, yet succeeds, a timing no real server stages
 * on demand; the thread under test is the real fcgi/dbthread.c.
 *
 * The database, played.  While not connected, the next call that needs
 * the connection first takes connect_ms (db_read connects by itself, as
 * db.c's locked_query does); statements are counted.  Written by main
 * before a job is submitted and read on the database thread after it is
 * taken: the queue's mutex orders them.
 */
static int	connected, statements;
static long	connect_ms;

static void
connect_if_needed(void)
{
	struct timespec ts = clock_ts(connect_ms);

	if (!connected)
		nanosleep(&ts, NULL);
	connected = 1;
}

enum db_status
db_connect(char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	connect_if_needed();
	return DB_OK;
}

enum db_status
db_read(int64_t *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	connect_if_needed();
	statements++;
	*value = 7;
	return DB_OK;
}

enum db_status
db_increment(int64_t k, int64_t *after, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	connect_if_needed();
	statements++;
	*after = 100 + k;
	return DB_OK;
}

/* What the thread calls besides, with nothing behind it here. */
int64_t
guard_next(void)
{
	return 0;
}

int
guard_check(int64_t next, int64_t lowest, int64_t end)
{
	(void)next;
	(void)lowest;
	(void)end;
	return 0;
}

int
guard_tripped(void)
{
	return 0;
}

void
leadergate_init(void)
{
}

int
leadergate_enter(int64_t deadline)
{
	(void)deadline;
	return 0;
}

void
leadergate_leave(void)
{
}

void
metrics_batch(int64_t size)
{
	(void)size;
}

void
metrics_counter(int64_t value)
{
	(void)value;
}

void
sharedfile_update(int64_t count)
{
	(void)count;
}

/* A job and what it was answered (job first: done gets the job's address). */
struct outcome {
	struct job	job;
	enum db_status	st;
	int64_t		n;
	int		answered;
};

static pthread_mutex_t	lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	answered = PTHREAD_COND_INITIALIZER;

static void
done(struct job *j, enum db_status st, int64_t n, const char *why)
{
	struct outcome *o = (struct outcome *)j;

	(void)why;
	pthread_mutex_lock(&lock);
	o->st = st;
	o->n = n;
	o->answered = 1;
	pthread_cond_broadcast(&answered);
	pthread_mutex_unlock(&lock);
}

/* One job of kind, send-by send_by_ms from now, not connected and a connect of slow_ms; prints its answer. */
static void
one(const char *name, enum job_kind kind, long send_by_ms, long slow_ms)
{
	struct outcome o = { .job = { .kind = kind, .done = done } };
	struct timespec until;
	int before = statements;

	connected = 0;
	connect_ms = slow_ms;
	o.job.deadline = clock_ms() + config_int(S_DB_STATEMENT_TIMEOUT) + send_by_ms;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	dbthread_submit(&o.job);
	pthread_mutex_lock(&lock);
	while (!o.answered && pthread_cond_timedwait(&answered, &lock, &until) == 0)
		;
	pthread_mutex_unlock(&lock);
	if (!o.answered) {
		printf("%s: no answer within 10 s\n", name);
		exit(1);
	}
	printf("%s: status %d, n %lld, statements %d\n", name, (int)o.st, (long long)o.n,
	    statements - before);
}

int
main(void)
{
	char err[256];

	if (config_load(CF_APP, err, sizeof(err)) == -1) {
		fprintf(stderr, "dbthread-check: %s\n", err);
		return 2;
	}
	dbthread_start();
	one("read in time", JOB_READ, 5000, 0);
	one("read late after a slow connect", JOB_READ, 300, 900);
	one("pong in time", JOB_PONG, 5000, 0);
	one("pong late after a slow connect", JOB_PONG, 300, 900);
	return 0;
}
