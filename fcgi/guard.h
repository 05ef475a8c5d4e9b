/* guard.h: the guard against a counter that goes back, shared by the workers. */
#ifndef PP_GUARD_H
#define PP_GUARD_H

#include <stdint.h>

/*
 * Maps <runtime dir>/guard.shm, which every worker of the pool shares and
 * a respawned worker finds again; the launcher makes the directory afresh
 * at each start, so a restart of the service forgets (the operator's
 * action, docs/reliability.md).  If it cannot be mapped, the worker guards alone.
 */
void	guard_open(void);

/* The smallest number the database may still give: read before sending a statement. */
int64_t	guard_next(void);

/*
 * After a statement sent when guard_next() was next: the database gave
 * the numbers from lowest to below end (a read: lowest = end = the count).
 * Returns 0 when they may be handed out, and remembers end; -1 when one
 * was handed out already, or the guard has tripped before: the guard then
 * stays tripped (said once, at CRITICAL, by the worker that trips it).
 */
int	guard_check(int64_t next, int64_t lowest, int64_t end);

/* 1 once the guard has tripped, in any worker of the pool. */
int	guard_tripped(void);

#endif
