/* db.c: libpq connection, reconnection gate, schema, prepared statements, deadlines. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "metrics.h"
#include "sql.h"

#define STMT_INCREMENT	"pp_increment"
#define STMT_READ	"pp_read"

static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static PGconn	*conn;
static int64_t	 last_attempt_ms = -1000000;
static unsigned long connects;
static int	 lost;		/* a connection failed or was lost since the last one */

static char	 connect_timeout[8], options[96];
static const char *keys[16], *vals[16];

int64_t
db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
db_request_deadline(int64_t arrival_ms)
{
	return arrival_ms + config_int(S_DB_CONNECT_TIMEOUT) * 1000 +
	    config_int(S_DB_STATEMENT_TIMEOUT);
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

void
db_init(void)
{
	int n = 0;

	snprintf(connect_timeout, sizeof(connect_timeout), "%ld",
	    config_int(S_DB_CONNECT_TIMEOUT));
	snprintf(options, sizeof(options),
	    "-c statement_timeout=%ld -c client_min_messages=warning",
	    config_int(S_DB_STATEMENT_TIMEOUT));
#define KV(k, v) do { keys[n] = (k); vals[n] = (v); n++; } while (0)
	/*
	 * Host and port may be lists (validated in config.c): libpq tries the
	 * hosts in order and, with read-write, skips a standby or a read-only
	 * server, so after a failover the next connection finds the new primary.
	 */
	KV("host", config_str(S_DB_HOST));
	KV("port", config_str(S_DB_PORT));
	KV("target_session_attrs", "read-write");
	KV("dbname", config_str(S_DB_NAME));
	KV("user", config_str(S_DB_USER));
	KV("password", config_str(S_DB_PASSWORD));
	KV("connect_timeout", connect_timeout);
	KV("application_name", "pingpong");
	KV("keepalives_idle", "5");
	KV("keepalives_interval", "2");
	KV("keepalives_count", "3");
	KV("options", options);
#undef KV
	keys[n] = vals[n] = NULL;
}

/* Copies libpq's message (first line only) into why. */
static void
reason(char *why, size_t whylen, const char *prefix, const char *msg)
{
	size_t n;

	n = strcspn(msg, "\n");
	snprintf(why, whylen, "%s: %.*s", prefix, (int)n, msg);
}

static void
drop(void)
{
	PQfinish(conn);
	conn = NULL;
	lost = 1;
	metrics_db_up(0);
}

/* Runs one command to completion; 0 on the expected status. */
static int
exec_ok(const char *sql, ExecStatusType want, char *why, size_t whylen)
{
	PGresult *res = PQexec(conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != want) {
		reason(why, whylen, "schema", PQerrorMessage(conn));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

static int
prepare(const char *name, const char *sql, char *why, size_t whylen)
{
	PGresult *res = PQprepare(conn, name, sql, 0, NULL);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		reason(why, whylen, "prepare", PQerrorMessage(conn));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* Waits for the socket to be readable (or writable) until the deadline; 0 or -1. */
static int
wait_socket(int64_t deadline, int for_write)
{
	struct pollfd pfd = { .fd = PQsocket(conn), .events = for_write ? POLLOUT : POLLIN };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - db_now_ms();
		if (left <= 0)
			return -1;
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc == 0 || errno != EINTR)
			return -1;
	}
}

/*
 * Connects without blocking past the connect timeout: libpq's own
 * connect_timeout is per attempt and stage, and a frozen server must not
 * hold a worker longer than the setting says.
 */
static int
connect_within(int64_t deadline, char *why, size_t whylen)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if ((conn = PQconnectStartParams(keys, vals, 0)) == NULL) {
		snprintf(why, whylen, "connect: out of memory");
		return -1;
	}
	if (PQstatus(conn) == CONNECTION_BAD) {
		reason(why, whylen, "connect", PQerrorMessage(conn));
		return -1;
	}
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			reason(why, whylen, "connect", PQerrorMessage(conn));
			return -1;
		}
		if (wait_socket(deadline, st == PGRES_POLLING_WRITING) == -1) {
			snprintf(why, whylen, "connect: no answer within %ld s",
			    config_int(S_DB_CONNECT_TIMEOUT));
			return -1;
		}
		st = PQconnectPoll(conn);
	}
	return 0;
}

/* Connects (behind the gate), applies the schema, prepares statements. */
static enum db_status
ensure(int64_t deadline, char *why, size_t whylen)
{
	int64_t now;

	if (conn != NULL)
		return DB_OK;
	now = db_now_ms();
	if (now - last_attempt_ms < config_int(S_DB_RETRY_INTERVAL)) {
		snprintf(why, whylen, "database unavailable; next attempt in %lld ms",
		    (long long)(config_int(S_DB_RETRY_INTERVAL) - (now - last_attempt_ms)));
		return DB_UNAVAILABLE;
	}
	last_attempt_ms = now;
	if (connect_within(min64(now + config_int(S_DB_CONNECT_TIMEOUT) * 1000, deadline),
	    why, whylen) == -1) {
		metrics_db_error(M_DBERR_CONNECT);
		goto fail;
	}
	if (exec_ok(sql_schema, PGRES_COMMAND_OK, why, whylen) == -1)
		goto fail;
	if (config_int(S_DB_PREPARED) &&
	    (prepare(STMT_INCREMENT, sql_increment, why, whylen) == -1 ||
	    prepare(STMT_READ, sql_read, why, whylen) == -1))
		goto fail;
	__atomic_add_fetch(&connects, 1, __ATOMIC_RELAXED);
	if (lost)
		metrics_db_reconnect();
	lost = 0;
	metrics_db_up(1);
	return DB_OK;
fail:
	drop();
	return DB_FAILED;
}

/*
 * Sends one single-row query and reads its one bigint, with a client-side
 * deadline so that a frozen server cannot hold the caller.
 */
static enum db_status
query_bigint(const char *stmt, const char *sql, int nparams,
    const char *const *params, int64_t limit, int64_t *out, char *why,
    size_t whylen)
{
	int64_t deadline;
	PGresult *res = NULL, *r;
	enum db_status st = DB_FAILED;
	int sent, failed = 0;

	if ((st = ensure(limit, why, whylen)) != DB_OK)
		return st;
	st = DB_FAILED;
	deadline = min64(db_now_ms() + config_int(S_DB_STATEMENT_TIMEOUT), limit);
	if (config_int(S_DB_PREPARED))
		sent = PQsendQueryPrepared(conn, stmt, nparams, params, NULL, NULL, 0);
	else
		sent = PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (!sent) {
		reason(why, whylen, "send", PQerrorMessage(conn));
		goto out;
	}
	/*
	 * Read every result up to ReadyForQuery, each wait bounded by the
	 * deadline. With the extended protocol the server sends the row and
	 * CommandComplete before it commits at Sync: a TUPLES_OK followed by
	 * an error (a shutdown, a lost connection) means the commit did not
	 * happen, or may not have, so the number must not be handed out.
	 */
	for (;;) {
		while (PQisBusy(conn)) {
			if (wait_socket(deadline, 0) == -1) {
				snprintf(why, whylen, "query: no answer within the deadline "
				    "(statement timeout %ld ms)", config_int(S_DB_STATEMENT_TIMEOUT));
				metrics_db_error(M_DBERR_TIMEOUT);
				goto out;
			}
			if (!PQconsumeInput(conn)) {
				reason(why, whylen, "query", PQerrorMessage(conn));
				goto out;
			}
		}
		if ((r = PQgetResult(conn)) == NULL)
			break;
		if (res == NULL && PQresultStatus(r) == PGRES_TUPLES_OK) {
			res = r;
			continue;
		}
		if (!failed)
			reason(why, whylen, res != NULL ? "commit" : "query",
			    PQresultErrorMessage(r));
		failed = 1;
		PQclear(r);
	}
	if (failed || res == NULL || PQstatus(conn) != CONNECTION_OK) {
		if (!failed)
			reason(why, whylen, "query", PQerrorMessage(conn));
		goto out;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		snprintf(why, whylen, "query: the ping_counter table has no counter row");
		goto out;
	}
	*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	st = DB_OK;
out:
	PQclear(res);
	if (st != DB_OK) {
		if (strncmp(why, "query: no answer", 16) != 0)
			metrics_db_error(M_DBERR_QUERY);
		drop();
	} else
		metrics_db_up(1);
	return st;
}

enum db_status
db_increment(int64_t k, int64_t deadline, int64_t *after, char *why, size_t whylen)
{
	char kbuf[24];
	const char *params[1] = { kbuf };
	enum db_status st;

	snprintf(kbuf, sizeof(kbuf), "%lld", (long long)k);
	pthread_mutex_lock(&db_lock);
	if (db_now_ms() >= deadline) {
		pthread_mutex_unlock(&db_lock);
		snprintf(why, whylen, "deadline passed while waiting for the connection");
		return DB_UNAVAILABLE;
	}
	st = query_bigint(STMT_INCREMENT, sql_increment, 1, params, deadline, after,
	    why, whylen);
	pthread_mutex_unlock(&db_lock);
	return st;
}

enum db_status
db_read(int64_t deadline, int64_t *value, char *why, size_t whylen)
{
	enum db_status st;

	pthread_mutex_lock(&db_lock);
	if (db_now_ms() >= deadline) {
		pthread_mutex_unlock(&db_lock);
		snprintf(why, whylen, "deadline passed while waiting for the connection");
		return DB_UNAVAILABLE;
	}
	st = query_bigint(STMT_READ, sql_read, 0, NULL, deadline, value, why, whylen);
	pthread_mutex_unlock(&db_lock);
	return st;
}

unsigned long
db_connects(void)
{
	return __atomic_load_n(&connects, __ATOMIC_RELAXED);
}

void
db_close(void)
{
	pthread_mutex_lock(&db_lock);
	if (conn != NULL)
		drop();
	pthread_mutex_unlock(&db_lock);
}
