/* tokenparse.c: token and error bodies of the token endpoints, with jansson. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "pp_limits.h"
#include "tokenparse.h"

/*
 * A non-negative finite number given as a JSON number or a decimal string;
 * -1 when neither (absent, negative, "NaN", "inf", 1e999).
 */
static double
number_field(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	char *end;
	double d;

	if (json_is_number(v))
		d = json_number_value(v);
	else if (json_is_string(v)) {
		s = json_string_value(v);
		d = strtod(s, &end);
		if (end == s || *end != '\0' || !isdigit((unsigned char)*s))
			return -1;
	} else
		return -1;
	return isfinite(d) && d >= 0 ? d : -1;
}

/*
 * The token's times from the answer: its lifetime from expires_in, else
 * expires_on, then when to refresh it; -1 when neither gives a lifetime.
 */
static int
token_times(json_t *root, double now, struct token *out)
{
	double expires_in = number_field(root, "expires_in");
	double expires_on = number_field(root, "expires_on");
	double refresh_in = number_field(root, "refresh_in");
	double life;

	if (expires_in > 0)
		life = expires_in;
	else if (expires_on > now)
		life = expires_on - now;
	else
		return -1;
	/*
	 * Whatever the answer says, a token is trusted for at most a day
	 * (Entra ID's longest lifetime): a far expiry would otherwise be
	 * slept on (or overflow a time_t) and the token never refreshed.
	 */
	if (life > PP_TOKEN_LIFETIME_MAX)
		life = PP_TOKEN_LIFETIME_MAX;
	out->obtained = now;
	out->expires_at = now + life;
	if (refresh_in > 0 && refresh_in < life)
		out->refresh_at = now + refresh_in;
	else if (life >= 7200 || life < 600)
		out->refresh_at = now + life / 2;
	else
		out->refresh_at = out->expires_at - 300;
	return 0;
}

int
token_parse(const char *body, size_t len, double now, struct token *out,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	const char *access, *type;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(err, errlen, "the answer is not JSON (line %d)", jerr.line);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "the answer is not a JSON object");
		goto out;
	}
	access = json_string_value(json_object_get(root, "access_token"));
	if (access == NULL || *access == '\0' || strpbrk(access, "\r\n") != NULL) {
		snprintf(err, errlen, "the answer has no usable access_token");
		goto out;
	}
	if (strlen(access) > PP_TOKEN_MAX) {
		snprintf(err, errlen, "the access_token has %zu bytes, more than the "
		    "%d this proxy passes on", strlen(access), PP_TOKEN_MAX);
		goto out;
	}
	type = json_string_value(json_object_get(root, "token_type"));
	if (type != NULL && strcasecmp(type, "Bearer") != 0) {
		snprintf(err, errlen, "token_type is not Bearer");
		goto out;
	}
	if (token_times(root, now, out) == -1) {
		snprintf(err, errlen, "the answer has no valid expires_in or expires_on");
		goto out;
	}
	if ((out->access = strdup(access)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void
token_error_code(const char *body, size_t len, char *code, size_t codelen)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *e, *d;
	size_t n = 0;

	*code = '\0';
	if (root == NULL)
		return;
	e = json_string_value(json_object_get(root, "error"));
	d = json_string_value(json_object_get(root, "error_description"));
	if (e != NULL) {
		for (; e[n] != '\0' && n < 64 && (isalnum((unsigned char)e[n]) ||
		    e[n] == '_' || e[n] == '-'); n++)
			;
		snprintf(code, codelen, "%.*s", (int)n, e);
	}
	if (d != NULL && strncmp(d, "AADSTS", 6) == 0) {
		size_t m = 6, used = strlen(code);

		while (isdigit((unsigned char)d[m]) && m < 16)
			m++;
		snprintf(code + used, codelen - used, "%s%.*s", used ? " " : "",
		    (int)m, d);
	}
	json_decref(root);
}

void
token_free(struct token *t)
{
	if (t->access != NULL) {
		explicit_bzero(t->access, strlen(t->access));
		free(t->access);
	}
	memset(t, 0, sizeof(*t));
}
