/* resolve.c: the database's host names turned into addresses within a deadline. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "pp_limits.h"
#include "resolve.h"

/*
 * libpq resolves a host name with a blocking getaddrinfo() inside
 * PQconnectStart/PQconnectPoll: a DNS server that does not answer would
 * hold the database thread past every deadline.  So names are resolved
 * here first, all at once, each on a thread of its own, waiting no longer
 * than the deadline, and libpq gets each address (hostaddr) beside its
 * name (host, still used for authentication and TLS), one entry per
 * address as libpq would try them.  A lookup still running at the
 * deadline is left to finish on its thread, which then frees it; at most
 * LOOKUPS_MAX are left so.  (Not getaddrinfo_a(): its helper threads have
 * a minimal stack, which a sanitizer build overflows.)
 */
#define ADDRS_MAX	4	/* addresses kept per name */
#define LOOKUPS_MAX	(2 * PP_DB_HOSTS_MAX)	/* lookups given up on and still running */

struct lookup {
	char		 name[256];
	struct addrinfo	*res;
	int		 rc;
	int		 done;		/* lookups_lock */
	int		 abandoned;	/* lookups_lock: the caller left; the thread frees it */
};

static pthread_mutex_t	lookups_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	answered;	/* made once (CLOCK_MONOTONIC), then lookups_lock's */
static pthread_once_t	once = PTHREAD_ONCE_INIT;
static int		left_running;	/* lookups_lock: lookups given up on, not ended */

static void
init_cond(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&answered, &a);
	pthread_condattr_destroy(&a);
}

static void *
lookup_thread(void *arg)
{
	struct lookup *l = arg;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(l->name, NULL, &hints, &res);

	pthread_mutex_lock(&lookups_lock);
	if (l->abandoned) {
		left_running--;
		pthread_mutex_unlock(&lookups_lock);
		if (res != NULL)
			freeaddrinfo(res);
		free(l);
		return NULL;
	}
	l->res = res;
	l->rc = rc;
	l->done = 1;
	pthread_cond_broadcast(&answered);
	pthread_mutex_unlock(&lookups_lock);
	return NULL;
}

/* Starts a lookup of name; NULL when none can be started now (why filled). */
static struct lookup *
lookup_start(const char *name, char *why, size_t whylen)
{
	struct lookup *l;
	pthread_attr_t a;
	pthread_t tid;
	int busy, rc;

	pthread_mutex_lock(&lookups_lock);
	busy = left_running >= LOOKUPS_MAX;
	pthread_mutex_unlock(&lookups_lock);
	if (busy) {
		snprintf(why, whylen, "name resolution: %s: %d earlier lookups have not "
		    "ended", name, LOOKUPS_MAX);
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(why, whylen, "name resolution: %s: out of memory", name);
		return NULL;
	}
	snprintf(l->name, sizeof(l->name), "%s", name);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &a, lookup_thread, l);
	pthread_attr_destroy(&a);
	if (rc != 0) {
		snprintf(why, whylen, "name resolution: %s: %s", name, strerror(rc));
		free(l);
		return NULL;
	}
	return l;
}

/* Waits until every lookup has ended or the deadline; the late ones are left to their threads. */
static void
lookups_wait(struct lookup **l, int n, int64_t deadline)
{
	struct timespec until = clock_ts(deadline);
	int pending;

	pthread_mutex_lock(&lookups_lock);
	for (;;) {
		pending = 0;
		for (int i = 0; i < n; i++)
			pending += l[i] != NULL && !l[i]->done;
		if (pending == 0 || pthread_cond_timedwait(&answered, &lookups_lock, &until) == ETIMEDOUT)
			break;
	}
	for (int i = 0; i < n; i++)
		if (l[i] != NULL && !l[i]->done) {
			l[i]->abandoned = 1;
			left_running++;
			l[i] = NULL;
		}
	pthread_mutex_unlock(&lookups_lock);
}

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

int
resolve_hosts(const char *hosts, const char *ports, int n, int64_t deadline,
    struct resolved *r, char *why, size_t whylen)
{
	struct lookup *l[PP_DB_HOSTS_MAX] = { NULL };
	char host[256], port[8], addr[INET6_ADDRSTRLEN], err[320];
	int multi_port = strchr(ports, ',') != NULL;

	*r = (struct resolved){ .count = 0 };
	why[0] = '\0';
	if (n > PP_DB_HOSTS_MAX)
		n = PP_DB_HOSTS_MAX;
	pthread_once(&once, init_cond);
	for (int i = 0; i < n; i++) {
		element(hosts, i, host, sizeof(host));
		if (!literal(host) && (l[i] = lookup_start(host, err, sizeof(err))) == NULL &&
		    why[0] == '\0')
			snprintf(why, whylen, "%s", err);
	}
	lookups_wait(l, n, deadline);
	for (int i = 0; i < n; i++) {
		struct addrinfo *ai;
		int kept = 0;

		element(hosts, i, host, sizeof(host));
		element(ports, multi_port ? i : 0, port, sizeof(port));
		if (literal(host)) {
			add(r, host, "", port);
			continue;
		}
		if (l[i] == NULL) {	/* not started, or no answer in time */
			if (why[0] == '\0')
				snprintf(why, whylen, "name resolution: %s: no answer within "
				    "the connect timeout (%ld s)", host, config_int(S_DB_CONNECT_TIMEOUT));
			continue;
		}
		if (l[i]->rc != 0 && why[0] == '\0')
			snprintf(why, whylen, "name resolution: %s: %s", host, gai_strerror(l[i]->rc));
		for (ai = l[i]->rc == 0 ? l[i]->res : NULL; ai != NULL && kept < ADDRS_MAX;
		    ai = ai->ai_next) {
			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
			    NULL, 0, NI_NUMERICHOST) != 0)
				continue;
			add(r, host, addr, port);
			kept++;
		}
		if (l[i]->res != NULL)
			freeaddrinfo(l[i]->res);
		free(l[i]);
	}
	return r->count > 0 ? 0 : -1;
}
