/* refresher.h: the one cached Azure AD token and the thread that keeps it fresh. */
#ifndef PP_REFRESHER_H
#define PP_REFRESHER_H

#include <stddef.h>

#include "credential.h"

struct token_status {
	int		 valid;
	enum cred_kind	 kind;
	double		 expires_at;	/* epoch seconds; 0 when no token */
	char		 reason[256];	/* why there is no valid token, or the last failure */
	unsigned long	 refresh_ok, refresh_failed;
};

/* Starts the refresh thread: a fetch now, then ahead of each expiry. */
void	refresher_start(enum cred_kind kind, const char *why_none);

/* Copies the valid token into dst; 0, or -1 with why filled. */
int	refresher_token(char *dst, size_t cap, char *why, size_t whylen);

void	refresher_status(struct token_status *);

#endif
