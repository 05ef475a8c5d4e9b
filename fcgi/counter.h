/* counter.h: hands out pong numbers, combining concurrent increments into one statement. */
#ifndef PP_COUNTER_H
#define PP_COUNTER_H

#include <stdint.h>
#include <stddef.h>

#include "db.h"

void	counter_init(void);

/*
 * Takes the next number for one pong: *n was the counter's value before
 * this request's share of the increment, and it is committed when DB_OK is
 * returned.  Requests that wait while another thread is in the database
 * are served together by the next statement (UPDATE ... + k), each getting
 * its own number in arrival order.  DB_FAILED (why filled) is returned to
 * exactly one caller per failed statement, so the failure is logged once;
 * the others of that batch get DB_UNAVAILABLE.  A failed batch's numbers
 * are never handed out.
 */
enum db_status	counter_next(int64_t *n, char *why, size_t whylen);

#endif
