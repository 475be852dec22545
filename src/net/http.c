/*
 * net/http.c - the one outbound HTTP helper (libcurl) with the SSRF guard.
 *
 * ab_http_do() performs one request for a channel plugin (host->http):
 *  - https only (http too with allow_http), no redirects followed, proxies
 *    from the environment ignored (a proxy would hide the real peer from
 *    the guard), no content decoding (no decompression bombs);
 *  - the SSRF guard (net/ssrf.c) runs in CURLOPT_OPENSOCKETFUNCTION for
 *    every address curl is about to connect to, so every resolved address
 *    and a DNS answer that changed since the last look are covered, and
 *    again in CURLOPT_PREREQFUNCTION for the peer of a reused connection
 *    (made for a request that allowed more networks);
 *  - connect timeout 5 s, total timeout per request (default 10 s);
 *  - the answer is capped at max_response: the transfer stops there and the
 *    body is returned truncated (not an error);
 *  - Retry-After (delta-seconds or HTTP-date) parsed;
 *  - one curl multi handle per thread (pthread key) runs every request:
 *    its connection cache keeps connections alive between requests and
 *    calls, a share holds the TLS session cache, and easy handles are
 *    pooled (reset, so they keep no URL, between requests).
 * ab_http_do_many() runs many such requests at once on that multi handle,
 * at most max_per_host in flight to one host:port (admitted oldest first),
 * each response filled exactly as ab_http_do fills it; one request's
 * failure is its own.  ab_http_stream() is the same with a feed: more
 * requests taken as places free up (a sliding window), each answer
 * handed over as it ends, and a settle call while the network works (so
 * the caller records outcomes in batches without waiting for the slowest
 * request).  ab_http_do() is the same path with one request.
 * Outcome: 2xx OK; 429, 5xx, transport errors and timeouts RETRY; 3xx
 * ("redirect to ... refused"), other 4xx, SSRF refusals, bad URLs and
 * http:// without allow_http PERMANENT.
 *
 * Public: ab_http_global_init, ab_http_do, ab_http_do_many, ab_http_stream, ab_http_free, ab_http_host_do,
 * ab_http_host_free, ab_http_thread_cleanup, ab_http_check_url, ab_smtp_check_url,
 * ab_http_parse_retry_after.
 * Diagnostics: resp->error, e.g. "POST <redacted URL>: HTTP 404: no_service"
 * or "...: connection refused by the SSRF guard: 127.0.0.1 is a loopback
 * address (127.0.0.0/8); add ...".  URLs in errors and logs are
 * always redacted (ab_redact_url), and any copy of the URL's path, query or
 * user info that a peer or libcurl echoes is replaced by "***".  Logs: debug
 * line per request, warning per SSRF refusal.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "net/http.h"
#include "net/ssrf.h"

#define REDACTED_MAX 512
#define SNIPPET_MAX 200
#define WHY_MAX 320

/* ------------------------------------------------------------ globals */

#define POOL_MAX 64             /* idle easy handles kept per thread */
#define MAXCONNECTS_MIN 64      /* idle connections kept per thread, at least */
#define POLL_MS 1000            /* longest wait in one curl_multi_poll */
#define SETTLE_MAX 8            /* ab_http_stream: answers settled at least this often */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc = -1;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t state_key;
static int key_rc = -1;

/* A URL this thread found well formed (url_precheck): a channel sends
 * every request to the same URL, and parsing it again with curl_url for
 * each one was a tenth of a delivery worker's CPU.  Only the form is
 * remembered; the SSRF guard still checks each connection's address. */
#define URL_MEMO 4
struct url_memo {
	char *url;                  /* NULL: an empty slot */
	bool allow_http;
	char red[REDACTED_MAX];     /* ab_redact_url of it */
	char host[300];             /* "host:port" */
};

/* A thread's HTTP state: one multi handle (its connection cache is what
 * keeps connections alive between calls, single or many), a share for the
 * TLS session cache, the easy handles not in use, and the URLs it found
 * well formed. */
struct thread_state {
	CURLM *multi;
	CURLSH *share;
	CURL *pool[POOL_MAX];
	size_t n_pool;
	long maxconnects;
	struct url_memo memo[URL_MEMO];
	unsigned memo_next;         /* the slot the next new URL takes */
};

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int ab_http_global_init(void)
{
	pthread_once(&global_once, global_init_once);
	return global_rc;
}

static void state_destroy(void *p)
{
	struct thread_state *ts = p;

	if (!ts)
		return;
	for (size_t i = 0; i < ts->n_pool; i++)
		curl_easy_cleanup(ts->pool[i]);
	for (size_t i = 0; i < URL_MEMO; i++)
		free(ts->memo[i].url);
	if (ts->multi)
		curl_multi_cleanup(ts->multi);
	if (ts->share)
		curl_share_cleanup(ts->share);
	free(ts);
}

static void key_init_once(void)
{
	key_rc = pthread_key_create(&state_key, state_destroy) == 0 ? 0 : -1;
}

/* This thread's state, made on first use; NULL on failure. */
static struct thread_state *thread_state(void)
{
	struct thread_state *ts;

	if (ab_http_global_init() != 0)
		return NULL;
	pthread_once(&key_once, key_init_once);
	if (key_rc != 0)
		return NULL;
	ts = pthread_getspecific(state_key);
	if (ts)
		return ts;
	ts = calloc(1, sizeof *ts);
	if (!ts)
		return NULL;
	ts->multi = curl_multi_init();
	ts->share = curl_share_init();
	ts->maxconnects = MAXCONNECTS_MIN;
	if (!ts->multi || !ts->share ||
	    curl_share_setopt(ts->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
	    curl_multi_setopt(ts->multi, CURLMOPT_MAXCONNECTS, ts->maxconnects) != CURLM_OK ||
	    pthread_setspecific(state_key, ts) != 0) {
		state_destroy(ts);
		return NULL;
	}
	return ts;
}

/* An easy handle for one request: a pooled one (reset when it went back)
 * or a new one on the thread's share. */
static CURL *handle_get(struct thread_state *ts)
{
	CURL *c;

	if (ts->n_pool > 0)
		return ts->pool[--ts->n_pool];
	c = curl_easy_init();
	if (c && curl_easy_setopt(c, CURLOPT_SHARE, ts->share) != CURLE_OK) {
		curl_easy_cleanup(c);
		c = NULL;
	}
	return c;
}

/* Back to the pool; the reset forgets the URL (a secret) and every option.
 * The share stays attached. */
static void handle_put(struct thread_state *ts, CURL *c)
{
	if (ts->n_pool >= POOL_MAX) {
		curl_easy_cleanup(c);
		return;
	}
	curl_easy_reset(c);
	ts->pool[ts->n_pool++] = c;
}

void ab_http_thread_cleanup(void)
{
	struct thread_state *ts;

	pthread_once(&key_once, key_init_once);
	if (key_rc != 0)
		return;
	ts = pthread_getspecific(state_key);
	if (ts) {
		pthread_setspecific(state_key, NULL);
		state_destroy(ts);
	}
}

void ab_http_free(struct ab_http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ helpers */

/* Replace every occurrence of needle (if at least 4 bytes) in s by "***";
 * each replacement shortens s, so this ends. */
static void scrub_one(char *s, const char *needle, size_t nlen)
{
	char *p;

	if (nlen < 4)
		return;
	while ((p = memmem(s, strlen(s), needle, nlen)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + nlen, strlen(p + nlen) + 1);
	}
}

/* Remove from msg anything of url that ab_redact_url hides: the whole URL,
 * its user info, and its path/query/fragment.  Only for text that does not
 * hold the redacted URL already (its host may equal a hidden component:
 * http://localhost/localhost). */
static void scrub_url(char *msg, const char *url)
{
	const char *start, *at, *tail;

	if (!url || !*url)
		return;
	scrub_one(msg, url, strlen(url));
	start = strstr(url, "://");
	start = start ? start + 3 : url;
	tail = start + strcspn(start, "/?#");
	at = memchr(start, '@', (size_t)(tail - start));
	if (at)
		scrub_one(msg, start, (size_t)(at - start));
	if (*tail)
		scrub_one(msg, tail, strlen(tail));
}

/* Printable, single-line copy of at most n bytes of untrusted text. */
static void snippet(char *out, size_t outsz, const char *in, size_t n)
{
	size_t o = 0;
	bool space = false;

	if (outsz == 0)
		return;
	for (size_t i = 0; i < n && in[i] && o + 1 < outsz; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c == 0x7f) {
			space = o > 0;
			continue;
		}
		if (space && c != ' ' && o + 2 < outsz)
			out[o++] = ' ';
		space = false;
		out[o++] = (char)c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

int ab_http_parse_retry_after(const char *value, time_t now)
{
	char buf[128];
	size_t n;
	const char *p;

	if (!value)
		return 0;
	while (*value == ' ' || *value == '\t')
		value++;
	n = strlen(value);
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' ||
			 value[n - 1] == '\n'))
		n--;
	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, value, n);
	buf[n] = '\0';
	for (p = buf; *p >= '0' && *p <= '9'; p++)
		;
	if (*p == '\0') {
		long v = 0;
		for (p = buf; *p; p++) {
			v = v * 10 + (*p - '0');
			if (v > AB_HTTP_RETRY_AFTER_MAX)
				return AB_HTTP_RETRY_AFTER_MAX;
		}
		return (int)v;
	} else {
		time_t t = curl_getdate(buf, NULL);
		if (t == (time_t)-1 || t <= now)
			return 0;
		if (t - now > AB_HTTP_RETRY_AFTER_MAX)
			return AB_HTTP_RETRY_AFTER_MAX;
		return (int)(t - now);
	}
}

/* Which schemes a URL may have: http(s) for the HTTP helper, smtp(s) for
 * the email channel's configuration check. */
enum url_kind { URL_HTTP, URL_SMTP };

/* Check a URL's form: parses, scheme allowed, has a host.  Fills host (no
 * brackets) and port when asked.  Returns 0 or -1 with a message. */
static int url_precheck(const char *url, enum url_kind kind, bool allow_http, char *host,
	size_t hostsz, char *port, size_t portsz, char *err, size_t errsz)
{
	CURLU *u;
	char *scheme = NULL, *h = NULL, *pt = NULL;
	int rc = -1;

	if (!url || !*url) {
		snprintf(err, errsz, "no URL");
		return -1;
	}
	u = curl_url();
	if (!u) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(err, errsz, "not a valid URL (expected %s)",
			kind == URL_SMTP ? "smtp://host:587" : "https://host/path");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		snprintf(err, errsz, "URL has no scheme");
		goto out;
	}
	if (kind == URL_SMTP) {
		if (strcasecmp(scheme, "smtp") != 0 && strcasecmp(scheme, "smtps") != 0) {
			snprintf(err, errsz, "scheme \"%.16s\" not supported; use smtp:// or "
				"smtps://", scheme);
			goto out;
		}
	} else if (strcasecmp(scheme, "https") != 0) {
		if (strcasecmp(scheme, "http") != 0)
			snprintf(err, errsz, "scheme \"%.16s\" not supported; use https", scheme);
		else if (!allow_http)
			snprintf(err, errsz, "plain http is refused; use https, or set "
				"allow_http = true for this channel");
		else
			rc = 0;
		if (rc != 0)
			goto out;
	}
	rc = -1;
	if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || !*h) {
		snprintf(err, errsz, "URL has no host");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &pt, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		snprintf(err, errsz, "URL has no port");
		goto out;
	}
	if (host) {
		const char *hp = h;
		size_t hl = strlen(h);
		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
			hp++;
			hl -= 2;
		}
		if (hl >= hostsz) {
			snprintf(err, errsz, "host name too long");
			goto out;
		}
		memcpy(host, hp, hl);
		host[hl] = '\0';
	}
	if (port)
		ab_strlcpy(port, pt, portsz);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(h);
	curl_free(pt);
	curl_url_cleanup(u);
	return rc;
}

static bool has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

/* ------------------------------------------------------------ curl callbacks */

struct req_ctx {
	const char *const *allow;
	bool refused;           /* the guard refused an address (or the peer) */
	bool passed;            /* ... and another address passed: judge that one */
	char why[WHY_MAX];
	struct ab_buf body;
	bool truncated;
	char retry_after[128];
};

static curl_socket_t open_socket_cb(void *clientp, curlsocktype purpose,
	struct curl_sockaddr *address)
{
	struct req_ctx *ctx = clientp;
	char why[WHY_MAX];

	if (purpose != CURLSOCKTYPE_IPCXN) {
		snprintf(ctx->why, sizeof ctx->why, "unexpected socket type");
		ctx->refused = true;
		return CURL_SOCKET_BAD;
	}
	if (ab_ssrf_check(&address->addr, address->addrlen, ctx->allow, why, sizeof why) != 0) {
		if (!ctx->refused)
			ab_strlcpy(ctx->why, why, sizeof ctx->why);
		ctx->refused = true;
		return CURL_SOCKET_BAD;
	}
	ctx->passed = true;
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* Runs for every request, after the connection is made or picked for reuse. */
static int prereq_cb(void *clientp, char *primary_ip, char *local_ip, int primary_port,
	int local_port)
{
	struct req_ctx *ctx = clientp;
	struct sockaddr_storage ss;
	socklen_t len;
	char ip[INET6_ADDRSTRLEN + 1], why[WHY_MAX];

	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	memset(&ss, 0, sizeof ss);
	ab_strlcpy(ip, primary_ip ? primary_ip : "", sizeof ip);
	ip[strcspn(ip, "%")] = '\0';  /* IPv6 zone */
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		len = sizeof(struct sockaddr_in6);
	} else {
		snprintf(ctx->why, sizeof ctx->why, "peer address \"%.64s\" unknown", ip);
		ctx->refused = true;
		ctx->passed = false;
		return CURL_PREREQFUNC_ABORT;
	}
	if (ab_ssrf_check((struct sockaddr *)&ss, len, ctx->allow, why, sizeof why) != 0) {
		ab_strlcpy(ctx->why, why, sizeof ctx->why);
		ctx->refused = true;
		ctx->passed = false;    /* the connected peer itself is refused */
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct req_ctx *ctx = userdata;
	size_t n = size * nmemb;

	if (ab_buf_append_trunc(&ctx->body, data, n) != 0) {
		ctx->truncated = true;
		return 0;   /* stop the transfer: the answer is long enough */
	}
	return n;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct req_ctx *ctx = userdata;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		ctx->retry_after[0] = '\0';   /* a new response (after 100 Continue) */
	} else if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
		size_t vl = n - (sizeof name - 1);
		if (vl >= sizeof ctx->retry_after)
			vl = sizeof ctx->retry_after - 1;
		memcpy(ctx->retry_after, data + sizeof name - 1, vl);
		ctx->retry_after[vl] = '\0';
	}
	return n;
}

/* ------------------------------------------------------------ the request */

static void set_error(struct ab_http_response *resp, const char *url, const char *prefix,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_error(struct ab_http_response *resp, const char *url, const char *prefix,
	const char *fmt, ...)
{
	char msg[AB_HTTP_ERROR_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	scrub_url(msg, url);   /* the untrusted text; prefix holds the redacted URL */
	n = snprintf(resp->error, sizeof resp->error, "%s: %s", prefix, msg);
	if (n < 0)
		resp->error[0] = '\0';
}

static void classify(struct ab_http_response *resp, CURL *c, const char *url,
	const char *prefix)
{
	char snip[SNIPPET_MAX + 1];
	int st = resp->status;

	snippet(snip, sizeof snip, resp->body ? resp->body : "", resp->body_len);
	if (st >= 200 && st < 300) {
		resp->outcome = AB_OK;
		resp->error[0] = '\0';
	} else if (st >= 300 && st < 400) {
		char *loc = NULL;
		char red[REDACTED_MAX];
		resp->outcome = AB_PERMANENT;
		if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
			ab_redact_url(loc, red, sizeof red);
		else
			ab_strlcpy(red, "(no Location)", sizeof red);
		set_error(resp, url, prefix, "HTTP %d: redirect to %s refused; configure the "
			"final URL", st, red);
	} else if (st == 429 || (st >= 500 && st < 600)) {
		resp->outcome = AB_RETRY;
		set_error(resp, url, prefix, "HTTP %d%s%s", st, *snip ? ": " : "", snip);
	} else if (st >= 400 && st < 500) {
		resp->outcome = AB_PERMANENT;
		set_error(resp, url, prefix, "HTTP %d%s%s", st, *snip ? ": " : "", snip);
	} else {
		resp->outcome = AB_RETRY;
		set_error(resp, url, prefix, "unexpected HTTP status %d", st);
	}
}

/* One request of a call: its check, its easy handle while it runs, what
 * the callbacks collect, and the response it fills. */
enum xfer_state { X_PENDING, X_RUNNING, X_DONE };

struct xfer {
	const struct ab_http_request *req;
	struct ab_http_response *resp;
	enum xfer_state state;
	const char *method;
	char prefix[REDACTED_MAX + 24];   /* "METHOD <redacted URL>" */
	char host[300];                   /* "host:port": the in-flight bound's key */
	size_t group;                     /* first request of the call to the same host */
	unsigned busy;                    /* in flight to this host (on the group's first) */
	long timeout;
	int64_t start;
	CURL *c;
	struct curl_slist *hdrs;
	struct req_ctx ctx;
	char curlerr[CURL_ERROR_SIZE];
};

/* ts's memo of url (with allow_http), or NULL. */
static const struct url_memo *memo_find(const struct thread_state *ts, const char *url,
	bool allow_http)
{
	for (size_t i = 0; ts && i < URL_MEMO; i++)
		if (ts->memo[i].url && ts->memo[i].allow_http == allow_http &&
		    strcmp(ts->memo[i].url, url) == 0)
			return &ts->memo[i];
	return NULL;
}

/* Remember a well-formed url in ts, in place of the oldest (nothing when
 * out of memory: it is only parsed again). */
static void memo_put(struct thread_state *ts, const char *url, bool allow_http,
	const char *red, const char *hostport)
{
	struct url_memo *m;
	char *copy;

	if (!ts || !(copy = strdup(url)))
		return;
	m = &ts->memo[ts->memo_next++ % URL_MEMO];
	free(m->url);
	m->url = copy;
	m->allow_http = allow_http;
	ab_strlcpy(m->red, red, sizeof m->red);
	ab_strlcpy(m->host, hostport, sizeof m->host);
}

/* Check a request before anything goes out; fills x->host.  ts (may be
 * NULL) remembers the URLs found well formed.  Returns 0, or -1 with
 * x->resp filled (PERMANENT) and x done. */
static int xfer_check(struct thread_state *ts, struct xfer *x,
	const struct ab_http_request *req, struct ab_http_response *resp)
{
	char red[REDACTED_MAX], why[AB_HTTP_ERROR_MAX], host[256], port[16];
	char hostport[sizeof x->host];
	const struct url_memo *m = req && req->url ? memo_find(ts, req->url, req->allow_http) :
		NULL;

	memset(resp, 0, sizeof *resp);
	memset(x, 0, sizeof *x);
	x->req = req;
	x->resp = resp;
	x->state = X_DONE;
	resp->outcome = AB_PERMANENT;
	x->method = req && req->method && *req->method ? req->method : "POST";
	if (m)
		ab_strlcpy(red, m->red, sizeof red);
	else
		ab_redact_url(req ? req->url : NULL, red, sizeof red);
	snprintf(x->prefix, sizeof x->prefix, "%.16s %s", x->method, red);
	if (!req || !req->url) {
		set_error(resp, NULL, x->prefix, "no URL");
		return -1;
	}
	if (m) {
		ab_strlcpy(hostport, m->host, sizeof hostport);
	} else if (url_precheck(req->url, URL_HTTP, req->allow_http, host, sizeof host, port,
			 sizeof port, why, sizeof why) != 0) {
		set_error(resp, req->url, x->prefix, "%s", why);
		return -1;
	} else {
		snprintf(hostport, sizeof hostport, "%s:%s", host, port);
		memo_put(ts, req->url, req->allow_http, red, hostport);
	}
	for (const char *p = x->method; *p; p++)
		if (!isupper((unsigned char)*p)) {
			set_error(resp, req->url, x->prefix, "bad method");
			return -1;
		}
	for (size_t i = 0; req->headers && req->headers[i]; i++)
		if (has_crlf(req->headers[i]) || !strchr(req->headers[i], ':')) {
			set_error(resp, req->url, x->prefix,
				"header %zu is not one \"Name: value\" line", i + 1);
			return -1;
		}
	if (has_crlf(req->content_type)) {
		set_error(resp, req->url, x->prefix, "content type contains CR/LF");
		return -1;
	}
	ab_strlcpy(x->host, hostport, sizeof x->host);
	x->state = X_PENDING;
	return 0;
}

/* Headers and options on a fresh easy handle, then into the multi handle.
 * Returns 0 (running), or -1 with x->resp filled (RETRY) and x done. */
static int xfer_start(struct thread_state *ts, struct xfer *x)
{
	const struct ab_http_request *req = x->req;
	struct curl_slist *tmp;
	char ctype[512];
	long connect_timeout;
	CURL *c;

	x->start = mono_ms();
	x->resp->outcome = AB_RETRY;
	if (!(c = handle_get(ts))) {
		set_error(x->resp, req->url, x->prefix, "cannot initialise libcurl");
		goto fail;
	}
	x->c = c;
	ab_buf_init(&x->ctx.body, req->max_response ? req->max_response
						    : AB_HTTP_DEFAULT_MAX_RESPONSE);
	x->ctx.allow = req->allow_networks;

	/* headers: the caller's, Content-Type, and no "Expect: 100-continue" */
	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		if (!(tmp = curl_slist_append(x->hdrs, req->headers[i])))
			goto nomem;
		x->hdrs = tmp;
	}
	if (req->content_type) {
		snprintf(ctype, sizeof ctype, "Content-Type: %s", req->content_type);
		if (!(tmp = curl_slist_append(x->hdrs, ctype)))
			goto nomem;
		x->hdrs = tmp;
	}
	if (!(tmp = curl_slist_append(x->hdrs, "Expect:")))
		goto nomem;
	x->hdrs = tmp;

	x->timeout = req->timeout_ms > 0 ? req->timeout_ms : AB_HTTP_DEFAULT_TIMEOUT_MS;
	connect_timeout = x->timeout < AB_HTTP_CONNECT_TIMEOUT_MS ? x->timeout
								  : AB_HTTP_CONNECT_TIMEOUT_MS;
	x->curlerr[0] = '\0';
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, req->allow_http ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, x->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "alertbridge");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->curlerr);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x->ctx);
	curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, prereq_cb);
	curl_easy_setopt(c, CURLOPT_PREREQDATA, &x->ctx);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x->ctx);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x->ctx);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdrs);
	if (req->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	if (strcmp(x->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(x->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
		if (strcmp(x->method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, x->method);
	}
	if (curl_multi_add_handle(ts->multi, c) != CURLM_OK) {
		set_error(x->resp, req->url, x->prefix, "cannot start the request in libcurl");
		goto fail;
	}
	x->state = X_RUNNING;
	return 0;
nomem:
	set_error(x->resp, req->url, x->prefix, "out of memory");
fail:
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	ab_buf_free(&x->ctx.body);
	if (x->c)
		handle_put(ts, x->c);
	x->c = NULL;
	x->resp->latency_ms = mono_ms() - x->start;
	x->state = X_DONE;
	return -1;
}

/* A running request ended with rc: fill its response, log it, give its
 * handle back. */
static void xfer_end(struct thread_state *ts, struct xfer *x, CURLcode rc)
{
	const struct ab_http_request *req = x->req;
	struct ab_http_response *resp = x->resp;
	char *curlerr = x->curlerr;
	long code = 0, nconn = 0;
	CURL *c = x->c;

	curl_multi_remove_handle(ts->multi, c);
	resp->latency_ms = mono_ms() - x->start;
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nconn);
	resp->num_connects = nconn;
	resp->truncated = x->ctx.truncated;
	resp->body_len = x->ctx.body.len;
	resp->body = ab_buf_steal(&x->ctx.body);
	if (!resp->body) {
		resp->body_len = 0;
		resp->outcome = AB_RETRY;
		set_error(resp, req->url, x->prefix, "out of memory");
		goto done;
	}

	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && x->ctx.truncated && code > 0)) {
		resp->status = (int)code;
		resp->retry_after = ab_http_parse_retry_after(x->ctx.retry_after, time(NULL));
		classify(resp, c, req->url, x->prefix);
	} else if (x->ctx.refused && !x->ctx.passed) {
		/* Every address was refused (an allowed one that failed is judged
		 * by its own error below). */
		resp->outcome = AB_PERMANENT;
		set_error(resp, req->url, x->prefix, "connection refused by the SSRF guard: %s",
			x->ctx.why);
		ab_log(AB_LOG_WARNING, "http: %s", resp->error);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		resp->outcome = AB_RETRY;
		set_error(resp, req->url, x->prefix, "timed out after %lld ms (limit %ld ms)",
			(long long)resp->latency_ms, x->timeout);
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
		resp->outcome = AB_PERMANENT;
		set_error(resp, req->url, x->prefix, "%s",
			curlerr[0] ? curlerr : curl_easy_strerror(rc));
	} else {
		size_t l = strlen(curlerr);
		while (l > 0 && (curlerr[l - 1] == '\n' || curlerr[l - 1] == ' '))
			curlerr[--l] = '\0';
		resp->outcome = AB_RETRY;
		set_error(resp, req->url, x->prefix, "%s",
			curlerr[0] ? curlerr : curl_easy_strerror(rc));
	}
done:
	ab_log(AB_LOG_DEBUG, "http: %s -> %d %s in %lld ms%s%s", x->prefix, resp->status,
		resp->outcome == AB_OK ? "ok" : resp->outcome == AB_RETRY ? "retry" : "permanent",
		(long long)resp->latency_ms, resp->truncated ? " (answer truncated)" : "",
		resp->num_connects == 0 && resp->status ? " (reused connection)" : "");
	handle_put(ts, c);   /* resets it: the URL is a secret, do not keep it */
	x->c = NULL;
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	ab_buf_free(&x->ctx.body);
	x->state = X_DONE;
}

int ab_http_do(const struct ab_http_request *req, struct ab_http_response *resp)
{
	return ab_http_stream(req, resp, 1, 1, 1, NULL) == 1 ? 0 : -1;
}

/* xs[i] was checked: give it its host group (the first request of the call
 * to the same host:port, whose busy counts what is in flight there). */
static void xfer_group(struct xfer *xs, size_t i)
{
	xs[i].group = i;
	for (size_t j = 0; j < i; j++)
		if (xs[j].host[0] && strcmp(xs[j].host, xs[i].host) == 0) {
			xs[i].group = xs[j].group;
			return;
		}
}

/* Check and group the requests [from, to); those refused end at once. */
static size_t xfer_add(struct thread_state *ts, struct xfer *xs,
	const struct ab_http_request *reqs, struct ab_http_response *resps, size_t from,
	size_t to)
{
	size_t pending = 0;

	for (size_t i = from; i < to; i++) {
		if (xfer_check(ts, &xs[i], &reqs[i], &resps[i]) != 0)
			continue;
		if (!ts) {
			resps[i].outcome = AB_RETRY;
			set_error(&resps[i], reqs[i].url, xs[i].prefix, "cannot initialise libcurl");
			xs[i].state = X_DONE;
			continue;
		}
		xfer_group(xs, i);
		pending++;
	}
	return pending;
}

static void feed_done(const struct ab_http_feed *f, size_t i, size_t *unsettled)
{
	if (f && f->done)
		f->done(f->ctx, i);
	++*unsettled;
}

static void feed_settle(const struct ab_http_feed *f, size_t *unsettled)
{
	if (*unsettled && f && f->settle)
		f->settle(f->ctx);
	*unsettled = 0;
}

int ab_http_stream(const struct ab_http_request *reqs, struct ab_http_response *resps,
	size_t n, size_t cap, unsigned bound, const struct ab_http_feed *f)
{
	struct thread_state *ts = cap ? thread_state() : NULL;
	struct xfer *xs = cap ? calloc(cap, sizeof *xs) : NULL;
	size_t left, next = 0, unsettled = 0, ok = 0;
	long want;

	if (n > cap)
		n = cap;
	if (!bound)
		bound = AB_HTTP_DEFAULT_PER_HOST;
	if (!xs) {   /* out of memory: every request ends at once */
		for (size_t i = 0; i < n; i++) {
			struct xfer tmp;
			if (xfer_check(ts, &tmp, &reqs[i], &resps[i]) == 0) {
				resps[i].outcome = AB_RETRY;
				set_error(&resps[i], reqs[i].url, tmp.prefix, "out of memory");
			}
			feed_done(f, i, &unsettled);
		}
		feed_settle(f, &unsettled);
		goto count;
	}
	left = xfer_add(ts, xs, reqs, resps, 0, n);
	for (size_t i = 0; i < n; i++)
		if (xs[i].state == X_DONE)
			feed_done(f, i, &unsettled);
	/* keep at least one idle connection per request that may run at once */
	want = (long)(bound < cap ? bound : cap) * 2;
	if (ts && want > ts->maxconnects &&
	    curl_multi_setopt(ts->multi, CURLMOPT_MAXCONNECTS, want) == CURLM_OK)
		ts->maxconnects = want;
	for (;;) {
		struct CURLMsg *msg;
		bool ended = false, waiting = false;
		int running = 0, q;
		CURLMcode mc;

		/* start what the bound allows, oldest first */
		while (next < n && xs[next].state != X_PENDING)
			next++;
		for (size_t i = next; i < n; i++) {
			struct xfer *g = &xs[xs[i].group];
			if (xs[i].state != X_PENDING)
				continue;
			if (g->busy >= bound) {
				waiting = true;
				continue;
			}
			if (xfer_start(ts, &xs[i]) == 0) {
				g->busy++;
			} else {
				left--;
				feed_done(f, i, &unsettled);
			}
		}
		/* none waits for a place: the caller may have more */
		if (!waiting && n < cap && f && f->more) {
			size_t k = f->more(f->ctx, n), from = n;
			if (k > cap - n)
				k = cap - n;
			if (k > 0) {
				n += k;
				left += xfer_add(ts, xs, reqs, resps, from, n);
				for (size_t i = from; i < n; i++)
					if (xs[i].state == X_DONE)
						feed_done(f, i, &unsettled);
				continue;   /* start them */
			}
		}
		if (left == 0)
			break;
		mc = curl_multi_perform(ts->multi, &running);
		while ((msg = curl_multi_info_read(ts->multi, &q)) != NULL) {
			struct xfer *x = NULL;
			CURLcode rc = msg->data.result;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			if (!x || x->state != X_RUNNING)
				continue;
			xfer_end(ts, x, rc);   /* msg is invalid from here on */
			xs[x->group].busy--;
			left--;
			ended = true;
			feed_done(f, (size_t)(x - xs), &unsettled);
		}
		if (mc != CURLM_OK) {
			/* libcurl itself failed (out of memory): end every running one */
			for (size_t i = 0; i < n; i++)
				if (xs[i].state == X_RUNNING) {
					xfer_end(ts, &xs[i], CURLE_OUT_OF_MEMORY);
					xs[xs[i].group].busy--;
					left--;
					feed_done(f, i, &unsettled);
				}
			continue;
		}
		if (ended) {   /* places are free: start the next ones first */
			if (unsettled >= SETTLE_MAX)
				feed_settle(f, &unsettled);
			continue;
		}
		/* the network has the requests: settle what ended meanwhile */
		feed_settle(f, &unsettled);
		curl_multi_poll(ts->multi, NULL, 0, POLL_MS, NULL);
	}
	feed_settle(f, &unsettled);
count:
	for (size_t i = 0; i < n; i++)
		if (resps[i].outcome == AB_OK)
			ok++;
	free(xs);
	return (int)ok;
}

int ab_http_do_many(const struct ab_http_request *reqs, struct ab_http_response *resps,
	size_t n, unsigned max_per_host)
{
	return ab_http_stream(reqs, resps, n, n, max_per_host, NULL);
}

int ab_http_host_do(const struct ab_host *h, const struct ab_http_request *req,
	struct ab_http_response *resp)
{
	(void)h;
	return ab_http_do(req, resp);
}

void ab_http_host_free(const struct ab_host *h, struct ab_http_response *resp)
{
	(void)h;
	ab_http_free(resp);
}

/* ------------------------------------------------------------ config check */

static int check_url(const char *url, enum url_kind kind, bool allow_http,
	const char *const *allow_networks, char *err, size_t errsz)
{
	char red[REDACTED_MAX], host[256], port[16], why[WHY_MAX];
	struct addrinfo hints, *res = NULL, *ai;
	int n = 0, gai;

	ab_redact_url(url, red, sizeof red);
	if (url_precheck(url, kind, allow_http, host, sizeof host, port, sizeof port, why,
			 sizeof why) != 0) {
		if (strcmp(red, url) != 0)   /* else nothing in it is secret */
			scrub_url(why, url);
		snprintf(err, errsz, "%s: %s", red, why);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0) {
		snprintf(err, errsz, "%s: cannot resolve the host now: %s", red, gai_strerror(gai));
		return -2;
	}
	for (ai = res; ai && n < 64; ai = ai->ai_next, n++) {
		if (ab_ssrf_check(ai->ai_addr, ai->ai_addrlen, allow_networks, why,
				  sizeof why) != 0) {
			if (strcmp(red, url) != 0)
				scrub_url(why, url);
			snprintf(err, errsz, "%s: refused by the SSRF guard: %s", red, why);
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	if (errsz)
		err[0] = '\0';
	return 0;
}

int ab_http_check_url(const char *url, bool allow_http, const char *const *allow_networks,
	char *err, size_t errsz)
{
	return check_url(url, URL_HTTP, allow_http, allow_networks, err, errsz);
}

int ab_smtp_check_url(const char *url, const char *const *allow_networks, char *err,
	size_t errsz)
{
	return check_url(url, URL_SMTP, false, allow_networks, err, errsz);
}
