/* dotenv.h: parses a .env file (KEY=value lines) without executing it. */
#ifndef PP_DOTENV_H
#define PP_DOTENV_H

#include <stddef.h>

/* Called once per assignment found; key and value are NUL-terminated. */
typedef void (*dotenv_cb)(const char *key, const char *value, void *arg);

/* Called once per line that is not an assignment (line NULL: too long or binary). */
typedef void (*dotenv_bad_cb)(unsigned lineno, const char *line, void *arg);

/*
 * Parses buf (len bytes, need not be NUL-terminated).  Accepts blank lines,
 * "# comments", an optional "export " prefix, and values that are bare
 * (trailing "# comment" dropped), 'single-quoted' (literal) or
 * "double-quoted" (\n, \" and \\ understood).  Lines that are not
 * assignments are skipped (and passed to bad, when not NULL); returns how
 * many were skipped.
 */
int	dotenv_parse(const char *buf, size_t len, dotenv_cb cb, dotenv_bad_cb bad,
	    void *arg);

#endif
