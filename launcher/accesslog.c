/* accesslog.c: nginx's access records from a FIFO: counted by route and status, written as access lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "answers.h"
#include "config.h"
#include "log.h"

/* The fields of log_format pp_record, in order. */
enum field { F_MSEC, F_PID, F_REQID, F_PORT, F_STATUS, F_UPSTREAM, F_ROUTE, F_ADDR,
	F_METHOD, F_URI, F_PROTO, F_BYTES, F_TIME, F__MAX };

/*
 * The bytes of the URI an access line shows; the rest is cut (PP_LOG_CUT).
 * A URI nginx accepts is at most large_client_header_buffers (8 KiB): a
 * record can reach 32 KiB escaped, and a line of the log is 4 KiB.
 */
#define URI_SHOWN	1024
#define RECORD_MAX	(64 * 1024)	/* longer is not nginx's: dropped */
#define OUT_MAX		(64 * 1024)	/* access lines written at once */

static int	fifo = -1;		/* the FIFO, held open for reading and writing */
static int	print, probes, counting;
static long	app_port, auth_port;
static char	rec[RECORD_MAX];	/* a record being assembled */
static size_t	reclen;
static int	skipping;		/* dropping the rest of a record too long */
static struct log_outage dropped = LOG_OUTAGE_INIT;	/* records not in nginx's shape or too long: the first is logged, for the process's life */
static char	out[OUT_MAX];		/* access lines not yet written */
static size_t	outlen;

int
accesslog_open(const char *path, const char *answers, int print_lines)
{
	if (unlink(path) == -1 && errno != ENOENT) {
		log_error(NULL, "access log: %s: %s", path, strerror(errno));
		return -1;
	}
	/* O_RDWR: a reader always, so nginx's open never waits and reads never see EOF. */
	if (mkfifo(path, 0600) == -1 ||
	    (fifo = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_error(NULL, "access log: %s: %s", path, strerror(errno));
		return -1;
	}
	if (answers != NULL) {
		if (answers_create(answers) == -1) {
			log_error(NULL, "metrics: %s: %s", answers, strerror(errno));
			return -1;
		}
		counting = 1;
	}
	print = print_lines;
	probes = (int)config_int(S_ACCESS_LOG_PROBES);
	app_port = config_int(S_APP_PORT);
	auth_port = config_int(S_AUTH_PORT);
	return 0;
}

int
accesslog_fd(void)
{
	return fifo;
}

/* Writes what is held; a stdout that fails loses the lines, never the stack. */
static void
flush_out(void)
{
	size_t done = 0;
	ssize_t n;

	while (done < outlen) {
		if ((n = write(STDOUT_FILENO, out + done, outlen - done)) > 0)
			done += (size_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else
			break;
	}
	outlen = 0;
}

/* nginx's escape=default wrote bytes as \xHH (the backslash too): back to the bytes, NUL kept escaped. */
static void
unescape(char *s)
{
	char *w = s, hex[3] = "";

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] == 'x' && strchr("0123456789abcdefABCDEF", s[2]) != NULL &&
		    s[2] != '\0' && s[3] != '\0' && strchr("0123456789abcdefABCDEF", s[3]) != NULL &&
		    !(s[2] == '0' && s[3] == '0')) {
			hex[0] = s[2];
			hex[1] = s[3];
			*w++ = (char)strtol(hex, NULL, 16);
			s += 3;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

/* Copies at most max bytes of src to dst (max + sizeof(PP_LOG_CUT) bytes), a cut marked. */
static void
shown(char *dst, const char *src, size_t max)
{
	size_t len = strlen(src);

	memcpy(dst, src, len > max ? max : len);
	if (len > max)
		memcpy(dst + max, PP_LOG_CUT, sizeof(PP_LOG_CUT));
	else
		dst[len] = '\0';
}

static int
numeric(const char *s)
{
	return *s != '\0' && s[strspn(s, "0123456789.")] == '\0';
}

/* A probe or scrape: not written when it succeeded, unless asked for. */
static int
quiet(const char *uri, long status)
{
	static const char *const paths[] = { "/health", "/health/ready", "/health/live", "/metrics" };
	size_t len = strcspn(uri, "?");

	if (probes || status < 200 || status > 299)
		return 0;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strlen(paths[i]) == len && strncmp(uri, paths[i], len) == 0)
			return 1;
	return 0;
}

static void
line_out(const char *msg, const struct timespec *when, long pid, const char *reqid, char *const f[],
    const char *method, const char *uri)
{
	struct log_field fields[] = {
		{ "remote_addr", f[F_ADDR], 0 }, { "method", method, 0 },
		{ "uri", uri, 0 }, { "status", f[F_STATUS], 1 },
		{ "bytes", f[F_BYTES], 1 }, { "duration_seconds", f[F_TIME], 1 },
		{ "port", f[F_PORT], 1 },
	};
	struct log_line l = { .level = PP_LOG_INFO, .component = "nginx", .pid = pid,
	    .reqid = reqid, .when = when, .msg = msg, .fields = fields,
	    .nfields = sizeof(fields) / sizeof(fields[0]) };

	if (outlen + PP_LOG_LINE_MAX > sizeof(out))
		flush_out();
	outlen += log_format(out + outlen, &l);
}

/* One record: f[] its fields (escaped by nginx). */
static void
handle_record(char *f[])
{
	char msg[URI_SHOWN * 4 + 256], method[32 + sizeof(PP_LOG_CUT)], uri[URI_SHOWN + sizeof(PP_LOG_CUT)];
	struct timespec when;
	double msec = strtod(f[F_MSEC], NULL);
	long port = strtol(f[F_PORT], NULL, 10), status = strtol(f[F_STATUS], NULL, 10);
	long pid = strtol(f[F_PID], NULL, 10);
	const char *reqid = strcmp(f[F_REQID], "-") == 0 ? NULL : f[F_REQID];
	int route;

	if (counting && port == app_port && (route = answers_route(f[F_ROUTE])) != -1)
		answers_count((enum m_route)route, (int)status);
	when.tv_sec = (time_t)msec;
	when.tv_nsec = (long)((msec - (double)when.tv_sec) * 1e9 + 0.5);
	if (when.tv_nsec >= 1000000000L)
		when.tv_nsec = 999999999L;
	unescape(f[F_METHOD]);
	unescape(f[F_URI]);
	shown(method, f[F_METHOD], 32);
	shown(uri, f[F_URI], URI_SHOWN);
	if (port == auth_port && (strcmp(f[F_UPSTREAM], "401") == 0 || strcmp(f[F_UPSTREAM], "403") == 0) &&
	    log_enabled(PP_LOG_WARNING)) {
		char line[PP_LOG_LINE_MAX];
		struct log_line l = { .level = PP_LOG_WARNING, .component = "nginx", .pid = pid,
		    .reqid = reqid, .when = &when, .msg = msg };

		snprintf(msg, sizeof(msg), "upstream refused the token: %s for %.*s (does the identity "
		    "have the Monitoring Data Reader role on the Azure Monitor workspace?)",
		    f[F_UPSTREAM], (int)strcspn(uri, "?"), uri);
		flush_out();	/* in order with the access lines before it */
		(void)!write(STDERR_FILENO, line, log_format(line, &l));
	}
	if (!print || quiet(uri, status))
		return;
	/*
	 * Text: 127.0.0.1 "GET /pingpong HTTP/1.1" 200 7 0.002 port=3000.  A
	 * quote in the URI is shown as %22 (what it means in a URI), so the
	 * request stays one quoted field; JSON escapes it.
	 */
	if (log_json())
		snprintf(msg, sizeof(msg), "%s %s %s %ld", method, uri, f[F_PROTO], status);
	else {
		char quoted[URI_SHOWN * 3 + 16];
		size_t o = 0;

		for (const char *s = uri; *s != '\0' && o + 4 < sizeof(quoted); s++) {
			if (*s == '"') {
				memcpy(quoted + o, "%22", 3);
				o += 3;
			} else
				quoted[o++] = *s;
		}
		quoted[o] = '\0';
		snprintf(msg, sizeof(msg), "%s \"%s %s %s\" %ld %s %s port=%ld", f[F_ADDR], method,
		    quoted, f[F_PROTO], status, f[F_BYTES], f[F_TIME], port);
	}
	line_out(msg, &when, pid, reqid, f, method, uri);
}

/* Splits a record at its tabs; one that is not nginx's shape is dropped and counted. */
static void
split_record(char *s)
{
	char *f[F__MAX];
	int n = 0;

	for (char *p = s; n < F__MAX; n++) {
		f[n] = p;
		if ((p = strchr(p, '\t')) == NULL) {
			n++;
			break;
		}
		*p++ = '\0';
		if (n == F__MAX - 1) {
			n = F__MAX + 1;	/* too many fields */
			break;
		}
	}
	if (n != F__MAX || !numeric(f[F_MSEC]) || !numeric(f[F_PID]) || !numeric(f[F_PORT]) ||
	    !numeric(f[F_STATUS])) {
		if (log_outage_fail(&dropped, NULL))
			log_error(NULL, "access log: a record not in nginx's pp_record shape; dropped "
			    "(this one is logged, the next are not)");
		return;
	}
	handle_record(f);
}

void
accesslog_read(void)
{
	char buf[16384];
	ssize_t n;

	while (fifo != -1) {
		if ((n = read(fifo, buf, sizeof(buf))) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;		/* EAGAIN: all read (the launcher holds a writer: no EOF) */
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				rec[reclen] = '\0';
				if (!skipping && reclen > 0)
					split_record(rec);
				reclen = 0;
				skipping = 0;
			} else if (skipping)
				continue;
			else if (reclen + 1 == sizeof(rec)) {
				skipping = 1;
				if (log_outage_fail(&dropped, NULL))
					log_error(NULL, "access log: a record longer than %d bytes; dropped",
					    RECORD_MAX);
			} else
				rec[reclen++] = buf[i];
		}
	}
	flush_out();
}
