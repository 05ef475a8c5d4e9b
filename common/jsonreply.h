/* jsonreply.h: the one JSON answer of the token helper and log-output. */
#ifndef PP_JSONREPLY_H
#define PP_JSONREPLY_H

#include <fcgiapp.h>
#include <jansson.h>

/*
 * Writes status (with its reason phrase), the JSON content type,
 * Cache-Control: no-store, the extra header lines (each ending in "\r\n";
 * NULL for none), and body (compact, then a newline); takes body's
 * reference.  A NULL body (jansson out of memory) is answered as 500.
 */
void	reply_json(FCGX_Request *req, int status, const char *extra, json_t *body);

#endif
