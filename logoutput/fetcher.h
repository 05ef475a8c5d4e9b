/* fetcher.h: log-output's one upstream thread; requests that need the count wait for it, not on a request thread. */
#ifndef PP_FETCHER_H
#define PP_FETCHER_H

#include <stdint.h>

#include <fcgiapp.h>

struct count_result {
	int	ok;		/* 1: n holds the count; 0: why says why not */
	int64_t	n;
	char	why[256];
};

/* Answers and ends (fcgiserve_finish) one waiting request, on the fetcher's thread. */
typedef void (*fetch_answer)(FCGX_Request *req, int tag, const struct count_result *r);

struct fetcher_stats {
	unsigned long	calls_ok, calls_failed;	/* upstream calls made, by outcome */
	unsigned long	refused;	/* requests answered 503 at once: PP_LOG_WAITING_MAX waited */
	unsigned long	waiting;	/* requests waiting now */
};

/* Starts the thread (after fcgiserve_start: it inherits the blocked stop signals). */
void	fetcher_start(fetch_answer answer);

/*
 * Queues a deferred request (fcgiserve's deferring handler returned 1 for
 * it); tag comes back to answer.  0, or -1 when PP_LOG_WAITING_MAX
 * requests already wait: the caller answers it at once.
 */
int	fetcher_wait(FCGX_Request *req, int tag);

void	fetcher_stats(struct fetcher_stats *st);

#endif
