/* db.c: the statements (increment, read, a migration's command) under the connection's lock; request deadlines. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "dbconn.h"
#include "dbwait.h"
#include "metrics.h"
#include "schema.h"
#include "sql.h"

/*
 * Client waits are kept apart from the connection's health (issue 26; as
 * PgBouncer keeps query_wait_timeout apart from its server timeouts).  A
 * request's deadline decides only whether a statement is sent for it
 * (dbthread.c); it never cuts a connect (dbconn.c) or a statement
 * (dbwait.c).  A statement runs under PING_PONG_DB_STATEMENT_TIMEOUT,
 * counted from its send; one cut there keeps its connection when the
 * server answered the cancel.
 */

struct stmt	stmt_increment = { .sql = sql_increment }, stmt_read = { .sql = sql_read };

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
stmts_name(void)
{
	stmt_name(&stmt_increment, "pp_increment");
	stmt_name(&stmt_read, "pp_read");
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
	enum await_outcome o;
	char state[6] = "";
	int sent;

	if ((st = dbconn_ensure(why, whylen)) != DB_OK)
		return st;
	st = DB_FAILED;
	deadline = clock_ms() + config_int(S_DB_STATEMENT_TIMEOUT);
	do {
		if (dbconn_named())
			sent = PQsendQueryPrepared(db_conn, s->name, nparams, params, NULL, NULL, 0);
		else
			sent = PQsendQueryParams(db_conn, s->sql, nparams, NULL, params, NULL, NULL, 0);
		if (!sent) {
			dbwait_reason(why, whylen, "send", PQerrorMessage(db_conn));
			o = AWAIT_FAILED;
			break;
		}
		o = dbwait_answer(db_conn, deadline, "query", &res, state, why, whylen);
	} while (o == AWAIT_FAILED && dbconn_prepared_lost(state));
	if (o == AWAIT_FAILED && strcmp(state, "42501") == 0)
		dbconn_rights_lost(why, whylen);
	if (o != AWAIT_DONE)
		goto out;
	if (res == NULL || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		snprintf(why, whylen, "query: the ping_counter table has no counter row");
		o = AWAIT_FAILED;
		goto out;
	}
	*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	st = DB_OK;
out:
	PQclear(res);
	if (st != DB_OK) {
		schema_explain(state, why, whylen);
		metrics_db_error(o == AWAIT_TIMED_OUT || o == AWAIT_CANCELLED ?
		    M_DBERR_TIMEOUT : M_DBERR_QUERY);
		if (o != AWAIT_CANCELLED)
			dbconn_drop();
	} else
		metrics_db_up(1);
	return st;
}

/* One statement on the connection, under db_lock. */
static enum db_status
locked_query(const struct stmt *s, int nparams, const char *const *params,
    int64_t *out, char *why, size_t whylen)
{
	enum db_status rc;

	pthread_mutex_lock(&db_lock);
	rc = query_bigint(s, nparams, params, out, why, whylen);
	pthread_mutex_unlock(&db_lock);
	return rc;
}

enum db_status
db_increment(int64_t k, int64_t *after, char *why, size_t whylen)
{
	char kbuf[24];
	const char *params[1] = { kbuf };

	snprintf(kbuf, sizeof(kbuf), "%lld", (long long)k);
	return locked_query(&stmt_increment, 1, params, after, why, whylen);
}

enum db_status
db_read(int64_t *value, char *why, size_t whylen)
{
	return locked_query(&stmt_read, 0, NULL, value, why, whylen);
}

enum db_status
db_command(const char *sql, int64_t deadline, char *out, size_t outlen, char *why,
    size_t whylen)
{
	PGresult *res = NULL;
	enum db_status st;

	pthread_mutex_lock(&db_lock);
	if ((st = dbconn_ensure(why, whylen)) == DB_OK) {
		if (dbconn_round_trip(PQsendQuery(db_conn, sql), deadline, "command", &res,
		    why, whylen) == 0)
			snprintf(out, outlen, "%s", res != NULL && PQntuples(res) > 0 &&
			    PQnfields(res) > 0 ? PQgetvalue(res, 0, 0) : "");
		else
			st = DB_FAILED;
		PQclear(res);
	}
	pthread_mutex_unlock(&db_lock);
	return st;
}
