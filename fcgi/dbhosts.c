/* dbhosts.c: the order in which libpq is given the database hosts; past one that hung. */
#include <stdio.h>
#include <string.h>

#include "dbhosts.h"
#include "pp_limits.h"

#define HOST_MAX	256	/* config.c refuses longer elements */
#define PORT_MAX	8

/* All the database thread's: dbconn.c calls these under db_lock, one connect at a time. */
static char	 host[PP_DB_HOSTS_MAX][HOST_MAX];
static char	 port[PP_DB_HOSTS_MAX][PORT_MAX];
static int	 nhosts, nports, first;
static char	 host_list[PP_DB_HOSTS_MAX * HOST_MAX];
static char	 port_list[PP_DB_HOSTS_MAX * PORT_MAX];

/* Splits a comma-separated list into at most PP_DB_HOSTS_MAX elements. */
static int
split(const char *list, char *out, size_t width)
{
	int n = 0;
	size_t len;

	for (const char *p = list; n < PP_DB_HOSTS_MAX; p += len + 1) {
		len = strcspn(p, ",");
		snprintf(out + (size_t)n * width, width, "%.*s", (int)len, p);
		n++;
		if (p[len] == '\0')
			break;
	}
	return n;
}

/* Writes the lists starting at host number first, in the given order after it. */
static void
build(void)
{
	size_t h = 0, p = 0;

	for (int k = 0; k < nhosts; k++) {
		int i = (first + k) % nhosts;

		h += (size_t)snprintf(host_list + h, sizeof(host_list) - h, "%s%s",
		    k ? "," : "", host[i]);
		if (nports > 1)
			p += (size_t)snprintf(port_list + p, sizeof(port_list) - p, "%s%s",
			    k ? "," : "", port[i]);
	}
	if (nports == 1)
		snprintf(port_list, sizeof(port_list), "%s", port[0]);
}

void
dbhosts_init(const char *hosts, const char *ports)
{
	nhosts = split(hosts, &host[0][0], HOST_MAX);
	nports = split(ports, &port[0][0], PORT_MAX);
	first = 0;
	build();
}

const char *
dbhosts_hosts(void)
{
	return host_list;
}

const char *
dbhosts_ports(void)
{
	return port_list;
}

int
dbhosts_skip(const char *h, const char *p)
{
	if (nhosts < 2 || h == NULL || p == NULL)
		return 0;
	for (int k = 0; k < nhosts; k++) {
		int i = (first + k) % nhosts;

		if (strcmp(host[i], h) == 0 && strcmp(port[nports > 1 ? i : 0], p) == 0) {
			first = (i + 1) % nhosts;
			build();
			return 1;
		}
	}
	return 0;
}
