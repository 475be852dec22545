/*
 * router.c - requests to handlers: the route lookup, the bearer-token
 * check and the JSON answers every handler and error uses (router.h).
 *
 * Public: ab_http_dispatch, ab_http_token_ok, ab_http_error, ab_http_json,
 *   ab_http_resp_init, ab_http_resp_free, ab_http_add_header, ab_http_app_runtime,
 *   ab_http_header, ab_http_arg.
 * Diagnostics: none logged; the client gets the JSON error.  Tokens are
 *   never logged nor echoed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "http/router.h"

void ab_http_resp_init(struct ab_http_resp *rs)
{
	memset(rs, 0, sizeof *rs);
	rs->status = 500;
	rs->content_type = "application/json";
	ab_buf_init(&rs->body, AB_HTTP_MAX_RESP);
}

int ab_http_add_header(struct ab_http_resp *rs, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *v;
	int n;

	if (rs->n_hdrs >= AB_HTTP_MAX_HDRS)
		return -1;
	v = rs->hdrs[rs->n_hdrs].value;
	va_start(ap, fmt);
	n = vsnprintf(v, AB_HTTP_HDR_VALUE_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= AB_HTTP_HDR_VALUE_MAX)
		return -1;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;   /* no header splitting */
	rs->hdrs[rs->n_hdrs++].name = name;
	return 0;
}

void ab_http_resp_free(struct ab_http_resp *rs)
{
	ab_buf_free(&rs->body);
	if (rs->stream_free && rs->stream_ctx)
		rs->stream_free(rs->stream_ctx);   /* not handed to the server */
	rs->stream_ctx = NULL;
}

void ab_http_json(struct ab_http_resp *rs, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(j);
	ab_buf_reset(&rs->body);
	rs->content_type = "application/json";
	if (!s) {
		rs->status = 500;
		ab_buf_puts(&rs->body, "{\"error\":\"out of memory\",\"status\":500}\n");
		return;
	}
	rs->status = status;
	ab_buf_puts(&rs->body, s);
	ab_buf_putc(&rs->body, '\n');
	free(s);
}

void ab_http_error(struct ab_http_resp *rs, int status, const char *member, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	j = json_pack("{s:s,s:i}", "error", msg, "status", status);
	if (j && member)
		json_object_set_new(j, "member", json_string(member));
	ab_http_json(rs, status, j);
	rs->status = status;
}

/* Equal, in time that depends on the lengths only. */
static bool same(const char *a, size_t an, const char *b, size_t bn)
{
	unsigned char d = an != bn;

	for (size_t i = 0; i < an; i++)
		d |= (unsigned char)(a[i] ^ b[i < bn ? i : 0]);
	return d == 0 && bn > 0;
}

bool ab_http_token_ok(struct ab_http_app *app, const char *authorization)
{
	const char *t;
	size_t tn;
	bool ok = false;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	t = authorization + 7;
	while (*t == ' ')
		t++;
	tn = strcspn(t, " \t");
	if (tn == 0 || tn > AB_HTTP_TOKEN_MAX || t[tn + strspn(t + tn, " \t")])
		return false;
	pthread_mutex_lock(&app->mu);
	for (size_t i = 0; i < app->n_tokens; i++)
		ok |= same(t, tn, app->tokens[i], strlen(app->tokens[i]));
	pthread_mutex_unlock(&app->mu);
	return ok;
}

struct ab_runtime *ab_http_app_runtime(struct ab_http_app *app)
{
	struct ab_runtime *rt;

	pthread_mutex_lock(&app->mu);
	rt = app->rt ? ab_runtime_ref(app->rt) : NULL;
	pthread_mutex_unlock(&app->mu);
	return rt;
}

static bool path_match(const struct ab_http_route *r, const char *path)
{
	size_t n = strlen(r->path);

	if (n > 1 && r->path[n - 1] == '*')   /* a subtree: a trailing star takes /ui/ and below */
		return strncmp(path, r->path, n - 1) == 0;
	if (n && r->path[n - 1] == '/')    /* a prefix: something must follow it */
		return strncmp(path, r->path, n) == 0 && path[n] && !strchr(path + n, '/');
	return strcmp(path, r->path) == 0;
}

void ab_http_dispatch(struct ab_http_app *app, const struct ab_http_route *routes, size_t n,
	const struct ab_http_req *rq, struct ab_http_resp *rs)
{
	const struct ab_http_route *hit = NULL;
	bool path_known = false;
	size_t allow_len = 0;

	for (size_t i = 0; i < n; i++) {
		if (!path_match(&routes[i], rq->path))
			continue;
		if (!path_known)
			rs->hdr_buf[0] = '\0';
		path_known = true;
		if (strcmp(routes[i].method, rq->method) == 0 ||
		    (strcmp(rq->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			hit = &routes[i];
			break;
		}
		allow_len += (size_t)snprintf(rs->hdr_buf + allow_len, allow_len <
			sizeof rs->hdr_buf ? sizeof rs->hdr_buf - allow_len : 0, "%s%s",
			allow_len ? ", " : "", routes[i].method);
		if (allow_len >= sizeof rs->hdr_buf)
			allow_len = sizeof rs->hdr_buf - 1;
	}
	if (!hit && path_known) {
		ab_http_error(rs, 405, NULL, "method %s is not allowed on %s (allowed: %s)",
			rq->method, rq->path, rs->hdr_buf);
		rs->hdr_name = "Allow";
		rs->hdr_value = rs->hdr_buf;
		return;
	}
	if (!hit) {
		ab_http_error(rs, 404, NULL, "no such endpoint: %s (try /metrics, /healthz, "
			"/readyz or POST /api/v1/events)", rq->path);
		return;
	}
	if (hit->auth && !ab_http_token_ok(app, rq->authorization)) {
		bool none;

		pthread_mutex_lock(&app->mu);
		none = app->n_tokens == 0;
		pthread_mutex_unlock(&app->mu);
		if (none)
			ab_http_error(rs, 401, NULL, "%s needs a bearer token and none is "
				"configured: set http.tokens in the configuration", rq->path);
		else if (!rq->authorization)
			ab_http_error(rs, 401, NULL, "%s needs a bearer token: send "
				"'Authorization: Bearer TOKEN'", rq->path);
		else
			ab_http_error(rs, 401, NULL, "the bearer token is not valid for %s",
				rq->path);
		rs->hdr_name = "WWW-Authenticate";
		rs->hdr_value = "Bearer realm=\"alertbridge\"";
		return;
	}
	hit->fn(app, rq, rs);
}

const char *ab_http_header(const struct ab_http_req *rq, const char *name)
{
	return rq->header ? rq->header(rq->header_ctx, name) : NULL;
}

const char *ab_http_arg(const struct ab_http_req *rq, const char *name)
{
	return rq->arg ? rq->arg(rq->header_ctx, name) : NULL;
}
