/* metrics.h: the worker pool's Prometheus metrics, in one shared memory segment. */
#ifndef PP_METRICS_H
#define PP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "answers.h"	/* enum m_route */
enum m_dberr { M_DBERR_CONNECT, M_DBERR_QUERY, M_DBERR_TIMEOUT, M_DBERR__MAX };

/*
 * Maps <runtime dir>/metrics.shm (made by the first worker, sized by
 * every one; the launcher removes it at start) and registers this worker.
 * If that fails the metrics live in this process only, and it says so once.
 * Also maps the launcher's <runtime dir>/answers.shm, read-only: the
 * requests by the status the client got (common/answers.h).
 */
void	metrics_open(void);

/*
 * Each is a few relaxed atomic operations: cheap enough for every request.
 * metrics_request times an answer; counting it by status is the
 * launcher's (what nginx sent, answers.h), so that nginx's own 502, 504
 * and 499 are counted too, and nothing twice.
 */
void	metrics_request(enum m_route, double seconds);
void	metrics_db_error(enum m_dberr);
void	metrics_db_reconnect(void);
void	metrics_db_up(int up);
void	metrics_counter(int64_t value);
void	metrics_batch(int64_t size);
void	metrics_shared_file(int ok);

/* Writes the exposition text (version 0.0.4) into buf; returns its length. */
size_t	metrics_render(char *buf, size_t cap);

#endif
