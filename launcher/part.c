/* part.c: one part of the stack: started in the guardian's group, its output relayed as log lines. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "logline.h"
#include "part.h"

/* In the child: one group, default signals, stdout and stderr to the pipe, stdin from /dev/null. */
static void
exec_part(const struct part *p, int out, pid_t pgid, const sigset_t *handled)
{
	sigset_t none;
	int fd;

	setpgid(0, pgid);
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* besides the guardian */
	for (int s = 1; s < NSIG; s++)
		if (sigismember(handled, s) == 1 || s == SIGPIPE)
			signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	execvp(p->argv[0], p->argv);
	fprintf(stderr, "cannot run %s: %s\n", p->argv[0], strerror(errno));
	_exit(127);
}

int
part_start(struct part *p, pid_t pgid, const sigset_t *handled)
{
	int pipefd[2];

	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		log_error(NULL, "%s: pipe: %s", p->name, strerror(errno));
		return -1;
	}
	if ((p->pid = fork()) == -1) {
		log_error(NULL, "%s: fork: %s", p->name, strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		p->pid = 0;
		return -1;
	}
	if (p->pid == 0)
		exec_part(p, pipefd[1], pgid, handled);
	setpgid(p->pid, pgid);
	close(pipefd[1]);
	p->out = pipefd[0];
	fcntl(p->out, F_SETFL, O_NONBLOCK);
	logline_init(&p->line, p->name, p->pid);
	log_debug(NULL, "%s: started, pid %ld", p->name, (long)p->pid);
	return 0;
}

void
part_relay(struct part *p)
{
	char buf[4096];
	ssize_t n;

	while (p->out != -1) {
		if ((n = read(p->out, buf, sizeof(buf))) > 0) {
			logline_feed(&p->line, buf, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		logline_flush(&p->line);
		close(p->out);
		p->out = -1;
	}
}
