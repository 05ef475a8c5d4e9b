/* httpanswer.c: the one way pingpong's FastCGI programs write an HTTP answer, and the reason phrases. */
#include <string.h>

#include "httpanswer.h"

/* The reason phrase of an HTTP status these programs send ("OK", ...). */
static const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "Unknown";
}

void
http_answer(FCGX_Request *req, int status, const char *ctype,
    const struct http_header *extra, size_t nextra, const char *body, size_t len)
{
	const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);

	/* One call for the usual headers (libfcgi has its own printf: no %zu). */
	FCGX_FPrintF(req->out, "Status: %d %s\r\n%s%s%sContent-Length: %lu\r\n"
	    "Cache-Control: no-store\r\n", status, http_reason(status),
	    ctype != NULL ? "Content-Type: " : "", ctype != NULL ? ctype : "",
	    ctype != NULL ? "\r\n" : "", (unsigned long)len);
	for (size_t i = 0; i < nextra; i++)
		FCGX_FPrintF(req->out, "%s: %s\r\n", extra[i].name, extra[i].value);
	FCGX_PutS("\r\n", req->out);
	if (len > 0 && (method == NULL || strcmp(method, "HEAD") != 0))
		FCGX_PutStr(body, (int)len, req->out);
}
