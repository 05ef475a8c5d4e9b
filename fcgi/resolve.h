/* resolve.h: the database's host names turned into addresses within a deadline. */
#ifndef PP_RESOLVE_H
#define PP_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "pp_limits.h"

#define RESOLVE_TARGETS_MAX	(PP_DB_HOSTS_MAX * 4)	/* hosts x addresses kept per name */

/* libpq's host, hostaddr and port lists, one entry per address to try. */
struct resolved {
	char	host[RESOLVE_TARGETS_MAX * 257];
	char	hostaddr[RESOLVE_TARGETS_MAX * 47];
	char	port[RESOLVE_TARGETS_MAX * 7];
	int	count;		/* entries */
	int	addrs;		/* entries with an address (0: pass no hostaddr) */
};

/*
 * Resolves the n names of hosts (libpq's comma-separated list; socket
 * directories and addresses are kept as they are) by the deadline (the
 * connect timeout from the connect's start, which why names)
 * (clock_ms(), clock.h); ports is one port or one per host.  Returns 0 when
 * at least one entry is left to try; -1 when none is (why filled).  A name
 * that failed or did not answer in time is left out, and why names the
 * first one.  Called by the database thread only.
 */
int	resolve_hosts(const char *hosts, const char *ports, int n, int64_t deadline,
	    struct resolved *r, char *why, size_t whylen);

#endif
