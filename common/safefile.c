/* safefile.c: files created in directories that are checked, never through a symlink. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "safefile.h"

int
safefile_dir_ok(const char *dir, char *why, size_t whylen)
{
	struct stat st;

	if (stat(dir, &st) == -1) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s: not a directory", dir);
		return -1;
	}
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		snprintf(why, whylen, "%s: writable by everyone (mode %04o) and not sticky",
		    dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int
safefile_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}
