/* leadergate.h: one batch leader in the database at a time across the worker pool. */
#ifndef PP_LEADERGATE_H
#define PP_LEADERGATE_H

#include <stdint.h>

/* Maps <runtime dir>/leader.shm; without it each worker leads on its own. */
void	leadergate_init(void);

/*
 * Waits until no other worker's leader is in the database, or until the
 * deadline (clock_ms(), clock.h), but no longer than a second: a leader
 * that hangs is then passed by.  Called by the worker's database thread
 * only.  Returns 1 when the gate is held (give it back with
 * leadergate_leave), 0 when going without it (no gate, or its holder
 * hangs), -1 at the deadline.
 */
int	leadergate_enter(int64_t deadline);
void	leadergate_leave(void);

#endif
