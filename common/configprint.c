/* configprint.c: --print-config: the settings as NAME=value, normalised, secrets masked; as shell assignments with what the launcher derives. */
#include <stdio.h>

#include "configrow.h"
#include "log.h"

/* The value as it means: booleans on/off, levels in capitals, numbers as parsed. */
static const char *
normalised(enum setting s, char *buf, size_t len)
{
	const struct row *r = config_row(s);
	const char *v = config_value(s);

	if (v == NULL)
		return "";
	if (r->secret)
		return *v != '\0' ? "********" : "";
	switch (r->type) {
	case T_BOOL:
		return config_int(s) ? "on" : "off";
	case T_LEVEL:
		return log_level_name((enum log_level)config_int(s));
	case T_PORT:
	case T_INT:
		snprintf(buf, len, "%ld", config_int(s));
		return buf;
	case T_STR:
	case T_NGINX:
	case T_CHOICE:
	case T_FILE:
	case T_URL:
	case T_HOSTS:
	case T_PORTS:
		break;
	}
	return v;
}

/* Writes v in single quotes, each ' as '\'' (safe for a shell's eval). */
static void
print_quoted(FILE *fp, const char *v)
{
	fputc('\'', fp);
	for (; *v != '\0'; v++)
		if (*v == '\'')
			fputs("'\\''", fp);
		else
			fputc(*v, fp);
	fputc('\'', fp);
}

/* What the launcher derives from the settings, computed here so it reads them once. */
static void
print_derived(FILE *fp)
{
	/* make run starts a private database only when no host was given. */
	fprintf(fp, "cfg_db_host_given=%d\n", config_is_set(S_DB_HOST));
	/* and listens on loopback only when no address was given. */
	fprintf(fp, "cfg_listen_given=%d\n", config_is_set(S_LISTEN_ADDRESS));
	fprintf(fp, "cfg_workers_started=%ld\n", config_workers_started());
	fprintf(fp, "cfg_fcgi_read_timeout=%ld\n", config_fcgi_read_timeout());
}

void
config_print(FILE *fp, unsigned owners, int shell)
{
	char buf[32];

	for (int i = 0; i < S__MAX; i++) {
		if ((config_row(i)->owners & owners) == 0)
			continue;
		if (!shell) {
			fprintf(fp, "%s=%s\n", config_row(i)->env, normalised(i, buf, sizeof(buf)));
			continue;
		}
		fprintf(fp, "cfg_%s=", config_row(i)->env);
		print_quoted(fp, normalised(i, buf, sizeof(buf)));
		fputc('\n', fp);
	}
	if (shell)
		print_derived(fp);
}
