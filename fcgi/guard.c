/* guard.c: the guard against a counter that goes back, shared by the workers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "guard.h"
#include "log.h"
#include "safefile.h"

/*
 * A database that answers a number already handed out (a standby promoted
 * without the last commits, a backup restored) would make every later
 * pong a duplicate.  The pool remembers the end of the numbers it handed
 * out; a statement sent after that was recorded must give numbers from
 * there on, since what was recorded had committed before the statement
 * began.  So a smaller answer is the counter going back, never a race
 * between workers: the pool then refuses every pong rather than hand out
 * a duplicate, until it is restarted.
 *
 * The segment starts as zeros, which is the right start: no number yet.
 */
struct guard {
	int64_t	next;		/* end of the numbers handed out */
	int32_t	tripped;
};

/* Mapped once at start (guard_open), then read-only; *guard is atomics shared by the pool. */
static struct guard *guard;

void
guard_open(void)
{
	char path[PATH_MAX];
	void *p = MAP_FAILED;
	int fd;

	snprintf(path, sizeof(path), "%s/guard.shm", config_state_dir());
	if ((fd = safefile_open(path, O_RDWR | O_CREAT, 0600)) != -1) {
		if (ftruncate(fd, sizeof(struct guard)) == 0)
			p = mmap(NULL, sizeof(struct guard), PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
		close(fd);
	}
	if (p != MAP_FAILED) {
		guard = p;
		return;
	}
	log_warning(NULL, "counter guard: cannot map %s (%s); this worker guards "
	    "only the numbers it hands out itself", path, strerror(errno));
	if ((guard = calloc(1, sizeof(*guard))) == NULL)
		fatal("out of memory");
}

int64_t
guard_next(void)
{
	return __atomic_load_n(&guard->next, __ATOMIC_ACQUIRE);
}

int
guard_tripped(void)
{
	return guard != NULL && __atomic_load_n(&guard->tripped, __ATOMIC_ACQUIRE);
}

int
guard_check(int64_t next, int64_t lowest, int64_t end)
{
	int64_t cur;

	if (lowest < next) {
		if (__atomic_exchange_n(&guard->tripped, 1, __ATOMIC_ACQ_REL))
			return -1;
		log_msg(PP_LOG_CRITICAL, NULL, "counter guard: the database answered %lld, "
		    "but numbers up to %lld were handed out already (a standby promoted "
		    "without the last commits? a restored backup?): every pong is refused "
		    "(503) from now on, so that none is handed out twice. To recover, set "
		    "the counter to at least %lld (UPDATE ping_counter SET counter_value = "
		    "%lld WHERE id = (SELECT min(id) FROM ping_counter)), then restart the "
		    "service, which forgets this", (long long)lowest, (long long)next - 1,
		    (long long)next, (long long)next);
		return -1;
	}
	if (guard_tripped())
		return -1;
	cur = __atomic_load_n(&guard->next, __ATOMIC_RELAXED);
	while (end > cur && !__atomic_compare_exchange_n(&guard->next, &cur, end, 1,
	    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	return 0;
}
