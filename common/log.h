/* log.h: the one log module: levelled, single-line, escaped, never a secret. */
#ifndef PP_LOG_H
#define PP_LOG_H

enum log_level {
	PP_LOG_DEBUG,
	PP_LOG_INFO,
	PP_LOG_WARNING,
	PP_LOG_ERROR,
	PP_LOG_CRITICAL,
	PP_LOG_LEVEL__MAX
};

/* Parses a level name in any case; returns -1 when it is not one. */
int	log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

/* Sets the component shown on every line and the lowest level written. */
void	log_init(const char *component, enum log_level level);
int	log_enabled(enum log_level level);

/*
 * Writes one line to stderr: time, level, component[pid], request_id=<id>
 * (or request_id=- when reqid is NULL or empty), message.  Control characters in the formatted message are escaped,
 * so an untrusted value cannot forge a line.  Callers never pass a password
 * or token.  Thread-safe: each line is one write(2).
 */
void	log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#define log_debug(...)	 do { if (log_enabled(PP_LOG_DEBUG)) log_msg(PP_LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)	 log_msg(PP_LOG_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(PP_LOG_WARNING, __VA_ARGS__)
#define log_error(...)	 log_msg(PP_LOG_ERROR, __VA_ARGS__)

/* Logs at CRITICAL, naming the caller, and exits with status 1 (start-up only). */
void	log_fatal(const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
#define fatal(...) log_fatal(__func__, __VA_ARGS__)

#endif
