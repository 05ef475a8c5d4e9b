/* fuzz_token.c: libFuzzer harness for token endpoint answers (authproxy/tokenparse.c). */
#include <stdint.h>
#include <string.h>

#include "tokenparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token t;
	char err[128], code[128];

	if (token_parse((const char *)data, size, 1.7e9, &t, err, sizeof(err)) == 0)
		token_free(&t);
	token_error_code((const char *)data, size, code, sizeof(code));
	return 0;
}
