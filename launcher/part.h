/* part.h: one part of the stack: started in the guardian's group, its output relayed as log lines. */
#ifndef PP_PART_H
#define PP_PART_H

#include <signal.h>
#include <sys/types.h>

#include "logline.h"

#define SAYS_MAX	4

struct part {
	const char	*name;
	const char	*ready;		/* the path whose existence says it is ready; "-": at once */
	int		 stopsig;
	const char	*says[SAYS_MAX];	/* logged once it is ready */
	int		 nsays;
	char	       **argv;
	pid_t		 pid;		/* 0 once it has ended */
	int		 out;		/* its stdout and stderr, read here; -1 at EOF */
	struct logline	 line;
};

/*
 * Forks and execs p in process group pgid, with the signals in handled
 * (and SIGPIPE) back to their defaults, stdin from /dev/null, stdout and
 * stderr into a pipe read here (p->out).  0, or -1 after one line.
 */
int	part_start(struct part *p, pid_t pgid, const sigset_t *handled);

/* Reads what p wrote and relays it line by line (logline.h); closes p->out at EOF. */
void	part_relay(struct part *p);

#endif
