/* config.c: the settings table, read from the environment and ./.env, each owner's values validated, the checks between settings. */
#include <stdlib.h>
#include <string.h>

#include "configrow.h"

/* One row per setting; docs/configuration.md's table mirrors it (t/09-docs.t checks). */
static const struct row rows[S__MAX] = {
	[S_ROLE] =		{ "PING_PONG_ROLE", T_CHOICE, "all", 0, 0, CF_LAUNCH, 0, "app|authproxy|log-output|all" },
	/*
	 * The launcher's runtime directory (its lock, nginx's config, the
	 * sockets).  Each program it starts gets that directory's state/ under
	 * this same name (the launcher's pool()), and keeps its files in the
	 * directory it was given (config_state_dir).  The name stays: t/18 and
	 * t/23 start programs alone with it set to their own directory, so a
	 * name of its own for the programs would change those tests.
	 */
	[S_RUNTIME_DIR] =	{ "PING_PONG_RUNTIME_DIR", T_NGINX, "./var/run", 0, 0, CF_LAUNCH, 0 },
	[S_APP_PORT] =		{ "PING_PONG_APP_PORT", T_PORT, "3000", 1, 65535, CF_APP | CF_LAUNCH, 0 },
	[S_LOG_LEVEL] =		{ "PING_PONG_LOG_LEVEL", T_LEVEL, "INFO", 0, 0, CF_ALL, 0 },
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
	[S_NGINX_USER] =	{ "PING_PONG_NGINX_USER", T_STR, "www-data", 0, 0, CF_ALL, 0 },
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
	[S_LOG_FORMAT] =	{ "PING_PONG_LOG_FORMAT", T_CHOICE, "text", 0, 0, CF_ALL, 0, "text|json" },
	[S_ACCESS_LOG_PROBES] =	{ "PING_PONG_ACCESS_LOG_PROBES", T_BOOL, "off", 0, 0, CF_LAUNCH, 0 },
	[S_USER] =		{ "PING_PONG_USER", T_STR, NULL, 0, 0, CF_ALL, 0 },
};

/* Settings whose default is another setting's value (unset = follow it). */
static const struct { enum setting s, from; } follows[] = {
	{ S_LOG_PP_PORT, S_APP_PORT },	/* role all: log-output asks this stack */
	{ S_USER, S_NGINX_USER },	/* one unprivileged user for the stack */
};

static char	*values[S__MAX];	/* owned copies; NULL when unset */
static long	 ints[S__MAX];		/* numbers, booleans, choices; a list's length */
static int	 given[S__MAX];
static char	*raw[S__MAX];		/* as given (environment or .env), for config_export */

const struct row *
config_row(enum setting s)
{
	return &rows[s];
}

int
config_find(const char *env)
{
	for (int i = 0; i < S__MAX; i++)
		if (strcmp(rows[i].env, env) == 0)
			return i;
	return -1;
}

/* A copy of v into *to (NULL for NULL), the old one freed; 0, or -1 out of memory. */
static int
replace(char **to, const char *v)
{
	free(*to);
	*to = NULL;
	return v != NULL && (*to = strdup(v)) == NULL ? -1 : 0;
}

/* Every row's value: the environment's, else .env's, else the default (or the setting it follows). */
static int
read_values(void)
{
	int nomem = 0;

	for (int i = 0; i < S__MAX; i++) {
		const char *v = getenv(rows[i].env);

		if (v == NULL)
			v = config_dotenv_value(i);
		given[i] = v != NULL;
		if (replace(&raw[i], v) == -1)
			nomem = 1;
		if (replace(&values[i], v != NULL ? v : rows[i].def) == -1)
			nomem = 1;
	}
	for (size_t f = 0; f < sizeof(follows) / sizeof(follows[0]); f++) {
		int to = follows[f].s, from = follows[f].from;

		if (!given[to] && values[from] != NULL && replace(&values[to], values[from]) == -1)
			nomem = 1;
	}
	return nomem ? -1 : 0;
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

	if ((owners & CF_ALL) != CF_ALL || values[S_ROLE] == NULL ||
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

/* libpq takes one port for every host, or one port per host. */
static int
check_db_ports(unsigned owners, char *err, size_t errlen)
{
	if ((rows[S_DB_PORT].owners & owners) && ints[S_DB_PORT] != 1 &&
	    ints[S_DB_PORT] != ints[S_DB_HOST]) {
		snprintf(err, errlen, "%s=%s is invalid: expected one port for every "
		    "host or one per host (%ld ports for the %ld hosts of %s=%s)",
		    rows[S_DB_PORT].env, values[S_DB_PORT], ints[S_DB_PORT],
		    ints[S_DB_HOST], rows[S_DB_HOST].env, values[S_DB_HOST]);
		return -1;
	}
	return 0;
}

/* The worker's password from PING_PONG_DB_PASSWORD_FILE, when one is given. */
static int
read_password_file(unsigned owners, char *err, size_t errlen)
{
	char why[128], *secret = NULL;

	if (!(owners & CF_APP) || !given[S_DB_PASSWORD_FILE] ||
	    *values[S_DB_PASSWORD_FILE] == '\0')
		return 0;
	if (config_secret_read(values[S_DB_PASSWORD_FILE], &secret, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s=%s is invalid: expected a readable file (%s)",
		    rows[S_DB_PASSWORD_FILE].env, values[S_DB_PASSWORD_FILE], why);
		return -1;
	}
	free(values[S_DB_PASSWORD]);
	values[S_DB_PASSWORD] = secret;
	return 0;
}

int
config_load(unsigned owners, char *err, size_t errlen)
{
	static int nomem;	/* a copy failed while reading, ever */

	config_warn_reset();
	/* Handed over by the launcher (config_export): .env was read once, by it. */
	if (getenv(PP_SETTINGS_RESOLVED) == NULL) {
		if (config_dotenv_read(&nomem, err, errlen) == -1)
			return -1;
		config_check_environment();
	}
	if (read_values() == -1)
		nomem = 1;
	if (nomem) {
		snprintf(err, errlen, "out of memory reading the settings");
		return -1;
	}
	for (int i = 0; i < S__MAX; i++) {
		if ((rows[i].owners & owners) == 0 || values[i] == NULL)
			continue;
		if (config_validate(&rows[i], values[i], &ints[i], err, errlen) == -1)
			return -1;
	}
	if (check_ports(owners, err, errlen) == -1 || check_db_ports(owners, err, errlen) == -1)
		return -1;
	return read_password_file(owners, err, errlen);
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
config_value(enum setting s)
{
	return values[s];
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

int
config_is_set(enum setting s)
{
	return given[s];
}

long
config_db_host_count(void)
{
	return ints[S_DB_HOST];
}

const char *
config_env_name(enum setting s)
{
	return rows[s].env;
}
