/*
 * pp_limits.h: every size, count and time limit of pingpong, named once.
 * The build writes them to $(BUILD)/pp_limits.env, from which the launcher
 * renders nginx's (@PP_NAME@ in the nginx templates), so both ends agree.
 * One value a line, a number or an expression of them (bash's arithmetic
 * evaluates it for the .env file).
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
#define PP_TOKEN_CONNECT_MS	2000	/* the token helper: a connect to the token endpoint (libcurl) */
#define PP_HTTP_STATUS_MAX	600	/* statuses counted: 100..599 */
#define PP_AUTH_THREADS		2	/* request threads of the token helper */
#define PP_AUTH_METRICS_MAX	(16 * 1024)	/* bytes of the helper's /metrics text */
#define PP_AUTH_DRAIN_MS	1000	/* its wait for requests in flight on stop */
#define PP_AUTH_READ_TIMEOUT_S	5	/* nginx: the token helper's answer (from memory: it never waits on Azure) */
#define PP_LOG_THREADS		4	/* request threads of log-output */
#define PP_LOG_UPSTREAM_MS	2000	/* log-output: one call to ping-pong's /pings (libcurl) */
#define PP_LOG_WAITING_MAX	512	/* log-output: requests waiting for the count; then 503 */
#define PP_LOG_DRAIN_MS		(2 * PP_LOG_UPSTREAM_MS + 500)	/* its wait: the call in progress, then the waiters' */
#define PP_LOG_METRICS_MAX	4096	/* bytes of log-output's /metrics text */
#define PP_LOG_READ_TIMEOUT_S	10	/* nginx: log-output's answer, past its longest wait (2 x PP_LOG_UPSTREAM_MS) */
#define PP_WORKER_DRAIN_MARGIN_MS 1000	/* a worker's wait on stop: request budget + this */
#define PP_FCGI_READ_MARGIN_S	3	/* nginx's fastcgi_read_timeout: request budget + this */
#define PP_FCGI_CONNECT_TIMEOUT_S 2	/* nginx: a connect to a program's socket (local: fails at once, or it is stuck) */
#define PP_FCGI_SEND_TIMEOUT_S	10	/* nginx: a request's write to a worker */
#define PP_FCGI_KEEPALIVE	256	/* nginx: idle connections to the workers kept, per nginx worker */
#define PP_FCGI_KEEPALIVE_S	60	/* nginx: how long one is kept idle */
#define PP_NGINX_CONNECTIONS	4096	/* nginx: connections per nginx worker, clients and upstreams */
#define PP_HEADER_BUFFER	1024	/* nginx: a request's headers, usually (client_header_buffer_size) */
#define PP_LARGE_HEADER_BUFFER	8192	/* nginx: the longest request line or header line (414, 494) */
#define PP_CLIENT_TIMEOUT_S	10	/* nginx: a client's headers, body, or reading the answer, stalled */
#define PP_CLIENT_KEEPALIVE_S	65	/* nginx: a client's idle kept connection */
#define PP_CLIENT_KEEPALIVE_REQUESTS 10000	/* nginx: requests on one client connection */
#define PP_PROXY_CONNECT_TIMEOUT_S 5	/* nginx: a connect to Prometheus (AUTH_PROXY_TIMEOUT bounds the rest) */
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
