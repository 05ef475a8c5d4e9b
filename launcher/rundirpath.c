/* rundirpath.c: the runtime directory's path: absolute, one nginx's config can hold, short enough for the sockets under it, reachable by the stack's user; checked before anything is made, and by --check-config. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "rundir.h"

static const char *setting = "PING_PONG_RUNTIME_DIR";

/*
 * A relative value (the default ./var/run) is checked by the settings, but
 * nginx's config gets the absolute path: a working directory with a blank
 * or a ; in its path would break it.  Refused before anything is made.
 */
static int
refuse_path(const char *value, const char *path)
{
	log_error(NULL, "%s=%s is %s, which nginx's config cannot hold (a blank, control character, quote, "
	    "brace, ;, #, $ or \\ in it): nothing was made; give an absolute path without them",
	    setting, value, path);
	return 2;
}

/*
 * The longest socket path the stack binds under the directory: the token
 * helper's log socket (authproxy/upstream.c).  A socket's path must fit
 * sun_path (108 bytes with its NUL on Linux), or spawn-fcgi fails late
 * with "path ... too long" after the directory was made: refused first.
 */
#define LONGEST_SOCKET	"/state/auth-log.sock"

/* 1 (after one line) when a socket under path would not fit sun_path. */
static int
too_long(const char *value, const char *path)
{
	size_t room = sizeof(((struct sockaddr_un *)0)->sun_path);

	if (strlen(path) + strlen(LONGEST_SOCKET) < room)
		return 0;
	log_error(NULL, "%s=%s is too long: its sockets' paths (%s%s, %zu bytes) must fit a "
	    "Unix socket address (%zu bytes with the NUL): nothing was made; give a path of "
	    "at most %zu bytes", setting, value, path, LONGEST_SOCKET,
	    strlen(path) + strlen(LONGEST_SOCKET), room, room - 1 - strlen(LONGEST_SOCKET));
	return 1;
}

int
rundir_absolute(const char *value, char *abs, size_t len)
{
	char cwd[PATH_MAX];

	if (*value == '/')
		snprintf(abs, len, "%s", value);
	else if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(abs, len, "%s/%s", cwd, value) >= len) {
		log_error(NULL, "%s=%s: cannot make it absolute: %s", setting, value, strerror(errno));
		return 1;
	}
	return 0;
}

int
rundir_path_ok(const char *value, const char *path)
{
	if (!config_nginx_safe(path))
		return refuse_path(value, path);
	return too_long(value, path) ? 2 : 0;
}

/*
 * Whether uid:gid, as the programs run (one group), may search dir: the
 * kernel decides (every component, links, ACLs), in a child that takes
 * that identity and only makes system calls.  1 yes, 0 no, -1 unknown.
 */
static int
searchable_as(const char *dir, uid_t uid, gid_t gid)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (setgroups(1, &gid) == -1 || setgid(gid) == -1 || setuid(uid) == -1)
			_exit(2);
		_exit(access(dir, X_OK) == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		return -1;
	return WEXITSTATUS(status) == 0;
}

int
rundir_parents_ok(const char *value, const char *path, uid_t uid, gid_t gid)
{
	char buf[PATH_MAX], real[PATH_MAX], *slash;
	struct stat st;

	if (geteuid() != 0 || uid == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", path);
	do {	/* the deepest existing parent */
		if ((slash = strrchr(buf, '/')) == NULL)
			return 0;
		slash[slash == buf] = '\0';
	} while (stat(buf, &st) == -1 && slash != buf);
	if (realpath(buf, real) == NULL || searchable_as(real, uid, gid) != 0)
		return 0;	/* reachable, or unknown: the start's own steps say why */
	/* The first of its directories, from the root down, that user cannot search. */
	for (char *p = real + 1, c = 1; c != '\0'; p++) {
		if ((c = *p) != '/' && c != '\0')
			continue;
		*p = '\0';
		if (searchable_as(real, uid, gid) == 0 && stat(real, &st) == 0)
			break;
		*p = c;
	}
	log_error(NULL, "%s=%s: %s cannot be entered by the stack's user (uid %ld; mode %04o), so "
	    "nginx and the programs could not reach their sockets and files under it: nothing was "
	    "changed; run from a directory that user can reach (not under /root)",
	    setting, value, real, (long)uid, (unsigned)(st.st_mode & 07777));
	return 2;
}

int
rundir_check(const char *value)
{
	char abs[PATH_MAX], real[PATH_MAX];
	struct passwd *pw;
	int rc;

	if ((rc = rundir_absolute(value, abs, sizeof(abs))) != 0 ||
	    (rc = rundir_path_ok(value, abs)) != 0)
		return rc;
	/* As root, what the stack's user must reach, as a start checks it. */
	if (geteuid() == 0 && (pw = getpwnam(config_str(S_USER))) != NULL &&
	    (rc = rundir_parents_ok(value, abs, pw->pw_uid, pw->pw_gid)) != 0)
		return rc;
	/* A path that exists is checked through its links too, as a start checks it. */
	return realpath(abs, real) != NULL ? rundir_path_ok(value, real) : 0;
}
