/* configrow.h: the settings table's rows and the config*.c files' shared parts (programs use config.h). */
#ifndef PP_CONFIGROW_H
#define PP_CONFIGROW_H

#include <stddef.h>

#include "config.h"

enum type {
	T_STR,		/* any text */
	T_PORT,		/* 1..65535 */
	T_INT,		/* min..max */
	T_LEVEL,	/* a log level name, any case */
	T_BOOL,		/* on/off, true/false, yes/no, 1/0 */
	T_CHOICE,	/* one of the row's choices, "a|b|c" */
	T_FILE,		/* a readable file, or unset */
	T_URL,		/* http:// or https://, or unset */
	T_HOSTS,	/* libpq host list: h1,h2,... (names, addresses, socket dirs) */
	T_PORTS,	/* libpq port list: one port for all hosts, or one per host */
	T_NGINX,	/* text nginx's config takes as is: a path, an address */
};

struct row {
	const char	*env;
	enum type	 type;
	const char	*def;		/* NULL: unset by default */
	long		 min, max;
	unsigned	 owners;
	int		 secret;
	const char	*choices;	/* T_CHOICE */
};

#define CF_ALL (CF_APP | CF_AUTH | CF_LAUNCH | CF_LOG)

/* config.c: the table. */
const struct row *config_row(enum setting);
int	config_find(const char *env);		/* the row named env, or -1 */
const char *config_value(enum setting);		/* NULL when unset (config_str: "") */

/*
 * configvalue.c: checks v (writable: a choice is rewritten as listed)
 * against r's type, its number into *num (for host and port lists, how
 * many); on failure one line naming the variable into err.
 */
int	config_validate(const struct row *r, char *v, long *num, char *err, size_t errlen);

/*
 * configfile.c: reads ./.env if present (a missing file is normal), its
 * assignments kept for config_dotenv_value; *nomem set when a copy failed.
 */
int	config_dotenv_read(int *nomem, char *err, size_t errlen);
const char *config_dotenv_value(enum setting);	/* NULL when .env lacks it */
/* A secret file's text into *out (trailing newlines dropped); else why. */
int	config_secret_read(const char *path, char **out, char *why, size_t whylen);

/* configwarn.c: the warnings config_warn writes, and the closest setting to a name. */
void	config_warn_reset(void);
void	config_warn_keep(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	config_check_name(const char *name, size_t len, const char *where);
void	config_check_environment(void);
const char *config_closest(const char *name);

#endif
