/* negotiate.c: a small, bounded Accept header parser (RFC 9110 section 12.5.1). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "negotiate.h"
#include "pp_limits.h"

/* How well a media range matches a type: 0 none, 1 any/any, 2 type/any, 3 exact. */
static int
specificity(const char *range, size_t rlen, const char *type)
{
	const char *slash = strchr(type, '/');
	size_t major = (size_t)(slash - type);

	if (rlen == 3 && strncmp(range, "*/*", 3) == 0)
		return 1;
	if (rlen == major + 2 && strncasecmp(range, type, major + 1) == 0 &&
	    range[major + 1] == '*')
		return 2;
	if (rlen == strlen(type) && strncasecmp(range, type, rlen) == 0)
		return 3;
	return 0;
}

/* Parses "q=0.5" style weights in thousandths; malformed counts as 1. */
static int
parse_q(const char *p, const char *end)
{
	int q = 0, scale = 1000;

	while (p < end) {
		while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			p += 2;
			if (p < end && *p == '1')
				return 1000;
			if (p >= end || *p != '0')
				return 1000;
			p++;
			if (p < end && *p == '.')
				for (p++; p < end && isdigit((unsigned char)*p) && scale > 1; p++) {
					scale /= 10;
					q += (*p - '0') * scale;
				}
			return q;
		}
		while (p < end && *p != ';')
			p++;
	}
	return 1000;
}

struct pref {
	int	spec;	/* best specificity seen */
	int	q;	/* q of that range */
};

static void
consider(struct pref *p, const char *range, size_t rlen, int q, const char *type)
{
	int s = specificity(range, rlen, type);

	if (s > p->spec) {
		p->spec = s;
		p->q = q;
	}
}

int
accept_prefers_json(const char *accept)
{
	struct pref json = { 0, 0 }, text = { 0, 0 };
	const char *p, *end;
	size_t len;

	if (accept == NULL)
		return 0;
	len = strnlen(accept, PP_ACCEPT_MAX);
	p = accept;
	end = accept + len;
	while (p < end) {
		const char *item = p, *iend, *rend;
		int q;

		while (p < end && *p != ',')
			p++;
		iend = p;
		if (p < end)
			p++;
		while (item < iend && (*item == ' ' || *item == '\t'))
			item++;
		for (rend = item; rend < iend && *rend != ';' && *rend != ' ' &&
		    *rend != '\t'; rend++)
			;
		if (rend == item)
			continue;
		q = parse_q(rend, iend);
		consider(&json, item, (size_t)(rend - item), q, "application/json");
		consider(&text, item, (size_t)(rend - item), q, "text/plain");
	}
	if (json.spec == 0 || json.q == 0)
		return 0;
	if (json.q != text.q)
		return json.q > text.q;
	return json.spec == 3 && text.spec != 3;
}
