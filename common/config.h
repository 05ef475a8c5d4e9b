/* config.h: the one settings table for every pingpong program. */
#ifndef PP_CONFIG_H
#define PP_CONFIG_H

#include <stdio.h>

/* Which program reads a setting (a row may belong to several). */
#define CF_APP		0x01	/* the FastCGI worker behind port 3000 */
#define CF_AUTH		0x02	/* the token helper behind port 8080 */
#define CF_LAUNCH	0x04	/* the launcher only (validated here too) */
#define CF_LOG		0x08	/* log-output, the companion on port 8000 */

enum setting {
	S_ROLE,
	S_RUNTIME_DIR,
	S_APP_PORT,
	S_LOG_LEVEL,
	S_WORKERS,
	S_THREADS,
	S_GROUP_INCREMENTS,
	S_BATCH_MAX,
	S_DB_HOST,
	S_DB_PORT,
	S_DB_NAME,
	S_DB_USER,
	S_DB_PASSWORD,
	S_DB_PASSWORD_FILE,
	S_DB_CONNECT_TIMEOUT,
	S_DB_STATEMENT_TIMEOUT,
	S_DB_RETRY_INTERVAL,
	S_DB_PREPARED,
	S_DB_REQUIRE_HANDOVER,
	S_DB_MAX_CONNECTIONS,
	S_SHARED_VOLUME_PATH,
	S_METRICS,
	S_LISTEN_ADDRESS,
	S_ACCESS_LOG,
	S_NGINX_USER,
	S_NGINX_WORKERS,
	S_AUTH_PORT,
	S_AUTH_PROMETHEUS_URL,
	S_AUTH_SCOPE,
	S_AUTH_IMDS_ENDPOINT,
	S_AUTH_TIMEOUT,
	S_AUTH_TOKEN_TIMEOUT,
	S_AUTH_CREDENTIAL,
	S_AUTH_RETRY_MIN,
	S_AUTH_RETRY_MAX,
	S_AZURE_TENANT_ID,
	S_AZURE_CLIENT_ID,
	S_AZURE_CLIENT_SECRET,
	S_AZURE_FEDERATED_TOKEN_FILE,
	S_AZURE_AUTHORITY_HOST,
	S_LOG_PORT,
	S_LOG_INTERVAL,
	S_LOG_PP_HOST,
	S_LOG_PP_PORT,
	S_LOG_SHARED_VOLUME_PATH,
	S_LOG_FORMAT,
	S_ACCESS_LOG_PROBES,
	S_USER,
	S__MAX
};

/*
 * Reads every setting of the given owners from the environment, then from
 * ./.env for names the environment lacks, and validates each.  On failure
 * writes one line naming the variable, the value (never a secret's) and what
 * is accepted into err and returns -1.  Unknown PING_PONG_*, AUTH_PROXY_*
 * and LOG_APP_* names and lines of .env that are not assignments are kept
 * as warnings (config_warn writes them).
 */
int	config_load(unsigned owners, char *err, size_t errlen);

/*
 * Settings read once: the launcher resolves the environment and ./.env
 * (config_load), then puts every setting given in either into its own
 * environment with PP_SETTINGS_RESOLVED=1, which every part inherits.  A
 * program that finds PP_SETTINGS_RESOLVED reads no .env and warns about
 * nothing (the launcher did both), so a worker multiwatch starts again has
 * exactly the first one's settings, whatever became of .env since.
 * Returns 0, or -1 (out of memory).
 */
#define PP_SETTINGS_RESOLVED	"PP_SETTINGS_RESOLVED"
int	config_export(void);

/* Logs one warning per unknown name or bad .env line config_load found. */
void	config_warn(void);

const char *config_str(enum setting);	/* "" when unset */
long	config_int(enum setting);	/* numbers, ports, booleans (0/1), a choice's index */
int	config_is_set(enum setting);	/* given explicitly (env or .env) */
long	config_db_host_count(void);	/* how many hosts PING_PONG_DB_HOST lists */
/*
 * The directory a program keeps its files in (metrics.shm, answers.shm,
 * guard.shm, leader.shm, auth-log.sock): PING_PONG_RUNTIME_DIR as the
 * program received it.  The launcher reads that setting as its runtime
 * directory and starts every program with it set to the runtime
 * directory's state/; a program started alone takes the value as given.
 */
const char *config_state_dir(void);
/*
 * The one request-deadline formula: the longest a worker takes to answer
 * (connect + statement timeouts), in ms.  db.c's deadlines, the worker's
 * drain on stop and nginx's fastcgi_read_timeout all derive from it.
 */
long	config_request_budget_ms(void);
const char *config_env_name(enum setting);

/*
 * The command line every program shares: no argument (serve),
 * --check-config, --print-config, or --print-config=shell [ROLE] (the
 * launcher's question: the role's settings and derived values as shell
 * assignments).  Loads and validates the owners' settings; a bad one is one
 * line on stderr and exit status 2.  Returns -1 when the program should go
 * on and serve, else the status to exit with.
 */
int	config_main(int argc, char *argv[], unsigned owners);

/*
 * The launcher's reading: role (its argument, or NULL for PING_PONG_ROLE),
 * then the role's settings, validated; logging set up as they say (name:
 * the component).  Returns 0, or 2 after one line saying what is wrong.
 */
int	config_launch(const char *name, const char *role);

/*
 * pingpong-supervise --with-settings [ROLE] -- COMMAND [ARG...]: reads the
 * role's settings once as a start does (config_launch), says the warnings,
 * hands the settings over as the launcher hands them to its parts
 * (config_export, PP_SETTINGS_RESOLVED=1, with PP_CONFIG_WARNED=1) and
 * execs COMMAND: what it starts (make run's script, the launcher, the
 * worker of make migrate-widen) reads the environment alone, so an edit of
 * .env meanwhile changes none of them.  Returns only on failure: 2 (usage,
 * a bad setting), 1 (COMMAND cannot run).
 */
int	config_with_settings(int argc, char *argv[]);

/* What follows from the settings: workers started (the connection budget caps them), nginx's fastcgi_read_timeout in s. */
long	config_workers_started(void);
long	config_fcgi_read_timeout(void);

/*
 * 1 when nginx's config can hold v as is (the rule of PING_PONG_RUNTIME_DIR
 * and PING_PONG_LISTEN_ADDRESS): not empty, no blank, control character,
 * quote, brace, ;, #, $ or \.  The launcher asks it of the runtime
 * directory's absolute path, which a relative value does not show.
 */
int	config_nginx_safe(const char *v);

/* Which settings a launcher role reads and validates; 0 for an unknown role. */
unsigned config_role_owners(const char *role);

/*
 * Prints NAME=value for the owners' rows, normalised (booleans on/off,
 * levels and choices as listed), secrets masked; shell: as cfg_NAME='value'
 * lines a shell can eval, with the derived values after them.
 */
void	config_print(FILE *, unsigned owners, int shell);

#endif
