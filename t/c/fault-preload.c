/*
 * fault-preload.c: an LD_PRELOAD shim for t/49: in pingpong-worker only
 * (nginx and the rest get it too, untouched), failures a test can cause
 * by creating a file in $PP_FAULT_DIR:
 *   malloc   while it exists, malloc of exactly PP_FAULT_MALLOC_SIZE
 *            bytes fails (ENOMEM): /metrics's buffer.  Not in sanitizer
 *            builds (-DPP_FAULT_NO_MALLOC): there ASan owns malloc.
 *   epoll    the next epoll_wait fails (EBADF); the file is removed, so
 *            the process multiwatch starts again runs normally
 * It does nothing else; it is never part of a program.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define PP_FAULT_MALLOC_SIZE	(64 * 1024)	/* fcgi/routes.c's METRICS_MAX */

int	 epoll_wait(int fd, struct epoll_event *ev, int max, int timeout);

static int
in_worker(void)
{
	return strcmp(program_invocation_short_name, "pingpong-worker") == 0;
}

static int
fault_path(const char *name, char *path, size_t cap)
{
	const char *dir = getenv("PP_FAULT_DIR");

	return dir != NULL && (size_t)snprintf(path, cap, "%s/%s", dir, name) < cap;
}

#ifndef PP_FAULT_NO_MALLOC
extern void *__libc_malloc(size_t);
void	*malloc(size_t n);

void *
malloc(size_t n)
{
	char path[PATH_MAX];

	if (n == PP_FAULT_MALLOC_SIZE && in_worker() &&
	    fault_path("malloc", path, sizeof(path)) && access(path, F_OK) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}
#endif

int
epoll_wait(int fd, struct epoll_event *ev, int max, int timeout)
{
	static int (*real)(int, struct epoll_event *, int, int);
	char path[PATH_MAX];

	if (in_worker() && fault_path("epoll", path, sizeof(path)) && unlink(path) == 0) {
		errno = EBADF;
		return -1;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "epoll_wait");
	return real(fd, ev, max, timeout);
}
