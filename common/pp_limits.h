/*
 * pp_limits.h: every size, count and time limit of pingpong, named once.
 * The build writes them to $(BUILD)/pp_limits.env, from which the launcher
 * renders nginx's (@PP_NAME@ in the nginx templates), so both ends agree.
 */
#ifndef PP_LIMITS_H
#define PP_LIMITS_H

#define PP_DOTENV_MAX		65536	/* bytes of .env read */
#define PP_SECRET_MAX		4096	/* bytes of a password file */
#define PP_ACCEPT_MAX		1024	/* bytes of Accept header considered */
#define PP_REQUEST_BODY_MAX	(16 * 1024)	/* client_max_body_size on 3000 and 8000 */
#define PP_TOKEN_MAX		(16 * 1024)	/* bytes of an access token, helper and nginx */
#define PP_TOKEN_HEADER_MAX	(PP_TOKEN_MAX + 1024)	/* nginx's buffer for /_token's header */
#define PP_TOKEN_LIFETIME_MAX	(24 * 3600)	/* seconds a token is trusted, whatever it says */
#define PP_HTTP_STATUS_MAX	600	/* statuses counted: 100..599 */
#define PP_AUTH_THREADS		2	/* request threads of the token helper */
#define PP_AUTH_METRICS_MAX	(16 * 1024)	/* bytes of the helper's /metrics text */
#define PP_AUTH_DRAIN_MS	1000	/* its wait for requests in flight on stop */
#define PP_LOG_THREADS		4	/* request threads of log-output */
#define PP_LOG_UPSTREAM_MS	2000	/* log-output: one call to ping-pong's /pings */
#define PP_LOG_WAITING_MAX	512	/* log-output: requests waiting for the count; then 503 */
#define PP_LOG_DRAIN_MS		(2 * PP_LOG_UPSTREAM_MS + 500)	/* its wait: the call in progress, then the waiters' */
#define PP_LOG_METRICS_MAX	4096	/* bytes of log-output's /metrics text */
#define PP_WORKER_DRAIN_MARGIN_MS 1000	/* a worker's wait on stop: request budget + this */
#define PP_FCGI_READ_MARGIN_S	3	/* nginx's fastcgi_read_timeout: request budget + this */
#define PP_DB_KEEPALIVES_IDLE	5	/* libpq: seconds of silence before the first probe */
#define PP_DB_KEEPALIVES_INTERVAL 2	/* libpq: seconds between probes */
#define PP_DB_KEEPALIVES_COUNT	3	/* libpq: probes unanswered: the connection is dead */
#define PP_DB_TCP_USER_TIMEOUT_MS 10000	/* libpq: ms data may stay unacknowledged */
#define PP_DB_CANCEL_WAIT_MS	1000	/* a cut statement: wait for the server's answer to the cancel */
#define PP_BODY_MAX		4096	/* response body buffer of the worker */
#define PP_AUTH_BODY_MAX	(1024 * 1024)	/* client_max_body_size on 8080 */
#define PP_TOKEN_RESPONSE_MAX	(64 * 1024)	/* token endpoint answer */
#define PP_ASSERTION_MAX	(16 * 1024)	/* federated token file */
#define PP_SHARED_LOCK_WAIT_MS	1000	/* the shared file's writer: wait for its lock */
#define PP_SHARED_RETRY_MS	1000	/* its pause after a failed write, before the next try */
#define PP_DB_HOSTS_MAX		16	/* PostgreSQL hosts in PING_PONG_DB_HOST */

#endif
