/* sharedfile.h: the counter file other services read from a shared volume. */
#ifndef PP_SHAREDFILE_H
#define PP_SHAREDFILE_H

#include <stdint.h>

/*
 * Remembers the directory (from the settings), creates it when missing,
 * and starts the thread that writes the file.
 */
void	sharedfile_init(void);

/*
 * Asks for <dir>/ping_pong_counter.txt to hold count: records it (the
 * latest wins) and returns at once, without any I/O (a mutex held for an
 * assignment).  The writer thread then makes the file hold it, unless it
 * already holds a larger one (so it never moves backwards with many
 * workers), by writing a temporary file and renaming it over the old one,
 * under a lock it waits for at most PP_SHARED_LOCK_WAIT_MS.  Failures are
 * logged once per outage, counted, retried, and never reach the caller.
 * No-op when no directory is configured.
 */
void	sharedfile_update(int64_t count);

#endif
