/* counterfile.h: the shared volume's ping_pong_counter.txt: its name and its one format. */
#ifndef PP_COUNTERFILE_H
#define PP_COUNTERFILE_H

#include <stddef.h>
#include <stdint.h>

#define COUNTER_FILE	"ping_pong_counter.txt"

/*
 * Parses the file's text, strictly: optional spaces, a non-negative
 * decimal count that fits in int64_t, optional spaces and newlines,
 * nothing else.  Returns 0 or -1.  Pure, so it can be fuzzed.
 */
int	counter_text_parse(const char *buf, size_t len, int64_t *out);

/* Reads <dir>/ping_pong_counter.txt, never through a symlink; 0, or -1 with why filled. */
int	counterfile_read(const char *dir, int64_t *out, char *why, size_t whylen);

#endif
