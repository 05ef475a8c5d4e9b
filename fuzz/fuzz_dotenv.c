/* fuzz_dotenv.c: libFuzzer harness for the .env parser (common/dotenv.c). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dotenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sink(const char *key, const char *value, void *arg)
{
	size_t *n = arg;

	*n += strlen(key) + strlen(value);
}

static void
bad(unsigned lineno, enum dotenv_bad why, const char *line, void *arg)
{
	size_t *n = arg;

	*n += lineno + (size_t)why + (line != NULL ? strlen(line) : 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;

	dotenv_parse((const char *)data, size, sink, bad, &n);
	return 0;
}
