/* dbconn.c: the connection's life: resolve, connect, set-up, the retry gate, the pooler fallback, close. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "continuity.h"
#include "db.h"
#include "dbconn.h"
#include "dbhosts.h"
#include "dbwait.h"
#include "log.h"
#include "metrics.h"
#include "pp_limits.h"
#include "resolve.h"
#include "sql.h"

/*
 * A connect (the names resolved too) runs under PING_PONG_DB_CONNECT_TIMEOUT,
 * counted from its own start, then its set-up under one
 * PING_PONG_DB_STATEMENT_TIMEOUT.  The retry gate closes after a failed
 * connect or set-up only, never after a cut statement (db.c).
 *
 * No startup option is sent: a pooler such as PgBouncer refuses "options"
 * unless told to ignore it.  What the options did is done otherwise: the
 * client's deadline bounds each statement (statement_timeout), the schema
 * sets client_min_messages for its own transaction, and the increment
 * raises synchronous_commit for its own (sql/increment.sql).
 */

/*
 * A dead peer is noticed by the kernel within these, on TCP (docs/reliability.md:
 * A dead peer is noticed by the kernel); the numbers are pp_limits.h's, as libpq's strings.
 */
#define STR_(x)	#x
#define STR(x)	STR_(x)
#define TCP_KEEPALIVES_IDLE	STR(PP_DB_KEEPALIVES_IDLE)
#define TCP_KEEPALIVES_INTERVAL	STR(PP_DB_KEEPALIVES_INTERVAL)
#define TCP_KEEPALIVES_COUNT	STR(PP_DB_KEEPALIVES_COUNT)
#define TCP_USER_TIMEOUT_MS	STR(PP_DB_TCP_USER_TIMEOUT_MS)

pthread_mutex_t	 db_lock = PTHREAD_MUTEX_INITIALIZER;
PGconn		*db_conn;
static int	 serving = 1;	/* set once by db_init: connections apply the schema, prepare statements */
static int64_t	 last_failed_ms = -1000000;	/* db_lock: when a connect last failed (the gate) */
static int	 lost;		/* db_lock: a connection failed or was lost since the last one */
static int	 named;		/* atomic: send named prepared statements */
static char	 connected[768];	/* db_lock: what was last said about the connection */

/* Set at start (db_init), then read-only; vals[0..2] db_lock (connect_within). */
static char	 connect_timeout[8];
static const char *keys[20], *vals[20];

void
db_init(int serve)
{
	int n = 0;

	serving = serve;
	named = config_int(S_DB_PREPARED) != 0;
	stmts_name();
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

void
dbconn_drop(void)
{
	PQfinish(db_conn);
	db_conn = NULL;
	lost = 1;
	metrics_db_up(0);
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

	if (resolve_hosts(dbhosts_hosts(), dbhosts_ports(), (int)config_db_host_count(),
	    deadline, &to, why, whylen) == -1)
		return -1;
	vals[0] = to.host;
	vals[1] = to.addrs > 0 ? to.hostaddr : NULL;
	vals[2] = to.port;
	if ((db_conn = PQconnectStartParams(keys, vals, 0)) == NULL) {
		snprintf(why, whylen, "connect: out of memory");
		return -1;
	}
	PQsetNoticeProcessor(db_conn, notice, NULL);
	if (PQstatus(db_conn) == CONNECTION_BAD) {
		dbwait_reason(why, whylen, "connect", PQerrorMessage(db_conn));
		return -1;
	}
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			dbwait_reason(why, whylen, "connect", PQerrorMessage(db_conn));
			return -1;
		}
		if (dbwait_socket(db_conn, deadline,
		    st == PGRES_POLLING_WRITING ? POLLOUT : POLLIN) == -1) {
			int moved = dbhosts_skip(PQhost(db_conn), PQport(db_conn));

			snprintf(why, whylen, "connect: no answer from %s port %s within the "
			    "connect timeout (%ld s)%s",
			    PQhost(db_conn), PQport(db_conn), config_int(S_DB_CONNECT_TIMEOUT),
			    moved ? "; the next attempt starts with the host after it" : "");
			return -1;
		}
		st = PQconnectPoll(db_conn);
	}
	/* Sends never block: dbwait_answer() flushes, bounded by the deadline. */
	if (PQsetnonblocking(db_conn, 1) == -1) {
		dbwait_reason(why, whylen, "connect", PQerrorMessage(db_conn));
		return -1;
	}
	return 0;
}

/*
 * The one line a connection gets: where, which server, and which
 * synchronous_commit the increments commit with (sql/increment.sql raises
 * the session's default to on, and keeps remote_apply).  Said at the first
 * connection and again only when it changes (a failover, a new default).
 * This is the line docs/reliability.md's Guarantees point to.
 */
static void
say_connected(const PGresult *res)
{
	const char *dflt = PQgetvalue(res, 0, 0), *standbys = PQgetvalue(res, 0, 1);
	const char *level = strcmp(dflt, "remote_apply") == 0 ? "remote_apply" : "on";
	int version = PQserverVersion(db_conn);	/* 150018: 15.18 */
	char line[sizeof(connected)];

	snprintf(line, sizeof(line), "connected to %s:%s (PostgreSQL %d.%d); durability: "
	    "increments commit with synchronous_commit=%s "
	    "(the session's default is %s%s); synchronous standbys: %s",
	    PQhost(db_conn), PQport(db_conn), version / 10000, version % 10000,
	    level, dflt,
	    strcmp(level, dflt) == 0 ? ", kept" : ", raised for each increment's own transaction",
	    *standbys != '\0' ? standbys : "none named, so a commit waits for the local disk only");
	if (strcmp(line, connected) == 0)
		return;
	snprintf(connected, sizeof(connected), "%s", line);
	log_info(NULL, "database: %s", line);
}

int
dbconn_round_trip(int sent, int64_t deadline, const char *what, PGresult **kept,
    char *why, size_t whylen)
{
	char state[6];
	enum await_outcome o;

	if (!sent) {
		dbwait_reason(why, whylen, what, PQerrorMessage(db_conn));
		return -1;
	}
	o = dbwait_answer(db_conn, deadline, what, kept, state, why, whylen);
	if (o == AWAIT_TIMED_OUT || o == AWAIT_CANCELLED)
		metrics_db_error(M_DBERR_TIMEOUT);
	/*
	 * A pooler's server connection may hold the statement already,
	 * prepared by another client: the name says it is the same text.
	 */
	if (o == AWAIT_FAILED && strcmp(what, "prepare") == 0 && strcmp(state, "42P05") == 0)
		return 0;
	return o == AWAIT_DONE ? 0 : -1;
}

/*
 * A new connection's set-up, outside the leader gate, under one statement
 * timeout: the handover check, the schema, the durability line, the
 * prepared statements; 0 or -1 (why filled).
 */
static int
set_up(char *why, size_t whylen)
{
	int64_t deadline = clock_ms() + config_int(S_DB_STATEMENT_TIMEOUT);
	PGresult *res = NULL;

	/* Before the schema: nothing is made in a database that is refused. */
	if (continuity_required() && (dbconn_round_trip(PQsendQuery(db_conn, sql_continuity),
	    deadline, "handover", &res, why, whylen) == -1 ||
	    continuity_judge(res, PQhost(db_conn), PQport(db_conn), why, whylen) == -1))
		goto fail;
	PQclear(res);
	res = NULL;
	if ((serving && dbconn_round_trip(PQsendQuery(db_conn, sql_schema), deadline, "schema",
	    NULL, why, whylen) == -1) ||
	    dbconn_round_trip(PQsendQuery(db_conn, sql_durability), deadline, "schema", &res,
	    why, whylen) == -1)
		goto fail;
	if (res == NULL || PQntuples(res) != 1 || PQnfields(res) != 2) {
		snprintf(why, whylen, "schema: unexpected answer to sql/durability.sql");
		goto fail;
	}
	say_connected(res);
	PQclear(res);
	if (serving && dbconn_named() &&
	    (dbconn_round_trip(PQsendPrepare(db_conn, stmt_increment.name,
	    stmt_increment.sql, 0, NULL), deadline, "prepare", NULL, why, whylen) == -1 ||
	    dbconn_round_trip(PQsendPrepare(db_conn, stmt_read.name, stmt_read.sql, 0,
	    NULL), deadline, "prepare", NULL, why, whylen) == -1))
		return -1;
	return 0;
fail:
	PQclear(res);
	return -1;
}

enum db_status
dbconn_ensure(char *why, size_t whylen)
{
	int64_t now;

	if (db_conn != NULL)
		return DB_OK;
	now = clock_ms();
	if (now - last_failed_ms < config_int(S_DB_RETRY_INTERVAL)) {
		snprintf(why, whylen, "database unavailable; next attempt in %lld ms",
		    (long long)(config_int(S_DB_RETRY_INTERVAL) - (now - last_failed_ms)));
		return DB_UNAVAILABLE;
	}
	if (connect_within(now + config_int(S_DB_CONNECT_TIMEOUT) * 1000, why, whylen) == -1) {
		metrics_db_error(M_DBERR_CONNECT);
		goto fail;
	}
	if (set_up(why, whylen) == -1)
		goto fail;
	if (lost)
		metrics_db_reconnect();
	lost = 0;
	metrics_db_up(1);
	return DB_OK;
fail:
	if (db_conn != NULL)
		dbconn_drop();
	else
		lost = 1;
	last_failed_ms = clock_ms();
	return DB_FAILED;
}

int
dbconn_named(void)
{
	return __atomic_load_n(&named, __ATOMIC_RELAXED);
}

/*
 * A transaction pooler (PgBouncer in transaction mode before 1.21) runs
 * each transaction on any of its server connections, so a statement
 * prepared on one is unknown on the next.  The Bind fails before anything
 * runs (SQLSTATE 26000), so sending the same statement unnamed at once is
 * safe; from then on this worker sends every statement unnamed.
 */
int
dbconn_prepared_lost(const char *state)
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
 * (docs/reliability.md: Who owns the table).  The same line as a worker starting
 * without the right says: logged once, not twice in other words.
 */
void
dbconn_rights_lost(char *why, size_t whylen)
{
	char again[256];

	dbconn_drop();
	last_failed_ms = -1000000;	/* the gate open: the check runs now */
	if (dbconn_ensure(again, sizeof(again)) != DB_OK)
		snprintf(why, whylen, "%s", again);
}

enum db_status
db_connect(char *why, size_t whylen)
{
	enum db_status st;

	pthread_mutex_lock(&db_lock);
	st = dbconn_ensure(why, whylen);
	pthread_mutex_unlock(&db_lock);
	return st;
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
	if (db_conn != NULL)
		dbconn_drop();
	pthread_mutex_unlock(&db_lock);
}
