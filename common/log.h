/* log.h: the one log module: levelled, single-line, escaped, never a secret. */
#ifndef PP_LOG_H
#define PP_LOG_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

/* One write(2) of at most PIPE_BUF bytes is never interleaved with another. */
#define PP_LOG_LINE_MAX	PIPE_BUF
/* What ends a value or a line that did not fit (nothing after it is kept). */
#define PP_LOG_CUT	"...[cut]"
/* The bytes of a line an extra JSON field may take (log_format). */
#define PP_LOG_FIELD_MAX 1024

enum log_level {
	PP_LOG_DEBUG,
	PP_LOG_INFO,
	PP_LOG_WARNING,
	PP_LOG_ERROR,
	PP_LOG_CRITICAL,
	PP_LOG_LEVEL__MAX
};

/* PING_PONG_LOG_FORMAT: the order of its choices in common/config.c. */
enum log_format {
	PP_LOG_TEXT,
	PP_LOG_JSON
};

/* Parses a level name in any case; returns -1 when it is not one. */
int	log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

/* Sets the component shown on every line, the lowest level written and the format. */
void	log_init(const char *component, enum log_level level, enum log_format format);
int	log_enabled(enum log_level level);
int	log_json(void);		/* 1 when the format is JSON */

/*
 * Writes one line to stderr.  Text:
 *   2026-11-28T06:31:45.981Z INFO worker[123] request_id=- message
 * (RFC 3339 UTC with milliseconds, level, component[pid], request_id=<id>
 * or request_id=- when reqid is NULL or empty, message).  JSON: one object
 * per line with time, level, component, pid, request_id (null when absent)
 * and msg.  Control characters in the formatted message are escaped, so an
 * untrusted value cannot forge a line; a line is at most PP_LOG_LINE_MAX
 * bytes, so it is one atomic write(2) even to a pipe.  Callers never pass
 * a password or token.  Thread-safe.
 */
void	log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Writes one line on behalf of another process (the launcher relays its
 * children's output with it): their component and pid, the same format.
 */
void	log_relay(enum log_level level, const char *component, long pid,
	    const char *msg);

/* A line to format: log_msg's fields, and what the relay of nginx's access records adds. */
struct log_field {
	const char	*name;		/* a JSON key, given by the caller (not escaped) */
	const char	*value;
	int		 number;	/* 1: written bare (digits and a dot, else null) */
};
struct log_line {
	enum log_level		 level;
	const char		*component;
	long			 pid;
	const char		*reqid;		/* NULL or "": none */
	const struct timespec	*when;		/* NULL: now */
	const char		*msg;
	const struct log_field	*fields;	/* JSON only, after request_id */
	size_t			 nfields;
};

/*
 * Formats l into line (PP_LOG_LINE_MAX bytes) as log_msg would, ending in
 * a newline; returns its length.  A value or message that does not fit
 * ends in PP_LOG_CUT: a line is never split, and JSON stays valid.
 */
size_t	log_format(char *line, const struct log_line *l);

/*
 * An outage, logged once.  A path that fails again and again (a database
 * down, a volume that refuses writes, a broken epoll set) says each
 * reason once per outage and the end of the outage once: the same line
 * every retry would drown the log.  The caller keeps its own words:
 *
 *	static struct log_outage db_outage = LOG_OUTAGE_INIT;
 *	if (log_outage_fail(&db_outage, why))
 *		log_warning(reqid, "database: %s", why);
 *	...
 *	if ((repeats = log_outage_over(&db_outage)) >= 0)
 *		log_info(NULL, "database: reachable again (%ld ...)", repeats);
 *
 * The reasons said in an outage are all remembered (the last
 * PP_OUTAGE_REASONS), so two that take turns are each said once, not once
 * per turn; a NULL reason is "the" failure of a path that has one.  An
 * outage that never ends is a "said once" for the process's life.
 * Thread-safe; log_outage_over costs one relaxed load while nothing fails.
 */
#define PP_OUTAGE_REASONS	8
#define PP_OUTAGE_REASON_MAX	256
struct log_outage {
	pthread_mutex_t	 lock;
	int		 failing;	/* written under lock, read atomically */
	unsigned	 nsaid;		/* lock: reasons said in this outage, all told */
	unsigned long	 repeats;	/* lock: failures not said */
	char		 said[PP_OUTAGE_REASONS][PP_OUTAGE_REASON_MAX];	/* lock */
};
#define LOG_OUTAGE_INIT	{ .lock = PTHREAD_MUTEX_INITIALIZER }

/* Counts a failure; 1 when why (NULL: the one reason) is new in this outage: the caller logs it. */
int	log_outage_fail(struct log_outage *o, const char *why);
/* Ends the outage: the failures not said (>= 0), the caller logs the recovery; -1 when none was going on. */
long	log_outage_over(struct log_outage *o);

#define log_debug(...)	 do { if (log_enabled(PP_LOG_DEBUG)) log_msg(PP_LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)	 log_msg(PP_LOG_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(PP_LOG_WARNING, __VA_ARGS__)
#define log_error(...)	 log_msg(PP_LOG_ERROR, __VA_ARGS__)

/* Logs at CRITICAL, naming the caller, and exits with status 1 (start-up only). */
void	log_fatal(const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
#define fatal(...) log_fatal(__func__, __VA_ARGS__)

#endif
