/* launch.c: the launcher: settings read once, its runtime directory taken, nginx's config rendered, the parts handed to supervise.c. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "privdrop.h"
#include "render.h"
#include "rundir.h"
#include "smallfile.h"
#include "supervise.h"

/*
 * pingpong-supervise [ROLE]: bin/pingpong execs it with PP_LIBEXEC (the
 * programs) and PP_SHARE (nginx/ holds the templates) set.  It reads the settings
 * once (common/config.c: environment, then ./.env), takes the runtime
 * directory (rundir.c), renders nginx's config from the templates
 * (render.c), and runs the role's parts under supervise.c, in this pid:
 *
 *   app: the worker pool (spawn-fcgi + multiwatch), then nginx on PING_PONG_APP_PORT
 *   authproxy: the token helper, then nginx on AUTH_PROXY_PORT
 *   log-output: log-output, then nginx on LOG_APP_PORT
 *   all: the three pools, then one nginx serving the three ports
 *
 * Every part gets the same resolved settings (config_export), so a worker
 * multiwatch starts again runs on the first one's.
 */

#define TEMPLATE_MAX	(64 * 1024)
#define ARGS_MAX	192
#define VARS_MAX	64
#define KEPT_MAX	256

static char	*args[ARGS_MAX];	/* supervise_main's argv */
static int	 nargs;
static struct subst vars[VARS_MAX];	/* the placeholders' values, for every template */
static size_t	 nvars;
static struct rundir rd;
/*
 * What the launcher allocates (the parts' argv, the placeholders' values,
 * the rendered text) lives as long as it does: one list holds it all, so
 * none of it is ever unreachable (LeakSanitizer, make test SAN=1).
 */
static void	*kept[KEPT_MAX];
static int	 nkept;

static void *
own(void *p)
{
	if (p == NULL)
		fatal("out of memory");
	if (nkept == KEPT_MAX)
		fatal("more than %d allocations to keep: raise KEPT_MAX", KEPT_MAX);
	return kept[nkept++] = p;
}

/* A formatted string that lives as long as the launcher. */
static char *
keep(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
keep(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	return own(s);
}

static void
arg(const char *a)
{
	if (nargs == ARGS_MAX - 1)
		fatal("more than %d arguments for the parts", ARGS_MAX - 1);
	args[nargs++] = (char *)(uintptr_t)a;
	args[nargs] = NULL;
}

static void
var(const char *name, const char *value)
{
	if (nvars == VARS_MAX)
		fatal("more than %d placeholders", VARS_MAX);
	vars[nvars++] = (struct subst){ name, value };
}

/* The full path of a command on PATH (spawn-fcgi execs its program without searching). */
static const char *
on_path(const char *cmd)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0'; ) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, cmd);
		if (n > 0 && access(buf, X_OK) == 0)
			return keep("%s", buf);
		p += n + (p[n] == ':');
	}
	return cmd;
}

/* The limits the programs were built with (pp_limits.env, NAME=bytes): nginx's sizes are rendered from them. */
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

/* Renders share/nginx/<name>.conf.in with vars and extra (NAME, VALUE pairs) first; NULL after one line. */
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

/* Writes a file the stack makes in its runtime directory (never through a link). */
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

/* A pool: spawn-fcgi binds the socket and multiwatch keeps forks copies of program running. */
static void
pool(const char *name, const char *sock, long forks, const char *program,
    const char *statedir, const char *user)
{
	const char *wrap = getenv("PP_WRAP");	/* make valgrind: run each program under it */
	char *full;

	arg(name);
	arg(keep("%s/%s", rd.path, sock));
	arg("TERM");
	arg("--");
	arg("env");
	arg(keep("PING_PONG_RUNTIME_DIR=%s", statedir));
	arg(keep("PP_STACK_READY=%s/nginx.pid", rd.path));	/* log-output waits for it */
	arg("spawn-fcgi");
	arg("-s");
	arg(keep("%s/%s", rd.path, sock));
	arg("-M");
	arg("0600");
	if (user != NULL) {
		arg("-U");	/* the socket: nginx's workers' only */
		arg(user);
	}
	arg("-n");
	arg("--");
	arg(on_path("multiwatch"));
	arg("-f");
	arg(keep("%ld", forks));
	arg("-r");
	arg("10");
	arg("-t");
	arg("1000");
	arg("--");
	if (wrap != NULL && *wrap != '\0')
		arg((full = realpath(wrap, NULL)) != NULL ? own(full) : wrap);
	arg(program);
	arg(";");
}

static int
usage(void)
{
	fprintf(stderr, "usage: pingpong [app|authproxy|log-output|all]   (bin/pingpong)\n"
	    "       pingpong-supervise [ROLE] | --check-config | --print-config | --print-config=shell [ROLE]\n"
	    "       pingpong-supervise --log LEVEL MESSAGE\n");
	return 2;
}

/* The stack: returns the exit status. */
static int
launch(const char *role_arg)
{
	const char *libexec = getenv("PP_LIBEXEC"), *share = getenv("PP_SHARE");
	const char *role, *listen, *prom, *user = NULL;
	const char *access_log;
	char *statedir, *servers, *conf, *part, *says[3];
	struct passwd *pw = NULL;
	struct group *gr;
	int rc, app, auth, lo, nsays = 0;
	size_t len;

	if ((rc = config_launch("launcher", role_arg)) != 0)
		return rc;
	if (getenv("PP_CONFIG_WARNED") == NULL)
		config_warn();
	if (config_export() == -1)
		fatal("config_export: %s", strerror(errno));
	if (libexec == NULL || share == NULL) {
		log_msg(PP_LOG_CRITICAL, NULL, "PP_LIBEXEC and PP_SHARE are not set: start the stack with bin/pingpong");
		return 2;
	}
	role = config_str(S_ROLE);
	app = strcmp(role, "app") == 0 || strcmp(role, "all") == 0;
	auth = strcmp(role, "authproxy") == 0 || strcmp(role, "all") == 0;
	lo = strcmp(role, "log-output") == 0 || strcmp(role, "all") == 0;
	if (geteuid() == 0) {
		/* The programs get the ids, not the name: resolving a name maps the name service's modules into every worker. */
		if ((pw = getpwnam(config_str(S_USER))) == NULL || (gr = getgrgid(pw->pw_gid)) == NULL) {
			log_error(NULL, "PING_PONG_USER=%s is not a user of this system", config_str(S_USER));
			return 2;
		}
		user = keep("%s", pw->pw_name);
		var("USER", keep("user %s %s;", pw->pw_name, gr->gr_name));
		setenv("PING_PONG_USER", keep("%ld:%ld", (long)pw->pw_uid, (long)pw->pw_gid), 1);
	} else
		var("USER", "");
	if ((rc = rundir_open(&rd, config_str(S_RUNTIME_DIR), pw != NULL ? pw->pw_uid : geteuid(),
	    pw != NULL ? pw->pw_gid : getegid())) != 0)
		return rc;
	rc = 1;
	/* The programs' own directory: their shared memory and the token helper's log socket. */
	statedir = keep("%s/state", rd.path);
	if (mkdir(statedir, 0700) == -1 || (pw != NULL && chown(statedir, pw->pw_uid, pw->pw_gid) == -1)) {
		log_error(NULL, "cannot make %s: %s", statedir, strerror(errno));
		goto out;
	}
	if (read_limits(libexec) == -1)
		goto out;

	listen = config_str(S_LISTEN_ADDRESS);
	var("RUNDIR", rd.path);
	var("STATEDIR", statedir);
	var("LISTEN", listen);
	var("APP_PORT", keep("%ld", config_int(S_APP_PORT)));
	var("AUTH_PORT", keep("%ld", config_int(S_AUTH_PORT)));
	var("LOG_PORT", keep("%ld", config_int(S_LOG_PORT)));
	var("FCGI_READ_TIMEOUT", keep("%ld", config_fcgi_read_timeout()));
	var("NGINX_WORKERS", keep("%ld", config_int(S_NGINX_WORKERS)));
	var("AUTH_TIMEOUT", keep("%ld", config_int(S_AUTH_TIMEOUT)));
	var("BENCH", getenv("PP_BENCH") != NULL && strcmp(getenv("PP_BENCH"), "1") == 0 ?
	    "        location = /__bench/static { default_type text/plain; return 200 \"pong 0\\n\"; }" : "");
	/* The upstream of 8080 (the parser allows nothing in it that could end the directive); without one, a clear 503. */
	prom = config_str(S_AUTH_PROMETHEUS_URL);
	len = strlen(prom);
	var("PROMETHEUS_PASS", *prom != '\0' ?
	    keep("            proxy_pass %.*s/api/v1/;", (int)(len - (prom[len - 1] == '/')), prom) :
	    "            return 503 '{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"AUTH_PROXY_PROMETHEUS_URL is not set\"}\\n';");
	/*
	 * nginx's access log: a record per request into a FIFO that
	 * supervise_main makes and reads (accesslog.c): the access lines (on
	 * stdout, when PING_PONG_ACCESS_LOG is on), the answers counted for
	 * /metrics, the auth proxy's refused-token line.  A server block with
	 * an access_log of its own needs the line repeated, as server-level
	 * directives replace http-level ones.
	 */
	access_log = keep("%s/access.fifo pp_record buffer=4k flush=1s", rd.path);
	var("ACCESS_LOG", access_log);
	var("SERVER_ACCESS_LOG", keep("access_log %s;", access_log));

	if (config_workers_started() != config_int(S_WORKERS))
		log_warning(NULL, "PING_PONG_WORKERS=%ld exceeds PING_PONG_DB_MAX_CONNECTIONS=%ld: starting %ld workers",
		    config_int(S_WORKERS), config_int(S_DB_MAX_CONNECTIONS), config_workers_started());

	/* The parts, in start order (each ready before the next); stopped in the reverse order, nginx first. */
	arg("pingpong-supervise");
	arg("--grace");	/* nginx's graceful stop waits for the requests it has read */
	arg(keep("%ld", config_fcgi_read_timeout() + 5));
	arg("--lock-fd");
	arg(keep("%d", rd.lockfd));
	arg("--access-log");
	arg(keep("%s/access.fifo", rd.path));
	if (config_int(S_ACCESS_LOG))
		arg("--print-access");
	if (app && config_int(S_METRICS)) {
		arg("--answers");
		arg(keep("%s/answers.shm", statedir));
	}
	arg("--");
	servers = keep("%s", "");
	if (app) {
		char *errors = render_template(share, "errors", (struct subst[]){ { "PART", "worker" } }, 1);

		pool("workers", "app.sock", config_workers_started(), keep("%s/pingpong-worker", libexec),
		    statedir, user);
		if (errors == NULL || (part = render_template(share, "app", (struct subst[]){ { "ERRORS", errors } }, 1)) == NULL)
			goto out;
		servers = keep("%s%s\n", servers, part);
		says[nsays++] = keep("listening on http://%s:%ld (ping-pong)", listen, config_int(S_APP_PORT));
	}
	if (auth) {
		pool("token-helper", "auth.sock", 1, keep("%s/pingpong-authproxy", libexec), statedir, user);
		if ((part = render_template(share, "authproxy", NULL, 0)) == NULL)
			goto out;
		servers = keep("%s%s\n", servers, part);
		says[nsays++] = keep("listening on http://%s:%ld (auth proxy)", listen, config_int(S_AUTH_PORT));
	}
	if (lo) {
		char *errors = render_template(share, "errors", (struct subst[]){ { "PART", "log-output" } }, 1);

		pool("log-output", "log.sock", 1, keep("%s/pingpong-logoutput", libexec), statedir, user);
		if (errors == NULL || (part = render_template(share, "logoutput", (struct subst[]){ { "ERRORS", errors } }, 1)) == NULL)
			goto out;
		servers = keep("%s%s\n", servers, part);
		says[nsays++] = keep("listening on http://%s:%ld (log-output)", listen, config_int(S_LOG_PORT));
	}
	if ((conf = render_template(share, "nginx", (struct subst[]){ { "SERVERS", servers } }, 1)) == NULL ||
	    write_file(keep("%s/nginx.conf", rd.path), conf) == -1)
		goto out;
	if (mkdir(keep("%s/nginx", rd.path), 0755) == -1) {
		log_error(NULL, "cannot make %s/nginx: %s", rd.path, strerror(errno));
		goto out;
	}
	arg("nginx");
	arg(keep("%s/nginx.pid", rd.path));
	arg("QUIT");
	for (int i = 0; i < nsays; i++) {
		arg("--say");
		arg(says[i]);
	}
	arg("--");
	arg("nginx");
	arg("-e");
	arg("stderr");
	arg("-p");
	arg(rd.path);
	arg("-c");
	arg(keep("%s/nginx.conf", rd.path));
	arg(";");
	/* What bin/pingpong-healthcheck asks: the role's readiness path. */
	if (write_file(keep("%s/healthcheck", rd.path), app ?
	    keep("%ld /health/ready\n", config_int(S_APP_PORT)) : auth ?
	    keep("%ld /health/live\n", config_int(S_AUTH_PORT)) :
	    keep("%ld /health/ready\n", config_int(S_LOG_PORT))) == -1)
		goto out;

	log_info(NULL, "role %s, runtime directory %s", role, rd.path);
	rc = supervise_main(nargs, args);
out:
	rundir_close(&rd);
	return rc;
}

int
main(int argc, char *argv[])
{
	if (stdio_open() == -1)
		return 1;
	/*
	 * libpq and libcurl pull in GnuTLS (through libldap), whose constructor
	 * initialises it in every process that loads it: 1.2 MiB of a worker's
	 * resident set, for a library nothing here calls (README: performance).
	 * nginx's $time_iso8601 is local time: UTC makes every stamp one format.
	 */
	if (setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 1) == -1 || setenv("TZ", "UTC", 1) == -1)
		return 1;
	if (argc >= 2 && (strncmp(argv[1], "--print-config", 14) == 0 ||
	    strcmp(argv[1], "--check-config") == 0))
		return config_main(argc, argv, CF_LAUNCH);
	if (argc == 4 && strcmp(argv[1], "--log") == 0) {
		/* tools/run's own lines, in the stack's format. */
		int level = log_level_parse(argv[2]), rc;

		if ((rc = config_main(1, argv, CF_LAUNCH)) != -1)
			return rc;
		log_init("launcher", (enum log_level)config_int(S_LOG_LEVEL),
		    (enum log_format)config_int(S_LOG_FORMAT));
		log_relay(level >= 0 ? (enum log_level)level : PP_LOG_INFO, "launcher",
		    (long)getppid(), argv[3]);
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return usage();
	return launch(argc == 2 ? argv[1] : NULL);
}
