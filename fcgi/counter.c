/* counter.c: group increments: a queue of waiting pongs and one leader in the database. */
#include <pthread.h>
#include <stdio.h>

#include "config.h"
#include "counter.h"
#include "metrics.h"
#include "sharedfile.h"

struct waiter {
	struct waiter	*next;
	int64_t		 n;
	enum db_status	 status;
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
	int64_t k = 0, after = 0;
	enum db_status st;
	char why[256];

	for (w = q_head; w != NULL && k < batch_max; w = w->next)
		k++;
	q_head = w;
	if (q_head == NULL)
		q_tail = &q_head;
	leader_busy = 1;
	pthread_mutex_unlock(&q_lock);

	st = db_increment(k, &after, why, sizeof(why));
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

enum db_status
counter_next(int64_t *n, char *why, size_t whylen)
{
	struct waiter self = { .next = NULL, .done = 0 };

	pthread_mutex_lock(&q_lock);
	*q_tail = &self;
	q_tail = &self.next;
	while (!self.done) {
		if (!leader_busy)
			lead();
		else
			pthread_cond_wait(&q_done, &q_lock);
	}
	pthread_mutex_unlock(&q_lock);
	*n = self.n;
	if (self.status == DB_FAILED)
		snprintf(why, whylen, "%s", self.why);
	return self.status;
}
