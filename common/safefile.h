/* safefile.h: files created in directories that are checked, never through a symlink. */
#ifndef PP_SAFEFILE_H
#define PP_SAFEFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Checks that dir is a directory that not everyone can fill with names:
 * not writable by all unless sticky (a /tmp-like directory is where a
 * planted symlink or file would wait).  Its owner may be another user (a
 * volume's); the files themselves are opened without following symlinks.
 * Returns 0, or -1 with the reason in why.
 */
int	safefile_dir_ok(const char *dir, char *why, size_t whylen);

/* open(2) that never follows a symlink in the last component (O_NOFOLLOW, O_CLOEXEC). */
int	safefile_open(const char *path, int flags, mode_t mode);

#endif
