/* smallfile.h: the one way to read a small file whole. */
#ifndef PP_SMALLFILE_H
#define PP_SMALLFILE_H

#include <sys/types.h>

/*
 * Reads the file at path into buf and NUL-terminates it.  Returns its
 * length, or -1 with errno: the open's or read's, or EFBIG when the file
 * has cap bytes or more (nothing of it is to be trusted then).
 */
ssize_t	smallfile_read(const char *path, char *buf, size_t cap);

#endif
