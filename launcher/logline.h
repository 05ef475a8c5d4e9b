/* logline.h: a part's output, line by line, into the one log format. */
#ifndef PP_LOGLINE_H
#define PP_LOGLINE_H

#include <limits.h>
#include <stddef.h>

struct logline {
	const char	*component;	/* the part's name: "workers", "nginx" */
	long		 pid;
	char		 buf[PIPE_BUF + 16];	/* a line being assembled; room for PP_LOG_CUT */
	size_t		 len;
	int		 cutting;	/* dropping the rest of a line that was too long */
	char		 said[256];	/* its first error, else its last line: a failure's cause */
	int		 said_error;	/* said holds an error */
	int		 ready;		/* set by the caller once the part is up */
};

void	logline_init(struct logline *, const char *component, long pid);

/*
 * Takes n bytes the part wrote.  Each complete line is written to stderr:
 * a line already in the log format (the programs') unchanged; nginx's
 * error log lines ("2026/11/28 06:31:45 [error] 12#0: ...", a format nginx
 * cannot change) with their level, "nginx" and nginx's pid, stamped when
 * read; any other line (spawn-fcgi, multiwatch, a crash report) as an INFO
 * line of the part.  A line longer than the buffer is cut: its start, with
 * PP_LOG_CUT, becomes an INFO line of the part (escaped, never passed as
 * is), and the rest is dropped, so no piece of it can pass for a line.
 */
void	logline_feed(struct logline *, const char *data, size_t n);

/* Writes a last line that has no newline (at EOF). */
void	logline_flush(struct logline *);

#endif
