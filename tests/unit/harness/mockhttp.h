/*
 * mockhttp.h - a capturing host->http for plugin unit tests: records the
 * last request (URL, headers, body, content type) and answers with a
 * programmable status, body and Retry-After.
 */
#ifndef AB_MOCKHTTP_H
#define AB_MOCKHTTP_H

#include <alertbridge/plugin.h>

#define MOCKHTTP_MAX_HEADERS 16

struct mock_http {
	int calls;
	char url[1024];
	char content_type[128];
	char headers[MOCKHTTP_MAX_HEADERS][1024];
	int n_headers;
	char *body;                /* last body (malloc'd copy) */
	size_t body_len;
	bool allow_http;
	char allow0[64];           /* first allow_networks entry */
	/* the answer */
	int status;                /* default 200 */
	const char *answer;        /* default "ok" */
	int retry_after;
};

extern struct mock_http mock_http;

/* Install on a host (h->http / h->http_free) and reset the capture. */
void mock_http_install(struct ab_host *h);
void mock_http_reset(void);
/* The value of a captured header (case-insensitive name) or NULL. */
const char *mock_http_header(const char *name);

#endif
