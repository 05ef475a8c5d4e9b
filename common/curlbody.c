/* curlbody.c: the one libcurl write callback: a bounded, growing response body. */
#include <stdlib.h>
#include <string.h>

#include "curlbody.h"

size_t
curl_body_write(char *p, size_t size, size_t n, void *arg)
{
	struct curl_body *b = arg;
	size_t len = size * n;

	if (len > b->max - b->len) {
		b->overflow = 1;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *d = malloc(cap);	/* not realloc: the old copy is wiped first */

		if (d == NULL)
			return 0;
		if (b->data != NULL) {
			memcpy(d, b->data, b->len);
			explicit_bzero(b->data, b->cap);
			free(b->data);
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

const char *
curl_body_str(const struct curl_body *b)
{
	return b->data != NULL ? b->data : "";
}

void
curl_body_free(struct curl_body *b)
{
	if (b->data != NULL) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}
