/* floor.c: make bench's floor: the worker's own serving layer (common/fcgiserve.c, PING_PONG_THREADS threads) answering "pong 0" at once. */
#include <malloc.h>
#include <unistd.h>

#include "config.h"
#include "fcgiserve.h"
#include "pp_limits.h"
#include "pong0.h"

/*
 * The worker's start-up (fcgi/main.c) without the database, the metrics
 * and the shared files: what is left is what every pong pays before its
 * database work, so the service's rate over this one's is what that work
 * costs (tools/bench; docs/performance.md).  The launcher runs it as
 * pingpong-worker from a program directory of its own (Makefile).
 */
int
main(int argc, char *argv[])
{
	int rc;

	if ((rc = fcgiserve_start(argc, argv, CF_APP | CF_LAUNCH, "floor")) != -1)
		return rc;
	mallopt(M_ARENA_MAX, 1);	/* as the worker */
	_exit(fcgiserve_run((int)config_int(S_THREADS), pong0, NULL, PP_WORKER_DRAIN_MARGIN_MS));
}
