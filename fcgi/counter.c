/* counter.c: group increments: a queue of waiting pongs and one leader in the database. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>

#include "config.h"
#include "counter.h"
#include "metrics.h"
#include "sharedfile.h"

struct waiter {
	struct waiter	*next;
	int64_t		 n;
	int64_t		 deadline;	/* db_now_ms() clock: arrival + timeouts */
	enum db_status	 status;
	int		 taken;		/* in a batch now in the database */
	int		 done;
	char		 why[256];	/* filled for the one waiter told DB_FAILED */
};

static pthread_mutex_t	 q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 q_done = PTHREAD_COND_INITIALIZER;
static struct waiter	*q_head, **q_tail = &q_head;
static int		 leader_busy;
static long		 batch_max;

void
counter_init(void)
{
	batch_max = config_int(S_GROUP_INCREMENTS) ? config_int(S_BATCH_MAX) : 1;
}

/*
 * Runs one statement for the first batch_max waiters; called and returns
 * with q_lock held, but drops it while in the database so that new
 * requests can queue up behind this batch.
 */
static void
lead(void)
{
	struct waiter *batch = q_head, *w;
	int64_t k = 0, after = 0, deadline = INT64_MAX;
	enum db_status st;
	char why[256];

	/* The batch must answer by its earliest member's deadline. */
	for (w = q_head; w != NULL && k < batch_max; w = w->next) {
		k++;
		w->taken = 1;
		if (w->deadline < deadline)
			deadline = w->deadline;
	}
	q_head = w;
	if (q_head == NULL)
		q_tail = &q_head;
	leader_busy = 1;
	pthread_mutex_unlock(&q_lock);

	st = db_increment(k, deadline, &after, why, sizeof(why));
	if (st == DB_OK) {
		metrics_batch(k);
		metrics_counter(after);
		sharedfile_update(after);
	}

	pthread_mutex_lock(&q_lock);
	for (int64_t i = 0; i < k; i++, batch = w) {
		w = batch->next;
		batch->n = after - k + i;
		batch->status = st;
		if (st == DB_FAILED && i == 0)
			snprintf(batch->why, sizeof(batch->why), "%s", why);
		else if (st == DB_FAILED)
			batch->status = DB_UNAVAILABLE;
		batch->done = 1;
	}
	leader_busy = 0;
	pthread_cond_broadcast(&q_done);
}

/* Takes w out of the queue (it gave up before a batch took it); q_lock held. */
static void
unlink_waiter(struct waiter *w)
{
	struct waiter **pp;

	for (pp = &q_head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			if (q_tail == &w->next)
				q_tail = pp;
			return;
		}
}

enum db_status
counter_next(int64_t *n, char *why, size_t whylen)
{
	struct waiter self = { .next = NULL, .done = 0 };
	struct timespec until;

	self.deadline = db_request_deadline(db_now_ms());
	/* cond_timedwait takes CLOCK_REALTIME: convert the deadline once. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (self.deadline - db_now_ms()) / 1000;
	until.tv_nsec += ((self.deadline - db_now_ms()) % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&q_lock);
	*q_tail = &self;
	q_tail = &self.next;
	while (!self.done) {
		if (!leader_busy)
			lead();
		else if (self.taken)	/* its batch is in the database: wait for it */
			pthread_cond_wait(&q_done, &q_lock);
		else if (pthread_cond_timedwait(&q_done, &q_lock, &until) == ETIMEDOUT &&
		    !self.taken && !self.done) {
			/* Still queued at its deadline: give up; no number was used. */
			unlink_waiter(&self);
			self.status = DB_UNAVAILABLE;
			break;
		}
	}
	pthread_mutex_unlock(&q_lock);
	*n = self.n;
	if (self.status == DB_FAILED)
		snprintf(why, whylen, "%s", self.why);
	return self.status;
}
