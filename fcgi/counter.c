/* counter.c: the worker's database thread: the pongs waiting share one statement. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "counter.h"
#include "guard.h"
#include "leadergate.h"
#include "log.h"
#include "metrics.h"
#include "sharedfile.h"

/*
 * One thread per worker, this one, is the database connection's only user
 * (the invariant is in db.h).  The request threads never wait for it: they queue the jobs and go back to reading
 * requests (so /health answers while the database hangs), and the jobs
 * that arrive while a statement runs are the next statement's batch.
 */
static pthread_mutex_t	 q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 q_ready = PTHREAD_COND_INITIALIZER;	/* with q_lock */
static struct job	*q_head, **q_tail = &q_head;	/* q_lock */
static long		 batch_max;	/* set before the thread starts, then read-only */

void
counter_submit(struct job *j)
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
take(void)
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

/* Runs one batch: expired jobs answered, one increment, one read. */
static void
run(struct job *batch)
{
	struct job *j, *next, *expired = NULL, *pongs = NULL, *reads = NULL;
	struct job **et = &expired, **pt = &pongs, **rt = &reads;
	int64_t now = db_now_ms(), k = 0, deadline = INT64_MAX, after = 0, mark;
	enum db_status st = DB_UNAVAILABLE;
	char why[256] = "";
	int gate;

	for (j = batch; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		if (j->deadline <= now) {	/* queued past it: no number is used */
			APPEND(et, j);
			continue;
		}
		if (j->deadline < deadline)
			deadline = j->deadline;
		if (j->kind == JOB_PONG) {
			APPEND(pt, j);
			k++;
		} else
			APPEND(rt, j);
	}
	answer(expired, DB_UNAVAILABLE, 0, 0, "");
	if (guard_tripped()) {	/* the counter went back: nothing more until a restart */
		answer(pongs, DB_WENT_BACK, 0, 0, "");
		answer(reads, DB_WENT_BACK, 0, 0, "");
		return;
	}
	if (k > 0) {
		/*
		 * Connected first, outside the gate: a reconnect that hangs
		 * (until the deadline) holds this worker only.  At the gate's
		 * deadline no number was used.
		 */
		if ((st = db_connect(deadline, why, sizeof(why))) == DB_OK &&
		    (gate = leadergate_enter(deadline)) != -1) {
			mark = guard_next();
			st = db_increment(k, deadline, &after, why, sizeof(why));
			if (gate == 1)
				leadergate_leave();
			if (st == DB_OK && guard_check(mark, after - k, after) == -1)
				st = DB_WENT_BACK;
		} else if (st == DB_OK)
			st = DB_UNAVAILABLE;
		if (st == DB_OK) {
			metrics_batch(k);
			metrics_counter(after);
			sharedfile_update(after);
		}
		answer(pongs, st, after - k, 1, why);
	}
	if (reads != NULL) {
		/* The count just committed is as fresh as a read. */
		if (k == 0 || st != DB_OK) {
			mark = guard_next();
			st = db_read(deadline, &after, why, sizeof(why));
			/* A count below what was handed out is the counter going back too. */
			if (st == DB_OK && guard_check(mark, after, after) == -1)
				st = DB_WENT_BACK;
		}
		answer(reads, st, after, 0, why);
	}
}

static void *
db_thread(void *arg)
{
	(void)arg;
	for (;;)
		run(take());
	return NULL;
}

void
counter_init(void)
{
	pthread_t tid;

	batch_max = config_int(S_GROUP_INCREMENTS) ? config_int(S_BATCH_MAX) : 1;
	if (config_int(S_GROUP_INCREMENTS))
		leadergate_init();
	if ((errno = pthread_create(&tid, NULL, db_thread, NULL)) != 0)
		fatal("pthread_create: %s", strerror(errno));
	pthread_setname_np(tid, "pp-database");	/* for top -H, perf, gdb */
	pthread_detach(tid);
}
