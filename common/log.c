/* log.c: formats and writes log lines; escapes control characters. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *const level_names[PP_LOG_LEVEL__MAX] = {
	"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL",
};

static const char *log_component = "pingpong";
static enum log_level log_threshold = PP_LOG_INFO;

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
log_init(const char *component, enum log_level level)
{
	log_component = component;
	log_threshold = level;
}

int
log_enabled(enum log_level level)
{
	return level >= log_threshold;
}

/* Copies src into dst (size n), writing control bytes as \xNN. */
static size_t
escape(char *dst, size_t n, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *src != '\0' && o + 5 < n; src++) {
		unsigned char c = (unsigned char)*src;

		if (c < 0x20 || c == 0x7f || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		} else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return o;
}

static void
log_vmsg(enum log_level level, const char *reqid, const char *fmt, va_list ap)
{
	char msg[1024], line[4200], stamp[32];
	struct timespec ts;
	struct tm tm;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s[%ld] ", stamp,
	    ts.tv_nsec / 1000000, level_names[level], log_component,
	    (long)getpid());
	n += snprintf(line + n, sizeof(line) - (size_t)n, "request_id=");
	n += (int)escape(line + n, 64, reqid != NULL && *reqid != '\0' ? reqid : "-");
	line[n++] = ' ';
	n += (int)escape(line + n, sizeof(line) - (size_t)n - 1, msg);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
{
	va_list ap;

	if (level < log_threshold)
		return;
	va_start(ap, fmt);
	log_vmsg(level, reqid, fmt, ap);
	va_end(ap);
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
