/* sharedfile.c: atomic, monotonic ping_pong_counter.txt for the shared volume. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "counterfile.h"
#include "log.h"
#include "privdrop.h"
#include "safefile.h"
#include "sharedfile.h"

#define LOCK_FILE	".ping_pong_counter.lock"

/* Set by sharedfile_init before any thread, then read-only. */
static const char	*dir;
static char		 path[PATH_MAX], lockpath[PATH_MAX], tmppath[PATH_MAX];
/* The database thread writes; file_lock keeps it one writer all the same. */
static pthread_mutex_t	 file_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t		 written;	/* file_lock: largest count this process wrote */
static int		 failing;	/* file_lock: an outage was logged and not yet over */
static char		 who[128];	/* whom the volume must let write, for the messages */

/* mkdir -p; 0 or -1 with errno. */
static int
make_dirs(const char *d)
{
	char buf[PATH_MAX];
	size_t len = strlen(d);

	if (len >= sizeof(buf))
		return errno = ENAMETOOLONG, -1;
	memcpy(buf, d, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

void
sharedfile_init(void)
{
	char why[PATH_MAX + 64];

	if (!config_is_set(S_SHARED_VOLUME_PATH) ||
	    *config_str(S_SHARED_VOLUME_PATH) == '\0')
		return;
	dir = config_str(S_SHARED_VOLUME_PATH);
	snprintf(path, sizeof(path), "%s/%s", dir, COUNTER_FILE);
	snprintf(lockpath, sizeof(lockpath), "%s/%s", dir, LOCK_FILE);
	snprintf(tmppath, sizeof(tmppath), "%s/.%s.%ld", dir, COUNTER_FILE,
	    (long)getpid());
	privdrop_who(who, sizeof(who));
	if (make_dirs(dir) == -1) {
		log_error(NULL, "shared volume %s: cannot create: %s (the stack runs as %s, "
		    "which needs write access there)", dir, strerror(errno), who);
		failing = 1;
	} else if (safefile_dir_ok(dir, why, sizeof(why)) == -1) {
		log_error(NULL, "shared volume refused, the count is not written there: %s "
		    "(give %s write access to a directory not writable by everyone, or sticky)",
		    why, who);
		dir = NULL;
	}
}

/*
 * The count in the file, read with the one strict parser (counterfile.c);
 * -1 when absent, unreadable or not a count, which the next write then
 * replaces (a torn or foreign file never stops the count going up).
 */
static int64_t
read_current(void)
{
	char why[128];
	int64_t n;

	return counterfile_read(dir, &n, why, sizeof(why)) == 0 ? n : -1;
}

/* Writes count under the cross-process lock; 0 or -1 with errno. */
static int
write_locked(int64_t count)
{
	char buf[32];
	int lfd, fd = -1, rc = -1, len;
	ssize_t w;

	if ((lfd = safefile_open(lockpath, O_RDWR | O_CREAT, 0644)) == -1) {
		if (errno != ENOENT || make_dirs(dir) == -1 ||
		    (lfd = safefile_open(lockpath, O_RDWR | O_CREAT, 0644)) == -1)
			return -1;
	}
	if (flock(lfd, LOCK_EX) == -1)
		goto out;
	if (read_current() >= count) {
		rc = 0;
		goto out;
	}
	len = snprintf(buf, sizeof(buf), "%lld\n", (long long)count);
	if ((fd = safefile_open(tmppath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		goto out;
	if ((w = write(fd, buf, (size_t)len)) != len) {
		if (w >= 0)	/* a short write sets no errno */
			errno = ENOSPC;
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmppath, path) == -1)
		goto out;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (rc == -1) {
		int saved = errno;

		unlink(tmppath);
		errno = saved;
	}
	close(lfd);	/* also releases the flock */
	return rc;
}

void
sharedfile_update(int64_t count)
{
	if (dir == NULL)
		return;
	pthread_mutex_lock(&file_lock);
	if (count <= written) {
		pthread_mutex_unlock(&file_lock);
		return;
	}
	if (write_locked(count) == 0) {
		written = count;
		if (failing)
			log_info(NULL, "shared volume %s: writing %s again", dir,
			    COUNTER_FILE);
		failing = 0;
	} else if (!failing) {
		log_error(NULL, "shared volume %s: cannot write %s: %s "
		    "(the stack runs as %s, which needs write access there; "
		    "pongs go on; logged once until it works again)", dir,
		    COUNTER_FILE, strerror(errno), who);
		failing = 1;
	}
	pthread_mutex_unlock(&file_lock);
}
