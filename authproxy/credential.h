/* credential.h: which Azure credential to use, and one token request with it. */
#ifndef PP_CREDENTIAL_H
#define PP_CREDENTIAL_H

#include "tokenparse.h"

enum cred_kind {
	CRED_NONE,
	CRED_CLIENT_SECRET,
	CRED_WORKLOAD_IDENTITY,
	CRED_MANAGED_IDENTITY,
	CRED__MAX
};

struct fetch {
	struct token	tok;		/* on success */
	long		http;		/* the HTTP status; 0 when none came */
	int		retryable;	/* timeouts, 429, 5xx (and IMDS 404/410) */
	double		retry_after;	/* seconds from Retry-After; -1 when absent */
	char		reason[256];	/* on failure; never holds a secret */
};

const char	*cred_name(enum cred_kind);

/*
 * Picks the credential as DefaultAzureCredential would (client secret,
 * then workload identity, then managed identity), honouring
 * AUTH_PROXY_CREDENTIAL.  Managed identity is only picked by "auto" when
 * AZURE_CLIENT_ID or AUTH_PROXY_IMDS_ENDPOINT is set, so that a machine
 * outside Azure says "no credentials" instead of probing IMDS.  note gets
 * one line about missing or contradictory settings, or "".
 */
enum cred_kind	 cred_select(char *note, size_t notelen);

/* Asks for one token; 0 on success, else -1 with out->reason. */
int	cred_fetch(enum cred_kind, struct fetch *out);

#endif
