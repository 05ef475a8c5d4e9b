/* dbwait.c: waits on the database's socket, a statement's cancel at its timeout, reading its answer. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "dbwait.h"
#include "pp_limits.h"

/*
 * Every call on the connection is asynchronous libpq: send, then poll(2)
 * the socket until the deadline, never a blocking PQexec.
 *
 * A statement runs under PING_PONG_DB_STATEMENT_TIMEOUT, counted from its
 * own start (db.c).  One still running at its timeout is cancelled
 * (PQcancel, on a thread of its own, since it blocks), and the server's
 * answer is awaited PP_DB_CANCEL_WAIT_MS more: a server that answers the
 * cancel (SQLSTATE 57014, the transaction rolled back) keeps its
 * connection; only one that does not answer loses it.  Each reason names
 * the limit that ended the wait, with its value.
 */

static int	 cancelling;	/* atomic: a cancel request is on its way (its thread clears it) */

/* One statement being answered: what dbwait_answer's steps share. */
struct inflight {
	PGconn		*c;
	const char	*what;		/* names the statement in why */
	int64_t		 deadline;	/* the statement timeout, then the cancel's answer */
	int		 cancelled;	/* the cancel was asked for */
	int		 failed;	/* an error result was read */
	PGresult	*row;		/* the first row set */
	char		*state;		/* [6]: the first error's SQLSTATE */
	char		*why;
	size_t		 whylen;
};

void
dbwait_reason(char *why, size_t whylen, const char *prefix, const char *msg)
{
	size_t n;

	n = strcspn(msg, "\n");
	snprintf(why, whylen, "%s: %.*s", prefix, (int)n, msg);
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
 * Asks the server to stop what c runs, so that a statement given up on
 * does not go on holding the row.  PQcancel blocks (it waits for the
 * server to close the cancel connection, with no timeout in libpq 15), so
 * it runs on a thread of its own, one at a time: a server that does not
 * answer holds that thread, never the caller.
 */
static void
cancel_async(PGconn *c)
{
	PGcancel *cancel;
	pthread_t tid;

	if (__atomic_exchange_n(&cancelling, 1, __ATOMIC_ACQUIRE))
		return;
	if ((cancel = PQgetCancel(c)) == NULL)
		goto none;
	if (pthread_create(&tid, NULL, cancel_thread, cancel) != 0) {
		PQfreeCancel(cancel);
		goto none;
	}
	pthread_detach(tid);
	return;
none:
	__atomic_store_n(&cancelling, 0, __ATOMIC_RELEASE);
}

int
dbwait_socket(PGconn *c, int64_t deadline, short events)
{
	struct pollfd pfd = { .fd = PQsocket(c), .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - clock_ms();
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
 * cancel and waits PP_DB_CANCEL_WAIT_MS more for its answer (s->cancelled
 * set).  0 when the socket is ready, -1 when even the cancel got nothing.
 */
static int
wait_ready(struct inflight *s, short events)
{
	while (dbwait_socket(s->c, s->deadline, events) == -1) {
		if (s->cancelled)
			return -1;
		s->cancelled = 1;
		cancel_async(s->c);
		s->deadline = clock_ms() + PP_DB_CANCEL_WAIT_MS;
	}
	return 0;
}

/* Sends what libpq holds: AWAIT_DONE, AWAIT_TIMED_OUT, or AWAIT_FAILED (broken). */
static enum await_outcome
flush_send(struct inflight *s)
{
	int f;

	while ((f = PQflush(s->c)) == 1)
		if (wait_ready(s, POLLIN | POLLOUT) == -1)
			return AWAIT_TIMED_OUT;
		else if (!PQconsumeInput(s->c))
			break;
	return f == -1 ? AWAIT_FAILED : AWAIT_DONE;
}

/*
 * One result: the first row set is kept; the first error names the reason
 * and the SQLSTATE.  With the extended protocol the server sends the row
 * and CommandComplete before it commits at Sync: a row followed by an
 * error (a shutdown, a lost connection) means the commit did not happen,
 * or may not have, so the row must not be used.
 */
static void
note_result(struct inflight *s, PGresult *r)
{
	switch (PQresultStatus(r)) {
	case PGRES_TUPLES_OK:
		if (s->row == NULL && !s->failed) {
			s->row = r;
			return;
		}
		break;
	case PGRES_COMMAND_OK:
		break;
	default:
		if (!s->failed) {
			const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

			dbwait_reason(s->why, s->whylen, s->row != NULL ? "commit" : s->what,
			    PQresultErrorMessage(r));
			snprintf(s->state, 6, "%s", st != NULL ? st : "");
		}
		s->failed = 1;
		break;
	}
	PQclear(r);
}

/* Reads every result: AWAIT_DONE, AWAIT_TIMED_OUT, or AWAIT_FAILED (broken). */
static enum await_outcome
read_results(struct inflight *s)
{
	PGresult *r;

	for (;;) {
		while (PQisBusy(s->c)) {
			if (wait_ready(s, POLLIN) == -1)
				return AWAIT_TIMED_OUT;
			if (!PQconsumeInput(s->c))
				return AWAIT_FAILED;
		}
		if ((r = PQgetResult(s->c)) == NULL)
			return AWAIT_DONE;
		note_result(s, r);
	}
}

/* What the results read add up to; the row goes to *kept on AWAIT_DONE. */
static enum await_outcome
verdict(struct inflight *s, PGresult **kept)
{
	if (s->failed && strcmp(s->state, "57014") == 0 && PQstatus(s->c) == CONNECTION_OK &&
	    PQtransactionStatus(s->c) == PQTRANS_IDLE) {
		if (s->cancelled)
			snprintf(s->why, s->whylen, "%s: cut at the statement timeout (%ld ms); the "
			    "server answered the cancel, the connection is kept", s->what,
			    config_int(S_DB_STATEMENT_TIMEOUT));
		return AWAIT_CANCELLED;
	}
	if (s->failed || PQstatus(s->c) != CONNECTION_OK) {
		if (!s->failed)
			dbwait_reason(s->why, s->whylen, s->what, PQerrorMessage(s->c));
		return AWAIT_FAILED;
	}
	if (kept != NULL) {
		*kept = s->row;
		s->row = NULL;
	}
	return AWAIT_DONE;
}

enum await_outcome
dbwait_answer(PGconn *c, int64_t deadline, const char *what, PGresult **kept,
    char state[6], char *why, size_t whylen)
{
	struct inflight s = { .c = c, .what = what, .deadline = deadline, .state = state,
	    .why = why, .whylen = whylen };
	enum await_outcome o;

	state[0] = '\0';
	if ((o = flush_send(&s)) == AWAIT_DONE && (o = read_results(&s)) == AWAIT_DONE)
		o = verdict(&s, kept);
	else if (o == AWAIT_FAILED)	/* the connection broke */
		dbwait_reason(why, whylen, what, PQerrorMessage(c));
	else
		snprintf(why, whylen, "%s: no answer within the statement timeout (%ld ms), "
		    "nor to the cancel within %d ms: the connection is dropped", what,
		    config_int(S_DB_STATEMENT_TIMEOUT), PP_DB_CANCEL_WAIT_MS);
	PQclear(s.row);
	return o;
}
