/* schema.c: what the worker says of the counter table's schema, and the explicit widening step. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "privdrop.h"
#include "schema.h"
#include "sql.h"

/*
 * The start-up schema (sql/schema.sql) only adds what is missing and never
 * changes counter_value's type; on the original's INTEGER column the
 * increment then fails at 2147483647 (PostgreSQL's 22003: no number wraps,
 * and the failed transaction hands none out).  Said so that the operator
 * knows the step to run (docs/operations.md: Upgrades).
 */
void
schema_explain(const char *state, char *why, size_t whylen)
{
	if (strcmp(state, "22003") != 0)
		return;
	snprintf(why, whylen, "the counter reached the largest value its column holds "
	    "(2147483647 for the original's INTEGER): no number handed out; once no "
	    "original is left, run pingpong-worker --migrate widen");
}

int
schema_migrate(int argc, char *argv[])
{
	char before[64] = "", why[256];
	int64_t deadline;
	int rc;

	if (argc != 3 || strcmp(argv[2], "widen") != 0) {
		fprintf(stderr, "usage: %s --migrate widen\n"
		    "  Widens ping_counter.counter_value to BIGINT (sql/widen.sql) with the\n"
		    "  usual settings: run it as the table's owner once no Python original\n"
		    "  is left (docs/operations.md: Upgrades).\n", argv[0]);
		return 2;
	}
	if (stdio_open() == -1)
		return 1;
	if ((rc = config_main(1, argv, CF_APP)) != -1)
		return rc;
	log_init("migrate", (enum log_level)config_int(S_LOG_LEVEL),
	    (enum log_format)config_int(S_LOG_FORMAT));
	/* As the worker does (fcgiserve_start): as root, nothing needs it past the settings. */
	if (privdrop(config_str(S_USER), why, sizeof(why)) == -1) {
		log_error(NULL, "migrate widen: %s", why);
		return 1;
	}
	db_init(0);	/* the step changes only what it names: no start-up schema */
	deadline = clock_ms() + config_int(S_DB_CONNECT_TIMEOUT) * 1000 +
	    config_int(S_DB_STATEMENT_TIMEOUT);
	if (db_command(sql_widen, deadline, before, sizeof(before), why, sizeof(why)) != DB_OK) {
		log_error(NULL, "migrate widen: %s; nothing changed", why);
		db_close();
		return 1;
	}
	if (strcmp(before, "bigint") == 0)
		log_info(NULL, "migrate widen: ping_counter.counter_value is bigint already; "
		    "nothing to do");
	else
		log_info(NULL, "migrate widen: ping_counter.counter_value widened from %s "
		    "to bigint", before);
	db_close();
	return 0;
}
