/*
 * mockhttp.c - capturing host->http for plugin unit tests (see mockhttp.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mockhttp.h"

struct mock_http mock_http;

static int mock_do(const struct ab_host *h, const struct ab_http_request *req,
	struct ab_http_response *resp)
{
	(void)h;
	mock_http.calls++;
	snprintf(mock_http.url, sizeof mock_http.url, "%s", req->url ? req->url : "");
	snprintf(mock_http.content_type, sizeof mock_http.content_type, "%s",
		req->content_type ? req->content_type : "");
	mock_http.n_headers = 0;
	for (int i = 0; req->headers && req->headers[i] && i < MOCKHTTP_MAX_HEADERS; i++)
		snprintf(mock_http.headers[mock_http.n_headers++], sizeof mock_http.headers[0],
			"%s", req->headers[i]);
	free(mock_http.body);
	mock_http.body = malloc(req->body_len + 1);
	if (mock_http.body) {
		memcpy(mock_http.body, req->body, req->body_len);
		mock_http.body[req->body_len] = '\0';
	}
	mock_http.body_len = req->body_len;
	mock_http.allow_http = req->allow_http;
	snprintf(mock_http.allow0, sizeof mock_http.allow0, "%s",
		req->allow_networks && req->allow_networks[0] ? req->allow_networks[0] : "");
	memset(resp, 0, sizeof *resp);
	resp->status = mock_http.status ? mock_http.status : 200;
	resp->body = strdup(mock_http.answer ? mock_http.answer : "ok");
	resp->body_len = strlen(resp->body);
	resp->retry_after = mock_http.retry_after;
	if (resp->status >= 200 && resp->status < 300) {
		resp->outcome = AB_OK;
	} else {
		resp->outcome = resp->status == 429 || resp->status >= 500 ? AB_RETRY : AB_PERMANENT;
		snprintf(resp->error, sizeof resp->error, "POST https://mock/[redacted]: HTTP %d: %s",
			resp->status, resp->body);
	}
	return resp->outcome == AB_OK ? 0 : -1;
}

static void mock_free(const struct ab_host *h, struct ab_http_response *resp)
{
	(void)h;
	free(resp->body);
	resp->body = NULL;
}

void mock_http_reset(void)
{
	free(mock_http.body);
	memset(&mock_http, 0, sizeof mock_http);
}

void mock_http_install(struct ab_host *h)
{
	mock_http_reset();
	h->http = mock_do;
	h->http_free = mock_free;
}

const char *mock_http_header(const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < mock_http.n_headers; i++)
		if (!strncasecmp(mock_http.headers[i], name, n) && mock_http.headers[i][n] == ':')
			return mock_http.headers[i] + n + 2;
	return NULL;
}
