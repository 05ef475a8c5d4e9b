/* privdrop.c: a program's first steps: descriptors 0-2 open, root given up for the stack's user. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
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

int
privdrop(const char *user, char *why, size_t whylen)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (user == NULL || *user == '\0' || (pw = getpwnam(user)) == NULL) {
		snprintf(why, whylen, "PING_PONG_USER=%s is not a user of this system", user != NULL ? user : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(why, whylen, "PING_PONG_USER=%s is root: expected an unprivileged user", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		snprintf(why, whylen, "cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || geteuid() == 0) {
		snprintf(why, whylen, "became %s but could become root again", user);
		return -1;
	}
	return 0;
}
