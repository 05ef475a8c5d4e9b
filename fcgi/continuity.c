/* continuity.c: refuses a database that does not continue the counter handed over to it. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "continuity.h"

/*
 * The per-pod guard (guard.c) sees a counter that goes back under a pod
 * that handed numbers out; a pod that starts on another database has
 * handed out nothing, so a fresh database counting from 0 looks fine to
 * it.  Moving the counter to another database (the CloudNativePG overlay)
 * is therefore marked in the data itself: the old database gets the table
 * ping_counter_handover during the write freeze (manifests/ha/handover.sql),
 * the import copies it, and a worker told PING_PONG_DB_REQUIRE_HANDOVER=on
 * serves only on a database that has it.  Checked at each connection,
 * before the schema, so nothing is created in a database that is refused.
 */
int
continuity_required(void)
{
	return config_int(S_DB_REQUIRE_HANDOVER) != 0;
}

int
continuity_judge(const PGresult *res, const char *host, const char *port,
    char *why, size_t whylen)
{
	if (res != NULL && PQntuples(res) == 1 && PQnfields(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		return 0;
	snprintf(why, whylen, "refused: %s:%s has no ping_counter_handover table: not the "
	    "database the counter was handed over to (PING_PONG_DB_REQUIRE_HANDOVER=on; "
	    "docs/kubernetes.md: Moving the counter)", host, port);
	return -1;
}
