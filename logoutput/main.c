/* main.c: log-output, the companion: a random id, a periodic log line, and / with the count. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>
#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "fcgiserve.h"
#include "fetcher.h"
#include "jsonreply.h"
#include "log.h"
#include "pp_limits.h"
#include "source.h"
#include "version.h"

static char uuid[37];	/* made once at start, before the threads; then read-only */

/* A version 4 UUID from the kernel's random source. */
static void
make_uuid(void)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		fatal("getrandom: %s", strerror(errno));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(uuid, sizeof(uuid), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6],
	    b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/*
 * The launcher starts nginx after log-output and names the file nginx
 * writes once it listens (PP_STACK_READY): the first look waits for it,
 * so a normal start logs the count, not a warning that the stack is not up
 * yet.  Bounded like the launcher's own wait for a part (60 s).
 */
static void
wait_for_stack(void)
{
	const char *ready = getenv("PP_STACK_READY");
	struct timespec tick = clock_ts(50);
	struct stat st;

	if (ready == NULL || *ready == '\0')
		return;
	for (int64_t end = clock_ms() + 60 * 1000; clock_ms() < end && stat(ready, &st) == -1; )
		nanosleep(&tick, NULL);
}

static void *
ticker(void *arg)
{
	struct timespec interval = clock_ts(config_int(S_LOG_INTERVAL) * 1000);
	char stamp[PP_CLOCK_STAMP_MAX], why[256];
	int64_t n;

	(void)arg;
	wait_for_stack();
	for (;;) {
		clock_stamp(stamp, sizeof(stamp), NULL);
		log_info(NULL, "%s: %s", stamp, uuid);
		if (source_count(&n, why, sizeof(why)) == 0)
			log_info(NULL, "Ping / Pongs: %" PRId64, n);
		else
			log_warning(NULL, "Ping / Pongs: unknown (%s)", why);
		nanosleep(&interval, NULL);
	}
	return NULL;
}

enum want { WANT_COUNT, WANT_READY };	/* what a deferred request waits for */

_Static_assert(PP_LOG_READ_TIMEOUT_S * 1000 > 2 * PP_LOG_UPSTREAM_MS,
    "nginx waits for log-output's answer longer than a request waits for the count");

static time_t started;	/* process_start_time_seconds; set before the threads, then read-only */

/* The fetcher's answer to a request that waited for the count. */
static void
answer_waiter(FCGX_Request *req, int tag, const struct count_result *r)
{
	char stamp[PP_CLOCK_STAMP_MAX];

	if (tag == WANT_READY)
		reply_json(req, r->ok ? 200 : 503, NULL, json_pack("{s:s, s:s}", "status",
		    r->ok ? "ready" : "not ready", "ping_pong", r->ok ? "reachable" : "unavailable"));
	else {
		clock_stamp(stamp, sizeof(stamp), NULL);
		reply_json(req, 200, NULL, json_pack("{s:s, s:s, s:s, s:o}", "timestamp", stamp,
		    "string", uuid, "status", r->ok ? "ok" : "ping-pong unavailable",
		    "ping_pong_count", r->ok ? json_integer(r->n) : json_null()));
	}
	fcgiserve_finish(req);
}

static void
do_metrics(FCGX_Request *req)
{
	char buf[PP_LOG_METRICS_MAX];
	struct fetcher_stats st;
	int n;

	fetcher_stats(&st);
	n = snprintf(buf, sizeof(buf),
	    "# HELP pingpong_logoutput_upstream_calls_total Calls for the count (ping-pong's /pings or the shared file) made for requests, by outcome.\n"
	    "# TYPE pingpong_logoutput_upstream_calls_total counter\n"
	    "pingpong_logoutput_upstream_calls_total{outcome=\"success\"} %lu\n"
	    "pingpong_logoutput_upstream_calls_total{outcome=\"failure\"} %lu\n"
	    "# HELP pingpong_logoutput_waiting Requests waiting for the count now.\n"
	    "# TYPE pingpong_logoutput_waiting gauge\n"
	    "pingpong_logoutput_waiting %lu\n"
	    "# HELP pingpong_logoutput_refused_total Requests answered 503 at once: the most that may wait already waited.\n"
	    "# TYPE pingpong_logoutput_refused_total counter\n"
	    "pingpong_logoutput_refused_total %lu\n"
	    PP_METRICS_PROCESS_FMT,
	    st.calls_ok, st.calls_failed, st.waiting, st.refused,
	    "logoutput", (unsigned long long)started);
	reply_metrics(req, buf, n, sizeof(buf));
}

/*
 * On a request thread: /health and /metrics are answered here and never
 * wait; / and /health/ready wait for the count on the fetcher's thread
 * (returns 1), or get 503 at once when too many already wait.
 */
static int
handle(FCGX_Request *req)
{
	const char *path = FCGX_GetParam("DOCUMENT_URI", req->envp);
	const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);
	int want;

	if (path == NULL)
		path = "";
	if (strcmp(path, "/") != 0 && strcmp(path, "/health") != 0 &&
	    strcmp(path, "/health/ready") != 0 && strcmp(path, "/metrics") != 0) {
		reply_json(req, 404, NULL, json_pack("{s:s}", "error", "not found"));
		return 0;
	}
	if (method == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
		reply_json(req, 405, &(struct http_header){ "Allow", "GET, HEAD" },
		    json_pack("{s:s}", "error", "method not allowed"));
		return 0;
	}
	if (strcmp(path, "/health") == 0) {
		reply_json(req, 200, NULL, json_pack("{s:s}", "status", "ok"));
		return 0;
	}
	if (strcmp(path, "/metrics") == 0) {
		do_metrics(req);
		return 0;
	}
	want = strcmp(path, "/health/ready") == 0 ? WANT_READY : WANT_COUNT;
	if (fetcher_wait(req, want) == 0)
		return 1;
	reply_json(req, 503, &(struct http_header){ "Retry-After", "1" }, json_pack("{s:s, s:s}", "status", "error",
	    "error", "too many requests waiting for ping-pong"));
	return 0;
}

int
main(int argc, char *argv[])
{
	pthread_t tid;
	int rc;

	if ((rc = fcgiserve_start(argc, argv, CF_LOG | CF_LAUNCH, "log-output")) != -1)
		return rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatal("curl_global_init failed");
	started = time(NULL);
	make_uuid();
	fetcher_start(answer_waiter);
	if ((errno = pthread_create(&tid, NULL, ticker, NULL)) != 0)
		fatal("pthread_create: %s", strerror(errno));
	pthread_detach(tid);
	rc = fcgiserve_run(PP_LOG_THREADS, NULL, handle, PP_LOG_DRAIN_MS);
	/* _exit: the ticker and fetcher threads still run (see fcgi/main.c). */
	_exit(rc);
}
