/* dbhosts.h: the order in which libpq is given the database hosts. */
#ifndef PP_DBHOSTS_H
#define PP_DBHOSTS_H

/*
 * Takes PING_PONG_DB_HOST and PING_PONG_DB_PORT as validated by config.c
 * (one port for all hosts, or one per host). The lists returned below live
 * as long as the program and are rewritten in place by dbhosts_skip().
 */
void	dbhosts_init(const char *hosts, const char *ports);
const char *dbhosts_hosts(void);	/* for libpq's "host" */
const char *dbhosts_ports(void);	/* for libpq's "port" */

/*
 * A connection attempt ran out of time while libpq was on host:port (as
 * PQhost and PQport name it): the next attempt starts with the host after
 * it, so one that never answers cannot hide those behind it. libpq moves on
 * by itself from a host that refuses or is read-only, but with a
 * non-blocking connect the caller owns the timeout. Returns 1 when the
 * order changed, 0 when host:port is not in the list or it has one host.
 */
int	dbhosts_skip(const char *host, const char *port);

#endif
