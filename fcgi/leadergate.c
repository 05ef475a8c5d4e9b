/* leadergate.c: one batch leader in the database at a time across the worker pool. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "leadergate.h"
#include "log.h"
#include "safefile.h"

/*
 * Every pong updates one row, so the workers' statements run one after
 * another in PostgreSQL anyway: the second waits for the first's row lock
 * and commit.  Waiting here instead lets the second worker's queue grow
 * until it is its turn, so each statement serves more pongs and the
 * database does fewer commits.  The gate is only an aid: correctness rests
 * on the row lock, so when the gate cannot be had, leaders go without.
 *
 * A robust mutex: a worker killed while holding it does not block the
 * others (the next one is told EOWNERDEAD and takes it over).  A
 * priority-inheritance one: the kernel hands it over to the longest
 * waiter on unlock, so a worker that leads again at once cannot take it
 * back before the other worker's turn.  A kernel that cannot time such a
 * lock on the monotonic clock (before Linux 5.14) makes leaders go without.
 */
#define GATE_MAGIC	0x676174652d763031ULL	/* "gate-v01" */

/*
 * How long a leader waits for another worker's statement before it goes
 * without the gate: far longer than a healthy statement (milliseconds), so
 * the gate does its job under load, and short enough that a worker whose
 * statement hangs (a frozen connection, held until its deadline) delays
 * the other workers' batches by no more than this.
 */
#define GATE_PATIENCE_MS	1000

/* leader.shm, shared by the pool. */
struct segment {
	uint64_t	magic;
	pthread_mutex_t	leader;		/* held by the batch leader in the database */
};

/*
 * Mapped once at start (leadergate_init, before the database thread), then
 * the database thread's only: it sets it to NULL for good when the lock
 * cannot be waited for (leadergate_enter).
 */
static struct segment *gate;

/* Initialises a new segment; the caller holds the file's flock. */
static int
gate_setup(struct segment *p)
{
	pthread_mutexattr_t a;
	int rc;

	if ((rc = pthread_mutexattr_init(&a)) != 0)
		return rc;
	if ((rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) == 0 &&
	    (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) == 0 &&
	    (rc = pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT)) == 0 &&
	    (rc = pthread_mutex_init(&p->leader, &a)) == 0)
		p->magic = GATE_MAGIC;
	pthread_mutexattr_destroy(&a);
	return rc;
}

void
leadergate_init(void)
{
	char path[PATH_MAX], why[PATH_MAX + 64];
	struct segment *p = MAP_FAILED;
	struct stat st;
	int fd, locked = 0, err = 0;

	snprintf(path, sizeof(path), "%s/leader.shm", config_state_dir());
	if (safefile_dir_ok(config_state_dir(), why, sizeof(why)) == -1) {
		log_warning(NULL, "leader gate: %s; this worker's batches do not wait "
		    "for the others'", why);
		return;
	}
	if ((fd = safefile_open(path, O_RDWR | O_CREAT, 0600)) == -1) {
		err = errno;
		goto out;
	}
	/* Whoever finds the segment new sets it up, under the file's lock. */
	if ((locked = flock(fd, LOCK_EX) == 0) == 0 || fstat(fd, &st) == -1 ||
	    ((size_t)st.st_size < sizeof(*p) && ftruncate(fd, sizeof(*p)) == -1)) {
		err = errno;
		goto out;
	}
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		goto out;
	}
	if (p->magic != GATE_MAGIC && (err = gate_setup(p)) != 0) {
		munmap(p, sizeof(*p));
		goto out;
	}
	gate = p;
out:
	/* Unlock explicitly: the mapping keeps the open file, and its flock, alive. */
	if (locked)
		flock(fd, LOCK_UN);
	if (fd != -1)
		close(fd);
	if (err != 0)
		log_warning(NULL, "leader gate: cannot use %s (%s); this worker's "
		    "batches do not wait for the others'", path, strerror(err));
}

int
leadergate_enter(int64_t deadline)
{
	struct timespec until;
	int64_t wait_until;
	int rc;

	if (gate == NULL)
		return 0;
	wait_until = clock_ms() + GATE_PATIENCE_MS;
	if (wait_until > deadline)
		wait_until = deadline;
	until = clock_ts(wait_until);
	while ((rc = pthread_mutex_clocklock(&gate->leader, CLOCK_MONOTONIC, &until)) == EINTR)
		;
	switch (rc) {
	case 0:
		return 1;
	case EOWNERDEAD:	/* a worker died leading: the gate guards no data */
		pthread_mutex_consistent(&gate->leader);
		return 1;
	case ETIMEDOUT:		/* the holder hangs: go without, unless the deadline came */
		return wait_until < deadline ? 0 : -1;
	default:
		/*
		 * EINVAL: the kernel cannot time this lock on the monotonic
		 * clock (before Linux 5.14); or ENOTRECOVERABLE.  Said once,
		 * then this worker's statements queue on the row lock instead.
		 */
		log_warning(NULL, "leader gate: cannot wait for it (%s); this "
		    "worker's batches no longer wait for the others'", strerror(rc));
		gate = NULL;
		return 0;
	}
}

void
leadergate_leave(void)
{
	pthread_mutex_unlock(&gate->leader);
}
