/* resolve.c: the database's host names turned into addresses within a deadline. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "db.h"
#include "pp_limits.h"
#include "resolve.h"

/*
 * libpq resolves a host name with a blocking getaddrinfo() inside
 * PQconnectStart/PQconnectPoll: a DNS server that does not answer would
 * hold the database thread past every deadline.  So names are resolved
 * here first, all at once with getaddrinfo_a(), waiting no longer than
 * the deadline, and libpq gets each address (hostaddr) beside its name
 * (host, still used for authentication and TLS), one entry per address as
 * libpq would try them.  A lookup still running at the deadline is left
 * to finish in the background; its slot is reused once it has.
 */
#define ADDRS_MAX	4	/* addresses kept per name */

struct slot {
	struct gaicb	 cb;
	struct addrinfo	 hints;
	char		 name[256];
	int		 busy;	/* started and not yet reaped */
};

static struct slot	slots[PP_DB_HOSTS_MAX];	/* db.c's db_lock: the database thread only */

/* Copies the i-th element of a comma-separated list into buf; "" when absent. */
static void
element(const char *list, int i, char *buf, size_t len)
{
	size_t n;

	for (; i > 0 && list != NULL; i--)
		list = (list = strchr(list, ',')) != NULL ? list + 1 : NULL;
	if (list == NULL) {
		buf[0] = '\0';
		return;
	}
	n = strcspn(list, ",");
	snprintf(buf, len, "%.*s", (int)n, list);
}

/* A socket directory, an abstract socket or an address: nothing to look up. */
static int
literal(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return host[0] == '/' || host[0] == '@' || inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/* Appends one libpq target to the three lists. */
static void
add(struct resolved *r, const char *host, const char *addr, const char *port)
{
	const char *sep = r->count > 0 ? "," : "";
	size_t h = strlen(r->host), a = strlen(r->hostaddr), p = strlen(r->port);

	snprintf(r->host + h, sizeof(r->host) - h, "%s%s", sep, host);
	snprintf(r->hostaddr + a, sizeof(r->hostaddr) - a, "%s%s", sep, addr);
	snprintf(r->port + p, sizeof(r->port) - p, "%s%s", sep, port);
	r->count++;
	if (*addr != '\0')
		r->addrs++;
}

/* Frees a finished lookup; 1 when its slot is free now. */
static int
reap(struct slot *s)
{
	if (s->busy && gai_error(&s->cb) == EAI_INPROGRESS)
		return 0;
	if (s->busy && s->cb.ar_result != NULL)
		freeaddrinfo(s->cb.ar_result);
	s->cb.ar_result = NULL;
	s->busy = 0;
	return 1;
}

int
resolve_hosts(const char *hosts, const char *ports, int n, int64_t deadline,
    struct resolved *r, char *why, size_t whylen)
{
	struct gaicb *list[PP_DB_HOSTS_MAX];
	char host[256], port[8], addr[INET6_ADDRSTRLEN];
	int nlist = 0, left, rc, multi_port = strchr(ports, ',') != NULL;
	int64_t wait;

	*r = (struct resolved){ .count = 0 };
	why[0] = '\0';
	if (n > PP_DB_HOSTS_MAX)
		n = PP_DB_HOSTS_MAX;
	for (int i = 0; i < n; i++) {
		element(hosts, i, host, sizeof(host));
		if (literal(host))
			continue;
		if (!reap(&slots[i]))
			continue;	/* the last lookup of this name has not ended */
		snprintf(slots[i].name, sizeof(slots[i].name), "%s", host);
		slots[i].hints = (struct addrinfo){ .ai_family = AF_UNSPEC,
		    .ai_socktype = SOCK_STREAM };
		slots[i].cb = (struct gaicb){ .ar_name = slots[i].name,
		    .ar_request = &slots[i].hints };
		list[nlist++] = &slots[i].cb;
	}
	if (nlist > 0 && (rc = getaddrinfo_a(GAI_NOWAIT, list, nlist, NULL)) != 0) {
		snprintf(why, whylen, "name resolution: %s", gai_strerror(rc));
		return -1;
	}
	for (int i = 0; i < nlist; i++)
		((struct slot *)list[i])->busy = 1;
	/* Until every lookup has ended, or the deadline. */
	for (;;) {
		left = 0;
		for (int i = 0; i < nlist; i++)
			left += gai_error(list[i]) == EAI_INPROGRESS;
		if (left == 0 || (wait = deadline - db_now_ms()) <= 0)
			break;
		gai_suspend((const struct gaicb *const *)list, nlist,
		    &(struct timespec){ wait / 1000, (wait % 1000) * 1000000 });
	}
	for (int i = 0; i < n; i++) {
		struct slot *s = &slots[i];
		struct addrinfo *ai;
		int kept = 0;

		element(hosts, i, host, sizeof(host));
		element(ports, multi_port ? i : 0, port, sizeof(port));
		if (literal(host)) {
			add(r, host, "", port);
			continue;
		}
		if (!s->busy || strcmp(s->name, host) != 0 ||
		    (rc = gai_error(&s->cb)) == EAI_INPROGRESS) {
			if (s->busy && gai_cancel(&s->cb) == EAI_CANCELED)
				reap(s);
			if (why[0] == '\0')
				snprintf(why, whylen, "name resolution: %s: no answer within "
				    "the deadline", host);
			continue;
		}
		if (rc != 0 && why[0] == '\0')
			snprintf(why, whylen, "name resolution: %s: %s", host, gai_strerror(rc));
		for (ai = rc == 0 ? s->cb.ar_result : NULL; ai != NULL && kept < ADDRS_MAX;
		    ai = ai->ai_next) {
			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
			    NULL, 0, NI_NUMERICHOST) != 0)
				continue;
			add(r, host, addr, port);
			kept++;
		}
		reap(s);
	}
	return r->count > 0 ? 0 : -1;
}
