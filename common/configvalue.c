/* configvalue.c: one value checked against its row's type: numbers, booleans, levels, choices, files, URLs, host and port lists, text for nginx's config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "configrow.h"
#include "log.h"
#include "pp_limits.h"

static int
parse_bool(const char *v)
{
	static const char *const yes[] = { "1", "on", "true", "yes" };
	static const char *const no[] = { "0", "off", "false", "no" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int
parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max ||
	    !(*v >= '0' && *v <= '9'))
		return -1;
	*out = n;
	return 0;
}

/*
 * Checks a comma-separated list as libpq's host and port take it, and counts
 * its elements into *count. Every element must be non-empty and free of
 * blanks (libpq would take an empty one as "the default", silently), and,
 * for ports, a number from 1 to 65535. On failure fills why.
 */
static int
check_list(const char *v, int ports, long *count, char *why, size_t whylen)
{
	long n = 0, port;
	size_t len;
	char elem[256];

	for (const char *p = v;; p += len + 1) {
		len = strcspn(p, ",");
		if (++n > PP_DB_HOSTS_MAX) {
			snprintf(why, whylen, "more than %d elements", PP_DB_HOSTS_MAX);
			return -1;
		}
		if (len == 0) {
			snprintf(why, whylen, "element %ld is empty", n);
			return -1;
		}
		if (len >= sizeof(elem) || strcspn(p, " \t\r\n") < len) {
			snprintf(why, whylen, "element %ld is too long or has blanks", n);
			return -1;
		}
		memcpy(elem, p, len);
		elem[len] = '\0';
		if (ports && parse_long(elem, 1, 65535, &port) == -1) {
			snprintf(why, whylen, "element %ld, '%.16s', is not a port", n, elem);
			return -1;
		}
		if (p[len] == '\0')
			break;
	}
	*count = n;
	return 0;
}

/* Does v hold a control character or one of bad? */
static int
has_unsafe(const char *v, const char *bad)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f || strchr(bad, *v) != NULL)
			return 1;
	return 0;
}

int
config_nginx_safe(const char *v)
{
	return *v != '\0' && !has_unsafe(v, " ;'\"{}$\\#");
}

/*
 * A choice: whole words only ("auto|client_secret" is not a choice), in
 * any case like levels (JSON is json); the value is rewritten as listed.
 */
static int
check_choice(const struct row *r, char *v, long *num, const char *shown, char *err, size_t errlen)
{
	size_t n = strlen(v);
	long k = 0;

	for (const char *c = r->choices; *c != '\0'; c += *c == '|', k++) {
		size_t w = strcspn(c, "|");

		if (w == n && n > 0 && strncasecmp(c, v, n) == 0) {
			*num = k;
			memcpy(v, c, n);
			return 0;
		}
		c += w;
	}
	snprintf(err, errlen, "%s=%s is invalid: expected one of %s",
	    r->env, shown, r->choices);
	return -1;
}

/* Text nginx's config is rendered from: a URL, or a value it takes as is (T_NGINX). */
static int
check_for_nginx(const struct row *r, const char *v, const char *shown, char *err, size_t errlen)
{
	if (r->type == T_URL) {
		/* nginx's config is rendered from it: nothing may end a directive or start a variable. */
		if (*v == '\0' || ((strncmp(v, "http://", 7) == 0 ||
		    strncmp(v, "https://", 8) == 0) && !has_unsafe(v, " ;'\"{}$\\")))
			return 0;
		snprintf(err, errlen, "%s=%s is invalid: expected an http:// or https:// URL "
		    "without spaces, control characters, quotes, braces, ;, $ or \\", r->env, shown);
		return -1;
	}
	/*
	 * Rendered into nginx's config as is (launcher/render.c): nothing
	 * nginx would read as syntax (the end of a directive, a block, a
	 * quote, an escape, a variable, a comment), nothing empty.
	 */
	if (config_nginx_safe(v))
		return 0;
	snprintf(err, errlen, "%s=%s is invalid: expected a non-empty value without spaces, "
	    "control characters, quotes, braces, ;, #, $ or \\ (nginx's config is rendered from it)",
	    r->env, shown);
	return -1;
}

/* A libpq host or port list; *num is how many elements it has. */
static int
check_libpq_list(const struct row *r, const char *v, long *num, const char *shown, char *err,
    size_t errlen)
{
	char why[128];

	if (check_list(v, r->type == T_PORTS, num, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, r->type == T_PORTS ?
	    "%s=%s is invalid: expected an integer from 1 to 65535, or a "
	    "comma-separated list of them, one per host (%s)" :
	    "%s=%s is invalid: expected a host name, address or socket "
	    "directory, or a comma-separated list of them (%s)",
	    r->env, shown, why);
	return -1;
}

int
config_validate(const struct row *r, char *v, long *num, char *err, size_t errlen)
{
	const char *shown = r->secret ? "<hidden>" : v;

	switch (r->type) {
	case T_STR:
		return 0;
	case T_PORT:
	case T_INT:
		if (parse_long(v, r->min, r->max, num) == 0)
			return 0;
		snprintf(err, errlen, "%s=%s is invalid: expected an integer from %ld to %ld",
		    r->env, shown, r->min, r->max);
		return -1;
	case T_LEVEL:
		if ((*num = log_level_parse(v)) >= 0)
			return 0;
		snprintf(err, errlen, "%s=%s is invalid: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case)",
		    r->env, shown);
		return -1;
	case T_BOOL:
		if ((*num = parse_bool(v)) >= 0)
			return 0;
		snprintf(err, errlen, "%s=%s is invalid: expected on or off (also true/false, yes/no, 1/0)",
		    r->env, shown);
		return -1;
	case T_CHOICE:
		return check_choice(r, v, num, shown, err, errlen);
	case T_FILE:
		if (*v == '\0' || access(v, R_OK) == 0)
			return 0;
		snprintf(err, errlen, "%s=%s is invalid: expected a readable file (%s)",
		    r->env, shown, strerror(errno));
		return -1;
	case T_URL:
	case T_NGINX:
		return check_for_nginx(r, v, shown, err, errlen);
	case T_HOSTS:
	case T_PORTS:
		return check_libpq_list(r, v, num, shown, err, errlen);
	}
	return -1;
}
