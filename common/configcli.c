/* configcli.c: the command line every program shares (serve, --check-config, --print-config), the launcher's reading of its role's settings, and a command run under them (--with-settings). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* Base name of argv[0], the component of the lines written before serving. */
static const char *
program_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return slash != NULL ? slash + 1 : argv0;
}

/* Loads the owners' settings; on failure one CRITICAL line, in the format asked for when it is valid. */
static int
load_or_say(const char *name, unsigned owners)
{
	char err[512];

	if (config_load(owners, err, sizeof(err)) == 0)
		return 0;
	/* The format asked for, unless that is the setting in error. */
	if (strcasecmp(config_str(S_LOG_FORMAT), "json") == 0)
		log_init(name, PP_LOG_INFO, PP_LOG_JSON);
	log_msg(PP_LOG_CRITICAL, NULL, "configuration error: %s", err);
	return -1;
}

int
config_launch(const char *name, const char *role)
{
	log_init(name, PP_LOG_INFO, PP_LOG_TEXT);
	/* The launcher's role: its argument, else PING_PONG_ROLE. */
	if (role != NULL && config_role_owners(role) == 0) {
		log_msg(PP_LOG_CRITICAL, NULL, "configuration error: role '%s' is invalid: "
		    "expected app, authproxy, log-output or all", role);
		return 2;
	}
	if (role != NULL && setenv("PING_PONG_ROLE", role, 1) == -1)
		return 2;
	if (load_or_say(name, CF_LAUNCH) == -1 ||
	    load_or_say(name, config_role_owners(config_str(S_ROLE))) == -1)
		return 2;
	log_init(name, (enum log_level)config_int(S_LOG_LEVEL),
	    (enum log_format)config_int(S_LOG_FORMAT));
	return 0;
}

int
config_main(int argc, char *argv[], unsigned owners)
{
	const char *name = argc > 0 ? program_name(argv[0]) : "pingpong";
	const char *who = owners == CF_LAUNCH ? "launcher" : name;	/* its lines' component */
	int shell = argc >= 2 && strcmp(argv[1], "--print-config=shell") == 0;

	if ((shell && argc > 3) || (!shell && (argc > 2 || (argc == 2 &&
	    strcmp(argv[1], "--check-config") != 0 &&
	    strcmp(argv[1], "--print-config") != 0)))) {
		fprintf(stderr, "usage: %s [--check-config | --print-config | --print-config=shell [ROLE]]\n"
		    "  %s; settings come from the environment and ./.env\n"
		    "  (docs/configuration.md).\n", name, owners == CF_LAUNCH ?
		    "The launcher: bin/pingpong [ROLE] starts the stack" :
		    "Runs under spawn-fcgi (the listen socket is fd 0)");
		return 2;
	}
	/*
	 * The launcher's shell question, and its --check-config: the role's
	 * settings and what holds between them (two roles on one port), as a
	 * start checks them; a check that passed must not meet a refusal.
	 */
	if (shell || (owners == CF_LAUNCH && argc == 2 && strcmp(argv[1], "--check-config") == 0)) {
		if (config_launch(who, argc == 3 ? argv[2] : NULL) != 0)
			return 2;
		owners = config_role_owners(config_str(S_ROLE));
	} else {
		log_init(who, PP_LOG_INFO, PP_LOG_TEXT);
		if (load_or_say(who, owners) == -1)
			return 2;
		log_init(who, (enum log_level)config_int(S_LOG_LEVEL),
		    (enum log_format)config_int(S_LOG_FORMAT));
	}
	/* The launcher warned once already; its children stay quiet. */
	if (getenv("PP_CONFIG_WARNED") == NULL)
		config_warn();
	if (argc >= 2 && strcmp(argv[1], "--check-config") != 0)
		config_print(stdout, owners, shell);
	return argc >= 2 ? 0 : -1;
}

int
config_with_settings(int argc, char *argv[])
{
	const char *name = argc > 0 ? program_name(argv[0]) : "pingpong";
	int cmd = 2;	/* argv[cmd] is COMMAND: after --with-settings [ROLE] -- */

	if (cmd < argc && strcmp(argv[cmd], "--") != 0)
		cmd++;
	if (cmd + 1 >= argc || strcmp(argv[cmd], "--") != 0) {
		fprintf(stderr, "usage: %s --with-settings [ROLE] -- COMMAND [ARG...]\n", name);
		return 2;
	}
	/* Only the launcher's program runs COMMAND: its lines are the launcher's. */
	if (config_launch("launcher", cmd == 3 ? argv[2] : NULL) != 0)
		return 2;
	if (getenv("PP_CONFIG_WARNED") == NULL)
		config_warn();
	/* Said here once: COMMAND's programs find none to say (PP_SETTINGS_RESOLVED), nor does a launcher it starts. */
	if (config_export() == -1 || setenv("PP_CONFIG_WARNED", "1", 1) == -1) {
		log_error(NULL, "config_export: %s", strerror(errno));
		return 1;
	}
	execvp(argv[cmd + 1], argv + cmd + 1);
	log_error(NULL, "cannot run %s: %s", argv[cmd + 1], strerror(errno));
	return 1;
}
