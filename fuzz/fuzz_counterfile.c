/* fuzz_counterfile.c: libFuzzer harness for the counter file's parser (common/counterfile.c). */
#include <stdint.h>

#include "counterfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t n;

	(void)counter_text_parse((const char *)data, size, &n);
	return 0;
}
