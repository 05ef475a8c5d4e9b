/* dbconn.h: inside the database module: the connection, its lock, its set-up (for db.c). */
#ifndef PP_DBCONN_H
#define PP_DBCONN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "db.h"

/* A statement of sql/, prepared under a name that changes with its text. */
struct stmt {
	const char	*sql;
	char		 name[32];
};

/* db.c's statements: named once at start (db_init), then read-only; prepared on each connection. */
extern struct stmt	stmt_increment, stmt_read;
void	stmts_name(void);

/* The connection's one invariant: db.h.  db_lock guards db_conn and dbconn.c's state. */
extern pthread_mutex_t	db_lock;
extern PGconn		*db_conn;	/* db_lock */

/*
 * With db_lock held: connects when not connected (the retry gate, then
 * the set-up: handover check, schema, durability, prepared statements).
 * A failure closes the gate for PING_PONG_DB_RETRY_INTERVAL.
 */
enum db_status	dbconn_ensure(char *why, size_t whylen);

/* With db_lock held: the connection is gone; the next call connects again (no gate). */
void	dbconn_drop(void);

/*
 * One round trip on the connection (sent: what PQsend* returned), its
 * answer awaited until the deadline; 0, or -1 with why filled.  A timeout
 * or cancel is counted.  A "prepare" the server holds already (42P05,
 * a pooler's server connection) is no failure.
 */
int	dbconn_round_trip(int sent, int64_t deadline, const char *what, PGresult **kept,
	    char *why, size_t whylen);

/* Whether statements are sent as named prepared ones (else unnamed, each with its text). */
int	dbconn_named(void);

/*
 * The pooler fallback: a statement failed with state; 1 when it was a
 * prepared statement unknown to the server (26000), so that statements go
 * unnamed from now on and this one may be sent again unnamed, else 0.
 */
int	dbconn_prepared_lost(const char *state);

/* With db_lock held: a right revoked under the connection (42501): why becomes the check's line. */
void	dbconn_rights_lost(char *why, size_t whylen);

#endif
