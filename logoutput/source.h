/* source.h: where log-output reads the ping-pong count from. */
#ifndef PP_SOURCE_H
#define PP_SOURCE_H

#include <stddef.h>
#include <stdint.h>


/*
 * Reads the count: from <LOG_APP_SHARED_VOLUME_PATH>/ping_pong_counter.txt
 * when that is set, else from ping-pong's GET /pings (PP_LOG_UPSTREAM_MS).
 * Returns 0, or -1 with why filled.
 */
int	source_count(int64_t *out, char *why, size_t whylen);

#endif
