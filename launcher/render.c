/* render.c: nginx's config from its templates: @NAME@ placeholders replaced by values, literally. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "render.h"

struct buf {
	char	*p;
	size_t	 len, cap;
};

static int
append(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 4096;
		char *np;

		while (b->len + n + 1 > cap)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* The length of the NAME of a placeholder starting at s ("@NAME@"), or 0 if s starts none. */
static size_t
placeholder(const char *s)
{
	size_t n = 0;

	if (*s != '@')
		return 0;
	while ((s[1 + n] >= 'A' && s[1 + n] <= 'Z') || (s[1 + n] >= '0' && s[1 + n] <= '9') ||
	    s[1 + n] == '_')
		n++;
	return n > 0 && s[1 + n] == '@' ? n : 0;
}

int
render(const char *tpl, const struct subst *vars, size_t nvars, char **out,
    char *why, size_t whylen)
{
	struct buf b = { NULL, 0, 0 };
	const char *p = tpl;

	if (append(&b, "", 0) == -1)
		goto nomem;
	while (*p != '\0') {
		size_t plain = strcspn(p, "@"), n, i;

		if (append(&b, p, plain) == -1)
			goto nomem;
		p += plain;
		if (*p == '\0')
			break;
		if ((n = placeholder(p)) == 0) {
			if (append(&b, p++, 1) == -1)
				goto nomem;
			continue;
		}
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == n && strncmp(vars[i].name, p + 1, n) == 0)
				break;
		if (i == nvars) {
			snprintf(why, whylen, "@%.*s@ has no value", (int)n, p + 1);
			free(b.p);
			return -1;
		}
		if (append(&b, vars[i].value, strlen(vars[i].value)) == -1)
			goto nomem;
		p += n + 2;
	}
	*out = b.p;
	return 0;
nomem:
	snprintf(why, whylen, "out of memory");
	free(b.p);
	return -1;
}
