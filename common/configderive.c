/* configderive.c: what follows from the settings: a program's own directory, the request budget, the workers started, nginx's read timeout, the settings a role reads. */
#include <strings.h>

#include "configrow.h"
#include "pp_limits.h"

const char *
config_state_dir(void)
{
	return config_str(S_RUNTIME_DIR);	/* the launcher's state/, when it started this program */
}

long
config_request_budget_ms(void)
{
	return config_int(S_DB_CONNECT_TIMEOUT) * 1000 + config_int(S_DB_STATEMENT_TIMEOUT);
}

long
config_workers_started(void)
{
	/* Each worker holds one connection: a replica opens at most the budget. */
	return config_int(S_WORKERS) < config_int(S_DB_MAX_CONNECTIONS) ? config_int(S_WORKERS) :
	    config_int(S_DB_MAX_CONNECTIONS);
}

long
config_fcgi_read_timeout(void)
{
	/* A worker answers within its request budget; nginx waits a bit more. */
	return (config_request_budget_ms() + 999) / 1000 + PP_FCGI_READ_MARGIN_S;
}

unsigned
config_role_owners(const char *role)
{
	static const struct { const char *role; unsigned owners; } roles[] = {
		{ "app", CF_APP | CF_LAUNCH },
		{ "authproxy", CF_AUTH | CF_LAUNCH },
		{ "log-output", CF_LOG | CF_LAUNCH },
		{ "all", CF_ALL },
	};

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcasecmp(role, roles[i].role) == 0)
			return roles[i].owners;
	return 0;
}
