/* refresher.c: token cache, proactive refresh, retries with backoff and Retry-After. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "pp_limits.h"
#include "refresher.h"

static pthread_mutex_t	 token_lock = PTHREAD_MUTEX_INITIALIZER;
static struct token	 current;	/* token_lock; written by the refresh thread only */
static struct token_status status;	/* token_lock; likewise */

/*
 * Sleeps until the epoch time when, in steps of at most PP_TOKEN_LIFETIME_MAX
 * (so the conversion to a timespec is always defined, even for a NaN or a
 * huge when).  A signal's EINTR sleeps on; any other failure of nanosleep
 * is logged once and ends the wait after a second's poll(2), so a broken
 * sleep never turns the refresh loop into a spin.
 */
static void
sleep_until(double when)
{
	static struct log_outage no_sleep = LOG_OUTAGE_INIT;	/* never over: said once */
	double left;
	struct timespec ts;

	while ((left = when - clock_wall_s()) > 0 || isnan(left)) {
		if (!(left <= PP_TOKEN_LIFETIME_MAX))
			left = PP_TOKEN_LIFETIME_MAX;
		ts = clock_ts((int64_t)ceil(left * 1000));
		if (nanosleep(&ts, NULL) == -1 && errno != EINTR) {
			if (log_outage_fail(&no_sleep, NULL))
				log_error(NULL, "nanosleep: %s (said once)", strerror(errno));
			poll(NULL, 0, 1000);
			return;
		}
	}
}

/* Seconds to wait after the n-th failure in a row. */
static double
backoff(const struct fetch *f, int failures)
{
	double min = config_int(S_AUTH_RETRY_MIN) / 1000.0;
	double max = config_int(S_AUTH_RETRY_MAX) / 1000.0;
	double d = min * pow(2, failures - 1);

	if (!f->retryable)
		d = max;
	if (d > max)
		d = max;
	if (f->retry_after > d)
		d = f->retry_after > 3600 ? 3600 : f->retry_after;
	return d;
}

static void *
refresh_loop(void *arg)
{
	enum cred_kind kind = status.kind;
	struct fetch f;
	double next = clock_wall_s(), delay;
	int failures = 0;

	(void)arg;
	for (;;) {
		sleep_until(next);
		if (cred_fetch(kind, &f) == 0) {
			pthread_mutex_lock(&token_lock);
			token_free(&current);
			current = f.tok;
			status.refresh_ok++;
			status.expires_at = current.expires_at;
			status.reason[0] = '\0';
			next = current.refresh_at;
			pthread_mutex_unlock(&token_lock);
			log_info(NULL, "%s: token obtained, expires in %.0f s, next refresh in %.0f s",
			    cred_name(kind), f.tok.expires_at - f.tok.obtained,
			    f.tok.refresh_at - f.tok.obtained);
			failures = 0;
			continue;
		}
		failures++;
		delay = backoff(&f, failures);
		pthread_mutex_lock(&token_lock);
		status.refresh_failed++;
		snprintf(status.reason, sizeof(status.reason), "%s", f.reason);
		pthread_mutex_unlock(&token_lock);
		log_warning(NULL, "%s (attempt %d; %s; next attempt in %.1f s)", f.reason,
		    failures, current.expires_at > clock_wall_s() ?
		    "the current token stays in use" : "no valid token", delay);
		next = clock_wall_s() + delay;
	}
	return NULL;
}

void
refresher_start(enum cred_kind kind, const char *why_none)
{
	pthread_t tid;

	status.kind = kind;
	if (kind == CRED_NONE) {
		snprintf(status.reason, sizeof(status.reason), "%s", why_none);
		return;
	}
	if ((errno = pthread_create(&tid, NULL, refresh_loop, NULL)) != 0)
		fatal("pthread_create: %s", strerror(errno));
	pthread_detach(tid);
}

int
refresher_token(char *dst, size_t cap, char *why, size_t whylen)
{
	int rc = -1;

	pthread_mutex_lock(&token_lock);
	if (current.access != NULL && clock_wall_s() < current.expires_at &&
	    strlen(current.access) < cap) {
		memcpy(dst, current.access, strlen(current.access) + 1);
		rc = 0;
	} else
		snprintf(why, whylen, "%s", status.reason[0] ? status.reason :
		    current.access != NULL ? "the token expired" : "no token yet");
	pthread_mutex_unlock(&token_lock);
	return rc;
}

void
refresher_status(struct token_status *st)
{
	pthread_mutex_lock(&token_lock);
	*st = status;
	st->valid = current.access != NULL && clock_wall_s() < current.expires_at;
	if (!st->valid && !st->reason[0])
		snprintf(st->reason, sizeof(st->reason), "%s",
		    current.access != NULL ? "the token expired" : "no token yet");
	pthread_mutex_unlock(&token_lock);
}
