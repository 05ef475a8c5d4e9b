/* metrics.c: counters and histograms shared by all workers, and their exposition. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "answers.h"
#include "config.h"
#include "guard.h"
#include "log.h"
#include "metrics.h"
#include "safefile.h"
#include "version.h"

#define SHM_MAGIC	0x70696e67706f6e67ULL	/* "pingpong" */
#define SHM_VERSION	2
#define MAX_WORKERS	64
#define NDUR		(sizeof(dur_le) / sizeof(dur_le[0]))
#define NBATCH		(sizeof(batch_le) / sizeof(batch_le[0]))

static const double dur_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
static const double batch_le[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256 };
static const char *const dberr_names[M_DBERR__MAX] = { "connect", "query", "timeout" };

/* Buckets hold counts per bucket (not cumulative); the +Inf one is last. */
struct shm {
	uint64_t	magic, version;
	uint64_t	start_time;
	uint64_t	dur_bucket[M_ROUTE__MAX][NDUR + 1];
	uint64_t	dur_count[M_ROUTE__MAX];
	uint64_t	dur_sum_ns[M_ROUTE__MAX];
	uint64_t	db_reconnects;
	uint64_t	db_errors[M_DBERR__MAX];
	uint64_t	db_up;
	int64_t		counter_value;
	uint64_t	batch_bucket[NBATCH + 1];
	uint64_t	batch_count, batch_sum;
	uint64_t	shared_file_writes[2];	/* [0] failed, [1] done */
	int32_t		workers[MAX_WORKERS];
	uint64_t	restarts;	/* workers that took the slot of one that died */
};

static struct shm *m;	/* mapped once at start, then read-only; *m is relaxed atomics */

#define ADD(field, n)	__atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)
#define LOAD(field)	__atomic_load_n(&(field), __ATOMIC_RELAXED)

/* Maps the shared file; NULL on failure with errno set. */
static struct shm *
map_shared(const char *path)
{
	struct shm *p;
	int fd;

	if ((fd = safefile_open(path, O_RDWR | O_CREAT, 0600)) == -1)
		return NULL;
	if (ftruncate(fd, sizeof(struct shm)) == -1) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

void
metrics_open(void)
{
	char path[PATH_MAX], why[PATH_MAX + 64];
	uint64_t zero = 0;
	int32_t none;

	if (!config_int(S_METRICS))
		return;		/* every call below is then a no-op (make bench compares) */
	snprintf(path, sizeof(path), "%s/metrics.shm", config_state_dir());
	if (safefile_dir_ok(config_state_dir(), why, sizeof(why)) == 0 &&
	    (m = map_shared(path)) == NULL)
		snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
	if (m == NULL) {
		log_warning(NULL, "metrics: cannot map the shared segment (%s); this worker's "
		    "metrics stay its own", why);
		if ((m = calloc(1, sizeof(*m))) == NULL)
			fatal("out of memory");
	}
	/* The first worker to arrive stamps the segment. */
	if (__atomic_compare_exchange_n(&m->magic, &zero, SHM_MAGIC, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		m->version = SHM_VERSION;
		__atomic_store_n(&m->start_time, (uint64_t)time(NULL), __ATOMIC_RELAXED);
	}
	/*
	 * Take a free (or dead) slot, so /metrics can count live workers.  A
	 * dead one means this worker replaces one that died (multiwatch
	 * respawns a worker that crashed or was killed): a restart.  The
	 * slots fill from the first, so a dead one is found before a free one.
	 */
	for (int i = 0; i < MAX_WORKERS; i++) {
		none = LOAD(m->workers[i]);
		if ((none == 0 || kill(none, 0) == -1) &&
		    __atomic_compare_exchange_n(&m->workers[i], &none, (int32_t)getpid(),
		    0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			if (none != 0)
				ADD(m->restarts, 1);
			break;
		}
	}
	snprintf(path, sizeof(path), "%s/answers.shm", config_state_dir());
	if (answers_attach(path) == -1)
		log_warning(NULL, "metrics: %s: %s; pingpong_requests_total is not exposed (the "
		    "launcher counts the answers from nginx's access records)", path, strerror(errno));
}

void
metrics_request(enum m_route r, double seconds)
{
	size_t b;

	if (m == NULL)
		return;
	for (b = 0; b < NDUR && seconds > dur_le[b]; b++)
		;
	ADD(m->dur_bucket[r][b], 1);
	ADD(m->dur_count[r], 1);
	ADD(m->dur_sum_ns[r], (uint64_t)(seconds * 1e9));
}

void
metrics_db_error(enum m_dberr e)
{
	if (m == NULL)
		return;
	ADD(m->db_errors[e], 1);
}

void
metrics_db_reconnect(void)
{
	if (m == NULL)
		return;
	ADD(m->db_reconnects, 1);
}

void
metrics_db_up(int up)
{
	if (m == NULL)
		return;
	__atomic_store_n(&m->db_up, (uint64_t)(up != 0), __ATOMIC_RELAXED);
}

void
metrics_counter(int64_t value)
{
	int64_t cur;

	if (m == NULL)
		return;
	cur = LOAD(m->counter_value);
	while (value > cur && !__atomic_compare_exchange_n(&m->counter_value,
	    &cur, value, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void
metrics_batch(int64_t size)
{
	size_t b;

	if (m == NULL)
		return;

	for (b = 0; b < NBATCH && (double)size > batch_le[b]; b++)
		;
	ADD(m->batch_bucket[b], 1);
	ADD(m->batch_count, 1);
	ADD(m->batch_sum, (uint64_t)size);
}

void
metrics_shared_file(int ok)
{
	if (m != NULL)
		ADD(m->shared_file_writes[ok != 0], 1);
}

struct out {
	char	*buf;
	size_t	 cap, len;
};

static void
put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += n > 0 ? (size_t)n : 0;
	if (o->len > o->cap)
		o->len = o->cap;
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Writes one histogram series: cumulative buckets ending in +Inf, _sum and
 * _count. labels is "" or "name=\"value\"," (with the trailing comma).
 */
static void
histogram(struct out *o, const char *name, const char *labels,
    const uint64_t *buckets, const double *le, size_t n, double sum)
{
	uint64_t cum = 0;
	size_t llen = strlen(labels);

	for (size_t b = 0; b <= n; b++) {
		cum += LOAD(buckets[b]);
		if (b < n)
			put(o, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, le[b],
			    (unsigned long long)cum);
		else
			put(o, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
			    (unsigned long long)cum);
	}
	/* _sum and _count take the labels without the trailing comma. */
	put(o, "%s_sum%s%.*s%s %.9g\n", name, llen ? "{" : "", (int)(llen ? llen - 1 : 0),
	    labels, llen ? "}" : "", sum);
	put(o, "%s_count%s%.*s%s %llu\n", name, llen ? "{" : "", (int)(llen ? llen - 1 : 0),
	    labels, llen ? "}" : "", (unsigned long long)cum);
}

size_t
metrics_render(char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	int live = 0;

	if (m == NULL) {
		put(&o, "# metrics are off (PING_PONG_METRICS=off)\n");
		return o.len;
	}
	family(&o, "pingpong_requests_total", "counter", "HTTP requests by route and the status code the client got (nginx's access records, counted by the launcher: the workers' answers and nginx's own).");
	for (int r = 0; r < M_ROUTE__MAX; r++)
		for (size_t c = 0; c < ANSWERS_CODES; c++) {
			char code[8];
			uint64_t v;
			int shown = answers_get((enum m_route)r, c, code, &v);

			if (shown == 1 || (shown == 0 && v > 0))
				put(&o, "pingpong_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
				    answers_route_names[r], code, (unsigned long long)v);
		}
	family(&o, "pingpong_request_duration_seconds", "histogram", "Time from accept to the end of the answer, by route.");
	for (int r = 0; r < M_ROUTE__MAX; r++) {
		char labels[64];

		snprintf(labels, sizeof(labels), "route=\"%s\",", answers_route_names[r]);
		histogram(&o, "pingpong_request_duration_seconds", labels, m->dur_bucket[r],
		    dur_le, NDUR, LOAD(m->dur_sum_ns[r]) / 1e9);
	}
	family(&o, "pingpong_db_reconnects_total", "counter", "Database connections made again after one was lost or failed.");
	put(&o, "pingpong_db_reconnects_total %llu\n", (unsigned long long)LOAD(m->db_reconnects));
	family(&o, "pingpong_db_errors_total", "counter", "Database failures, by kind.");
	for (int e = 0; e < M_DBERR__MAX; e++)
		put(&o, "pingpong_db_errors_total{kind=\"%s\"} %llu\n", dberr_names[e],
		    (unsigned long long)LOAD(m->db_errors[e]));
	family(&o, "pingpong_db_up", "gauge", "1 when the last database operation of any worker succeeded.");
	put(&o, "pingpong_db_up %llu\n", (unsigned long long)LOAD(m->db_up));
	family(&o, "pingpong_committed_pongs", "gauge", "The largest committed count the workers have seen: pongs handed out in all.");
	put(&o, "pingpong_committed_pongs %lld\n", (long long)LOAD(m->counter_value));
	family(&o, "pingpong_guard_tripped", "gauge", "1 once the database answered a number already handed out (the count went back): every pong is refused until the service restarts.");
	put(&o, "pingpong_guard_tripped %d\n", guard_tripped());
	family(&o, "pingpong_increment_batch_size", "histogram", "Pongs served by one UPDATE statement.");
	histogram(&o, "pingpong_increment_batch_size", "", m->batch_bucket, batch_le,
	    NBATCH, (double)LOAD(m->batch_sum));
	family(&o, "pingpong_shared_file_writes_total", "counter", "Writes of the shared volume's ping_pong_counter.txt, by outcome (a failure: the volume, or its lock held past the wait).");
	put(&o, "pingpong_shared_file_writes_total{outcome=\"success\"} %llu\n",
	    (unsigned long long)LOAD(m->shared_file_writes[1]));
	put(&o, "pingpong_shared_file_writes_total{outcome=\"failure\"} %llu\n",
	    (unsigned long long)LOAD(m->shared_file_writes[0]));
	for (int i = 0; i < MAX_WORKERS; i++) {
		int32_t pid = LOAD(m->workers[i]);

		live += pid != 0 && kill(pid, 0) == 0;
	}
	family(&o, "pingpong_workers", "gauge", "Worker processes alive now.");
	put(&o, "pingpong_workers %d\n", live);
	family(&o, "pingpong_worker_restarts_total", "counter", "Workers started in place of one that died (crashed, killed, out of memory).");
	put(&o, "pingpong_worker_restarts_total %llu\n", (unsigned long long)LOAD(m->restarts));
	/* The pool's start (its first worker's), not this worker's. */
	put(&o, PP_METRICS_PROCESS_FMT, "worker", (unsigned long long)LOAD(m->start_time));
	return o.len;
}
