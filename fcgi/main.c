/* main.c: the worker's start-up, its threads, and a clean stop on a signal. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "dbthread.h"
#include "fcgiserve.h"
#include "guard.h"
#include "log.h"
#include "metrics.h"
#include "pp_limits.h"
#include "routes.h"
#include "schema.h"
#include "sharedfile.h"

int
main(int argc, char *argv[])
{
	int rc;

	/* A one-shot schema step, not a server (docs/operations.md: Upgrades). */
	if (argc >= 2 && strcmp(argv[1], "--migrate") == 0)
		return schema_migrate(argc, argv);
	if ((rc = fcgiserve_start(argc, argv, CF_APP | CF_LAUNCH, "worker")) != -1)
		return rc;
	/*
	 * Threads mostly wait; one malloc arena per thread would only grow the
	 * resident set (docs/performance.md: RSS per worker).
	 */
	mallopt(M_ARENA_MAX, 1);
	metrics_open();
	guard_open();
	db_init(1);
	dbthread_start();
	sharedfile_init();
	rc = fcgiserve_run((int)config_int(S_THREADS), NULL, routes_serve,
	    config_request_budget_ms() + PP_WORKER_DRAIN_MARGIN_MS);
	db_close();
	/*
	 * _exit, not exit: request and database threads may still be
	 * running, and exit's destructors (libpq's, libc's, the sanitizers')
	 * must not run under them. Memory is checked by valgrind, which sees _exit too.
	 */
	_exit(rc);
}
