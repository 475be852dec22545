/*
 * hooks.h - POST /api/v1/hooks/NAME: a tool's own webhook, checked by the
 * hook's authentication and turned into one event by its profile.
 */
#ifndef AB_HTTP_HOOKS_H
#define AB_HTTP_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config_http.h"
#include "event/event.h"
#include "http/router.h"

struct ab_profile;

/* Does rq pass hook h's authentication at now_ms?  0, or -1 with why (to
 * tell the client: names the header, never the secret). */
int ab_http_hook_verify(struct ab_http_app *app, const struct ab_http_hook *h,
	const char *secrets_key, const struct ab_http_req *rq, int64_t now_ms, char *why,
	size_t whysz);

/* The body (JSON) through profile p: the event (caller frees), or NULL
 * with err (not JSON, out of memory). */
struct ab_event *ab_http_hook_event(const struct ab_http_hook *h, const struct ab_profile *p,
	const char *body, size_t len, char *err, size_t errsz);

/* The handler (routes.c: the prefix /api/v1/hooks/). */
void ab_http_post_hook(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs);

#endif
