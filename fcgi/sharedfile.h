/* sharedfile.h: the counter file other services read from a shared volume. */
#ifndef PP_SHAREDFILE_H
#define PP_SHAREDFILE_H

#include <stdint.h>

/* Remembers the directory (from the settings); creates it when missing. */
void	sharedfile_init(void);

/*
 * Makes <dir>/ping_pong_counter.txt hold count, unless it already holds a
 * larger one (so it never moves backwards with many workers), by writing a
 * temporary file and renaming it over the old one.  Failures are logged
 * once per outage and never reach the caller.  No-op when no directory is
 * configured.
 */
void	sharedfile_update(int64_t count);

#endif
