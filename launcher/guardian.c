/* guardian.c: the guardian: the parts' process group's leader, which kills the group should the launcher die. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "guardian.h"
#include "log.h"

/* In the guardian: waits for the launcher's death, then kills the group (itself included). */
static void
guard(pid_t launcher)
{
	sigset_t all, death;
	int fd;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	sigemptyset(&death);
	sigaddset(&death, SIGUSR1);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1) == 0 && getppid() == launcher)
		sigwaitinfo(&death, NULL);
	kill(0, SIGKILL);
	_exit(1);
}

pid_t
guardian_start(void)
{
	pid_t launcher = getpid(), guardian;

	if ((guardian = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (guardian == 0) {
		setpgid(0, 0);
		guard(launcher);
	}
	setpgid(guardian, guardian);
	return guardian;
}
