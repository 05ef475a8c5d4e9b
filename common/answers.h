/* answers.h: what the clients of 3000 were answered, by route and status: one shared segment, written by the launcher from nginx's access records, read by the workers' /metrics. */
#ifndef PP_ANSWERS_H
#define PP_ANSWERS_H

#include <stddef.h>
#include <stdint.h>

/* Where a request went, for the route label ("other" = unknown path). */
enum m_route { M_PINGPONG, M_ROOT, M_PINGS, M_HEALTH, M_READY, M_OTHER, M_ROUTE__MAX };

extern const char *const answers_route_names[M_ROUTE__MAX];

/*
 * The route of a path (nginx's $uri as the request arrived, before any
 * error page); -1 for /metrics, which is not counted.  "" is M_OTHER.
 */
int	answers_route(const char *path);

/*
 * Maps the segment at path.  The launcher creates it (mode 0644, replacing
 * any old one) before the workers start and is its one writer; the workers
 * map it read-only.  0, or -1 with errno set.
 */
int	answers_create(const char *path);
int	answers_attach(const char *path);

/* Counts one answer (the launcher); a no-op without a segment. */
void	answers_count(enum m_route route, int status);

/* Codes with a series of their own, and "other": c in answers_get is below it. */
#define ANSWERS_CODES	12

/*
 * Route's count of the c-th code, and its label in code.  Returns 1 when
 * the series is shown even at 0, 0 when only once it moved, -1 without a
 * segment.
 */
int	answers_get(enum m_route route, size_t c, char code[8], uint64_t *v);

#endif
