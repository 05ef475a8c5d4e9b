/* dotenv.h: parses a .env file (KEY=value lines) without executing it. */
#ifndef PP_DOTENV_H
#define PP_DOTENV_H

#include <stddef.h>

/* Called once per assignment found; key and value are NUL-terminated. */
typedef void (*dotenv_cb)(const char *key, const char *value, void *arg);

/* Why a line was not taken. */
enum dotenv_bad {
	DOTENV_NOT_ASSIGNMENT,	/* not NAME=value */
	DOTENV_UNCLOSED,	/* a quoted value that does not close on its line */
	DOTENV_UNREADABLE,	/* too long, or holds a NUL byte */
};

/* Called once per line not taken (line NULL unless DOTENV_NOT_ASSIGNMENT). */
typedef void (*dotenv_bad_cb)(unsigned lineno, enum dotenv_bad why, const char *line,
	    void *arg);

/*
 * Parses buf (len bytes, need not be NUL-terminated).  Lines end in LF or
 * CRLF (one CR before the LF is dropped); a UTF-8 byte order mark before
 * the first line is dropped.  Accepts blank lines,
 * "# comments", an optional "export " prefix, and values that are bare
 * (trailing "# comment" dropped), 'single-quoted' (literal) or
 * "double-quoted" (\n, \" and \\ understood); a value never spans lines: a
 * quote not closed on its line is DOTENV_UNCLOSED.  Lines that are not
 * assignments are skipped (and passed to bad, when not NULL); returns how
 * many were skipped.
 */
int	dotenv_parse(const char *buf, size_t len, dotenv_cb cb, dotenv_bad_cb bad,
	    void *arg);

#endif
