/* log.c: formats and writes log lines (text or JSON); escapes control characters. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

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

int
log_json(void)
{
	return log_fmt == PP_LOG_JSON;
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
 * invalid UTF-8 as U+FFFD).  Stops before n - reserve; what does not fit
 * is replaced by PP_LOG_CUT, so a cut is visible and the line still
 * parses.  Returns the new o.
 */
static size_t
escape(char *dst, size_t n, size_t o, const char *src, size_t reserve)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t u, room = sizeof(PP_LOG_CUT) - 1;

	while (*s != '\0' && o + 7 + room + reserve < n) {
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
	if (*s != '\0' && o + room < n) {
		memcpy(dst + o, PP_LOG_CUT, room);
		o += room;
	}
	dst[o] = '\0';
	return o;
}

size_t
log_format(char *line, const struct log_line *l)
{
	const size_t cap = PP_LOG_LINE_MAX;
	char stamp[PP_CLOCK_STAMP_MAX];
	size_t n;
	int has_id = l->reqid != NULL && *l->reqid != '\0';

	clock_stamp(stamp, sizeof(stamp), l->when);
	if (log_fmt == PP_LOG_TEXT) {
		n = (size_t)snprintf(line, cap, "%s %s ", stamp, level_names[l->level]);
		n = escape(line, 200, n, l->component, 0);
		n += (size_t)snprintf(line + n, cap - n, "[%ld] request_id=", l->pid);
		n = escape(line, n + 64, n, has_id ? l->reqid : "-", 0);
		line[n++] = ' ';
		n = escape(line, cap, n, l->msg, 1);
	} else {
		n = (size_t)snprintf(line, cap, "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"",
		    stamp, level_names[l->level]);
		n = escape(line, 300, n, l->component, 0);
		n += (size_t)snprintf(line + n, cap - n, "\",\"pid\":%ld,\"request_id\":", l->pid);
		if (has_id) {
			line[n++] = '"';
			n = escape(line, n + 80, n, l->reqid, 0);
			line[n++] = '"';
		} else
			n += (size_t)snprintf(line + n, cap - n, "null");
		/* Each extra field has a share of the line; the message the rest. */
		for (size_t i = 0; i < l->nfields; i++) {
			const struct log_field *f = &l->fields[i];

			if (f->number) {
				/* Digits and a dot only (the caller's), else null. */
				int ok = *f->value != '\0' && f->value[strspn(f->value, "0123456789.")] == '\0' &&
				    strlen(f->value) < 32;

				n += (size_t)snprintf(line + n, cap - n, ",\"%s\":%s", f->name,
				    ok ? f->value : "null");
				continue;
			}
			n += (size_t)snprintf(line + n, cap - n, ",\"%s\":\"", f->name);
			n = escape(line, n + PP_LOG_FIELD_MAX, n, f->value, 0);
			line[n++] = '"';
		}
		n += (size_t)snprintf(line + n, cap - n, ",\"msg\":\"");
		n = escape(line, cap, n, l->msg, 3);
		line[n++] = '"';
		line[n++] = '}';
	}
	line[n++] = '\n';
	return n;
}

/* Formats and writes one line; reqid NULL or "" means none. */
static void
log_write(enum log_level level, const char *component, long pid,
    const char *reqid, const char *msg)
{
	char line[PP_LOG_LINE_MAX];
	struct log_line l = { .level = level, .component = component, .pid = pid,
	    .reqid = reqid, .msg = msg };

	(void)!write(STDERR_FILENO, line, log_format(line, &l));
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

/* 1 when why was said in o's outage already (o->lock held). */
static int
outage_said(const struct log_outage *o, const char *why)
{
	unsigned i;

	for (i = 0; i < o->nsaid && i < PP_OUTAGE_REASONS; i++)
		if (strncmp(o->said[i], why, PP_OUTAGE_REASON_MAX - 1) == 0)
			return 1;
	return 0;
}

int
log_outage_fail(struct log_outage *o, const char *why)
{
	int fresh;

	if (why == NULL)
		why = "";
	pthread_mutex_lock(&o->lock);
	if ((fresh = !outage_said(o, why)))
		snprintf(o->said[o->nsaid++ % PP_OUTAGE_REASONS], PP_OUTAGE_REASON_MAX, "%s", why);
	else
		o->repeats++;
	__atomic_store_n(&o->failing, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&o->lock);
	return fresh;
}

long
log_outage_over(struct log_outage *o)
{
	long repeats = -1;

	if (!__atomic_load_n(&o->failing, __ATOMIC_RELAXED))
		return -1;
	pthread_mutex_lock(&o->lock);
	if (o->failing) {
		repeats = (long)o->repeats;
		__atomic_store_n(&o->failing, 0, __ATOMIC_RELAXED);
		o->repeats = 0;
		o->nsaid = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return repeats;
}
