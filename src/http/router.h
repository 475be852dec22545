/*
 * router.h - the HTTP listener's requests, answers and route table,
 * independent of the server library (httpd.c adapts libmicrohttpd to it),
 * so that every handler is a plain function a unit test can call.
 *
 * A route (the table is http/routes.c) is a method, a path (exact; a
 * prefix ending in '/' for named endpoints, /api/v1/hooks/NAME: one more
 * segment; or a subtree ending in '*', "/ui/" followed by a star: the path before the '*'
 * and everything below it) and whether it needs a
 * bearer token.  ab_http_dispatch() finds the route (404 unknown path,
 * 405 with Allow for a known path and another method), checks the token
 * (401 with WWW-Authenticate) and calls the handler.  Every error answer
 * is JSON: {"error": "...", "status": N} plus "member" when one member of
 * the input is to blame.
 */
#ifndef AB_HTTP_ROUTER_H
#define AB_HTTP_ROUTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "config/config.h"
#include "deliver/runtime.h"
#include "ingest/committer.h"
#include "store/store.h"

#define AB_HTTP_MAX_RESP (16 * 1024 * 1024)   /* an answer, bytes */
#define AB_HTTP_TOKEN_MAX 4096

/* What every handler shares: the running snapshot, the committer, the
 * tokens.  httpd.c owns it; tests build one by hand. */
struct ab_http_app {
	pthread_mutex_t mu;            /* rt, tokens, st */
	struct ab_runtime *rt;         /* a reference */
	struct ab_committer *committer;
	char **tokens;                 /* resolved bearer tokens */
	size_t n_tokens;
	struct ab_store *st;           /* /metrics and /readyz (under mu); opened lazily */
	char *store_path;
	int64_t started_ms;
	int stopping;                  /* atomic: the listener stops; long answers end */
	void (*wake)(void *arg);       /* after a commit: ab_dispatch_wake */
	void *wake_arg;
};

struct ab_http_req {
	const char *method;
	const char *path;              /* without the query */
	const char *peer;              /* client address, text */
	const char *authorization;     /* the Authorization header, or NULL */
	const char *content_type;      /* or NULL */
	const char *body;              /* NUL-terminated copy of the body (may be "") */
	size_t body_len;
	/* Any request header by name (case-insensitive), or NULL; header may
	 * be NULL itself (tests): no other header. */
	const char *(*header)(void *ctx, const char *name);
	void *header_ctx;
	/* A query argument by name (decoded), or NULL; NULL itself: none. */
	const char *(*arg)(void *ctx, const char *name);
};

/* rq's query argument name, or NULL. */
const char *ab_http_arg(const struct ab_http_req *rq, const char *name);

/* rq's header name, or NULL. */
const char *ab_http_header(const struct ab_http_req *rq, const char *name);

#define AB_HTTP_MAX_HDRS 10
#define AB_HTTP_HDR_VALUE_MAX 512

struct ab_http_resp {
	int status;
	const char *content_type;      /* static */
	struct ab_buf body;
	const char *hdr_name, *hdr_value;   /* one extra header (static), or NULL */
	char hdr_buf[128];             /* hdr_value may point here */
	struct {                       /* more headers (ab_http_add_header) */
		const char *name;      /* static */
		char value[AB_HTTP_HDR_VALUE_MAX];
	} hdrs[AB_HTTP_MAX_HDRS];
	size_t n_hdrs;
	/* A streamed answer (Server-Sent Events) instead of body: stream()
	 * writes the next bytes into buf (at most max) and returns how many,
	 * blocking until it has some; -1 ends the answer.  stream_free(ctx)
	 * runs once at the end, whatever happened (also when the answer is
	 * never sent). */
	long (*stream)(void *ctx, char *buf, size_t max);
	void *stream_ctx;
	void (*stream_free)(void *ctx);
};

/* Add a header (name static; the value formatted, at most
 * AB_HTTP_HDR_VALUE_MAX - 1 bytes, control characters refused).  0, or -1
 * when the list is full or the value is bad (nothing added). */
int ab_http_add_header(struct ab_http_resp *rs, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

typedef void (*ab_http_handler)(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs);

struct ab_http_route {
	const char *method;
	const char *path;              /* exact, or a prefix when it ends in '/' */
	bool auth;                     /* a bearer token is required */
	ab_http_handler fn;
};

void ab_http_resp_init(struct ab_http_resp *rs);
void ab_http_resp_free(struct ab_http_resp *rs);
/* A JSON error answer: status, message, and the input member to blame
 * (NULL: none).  Replaces whatever body rs had. */
void ab_http_error(struct ab_http_resp *rs, int status, const char *member, const char *fmt,
	...) __attribute__((format(printf, 4, 5)));
/* A JSON answer from a jansson value (taken). */
struct json_t;
void ab_http_json(struct ab_http_resp *rs, int status, struct json_t *j);

/* Route rq through routes[0..n) (the daemon's: http/routes.h) and fill rs. */
void ab_http_dispatch(struct ab_http_app *app, const struct ab_http_route *routes, size_t n,
	const struct ab_http_req *rq, struct ab_http_resp *rs);
/* Does the Authorization header carry one of the app's tokens?  (Constant
 * time in the token's length.) */
bool ab_http_token_ok(struct ab_http_app *app, const char *authorization);

/* The running snapshot, referenced (ab_runtime_unref when done), or NULL. */
struct ab_runtime *ab_http_app_runtime(struct ab_http_app *app);

#endif
