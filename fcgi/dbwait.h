/* dbwait.h: waiting on a libpq connection within a deadline, and reading one statement's answer. */
#ifndef PP_DBWAIT_H
#define PP_DBWAIT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* Copies libpq's message (first line only) into why, after "prefix: ". */
void	dbwait_reason(char *why, size_t whylen, const char *prefix, const char *msg);

/* Waits until c's socket is ready for events (poll(2)), or the deadline; 0 or -1. */
int	dbwait_socket(PGconn *c, int64_t deadline, short events);

enum await_outcome {
	AWAIT_DONE,		/* every result read, none an error */
	AWAIT_FAILED,		/* an error result, or the connection broke */
	AWAIT_CANCELLED,	/* the server cancelled it (57014) and is ready for the next: kept */
	AWAIT_TIMED_OUT,	/* no answer by the timeout, nor to the cancel */
};

/*
 * After a send on c: flushes it and reads every result up to ReadyForQuery,
 * each wait bounded by the deadline (the statement timeout from the send),
 * then by a cancel's answer.  The first row set is kept in *kept (the
 * caller clears it; NULL: not wanted) unless an error follows.  On
 * AWAIT_FAILED, state holds the SQLSTATE ("" when libpq made the error);
 * on any but AWAIT_DONE why says what ended it, naming what.
 */
enum await_outcome	dbwait_answer(PGconn *c, int64_t deadline, const char *what,
			    PGresult **kept, char state[6], char *why, size_t whylen);

#endif
