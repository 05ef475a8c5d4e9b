/* counterfile.c: the format of ping_pong_counter.txt, read by the worker and log-output alike. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "counterfile.h"
#include "smallfile.h"

int
counter_text_parse(const char *buf, size_t len, int64_t *out)
{
	size_t i = 0;
	int64_t n = 0;
	int digits = 0;

	while (i < len && buf[i] == ' ')
		i++;
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++, digits++) {
		if (n > (INT64_MAX - (buf[i] - '0')) / 10)
			return -1;
		n = n * 10 + (buf[i] - '0');
	}
	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	if (digits == 0 || i != len)
		return -1;
	*out = n;
	return 0;
}

int
counterfile_read(const char *dir, int64_t *out, char *why, size_t whylen)
{
	char path[4096], buf[64];
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, COUNTER_FILE) >= sizeof(path)) {
		snprintf(why, whylen, "%s: path too long", dir);
		return -1;
	}
	if ((n = smallfile_read(path, O_NOFOLLOW, buf, sizeof(buf))) == -1) {
		snprintf(why, whylen, "%s: %s", path, errno == EFBIG ? "not a count" : strerror(errno));
		return -1;
	}
	if (counter_text_parse(buf, (size_t)n, out) == -1) {
		snprintf(why, whylen, "%s: not a count", path);
		return -1;
	}
	return 0;
}
