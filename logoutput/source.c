/* source.c: the ping-pong count, from the shared file or from GET /pings (libcurl, jansson). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "counterfile.h"
#include "curlbody.h"
#include "pp_limits.h"
#include "source.h"

#define PINGS_MAX	4096	/* bytes of a /pings answer */

static int
from_http(int64_t *out, char *why, size_t whylen)
{
	struct curl_body b = { .max = PINGS_MAX };
	char url[512];
	long status = 0;
	json_t *root = NULL, *v;
	CURLcode cc;
	CURL *c;
	int rc = -1;

	if ((c = curl_easy_init()) == NULL) {
		snprintf(why, whylen, "curl_easy_init failed");
		return -1;
	}
	snprintf(url, sizeof(url), "http://%s:%ld/pings", config_str(S_LOG_PP_HOST),
	    config_int(S_LOG_PP_PORT));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PP_LOG_UPSTREAM_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		snprintf(why, whylen, "%s: %s", url, curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(why, whylen, "%s: HTTP %ld", url, status);
		goto out;
	}
	root = json_loadb(curl_body_str(&b), b.len, 0, NULL);
	v = json_object_get(root, "pings");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(why, whylen, "%s: no pings in the answer", url);
		goto out;
	}
	*out = json_integer_value(v);
	rc = 0;
out:
	json_decref(root);
	curl_body_free(&b);
	curl_easy_cleanup(c);
	return rc;
}

int
source_count(int64_t *out, char *why, size_t whylen)
{
	if (*config_str(S_LOG_SHARED_VOLUME_PATH) != '\0')
		return counterfile_read(config_str(S_LOG_SHARED_VOLUME_PATH), out, why, whylen);
	return from_http(out, why, whylen);
}
