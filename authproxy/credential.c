/* credential.c: client secret, workload identity and IMDS token requests over libcurl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "clock.h"
#include "config.h"
#include "curlbody.h"
#include "smallfile.h"
#include "credential.h"
#include "pp_limits.h"

#define JWT_BEARER "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static const char *const cred_names[CRED__MAX] = {
	"none", "client_secret", "workload_identity", "managed_identity",
};

const char *
cred_name(enum cred_kind k)
{
	return k < CRED__MAX ? cred_names[k] : "?";
}

static int
is_set(enum setting s)
{
	return *config_str(s) != '\0';
}

/* 0 when the tenant, the client and `third' are all set; else -1 and a note. */
static int
need(char *note, size_t notelen, const char *what, enum setting third)
{
	const enum setting s[3] = { S_AZURE_TENANT_ID, S_AZURE_CLIENT_ID, third };

	for (int i = 0; i < 3; i++)
		if (!is_set(s[i])) {
			snprintf(note, notelen, "%s needs AZURE_TENANT_ID, AZURE_CLIENT_ID "
			    "and %s; %s is missing", what, config_env_name(third),
			    config_env_name(s[i]));
			return -1;
		}
	return 0;
}

enum cred_kind
cred_select(char *note, size_t notelen)
{
	const char *want = config_str(S_AUTH_CREDENTIAL);
	int client = is_set(S_AZURE_CLIENT_ID);
	int secret = is_set(S_AZURE_CLIENT_SECRET), file = is_set(S_AZURE_FEDERATED_TOKEN_FILE);

	*note = '\0';
	if (strcmp(want, "none") == 0)
		return CRED_NONE;
	if (strcmp(want, "client_secret") == 0 ||
	    (strcmp(want, "auto") == 0 && secret)) {
		if (need(note, notelen, "client secret", S_AZURE_CLIENT_SECRET) == -1)
			return CRED_NONE;
		if (file)
			snprintf(note, notelen, "both AZURE_CLIENT_SECRET and "
			    "AZURE_FEDERATED_TOKEN_FILE are set; using the client secret");
		return CRED_CLIENT_SECRET;
	}
	if (strcmp(want, "workload_identity") == 0 ||
	    (strcmp(want, "auto") == 0 && file)) {
		if (need(note, notelen, "workload identity", S_AZURE_FEDERATED_TOKEN_FILE) == -1)
			return CRED_NONE;
		return CRED_WORKLOAD_IDENTITY;
	}
	if (strcmp(want, "managed_identity") == 0 || client ||
	    config_is_set(S_AUTH_IMDS_ENDPOINT))
		return CRED_MANAGED_IDENTITY;
	snprintf(note, notelen, "no credentials configured: set AZURE_TENANT_ID, "
	    "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE, "
	    "or AUTH_PROXY_CREDENTIAL=managed_identity");
	return CRED_NONE;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char *end;
		double s = strtod(p + 12, &end);

		if (end != p + 12 && s >= 0)
			f->retry_after = s;
	}
	return len;
}

/* Appends "&name=value" (URL-encoded) to form; -1 on overflow or OOM. */
static int
form_add(CURL *c, char *form, size_t cap, const char *name, const char *value)
{
	char *enc = curl_easy_escape(c, value, 0);
	size_t used = strlen(form);
	int n;

	if (enc == NULL)
		return -1;
	n = snprintf(form + used, cap - used, "%s%s=%s", used ? "&" : "", name, enc);
	explicit_bzero(enc, strlen(enc));
	curl_free(enc);
	return n < 0 || (size_t)n >= cap - used ? -1 : 0;
}

/*
 * One token request, as built for its credential: the URL, the form body
 * (POST) or "" (GET), and the headers.  Wiped after use: the form holds a
 * secret or an assertion.
 */
struct request {
	char		 url[2048];
	char		 form[PP_ASSERTION_MAX + 4096];
	char		 assertion[PP_ASSERTION_MAX + 1];
	struct curl_slist *hdrs;
};

struct field {
	const char	*name, *value;
};

/* Appends the fields to form; -1 when one does not fit (or OOM). */
static int
form_fields(CURL *c, char *form, size_t cap, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (form_add(c, form, cap, f[i].name, f[i].value) == -1)
			return -1;
	return 0;
}

static int
too_large(struct fetch *out, enum cred_kind k)
{
	snprintf(out->reason, sizeof(out->reason), "%s: request too large (not sent)",
	    cred_name(k));
	return -1;
}

/* The token endpoint of Entra ID v2: <authority>/<tenant>/oauth2/v2.0/token. */
static void
aad_url(char *url, size_t cap)
{
	const char *host = config_str(S_AZURE_AUTHORITY_HOST);
	size_t n = strlen(host);

	while (n > 0 && host[n - 1] == '/')
		n--;
	snprintf(url, cap, "%.*s/%s/oauth2/v2.0/token", (int)n, host,
	    config_str(S_AZURE_TENANT_ID));
}

/* A form POST to Entra ID with the fields; -1 with out->reason when too large. */
static int
aad_post(CURL *c, struct request *r, enum cred_kind k, const struct field *f,
    size_t n, struct fetch *out)
{
	aad_url(r->url, sizeof(r->url));
	if (form_fields(c, r->form, sizeof(r->form), f, n) == -1)
		return too_large(out, k);
	r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/x-www-form-urlencoded");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->form);
	return 0;
}

static int
build_client_secret(CURL *c, struct request *r, struct fetch *out)
{
	const struct field f[] = {
		{ "grant_type", "client_credentials" },
		{ "client_id", config_str(S_AZURE_CLIENT_ID) },
		{ "scope", config_str(S_AUTH_SCOPE) },
		{ "client_secret", config_str(S_AZURE_CLIENT_SECRET) },
	};

	return aad_post(c, r, CRED_CLIENT_SECRET, f, sizeof(f) / sizeof(f[0]), out);
}

/*
 * The federated token, read afresh (the kubelet rotates it), trailing
 * blanks dropped; -1 with out->reason when unreadable, empty or larger
 * than PP_ASSERTION_MAX.
 */
static int
read_assertion(char *dst, size_t cap, struct fetch *out)
{
	const char *path = config_str(S_AZURE_FEDERATED_TOKEN_FILE);
	ssize_t got = smallfile_read(path, 0, dst, cap);
	size_t n;

	if (got == -1 && errno == EFBIG) {
		snprintf(out->reason, sizeof(out->reason), "AZURE_FEDERATED_TOKEN_FILE %s "
		    "is larger than %d bytes", path, PP_ASSERTION_MAX);
		return -1;
	}
	if (got == -1) {
		snprintf(out->reason, sizeof(out->reason),
		    "cannot read AZURE_FEDERATED_TOKEN_FILE %s: %s", path, strerror(errno));
		out->retryable = 1;
		return -1;
	}
	n = (size_t)got;
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r' || dst[n - 1] == ' '))
		n--;
	dst[n] = '\0';
	if (n == 0) {
		snprintf(out->reason, sizeof(out->reason), "AZURE_FEDERATED_TOKEN_FILE %s "
		    "is empty", path);
		out->retryable = 1;	/* the kubelet may not have written it yet */
		return -1;
	}
	return 0;
}

static int
build_workload_identity(CURL *c, struct request *r, struct fetch *out)
{
	const struct field f[] = {
		{ "grant_type", "client_credentials" },
		{ "client_id", config_str(S_AZURE_CLIENT_ID) },
		{ "scope", config_str(S_AUTH_SCOPE) },
		{ "client_assertion_type", JWT_BEARER },
		{ "client_assertion", r->assertion },
	};

	if (read_assertion(r->assertion, sizeof(r->assertion), out) == -1)
		return -1;
	return aad_post(c, r, CRED_WORKLOAD_IDENTITY, f, sizeof(f) / sizeof(f[0]), out);
}

/* IMDS: a GET with the resource (the scope without "/.default") and Metadata: true. */
static int
build_managed_identity(CURL *c, struct request *r, struct fetch *out)
{
	char resource[512], q[1024] = "";
	const char *scope = config_str(S_AUTH_SCOPE), *endpoint = config_str(S_AUTH_IMDS_ENDPOINT);
	size_t n = strlen(scope);
	int len;

	if (n >= 9 && strcmp(scope + n - 9, "/.default") == 0)
		n -= 9;
	if ((size_t)snprintf(resource, sizeof(resource), "%.*s", (int)n, scope) >= sizeof(resource))
		return too_large(out, CRED_MANAGED_IDENTITY);
	if (form_add(c, q, sizeof(q), "api-version", "2018-02-01") == -1)
		return too_large(out, CRED_MANAGED_IDENTITY);
	if (form_add(c, q, sizeof(q), "resource", resource) == -1)
		return too_large(out, CRED_MANAGED_IDENTITY);
	if (is_set(S_AZURE_CLIENT_ID) &&
	    form_add(c, q, sizeof(q), "client_id", config_str(S_AZURE_CLIENT_ID)) == -1)
		return too_large(out, CRED_MANAGED_IDENTITY);
	len = snprintf(r->url, sizeof(r->url), "%s%s%s", endpoint,
	    strchr(endpoint, '?') != NULL ? "&" : "?", q);
	if (len < 0 || (size_t)len >= sizeof(r->url))
		return too_large(out, CRED_MANAGED_IDENTITY);
	r->hdrs = curl_slist_append(r->hdrs, "Metadata: true");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");	/* IMDS refuses proxies */
	return 0;
}

/* The request of credential k; -1 with out->reason (nothing to send). */
static int
build(CURL *c, enum cred_kind k, struct request *r, struct fetch *out)
{
	switch (k) {
	case CRED_CLIENT_SECRET:
		return build_client_secret(c, r, out);
	case CRED_WORKLOAD_IDENTITY:
		return build_workload_identity(c, r, out);
	case CRED_MANAGED_IDENTITY:
		return build_managed_identity(c, r, out);
	case CRED_NONE:
	case CRED__MAX:
		break;
	}
	snprintf(out->reason, sizeof(out->reason), "no credentials configured");
	return -1;
}

static void
classify(enum cred_kind k, struct fetch *out, const struct curl_body *b)
{
	char code[128];

	token_error_code(curl_body_str(b), b->len, code, sizeof(code));
	snprintf(out->reason, sizeof(out->reason), "%s: token endpoint answered HTTP %ld%s%s",
	    cred_name(k), out->http, *code ? " " : "", code);
	out->retryable = out->http == 408 || out->http == 429 || out->http >= 500 ||
	    out->retry_after >= 0 ||
	    (k == CRED_MANAGED_IDENTITY && (out->http == 404 || out->http == 410));
}

/* Sends r and reads the answer into out; 0 or -1 with out->reason. */
static int
perform(CURL *c, enum cred_kind k, struct request *r, struct fetch *out)
{
	struct curl_body b = { .max = PP_TOKEN_RESPONSE_MAX };
	double now;
	char why[128];
	CURLcode cc;
	int rc = -1;

	r->hdrs = curl_slist_append(r->hdrs, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)PP_TOKEN_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, config_int(S_AUTH_TOKEN_TIMEOUT));
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "pingpong-authproxy");

	cc = curl_easy_perform(c);
	now = clock_wall_s();	/* the token's lifetime counts from its arrival */
	if (cc != CURLE_OK) {
		snprintf(out->reason, sizeof(out->reason), "%s: token endpoint %s: %s",
		    cred_name(k), b.overflow ? "answer too large" : "unreachable",
		    curl_easy_strerror(cc));
		out->retryable = 1;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->http);
	if (out->http < 200 || out->http > 299) {
		classify(k, out, &b);
		goto out;
	}
	if (token_parse(curl_body_str(&b), b.len, now, &out->tok, why, sizeof(why)) == -1) {
		snprintf(out->reason, sizeof(out->reason), "%s: token endpoint answer: %s",
		    cred_name(k), why);
		out->retryable = 1;
		goto out;
	}
	rc = 0;
out:
	curl_body_free(&b);
	return rc;
}

int
cred_fetch(enum cred_kind k, struct fetch *out)
{
	struct request r;
	CURL *c;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	if ((c = curl_easy_init()) == NULL) {
		snprintf(out->reason, sizeof(out->reason), "curl_easy_init failed");
		out->retryable = 1;
		return -1;
	}
	r.url[0] = r.form[0] = r.assertion[0] = '\0';
	r.hdrs = NULL;
	if (build(c, k, &r, out) == 0)
		rc = perform(c, k, &r, out);
	explicit_bzero(r.form, sizeof(r.form));
	explicit_bzero(r.assertion, sizeof(r.assertion));
	curl_slist_free_all(r.hdrs);
	curl_easy_cleanup(c);
	return rc;
}
