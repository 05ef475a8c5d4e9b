/* dotenv.c: the .env parser; pure, so it can be fuzzed on its own. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dotenv.h"

#define DOTENV_MAX_LINE	4096

static int
is_key_char(int c, int first)
{
	return c == '_' || isalpha(c) || (!first && isdigit(c));
}

/* Parses one line (NUL-terminated, modifiable); 0, or why it is not taken. */
static int
parse_line(char *p, dotenv_cb cb, void *arg, enum dotenv_bad *why)
{
	char *key, *val, *end, *o;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	key = p;
	*why = DOTENV_NOT_ASSIGNMENT;
	if (!is_key_char((unsigned char)*p, 1))
		return -1;
	while (is_key_char((unsigned char)*p, 0))
		p++;
	end = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return -1;
	*end = '\0';
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	val = o = p;
	if (*p == '\'' || *p == '"') {
		char q = *p++;

		for (; *p != '\0' && *p != q; p++) {
			if (q == '"' && *p == '\\' && p[1] != '\0') {
				p++;
				*o++ = *p == 'n' ? '\n' : *p;
			} else
				*o++ = *p;
		}
		if (*p != q) {
			*why = DOTENV_UNCLOSED;
			return -1;
		}
		*o = '\0';
	} else {
		for (; *p != '\0'; p++) {
			if (*p == '#' && (p == val || p[-1] == ' ' || p[-1] == '\t'))
				break;
			*o++ = *p;
		}
		while (o > val && (o[-1] == ' ' || o[-1] == '\t'))
			o--;
		*o = '\0';
	}
	cb(key, val, arg);
	return 0;
}

int
dotenv_parse(const char *buf, size_t len, dotenv_cb cb, dotenv_bad_cb bad, void *arg)
{
	char line[DOTENV_MAX_LINE];
	size_t i = 0, n;
	unsigned lineno = 0;
	int skipped = 0;
	enum dotenv_bad why;

	/* A UTF-8 byte order mark (an editor on Windows may write one) is not part of the first line. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t ll = nl != NULL ? (size_t)(nl - (buf + i)) : len - i;

		/* CRLF: the CR belongs to the line's end, not to its value. */
		if (ll > 0 && buf[i + ll - 1] == '\r')
			n = ll - 1;
		else
			n = ll;
		if (n > sizeof(line) - 1)
			n = sizeof(line) - 1;
		memcpy(line, buf + i, n);
		line[n] = '\0';
		lineno++;
		if (ll >= sizeof(line) - 1 || memchr(line, '\0', n) != NULL) {
			skipped++;
			if (bad != NULL)
				bad(lineno, DOTENV_UNREADABLE, NULL, arg);
		} else if (parse_line(line, cb, arg, &why) == -1) {
			skipped++;
			if (bad != NULL && why != DOTENV_NOT_ASSIGNMENT)
				bad(lineno, why, NULL, arg);
			else if (bad != NULL) {
				/* parse_line may have cut the line: show it whole. */
				memcpy(line, buf + i, n);
				line[n] = '\0';
				bad(lineno, why, line, arg);
			}
		}
		i += ll + 1;
	}
	return skipped;
}
