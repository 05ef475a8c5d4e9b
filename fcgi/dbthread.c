/* dbthread.c: the worker's database thread: the pongs waiting share one statement. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "dbthread.h"
#include "guard.h"
#include "leadergate.h"
#include "log.h"
#include "metrics.h"
#include "sharedfile.h"

/*
 * One thread per worker, this one, is the database connection's only user
 * (the invariant is in db.h).  The request threads never wait for it: they
 * queue the jobs and go back to reading requests (so /health answers while
 * the database hangs), and the jobs that arrive while a statement runs are
 * the next statement's batch.
 */
static pthread_mutex_t	 q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 q_ready = PTHREAD_COND_INITIALIZER;	/* with q_lock */
static struct job	*q_head, **q_tail = &q_head;	/* q_lock */
static long		 batch_max;	/* set before the thread starts, then read-only */

void
dbthread_submit(struct job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&q_lock);
	if (q_head == NULL)
		pthread_cond_signal(&q_ready);
	*q_tail = j;
	q_tail = &j->next;
	pthread_mutex_unlock(&q_lock);
}

/* Takes the queue's head: every job up to the batch_max-th pong. */
static struct job *
next_batch(void)
{
	struct job *batch, *j, **pp;
	long pongs = 0;

	pthread_mutex_lock(&q_lock);
	while (q_head == NULL)
		pthread_cond_wait(&q_ready, &q_lock);
	batch = q_head;
	for (pp = &q_head; (j = *pp) != NULL; pp = &j->next)
		if (j->kind == JOB_PONG && ++pongs > batch_max)
			break;
	*pp = NULL;		/* ends the batch */
	if ((q_head = j) == NULL)
		q_tail = &q_head;
	pthread_mutex_unlock(&q_lock);
	return batch;
}

/* Answers the jobs of list in order, numbering from n; the first is told DB_FAILED. */
static void
answer(struct job *list, enum db_status st, int64_t n, int step, const char *why)
{
	struct job *j, *next;

	for (j = list; j != NULL; j = next, n += step) {
		next = j->next;	/* done owns j */
		j->done(j, st, n, why);
		if (st == DB_FAILED)
			st = DB_UNAVAILABLE;
	}
}

/* Appends j to the list whose end is *tail. */
#define APPEND(tail, j)	do { *(tail) = (j); (tail) = &(j)->next; } while (0)

/*
 * A request's deadline decides one thing only: whether a statement may
 * still be sent for it.  One is sent while a whole statement timeout is
 * left before the deadline (so the answer, cut or not, comes by it, plus a
 * cancel's answer); a job with less is answered 503 at once, before any
 * statement, and never shortens the statement of the others (db.c).
 */
static int64_t
send_by(const struct job *j)
{
	return j->deadline - config_int(S_DB_STATEMENT_TIMEOUT);
}

/*
 * Answers 503 the jobs of *list that can no longer be sent (the first of
 * them told DB_FAILED, for one log line per outage); keeps the others in
 * order.  Returns how many are kept; *latest is the latest send_by of them.
 */
static int64_t
sift(struct job **list, int64_t *latest)
{
	struct job *j, *next, *late = NULL, **lt = &late, **kt = list;
	int64_t now = clock_ms(), kept = 0;
	char why[200];

	*latest = INT64_MIN;
	for (j = *list; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		if (send_by(j) < now) {
			APPEND(lt, j);
			continue;
		}
		APPEND(kt, j);
		kept++;
		if (send_by(j) > *latest)
			*latest = send_by(j);
	}
	*kt = NULL;
	if (late != NULL) {
		snprintf(why, sizeof(why), "requests answered 503 with no statement sent: they "
		    "waited past their deadline (request budget %ld ms) less a statement "
		    "timeout (%ld ms)", config_request_budget_ms(),
		    config_int(S_DB_STATEMENT_TIMEOUT));
		answer(late, DB_FAILED, 0, 0, why);
	}
	return kept;
}

/* The pongs of a batch: one increment for all of them; *after its result. */
static enum db_status
increment(struct job **pongs, int64_t *k, int64_t *after, char *why, size_t whylen)
{
	enum db_status st;
	int64_t latest, mark;
	int gate;

	/*
	 * Connected first, outside the gate: a reconnect that hangs (until the
	 * connect timeout) holds this worker only.
	 */
	if ((st = db_connect(why, whylen)) != DB_OK)
		return st;
	if ((*k = sift(pongs, &latest)) == 0)
		return DB_UNAVAILABLE;
	/* The gate is waited for while any of them may still be sent (at most 1 s). */
	gate = leadergate_enter(latest);
	if ((*k = sift(pongs, &latest)) == 0) {
		st = DB_UNAVAILABLE;
		goto out;
	}
	mark = guard_next();
	st = db_increment(*k, after, why, whylen);
	if (st == DB_OK && guard_check(mark, *after - *k, *after) == -1)
		st = DB_WENT_BACK;
out:
	if (gate == 1)
		leadergate_leave();
	return st;
}

/*
 * The reads of a batch: connected first, as for the increment, then one
 * read for those that may still be sent (a reconnect can outlast a
 * send-by); *value the count.
 */
static enum db_status
read_count(struct job **reads, int64_t *value, char *why, size_t whylen)
{
	enum db_status st;
	int64_t mark, latest;

	if ((st = db_connect(why, whylen)) != DB_OK)
		return st;
	if (sift(reads, &latest) == 0)
		return DB_UNAVAILABLE;
	mark = guard_next();
	st = db_read(value, why, whylen);
	/* A count below what was handed out is the counter going back too. */
	if (st == DB_OK && guard_check(mark, *value, *value) == -1)
		st = DB_WENT_BACK;
	return st;
}

/* Runs one batch: jobs that can no longer be sent answered, one increment, one read. */
static void
run(struct job *batch)
{
	struct job *j, *next, *pongs = NULL, *reads = NULL;
	struct job **pt = &pongs, **rt = &reads;
	int64_t k = 0, after = 0, latest;
	enum db_status st = DB_UNAVAILABLE;
	char why[256] = "";

	for (j = batch; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		if (j->kind == JOB_PONG)
			APPEND(pt, j);
		else
			APPEND(rt, j);
	}
	if (guard_tripped()) {	/* the counter went back: nothing more until a restart */
		answer(pongs, DB_WENT_BACK, 0, 0, "");
		answer(reads, DB_WENT_BACK, 0, 0, "");
		return;
	}
	if (sift(&pongs, &latest) > 0) {
		st = increment(&pongs, &k, &after, why, sizeof(why));
		if (st == DB_OK) {
			metrics_batch(k);
			metrics_counter(after);
			sharedfile_update(after);
		}
		answer(pongs, st, after - k, 1, why);
	}
	if (sift(&reads, &latest) > 0) {
		/* The count just committed is as fresh as a read. */
		if (k == 0 || st != DB_OK)
			st = read_count(&reads, &after, why, sizeof(why));
		answer(reads, st, after, 0, why);
	}
}

static void *
thread_main(void *arg)
{
	(void)arg;
	for (;;)
		run(next_batch());
	return NULL;
}

void
dbthread_start(void)
{
	pthread_t tid;

	batch_max = config_int(S_GROUP_INCREMENTS) ? config_int(S_BATCH_MAX) : 1;
	if (config_int(S_GROUP_INCREMENTS))
		leadergate_init();
	if ((errno = pthread_create(&tid, NULL, thread_main, NULL)) != 0)
		fatal("pthread_create: %s", strerror(errno));
	pthread_setname_np(tid, "pp-database");	/* for top -H, perf, gdb */
	pthread_detach(tid);
}
