/* pong0.h: the answer make bench's floors give every request. */
#ifndef PP_PONG0_H
#define PP_PONG0_H

#include <fcgiapp.h>

/* Writes a pong's answer, "pong 0", with the worker's headers (Content-Length too). */
void	pong0(FCGX_Request *req);

#endif
