/* fuzz_accept.c: libFuzzer harness for Accept negotiation (fcgi/negotiate.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);	/* FastCGI params are NUL-terminated */

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)accept_prefers_json(s);
	free(s);
	return 0;
}
