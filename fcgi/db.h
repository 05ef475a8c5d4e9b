/* db.h: the worker's one PostgreSQL connection, its reconnection gate and queries. */
#ifndef PP_DB_H
#define PP_DB_H

#include <stdint.h>
#include <stddef.h>

enum db_status {
	DB_OK = 0,
	DB_UNAVAILABLE,	/* no connection and no new failure: the retry gate is closed */
	DB_FAILED,	/* an attempt or query failed just now; reason filled */
	DB_WENT_BACK,	/* the counter went back: refused by the guard (guard.h), which said so */
};

/*
 * Builds the connection parameters from the settings; call once at start.
 * serve: 1 for the worker (each connection applies sql/schema.sql and
 * prepares the statements), 0 for a migration step, which changes only
 * what it names.
 */
void	db_init(int serve);

/*
 * A request arriving now: the latest it may be answered (connect +
 * statement timeouts).  A statement is sent for it only while a whole
 * statement timeout is left (dbthread.c); the deadline cuts nothing else.
 */
int64_t	db_request_deadline(int64_t arrival_ms);

/*
 * The invariant: the connection has one user, the worker's database thread
 * (dbthread.c), which makes every call below; db_lock (dbconn.h) guards the
 * connection and its state so that db_close (the main thread, at stop)
 * never touches it under that thread.  A connect returns within the
 * connect timeout, a statement within the statement timeout plus
 * PP_DB_CANCEL_WAIT_MS (its cancel's answer), each counted from its own
 * start.  When not connected a call first tries to connect, unless a
 * connect failed less than a retry interval ago; on success the schema is
 * applied and statements prepared.  On DB_FAILED why names the cause and
 * the limit that ended the wait (never a password); the connection is
 * kept only when the server answered a cancel.
 */

/* Connects when not connected (then the schema, the statements); the calls below do too. */
enum db_status	db_connect(char *why, size_t whylen);

/* Adds k to the counter, durably; *after is the committed new value. */
enum db_status	db_increment(int64_t k, int64_t *after, char *why, size_t whylen);
/* Reads the counter without changing it. */
enum db_status	db_read(int64_t *value, char *why, size_t whylen);

/*
 * One command of a one-shot run (pingpong-worker --migrate): sql as a
 * simple query, after connecting when need be; out gets its first row's
 * first value ("" when none).  Not for a serving worker's threads.
 */
enum db_status	db_command(const char *sql, int64_t deadline, char *out, size_t outlen,
		    char *why, size_t whylen);

void	db_close(void);

#endif
