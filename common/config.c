/* config.c: the settings table, env and .env loading, validation, masked printing. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dotenv.h"
#include "pp_limits.h"
#include "smallfile.h"
#include "log.h"

enum type {
	T_STR,		/* any text */
	T_PORT,		/* 1..65535 */
	T_INT,		/* min..max */
	T_LEVEL,	/* a log level name, any case */
	T_BOOL,		/* on/off, true/false, yes/no, 1/0 */
	T_CHOICE,	/* one of the row's choices, "a|b|c" */
	T_FILE,		/* a readable file, or unset */
	T_URL,		/* http:// or https://, or unset */
	T_HOSTS,	/* libpq host list: h1,h2,... (names, addresses, socket dirs) */
	T_PORTS,	/* libpq port list: one port for all hosts, or one per host */
	T_NGINX,	/* text nginx's config takes as is: a path, an address */
};

struct row {
	const char	*env;
	enum type	 type;
	const char	*def;		/* NULL: unset by default */
	long		 min, max;
	unsigned	 owners;
	int		 secret;
	const char	*choices;	/* T_CHOICE */
};

#define ALL (CF_APP | CF_AUTH | CF_LAUNCH | CF_LOG)

/* One row per setting; README.md's configuration table mirrors it (t/ checks). */
static const struct row rows[S__MAX] = {
	[S_ROLE] =		{ "PING_PONG_ROLE", T_CHOICE, "all", 0, 0, CF_LAUNCH, 0, "app|authproxy|log-output|all" },
	[S_RUNTIME_DIR] =	{ "PING_PONG_RUNTIME_DIR", T_NGINX, "./var/run", 0, 0, CF_LAUNCH, 0 },
	[S_APP_PORT] =		{ "PING_PONG_APP_PORT", T_PORT, "3000", 1, 65535, CF_APP | CF_LAUNCH, 0 },
	[S_LOG_LEVEL] =		{ "PING_PONG_LOG_LEVEL", T_LEVEL, "INFO", 0, 0, ALL, 0 },
	[S_WORKERS] =		{ "PING_PONG_WORKERS", T_INT, "1", 1, 64, CF_APP | CF_LAUNCH, 0 },
	[S_THREADS] =		{ "PING_PONG_THREADS", T_INT, "2", 1, 256, CF_APP, 0 },
	[S_GROUP_INCREMENTS] =	{ "PING_PONG_GROUP_INCREMENTS", T_BOOL, "on", 0, 0, CF_APP, 0 },
	[S_BATCH_MAX] =		{ "PING_PONG_BATCH_MAX", T_INT, "256", 1, 4096, CF_APP, 0 },
	[S_DB_HOST] =		{ "PING_PONG_DB_HOST", T_HOSTS, "localhost", 0, 0, CF_APP | CF_LAUNCH, 0 },
	[S_DB_PORT] =		{ "PING_PONG_DB_PORT", T_PORTS, "5432", 1, 65535, CF_APP | CF_LAUNCH, 0 },
	[S_DB_NAME] =		{ "PING_PONG_DB_NAME", T_STR, "pingpong", 0, 0, CF_APP | CF_LAUNCH, 0 },
	[S_DB_USER] =		{ "PING_PONG_DB_USER", T_STR, "postgres", 0, 0, CF_APP | CF_LAUNCH, 0 },
	[S_DB_PASSWORD] =	{ "PING_PONG_DB_PASSWORD", T_STR, "postgres", 0, 0, CF_APP, 1 },
	[S_DB_PASSWORD_FILE] =	{ "PING_PONG_DB_PASSWORD_FILE", T_FILE, NULL, 0, 0, CF_APP, 0 },
	[S_DB_CONNECT_TIMEOUT] = { "PING_PONG_DB_CONNECT_TIMEOUT", T_INT, "2", 2, 60, CF_APP, 0 },
	[S_DB_STATEMENT_TIMEOUT] = { "PING_PONG_DB_STATEMENT_TIMEOUT", T_INT, "5000", 100, 600000, CF_APP, 0 },
	[S_DB_RETRY_INTERVAL] =	{ "PING_PONG_DB_RETRY_INTERVAL", T_INT, "500", 100, 60000, CF_APP, 0 },
	[S_DB_PREPARED] =	{ "PING_PONG_DB_PREPARED", T_BOOL, "on", 0, 0, CF_APP, 0 },
	[S_DB_REQUIRE_HANDOVER] = { "PING_PONG_DB_REQUIRE_HANDOVER", T_BOOL, "off", 0, 0, CF_APP, 0 },
	[S_DB_MAX_CONNECTIONS] = { "PING_PONG_DB_MAX_CONNECTIONS", T_INT, "4", 1, 1000, CF_APP | CF_LAUNCH, 0 },
	[S_SHARED_VOLUME_PATH] = { "PING_PONG_SHARED_VOLUME_PATH", T_STR, NULL, 0, 0, CF_APP, 0 },
	[S_METRICS] =		{ "PING_PONG_METRICS", T_BOOL, "on", 0, 0, CF_APP, 0 },
	[S_LISTEN_ADDRESS] =	{ "PING_PONG_LISTEN_ADDRESS", T_NGINX, "0.0.0.0", 0, 0, CF_LAUNCH, 0 },
	[S_ACCESS_LOG] =	{ "PING_PONG_ACCESS_LOG", T_BOOL, "on", 0, 0, CF_LAUNCH, 0 },
	[S_NGINX_USER] =	{ "PING_PONG_NGINX_USER", T_STR, "www-data", 0, 0, ALL, 0 },
	[S_NGINX_WORKERS] =	{ "PING_PONG_NGINX_WORKERS", T_INT, "2", 1, 64, CF_LAUNCH, 0 },
	[S_AUTH_PORT] =		{ "AUTH_PROXY_PORT", T_PORT, "8080", 1, 65535, CF_AUTH | CF_LAUNCH, 0 },
	[S_AUTH_PROMETHEUS_URL] = { "AUTH_PROXY_PROMETHEUS_URL", T_URL, NULL, 0, 0, CF_AUTH | CF_LAUNCH, 0 },
	[S_AUTH_SCOPE] =	{ "AUTH_PROXY_SCOPE", T_STR, "https://prometheus.monitor.azure.com/.default", 0, 0, CF_AUTH, 0 },
	[S_AUTH_IMDS_ENDPOINT] = { "AUTH_PROXY_IMDS_ENDPOINT", T_URL, "http://169.254.169.254/metadata/identity/oauth2/token", 0, 0, CF_AUTH, 0 },
	[S_AUTH_TIMEOUT] =	{ "AUTH_PROXY_TIMEOUT", T_INT, "30", 1, 600, CF_AUTH | CF_LAUNCH, 0 },
	[S_AUTH_TOKEN_TIMEOUT] = { "AUTH_PROXY_TOKEN_TIMEOUT", T_INT, "10", 1, 120, CF_AUTH, 0 },
	[S_AUTH_CREDENTIAL] =	{ "AUTH_PROXY_CREDENTIAL", T_CHOICE, "auto", 0, 0, CF_AUTH, 0, "auto|client_secret|workload_identity|managed_identity|none" },
	[S_AUTH_RETRY_MIN] =	{ "AUTH_PROXY_RETRY_MIN_MS", T_INT, "1000", 10, 600000, CF_AUTH, 0 },
	[S_AUTH_RETRY_MAX] =	{ "AUTH_PROXY_RETRY_MAX_MS", T_INT, "60000", 10, 3600000, CF_AUTH, 0 },
	[S_AZURE_TENANT_ID] =	{ "AZURE_TENANT_ID", T_STR, NULL, 0, 0, CF_AUTH, 0 },
	[S_AZURE_CLIENT_ID] =	{ "AZURE_CLIENT_ID", T_STR, NULL, 0, 0, CF_AUTH, 0 },
	[S_AZURE_CLIENT_SECRET] = { "AZURE_CLIENT_SECRET", T_STR, NULL, 0, 0, CF_AUTH, 1 },
	[S_AZURE_FEDERATED_TOKEN_FILE] = { "AZURE_FEDERATED_TOKEN_FILE", T_STR, NULL, 0, 0, CF_AUTH, 0 },
	[S_AZURE_AUTHORITY_HOST] = { "AZURE_AUTHORITY_HOST", T_URL, "https://login.microsoftonline.com/", 0, 0, CF_AUTH, 0 },
	[S_LOG_PORT] =		{ "LOG_APP_PORT", T_PORT, "8000", 1, 65535, CF_LOG | CF_LAUNCH, 0 },
	[S_LOG_INTERVAL] =	{ "LOG_APP_LOG_INTERVAL_SECONDS", T_INT, "5", 1, 3600, CF_LOG, 0 },
	[S_LOG_PP_HOST] =	{ "LOG_APP_PING_PONG_SERVICE_HOST", T_STR, "localhost", 0, 0, CF_LOG, 0 },
	[S_LOG_PP_PORT] =	{ "LOG_APP_PING_PONG_SERVICE_PORT", T_PORT, NULL, 1, 65535, CF_LOG, 0 },
	[S_LOG_SHARED_VOLUME_PATH] = { "LOG_APP_SHARED_VOLUME_PATH", T_STR, NULL, 0, 0, CF_LOG, 0 },
	[S_LOG_FORMAT] =	{ "PING_PONG_LOG_FORMAT", T_CHOICE, "text", 0, 0, ALL, 0, "text|json" },
	[S_ACCESS_LOG_PROBES] =	{ "PING_PONG_ACCESS_LOG_PROBES", T_BOOL, "off", 0, 0, CF_LAUNCH, 0 },
	[S_USER] =		{ "PING_PONG_USER", T_STR, NULL, 0, 0, ALL, 0 },
};

/* Settings whose default is another setting's value (unset = follow it). */
static const struct { enum setting s, from; } follows[] = {
	{ S_LOG_PP_PORT, S_APP_PORT },	/* role all: log-output asks this stack */
	{ S_USER, S_NGINX_USER },	/* one unprivileged user for the stack */
};

/* Prefixes of the names this table owns: an unknown one is a typo. */
static const char *const prefixes[] = { "PING_PONG_", "AUTH_PROXY_", "LOG_APP_" };

#define WARN_MAX	16	/* warnings kept; the rest are counted */

static char	*values[S__MAX];	/* owned copies; NULL when unset */
static long	 ints[S__MAX];
static int	 given[S__MAX];
static char	*raw[S__MAX];		/* as given (environment or .env), for config_export */
static char	*dotenv_values[S__MAX];
static int	 nomem;			/* a strdup failed while reading */
static unsigned	 unclosed;		/* the first .env line whose quote does not close */
static char	 warnings[WARN_MAX][200];
static int	 nwarnings;

static int
find_row(const char *env)
{
	for (int i = 0; i < S__MAX; i++)
		if (strcmp(rows[i].env, env) == 0)
			return i;
	return -1;
}

/* Edit distance between a and b (each up to 63 bytes are compared). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strnlen(a, 63), lb = strnlen(b, 63), prev[64], cur[64];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

/* The valid setting closest to name. */
static const char *
closest(const char *name)
{
	size_t best = (size_t)-1;
	const char *found = rows[0].env;

	for (int i = 0; i < S__MAX; i++) {
		size_t d = distance(name, rows[i].env);

		if (d < best) {
			best = d;
			found = rows[i].env;
		}
	}
	return found;
}

static void
warn_keep(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
warn_keep(const char *fmt, ...)
{
	va_list ap;

	if (nwarnings++ >= WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(warnings[nwarnings - 1], sizeof(warnings[0]), fmt, ap);
	va_end(ap);
}

/* An unknown name with one of our prefixes: kept as a warning. */
static void
check_name(const char *name, size_t len, const char *where)
{
	char key[64];

	if (len >= sizeof(key))
		len = sizeof(key) - 1;
	memcpy(key, name, len);
	key[len] = '\0';
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
		if (strncmp(key, prefixes[p], strlen(prefixes[p])) == 0 &&
		    find_row(key) < 0) {
			warn_keep("unknown setting %s in %s, ignored; the closest setting is %s",
			    key, where, closest(key));
			return;
		}
}

static void
dotenv_keep(const char *key, const char *value, void *arg)
{
	int i = find_row(key);

	(void)arg;
	if (i < 0) {
		check_name(key, strlen(key), ".env");
		return;
	}
	free(dotenv_values[i]);
	if ((dotenv_values[i] = strdup(value)) == NULL)
		nomem = 1;
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
		warn_keep(".env line %u is not NAME=value, ignored", lineno);
	else
		warn_keep(".env line %u is not NAME=value, ignored (it starts with %s; the closest setting is %s)",
		    lineno, word, closest(word));
}

/* Every name of the environment with one of our prefixes must be a setting. */
static void
check_environment(void)
{
	extern char **environ;

	for (char **e = environ; *e != NULL; e++)
		check_name(*e, strcspn(*e, "="), "the environment");
}

/* Reads ./.env if present; a missing file is normal, an unreadable one is not. */
static int
dotenv_read(char *err, size_t errlen)
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
	dotenv_parse(buf, (size_t)n, dotenv_keep, dotenv_bad, NULL);
	explicit_bzero(buf, sizeof(buf));
	if (unclosed != 0) {
		snprintf(err, errlen, ".env line %u: a quoted value is not closed on its line "
		    "(a value is one line; in double quotes, a newline is written backslash n)", unclosed);
		return -1;
	}
	return 0;
}

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

/* Reads a secret file into *out (trailing newlines dropped). */
static int
read_secret_file(const char *path, char **out, char *why, size_t whylen)
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

/* Validates one value; on failure fills err. */
static int
validate(int i, const char *v, char *err, size_t errlen)
{
	const struct row *r = &rows[i];
	const char *shown = r->secret ? "<hidden>" : v;
	char why[128];

	switch (r->type) {
	case T_STR:
		return 0;
	case T_PORT:
	case T_INT:
		if (parse_long(v, r->min, r->max, &ints[i]) == 0)
			return 0;
		snprintf(err, errlen, "%s=%s is invalid: expected an integer from %ld to %ld",
		    r->env, shown, r->min, r->max);
		return -1;
	case T_LEVEL:
		if ((ints[i] = log_level_parse(v)) >= 0)
			return 0;
		snprintf(err, errlen, "%s=%s is invalid: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case)",
		    r->env, shown);
		return -1;
	case T_BOOL:
		if ((ints[i] = parse_bool(v)) >= 0)
			return 0;
		snprintf(err, errlen, "%s=%s is invalid: expected on or off (also true/false, yes/no, 1/0)",
		    r->env, shown);
		return -1;
	case T_CHOICE: {
		/*
		 * Whole words only: "auto|client_secret" is not a choice.  Any
		 * case, like levels (JSON is json); the value is kept as listed.
		 */
		size_t n = strlen(v);
		long k = 0;

		for (const char *c = r->choices; *c != '\0'; c += *c == '|', k++) {
			size_t w = strcspn(c, "|");

			if (w == n && n > 0 && strncasecmp(c, v, n) == 0) {
				ints[i] = k;
				if (v == values[i])
					memcpy(values[i], c, n);
				return 0;
			}
			c += w;
		}
		snprintf(err, errlen, "%s=%s is invalid: expected one of %s",
		    r->env, shown, r->choices);
		return -1;
	}
	case T_FILE:
		if (*v == '\0' || access(v, R_OK) == 0)
			return 0;
		snprintf(why, sizeof(why), "%s", strerror(errno));
		snprintf(err, errlen, "%s=%s is invalid: expected a readable file (%s)",
		    r->env, shown, why);
		return -1;
	case T_URL:
		/* nginx's config is rendered from it: nothing may end a directive or start a variable. */
		if (*v == '\0' || ((strncmp(v, "http://", 7) == 0 ||
		    strncmp(v, "https://", 8) == 0) && !has_unsafe(v, " ;'\"{}$\\")))
			return 0;
		snprintf(err, errlen, "%s=%s is invalid: expected an http:// or https:// URL "
		    "without spaces, control characters, quotes, braces, ;, $ or \\", r->env, shown);
		return -1;
	case T_NGINX:
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
	case T_HOSTS:
	case T_PORTS:
		if (check_list(v, r->type == T_PORTS, &ints[i], why, sizeof(why)) == 0)
			return 0;
		snprintf(err, errlen, r->type == T_PORTS ?
		    "%s=%s is invalid: expected an integer from 1 to 65535, or a "
		    "comma-separated list of them, one per host (%s)" :
		    "%s=%s is invalid: expected a host name, address or socket "
		    "directory, or a comma-separated list of them (%s)",
		    r->env, shown, why);
		return -1;
	}
	return -1;
}

/*
 * Role all: nginx serves three roles, one port each; two on one port would
 * answer one role's requests with the other's (nginx takes the first
 * server block of a port as its default).
 */
static int
check_ports(unsigned owners, char *err, size_t errlen)
{
	static const enum setting ports[] = { S_APP_PORT, S_AUTH_PORT, S_LOG_PORT };
	size_t n = sizeof(ports) / sizeof(ports[0]);

	if ((owners & ALL) != ALL || values[S_ROLE] == NULL ||
	    strcmp(values[S_ROLE], "all") != 0)
		return 0;
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (ints[ports[a]] == ints[ports[b]]) {
				snprintf(err, errlen, "%s=%ld is invalid: expected a port of its own "
				    "(%s=%ld: role all serves both, one port each)",
				    rows[ports[b]].env, ints[ports[b]], rows[ports[a]].env,
				    ints[ports[a]]);
				return -1;
			}
	return 0;
}

int
config_load(unsigned owners, char *err, size_t errlen)
{
	char why[128];

	nwarnings = 0;
	/* Handed over by the launcher (config_export): .env was read once, by it. */
	if (getenv(PP_SETTINGS_RESOLVED) == NULL) {
		if (dotenv_read(err, errlen) == -1)
			return -1;
		check_environment();
	}
	for (int i = 0; i < S__MAX; i++) {
		const char *v = getenv(rows[i].env);

		if (v == NULL)
			v = dotenv_values[i];
		given[i] = v != NULL;
		free(raw[i]);
		raw[i] = NULL;
		if (v != NULL && (raw[i] = strdup(v)) == NULL)
			nomem = 1;
		if (v == NULL)
			v = rows[i].def;
		free(values[i]);
		values[i] = NULL;
		if (v != NULL && (values[i] = strdup(v)) == NULL)
			nomem = 1;
	}
	for (size_t f = 0; f < sizeof(follows) / sizeof(follows[0]); f++) {
		int to = follows[f].s, from = follows[f].from;

		if (!given[to] && values[from] != NULL) {
			free(values[to]);
			if ((values[to] = strdup(values[from])) == NULL)
				nomem = 1;
		}
	}
	if (nomem) {
		snprintf(err, errlen, "out of memory reading the settings");
		return -1;
	}
	for (int i = 0; i < S__MAX; i++) {
		if ((rows[i].owners & owners) == 0 || values[i] == NULL)
			continue;
		if (validate(i, values[i], err, errlen) == -1)
			return -1;
	}
	if (check_ports(owners, err, errlen) == -1)
		return -1;
	/* libpq takes one port for every host, or one port per host. */
	if ((rows[S_DB_PORT].owners & owners) && ints[S_DB_PORT] != 1 &&
	    ints[S_DB_PORT] != ints[S_DB_HOST]) {
		snprintf(err, errlen, "%s=%s is invalid: expected one port for every "
		    "host or one per host (%ld ports for the %ld hosts of %s=%s)",
		    rows[S_DB_PORT].env, values[S_DB_PORT], ints[S_DB_PORT],
		    ints[S_DB_HOST], rows[S_DB_HOST].env, values[S_DB_HOST]);
		return -1;
	}
	if ((owners & CF_APP) && config_is_set(S_DB_PASSWORD_FILE) &&
	    *values[S_DB_PASSWORD_FILE] != '\0') {
		char *secret = NULL;

		if (read_secret_file(values[S_DB_PASSWORD_FILE], &secret, why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "%s=%s is invalid: expected a readable file (%s)",
			    rows[S_DB_PASSWORD_FILE].env, values[S_DB_PASSWORD_FILE], why);
			return -1;
		}
		free(values[S_DB_PASSWORD]);
		values[S_DB_PASSWORD] = secret;
	}
	return 0;
}

int
config_export(void)
{
	for (int i = 0; i < S__MAX; i++)
		if (given[i] && setenv(rows[i].env, raw[i], 1) == -1)
			return -1;
	return setenv(PP_SETTINGS_RESOLVED, "1", 1);
}

const char *
config_str(enum setting s)
{
	return values[s] != NULL ? values[s] : "";
}

long
config_int(enum setting s)
{
	return ints[s];
}

long
config_request_budget_ms(void)
{
	return ints[S_DB_CONNECT_TIMEOUT] * 1000 + ints[S_DB_STATEMENT_TIMEOUT];
}

int
config_is_set(enum setting s)
{
	return given[s];
}

const char *
config_env_name(enum setting s)
{
	return rows[s].env;
}

void
config_warn(void)
{
	int kept = nwarnings < WARN_MAX ? nwarnings : WARN_MAX;

	for (int w = 0; w < kept; w++)
		log_warning(NULL, "configuration: %s", warnings[w]);
	if (nwarnings > kept)
		log_warning(NULL, "configuration: %d more warnings not shown", nwarnings - kept);
}

unsigned
config_role_owners(const char *role)
{
	static const struct { const char *role; unsigned owners; } roles[] = {
		{ "app", CF_APP | CF_LAUNCH },
		{ "authproxy", CF_AUTH | CF_LAUNCH },
		{ "log-output", CF_LOG | CF_LAUNCH },
		{ "all", ALL },
	};

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcasecmp(role, roles[i].role) == 0)
			return roles[i].owners;
	return 0;
}

/* The value as it means: booleans on/off, levels in capitals, numbers as parsed. */
static const char *
normalised(int i, char *buf, size_t len)
{
	if (values[i] == NULL)
		return "";
	if (rows[i].secret)
		return *values[i] != '\0' ? "********" : "";
	switch (rows[i].type) {
	case T_BOOL:
		return ints[i] ? "on" : "off";
	case T_LEVEL:
		return log_level_name((enum log_level)ints[i]);
	case T_PORT:
	case T_INT:
		snprintf(buf, len, "%ld", ints[i]);
		return buf;
	case T_STR:
	case T_NGINX:
	case T_CHOICE:
	case T_FILE:
	case T_URL:
	case T_HOSTS:
	case T_PORTS:
		break;
	}
	return values[i];
}

/* Writes v in single quotes, each ' as '\'' (safe for a shell's eval). */
static void
print_quoted(FILE *fp, const char *v)
{
	fputc('\'', fp);
	for (; *v != '\0'; v++)
		if (*v == '\'')
			fputs("'\\''", fp);
		else
			fputc(*v, fp);
	fputc('\'', fp);
}

/* What the launcher derives from the settings, computed here so it reads them once. */
static void
print_derived(FILE *fp)
{
	/* make run starts a private database only when no host was given. */
	fprintf(fp, "cfg_db_host_given=%d\n", given[S_DB_HOST]);
	fprintf(fp, "cfg_workers_started=%ld\n", config_workers_started());
	fprintf(fp, "cfg_fcgi_read_timeout=%ld\n", config_fcgi_read_timeout());
}

void
config_print(FILE *fp, unsigned owners, int shell)
{
	char buf[32];

	for (int i = 0; i < S__MAX; i++) {
		if ((rows[i].owners & owners) == 0)
			continue;
		if (!shell) {
			fprintf(fp, "%s=%s\n", rows[i].env, normalised(i, buf, sizeof(buf)));
			continue;
		}
		fprintf(fp, "cfg_%s=", rows[i].env);
		print_quoted(fp, normalised(i, buf, sizeof(buf)));
		fputc('\n', fp);
	}
	if (shell)
		print_derived(fp);
}

/* Base name of argv[0], the component of the lines written before serving. */
static const char *
program_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return slash != NULL ? slash + 1 : argv0;
}

/* Loads the owners' settings; on failure one CRITICAL line, in the format asked for when it is valid. */
static int
load_or_say(const char *name, unsigned owners)
{
	char err[512];

	if (config_load(owners, err, sizeof(err)) == 0)
		return 0;
	/* The format asked for, unless that is the setting in error. */
	if (values[S_LOG_FORMAT] != NULL && strcasecmp(values[S_LOG_FORMAT], "json") == 0)
		log_init(name, PP_LOG_INFO, PP_LOG_JSON);
	log_msg(PP_LOG_CRITICAL, NULL, "configuration error: %s", err);
	return -1;
}

int
config_launch(const char *name, const char *role)
{
	log_init(name, PP_LOG_INFO, PP_LOG_TEXT);
	/* The launcher's role: its argument, else PING_PONG_ROLE. */
	if (role != NULL && config_role_owners(role) == 0) {
		log_msg(PP_LOG_CRITICAL, NULL, "configuration error: role '%s' is invalid: "
		    "expected app, authproxy, log-output or all", role);
		return 2;
	}
	if (role != NULL && setenv("PING_PONG_ROLE", role, 1) == -1)
		return 2;
	if (load_or_say(name, CF_LAUNCH) == -1 ||
	    load_or_say(name, config_role_owners(config_str(S_ROLE))) == -1)
		return 2;
	log_init(name, (enum log_level)ints[S_LOG_LEVEL], (enum log_format)ints[S_LOG_FORMAT]);
	return 0;
}

long
config_workers_started(void)
{
	/* Each worker holds one connection: a replica opens at most the budget. */
	return ints[S_WORKERS] < ints[S_DB_MAX_CONNECTIONS] ? ints[S_WORKERS] :
	    ints[S_DB_MAX_CONNECTIONS];
}

long
config_fcgi_read_timeout(void)
{
	/* A worker answers within its request budget; nginx waits a bit more. */
	return (config_request_budget_ms() + 999) / 1000 + PP_FCGI_READ_MARGIN_S;
}

int
config_main(int argc, char *argv[], unsigned owners)
{
	const char *name = argc > 0 ? program_name(argv[0]) : "pingpong";
	int shell = argc >= 2 && strcmp(argv[1], "--print-config=shell") == 0;

	if ((shell && argc > 3) || (!shell && (argc > 2 || (argc == 2 &&
	    strcmp(argv[1], "--check-config") != 0 &&
	    strcmp(argv[1], "--print-config") != 0)))) {
		fprintf(stderr, "usage: %s [--check-config | --print-config | --print-config=shell [ROLE]]\n"
		    "  Runs under spawn-fcgi (the listen socket is fd 0); settings come\n"
		    "  from the environment and ./.env (README.md, Configuration).\n", name);
		return 2;
	}
	/*
	 * The launcher's shell question, and its --check-config: the role's
	 * settings and what holds between them (two roles on one port), as a
	 * start checks them; a check that passed must not meet a refusal.
	 */
	if (shell || (owners == CF_LAUNCH && argc == 2 && strcmp(argv[1], "--check-config") == 0)) {
		if (config_launch(name, argc == 3 ? argv[2] : NULL) != 0)
			return 2;
		owners = config_role_owners(config_str(S_ROLE));
	} else {
		log_init(name, PP_LOG_INFO, PP_LOG_TEXT);
		if (load_or_say(name, owners) == -1)
			return 2;
		log_init(name, (enum log_level)ints[S_LOG_LEVEL], (enum log_format)ints[S_LOG_FORMAT]);
	}
	/* The launcher warned once already; its children stay quiet. */
	if (getenv("PP_CONFIG_WARNED") == NULL)
		config_warn();
	if (argc >= 2 && strcmp(argv[1], "--check-config") != 0)
		config_print(stdout, owners, shell);
	return argc >= 2 ? 0 : -1;
}
