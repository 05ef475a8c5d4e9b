/* rundir.c: the runtime directory: the stack's own files only, one stack at a time. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "rundir.h"

/* What a stack makes in its runtime directory, besides its lock and its mark. */
static const char *const made[] = {
	"nginx", "nginx.conf", "nginx.pid", "healthcheck", "app.sock", "auth.sock",
	"log.sock", "state", "access.fifo",
};
#define NMADE	(sizeof(made) / sizeof(made[0]))

#define MARK_CREATED	"pingpong runtime directory, made by the launcher\n"
#define MARK_ADOPTED	"pingpong runtime directory, found empty\n"

static const char *setting = "PING_PONG_RUNTIME_DIR";

/* mkdir -p of path's parents (mode 0755); the last component is not made. */
static int
make_parents(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* 1 when dir holds no entry, 0 when it holds one, -1 on error. */
static int
is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

/* Writes the mark; 0 or -1. */
static int
mark(const char *dir, int created)
{
	char path[PATH_MAX + 32];
	const char *text = created ? MARK_CREATED : MARK_ADOPTED;
	ssize_t n;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, RUNDIR_MARK);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) == -1)
		return -1;
	if ((n = write(fd, text, strlen(text))) != (ssize_t)strlen(text)) {
		if (n >= 0)
			errno = ENOSPC;	/* a short write sets none: the caller logs errno */
		rc = -1;
	}
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

/* 1: marked by a launcher of this user (*created from it), 0: no mark, -1: a mark that is not ours. */
static int
read_mark(const char *dir, int *created)
{
	char path[PATH_MAX + 32], buf[128];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, RUNDIR_MARK);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (n = read(fd, buf, sizeof(buf) - 1)) <= 0) {
		close(fd);
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	if (strcmp(buf, MARK_CREATED) != 0 && strcmp(buf, MARK_ADOPTED) != 0)
		return -1;
	*created = strcmp(buf, MARK_CREATED) == 0;
	return 1;
}

/* Makes abs (mode 0711, its parents 0755) when missing: rd->created says it was made here; 0, or 1 after one line. */
static int
make_missing(struct rundir *rd, const char *value, const char *abs)
{
	struct stat st;

	rd->created = 0;
	if (stat(abs, &st) == 0 || errno != ENOENT)
		return 0;
	if (make_parents(abs) == -1) {
		log_error(NULL, "%s=%s: cannot make it: %s", setting, value, strerror(errno));
		return 1;
	}
	if (mkdir(abs, 0711) == 0)
		rd->created = 1;
	else if (errno != EEXIST) {
		log_error(NULL, "%s=%s: cannot make it: %s", setting, value, strerror(errno));
		return 1;
	}
	return 0;
}

/* Writes the mark in rd->path; 0, or 1 after one line. */
static int
write_mark(const struct rundir *rd, const char *value, int created)
{
	if (mark(rd->path, created) == -1) {
		log_error(NULL, "%s=%s: cannot write %s in it: %s", setting, value, RUNDIR_MARK, strerror(errno));
		return 1;
	}
	return 0;
}

/* A directory the launcher did not make, run as root: 2 (after one line) unless it is root's alone and the stack's user enters it. */
static int
refuse_owner(const char *value, const struct stat *st, uid_t stack_uid, gid_t stack_gid)
{
	if (geteuid() != 0)
		return 0;
	/* Root writes here (nginx.conf, sockets): a directory others can write is not the stack's. */
	if (st->st_uid != 0 || (st->st_mode & 022) != 0) {
		log_error(NULL, "%s=%s is not root's alone (owner uid %ld, mode %04o): nothing was changed in it; "
		    "give the stack a new path, or a directory of root's that others cannot write",
		    setting, value, (long)st->st_uid, (unsigned)(st->st_mode & 07777));
		return 2;
	}
	/* The stack's user (nginx's workers) reaches the sockets in it. */
	if (stack_uid != 0 && (st->st_mode & 0001) == 0 &&
	    !(st->st_gid == stack_gid && (st->st_mode & 0010) != 0)) {
		log_error(NULL, "%s=%s cannot be entered by the stack's user (uid %ld; mode %04o): nothing was "
		    "changed in it; give it mode 0711, or give the stack a new path", setting, value,
		    (long)stack_uid, (unsigned)(st->st_mode & 07777));
		return 2;
	}
	return 0;
}

/* A directory the launcher did not make: marked already, or empty (then marked); 0, or an exit status after one line. */
static int
adopt(struct rundir *rd, const char *value)
{
	int m;

	if ((m = read_mark(rd->path, &rd->created)) == 1)
		return 0;
	if (m == 0 && is_empty(rd->path) == 1)
		return write_mark(rd, value, 0);
	log_error(NULL, "%s=%s is not empty and not a pingpong runtime directory (it has no %s of this user's launcher): "
	    "nothing was changed in it; give the stack a new or empty directory", setting, value, RUNDIR_MARK);
	return 2;
}

/* The directory named by value, made if missing (and marked), else checked and adopted; 0, or an exit status after one line. */
static int
claim_dir(struct rundir *rd, const char *value, uid_t stack_uid, gid_t stack_gid)
{
	char abs[PATH_MAX];
	struct stat st;
	int rc;

	if ((rc = rundir_absolute(value, abs, sizeof(abs))) != 0 ||
	    (rc = rundir_path_ok(value, abs)) != 0 ||
	    (rc = rundir_parents_ok(value, abs, stack_uid, stack_gid)) != 0)
		return rc;
	if ((rc = make_missing(rd, value, abs)) != 0)
		return rc;
	if (realpath(abs, rd->path) == NULL || stat(rd->path, &st) == -1) {
		log_error(NULL, "%s=%s: %s", setting, value, strerror(errno));
		return 1;
	}
	if ((rc = rundir_path_ok(value, rd->path)) != 0 ||	/* through a link */
	    (rc = rundir_parents_ok(value, rd->path, stack_uid, stack_gid)) != 0) {
		if (rd->created)
			rmdir(rd->path);
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error(NULL, "%s=%s is not a directory: give the stack a new path or a directory of its own", setting, value);
		return 2;
	}
	if (rd->created) {
		if ((rc = write_mark(rd, value, 1)) != 0)
			rmdir(rd->path);
		return rc;
	}
	if ((rc = refuse_owner(value, &st, stack_uid, stack_gid)) != 0)
		return rc;
	return adopt(rd, value);
}

/* Takes the directory's lock, held for the stack's life; 0, or an exit status after one line. */
static int
lock_dir(struct rundir *rd)
{
	char path[PATH_MAX + 16], pid[24];
	struct stat a, b;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", rd->path);
	/* A file removed by a stack that just ended is not the one at the path: take the lock again then. */
	for (int attempt = 0; attempt < 3; attempt++) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644)) == -1) {
			log_error(NULL, "cannot open %s: %s", path, strerror(errno));
			return 1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			n = pread(fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? strspn(pid, "0123456789") : 0] = '\0';
			/* The pid a killed launcher left names no running stack: someone else holds the lock. */
			if (*pid != '\0' && kill((pid_t)atol(pid), 0) == -1 && errno == ESRCH)
				log_error(NULL, "%s is held by a process that is not a running launcher (the pid in it, "
				    "%s, has ended): stop what holds it, or give this stack its own %s", path, pid, setting);
			else
				log_error(NULL, "runtime directory %s is in use by a running stack (launcher pid %s): "
				    "stop it, or give this one its own %s", rd->path, pid, setting);
			close(fd);
			return 1;
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			rd->lockfd = fd;
			return 0;
		}
		close(fd);
	}
	log_error(NULL, "cannot lock %s", path);
	return 1;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1 && errno != ENOENT)
		log_warning(NULL, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* Removes one entry of the directory, a tree never followed through a link. */
static void
remove_made(const struct rundir *rd, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", rd->path, name);
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A crashed stack's leftovers: checked to be the stack's, then removed; 0, or an exit status after one line. */
static int
remove_leftovers(struct rundir *rd, uid_t stack_uid)
{
	char path[PATH_MAX + 32], names[256] = "";
	struct stat st;
	size_t len = 0;

	for (size_t i = 0; i < NMADE; i++) {
		snprintf(path, sizeof(path), "%s/%s", rd->path, made[i]);
		if (lstat(path, &st) == -1)
			continue;
		if (st.st_uid != geteuid() && st.st_uid != stack_uid) {
			log_error(NULL, "runtime directory %s holds %s, owned by uid %ld: not this stack's, "
			    "so nothing was removed; give the stack a directory of its own (%s)",
			    rd->path, made[i], (long)st.st_uid, setting);
			return 2;
		}
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", len ? " " : "", made[i]);
	}
	if (len == 0)
		return 0;
	log_warning(NULL, "removing what a stack that did not stop left in %s: %s", rd->path, names);
	for (size_t i = 0; i < NMADE; i++)
		remove_made(rd, made[i]);
	return 0;
}

int
rundir_open(struct rundir *rd, const char *value, uid_t stack_uid, gid_t stack_gid)
{
	char pid[24];
	ssize_t n;
	int rc;

	rd->lockfd = -1;
	if ((rc = claim_dir(rd, value, stack_uid, stack_gid)) != 0)
		return rc;
	if ((rc = lock_dir(rd)) != 0 || (rc = remove_leftovers(rd, stack_uid)) != 0)
		return rc;
	/* The pid a second launcher names when it is refused. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(rd->lockfd, 0) == -1 || pwrite(rd->lockfd, pid, (size_t)n, 0) != n)
		log_warning(NULL, "cannot write the launcher's pid in %s/lock: %s", rd->path, strerror(errno));
	return 0;
}

void
rundir_close(struct rundir *rd)
{
	for (size_t i = 0; i < NMADE; i++)
		remove_made(rd, made[i]);
	remove_made(rd, "lock");
	remove_made(rd, RUNDIR_MARK);
	if (rd->created && rmdir(rd->path) == -1 && errno != ENOTEMPTY && errno != EEXIST)
		log_warning(NULL, "cannot remove %s: %s", rd->path, strerror(errno));
}
