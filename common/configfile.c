/* configfile.c: the files settings come from: ./.env (parsed by dotenv.c) and secret files (PING_PONG_DB_PASSWORD_FILE). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "configrow.h"
#include "dotenv.h"
#include "pp_limits.h"
#include "smallfile.h"

static char	*dotenv_values[S__MAX];	/* .env's assignments, kept across reads */
static unsigned	 unclosed;		/* the first .env line whose quote does not close */

const char *
config_dotenv_value(enum setting s)
{
	return dotenv_values[s];
}

static void
dotenv_keep(const char *key, const char *value, void *nomem)
{
	int i = config_find(key);

	if (i < 0) {
		config_check_name(key, strlen(key), ".env");
		return;
	}
	free(dotenv_values[i]);
	if ((dotenv_values[i] = strdup(value)) == NULL)
		*(int *)nomem = 1;
}

/*
 * A line of .env not taken: its text may hold a secret, so only the first
 * word of a line that is not an assignment is shown.  A quote that does not
 * close on its line is an error (config_load fails naming the line only):
 * its value would otherwise fall back to the default, and the next line,
 * the rest of the value, would be shown as not an assignment.
 */
static void
dotenv_bad(unsigned lineno, enum dotenv_bad why, const char *line, void *arg)
{
	char word[64];
	size_t n = 0;

	(void)arg;
	if (why == DOTENV_UNCLOSED) {
		if (unclosed == 0)
			unclosed = lineno;
		return;
	}
	if (line != NULL) {
		line += strspn(line, " \t");
		n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	}
	if (n >= sizeof(word))
		n = sizeof(word) - 1;
	memcpy(word, n > 0 ? line : "", n);
	word[n] = '\0';
	if (n == 0)
		config_warn_keep(".env line %u is not NAME=value, ignored", lineno);
	else
		config_warn_keep(".env line %u is not NAME=value, ignored (it starts with %s; the closest setting is %s)",
		    lineno, word, config_closest(word));
}

/* A missing file is normal, an unreadable one is not. */
int
config_dotenv_read(int *nomem, char *err, size_t errlen)
{
	char buf[PP_DOTENV_MAX + 1];
	ssize_t n;

	if ((n = smallfile_read(".env", 0, buf, sizeof(buf))) == -1) {
		if (errno == ENOENT)
			return 0;
		if (errno == EFBIG)
			snprintf(err, errlen, ".env: larger than %d bytes", PP_DOTENV_MAX);
		else
			snprintf(err, errlen, ".env: cannot read: %s", strerror(errno));
		return -1;
	}
	unclosed = 0;
	dotenv_parse(buf, (size_t)n, dotenv_keep, dotenv_bad, nomem);
	explicit_bzero(buf, sizeof(buf));
	if (unclosed != 0) {
		snprintf(err, errlen, ".env line %u: a quoted value is not closed on its line "
		    "(a value is one line; in double quotes, a newline is written backslash n)", unclosed);
		return -1;
	}
	return 0;
}

int
config_secret_read(const char *path, char **out, char *why, size_t whylen)
{
	char buf[PP_SECRET_MAX + 1];
	ssize_t n;

	if ((n = smallfile_read(path, 0, buf, sizeof(buf))) == -1) {
		if (errno == EFBIG)
			snprintf(why, whylen, "longer than %d bytes", PP_SECRET_MAX);
		else
			snprintf(why, whylen, "%s", strerror(errno));
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	*out = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (*out == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}
