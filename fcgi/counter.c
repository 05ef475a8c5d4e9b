/* counter.c: group increments: a queue of waiting pongs and one leader in the database. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "counter.h"
#include "metrics.h"
#include "sharedfile.h"

/*
 * Each waiting pong sleeps on its own semaphore and is woken exactly once:
 * when its batch is done, or when it is handed the lead.  A broadcast
 * would wake every queued thread for every statement, and on two cores
 * those wake-ups cost more than the database (README: performance).
 */
struct waiter {
	struct waiter	*next;
	int64_t		 n;
	int64_t		 deadline;	/* db_now_ms() clock: arrival + timeouts */
	enum db_status	 status;
	int		 taken;		/* in a batch now in the database */
	int		 lead;		/* handed the lead: run the next batch */
	sem_t		 wake;		/* posted once: done, or lead */
	char		 why[256];	/* filled for the one waiter told DB_FAILED */
};

static pthread_mutex_t	 q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct waiter	*q_head, **q_tail = &q_head;
static int		 leader_busy;	/* a thread is leading (or handed the lead) */
static long		 batch_max;

void
counter_init(void)
{
	batch_max = config_int(S_GROUP_INCREMENTS) ? config_int(S_BATCH_MAX) : 1;
}

/*
 * The leader (at the head of the queue) runs one statement for the first
 * batch_max waiters, gives each its number, and hands the lead to the
 * next waiter in the queue, if any.  q_lock is held only to take the batch
 * and to pick the next leader, so that new requests queue up meanwhile.
 */
static void
lead(struct waiter *self)
{
	struct waiter *batch, *w, *next_leader;
	int64_t k = 0, after = 0, deadline = INT64_MAX;
	enum db_status st;
	char why[256];

	pthread_mutex_lock(&q_lock);
	batch = q_head;
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
	pthread_mutex_unlock(&q_lock);

	st = db_increment(k, deadline, &after, why, sizeof(why));
	if (st == DB_OK) {
		metrics_batch(k);
		metrics_counter(after);
		sharedfile_update(after);
	}

	pthread_mutex_lock(&q_lock);
	if ((next_leader = q_head) != NULL)
		next_leader->lead = 1;
	else
		leader_busy = 0;
	pthread_mutex_unlock(&q_lock);

	/* The batch is out of the queue: only this thread touches it now. */
	for (int64_t i = 0; i < k; i++, batch = w) {
		w = batch->next;
		batch->n = after - k + i;
		batch->status = st;
		if (st == DB_FAILED && i == 0)
			snprintf(batch->why, sizeof(batch->why), "%s", why);
		else if (st == DB_FAILED)
			batch->status = DB_UNAVAILABLE;
		if (batch != self)
			sem_post(&batch->wake);
	}
	if (next_leader != NULL)
		sem_post(&next_leader->wake);
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

/*
 * Sleeps until posted or the deadline; returns 0 when posted, -1 when the
 * waiter gave up while still queued (no number was used for it).
 */
static int
await(struct waiter *self, const struct timespec *until)
{
	int rc, gave_up = 0;

	while ((rc = sem_clockwait(&self->wake, CLOCK_MONOTONIC, until)) != 0 &&
	    errno == EINTR)
		;
	if (rc == 0)
		return 0;
	pthread_mutex_lock(&q_lock);
	if (!self->taken && !self->lead) {
		unlink_waiter(self);
		gave_up = 1;
	}
	pthread_mutex_unlock(&q_lock);
	if (gave_up)
		return -1;
	/*
	 * Its batch is in the database (bounded by its deadline) or it was
	 * just handed the lead: the one post is coming, and must be taken
	 * before the semaphore goes out of scope.
	 */
	while (sem_wait(&self->wake) != 0)
		;
	return 0;
}

enum db_status
counter_next(int64_t *n, char *why, size_t whylen)
{
	struct waiter self = { .next = NULL };
	struct timespec until;
	int64_t now = db_now_ms();

	self.deadline = db_request_deadline(now);
	until.tv_sec = self.deadline / 1000;
	until.tv_nsec = (self.deadline % 1000) * 1000000;
	sem_init(&self.wake, 0, 0);

	pthread_mutex_lock(&q_lock);
	*q_tail = &self;
	q_tail = &self.next;
	if (!leader_busy)
		leader_busy = self.lead = 1;
	pthread_mutex_unlock(&q_lock);

	for (;;) {
		if (self.lead) {
			self.lead = 0;
			lead(&self);
			break;
		}
		if (await(&self, &until) != 0) {
			self.status = DB_UNAVAILABLE;
			break;
		}
		if (self.taken && !self.lead)
			break;
	}
	sem_destroy(&self.wake);
	*n = self.n;
	if (self.status == DB_FAILED)
		snprintf(why, whylen, "%s", self.why);
	return self.status;
}
