/* log.c: formats and writes log lines (text or JSON); escapes control characters. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* One write(2) of at most PIPE_BUF bytes is never interleaved with another. */
#define PP_LOG_LINE_MAX	PIPE_BUF

static const char *const level_names[PP_LOG_LEVEL__MAX] = {
	"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL",
};

static const char *log_component = "pingpong";
static enum log_level log_threshold = PP_LOG_INFO;
static enum log_format log_fmt = PP_LOG_TEXT;

int
log_level_parse(const char *name)
{
	for (int i = 0; i < PP_LOG_LEVEL__MAX; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level < PP_LOG_LEVEL__MAX ? level_names[level] : "?";
}

void
log_init(const char *component, enum log_level level, enum log_format format)
{
	log_component = component;
	log_threshold = level;
	log_fmt = format;
}

int
log_enabled(enum log_level level)
{
	return level >= log_threshold;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 :
	    s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Appends src to dst (size n, used o), escaped: text writes control bytes
 * and backslashes as \xNN; JSON writes a valid string body (\" \\ \uNNNN,
 * invalid UTF-8 as U+FFFD).  Stops before n - reserve; returns the new o.
 */
static size_t
escape(char *dst, size_t n, size_t o, const char *src, size_t reserve)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t u;

	while (*s != '\0' && o + 7 + reserve < n) {
		unsigned char c = *s;

		if (log_fmt == PP_LOG_TEXT) {
			if (c < 0x20 || c == 0x7f || c == '\\') {
				o += (size_t)snprintf(dst + o, n - o, "\\x%c%c", hex[c >> 4], hex[c & 0xf]);
			} else
				dst[o++] = (char)c;
			s++;
		} else if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
			s++;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(dst + o, n - o, "\\u00%c%c", hex[c >> 4], hex[c & 0xf]);
			s++;
		} else if (c < 0x80) {
			dst[o++] = (char)c;
			s++;
		} else if ((u = utf8_len(s)) > 0) {
			memcpy(dst + o, s, u);
			o += u;
			s += u;
		} else {
			o += (size_t)snprintf(dst + o, n - o, "\\ufffd");
			s++;
		}
	}
	dst[o] = '\0';
	return o;
}

/* Formats and writes one line; reqid NULL or "" means none. */
static void
log_write(enum log_level level, const char *component, long pid,
    const char *reqid, const char *msg)
{
	char line[PP_LOG_LINE_MAX], stamp[40];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int has_id = reqid != NULL && *reqid != '\0';

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	if (log_fmt == PP_LOG_TEXT) {
		n = (size_t)snprintf(line, sizeof(line), "%s %s ", stamp, level_names[level]);
		n = escape(line, 200, n, component, 0);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "[%ld] request_id=", pid);
		n = escape(line, n + 64, n, has_id ? reqid : "-", 0);
		line[n++] = ' ';
		n = escape(line, sizeof(line), n, msg, 1);
	} else {
		n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"",
		    stamp, level_names[level]);
		n = escape(line, 300, n, component, 0);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"pid\":%ld,\"request_id\":", pid);
		if (has_id) {
			line[n++] = '"';
			n = escape(line, n + 80, n, reqid, 0);
			line[n++] = '"';
		} else
			n += (size_t)snprintf(line + n, sizeof(line) - n, "null");
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"msg\":\"");
		n = escape(line, sizeof(line), n, msg, 3);
		line[n++] = '"';
		line[n++] = '}';
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level < log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_write(level, log_component, (long)getpid(), reqid, msg);
}

void
log_relay(enum log_level level, const char *component, long pid, const char *msg)
{
	if (level >= log_threshold)
		log_write(level, component, pid, NULL, msg);
}

void
log_fatal(const char *func, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(PP_LOG_CRITICAL, NULL, "%s: %s", func, msg);
	exit(1);
}
