/* credential.c: client secret, workload identity and IMDS token requests over libcurl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "config.h"
#include "credential.h"
#include "pp_limits.h"

#define JWT_BEARER "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static const char *const cred_names[CRED__MAX] = {
	"none", "client_secret", "workload_identity", "managed_identity",
};

struct buf {
	char	*data;
	size_t	 len, cap;
	int	 overflow;
};

const char *
cred_name(enum cred_kind k)
{
	return k < CRED__MAX ? cred_names[k] : "?";
}

static int
set(enum setting s)
{
	return *config_str(s) != '\0';
}

/* 0 when the tenant, the client and `third' are all set; else -1 and a note. */
static int
need(char *note, size_t notelen, const char *what, enum setting third)
{
	const enum setting s[3] = { S_AZURE_TENANT_ID, S_AZURE_CLIENT_ID, third };

	for (int i = 0; i < 3; i++)
		if (!set(s[i])) {
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
	int client = set(S_AZURE_CLIENT_ID);
	int secret = set(S_AZURE_CLIENT_SECRET), file = set(S_AZURE_FEDERATED_TOKEN_FILE);

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
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;

	if (b->len + len > PP_TOKEN_RESPONSE_MAX) {
		b->overflow = 1;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *d = realloc(b->data, cap);

		if (d == NULL)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
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

/* The federated token, read afresh: the kubelet rotates it. */
static int
read_assertion(char *dst, size_t cap, char *why, size_t whylen)
{
	FILE *fp = fopen(config_str(S_AZURE_FEDERATED_TOKEN_FILE), "re");
	size_t n;

	if (fp == NULL) {
		snprintf(why, whylen, "cannot read AZURE_FEDERATED_TOKEN_FILE %s",
		    config_str(S_AZURE_FEDERATED_TOKEN_FILE));
		return -1;
	}
	n = fread(dst, 1, cap - 1, fp);
	fclose(fp);
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r' || dst[n - 1] == ' '))
		n--;
	dst[n] = '\0';
	if (n == 0 || n >= cap - 1) {
		snprintf(why, whylen, "AZURE_FEDERATED_TOKEN_FILE %s is %s",
		    config_str(S_AZURE_FEDERATED_TOKEN_FILE), n == 0 ? "empty" : "too large");
		return -1;
	}
	return 0;
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

/* IMDS takes a resource: the scope without "/.default". */
static int
imds_url(CURL *c, char *url, size_t cap)
{
	char resource[512], q[1024] = "";
	const char *scope = config_str(S_AUTH_SCOPE);
	size_t n = strlen(scope);

	if (n >= 9 && strcmp(scope + n - 9, "/.default") == 0)
		n -= 9;
	snprintf(resource, sizeof(resource), "%.*s", (int)n, scope);
	if (form_add(c, q, sizeof(q), "api-version", "2018-02-01") == -1 ||
	    form_add(c, q, sizeof(q), "resource", resource) == -1 ||
	    (set(S_AZURE_CLIENT_ID) &&
	    form_add(c, q, sizeof(q), "client_id", config_str(S_AZURE_CLIENT_ID)) == -1))
		return -1;
	snprintf(url, cap, "%s%s%s", config_str(S_AUTH_IMDS_ENDPOINT),
	    strchr(config_str(S_AUTH_IMDS_ENDPOINT), '?') ? "&" : "?", q);
	return 0;
}

static void
classify(enum cred_kind k, struct fetch *out, struct buf *b)
{
	char code[128];

	token_error_code(b->data != NULL ? b->data : "", b->len, code, sizeof(code));
	snprintf(out->reason, sizeof(out->reason), "%s: token endpoint answered HTTP %ld%s%s",
	    cred_name(k), out->http, *code ? " " : "", code);
	out->retryable = out->http == 408 || out->http == 429 || out->http >= 500 ||
	    out->retry_after >= 0 ||
	    (k == CRED_MANAGED_IDENTITY && (out->http == 404 || out->http == 410));
}

int
cred_fetch(enum cred_kind k, struct fetch *out)
{
	char url[2048], form[PP_ASSERTION_MAX + 4096] = "", assertion[PP_ASSERTION_MAX];
	char why[128];
	struct curl_slist *hdrs = NULL;
	struct buf b = { NULL, 0, 0, 0 };
	struct timespec now;
	CURLcode cc;
	CURL *c;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	if (k == CRED_NONE || k >= CRED__MAX) {
		snprintf(out->reason, sizeof(out->reason), "no credentials configured");
		return -1;
	}
	if ((c = curl_easy_init()) == NULL) {
		snprintf(out->reason, sizeof(out->reason), "curl_easy_init failed");
		return -1;
	}
	switch (k) {
	case CRED_CLIENT_SECRET:
	case CRED_WORKLOAD_IDENTITY:
		aad_url(url, sizeof(url));
		if (k == CRED_WORKLOAD_IDENTITY && read_assertion(assertion,
		    sizeof(assertion), out->reason, sizeof(out->reason)) == -1) {
			out->retryable = 1;
			goto out;
		}
		if (form_add(c, form, sizeof(form), "grant_type", "client_credentials") == -1 ||
		    form_add(c, form, sizeof(form), "client_id", config_str(S_AZURE_CLIENT_ID)) == -1 ||
		    form_add(c, form, sizeof(form), "scope", config_str(S_AUTH_SCOPE)) == -1 ||
		    (k == CRED_CLIENT_SECRET ?
		    form_add(c, form, sizeof(form), "client_secret", config_str(S_AZURE_CLIENT_SECRET)) :
		    form_add(c, form, sizeof(form), "client_assertion_type", JWT_BEARER) == -1 ||
		    form_add(c, form, sizeof(form), "client_assertion", assertion)) == -1) {
			snprintf(out->reason, sizeof(out->reason), "%s: request too large", cred_name(k));
			goto out;
		}
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
		break;
	case CRED_MANAGED_IDENTITY:
		if (imds_url(c, url, sizeof(url)) == -1) {
			snprintf(out->reason, sizeof(out->reason), "%s: request too large", cred_name(k));
			goto out;
		}
		hdrs = curl_slist_append(hdrs, "Metadata: true");
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");	/* IMDS refuses proxies */
		break;
	case CRED_NONE:
	case CRED__MAX:
		goto out;
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 2L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, config_int(S_AUTH_TOKEN_TIMEOUT));
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "pingpong-authproxy");

	cc = curl_easy_perform(c);
	clock_gettime(CLOCK_REALTIME, &now);
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
	if (token_parse(b.data != NULL ? b.data : "", b.len,
	    (double)now.tv_sec + now.tv_nsec / 1e9, &out->tok, why, sizeof(why)) == -1) {
		snprintf(out->reason, sizeof(out->reason), "%s: token endpoint answer: %s",
		    cred_name(k), why);
		out->retryable = 1;
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(form, sizeof(form));
	explicit_bzero(assertion, sizeof(assertion));
	if (b.data != NULL) {
		explicit_bzero(b.data, b.len);
		free(b.data);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}
