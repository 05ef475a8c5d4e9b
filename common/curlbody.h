/* curlbody.h: a response body kept by libcurl's write callback, bounded. */
#ifndef PP_CURLBODY_H
#define PP_CURLBODY_H

#include <stddef.h>

struct curl_body {
	char	*data;		/* NUL-terminated; NULL until a byte comes */
	size_t	 len, cap;
	size_t	 max;		/* most bytes kept; set before the transfer */
	int	 overflow;	/* the answer was longer than max (transfer aborted) */
};

/*
 * CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA = a struct curl_body: keeps
 * up to max bytes, and aborts the transfer (CURLE_WRITE_ERROR) beyond, or
 * when out of memory.
 */
size_t	curl_body_write(char *p, size_t size, size_t n, void *arg);

/* The body as a string ("" when empty). */
const char *curl_body_str(const struct curl_body *b);

/* Wipes (it may hold a token) and frees the body. */
void	curl_body_free(struct curl_body *b);

#endif
