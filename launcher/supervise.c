/* supervise.c: the launcher's keeper: the parts started in order, the loop over their output, ended children and stop signals, the stop in reverse order; nothing left behind. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accesslog.h"
#include "clock.h"
#include "guardian.h"
#include "log.h"
#include "nginxconf.h"
#include "part.h"
#include "stopsignals.h"
#include "supervise.h"

/*
 * The launcher (launch.c) renders the configuration, takes the runtime
 * directory's lock, and hands this keeper the parts (their command line:
 * parts.c), in its pid:
 *
 *   supervise_main: [--grace S] [--lock-fd N]
 *       [--access-log FIFO [--print-access] [--answers SEGMENT]] --
 *       NAME READY STOPSIG [--say MSG]... -- ARGV... ';' ...
 *
 * Each part (NAME) is started in turn and must be ready (the path READY
 * exists, "-": at once) before the next starts; once ready, its --say lines
 * are logged ("listening on ...").  Parts are stopped in the reverse order,
 * each with its STOPSIG (nginx: QUIT, its graceful stop) and up to S
 * seconds, then SIGKILL.  Any part ending by itself, before or after it
 * was ready, stops the others; the exit status is then 1, after one line
 * naming the part and its last words (so does a part not ready within
 * READY_SECONDS, or the guardian's end).  SIGTERM, SIGINT, SIGHUP or
 * SIGQUIT stop the stack with status 0.
 *
 * Nothing survives the launcher.  Every part runs in one process group
 * that is not the terminal's (a terminal's Ctrl-C reaches the launcher
 * alone, which stops the parts gracefully).  Its leader is a guardian
 * process (guardian.c) that does nothing but wait for the launcher to die
 * (PR_SET_PDEATHSIG); should the launcher be killed with SIGKILL, the
 * guardian kills the whole group.  Each part is started and its output
 * relayed by part.c.  The launcher is a child subreaper, so
 * an orphaned nginx worker is still its child.  Parts that change their
 * process group would escape; none does (spawn-fcgi -n, multiwatch, nginx
 * with daemon off, the programs).
 *
 * One writer per output.  The launcher alone writes its stdout and stderr:
 * each part's stdout and stderr are a pipe to it, and nginx's access log
 * is a FIFO it reads (--access-log, launcher/accesslog.c: the access lines
 * on stdout with --print-access, each answer on the app's port counted in
 * SEGMENT).  So whatever they are (a file opened with > or >>, a pipe, a
 * terminal), no two writers share an offset and every line arrives whole.
 */

#define PARTS_MAX	8
#define READY_SECONDS	60	/* a part not ready by then failed to start */

static struct part	parts[PARTS_MAX];
static int		nparts;
static const char	*access_fifo, *answers_path;
static int		print_access;
static long		grace = 10;
static pid_t		pgid;		/* the guardian's: every part's group */
static int		sigfd = -1;
static sigset_t		handled;
static int		stopping;	/* 0 while running; once stopping, the exit status + 1 */

static int
signal_number(const char *name)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "TERM", SIGTERM }, { "QUIT", SIGQUIT }, { "INT", SIGINT },
		{ "USR1", SIGUSR1 }, { "KILL", SIGKILL },
	};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(name, sigs[i].name) == 0)
			return sigs[i].sig;
	return -1;
}

static void
usage(void)
{
	fprintf(stderr, "supervise: [--grace S] [--lock-fd N]\n"
	    "           [--access-log FIFO [--print-access] [--answers SEGMENT]] --\n"
	    "           NAME READY STOPSIG [--say MSG]... -- ARGV... ';' ...\n");
	exit(2);
}

/* supervise_main's argv into the options and parts[]; a malformed one is fatal (usage, exit 2). */
static void
parse_args(int argc, char *argv[])
{
	int i = 1, lockfd;

	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc)
			grace = atol(argv[++i]);
		else if (strcmp(argv[i], "--lock-fd") == 0 && i + 1 < argc) {
			/* Held here and by the guardian, never by a part. */
			lockfd = atoi(argv[++i]);
			if (fcntl(lockfd, F_SETFD, FD_CLOEXEC) == -1)
				fatal("lock descriptor %d: %s", lockfd, strerror(errno));
		} else if (strcmp(argv[i], "--access-log") == 0 && i + 1 < argc)
			access_fifo = argv[++i];
		else if (strcmp(argv[i], "--answers") == 0 && i + 1 < argc)
			answers_path = argv[++i];
		else if (strcmp(argv[i], "--print-access") == 0)
			print_access = 1;
		else
			usage();
	}
	for (i++; i < argc; i++) {
		struct part *p = &parts[nparts];

		if (nparts == PARTS_MAX || i + 3 > argc)
			usage();
		p->name = argv[i++];
		p->ready = argv[i++];
		if ((p->stopsig = signal_number(argv[i++])) == -1)
			usage();
		for (; i + 1 < argc && strcmp(argv[i], "--say") == 0; i += 2)
			if (p->nsays < SAYS_MAX)
				p->says[p->nsays++] = argv[i + 1];
		if (i >= argc || strcmp(argv[i], "--") != 0)
			usage();
		p->argv = &argv[++i];
		for (; i < argc && strcmp(argv[i], ";") != 0; i++)
			;
		if (i == argc || p->argv == &argv[i])
			usage();
		argv[i] = NULL;
		p->out = -1;
		nparts++;
	}
	if (nparts == 0)
		usage();
}

static struct part *
part_of(pid_t pid)
{
	for (int i = 0; i < nparts; i++)
		if (parts[i].pid == pid)
			return &parts[i];
	return NULL;
}

/* "exited with status 1" / "was killed by signal 9 (Killed)" */
static void
describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (status 0x%x)", status);
}

static void begin_stop(int status);

/* For a port nginx could not bind: the setting that moves it, as the end of the failure's line. */
static const char *
taken_hint(const struct part *p)
{
	static char hint[160];
	const char *name;
	long port;

	if ((name = nginxconf_taken_port(p->line.said, &port)) == NULL)
		return "";
	snprintf(hint, sizeof(hint), "; port %ld is taken by another program: set %s to a free one", port, name);
	return hint;
}

/* Reaps every ended child; a part that ended by itself, or the guardian, stops the stack. */
static void
reap(void)
{
	char how[96];
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct part *p = part_of(pid);

		if (pid == pgid && !stopping) {
			/* Without it a SIGKILL of the launcher would leave the parts. */
			describe(status, how, sizeof(how));
			log_error(NULL, "the guardian (pid %ld) %s; stopping the stack it protects",
			    (long)pid, how);
			begin_stop(1);
		}
		if (p == NULL)
			continue;	/* an orphan of a part, or the guardian */
		p->pid = 0;
		if (stopping) {
			log_debug(NULL, "%s stopped", p->name);
			continue;
		}
		part_relay(p);
		describe(status, how, sizeof(how));
		log_error(NULL, "%s %s %s%s%s%s%s; stopping the stack", p->name,
		    p->line.ready ? "ended:" : "failed to start:", how,
		    *p->line.said != '\0' ? " (it said: \"" : "",
		    p->line.said, *p->line.said != '\0' ? "\")" : "", taken_hint(p));
		begin_stop(1);
	}
}

static void
begin_stop(int status)
{
	if (stopping == 0)
		stopping = status + 1;	/* 1: asked to stop, 2: a failure */
}

/* Handles what arrives within timeout seconds: output, ended children, stop signals. */
static void
step(double timeout)
{
	struct pollfd pfd[PARTS_MAX + 2];
	struct signalfd_siginfo si;
	int n = 0, idx[PARTS_MAX + 1];

	pfd[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	if (accesslog_fd() != -1) {
		idx[n - 1] = -1;
		pfd[n++] = (struct pollfd){ .fd = accesslog_fd(), .events = POLLIN };
	}
	for (int i = 0; i < nparts; i++)
		if (parts[i].out != -1) {
			idx[n - 1] = i;
			pfd[n++] = (struct pollfd){ .fd = parts[i].out, .events = POLLIN };
		}
	if (poll(pfd, (nfds_t)n, (int)(timeout * 1000)) <= 0)
		return;
	for (int k = 1; k < n; k++)
		if (pfd[k].revents != 0 && idx[k - 1] == -1)
			accesslog_read();
		else if (pfd[k].revents != 0)
			part_relay(&parts[idx[k - 1]]);
	if (pfd[0].revents == 0)
		return;
	while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (stopping)
			log_info(NULL, "signal %s: already stopping", strsignal((int)si.ssi_signo));
		else {
			log_info(NULL, "signal %s: stopping the stack gracefully",
			    strsignal((int)si.ssi_signo));
			begin_stop(0);
		}
	}
	reap();
}

/* Starts the parts in order, each ready before the next; 0, or -1 when the stack must stop. */
static int
start_all(void)
{
	struct stat st;

	for (int i = 0; i < nparts; i++) {
		struct part *p = &parts[i];
		double deadline = clock_s() + READY_SECONDS;

		if (part_start(p, pgid, &handled) == -1) {
			begin_stop(1);
			return -1;
		}
		while (!stopping && strcmp(p->ready, "-") != 0 && stat(p->ready, &st) == -1) {
			if (clock_s() > deadline) {
				log_error(NULL, "%s failed to start: %s did not appear within %d s; stopping the stack",
				    p->name, p->ready, READY_SECONDS);
				begin_stop(1);
			}
			step(0.05);
		}
		if (stopping)
			return -1;
		p->line.ready = 1;
		for (int s = 0; s < p->nsays; s++)
			log_info(NULL, "%s", p->says[s]);
	}
	return 0;
}

static int
alive(const struct part *p)
{
	return p->pid != 0;
}

/* Stops the parts in reverse order, each with its signal and up to grace seconds. */
static void
stop_all(void)
{
	for (int i = nparts - 1; i >= 0; i--) {
		struct part *p = &parts[i];
		double deadline = clock_s() + (double)grace;

		if (!alive(p))
			continue;
		kill(p->pid, p->stopsig);
		while (alive(p) && clock_s() < deadline)
			step(0.1);
		if (alive(p)) {
			log_warning(NULL, "%s did not stop within %ld s: killed", p->name, grace);
			kill(p->pid, SIGKILL);
			while (alive(p))
				step(0.1);
		}
	}
	/* What is left of the group (orphans, the guardian) goes now. */
	kill(-pgid, SIGKILL);
	for (double end = clock_s() + 2; clock_s() < end && waitpid(-1, NULL, WNOHANG) != -1; )
		step(0.02);
	for (int i = 0; i < nparts; i++)
		part_relay(&parts[i]);
	accesslog_read();	/* what nginx wrote as it stopped */
}

int
supervise_main(int argc, char *argv[])
{
	int rc;

	parse_args(argc, argv);

	stop_signals_fill(&handled);
	sigaddset(&handled, SIGCHLD);	/* not a stop: a part's death, read from the same signalfd */
	sigprocmask(SIG_BLOCK, &handled, NULL);
	/* A shell without job control starts background jobs with SIGINT ignored. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&handled, sig) == 1)
			signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if ((sigfd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal("signalfd: %s", strerror(errno));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pgid = guardian_start();

	if (access_fifo != NULL && accesslog_open(access_fifo, answers_path, print_access) == -1)
		begin_stop(1);
	else if (start_all() == 0)
		while (!stopping)
			step(1);
	stop_all();
	rc = stopping - 1;
	log_info(NULL, "stopped%s", rc != 0 ? " after a failure" : "");
	return rc;
}
