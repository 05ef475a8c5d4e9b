/* nginxconf.h: the files the stack reads in its runtime directory: nginx's config rendered for the role, the healthcheck's path. */
#ifndef PP_NGINXCONF_H
#define PP_NGINXCONF_H

#include "launch.h"

/*
 * The placeholders' values (the @NAME@s of the templates, nginx/NAME.conf.in): the stack's user,
 * the limits the programs were built with (PP_LIBEXEC/pp_limits.env), the
 * runtime directory, and the settings nginx's config holds.  0, or -1
 * after one line.
 */
int	nginxconf_values(const struct stack *);

/* Renders the role's servers into RUNDIR/nginx.conf and makes nginx's directory; 0, or -1 after one line. */
int	nginxconf_write(const struct stack *);

/* Writes RUNDIR/healthcheck: the port and path bin/pingpong-healthcheck asks; 0, or -1 after one line. */
int	nginxconf_healthcheck(const struct stack *);

/*
 * The setting that moves the port nginx's line said could not be bound
 * ("bind() to ADDR:PORT failed (98: Address already in use)"), and the
 * port in *port; NULL when the line is not that.
 */
const char *nginxconf_taken_port(const char *said, long *port);

#endif
