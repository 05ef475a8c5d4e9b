/* fetcher.c: log-output's one upstream thread: every request waiting for the count is answered by one call. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "fcgiserve.h"
#include "fetcher.h"
#include "log.h"
#include "pp_limits.h"
#include "source.h"

/*
 * The worker's design (common/fcgiserve.c, fcgi/dbthread.c): request threads
 * only read and dispatch; what waits on something outside waits on a
 * thread of its own.  Here a request for / or /health/ready is deferred
 * and put on the waiting list; this thread takes the whole list, makes ONE
 * upstream call (source_count: GET /pings, at most PP_LOG_UPSTREAM_MS, or
 * the shared file) and answers every request on it with the result.  So
 * log-output makes at most two upstream calls at a time (this thread's and
 * the ticker's), each bounded in time; a request waits at most for the
 * call in progress and its own (2 x PP_LOG_UPSTREAM_MS); at most
 * PP_LOG_WAITING_MAX wait, the next ones get 503 at once; and /health and
 * /metrics, answered on the request threads, never wait for any of it.
 * A request that arrives during a call waits for the next one: its count
 * is never older than the request.
 */

struct waiter {
	FCGX_Request	*req;
	struct waiter	*next;
	int		 tag;
};

static pthread_mutex_t	waiting_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	waiting_cond = PTHREAD_COND_INITIALIZER;
static struct waiter	*head, **tail = &head;	/* waiting_lock: the waiting list, oldest first */
static struct fetcher_stats stats;		/* waiting_lock */
static fetch_answer	answer_fn;		/* set before the thread, then read-only */

_Static_assert(sizeof(struct waiter) <= FCGI_SCRATCH_MAX, "a waiter fits in a request's scratch");

int
fetcher_wait(FCGX_Request *req, int tag)
{
	struct waiter *w = fcgiserve_scratch(req);
	int rc = -1;

	pthread_mutex_lock(&waiting_lock);
	if (stats.waiting < PP_LOG_WAITING_MAX) {
		*w = (struct waiter){ .req = req, .tag = tag };
		*tail = w;
		tail = &w->next;
		stats.waiting++;
		pthread_cond_signal(&waiting_cond);
		rc = 0;
	} else
		stats.refused++;
	pthread_mutex_unlock(&waiting_lock);
	return rc;
}

void
fetcher_stats(struct fetcher_stats *st)
{
	pthread_mutex_lock(&waiting_lock);
	*st = stats;
	pthread_mutex_unlock(&waiting_lock);
}

static void *
fetch_loop(void *arg)
{
	struct count_result r;
	struct waiter *list, *next;
	unsigned long n;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&waiting_lock);
		while (head == NULL)
			pthread_cond_wait(&waiting_cond, &waiting_lock);
		list = head;
		head = NULL;
		tail = &head;
		pthread_mutex_unlock(&waiting_lock);

		memset(&r, 0, sizeof(r));
		r.ok = source_count(&r.n, r.why, sizeof(r.why)) == 0;
		for (n = 0; list != NULL; list = next, n++) {
			next = list->next;	/* list lives in the request's scratch: read first */
			answer_fn(list->req, list->tag, &r);
		}
		pthread_mutex_lock(&waiting_lock);
		stats.waiting -= n;
		if (r.ok)
			stats.calls_ok++;
		else
			stats.calls_failed++;
		pthread_mutex_unlock(&waiting_lock);
	}
	return NULL;
}

void
fetcher_start(fetch_answer answer)
{
	pthread_t tid;

	answer_fn = answer;
	if ((errno = pthread_create(&tid, NULL, fetch_loop, NULL)) != 0)
		fatal("pthread_create: %s", strerror(errno));
	pthread_setname_np(tid, "pp-fetch");
	pthread_detach(tid);
}
