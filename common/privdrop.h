/* privdrop.h: a program's first steps: descriptors 0-2 open, root given up. */
#ifndef PP_PRIVDROP_H
#define PP_PRIVDROP_H

#include <stddef.h>

/*
 * Opens /dev/null on whichever of descriptors 0, 1 and 2 is closed, so a
 * file opened later never becomes stderr.  Call before opening anything.
 * Returns 0, or -1 when /dev/null cannot be opened.
 */
int	stdio_open(void);

/*
 * Run as root: becomes user for good, a name (its uid, gid and groups) or
 * "uid:gid" (those ids, no other group), neither root nor root's group,
 * and checks root cannot be regained.  Not root: does nothing.  Returns
 * 0, or -1 with the reason in why.
 */
int	privdrop(const char *user, char *why, size_t whylen);

/*
 * Who the program runs as, for a message about write access: "user
 * www-data (uid 33)", or "uid 33" for a uid without a name.  Asks the name
 * service: for error paths, not for every request.
 */
void	privdrop_who(char *buf, size_t len);

#endif
