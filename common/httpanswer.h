/* httpanswer.h: the one way pingpong's FastCGI programs write an HTTP answer, and the reason phrases. */
#ifndef PP_HTTPANSWER_H
#define PP_HTTPANSWER_H

#include <stddef.h>

#include <fcgiapp.h>

/* The content type of a /metrics text (Prometheus' text format). */
#define HTTP_METRICS_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* One header line of an answer: "name: value". */
struct http_header {
	const char	*name, *value;
};

/*
 * Writes req's answer: the status with its reason phrase, Content-Type
 * (none when ctype is NULL: an answer without a body), Content-Length,
 * Cache-Control: no-store (every answer is live data), the nextra extra
 * headers, then the len bytes of body, which a HEAD request does not get
 * (its headers are a GET's).  With the length, nginx sends the body as it
 * is, not in chunks (t/01).
 */
void	http_answer(FCGX_Request *req, int status, const char *ctype,
	    const struct http_header *extra, size_t nextra, const char *body, size_t len);

#endif
