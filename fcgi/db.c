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
#include "continuity.h"
#include "db.h"
#include "dbhosts.h"
#include "log.h"
#include "metrics.h"
#include "pp_limits.h"
#include "resolve.h"
#include "schema.h"
#include "sql.h"

/*
 * Every call below is asynchronous libpq: send, then poll(2) the socket
 * until the deadline, never a blocking PQexec.
 *
 * Client waits are kept apart from the connection's health (issue 26; as
 * PgBouncer keeps query_wait_timeout apart from its server timeouts).  A
 * request's deadline decides only whether a statement is sent for it
 * (counter.c); it never cuts a connect or a statement.  A connect runs
 * under PING_PONG_DB_CONNECT_TIMEOUT, a statement under
 * PING_PONG_DB_STATEMENT_TIMEOUT, both counted from their own start.  A
 * statement still running at its timeout is cancelled (PQcancel, on a
 * thread of its own, since it blocks), and the server's answer is awaited
 * PP_DB_CANCEL_WAIT_MS more: a server that answers the cancel (SQLSTATE
 * 57014, the transaction rolled back) keeps its connection; only one that
 * does not answer loses it.  The retry gate closes after a failed connect
 * only, never after a cut statement.  Each reason names the limit that
 * ended the wait, with its value.
 *
 * No startup option is sent: a pooler such as PgBouncer refuses "options"
 * unless told to ignore it.  What the options did is done otherwise: the
 * client's deadline bounds each statement (statement_timeout), the schema
 * sets client_min_messages for its own transaction, and the increment
 * raises synchronous_commit for its own (sql/increment.sql).
 */

/*
 * A dead peer is noticed by the kernel within these, on TCP (README:
 * Guarantees); the numbers are pp_limits.h's, as libpq's strings.
 */
#define STR_(x)	#x
#define STR(x)	STR_(x)
#define TCP_KEEPALIVES_IDLE	STR(PP_DB_KEEPALIVES_IDLE)
#define TCP_KEEPALIVES_INTERVAL	STR(PP_DB_KEEPALIVES_INTERVAL)
#define TCP_KEEPALIVES_COUNT	STR(PP_DB_KEEPALIVES_COUNT)
#define TCP_USER_TIMEOUT_MS	STR(PP_DB_TCP_USER_TIMEOUT_MS)

/* A statement of sql/, prepared under a name that changes with its text. */
struct stmt {
	const char	*sql;
	char		 name[32];
};

/* Named once at start (db_init), then read-only. */
static struct stmt	 increment = { .sql = sql_increment }, reader = { .sql = sql_read };

/* The connection's one invariant: db.h. */
static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static PGconn	*conn;			/* db_lock */
static int	 serving = 1;	/* set once by db_init: connections apply the schema, prepare statements */
static int64_t	 last_failed_ms = -1000000;	/* db_lock: when a connect last failed (the gate) */
static unsigned long connects;		/* atomic: read by any thread */
static int	 lost;		/* db_lock: a connection failed or was lost since the last one */
static int	 named;		/* atomic: send named prepared statements */
static int	 cancelling;	/* atomic: a cancel request is on its way (its thread clears it) */
static char	 connected[768];	/* db_lock: what was last said about the connection */

/* Set at start (db_init), then read-only; vals[0..2] db_lock (connect_within). */
static char	 connect_timeout[8];
static const char *keys[20], *vals[20];

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
	return arrival_ms + config_request_budget_ms();
}

/*
 * Names a statement after a hash of its text (FNV-1a): a pooler's server
 * connection may hold another client's statement of the same name, which
 * must then be the same statement (another version of this service sends
 * another text, so another name).
 */
static void
stmt_name(struct stmt *s, const char *prefix)
{
	uint32_t h = 2166136261u;

	for (const char *p = s->sql; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(s->name, sizeof(s->name), "%s_%08x", prefix, h);
}

void
db_init(int serve)
{
	int n = 0;

	serving = serve;
	named = config_int(S_DB_PREPARED) != 0;
	stmt_name(&increment, "pp_increment");
	stmt_name(&reader, "pp_read");
	snprintf(connect_timeout, sizeof(connect_timeout), "%ld",
	    config_int(S_DB_CONNECT_TIMEOUT));
#define KV(k, v) do { keys[n] = (k); vals[n] = (v); n++; } while (0)
	/*
	 * Host and port may be lists (validated in config.c): libpq tries the
	 * hosts in order and, with read-write, skips a standby or a read-only
	 * server, so after a failover the next connection finds the new primary.
	 * dbhosts.c rewrites the lists in place when a host hangs.
	 */
	dbhosts_init(config_str(S_DB_HOST), config_str(S_DB_PORT));
	KV("host", NULL);	/* the first three: connect_within() fills them in */
	KV("hostaddr", NULL);
	KV("port", NULL);
	KV("target_session_attrs", "read-write");
	KV("dbname", config_str(S_DB_NAME));
	KV("user", config_str(S_DB_USER));
	KV("password", config_str(S_DB_PASSWORD));
	KV("connect_timeout", connect_timeout);
	KV("application_name", "pingpong");
	KV("keepalives_idle", TCP_KEEPALIVES_IDLE);
	KV("keepalives_interval", TCP_KEEPALIVES_INTERVAL);
	KV("keepalives_count", TCP_KEEPALIVES_COUNT);
	KV("tcp_user_timeout", TCP_USER_TIMEOUT_MS);
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

/* The connection is gone: the next call connects again (no gate: the last connect did not fail). */
static void
drop(void)
{
	PQfinish(conn);
	conn = NULL;
	lost = 1;
	metrics_db_up(0);
}

static void *
cancel_thread(void *arg)
{
	char err[256];

	PQcancel(arg, err, sizeof(err));	/* what it says changes nothing: the connection goes */
	PQfreeCancel(arg);
	__atomic_store_n(&cancelling, 0, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Asks the server to stop what this connection runs, so that a statement
 * given up on does not go on holding the row.  PQcancel blocks (it waits
 * for the server to close the cancel connection, with no timeout in libpq
 * 15), so it runs on a thread of its own, one at a time: a server that
 * does not answer holds that thread, never the caller.
 */
static void
cancel_async(void)
{
	PGcancel *c;
	pthread_t tid;

	if (__atomic_exchange_n(&cancelling, 1, __ATOMIC_ACQUIRE))
		return;
	if ((c = PQgetCancel(conn)) == NULL)
		goto none;
	if (pthread_create(&tid, NULL, cancel_thread, c) != 0) {
		PQfreeCancel(c);
		goto none;
	}
	pthread_detach(tid);
	return;
none:
	__atomic_store_n(&cancelling, 0, __ATOMIC_RELEASE);
}

/* Waits until the socket is ready for events, or the deadline; 0 or -1. */
static int
wait_socket(int64_t deadline, short events)
{
	struct pollfd pfd = { .fd = PQsocket(conn), .events = events };
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
 * Waits for the socket; at the statement's timeout asks the server to
 * cancel and waits PP_DB_CANCEL_WAIT_MS more for its answer (*cancelled
 * set).  0 when the socket is ready, -1 when even the cancel got nothing.
 */
static int
wait_answer(int64_t *deadline, int *cancelled, short events)
{
	while (wait_socket(*deadline, events) == -1) {
		if (*cancelled)
			return -1;
		*cancelled = 1;
		cancel_async();
		*deadline = db_now_ms() + PP_DB_CANCEL_WAIT_MS;
	}
	return 0;
}

enum outcome {
	DONE,		/* every result read, none an error */
	FAILED,		/* an error result, or the connection broke */
	CANCELLED,	/* the server cancelled it (57014) and is ready for the next: kept */
	TIMED_OUT,	/* no answer by the timeout, nor to the cancel */
};

/*
 * After a send: flushes it and reads every result up to ReadyForQuery, each
 * wait bounded by the deadline (the statement timeout from the send), then
 * by a cancel's answer.  The first row set is kept in *kept (the
 * caller clears it) unless an error follows.  With the extended protocol
 * the server sends the row and CommandComplete before it commits at Sync:
 * a row followed by an error (a shutdown, a lost connection) means the
 * commit did not happen, or may not have, so the row must not be used.
 * On FAILED, state holds the SQLSTATE ("" when libpq made the error).
 */
static enum outcome
await(int64_t deadline, const char *what, PGresult **kept, char state[6],
    char *why, size_t whylen)
{
	PGresult *r, *row = NULL;
	int failed = 0, cancelled = 0, f;

	state[0] = '\0';
	while ((f = PQflush(conn)) == 1)
		if (wait_answer(&deadline, &cancelled, POLLIN | POLLOUT) == -1)
			goto timeout;
		else if (!PQconsumeInput(conn))
			break;
	if (f == -1)
		goto broken;
	for (;;) {
		while (PQisBusy(conn)) {
			if (wait_answer(&deadline, &cancelled, POLLIN) == -1)
				goto timeout;
			if (!PQconsumeInput(conn))
				goto broken;
		}
		if ((r = PQgetResult(conn)) == NULL)
			break;
		switch (PQresultStatus(r)) {
		case PGRES_TUPLES_OK:
			if (row == NULL && !failed) {
				row = r;
				continue;
			}
			break;
		case PGRES_COMMAND_OK:
			break;
		default:
			if (!failed) {
				const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);

				reason(why, whylen, row != NULL ? "commit" : what,
				    PQresultErrorMessage(r));
				snprintf(state, 6, "%s", s != NULL ? s : "");
			}
			failed = 1;
			break;
		}
		PQclear(r);
	}
	if (failed && strcmp(state, "57014") == 0 && PQstatus(conn) == CONNECTION_OK &&
	    PQtransactionStatus(conn) == PQTRANS_IDLE) {
		if (cancelled)
			snprintf(why, whylen, "%s: cut at the statement timeout (%ld ms); the "
			    "server answered the cancel, the connection is kept", what,
			    config_int(S_DB_STATEMENT_TIMEOUT));
		PQclear(row);
		return CANCELLED;
	}
	if (failed || PQstatus(conn) != CONNECTION_OK) {
		if (!failed)
			reason(why, whylen, what, PQerrorMessage(conn));
		PQclear(row);
		return FAILED;
	}
	if (kept != NULL)
		*kept = row;
	else
		PQclear(row);
	return DONE;
broken:
	reason(why, whylen, what, PQerrorMessage(conn));
	PQclear(row);
	return FAILED;
timeout:
	snprintf(why, whylen, "%s: no answer within the statement timeout (%ld ms), nor "
	    "to the cancel within %d ms: the connection is dropped", what,
	    config_int(S_DB_STATEMENT_TIMEOUT), PP_DB_CANCEL_WAIT_MS);
	PQclear(row);
	return TIMED_OUT;
}

/*
 * libpq's notices (a WARNING or NOTICE from the server), which it would
 * print raw on stderr: one line of the log format, at the server's level
 * (WARNING, else INFO), without libpq's trailing newline.
 */
static void
notice(void *arg, const char *message)
{
	int warn = strncmp(message, "WARNING:", 8) == 0;

	(void)arg;
	log_msg(warn ? PP_LOG_WARNING : PP_LOG_INFO, NULL, "database: %.*s",
	    (int)strcspn(message, "\n"), message);
}

/*
 * Connects without blocking past the deadline (the connect timeout from
 * now): libpq's own connect_timeout is per attempt and stage, and a frozen
 * server must not hold a worker longer than the setting says.
 */
static int
connect_within(int64_t deadline, char *why, size_t whylen)
{
	static struct resolved to;	/* db_lock; large, so not on the stack */
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if (resolve_hosts(dbhosts_hosts(), dbhosts_ports(), (int)config_int(S_DB_HOST),
	    deadline, &to, why, whylen) == -1)
		return -1;
	vals[0] = to.host;
	vals[1] = to.addrs > 0 ? to.hostaddr : NULL;
	vals[2] = to.port;
	if ((conn = PQconnectStartParams(keys, vals, 0)) == NULL) {
		snprintf(why, whylen, "connect: out of memory");
		return -1;
	}
	PQsetNoticeProcessor(conn, notice, NULL);
	if (PQstatus(conn) == CONNECTION_BAD) {
		reason(why, whylen, "connect", PQerrorMessage(conn));
		return -1;
	}
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			reason(why, whylen, "connect", PQerrorMessage(conn));
			return -1;
		}
		if (wait_socket(deadline, st == PGRES_POLLING_WRITING ? POLLOUT : POLLIN) == -1) {
			int moved = dbhosts_skip(PQhost(conn), PQport(conn));

			snprintf(why, whylen, "connect: no answer from %s port %s within the "
			    "connect timeout (%ld s)%s",
			    PQhost(conn), PQport(conn), config_int(S_DB_CONNECT_TIMEOUT),
			    moved ? "; the next attempt starts with the host after it" : "");
			return -1;
		}
		st = PQconnectPoll(conn);
	}
	/* Sends never block: await() flushes, bounded by the deadline. */
	if (PQsetnonblocking(conn, 1) == -1) {
		reason(why, whylen, "connect", PQerrorMessage(conn));
		return -1;
	}
	return 0;
}

/*
 * The one line a connection gets: where, which server, and which
 * synchronous_commit the increments commit with (sql/increment.sql raises
 * the session's default to on, and keeps remote_apply).  Said at the first
 * connection and again only when it changes (a failover, a new default).
 * This is the line README's Guarantees point to.
 */
static void
say_connected(const PGresult *res)
{
	const char *dflt = PQgetvalue(res, 0, 0), *standbys = PQgetvalue(res, 0, 1);
	const char *level = strcmp(dflt, "remote_apply") == 0 ? "remote_apply" : "on";
	int version = PQserverVersion(conn);	/* 150018: 15.18 */
	char line[sizeof(connected)];

	snprintf(line, sizeof(line), "connected to %s:%s (PostgreSQL %d.%d); durability: "
	    "increments commit with synchronous_commit=%s "
	    "(the session's default is %s%s); synchronous standbys: %s",
	    PQhost(conn), PQport(conn), version / 10000, version % 10000,
	    level, dflt,
	    strcmp(level, dflt) == 0 ? ", kept" : ", raised for each increment's own transaction",
	    *standbys != '\0' ? standbys : "none named, so a commit waits for the local disk only");
	if (strcmp(line, connected) == 0)
		return;
	snprintf(connected, sizeof(connected), "%s", line);
	log_info(NULL, "database: %s", line);
}

/* One round trip for the setup of a connection; 0 or -1 (why filled). */
static int
setup(int sent, int64_t deadline, const char *what, PGresult **kept, char *why,
    size_t whylen)
{
	char state[6];
	enum outcome o;

	if (!sent) {
		reason(why, whylen, what, PQerrorMessage(conn));
		return -1;
	}
	if ((o = await(deadline, what, kept, state, why, whylen)) == TIMED_OUT || o == CANCELLED)
		metrics_db_error(M_DBERR_TIMEOUT);
	/*
	 * A pooler's server connection may hold the statement already,
	 * prepared by another client: the name says it is the same text.
	 */
	if (o == FAILED && strcmp(what, "prepare") == 0 && strcmp(state, "42P05") == 0)
		return 0;
	return o == DONE ? 0 : -1;
}

/*
 * Connects, applies the schema, prepares statements (outside the leader
 * gate), each under its own timeout.  A failure closes the retry gate for
 * PING_PONG_DB_RETRY_INTERVAL.
 */
static enum db_status
ensure(char *why, size_t whylen)
{
	PGresult *res = NULL;
	int64_t now, deadline;

	if (conn != NULL)
		return DB_OK;
	now = db_now_ms();
	if (now - last_failed_ms < config_int(S_DB_RETRY_INTERVAL)) {
		snprintf(why, whylen, "database unavailable; next attempt in %lld ms",
		    (long long)(config_int(S_DB_RETRY_INTERVAL) - (now - last_failed_ms)));
		return DB_UNAVAILABLE;
	}
	if (connect_within(now + config_int(S_DB_CONNECT_TIMEOUT) * 1000, why, whylen) == -1) {
		metrics_db_error(M_DBERR_CONNECT);
		goto fail;
	}
	deadline = db_now_ms() + config_int(S_DB_STATEMENT_TIMEOUT);
	/* Before the schema: nothing is made in a database that is refused. */
	if (continuity_required() && (setup(PQsendQuery(conn, sql_continuity), deadline,
	    "handover", &res, why, whylen) == -1 ||
	    continuity_judge(res, PQhost(conn), PQport(conn), why, whylen) == -1))
		goto fail;
	PQclear(res);
	res = NULL;
	if ((serving && setup(PQsendQuery(conn, sql_schema), deadline, "schema", NULL,
	    why, whylen) == -1) ||
	    setup(PQsendQuery(conn, sql_durability), deadline, "schema", &res, why, whylen) == -1)
		goto fail;
	if (res == NULL || PQntuples(res) != 1 || PQnfields(res) != 2) {
		snprintf(why, whylen, "schema: unexpected answer to sql/durability.sql");
		goto fail;
	}
	say_connected(res);
	PQclear(res);
	res = NULL;
	if (serving && __atomic_load_n(&named, __ATOMIC_RELAXED) &&
	    (setup(PQsendPrepare(conn, increment.name, increment.sql, 0, NULL), deadline,
	    "prepare", NULL, why, whylen) == -1 ||
	    setup(PQsendPrepare(conn, reader.name, reader.sql, 0, NULL), deadline,
	    "prepare", NULL, why, whylen) == -1))
		goto fail;
	__atomic_add_fetch(&connects, 1, __ATOMIC_RELAXED);
	if (lost)
		metrics_db_reconnect();
	lost = 0;
	metrics_db_up(1);
	return DB_OK;
fail:
	PQclear(res);
	if (conn != NULL)
		drop();
	else
		lost = 1;
	last_failed_ms = db_now_ms();
	return DB_FAILED;
}

/*
 * A transaction pooler (PgBouncer in transaction mode before 1.21) runs
 * each transaction on any of its server connections, so a statement
 * prepared on one is unknown on the next.  The Bind fails before anything
 * runs (SQLSTATE 26000), so sending the same statement unnamed at once is
 * safe; from then on this worker sends every statement unnamed.
 */
static int
prepared_lost(const char *state)
{
	if (strcmp(state, "26000") != 0 || !__atomic_exchange_n(&named, 0, __ATOMIC_RELAXED))
		return 0;
	log_info(NULL, "database: a prepared statement is unknown to the server that "
	    "ran the next transaction (a pooler in transaction mode): sending "
	    "statements unnamed from now on");
	return 1;
}

/*
 * A right on the table revoked under a connected worker (SQLSTATE 42501):
 * the server's bare "permission denied for table ping_counter" names
 * neither the role nor the right, so the connect-time schema check runs
 * at once on a new connection and its one clear line becomes the reason
 * (README: Who owns the table).  The same line as a worker starting
 * without the right says: logged once, not twice in other words.
 */
static void
rights_lost(char *why, size_t whylen)
{
	char again[256];

	drop();
	last_failed_ms = -1000000;	/* the gate open: the check runs now */
	if (ensure(again, sizeof(again)) != DB_OK)
		snprintf(why, whylen, "%s", again);
}

/*
 * Sends one single-row query and reads its one bigint, within the
 * statement timeout (then a cancel's answer) so that a frozen server
 * cannot hold the caller.  A cancelled statement keeps the connection.
 */
static enum db_status
query_bigint(const struct stmt *s, int nparams, const char *const *params,
    int64_t *out, char *why, size_t whylen)
{
	int64_t deadline;
	PGresult *res = NULL;
	enum db_status st;
	enum outcome o;
	char state[6] = "";
	int sent;

	if ((st = ensure(why, whylen)) != DB_OK)
		return st;
	st = DB_FAILED;
	deadline = db_now_ms() + config_int(S_DB_STATEMENT_TIMEOUT);
	do {
		if (__atomic_load_n(&named, __ATOMIC_RELAXED))
			sent = PQsendQueryPrepared(conn, s->name, nparams, params, NULL, NULL, 0);
		else
			sent = PQsendQueryParams(conn, s->sql, nparams, NULL, params, NULL, NULL, 0);
		if (!sent) {
			reason(why, whylen, "send", PQerrorMessage(conn));
			o = FAILED;
			break;
		}
		o = await(deadline, "query", &res, state, why, whylen);
	} while (o == FAILED && prepared_lost(state));
	if (o == FAILED && strcmp(state, "42501") == 0)
		rights_lost(why, whylen);
	if (o != DONE)
		goto out;
	if (res == NULL || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		snprintf(why, whylen, "query: the ping_counter table has no counter row");
		o = FAILED;
		goto out;
	}
	*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	st = DB_OK;
out:
	PQclear(res);
	if (st != DB_OK) {
		schema_explain(state, why, whylen);
		metrics_db_error(o == TIMED_OUT || o == CANCELLED ? M_DBERR_TIMEOUT : M_DBERR_QUERY);
		if (o != CANCELLED)
			drop();
	} else
		metrics_db_up(1);
	return st;
}

enum db_status
db_connect(char *why, size_t whylen)
{
	enum db_status st;

	pthread_mutex_lock(&db_lock);
	st = ensure(why, whylen);
	pthread_mutex_unlock(&db_lock);
	return st;
}

/* One statement on the connection, under its lock. */
static enum db_status
locked_query(const struct stmt *st, int nparams, const char *const *params,
    int64_t *out, char *why, size_t whylen)
{
	enum db_status rc;

	pthread_mutex_lock(&db_lock);
	rc = query_bigint(st, nparams, params, out, why, whylen);
	pthread_mutex_unlock(&db_lock);
	return rc;
}

enum db_status
db_increment(int64_t k, int64_t *after, char *why, size_t whylen)
{
	char kbuf[24];
	const char *params[1] = { kbuf };

	snprintf(kbuf, sizeof(kbuf), "%lld", (long long)k);
	return locked_query(&increment, 1, params, after, why, whylen);
}

enum db_status
db_read(int64_t *value, char *why, size_t whylen)
{
	return locked_query(&reader, 0, NULL, value, why, whylen);
}

enum db_status
db_command(const char *sql, int64_t deadline, char *out, size_t outlen, char *why,
    size_t whylen)
{
	PGresult *res = NULL;
	enum db_status st;

	pthread_mutex_lock(&db_lock);
	if ((st = ensure(why, whylen)) == DB_OK) {
		if (setup(PQsendQuery(conn, sql), deadline, "command", &res, why, whylen) == 0)
			snprintf(out, outlen, "%s", res != NULL && PQntuples(res) > 0 &&
			    PQnfields(res) > 0 ? PQgetvalue(res, 0, 0) : "");
		else
			st = DB_FAILED;
		PQclear(res);
	}
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
	/*
	 * Only when the database thread is not using the connection: at a
	 * stop it may be waiting for a frozen server (until its deadline),
	 * and the process exits anyway, which closes the socket.
	 */
	if (pthread_mutex_trylock(&db_lock) != 0)
		return;
	if (conn != NULL)
		drop();
	pthread_mutex_unlock(&db_lock);
}
