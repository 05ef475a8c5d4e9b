/* logline.c: turns a part's output into log lines: ours pass, nginx's error log is converted, the rest is wrapped. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "logline.h"

void
logline_init(struct logline *l, const char *component, long pid)
{
	memset(l, 0, sizeof(*l));
	l->component = component;
	l->pid = pid;
}

/* Does s start like pattern, where 9 stands for any digit? */
static int
shaped(const char *s, const char *pattern)
{
	for (; *pattern != '\0'; s++, pattern++)
		if (*pattern == '9' ? !isdigit((unsigned char)*s) : *s != *pattern)
			return 0;
	return 1;
}

/* nginx's level words, in the order of the levels they become. */
static enum log_level
nginx_level(const char *word, size_t n)
{
	static const struct { const char *word; enum log_level level; } map[] = {
		{ "debug", PP_LOG_DEBUG }, { "info", PP_LOG_INFO }, { "notice", PP_LOG_INFO },
		{ "warn", PP_LOG_WARNING }, { "error", PP_LOG_ERROR }, { "crit", PP_LOG_CRITICAL },
		{ "alert", PP_LOG_CRITICAL }, { "emerg", PP_LOG_CRITICAL },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].word) == n && strncmp(word, map[i].word, n) == 0)
			return map[i].level;
	return PP_LOG_ERROR;
}

/* Keeps the first error (the cause, before its consequences), else the last line. */
static void
note_said(struct logline *l, enum log_level level, const char *msg)
{
	if (l->said_error)
		return;
	snprintf(l->said, sizeof(l->said), "%s", msg);
	l->said_error = level >= PP_LOG_ERROR;
}

/* The level of a line in the log format (text or JSON); INFO when unclear. */
static enum log_level
level_of(const char *s)
{
	const char *p = strncmp(s, "{\"time\":", 8) == 0 ? strstr(s, "\"level\":\"") : NULL;
	char word[16];
	int level;

	p = p != NULL ? p + 9 : s + 25;	/* text: after "2026-...Z " */
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(p, " \""), p);
	level = log_level_parse(word);
	return level >= 0 ? (enum log_level)level : PP_LOG_INFO;
}

_Static_assert(sizeof(PP_LOG_CUT) <= sizeof(((struct logline *)0)->buf) - PIPE_BUF,
    "the buffer keeps room for PP_LOG_CUT after PIPE_BUF bytes");

/* A line longer than the buffer: its start, marked, as a line of the part (never passed as is). */
static void
emit_cut(struct logline *l, char *s)
{
	size_t len = strlen(s);

	/* The buffer keeps room for the marker. */
	memcpy(s + len, PP_LOG_CUT, sizeof(PP_LOG_CUT));
	note_said(l, PP_LOG_INFO, s);
	log_relay(PP_LOG_INFO, l->component, l->pid, s);
}

static void
emit(struct logline *l, char *s)
{
	static const char stamp[] = "9999-99-99T99:99:99.999Z ";
	static const char nginx_stamp[] = "9999/99/99 99:99:99 [";
	char *p;

	if (*s == '\0')
		return;
	if (shaped(s, stamp) || strncmp(s, "{\"time\":", 8) == 0) {
		/* Already a log line (text: the message follows "request_id=X "). */
		size_t len;

		if ((p = strstr(s, " request_id=")) != NULL && (p = strchr(p + 1, ' ')) != NULL)
			note_said(l, level_of(s), p + 1);
		else
			note_said(l, level_of(s), s);
		len = strlen(s);
		s[len] = '\n';	/* the buffer keeps room for it */
		(void)!write(STDERR_FILENO, s, len + 1);
		return;
	}
	if (shaped(s, nginx_stamp)) {
		char *level = s + sizeof(nginx_stamp) - 1, *end = strchr(level, ']');
		long pid;

		if (end != NULL && end[1] == ' ' && isdigit((unsigned char)end[2])) {
			pid = strtol(end + 2, &p, 10);
			p += strcspn(p, " ");	/* "#0:" */
			p += *p == ' ';
			note_said(l, nginx_level(level, (size_t)(end - level)), p);
			log_relay(nginx_level(level, (size_t)(end - level)), "nginx", pid, p);
			return;
		}
	}
	note_said(l, PP_LOG_INFO, s);
	log_relay(PP_LOG_INFO, l->component, l->pid, s);
}

void
logline_feed(struct logline *l, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			l->buf[l->len] = '\0';
			if (!l->cutting)
				emit(l, l->buf);
			l->len = 0;
			l->cutting = 0;
			continue;
		}
		if (l->cutting)
			continue;	/* the rest of a cut line: never a line of its own */
		if (l->len == PIPE_BUF) {	/* a log line is shorter (common/log.h) */
			l->buf[l->len] = '\0';
			emit_cut(l, l->buf);
			l->len = 0;
			l->cutting = 1;
			continue;
		}
		l->buf[l->len++] = data[i];
	}
}

void
logline_flush(struct logline *l)
{
	if (l->len > 0 && !l->cutting) {
		l->buf[l->len] = '\0';
		emit(l, l->buf);
	}
	l->len = 0;
	l->cutting = 0;
}
