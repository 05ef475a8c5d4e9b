/* rundir.h: the runtime directory: the stack's own files only, one stack at a time. */
#ifndef PP_RUNDIR_H
#define PP_RUNDIR_H

#include <limits.h>
#include <sys/types.h>

#define RUNDIR_MARK	".pingpong-runtime"	/* says: a pingpong runtime directory */

struct rundir {
	char	 path[PATH_MAX];	/* absolute, links resolved */
	int	 lockfd;		/* held for the stack's life (close-on-exec) */
	int	 created;		/* made by a launcher: removed at stop once empty */
};

/*
 * Takes the directory PING_PONG_RUNTIME_DIR names (value) for the stack.
 * A path nginx's config cannot hold, or too long for the sockets under
 * it, is refused before anything is made.  The directory is made if
 * missing (and marked); an existing one must be marked already (a
 * launcher used it) or empty (then marked); run as root, it must be root's
 * and writable by root alone.  Anything else is refused with one line
 * naming the setting, and nothing in it is changed; so is one the stack's
 * user (stack_uid, stack_gid: nginx's workers) cannot enter.  Then takes its lock
 * (a running stack's directory is refused) and removes a crashed stack's
 * leftovers, each checked to be the stack's own (owned by this user or by
 * stack_uid).  Returns 0, or the exit status after one logged line: 1 (in
 * use, or a system error), 2 (refused).
 */
int	rundir_open(struct rundir *, const char *value, uid_t stack_uid, gid_t stack_gid);

/*
 * rundirpath.c: what a start checks of value's path before it makes
 * anything (nginx's config can hold it; the sockets under it fit sun_path),
 * through its links when it exists: --check-config asks it.  Returns 0, or
 * the exit status after one logged line (2; 1 when no absolute path).
 */
int	rundir_check(const char *value);
/* value as an absolute path (not resolved) into abs; 0, or 1 after one line. */
int	rundir_absolute(const char *value, char *abs, size_t len);
/* 0 when nginx's config can hold path and the sockets under it fit; else 2 after one line naming value. */
int	rundir_path_ok(const char *value, const char *path);

/*
 * Run as root, with the stack's user (uid, gid) not root: 2 (after one
 * line) when that user, as the programs run (privdrop.c: gid its only
 * group), cannot search the directories path is, or will be, made in (its
 * deepest existing parent, links resolved): nginx's workers and the
 * programs reach their sockets and files through them.  Else 0.
 */
int	rundir_parents_ok(const char *value, const char *path, uid_t uid, gid_t gid);

/* Removes what the stack made in it, its lock and its mark; the directory too if a launcher made it. */
void	rundir_close(struct rundir *);

#endif
