/* smallfile.h: the one way to read a small file whole. */
#ifndef PP_SMALLFILE_H
#define PP_SMALLFILE_H

#include <sys/types.h>

/*
 * Reads the file at path into buf and NUL-terminates it; oflags are added
 * to open(2)'s O_RDONLY | O_CLOEXEC (O_NOFOLLOW in a checked directory:
 * safefile.h; 0 for a mounted secret, which Kubernetes makes a symlink).
 * Returns its length, or -1 with errno: the open's or read's, or EFBIG
 * when the file has cap bytes or more (nothing of it is to be trusted).
 */
ssize_t	smallfile_read(const char *path, int oflags, char *buf, size_t cap);

#endif
