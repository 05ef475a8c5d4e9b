/* pong0.c: the answer make bench's floors give every request: a pong's headers and "pong 0", with no work behind it. */
#include "pong0.h"

#define BODY	"pong 0\n"

/*
 * The bytes common/httpanswer.c's http_answer writes for a text pong, kept
 * as one constant on purpose, not written through it: the floor is the
 * cost of the worker's serving layer (common/fcgiserve.c) and nothing
 * else.  http_answer is not free (libfcgi's printf for the status line and
 * the length, a search of the parameters for the method): that is part of
 * each pong's own work, which the service's ratio to the floor must count,
 * not hide in the floor.  Change one, change the other (t/59 checks the
 * floors' length and body).
 */
static const char answer[] = "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 7\r\nCache-Control: no-store\r\n\r\n" BODY;
_Static_assert(sizeof(BODY) - 1 == 7, "Content-Length is the body's length");

void
pong0(FCGX_Request *req)
{
	FCGX_PutStr(answer, (int)sizeof(answer) - 1, req->out);
}
