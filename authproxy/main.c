/* main.c: the token helper behind nginx's auth_request on 8080: start-up and routes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>
#include <jansson.h>

#include "config.h"
#include "credential.h"
#include "fcgiserve.h"
#include "jsonreply.h"
#include "log.h"
#include "pp_limits.h"
#include "refresher.h"
#include "upstream.h"
#include "version.h"

static time_t started;	/* process_start_time_seconds; set before the threads, then read-only */

static void
rfc3339(char *dst, size_t cap, double t)
{
	time_t s = (time_t)t;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(dst, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Header- and JSON-safe copy: no control bytes, quotes or backslashes. */
static void
header_value(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = (unsigned char)src[i] < 0x20 ? ' ' :
		    src[i] == '"' || src[i] == '\\' ? '\'' : src[i];
	dst[i] = '\0';
}

/* The auth_request subrequest: 200 with the token in a header, or 401. */
static void
do_token(FCGX_Request *req)
{
	static __thread char tok[PP_TOKEN_MAX + 1];
	char why[256], safe[256];

	/* No body: nginx reads the headers (auth_request_set) and answers itself. */
	if (refresher_token(tok, sizeof(tok), why, sizeof(why)) == 0) {
		http_answer(req, 200, NULL, &(struct http_header){ "X-Access-Token", tok }, 1,
		    NULL, 0);
		explicit_bzero(tok, strlen(tok));
		return;
	}
	header_value(safe, sizeof(safe), why);
	http_answer(req, 401, NULL, &(struct http_header){ "X-Token-Error", safe }, 1, NULL, 0);
}

static void
do_health(FCGX_Request *req)
{
	struct token_status st;
	char now[32], exp[32];
	double t = (double)time(NULL);

	refresher_status(&st);
	rfc3339(now, sizeof(now), t);
	if (st.valid) {
		rfc3339(exp, sizeof(exp), st.expires_at);
		reply_json(req, 200, NULL, json_pack("{s:s, s:b, s:s, s:s, s:I, s:s}",
		    "status", "healthy", "token_valid", 1, "credential", cred_name(st.kind),
		    "expires_at", exp, "time_to_expiry_seconds", (json_int_t)(st.expires_at - t),
		    "timestamp", now));
		return;
	}
	reply_json(req, 503, NULL, json_pack("{s:s, s:b, s:s, s:s, s:s}",
	    "status", "unhealthy", "token_valid", 0, "credential", cred_name(st.kind),
	    "reason", st.reason, "timestamp", now));
}

static void
do_metrics(FCGX_Request *req)
{
	static __thread char buf[PP_AUTH_METRICS_MAX];
	struct token_status st;
	size_t len;
	int n;

	refresher_status(&st);
	len = upstream_render(buf, sizeof(buf));
	n = snprintf(buf + len, sizeof(buf) - len,
	    "# HELP pingpong_authproxy_token_refreshes_total Token requests to Azure AD, by outcome.\n"
	    "# TYPE pingpong_authproxy_token_refreshes_total counter\n"
	    "pingpong_authproxy_token_refreshes_total{outcome=\"success\"} %lu\n"
	    "pingpong_authproxy_token_refreshes_total{outcome=\"failure\"} %lu\n"
	    "# HELP pingpong_authproxy_token_valid 1 while a valid token is held.\n"
	    "# TYPE pingpong_authproxy_token_valid gauge\n"
	    "pingpong_authproxy_token_valid %d\n"
	    "# HELP pingpong_authproxy_token_expiry_timestamp_seconds When the held token expires, in seconds since the epoch (0 without one).\n"
	    "# TYPE pingpong_authproxy_token_expiry_timestamp_seconds gauge\n"
	    "pingpong_authproxy_token_expiry_timestamp_seconds %.0f\n"
	    PP_METRICS_PROCESS_FMT,
	    st.refresh_ok, st.refresh_failed, st.valid, st.valid ? st.expires_at : 0.0,
	    "authproxy", (unsigned long long)started);
	reply_metrics(req, buf, n < 0 ? n : (int)len + n, sizeof(buf));
}

static void
handle(FCGX_Request *req)
{
	const char *path = FCGX_GetParam("DOCUMENT_URI", req->envp);

	if (path == NULL)
		path = "";
	if (strcmp(path, "/_token") == 0)
		do_token(req);
	else if (strcmp(path, "/health") == 0)
		do_health(req);
	else if (strcmp(path, "/metrics") == 0)
		do_metrics(req);
	else if (strcmp(path, "/health/live") == 0)
		reply_json(req, 200, NULL, json_pack("{s:s}", "status", "alive"));
	else
		reply_json(req, 404, NULL, json_pack("{s:s, s:s, s:s}", "status", "error",
		    "errorType", "not_found", "error", "not found"));
}

int
main(int argc, char *argv[])
{
	char note[256];
	int rc;
	enum cred_kind kind;

	if ((rc = fcgiserve_start(argc, argv, CF_AUTH | CF_LAUNCH, "authproxy")) != -1)
		return rc;
	started = time(NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatal("curl_global_init failed");
	kind = cred_select(note, sizeof(note));
	if (*note)
		log_warning(NULL, "%s", note);
	log_info(NULL, "credential: %s", cred_name(kind));
	refresher_start(kind, note);
	upstream_start();
	rc = fcgiserve_run(PP_AUTH_THREADS, handle, NULL, PP_AUTH_DRAIN_MS);
	/* _exit: the refresh and reader threads still run (see fcgi/main.c). */
	_exit(rc);
}
