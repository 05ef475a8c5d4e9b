/* continuity.h: the check that a database continues the counter handed over to it. */
#ifndef PP_CONTINUITY_H
#define PP_CONTINUITY_H

#include <stddef.h>

#include <libpq-fe.h>

/* Whether the settings ask for the check (PING_PONG_DB_REQUIRE_HANDOVER). */
int	continuity_required(void);

/*
 * Judges the answer to sql/continuity.sql from the database at host:port:
 * 0 when it holds the handover mark; -1 with why filled (one line, for the
 * caller's log and its 503) when it does not.
 */
int	continuity_judge(const PGresult *res, const char *host, const char *port,
	    char *why, size_t whylen);

#endif
