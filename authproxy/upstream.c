/* upstream.c: a datagram socket nginx logs to, and per-status counters of proxied queries. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pp_limits.h"
#include "upstream.h"

static unsigned long	counts[PP_HTTP_STATUS_MAX];	/* by HTTP status; 0 = unparsable (atomic) */
static int		sock = -1;	/* set at start, then read by the reader thread only */

static void *
reader(void *arg)
{
	char msg[512];
	ssize_t n;

	(void)arg;
	for (;;) {
		if ((n = recv(sock, msg, sizeof(msg) - 1, 0)) <= 0) {
			if (n < 0 && errno != EINTR)
				return NULL;
			continue;
		}
		msg[n] = '\0';
		/* "<190>Nov 27 21:20:00 pp: 200": the status is the last word. */
		char *last = strrchr(msg, ' ');
		long code = last != NULL ? strtol(last + 1, NULL, 10) : 0;

		__atomic_add_fetch(&counts[code >= 100 && code < PP_HTTP_STATUS_MAX ? code : 0], 1,
		    __ATOMIC_RELAXED);
	}
}

void
upstream_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct passwd *pw;
	pthread_t tid;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/auth-log.sock",
	    config_state_dir()) >= sizeof(sa.sun_path)) {
		log_warning(NULL, "metrics: runtime directory path too long for a socket; "
		    "no upstream counts");
		return;
	}
	unlink(sa.sun_path);
	if ((sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(sock, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		log_warning(NULL, "metrics: %s: %s; no upstream counts", sa.sun_path,
		    strerror(errno));
		return;
	}
	chmod(sa.sun_path, 0600);
	if (geteuid() == 0 && (pw = getpwnam(config_str(S_NGINX_USER))) != NULL &&
	    chown(sa.sun_path, pw->pw_uid, pw->pw_gid) == -1)
		log_warning(NULL, "metrics: chown %s: %s", sa.sun_path, strerror(errno));
	if ((errno = pthread_create(&tid, NULL, reader, NULL)) != 0)
		fatal("pthread_create: %s", strerror(errno));
	pthread_detach(tid);
}

size_t
upstream_render(char *buf, size_t cap)
{
	size_t len;
	int n;

	n = snprintf(buf, cap, "# HELP pingpong_authproxy_upstream_requests_total "
	    "Queries proxied to Prometheus, by the status the client got.\n"
	    "# TYPE pingpong_authproxy_upstream_requests_total counter\n");
	if (n < 0 || (size_t)n >= cap)
		return 0;
	len = (size_t)n;
	for (int code = 0; code < PP_HTTP_STATUS_MAX; code++) {
		unsigned long v = __atomic_load_n(&counts[code], __ATOMIC_RELAXED);
		char label[8];

		/* 200 and the proxy's own 5xx exist from the start at 0. */
		if (v == 0 && code != 200 && code != 502 && code != 503 && code != 504)
			continue;
		snprintf(label, sizeof(label), code == 0 ? "other" : "%d", code);
		n = snprintf(buf + len, cap - len,
		    "pingpong_authproxy_upstream_requests_total{code=\"%s\"} %lu\n", label, v);
		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
	return len;
}
