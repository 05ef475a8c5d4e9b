/* privdrop.c: a program's first steps: descriptors 0-2 open, root given up for the stack's user. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"

int
stdio_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* The lowest free descriptor: this one. */
		if ((nfd = open("/dev/null", O_RDWR)) == -1)
			return -1;
		if (nfd != fd) {
			close(nfd);
			return -1;
		}
	}
	return 0;
}

/*
 * "uid:gid", both numbers: the ids themselves, no name service asked.  The
 * launcher passes the user this way (launcher/launch.c), so a worker never loads
 * the NSS modules getpwnam and initgroups map (0.7 MiB of its resident set,
 * docs/performance.md).  Returns 1 and the ids, or 0 for a name.
 */
static int
numeric_ids(const char *user, uid_t *uid, gid_t *gid)
{
	unsigned long u, g;
	char *end;

	if (*user < '0' || *user > '9')
		return 0;
	errno = 0;
	u = strtoul(user, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	g = strtoul(end + 1, &end, 10);
	if (*end != '\0' || errno != 0 || u != (uid_t)u || g != (gid_t)g ||
	    (uid_t)u == (uid_t)-1 || (gid_t)g == (gid_t)-1)
		return 0;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 1;
}

int
privdrop(const char *user, char *why, size_t whylen)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;
	int groups;

	if (geteuid() != 0)
		return 0;
	if (user != NULL && numeric_ids(user, &uid, &gid))
		groups = setgroups(1, &gid);	/* its group alone */
	else if (user == NULL || *user == '\0' || (pw = getpwnam(user)) == NULL) {
		snprintf(why, whylen, "PING_PONG_USER=%s is not a user of this system", user != NULL ? user : "");
		return -1;
	} else {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		groups = initgroups(pw->pw_name, gid);
	}
	if (uid == 0) {
		snprintf(why, whylen, "PING_PONG_USER=%s is root: expected an unprivileged user", user);
		return -1;
	}
	if (gid == 0) {
		snprintf(why, whylen, "PING_PONG_USER=%s has root's group: expected an unprivileged group", user);
		return -1;
	}
	if (groups == -1 || setgid(gid) == -1 || setuid(uid) == -1) {
		snprintf(why, whylen, "cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || geteuid() == 0 || setgid(0) != -1 || getegid() == 0) {
		snprintf(why, whylen, "became %s but could become root again", user);
		return -1;
	}
	return 0;
}

void
privdrop_who(char *buf, size_t len)
{
	struct passwd pw, *found = NULL;
	char names[1024];
	uid_t uid = geteuid();

	if (getpwuid_r(uid, &pw, names, sizeof(names), &found) == 0 && found != NULL)
		snprintf(buf, len, "user %s (uid %ld)", pw.pw_name, (long)uid);
	else
		snprintf(buf, len, "uid %ld", (long)uid);
}
