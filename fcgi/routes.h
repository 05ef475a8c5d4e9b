/* routes.h: the HTTP contract of port 3000: paths, methods, statuses, bodies. */
#ifndef PP_ROUTES_H
#define PP_ROUTES_H

#include <fcgiapp.h>

/*
 * Answers one FastCGI request completely (headers and body), now (0) or,
 * when it needs the database, later from the database thread (1).
 */
int	routes_serve(FCGX_Request *req);

#endif
