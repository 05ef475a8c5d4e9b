/* limits.h: every size limit of pingpong, named once (nginx's match these). */
#ifndef PP_LIMITS_H
#define PP_LIMITS_H

#define PP_DOTENV_MAX		65536	/* bytes of .env read */
#define PP_SECRET_MAX		4096	/* bytes of a password file */
#define PP_ACCEPT_MAX		1024	/* bytes of Accept header considered */
#define PP_BODY_MAX		4096	/* response body buffer of the worker */
#define PP_AUTH_BODY_MAX	(1024 * 1024)	/* client_max_body_size on 8080 */
#define PP_TOKEN_RESPONSE_MAX	(64 * 1024)	/* token endpoint answer */
#define PP_ASSERTION_MAX	(16 * 1024)	/* federated token file */
#define PP_DB_HOSTS_MAX		16	/* PostgreSQL hosts in PING_PONG_DB_HOST */

#endif
