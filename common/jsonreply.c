/* jsonreply.c: the one JSON answer of the token helper and log-output (jansson). */
#include <stdlib.h>

#include "fcgiserve.h"
#include "jsonreply.h"

void
reply_json(FCGX_Request *req, int status, const char *extra, json_t *body)
{
	char *s = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;

	if (s == NULL) {
		status = 500;
		extra = NULL;
	}
	FCGX_FPrintF(req->out, "Status: %d %s\r\nContent-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n%s\r\n%s\n", status, http_reason(status),
	    extra != NULL ? extra : "", s != NULL ? s : "{\"error\":\"out of memory\"}");
	free(s);
	json_decref(body);
}
