/*
 * httpd.c - the HTTP listener (httpd.h): libmicrohttpd serving the route
 * table of routes.c through router.c.
 *
 * Threads: one polling thread accepts, each connection gets a thread of
 * its own (a POST waits for its group commit without holding up the
 * others, and concurrent POSTs share one fsync in the committer).
 *
 * Limits (config_http.h), each answered with a JSON error where there is
 * a request to answer:
 *   max_body         a Content-Length above it: 413 before the body is
 *                    read (the connection is closed after the answer); a
 *                    chunked body that grows past it is read on without
 *                    being kept and answered 413 at its end (libmicrohttpd
 *                    cannot answer in the middle of a body); one that goes
 *                    on past 256 MiB is cut off (closed, no answer)
 *   max_header       the request line and headers above it: 431
 *                    (libmicrohttpd itself refuses beyond its per-connection
 *                    memory, twice max_header + 16 KiB, with its own answer)
 *   max_connections, max_connections_per_ip
 *                    further connections are closed when accepted, with
 *                    no answer (libmicrohttpd's limits)
 *   timeout          a connection that sends nothing for this long is
 *                    closed (slow clients: libmicrohttpd's idle timeout)
 *
 * Public: ab_httpd_open, ab_httpd_start, ab_httpd_set_runtime,
 *   ab_httpd_stop.
 * Diagnostics: the listen address at start; token references that do not
 *   resolve (refused at start; at a reload the old tokens stay, logged);
 *   libmicrohttpd's own messages at debug level.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/secret.h"
#include "lib/util.h"
#include "net/listen.h"
#include "config/config_syslog.h"   /* ab_syslog_addr_split */
#include "http/httpd.h"
#include "http/router.h"
#include "http/routes.h"

#define MAX_PEM (1024 * 1024)
#define DISCARD_MAX (256ULL * 1024 * 1024)   /* bytes of an oversized chunked body read */

static AB_METRIC_COUNTER(m_requests, "alertbridge_http_requests_total", "HTTP requests "
	"answered, by endpoint and status code.", "path", "code");
static AB_METRIC_GAUGE(m_conns, "alertbridge_http_connections", "Open HTTP connections.",
	NULL, NULL);
static AB_METRIC_COUNTER(m_conns_total, "alertbridge_http_connections_total", "HTTP "
	"connections accepted.", NULL, NULL);

struct ab_httpd {
	struct ab_http_app app;
	struct MHD_Daemon *mhd;
	int fd;
	char *cert_pem, *key_pem;
	char *listen;
	size_t max_body, max_header;
	unsigned max_conn, max_conn_ip, timeout_s;
	bool app_init;
};

/* One request's state, from its first call to the completion notice. */
struct request {
	struct ab_buf body;
	bool answered;
	bool too_big;        /* the body outgrew max_body: the rest is dropped */
	uint64_t dropped;    /* bytes dropped so far */
};

static void free_tokens(char **t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		explicit_bzero(t[i], strlen(t[i]));
		free(t[i]);
	}
	free(t);
}

/* Resolve the configuration's token references; -1 with err (which never
 * holds a token). */
static int resolve_tokens(const struct ab_config *cfg, char ***out, size_t *n, char *err,
	size_t errsz)
{
	const struct ab_http_conf *hc = cfg->http;
	char **t = calloc(hc->n_tokens + 1, sizeof *t);
	char val[AB_SECRET_MAX], e[512];

	*out = NULL;
	*n = 0;
	if (!t) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < hc->n_tokens; i++) {
		if (ab_secret_resolve(hc->tokens[i], cfg->secrets_key, val, sizeof val, e,
			sizeof e) < 0) {
			snprintf(err, errsz, "%s:%d: http: token %zu: %s", hc->file, hc->line, i + 1, e);
			free_tokens(t, i);
			return -1;
		}
		if (!val[0] || strcspn(val, " \t\r\n") != strlen(val) ||
		    strlen(val) > AB_HTTP_TOKEN_MAX) {
			snprintf(err, errsz, "%s:%d: http: token %zu is empty or holds white space",
				hc->file, hc->line, i + 1);
			explicit_bzero(val, sizeof val);
			free_tokens(t, i);
			return -1;
		}
		t[i] = strdup(val);
		explicit_bzero(val, sizeof val);
		if (!t[i]) {
			snprintf(err, errsz, "out of memory");
			free_tokens(t, i);
			return -1;
		}
	}
	*out = t;
	*n = hc->n_tokens;
	return 0;
}

static void free_httpd(struct ab_httpd *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	if (h->key_pem)
		explicit_bzero(h->key_pem, strlen(h->key_pem));
	free(h->key_pem);
	free(h->cert_pem);
	free(h->listen);
	free_tokens(h->app.tokens, h->app.n_tokens);
	free(h->app.store_path);
	if (h->app_init)
		pthread_mutex_destroy(&h->app.mu);
	free(h);
}

struct ab_httpd *ab_httpd_open(const struct ab_config *cfg, char *err, size_t errsz)
{
	const struct ab_http_conf *hc = cfg->http;
	char host[256], port[16], why[128];
	struct ab_httpd *h;
	size_t len;

	err[0] = '\0';
	if (!hc)
		return NULL;
	if (!(h = calloc(1, sizeof *h))) {
		snprintf(err, errsz, "http: out of memory");
		return NULL;
	}
	h->fd = -1;
	if (pthread_mutex_init(&h->app.mu, NULL) != 0) {
		free(h);
		snprintf(err, errsz, "http: cannot create a mutex");
		return NULL;
	}
	h->app_init = true;
	h->max_body = (size_t)hc->max_body;
	h->max_header = (size_t)hc->max_header;
	h->max_conn = (unsigned)hc->max_connections;
	h->max_conn_ip = (unsigned)hc->max_connections_per_ip;
	h->timeout_s = (unsigned)((hc->timeout_ms + 999) / 1000);
	if (!(h->listen = strdup(hc->listen))) {
		snprintf(err, errsz, "http: out of memory");
		goto fail;
	}
	if (hc->tls_cert && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		snprintf(err, errsz, "%s:%d: http: this libmicrohttpd has no TLS support: remove "
			"tls_cert and tls_key and put a TLS reverse proxy in front (alertbridge.conf(5))",
			hc->file, hc->line);
		goto fail;
	}
	if (hc->tls_cert && (!(h->cert_pem = ab_read_file(hc->tls_cert, MAX_PEM, &len)) ||
			     !(h->key_pem = ab_read_file(hc->tls_key, MAX_PEM, &len)))) {
		snprintf(err, errsz, "%s:%d: http: cannot read %s: %s", hc->file, hc->line,
			h->cert_pem ? hc->tls_key : hc->tls_cert, strerror(errno));
		goto fail;
	}
	if (resolve_tokens(cfg, &h->app.tokens, &h->app.n_tokens, err, errsz) < 0)
		goto fail;
	if (ab_syslog_addr_split(hc->listen, host, sizeof host, port, sizeof port, why,
		sizeof why) < 0) {
		snprintf(err, errsz, "%s:%d: http: listen '%s': %s", hc->file, hc->line, hc->listen,
			why);
		goto fail;
	}
	if ((h->fd = ab_listen_tcp(host, port, 128, 1, why, sizeof why)) < 0) {
		snprintf(err, errsz, "%s:%d: http: %s", hc->file, hc->line, why);
		goto fail;
	}
	return h;
fail:
	free_httpd(h);
	return NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	ab_log(AB_LOG_DEBUG, "http: %s", msg);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
	enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)c;
	(void)socket_ctx;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ab_metric_inc(&m_conns_total, NULL, NULL);
		ab_metric_gauge_add(&m_conns, NULL, NULL, 1);
	} else {
		ab_metric_gauge_add(&m_conns, NULL, NULL, -1);
	}
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r) {
		ab_buf_free(&r->body);
		free(r);
		*con_cls = NULL;
	}
}

/* The route's path for the requests counter (bounded: unknown paths are "other"). */
static const char *path_label(const char *url)
{
	for (size_t i = 0; i < ab_http_n_routes; i++) {
		const char *p = ab_http_routes[i].path;
		size_t n = strlen(p);

		if (strcmp(p, url) == 0 || (n > 1 && p[n - 1] == '*' && !strncmp(p, url, n - 1)))
			return p;
	}
	return "other";
}

/* A streamed answer (router.h): the context travels with the response. */
struct stream {
	long (*fn)(void *ctx, char *buf, size_t max);
	void *ctx;
	void (*free_ctx)(void *ctx);
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	long n;

	(void)pos;
	n = st->fn(st->ctx, buf, max);
	return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_done(void *cls)
{
	struct stream *st = cls;

	if (st->free_ctx)
		st->free_ctx(st->ctx);
	free(st);
}

static enum MHD_Result answer(struct MHD_Connection *c, struct request *r, const char *url,
	struct ab_http_resp *rs, bool close_after)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char code[8];

	r->answered = true;
	if (rs->stream) {
		struct stream *st = malloc(sizeof *st);

		if (!st)
			return MHD_NO;
		st->fn = rs->stream;
		st->ctx = rs->stream_ctx;
		st->free_ctx = rs->stream_free;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st,
			stream_done);
		if (!resp) {
			free(st);   /* rs still owns ctx: ab_http_resp_free releases it */
			return MHD_NO;
		}
		rs->stream_ctx = NULL;   /* the response owns it now: stream_done */
	} else {
		resp = MHD_create_response_from_buffer(rs->body.len, rs->body.len ?
			rs->body.data : "", MHD_RESPMEM_MUST_COPY);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (rs->hdr_name && rs->hdr_value)
		MHD_add_response_header(resp, rs->hdr_name, rs->hdr_value);
	for (size_t i = 0; i < rs->n_hdrs; i++)
		MHD_add_response_header(resp, rs->hdrs[i].name, rs->hdrs[i].value);
	if (close_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, (unsigned)rs->status, resp);
	MHD_destroy_response(resp);
	snprintf(code, sizeof code, "%d", rs->status);
	ab_metric_inc(&m_requests, path_label(url), code);
	return ret;
}

static enum MHD_Result error_answer(struct MHD_Connection *c, struct request *r,
	const char *url, int status, const char *msg)
{
	struct ab_http_resp rs;
	enum MHD_Result ret;

	ab_http_resp_init(&rs);
	ab_http_error(&rs, status, NULL, "%s", msg);
	ret = answer(c, r, url, &rs, true);
	ab_http_resp_free(&rs);
	return ret;
}

struct hdr_sum {
	size_t n;
};

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
	const char *value)
{
	struct hdr_sum *s = cls;

	(void)kind;
	s->n += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static void peer_of(struct MHD_Connection *c, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, outsz, "?");
	if (sa)
		getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
			sizeof(struct sockaddr_in), out, (socklen_t)outsz, NULL, 0, NI_NUMERICHOST);
}

/* ab_http_req.header for libmicrohttpd: ctx is the connection. */
static const char *header_of(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

static const char *arg_of(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **con_cls)
{
	struct ab_httpd *h = cls;
	struct request *r = *con_cls;
	struct ab_http_resp rs;
	struct ab_http_req rq;
	char peer[64], msg[160];
	enum MHD_Result ret;

	(void)version;
	if (!r) {   /* the first call: headers only */
		struct hdr_sum hs = { strlen(url) + strlen(method) + 16 };
		const char *cl;

		if (!(r = calloc(1, sizeof *r)))
			return MHD_NO;
		ab_buf_init(&r->body, h->max_body);
		*con_cls = r;
		MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &hs);
		if (hs.n > h->max_header) {
			snprintf(msg, sizeof msg, "the request line and headers are %zu bytes, over "
				"the limit of %zu (http.max_header)", hs.n, h->max_header);
			return error_answer(c, r, url, 431, msg);
		}
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > h->max_body) {
			snprintf(msg, sizeof msg, "the body is %.20s bytes, over the limit of %zu "
				"(http.max_body)", cl, h->max_body);
			return error_answer(c, r, url, 413, msg);
		}
		return MHD_YES;
	}
	if (r->answered) {   /* the rest of a body after an early answer: dropped */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* libmicrohttpd takes an answer only before the body or after it: a
		 * body without Content-Length that outgrows max_body is read on and
		 * dropped, then answered 413; past DISCARD_MAX the connection closes */
		if (r->too_big || ab_buf_append(&r->body, upload_data, *upload_data_size) < 0) {
			r->too_big = true;
			r->dropped += *upload_data_size;
			ab_buf_free(&r->body);
			*upload_data_size = 0;
			return r->dropped > DISCARD_MAX ? MHD_NO : MHD_YES;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_big) {
		snprintf(msg, sizeof msg, "the body is over the limit of %zu bytes (http.max_body)",
			h->max_body);
		return error_answer(c, r, url, 413, msg);
	}
	peer_of(c, peer, sizeof peer);
	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.path = url;
	rq.peer = peer;
	rq.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_AUTHORIZATION);
	rq.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_TYPE);
	rq.body = ab_buf_cstr(&r->body);
	rq.body_len = r->body.len;
	rq.header = header_of;
	rq.arg = arg_of;
	rq.header_ctx = c;
	ab_http_resp_init(&rs);
	ab_http_dispatch(&h->app, ab_http_routes, ab_http_n_routes, &rq, &rs);
	ret = answer(c, r, url, &rs, false);
	ab_http_resp_free(&rs);
	return ret;
}

int ab_httpd_start(struct ab_httpd *h, struct ab_runtime *rt, const char *store_path,
	void (*wake)(void *arg), void *wake_arg, char *err, size_t errsz)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_POLL | MHD_USE_ERROR_LOG;
	size_t pool = h->max_header * 2 + 16 * 1024;

	if (!(h->app.store_path = strdup(store_path)) ||
	    !(h->app.committer = ab_committer_new(store_path))) {
		snprintf(err, errsz, "http: out of memory");
		return -1;
	}
	h->app.rt = ab_runtime_ref(rt);
	h->app.started_ms = ab_now_ms();
	h->app.wake = wake;
	h->app.wake_arg = wake_arg;
	if (h->cert_pem)
		flags |= MHD_USE_TLS;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
		MHD_OPTION_LISTEN_SOCKET, h->fd,
		MHD_OPTION_CONNECTION_LIMIT, h->max_conn,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->max_conn_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, h->timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1024 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
		h->cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert_pem,
		MHD_OPTION_HTTPS_MEM_KEY, h->key_pem,
		MHD_OPTION_END);
	if (!h->mhd) {
		snprintf(err, errsz, "http: cannot start the listener on %s (libmicrohttpd "
			"refused; a bad TLS certificate or key?)", h->listen);
		return -1;
	}
	h->fd = -1;   /* the daemon's now */
	ab_metric_touch(&m_conns);
	ab_metric_touch(&m_conns_total);
	ab_log(AB_LOG_INFO, "http: listening on %s (%s), %zu token(s)", h->listen,
		h->cert_pem ? "https" : "http", h->app.n_tokens);
	return 0;
}

void ab_httpd_set_runtime(struct ab_httpd *h, struct ab_runtime *rt)
{
	struct ab_runtime *old;
	char **tokens = NULL, err[1024];
	size_t n = 0;
	bool have_tokens = false;

	if (!h)
		return;
	if (!rt->cfg->http)
		ab_log(AB_LOG_WARNING, "reload: the http section was removed: the listener stays "
			"until a restart");
	else if (resolve_tokens(rt->cfg, &tokens, &n, err, sizeof err) < 0)
		ab_log(AB_LOG_ERR, "reload: %s: the HTTP API keeps its previous tokens", err);
	else
		have_tokens = true;
	if (rt->cfg->http && strcmp(rt->cfg->http->listen, h->listen) != 0)
		ab_log(AB_LOG_WARNING, "reload: http.listen takes effect only after a restart");
	pthread_mutex_lock(&h->app.mu);
	old = h->app.rt;
	h->app.rt = ab_runtime_ref(rt);
	if (have_tokens) {
		free_tokens(h->app.tokens, h->app.n_tokens);
		h->app.tokens = tokens;
		h->app.n_tokens = n;
	}
	pthread_mutex_unlock(&h->app.mu);
	if (old)
		ab_runtime_unref(old);
}

void ab_httpd_stop(struct ab_httpd *h)
{
	if (!h)
		return;
	/* event streams end within their poll interval (console.c) */
	__atomic_store_n(&h->app.stopping, 1, __ATOMIC_RELEASE);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	if (h->app.rt)
		ab_runtime_unref(h->app.rt);
	ab_store_close(h->app.st);
	ab_committer_free(h->app.committer);
	free_httpd(h);
}
