/* nginxconf.c: nginx's config for the role: the placeholders' values from the settings and the build's limits, the templates rendered and written; the healthcheck's path; the setting behind a port nginx could not bind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "launch.h"
#include "nginxconf.h"
#include "render.h"
#include "smallfile.h"

#define TEMPLATE_MAX	(64 * 1024)
#define VARS_MAX	128	/* pp_limits.env's lines and the settings' (57 in all in 2026-12) */

static struct subst vars[VARS_MAX];	/* the placeholders' values, for every template */
static size_t	 nvars;

static void
var(const char *name, const char *value)
{
	if (nvars == VARS_MAX)
		fatal("more than %d placeholders", VARS_MAX);
	vars[nvars++] = (struct subst){ name, value };
}

/* The limits the programs were built with (pp_limits.env, NAME=value): the templates' @PP_...@ placeholders. */
static int
read_limits(const char *libexec)
{
	static char text[4096];
	char *path = keep("%s/pp_limits.env", libexec), *line, *save = NULL;

	if (smallfile_read(path, 0, text, sizeof(text)) == -1) {
		log_msg(PP_LOG_CRITICAL, NULL, "%s: %s: build the programs (make all)", path,
		    strerror(errno));
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		var(line, eq + 1);
	}
	return 0;
}

/* Renders share/nginx/<name>.conf.in with extra (NAME, VALUE pairs) first, then vars; NULL after one line. */
static char *
render_template(const char *share, const char *name, const struct subst *extra, size_t nextra)
{
	static char text[TEMPLATE_MAX];
	struct subst all[VARS_MAX + 4];
	char *path = keep("%s/nginx/%s.conf.in", share, name), *out, why[128];

	if (smallfile_read(path, 0, text, sizeof(text)) == -1) {
		log_msg(PP_LOG_CRITICAL, NULL, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (nextra > 0)
		memcpy(all, extra, nextra * sizeof(*extra));
	memcpy(all + nextra, vars, nvars * sizeof(*vars));
	if (render(text, all, nextra + nvars, &out, why, sizeof(why)) == -1) {
		log_msg(PP_LOG_CRITICAL, NULL, "%s: %s", path, why);
		return NULL;
	}
	return own(out);
}

/* Writes a file the stack makes in its runtime directory (never through a link); 0, or -1 after one line. */
static int
write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) == -1)
		rc = -1;
	else {
		ssize_t n = write(fd, text, len);

		if (n != (ssize_t)len) {
			if (n >= 0)
				errno = ENOSPC;	/* a short write sets none */
			rc = -1;
		}
		if (close(fd) == -1)
			rc = -1;
	}
	if (rc == -1)
		log_error(NULL, "cannot write %s: %s", path, strerror(errno));
	return rc;
}

/* The upstream of 8080 (the parser allows nothing in it that could end the directive); without one, a clear 503. */
static const char *
prometheus_pass(void)
{
	const char *prom = config_str(S_AUTH_PROMETHEUS_URL);
	size_t len = strlen(prom);

	return *prom != '\0' ?
	    keep("            proxy_pass %.*s/api/v1/;", (int)(len - (prom[len - 1] == '/')), prom) :
	    "            return 503 '{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"AUTH_PROXY_PROMETHEUS_URL is not set\"}\\n';";
}

int
nginxconf_values(const struct stack *st)
{
	const char *access_log;

	var("USER", st->user != NULL ? keep("user %s %s;", st->user, st->group) : "");
	if (read_limits(st->libexec) == -1)
		return -1;
	var("RUNDIR", st->rundir);
	var("STATEDIR", st->statedir);
	var("LISTEN", config_str(S_LISTEN_ADDRESS));
	var("APP_PORT", keep("%ld", config_int(S_APP_PORT)));
	var("AUTH_PORT", keep("%ld", config_int(S_AUTH_PORT)));
	var("LOG_PORT", keep("%ld", config_int(S_LOG_PORT)));
	var("FCGI_READ_TIMEOUT", keep("%ld", config_fcgi_read_timeout()));
	var("NGINX_WORKERS", keep("%ld", config_int(S_NGINX_WORKERS)));
	var("AUTH_TIMEOUT", keep("%ld", config_int(S_AUTH_TIMEOUT)));
	var("BENCH", getenv("PP_BENCH") != NULL && strcmp(getenv("PP_BENCH"), "1") == 0 ?
	    "        location = /__bench/static { default_type text/plain; return 200 \"pong 0\\n\"; }" : "");
	var("PROMETHEUS_PASS", prometheus_pass());
	/*
	 * nginx's access log: a record per request into a FIFO that
	 * supervise_main makes and reads (accesslog.c): the access lines (on
	 * stdout, when PING_PONG_ACCESS_LOG is on), the answers counted for
	 * /metrics, the auth proxy's refused-token line.  A server block with
	 * an access_log of its own needs the line repeated, as server-level
	 * directives replace http-level ones.
	 */
	access_log = keep("%s/access.fifo pp_record buffer=4k flush=1s", st->rundir);
	var("ACCESS_LOG", access_log);
	var("SERVER_ACCESS_LOG", keep("access_log %s;", access_log));
	return 0;
}

/* One server block: errors.conf.in for part (NULL: none) rendered into name.conf.in as @ERRORS@; NULL after one line. */
static char *
server(const struct stack *st, const char *name, const char *part)
{
	char *errors = NULL;

	if (part == NULL)
		return render_template(st->share, name, NULL, 0);
	if ((errors = render_template(st->share, "errors", (struct subst[]){ { "PART", part } }, 1)) == NULL)
		return NULL;
	return render_template(st->share, name, (struct subst[]){ { "ERRORS", errors } }, 1);
}

int
nginxconf_write(const struct stack *st)
{
	char *servers = keep("%s", ""), *part, *conf;

	if (st->app) {
		if ((part = server(st, "app", "worker")) == NULL)
			return -1;
		servers = keep("%s%s\n", servers, part);
	}
	if (st->auth) {
		if ((part = server(st, "authproxy", NULL)) == NULL)
			return -1;
		servers = keep("%s%s\n", servers, part);
	}
	if (st->logoutput) {
		if ((part = server(st, "logoutput", "log-output")) == NULL)
			return -1;
		servers = keep("%s%s\n", servers, part);
	}
	if ((conf = render_template(st->share, "nginx", (struct subst[]){ { "SERVERS", servers } }, 1)) == NULL ||
	    write_file(keep("%s/nginx.conf", st->rundir), conf) == -1)
		return -1;
	if (mkdir(keep("%s/nginx", st->rundir), 0755) == -1) {
		log_error(NULL, "cannot make %s/nginx: %s", st->rundir, strerror(errno));
		return -1;
	}
	return 0;
}

int
nginxconf_healthcheck(const struct stack *st)
{
	/* The role's readiness path: the app's, else the auth proxy's liveness, else log-output's. */
	return write_file(keep("%s/healthcheck", st->rundir), st->app ?
	    keep("%ld /health/ready\n", config_int(S_APP_PORT)) : st->auth ?
	    keep("%ld /health/live\n", config_int(S_AUTH_PORT)) :
	    keep("%ld /health/ready\n", config_int(S_LOG_PORT)));
}

const char *
nginxconf_taken_port(const char *said, long *port)
{
	/* The ports of the role's listeners only: another role's may hold the same number. */
	static const struct { enum setting port; const char *role; } ports[] = {
		{ S_APP_PORT, "app" }, { S_AUTH_PORT, "authproxy" }, { S_LOG_PORT, "log-output" },
	};
	const char *at = strstr(said, "bind() to "), *end, *role = config_str(S_ROLE);
	int all = strcmp(role, "all") == 0;

	if (at == NULL || strstr(at, "Address already in use") == NULL ||
	    (end = strstr(at, " failed")) == NULL)
		return NULL;
	while (end > at && end[-1] != ':')
		end--;
	*port = strtol(end, NULL, 10);
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if ((all || strcmp(ports[i].role, role) == 0) && config_int(ports[i].port) == *port)
			return config_env_name(ports[i].port);
	return NULL;
}
