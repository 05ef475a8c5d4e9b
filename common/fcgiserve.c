/* fcgiserve.c: the FastCGI programs' request threads over an epoll set of idle connections, and draining on stop. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fcgiserve.h"
#include "log.h"
#include "pp_limits.h"

/*
 * nginx keeps its FastCGI connections open between requests
 * (fastcgi_keep_conn), which saves a connect, an accept and a close per
 * request.  libfcgi reads a connection's next request with a blocking
 * read, so a thread that waited on its connection would be held by it
 * even while idle, and a new connection could find every thread held.
 * Instead, idle connections wait in one epoll set: a thread takes one
 * that has a request (EPOLLONESHOT: one thread per connection), and the
 * connection goes back once the request is answered, by this thread or
 * (deferred) by another.  Threads only read and dispatch: the worker's
 * pongs wait for the database on its database thread, not on these.
 *
 * libfcgi has no accessor for a request's connection: its descriptor is
 * read from FCGX_Request.ipcFd (fcgiapp.h, stable since libfcgi 2.4).
 */
#define LISTEN_FD	0	/* spawn-fcgi's listening socket */
#define READY_MAX	16	/* connections one thread takes per wake-up */

struct conn {
	FCGX_Request	 req;		/* first: fcgiserve_finish gets c back */
	struct conn	*prev, *next;	/* the open connections (reachable for valgrind) */
	_Alignas(max_align_t) unsigned char scratch[FCGI_SCRATCH_MAX];
};

static pthread_mutex_t	conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn	*conns;		/* conns_lock */
static int		epfd = -1;	/* set by the main thread before any request thread */
static int		listen_tag;	/* epoll's data.ptr for the listening socket */
static int		stopping;	/* atomic: set on a stop signal or a failure */
static int		failed;		/* atomic: a request thread could not go on */
static int		inflight;	/* atomic: requests between accept and finish */
static fcgi_handler	handle;		/* set before the threads, then read-only */
static fcgi_deferring_handler handle_deferring;	/* likewise */

/*
 * A request thread that cannot go on (its epoll set broke) says why once
 * and has the main thread stop the process as on a signal: requests in
 * flight drain, then the program _exits (never exit(3) under running
 * threads: fcgi/main.c) with status 1, and multiwatch starts a fresh one.
 */
static void
give_up(const char *what, int err)
{
	if (__atomic_exchange_n(&failed, 1, __ATOMIC_SEQ_CST) == 0) {
		log_error(NULL, "%s: %s; stopping this process", what, strerror(err));
		kill(getpid(), SIGTERM);	/* the main thread's sigwait takes it */
	}
	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
}

static struct conn *
conn_new(void)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (FCGX_InitRequest(&c->req, LISTEN_FD, 0) != 0) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&conns_lock);
	if ((c->next = conns) != NULL)
		conns->prev = c;
	conns = c;
	pthread_mutex_unlock(&conns_lock);
	return c;
}

static void
conn_free(struct conn *c)
{
	pthread_mutex_lock(&conns_lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&conns_lock);
	FCGX_Free(&c->req, 1);	/* closes the connection */
	free(c);
}

/* (Re)arms fd for one more wake-up of one thread; -1 on failure. */
static int
arm(int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = tag };

	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	/* New, or a number reused after libfcgi closed the old connection. */
	return errno == ENOENT ? epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) : -1;
}

/*
 * A new connection with its first request read, or NULL: another thread
 * took it (EAGAIN), or a failure, logged once until an accept works again.
 * After a failure the thread pauses: the listening socket stays ready, and
 * retrying at once would spin (out of descriptors, say).
 */
static struct conn *
accept_one(void)
{
	static struct log_outage no_accept = LOG_OUTAGE_INIT;	/* shared by the request threads */
	struct timespec pause = clock_ts(100);
	struct conn *c = conn_new();
	int rc;

	/* Let another thread take the next connection meanwhile. */
	if (arm(LISTEN_FD, &listen_tag) == -1) {
		give_up("epoll_ctl on the listening socket", errno);
		if (c != NULL)
			conn_free(c);
		return NULL;
	}
	rc = c == NULL ? -ENOMEM : FCGX_Accept_r(&c->req);
	if (rc == 0) {
		if (log_outage_over(&no_accept) >= 0)
			log_info(NULL, "FastCGI: taking new connections again");
		return c;
	}
	if (c != NULL)
		conn_free(c);
	if (rc == -EAGAIN || rc == -EWOULDBLOCK)
		return NULL;
	if (log_outage_fail(&no_accept, NULL))
		log_error(NULL, "FastCGI: cannot take a new connection (%s); "
		    "retrying every 100 ms", rc > -4096 ? strerror(-rc) : "libfcgi error");
	nanosleep(&pause, NULL);
	return NULL;
}

/*
 * Reads the next request on a kept connection: 0, or -1 when it is gone
 * (then freed).
 */
static int
next_request(struct conn *c)
{
	/*
	 * When the connection was closed by nginx, FCGX_Accept_r tries the
	 * (non-blocking) listening socket instead: it may come back with a
	 * new connection, or with EAGAIN.
	 */
	if (FCGX_Accept_r(&c->req) == 0)
		return 0;
	conn_free(c);
	return -1;
}

/*
 * Reads the rest of the request's FCGI_STDIN, up to its end record.  nginx
 * passes no body (fastcgi_pass_request_body off) but always ends the
 * stream with an empty record, and libfcgi's FCGX_Finish_r does not read
 * it: when the params end exactly on libfcgi's 8192-byte read, that record
 * is still in the socket, and the next request on the kept connection
 * would begin with it, a protocol error (t/17).  A body larger than
 * PP_REQUEST_BODY_MAX (nginx's own limit) is not read: the connection is
 * closed after this request instead of kept.
 */
static void
read_stdin_end(FCGX_Request *req)
{
	char buf[1024];
	size_t total = 0;
	int n;

	while ((n = FCGX_GetStr(buf, sizeof(buf), req->in)) > 0)
		if ((total += (size_t)n) > PP_REQUEST_BODY_MAX) {
			req->keepConnection = 0;
			return;
		}
}

/* Ends c's request and puts the connection back to wait for the next. */
static void
put_back(struct conn *c)
{
	static struct log_outage no_wait = LOG_OUTAGE_INIT;	/* never over: said once */

	FCGX_Finish_r(&c->req);
	if (c->req.ipcFd < 0)
		conn_free(c);		/* not kept by nginx */
	else if (arm(c->req.ipcFd, c) == -1) {
		if (log_outage_fail(&no_wait, NULL))
			log_warning(NULL, "epoll_ctl: %s; closing kept connections "
			    "that cannot wait (said once)", strerror(errno));
		conn_free(c);		/* nginx opens a new one */
	}
	__atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
}

void *
fcgiserve_scratch(FCGX_Request *req)
{
	return ((struct conn *)req)->scratch;
}

void
fcgiserve_finish(FCGX_Request *req)
{
	put_back((struct conn *)req);	/* req is the first member */
}

static void *
serve(void *arg)
{
	struct epoll_event ev[READY_MAX];
	struct conn *c;
	int n;

	(void)arg;
	while (!__atomic_load_n(&stopping, __ATOMIC_SEQ_CST)) {
		if ((n = epoll_wait(epfd, ev, READY_MAX, -1)) <= 0) {
			if (n == 0 || errno == EINTR)
				continue;
			give_up("epoll_wait", errno);
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			c = ev[i].data.ptr;
			if (c == (void *)&listen_tag ? (c = accept_one()) == NULL : next_request(c) != 0)
				continue;
			__atomic_add_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
			read_stdin_end(&c->req);
			if (handle_deferring == NULL)
				handle(&c->req);
			else if (handle_deferring(&c->req))
				continue;	/* c belongs to whoever finishes it */
			put_back(c);
		}
	}
	return NULL;
}

/* Waits up to max_ms for the requests in flight (deferred ones too) to be finished. */
static void
wait_inflight(long max_ms)
{
	struct timespec step = clock_ts(10);

	for (long waited = 0; waited < max_ms; waited += 10) {
		if (__atomic_load_n(&inflight, __ATOMIC_SEQ_CST) == 0)
			return;
		nanosleep(&step, NULL);
	}
	log_warning(NULL, "%d requests still in flight after %ld ms; exiting",
	    __atomic_load_n(&inflight, __ATOMIC_SEQ_CST), max_ms);
}

int
fcgiserve_run(int nthreads, fcgi_handler handler, fcgi_deferring_handler deferring,
    long drain_ms)
{
	struct rlimit rl;
	sigset_t stop;
	pthread_t tid;
	int sig, fl;

	handle = handler;
	handle_deferring = deferring;
	/*
	 * Every kept connection is a descriptor: take all the hard limit
	 * allows, so that a busy nginx never meets EMFILE first.
	 */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (FCGX_Init() != 0)
		fatal("FCGX_Init failed");
	/* Threads woken for the same new connection: one accepts, the others get EAGAIN. */
	if ((fl = fcntl(LISTEN_FD, F_GETFL)) == -1 ||
	    fcntl(LISTEN_FD, F_SETFL, fl | O_NONBLOCK) == -1)
		fatal("the listening socket (fd 0, from spawn-fcgi): %s", strerror(errno));
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 || arm(LISTEN_FD, &listen_tag) == -1)
		fatal("epoll: %s", strerror(errno));
	for (int i = 0; i < nthreads; i++) {
		if ((errno = pthread_create(&tid, NULL, serve, NULL)) == 0) {
			pthread_setname_np(tid, "pp-request");	/* for top -H, perf, gdb */
			pthread_detach(tid);
			continue;
		}
		if (i == 0)	/* no thread serves yet: exit(3) is safe */
			fatal("pthread_create: %s", strerror(errno));
		log_warning(NULL, "pthread_create: %s; serving with %d of %d threads",
		    strerror(errno), i, nthreads);
		break;
	}
	fcgiserve_stop_signals(&stop);	/* blocked since fcgiserve_start */
	while (sigwait(&stop, &sig) != 0)
		;
	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
	log_debug(NULL, "signal %s: draining", strsignal(sig));
	wait_inflight(drain_ms);
	return __atomic_load_n(&failed, __ATOMIC_SEQ_CST);
}
