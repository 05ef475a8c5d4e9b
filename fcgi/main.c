/* main.c: the worker's start-up, its accept threads, and a clean stop on a signal. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "counter.h"
#include "db.h"
#include "fcgiserve.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "sharedfile.h"

static void
usage(void)
{
	fprintf(stderr, "usage: pingpong-worker [--check-config | --print-config]\n"
	    "  Run under spawn-fcgi (the listen socket is fd 0); settings come\n"
	    "  from the environment and ./.env (see README.md).\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	char err[512];

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--check-config") != 0 &&
	    strcmp(argv[1], "--print-config") != 0))
		usage();
	if (config_load(CF_APP | CF_LAUNCH, err, sizeof(err)) == -1) {
		fprintf(stderr, "pingpong: configuration error: %s\n", err);
		return 2;
	}
	if (argc == 2) {
		if (strcmp(argv[1], "--print-config") == 0)
			config_print(stdout, CF_APP | CF_LAUNCH);
		return 0;
	}
	log_init("worker", (enum log_level)config_int(S_LOG_LEVEL));

	/*
	 * Threads mostly wait; one malloc arena per thread would only grow the
	 * resident set (README: RSS per worker).
	 */
	mallopt(M_ARENA_MAX, 1);
	fcgiserve_block_signals();
	metrics_open();
	db_init();
	counter_init();
	sharedfile_init();
	fcgiserve_run((int)config_int(S_THREADS), routes_serve,
	    config_int(S_DB_CONNECT_TIMEOUT) * 1000 +
	    config_int(S_DB_STATEMENT_TIMEOUT) + 1000);
	db_close();
	return 0;
}
