/* gate-check.c: t/18's checks of the leader gate: a dead holder, a deadline, and turns. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "leadergate.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Whether the parent sleeps in the kernel on a lock (its wchan names a
 * futex or an rt_mutex, as a priority-inheritance lock waits): "turns"
 * leaves only then, or a parent scheduled late would find the gate free.
 */
static int
parent_waits(void)
{
	char path[64], wchan[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/wchan", (long)getppid());
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(wchan, sizeof(wchan), f) == NULL)
		wchan[0] = '\0';
	fclose(f);
	return strstr(wchan, "futex") != NULL || strstr(wchan, "rt_mutex") != NULL;
}

/* A child that takes the gate, says so on the pipe, holds it hold_ms, then does what end says. */
static pid_t
holder(long hold_ms, const char *end)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) == -1 || (pid = fork()) == -1)
		exit(2);
	if (pid == 0) {
		leadergate_init();
		if (leadergate_enter(now_ms() + 5000) != 1)
			_exit(3);
		(void)!write(p[1], "x", 1);
		msleep(hold_ms);
		if (strcmp(end, "again") == 0) {	/* up to 5 s for the parent to queue */
			int i;

			for (i = 0; i < 5000 && !parent_waits(); i++)
				msleep(1);
			if (i == 5000)
				printf("note: the parent was never seen waiting (wchan unreadable?)\n");
		}
		if (strcmp(end, "die") == 0)
			kill(getpid(), SIGKILL);
		leadergate_leave();
		if (strcmp(end, "again") == 0) {
			int64_t t0 = now_ms();
			/* The parent was waiting: it must have its turn first. */
			if (leadergate_enter(now_ms() + 5000) != 1)
				_exit(3);
			printf("holder waited %lld ms to lead again\n", (long long)(now_ms() - t0));
			leadergate_leave();
		}
		fflush(stdout);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		exit(2);
	close(p[0]);
	return pid;
}

int
main(int argc, char *argv[])
{
	char err[256];
	int64_t t0;
	int rc;
	pid_t pid;

	if (argc != 2 || config_load(CF_APP | CF_LAUNCH, err, sizeof(err)) == -1) {
		fprintf(stderr, "usage: PING_PONG_RUNTIME_DIR=dir gate-check dead|deadline|turns\n");
		return 2;
	}
	leadergate_init();
	t0 = now_ms();
	if (strcmp(argv[1], "dead") == 0) {
		/* Killed while leading: the next leader takes over at once. */
		pid = holder(0, "die");
		waitpid(pid, NULL, 0);
		rc = leadergate_enter(now_ms() + 3000);
		printf("enter after a dead holder: %d in %lld ms\n", rc, (long long)(now_ms() - t0));
		leadergate_leave();
	} else if (strcmp(argv[1], "deadline") == 0) {
		/* Held past the deadline: -1 at the deadline, not later. */
		pid = holder(1500, "leave");
		t0 = now_ms();
		rc = leadergate_enter(now_ms() + 300);
		printf("enter while held: %d in %lld ms\n", rc, (long long)(now_ms() - t0));
		waitpid(pid, NULL, 0);
	} else if (strcmp(argv[1], "turns") == 0) {
		/* The holder leaves and at once wants it back: the waiter goes first. */
		pid = holder(200, "again");
		rc = leadergate_enter(now_ms() + 3000);
		printf("waiter entered: %d\n", rc);
		fflush(stdout);
		msleep(300);
		leadergate_leave();
		waitpid(pid, NULL, 0);
	} else
		return 2;
	return 0;
}
