/* smallfile.c: reads a small file whole (a secret, a token, a count), bounded. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "smallfile.h"

ssize_t
smallfile_read(const char *path, int oflags, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n = 0;
	int fd, saved;

	if (cap == 0)
		return errno = EINVAL, -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | oflags)) == -1)
		return -1;
	/* Until EOF: a read may be short (a pipe, a FUSE or network volume). */
	while (len < cap && ((n = read(fd, buf + len, cap - len)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	saved = errno;
	close(fd);
	if (n == -1)
		return errno = saved, -1;
	if (len == cap) {
		buf[cap - 1] = '\0';
		return errno = EFBIG, -1;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}
