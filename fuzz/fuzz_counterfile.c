/* fuzz_counterfile.c: libFuzzer harness for log-output's counter file reader (logoutput/source.c). */
#include <stdint.h>

#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t n;

	(void)counter_text_parse((const char *)data, size, &n);
	return 0;
}
