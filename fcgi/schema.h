/* schema.h: what the worker says of the counter table's schema, and the explicit widening step. */
#ifndef PP_SCHEMA_H
#define PP_SCHEMA_H

#include <stddef.h>

/*
 * A failed statement's SQLSTATE (state, "" when libpq made the error):
 * when it says the counter reached its column's limit (22003), why is
 * replaced by what to do about it.
 */
void	schema_explain(const char *state, char *why, size_t whylen);

/*
 * pingpong-worker --migrate STEP (argv[1], argv[2]): runs one schema step
 * with the usual settings, then returns the exit status (0 done, 1 failed,
 * 2 usage or settings).  The one step is "widen" (sql/widen.sql).
 */
int	schema_migrate(int argc, char *argv[]);

#endif
