/* tokenparse.h: reads Entra ID (v1, v2) and IMDS token responses; pure, fuzzable. */
#ifndef PP_TOKENPARSE_H
#define PP_TOKENPARSE_H

#include <stddef.h>

struct token {
	char	*access;	/* the bearer token; owned, wiped on free */
	double	 obtained;	/* epoch seconds when the answer arrived */
	double	 expires_at;	/* epoch seconds */
	double	 refresh_at;	/* when to fetch the next one */
};

/*
 * Parses a success body received at time now.  expires_in may be a JSON
 * number (v2 endpoint) or a string (v1, IMDS); when it is missing,
 * expires_on (epoch seconds, string or number) is used.  Expiry counts
 * from receipt, and is at most PP_TOKEN_LIFETIME_MAX (a day); negative,
 * non-finite and non-numeric values count as absent.  Refresh is due at
 * the server's refresh_in when given, else at half-life for tokens living
 * two hours or more (as MSAL does for managed identity), else 5 minutes
 * before expiry, or at half-life for tokens living under 10 minutes.
 * Returns 0, or -1 with err filled (never with any part of the token in
 * it).
 */
int	token_parse(const char *body, size_t len, double now, struct token *out,
	    char *err, size_t errlen);

/*
 * From an error body {"error": "...", "error_description": "AADSTS...: ..."}
 * copies the error code, and the AADSTS number when present, into code
 * ("invalid_client AADSTS7000215"); "" when the body is not such JSON.
 */
void	token_error_code(const char *body, size_t len, char *code, size_t codelen);

void	token_free(struct token *);

#endif
