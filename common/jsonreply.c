/* jsonreply.c: the token helper's and log-output's answers: a JSON body (jansson), or the /metrics text. */
#include <stdlib.h>
#include <string.h>

#include "jsonreply.h"
#include "log.h"

#define JSON_TYPE	"application/json"

void
reply_json(FCGX_Request *req, int status, const struct http_header *extra, json_t *body)
{
	static const char oom[] = "{\"error\":\"out of memory\"}\n";
	char *s = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	size_t n;

	if (s != NULL) {
		n = strlen(s);
		s[n++] = '\n';	/* over the NUL: the length ends the body */
		http_answer(req, status, JSON_TYPE, extra, extra != NULL, s, n);
	} else
		http_answer(req, 500, JSON_TYPE, NULL, 0, oom, sizeof(oom) - 1);
	free(s);
	json_decref(body);
}

void
reply_metrics(FCGX_Request *req, const char *text, int n, size_t cap)
{
	if (n < 0 || (size_t)n >= cap) {
		log_error(NULL, "/metrics: more than %zu bytes", cap);
		reply_json(req, 500, NULL, json_pack("{s:s}", "error", "metrics too large"));
		return;
	}
	http_answer(req, 200, HTTP_METRICS_TYPE, NULL, 0, text, (size_t)n);
}
