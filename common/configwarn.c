/* configwarn.c: unknown names and .env lines not taken, kept as warnings with the closest setting (edit distance); config_warn writes them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "configrow.h"
#include "log.h"

/* Prefixes of the names the table owns: an unknown one is a typo. */
static const char *const prefixes[] = { "PING_PONG_", "AUTH_PROXY_", "LOG_APP_" };

#define WARN_MAX	16	/* warnings kept; the rest are counted */

static char	 warnings[WARN_MAX][200];
static int	 nwarnings;

/* Edit distance between a and b (each up to 63 bytes are compared). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strnlen(a, 63), lb = strnlen(b, 63), prev[64], cur[64];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

/* The valid setting closest to name. */
const char *
config_closest(const char *name)
{
	size_t best = (size_t)-1;
	const char *found = config_row(0)->env;

	for (int i = 0; i < S__MAX; i++) {
		size_t d = distance(name, config_row(i)->env);

		if (d < best) {
			best = d;
			found = config_row(i)->env;
		}
	}
	return found;
}

void
config_warn_reset(void)
{
	nwarnings = 0;
}

void
config_warn_keep(const char *fmt, ...)
{
	va_list ap;

	if (nwarnings++ >= WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(warnings[nwarnings - 1], sizeof(warnings[0]), fmt, ap);
	va_end(ap);
}

/* An unknown name with one of our prefixes: kept as a warning. */
void
config_check_name(const char *name, size_t len, const char *where)
{
	char key[64];

	if (len >= sizeof(key))
		len = sizeof(key) - 1;
	memcpy(key, name, len);
	key[len] = '\0';
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
		if (strncmp(key, prefixes[p], strlen(prefixes[p])) == 0 &&
		    config_find(key) < 0) {
			config_warn_keep("unknown setting %s in %s, ignored; the closest setting is %s",
			    key, where, config_closest(key));
			return;
		}
}

/* Every name of the environment with one of our prefixes must be a setting. */
void
config_check_environment(void)
{
	extern char **environ;

	for (char **e = environ; *e != NULL; e++)
		config_check_name(*e, strcspn(*e, "="), "the environment");
}

void
config_warn(void)
{
	int kept = nwarnings < WARN_MAX ? nwarnings : WARN_MAX;

	for (int w = 0; w < kept; w++)
		log_warning(NULL, "configuration: %s", warnings[w]);
	if (nwarnings > kept)
		log_warning(NULL, "configuration: %d more warnings not shown", nwarnings - kept);
}
