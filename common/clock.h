/* clock.h: the one clock: monotonic time for deadlines and durations, wall time for expiries and stamps. */
#ifndef PP_CLOCK_H
#define PP_CLOCK_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/*
 * Deadlines, waits and durations use CLOCK_MONOTONIC (a step of the wall
 * clock never fires or stretches them); what is compared with other
 * machines' time (a token's expiry, a log line's stamp) uses
 * CLOCK_REALTIME.  Every program takes its time from here.
 */

/* Milliseconds on the monotonic clock: deadlines and waits. */
static inline int64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Seconds on the monotonic clock: durations (latency, uptime). */
static inline double
clock_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds since the epoch: what a token's expiry is compared with. */
static inline double
clock_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ms as a timespec: a monotonic deadline for *_clocklock, or a sleep's length. */
static inline struct timespec
clock_ts(int64_t ms)
{
	return (struct timespec){ (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
}

/* The wall time ts (NULL: now) as RFC 3339 UTC with milliseconds, "2026-11-28T06:31:45.981Z". */
#define PP_CLOCK_STAMP_MAX	32
static inline size_t
clock_stamp(char *dst, size_t cap, const struct timespec *ts)
{
	struct timespec now;
	struct tm tm;
	size_t n;

	if (ts == NULL) {
		clock_gettime(CLOCK_REALTIME, &now);
		ts = &now;
	}
	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(dst, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return 0;
	return n + (size_t)snprintf(dst + n, cap - n, ".%03ldZ", ts->tv_nsec / 1000000 % 1000);
}

#endif
