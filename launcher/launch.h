/* launch.h: what the launcher resolved once for its role, read by the parts' command lines (parts.c) and nginx's config (nginxconf.c). */
#ifndef PP_LAUNCH_H
#define PP_LAUNCH_H

struct stack {
	const char	*libexec;	/* PP_LIBEXEC: the programs */
	const char	*share;		/* PP_SHARE: nginx/ holds the templates */
	int		 app;		/* the role runs the worker pool */
	int		 auth;		/* ... the token helper */
	int		 logoutput;	/* ... log-output */
	const char	*user;		/* started as root: the stack's user (nginx's workers, the sockets); else NULL */
	const char	*group;		/* ... and its group */
	const char	*rundir;	/* the runtime directory (rundir.c): absolute, links resolved */
	const char	*statedir;	/* the programs' own directory in it (their PING_PONG_RUNTIME_DIR) */
	int		 lockfd;	/* the runtime directory's lock, held by the keeper */
};

/*
 * What the launcher allocates (the parts' argv, the placeholders' values,
 * the rendered text) lives as long as it does: one list holds it all, so
 * none of it is ever unreachable (LeakSanitizer, make test SAN=1).
 */
void	*own(void *p);		/* p kept; out of memory (NULL) is fatal */
char	*keep(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* a formatted string kept */

#endif
