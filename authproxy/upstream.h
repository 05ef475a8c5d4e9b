/* upstream.h: counts nginx's upstream answers on 8080, from its syslog datagrams. */
#ifndef PP_UPSTREAM_H
#define PP_UPSTREAM_H

#include <stddef.h>

/*
 * Binds <runtime dir>/auth-log.sock (a unix datagram socket, given to
 * nginx's user when root) and starts a thread that counts each datagram's
 * status code: nginx sends one per proxied query (access_log syslog:).
 */
void	upstream_start(void);

/* Appends pingpong_authproxy_upstream_requests_total lines to buf. */
size_t	upstream_render(char *buf, size_t cap);

#endif
