/* answers.c: the segment of answers by route and status code (the launcher counts, /metrics reads). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answers.h"

#define ANS_MAGIC	0x616e7377657273ULL	/* "answers" */
#define NCODES		(sizeof(codes) / sizeof(codes[0]))

/*
 * The codes with a series of their own; any other is code="other".  The
 * workers' own (200, 404, 405, 500, 503) and nginx's (400, 413, 414, 499
 * client gone first, 502 no worker or one that died holding the request,
 * 504 a worker past its deadline).
 */
static const int codes[] = { 200, 400, 404, 405, 413, 414, 499, 500, 502, 503, 504 };

_Static_assert(NCODES + 1 == ANSWERS_CODES, "ANSWERS_CODES is the codes and \"other\"");

const char *const answers_route_names[M_ROUTE__MAX] = {
	"/pingpong", "/", "/pings", "/health", "/health/ready", "other",
};

struct segment {
	uint64_t	magic;
	uint64_t	count[M_ROUTE__MAX][NCODES + 1];	/* last: other codes */
};

static struct segment *seg;	/* mapped once at start; its counters are relaxed atomics */

int
answers_route(const char *path)
{
	if (strcmp(path, "/metrics") == 0)
		return -1;
	for (int r = 0; r < M_OTHER; r++)
		if (strcmp(path, answers_route_names[r]) == 0)
			return r;
	return M_OTHER;
}

static int
map(int fd, int prot)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size != (off_t)sizeof(struct segment)) {
		errno = EINVAL;
		return -1;
	}
	if ((p = mmap(NULL, sizeof(struct segment), prot, MAP_SHARED, fd, 0)) == MAP_FAILED)
		return -1;
	seg = p;
	return 0;
}

int
answers_create(const char *path)
{
	int fd, rc = -1;

	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) == -1)
		return -1;
	if (fchmod(fd, 0644) == 0 && ftruncate(fd, sizeof(struct segment)) == 0 &&
	    map(fd, PROT_READ | PROT_WRITE) == 0) {
		seg->magic = ANS_MAGIC;
		rc = 0;
	}
	close(fd);
	return rc;
}

int
answers_attach(const char *path)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	rc = map(fd, PROT_READ);
	close(fd);
	if (rc == 0 && __atomic_load_n(&seg->magic, __ATOMIC_RELAXED) != ANS_MAGIC) {
		munmap(seg, sizeof(*seg));
		seg = NULL;
		errno = EINVAL;
		return -1;
	}
	return rc;
}

void
answers_count(enum m_route route, int status)
{
	size_t c;

	if (seg == NULL)
		return;
	for (c = 0; c < NCODES && codes[c] != status; c++)
		;
	__atomic_add_fetch(&seg->count[route][c], 1, __ATOMIC_RELAXED);
}

int
answers_get(enum m_route route, size_t c, char code[8], uint64_t *v)
{
	if (seg == NULL || c > NCODES)
		return -1;
	*v = __atomic_load_n(&seg->count[route][c], __ATOMIC_RELAXED);
	if (c < NCODES)
		snprintf(code, 8, "%d", codes[c]);
	else
		snprintf(code, 8, "other");
	/*
	 * Every route's 200, 500 and 503 exist from the start at 0, so a
	 * ratio of 5xx to all answers is 0, not an empty result, until the
	 * first error (Prometheus' "avoid missing metrics"; the canary's
	 * error-ratio divides them).
	 */
	return c < NCODES && (codes[c] == 200 || codes[c] == 500 || codes[c] == 503) ? 1 : 0;
}
