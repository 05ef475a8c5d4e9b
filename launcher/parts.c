/* parts.c: the keeper's command line: its options, a pool per program of the role (spawn-fcgi + multiwatch), then nginx. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "launch.h"
#include "parts.h"

#define ARGS_MAX	192

static char	*args[ARGS_MAX];	/* supervise_main's argv */
static int	 nargs;

static void
arg(const char *a)
{
	if (nargs == ARGS_MAX - 1)
		fatal("more than %d arguments for the parts", ARGS_MAX - 1);
	args[nargs++] = (char *)(uintptr_t)a;
	args[nargs] = NULL;
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

/* A pool: spawn-fcgi binds the socket and multiwatch keeps forks copies of program running. */
static void
pool(const struct stack *st, const char *name, const char *sock, long forks, const char *program)
{
	const char *wrap = getenv("PP_WRAP");	/* make valgrind: run each program under it */
	char *full;

	arg(name);
	arg(keep("%s/%s", st->rundir, sock));
	arg("TERM");
	arg("--");
	arg("env");
	arg(keep("PING_PONG_RUNTIME_DIR=%s", st->statedir));
	arg(keep("PP_STACK_READY=%s/nginx.pid", st->rundir));	/* log-output waits for it */
	arg("spawn-fcgi");
	arg("-s");
	arg(keep("%s/%s", st->rundir, sock));
	arg("-M");
	arg("0600");
	if (st->user != NULL) {
		arg("-U");	/* the socket: nginx's workers' only */
		arg(st->user);
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

/* The keeper's own options, up to the "--" before the parts. */
static void
keeper_options(const struct stack *st)
{
	arg("pingpong-supervise");
	arg("--grace");	/* nginx's graceful stop waits for the requests it has read */
	arg(keep("%ld", config_fcgi_read_timeout() + 5));
	arg("--lock-fd");
	arg(keep("%d", st->lockfd));
	arg("--access-log");
	arg(keep("%s/access.fifo", st->rundir));
	if (config_int(S_ACCESS_LOG))
		arg("--print-access");
	if (st->app && config_int(S_METRICS)) {
		arg("--answers");
		arg(keep("%s/answers.shm", st->statedir));
	}
	arg("--");
}

/* nginx, ready once its pid file exists (written after it bound its ports), then saying where each server listens. */
static void
nginx_part(const struct stack *st)
{
	const char *listen = config_str(S_LISTEN_ADDRESS);

	arg("nginx");
	arg(keep("%s/nginx.pid", st->rundir));
	arg("QUIT");
	if (st->app) {
		arg("--say");
		arg(keep("listening on http://%s:%ld (ping-pong)", listen, config_int(S_APP_PORT)));
	}
	if (st->auth) {
		arg("--say");
		arg(keep("listening on http://%s:%ld (auth proxy)", listen, config_int(S_AUTH_PORT)));
	}
	if (st->logoutput) {
		arg("--say");
		arg(keep("listening on http://%s:%ld (log-output)", listen, config_int(S_LOG_PORT)));
	}
	arg("--");
	arg("nginx");
	arg("-e");
	arg("stderr");
	arg("-p");
	arg(st->rundir);
	arg("-c");
	arg(keep("%s/nginx.conf", st->rundir));
	arg(";");
}

char **
parts_argv(const struct stack *st, int *argc)
{
	keeper_options(st);
	if (st->app)
		pool(st, "workers", "app.sock", config_workers_started(),
		    keep("%s/pingpong-worker", st->libexec));
	if (st->auth)
		pool(st, "token-helper", "auth.sock", 1, keep("%s/pingpong-authproxy", st->libexec));
	if (st->logoutput)
		pool(st, "log-output", "log.sock", 1, keep("%s/pingpong-logoutput", st->libexec));
	nginx_part(st);
	*argc = nargs;
	return args;
}
