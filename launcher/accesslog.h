/* accesslog.h: nginx's access records, read by the launcher alone: counted, and written as log lines. */
#ifndef PP_ACCESSLOG_H
#define PP_ACCESSLOG_H

/*
 * nginx writes one record per request (log_format pp_record in
 * nginx/nginx.conf.in: tab-separated fields, nginx's escape=default) into
 * a FIFO the launcher made and holds open, so the launcher is the one
 * writer of the stack's stdout and stderr whatever they are (a file opened
 * with > or >>, a pipe, a terminal), and nginx waits rather than loses a
 * record when the launcher is behind.  Each record is:
 *   - counted, when it is an answer on the app's port, in the answers
 *     segment that /metrics on 3000 reads (pingpong_requests_total): what
 *     nginx sent, the workers' answers and its own (502, 504, 499, ...),
 *     each once;
 *   - written to stdout as an access line of the log format when the
 *     access log is on (successful probes and scrapes only with
 *     PING_PONG_ACCESS_LOG_PROBES), with the port that answered;
 *   - on the auth proxy's port, when Prometheus refused the token (401 or
 *     403), one WARNING line on stderr whatever the access log's setting.
 */

/* Makes the FIFO at path (replacing any) and opens it; answers: NULL, or the segment to count into. */
int	accesslog_open(const char *path, const char *answers, int print);

/* Its descriptor, for poll(2); -1 when not open. */
int	accesslog_fd(void);

/* Handles every record waiting in the FIFO. */
void	accesslog_read(void);

#endif
