/* jsonreply.h: the token helper's and log-output's answers: a JSON body, or the /metrics text. */
#ifndef PP_JSONREPLY_H
#define PP_JSONREPLY_H

#include <fcgiapp.h>
#include <jansson.h>

#include "httpanswer.h"

/*
 * Answers status with body, compact JSON and a newline (http_answer:
 * Content-Length, Cache-Control: no-store), and the one extra header
 * (NULL for none); takes body's reference.  A NULL body (jansson out of
 * memory) is answered as 500.
 */
void	reply_json(FCGX_Request *req, int status, const struct http_header *extra, json_t *body);

/*
 * Answers the /metrics text of n bytes (snprintf's result) written into a
 * buffer of cap bytes: 200, or, when it did not fit, an error logged and
 * a JSON 500, never a cut-off 200.
 */
void	reply_metrics(FCGX_Request *req, const char *text, int n, size_t cap);

#endif
