/* negotiate.h: picks text or JSON for /pingpong from the Accept header. */
#ifndef PP_NEGOTIATE_H
#define PP_NEGOTIATE_H

/*
 * Returns 1 when the Accept header prefers application/json over
 * text/plain, else 0 (also for NULL, empty or malformed headers).
 * "Prefers" means a higher q-value for application/json than for
 * text/plain, each taken from its most specific matching range
 * (type/subtype, then type/any, then any/any); on a tie, JSON wins only when it
 * is named explicitly and text/plain is not.
 */
int	accept_prefers_json(const char *accept);

#endif
