/* sharedfile.c: atomic, monotonic ping_pong_counter.txt for the shared volume, written by a thread of its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "counterfile.h"
#include "log.h"
#include "metrics.h"
#include "pp_limits.h"
#include "privdrop.h"
#include "safefile.h"
#include "sharedfile.h"

#define LOCK_FILE	".ping_pong_counter.lock"

/*
 * No I/O here runs on the database thread (issue 26): sharedfile_update
 * only records the latest count and wakes this module's writer thread,
 * which writes the file whenever it can; a slow or locked volume delays
 * the file, never an answer, and the file always ends up at the latest
 * count (latest value wins: counts in between are skipped).
 *
 * The lock.  Several workers (and, on a shared volume, several pods) write
 * the one file; under the lock each reads the file and only ever raises
 * it, so it never goes back.  Decision: keep the cross-process lock (one
 * writer per volume is not guaranteed: every worker of every replica
 * writes), but make it a lock no other user can hold: the lock file is
 * mode 0600, so only the service's user can open it, and flock(2) needs
 * an open descriptor.  A lock file left 0644 by an older version is made
 * 0600 at the first write (a descriptor opened before that keeps working:
 * the wait is bounded all the same).  The wait is bounded
 * (PP_SHARED_LOCK_WAIT_MS); a lock still held then fails the attempt, which
 * is logged once per outage, counted (pingpong_shared_file_writes_total
 * {outcome="failure"}) and retried every PP_SHARED_RETRY_MS.
 */

/*
 * Set by sharedfile_init, then read-only: before the request threads start
 * and before the writer thread.  The database thread, started earlier,
 * reaches sharedfile_update only for a job a request thread queued.
 */
static const char	*dir;
static char		 path[PATH_MAX], lockpath[PATH_MAX], tmppath[PATH_MAX];
static char		 who[128];	/* whom the volume must let write, for the messages */
static pthread_mutex_t	 want_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 want_more = PTHREAD_COND_INITIALIZER;	/* with want_lock */
static int64_t		 wanted;	/* want_lock: the largest count asked for */
static int64_t		 written;	/* the writer thread's: largest count it wrote */
/* The volume's outage, said once (one reason: the first failure's words) until a write works. */
static struct log_outage volume_outage = LOG_OUTAGE_INIT;

static void	*writer(void *);

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
	pthread_t tid;

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
		log_outage_fail(&volume_outage, NULL);	/* the writer's failures: said here */
	} else if (safefile_dir_ok(dir, why, sizeof(why)) == -1) {
		log_error(NULL, "shared volume refused, the count is not written there: %s "
		    "(give %s write access to a directory not writable by everyone, or sticky)",
		    why, who);
		dir = NULL;
		return;
	}
	if ((errno = pthread_create(&tid, NULL, writer, NULL)) != 0)
		fatal("pthread_create: %s", strerror(errno));
	pthread_setname_np(tid, "pp-sharedfile");
	pthread_detach(tid);
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

/*
 * Takes the lock on lfd within PP_SHARED_LOCK_WAIT_MS: 0, or -1 with errno
 * (EWOULDBLOCK: still held by another process).
 */
static int
lock_bounded(int lfd)
{
	struct timespec step = clock_ts(10);

	for (int waited = 0; flock(lfd, LOCK_EX | LOCK_NB) == -1; waited += 10) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (waited >= PP_SHARED_LOCK_WAIT_MS)
			return errno = EWOULDBLOCK, -1;
		nanosleep(&step, NULL);
	}
	return 0;
}

/* Writes count under the cross-process lock; 0 or -1 with errno. */
static int
write_locked(int64_t count)
{
	struct stat st;
	char buf[32];
	int lfd, fd = -1, rc = -1, len;
	ssize_t w;

	if ((lfd = safefile_open(lockpath, O_RDWR | O_CREAT, 0600)) == -1) {
		if (errno != ENOENT || make_dirs(dir) == -1 ||
		    (lfd = safefile_open(lockpath, O_RDWR | O_CREAT, 0600)) == -1)
			return -1;
	}
	/* One an older version made 0644: only this user may open it from now on. */
	if (fstat(lfd, &st) == 0 && (st.st_mode & 077) != 0)
		(void)fchmod(lfd, 0600);
	if (lock_bounded(lfd) == -1)
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
	pthread_mutex_lock(&want_lock);
	if (count > wanted) {
		wanted = count;
		pthread_cond_signal(&want_more);
	}
	pthread_mutex_unlock(&want_lock);
}

/* The first failed write of an outage (err: its errno). */
static void
say_write_failure(int err)
{
	if (err == EWOULDBLOCK)
		log_error(NULL, "shared volume %s: the lock %s is held by another "
		    "process for over %d ms; %s waits (pongs go on; logged once "
		    "until it works again)", dir, LOCK_FILE, PP_SHARED_LOCK_WAIT_MS,
		    COUNTER_FILE);
	else
		log_error(NULL, "shared volume %s: cannot write %s: %s "
		    "(the stack runs as %s, which needs write access there; "
		    "pongs go on; logged once until it works again)", dir,
		    COUNTER_FILE, strerror(err), who);
}

/* The writer: the latest count asked for, whenever the volume takes it. */
static void *
writer(void *arg)
{
	struct timespec retry = clock_ts(PP_SHARED_RETRY_MS);
	int64_t count;
	int err;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&want_lock);
		while (wanted <= written)
			pthread_cond_wait(&want_more, &want_lock);
		count = wanted;
		pthread_mutex_unlock(&want_lock);
		if (write_locked(count) == 0) {
			written = count;
			metrics_shared_file(1);
			if (log_outage_over(&volume_outage) >= 0)
				log_info(NULL, "shared volume %s: writing %s again", dir,
				    COUNTER_FILE);
			continue;
		}
		err = errno;
		metrics_shared_file(0);
		if (log_outage_fail(&volume_outage, NULL))
			say_write_failure(err);
		nanosleep(&retry, NULL);
	}
	return NULL;
}
