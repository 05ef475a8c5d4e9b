/* launch.c: the launcher's start: its command line, the settings read once, the stack's user and runtime directory, then the parts handed to the keeper (supervise.c). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "privdrop.h"
#include "launch.h"
#include "nginxconf.h"
#include "parts.h"
#include "rundir.h"
#include "supervise.h"

/*
 * pingpong-supervise [ROLE]: bin/pingpong execs it with PP_LIBEXEC (the
 * programs) and PP_SHARE (nginx/ holds the templates) set.  It reads the settings
 * once (common/config.c: environment, then ./.env), takes the runtime
 * directory (rundir.c), renders nginx's config from the templates
 * (nginxconf.c, render.c), and runs the role's parts (parts.c) under
 * supervise.c, in this pid:
 *
 *   app: the worker pool (spawn-fcgi + multiwatch), then nginx on PING_PONG_APP_PORT
 *   authproxy: the token helper, then nginx on AUTH_PROXY_PORT
 *   log-output: log-output, then nginx on LOG_APP_PORT
 *   all: the three pools, then one nginx serving the three ports
 *
 * Every part gets the same resolved settings (config_export), so a worker
 * multiwatch starts again runs on the first one's.
 */

#define KEPT_MAX	256

static void	*kept[KEPT_MAX];	/* launch.h: what the launcher allocates, kept for its life */
static int	 nkept;

void *
own(void *p)
{
	if (p == NULL)
		fatal("out of memory");
	if (nkept == KEPT_MAX)
		fatal("more than %d allocations to keep: raise KEPT_MAX", KEPT_MAX);
	return kept[nkept++] = p;
}

char *
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

/* The usage on fp: stdout and 0 when asked for (--help), else stderr and 2. */
static int
usage(FILE *fp)
{
	fprintf(fp, "usage: pingpong [app|authproxy|log-output|all]   (bin/pingpong)\n"
	    "       pingpong-supervise [ROLE] | --check-config | --print-config | --print-config=shell [ROLE]\n"
	    "       pingpong-supervise --with-settings [ROLE] -- COMMAND [ARG...]\n"
	    "       pingpong-supervise --log LEVEL MESSAGE\n"
	    "Settings come from the environment and ./.env (docs/configuration.md).\n");
	return fp == stdout ? 0 : 2;
}

/* The role's settings, read once and exported to every part; 0, or the exit status after one line. */
static int
read_settings(const char *role_arg, struct stack *st)
{
	const char *role;
	int rc;

	if ((rc = config_launch("launcher", role_arg)) != 0)
		return rc;
	if (getenv("PP_CONFIG_WARNED") == NULL)
		config_warn();
	if (config_export() == -1)
		fatal("config_export: %s", strerror(errno));
	st->libexec = getenv("PP_LIBEXEC");
	st->share = getenv("PP_SHARE");
	if (st->libexec == NULL || st->share == NULL) {
		log_msg(PP_LOG_CRITICAL, NULL, "PP_LIBEXEC and PP_SHARE are not set: start the stack with bin/pingpong");
		return 2;
	}
	role = config_str(S_ROLE);
	st->app = strcmp(role, "app") == 0 || strcmp(role, "all") == 0;
	st->auth = strcmp(role, "authproxy") == 0 || strcmp(role, "all") == 0;
	st->logoutput = strcmp(role, "log-output") == 0 || strcmp(role, "all") == 0;
	return 0;
}

/* Started as root: PING_PONG_USER resolved once (*pw); 0, or the exit status after one line. */
static int
stack_user(struct stack *st, struct passwd **pw)
{
	struct group *gr;

	*pw = NULL;
	if (geteuid() != 0)
		return 0;
	/* The programs get the ids, not the name: resolving a name maps the name service's modules into every worker. */
	if ((*pw = getpwnam(config_str(S_USER))) == NULL || (gr = getgrgid((*pw)->pw_gid)) == NULL) {
		log_error(NULL, "PING_PONG_USER=%s is not a user of this system", config_str(S_USER));
		return 2;
	}
	st->user = keep("%s", (*pw)->pw_name);
	st->group = keep("%s", gr->gr_name);
	setenv("PING_PONG_USER", keep("%ld:%ld", (long)(*pw)->pw_uid, (long)(*pw)->pw_gid), 1);
	return 0;
}

/* The programs' own directory: their shared memory and the token helper's log socket; 0, or -1 after one line. */
static int
make_statedir(struct stack *st, const struct passwd *pw)
{
	char *statedir = keep("%s/state", st->rundir);

	if (mkdir(statedir, 0700) == -1 || (pw != NULL && chown(statedir, pw->pw_uid, pw->pw_gid) == -1)) {
		log_error(NULL, "cannot make %s: %s", statedir, strerror(errno));
		return -1;
	}
	st->statedir = statedir;
	return 0;
}

/* The stack: returns the exit status. */
static int
launch(const char *role_arg)
{
	struct stack st = { 0 };
	struct rundir rd;
	struct passwd *pw;
	char **argv;
	int rc, argc;

	if ((rc = read_settings(role_arg, &st)) != 0 || (rc = stack_user(&st, &pw)) != 0)
		return rc;
	/*
	 * What the launcher inherited beyond stdin, stdout and stderr stays
	 * its own: make run's lock on ./var/pg (tools/run) is held by the
	 * launcher for the stack's life, never by nginx or the workers, which
	 * could release it or outlive it.
	 */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		log_warning(NULL, "close_range: %s; the parts inherit the launcher's descriptors", strerror(errno));
	if ((rc = rundir_open(&rd, config_str(S_RUNTIME_DIR), pw != NULL ? pw->pw_uid : geteuid(),
	    pw != NULL ? pw->pw_gid : getegid())) != 0)
		return rc;
	st.rundir = rd.path;
	st.lockfd = rd.lockfd;
	rc = 1;
	if (make_statedir(&st, pw) == -1 || nginxconf_values(&st) == -1)
		goto out;
	if (config_workers_started() != config_int(S_WORKERS))
		log_warning(NULL, "PING_PONG_WORKERS=%ld exceeds PING_PONG_DB_MAX_CONNECTIONS=%ld: starting %ld workers",
		    config_int(S_WORKERS), config_int(S_DB_MAX_CONNECTIONS), config_workers_started());
	if (nginxconf_write(&st) == -1 || nginxconf_healthcheck(&st) == -1)
		goto out;
	argv = parts_argv(&st, &argc);
	log_info(NULL, "role %s, runtime directory %s", config_str(S_ROLE), rd.path);
	rc = supervise_main(argc, argv);
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
	 * resident set, for a library nothing here calls.
	 * nginx's $time_iso8601 is local time: UTC makes every stamp one format.
	 */
	if (setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 1) == -1 || setenv("TZ", "UTC", 1) == -1)
		return 1;
	if (argc >= 2 && strncmp(argv[1], "--print-config", 14) == 0)
		return config_main(argc, argv, CF_LAUNCH);
	if (argc >= 2 && strcmp(argv[1], "--check-config") == 0) {
		int rc = config_main(argc, argv, CF_LAUNCH);

		/* What a start refuses before it makes anything, the check refuses too. */
		return rc == 0 ? rundir_check(config_str(S_RUNTIME_DIR)) : rc;
	}
	if (argc >= 2 && strcmp(argv[1], "--with-settings") == 0)
		return config_with_settings(argc, argv);
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
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return usage(stdout);
	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return usage(stderr);
	return launch(argc == 2 ? argv[1] : NULL);
}
