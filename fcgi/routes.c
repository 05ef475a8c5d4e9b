/* routes.c: maps method and path to a handler and writes the response. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "dbthread.h"
#include "fcgiserve.h"
#include "httpanswer.h"
#include "log.h"
#include "metrics.h"
#include "negotiate.h"
#include "pp_limits.h"
#include "routes.h"

enum route {
	ROUTE_PINGPONG,
	ROUTE_ROOT,
	ROUTE_PINGS,
	ROUTE_HEALTH,
	ROUTE_READY,
	ROUTE_METRICS,
	ROUTE__MAX
};

#define M_GET	0x01
#define M_HEAD	0x02

/* What answering a route takes. */
enum work {
	WORK_NOW,	/* answered by the request thread (dispatch) */
	WORK_PONG,	/* a number from the database thread (JOB_PONG) */
	WORK_READ,	/* the count from the database thread (JOB_READ) */
};

static const struct {
	const char	*path;
	unsigned	 methods;
	const char	*allow;		/* the Allow header of a 405 */
	enum m_route	 metric;	/* its label in pingpong_requests_total */
	int		 counted;	/* 0: /metrics is not counted */
	enum work	 work;
} routes[ROUTE__MAX] = {
	[ROUTE_PINGPONG] =	{ "/pingpong", M_GET, "GET", M_PINGPONG, 1, WORK_PONG },
	[ROUTE_ROOT] =		{ "/", M_GET, "GET", M_ROOT, 1, WORK_PONG },
	[ROUTE_PINGS] =		{ "/pings", M_GET | M_HEAD, "GET, HEAD", M_PINGS, 1, WORK_READ },
	[ROUTE_HEALTH] =	{ "/health", M_GET | M_HEAD, "GET, HEAD", M_HEALTH, 1, WORK_NOW },
	[ROUTE_READY] =		{ "/health/ready", M_GET | M_HEAD, "GET, HEAD", M_READY, 1, WORK_READ },
	[ROUTE_METRICS] =	{ "/metrics", M_GET | M_HEAD, "GET, HEAD", M_OTHER, 0, WORK_NOW },
};

#define METRICS_MAX	(64 * 1024)	/* bytes of /metrics text */

/* Seconds a client should wait before retrying a 503. */
#define RETRY_AFTER	"1"

struct response {
	int		 status;
	const char	*ctype;
	const char	*allow;		/* 405 only */
	int		 retry;		/* add Retry-After */
	int		 route;		/* index in routes[], -1 when none matched */
	char		*big;		/* a body larger than body[] (/metrics); freed by the caller */
	size_t		 biglen;
	char		 body[PP_BODY_MAX];
};

static void
json(struct response *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
json(struct response *res, int status, const char *fmt, ...)
{
	va_list ap;

	res->status = status;
	res->ctype = "application/json";
	va_start(ap, fmt);
	vsnprintf(res->body, sizeof(res->body), fmt, ap);
	va_end(ap);
}

/*
 * Database failures are logged once per outage and reason (log.h's
 * log_outage): a worker retries every 500 ms while the database is down,
 * and the same line each time would drown the log.  The recovery is
 * logged once too.  Two reasons that take turns (a timeout between two
 * 22003s under load, a right revoked and granted back in turn) are each
 * said once, not once per turn.  "Once" is per worker process: each holds
 * its own connection and says what it met.
 */
static struct log_outage db_outage = LOG_OUTAGE_INIT;

/* A failure the database thread met: said once per outage, its repeats at debug level. */
static void
report_db_failure(const char *reqid, const char *why)
{
	if (log_outage_fail(&db_outage, why))
		log_warning(reqid, "database: %s", why);
	else
		log_debug(reqid, "database: %s (again)", why);
}

/* Called after each success; costs one relaxed load unless an outage ends. */
static void
report_db_recovery(void)
{
	long repeats;

	if ((repeats = log_outage_over(&db_outage)) >= 0)
		log_info(NULL, "database: reachable again (%ld repeated failures "
		    "not logged)", repeats);
}

/* The 503 of a request the database thread could not serve (st: why not). */
static void
unavailable_answer(struct response *res, const char *reqid, enum db_status st,
    const char *why)
{
	if (st == DB_WENT_BACK) {	/* until an operator acts: no Retry-After */
		json(res, 503, "{\"error\": \"the counter went back: no number is handed "
		    "out twice\"}\n");
		return;
	}
	if (st == DB_FAILED)
		report_db_failure(reqid, why);
	json(res, 503, "{\"error\": \"database unavailable\"}\n");
	res->retry = 1;
}

/* The answer of one pong numbered n (st: how its number went). */
static void
pong_answer(struct response *res, const char *reqid, const char *accept,
    enum db_status st, int64_t n, const char *why)
{
	if (st != DB_OK) {
		unavailable_answer(res, reqid, st, why);
		return;
	}
	if (accept_prefers_json(accept)) {
		json(res, 200, "{\"message\": \"pong %" PRId64 "\"}\n", n);
		return;
	}
	res->status = 200;
	res->ctype = "text/plain; charset=utf-8";
	snprintf(res->body, sizeof(res->body), "pong %" PRId64 "\n", n);
}

static void
pings_answer(struct response *res, const char *reqid, enum db_status st, int64_t n,
    const char *why)
{
	if (st != DB_OK) {
		unavailable_answer(res, reqid, st, why);
		return;
	}
	json(res, 200, "{\"pings\": %" PRId64 "}\n", n);
}

static void
ready_answer(struct response *res, const char *reqid, enum db_status st, const char *why)
{
	if (st == DB_OK) {
		json(res, 200, "{\"status\": \"ready\", \"database\": \"connected\"}\n");
		return;
	}
	if (st == DB_WENT_BACK) {
		json(res, 503, "{\"status\": \"not ready\", \"database\": \"connected\", "
		    "\"counter\": \"went back\"}\n");
		return;
	}
	if (st == DB_FAILED)
		report_db_failure(reqid, why);
	json(res, 503, "{\"status\": \"not ready\", \"database\": \"unavailable\"}\n");
}

static int
find_route(const char *path)
{
	for (int i = 0; i < ROUTE__MAX; i++)
		if (strcmp(path, routes[i].path) == 0)
			return i;
	return -1;
}

static unsigned
method_bit(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return M_GET;
	if (strcmp(m, "HEAD") == 0)
		return M_HEAD;
	return 0;
}

/* The route of req when its method is allowed there; else res is the 404 or 405. */
static int
route_of(struct response *res, FCGX_Request *req)
{
	const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);
	const char *path = FCGX_GetParam("DOCUMENT_URI", req->envp);
	int r;

	res->route = r = path != NULL ? find_route(path) : -1;
	if (r < 0) {
		json(res, 404, "{\"error\": \"not found\"}\n");
		return -1;
	}
	if ((routes[r].methods & method_bit(method != NULL ? method : "")) == 0) {
		json(res, 405, "{\"error\": \"method not allowed\"}\n");
		res->allow = routes[r].allow;
		return -1;
	}
	return r;
}

/* The routes that need no database. */
static void
dispatch(struct response *res, enum route r)
{
	switch (r) {
	case ROUTE_HEALTH:
		json(res, 200, "{\"status\": \"ok\"}\n");
		break;
	case ROUTE_METRICS:
		/* A scrape that cannot be answered in full is an error, never an empty 200. */
		if ((res->big = malloc(METRICS_MAX)) == NULL) {
			log_error(NULL, "/metrics: no memory for %d bytes", METRICS_MAX);
			json(res, 503, "{\"error\": \"out of memory\"}\n");
			res->retry = 1;
			break;
		}
		res->status = 200;
		res->ctype = HTTP_METRICS_TYPE;
		res->biglen = metrics_render(res->big, METRICS_MAX);
		break;
	case ROUTE_PINGPONG:
	case ROUTE_ROOT:
	case ROUTE_PINGS:
	case ROUTE_READY:
	case ROUTE__MAX:
		break;
	}
}

/* Writes res as req's answer (no body for HEAD), counts it from t0 (clock_s()), and resets res. */
static void
respond(FCGX_Request *req, struct response *res, double t0)
{
	struct http_header extra[2];
	size_t nextra = 0;

	if (res->allow != NULL)
		extra[nextra++] = (struct http_header){ "Allow", res->allow };
	if (res->retry)
		extra[nextra++] = (struct http_header){ "Retry-After", RETRY_AFTER };
	http_answer(req, res->status, res->ctype, extra, nextra,
	    res->big != NULL ? res->big : res->body,
	    res->big != NULL ? res->biglen : strlen(res->body));
	free(res->big);
	if (res->route < 0 || routes[res->route].counted)
		metrics_request(res->route < 0 ? M_OTHER : routes[res->route].metric,
		    clock_s() - t0);
	*res = (struct response){ .status = 500, .ctype = "application/json" };
}

/* A request waiting for the database thread; kept in its scratch space. */
struct pending {
	struct job	 job;		/* first: done gets it back */
	FCGX_Request	*req;
	enum route	 route;
	double		 t0;		/* its arrival, clock_s() */
};
_Static_assert(sizeof(struct pending) <= FCGI_SCRATCH_MAX, "struct pending outgrew FCGI_SCRATCH_MAX");

/* On the database thread: answers and ends the request. */
static void
answer_pending(struct job *j, enum db_status st, int64_t n, const char *why)
{
	struct pending *p = (struct pending *)j;
	struct response res = { .status = 500, .ctype = "application/json", .route = p->route };
	const char *reqid = FCGX_GetParam("REQUEST_ID", p->req->envp);

	if (st == DB_OK)
		report_db_recovery();
	switch (p->route) {
	case ROUTE_PINGPONG:
	case ROUTE_ROOT:
		pong_answer(&res, reqid, FCGX_GetParam("HTTP_ACCEPT", p->req->envp), st, n, why);
		break;
	case ROUTE_PINGS:
		pings_answer(&res, reqid, st, n, why);
		break;
	case ROUTE_READY:
		ready_answer(&res, reqid, st, why);
		break;
	case ROUTE_HEALTH:
	case ROUTE_METRICS:
	case ROUTE__MAX:
		break;		/* never queued: the 500 res was made with */
	}
	respond(p->req, &res, p->t0);
	fcgiserve_finish(p->req);	/* p goes with it */
}

/*
 * Answers what needs no database at once; hands pongs and reads to the
 * database thread (returns 1: answer_pending answers them).
 */
int
routes_serve(FCGX_Request *req)
{
	struct response res = { .status = 500, .ctype = "application/json" };
	struct pending *p;
	double t0 = clock_s();
	int r;

	if ((r = route_of(&res, req)) < 0) {
		respond(req, &res, t0);	/* the 404 or 405 */
		return 0;
	}
	switch (routes[r].work) {
	case WORK_NOW:
		dispatch(&res, (enum route)r);
		respond(req, &res, t0);
		return 0;
	case WORK_PONG:
	case WORK_READ:
		break;
	}
	p = fcgiserve_scratch(req);
	*p = (struct pending){ .req = req, .route = (enum route)r, .t0 = t0 };
	p->job.kind = routes[r].work == WORK_READ ? JOB_READ : JOB_PONG;
	p->job.deadline = db_request_deadline(clock_ms());
	p->job.done = answer_pending;
	dbthread_submit(&p->job);
	return 1;
}
