/* pong0.c: the answer make bench's floors give every request: a pong's headers and "pong 0", with no work behind it. */
#include "pong0.h"

#define BODY	"pong 0\n"

/* The headers fcgi/routes.c's respond() writes for a text pong. */
static const char answer[] = "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 7\r\nCache-Control: no-store\r\n\r\n" BODY;
_Static_assert(sizeof(BODY) - 1 == 7, "Content-Length is the body's length");

void
pong0(FCGX_Request *req)
{
	FCGX_PutStr(answer, (int)sizeof(answer) - 1, req->out);
}
