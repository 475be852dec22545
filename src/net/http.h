/*
 * net/http.h - the one outbound HTTP helper (libcurl) with the SSRF guard.
 *
 * Every channel request goes through ab_http_do(): https only (http with
 * allow_http), no redirects, no proxies, connect and total timeouts, the
 * SSRF guard on every address connected to, a capped answer, Retry-After
 * parsed and the outcome classified (see struct ab_http_response in
 * alertbridge/plugin.h).  ab_http_do_many() runs many requests at once.
 * One curl multi handle per thread keeps connections alive between
 * requests and calls.
 */
#ifndef AB_NET_HTTP_H
#define AB_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <alertbridge/plugin.h>

#define AB_HTTP_DEFAULT_TIMEOUT_MS 10000
#define AB_HTTP_CONNECT_TIMEOUT_MS 5000
#define AB_HTTP_DEFAULT_MAX_RESPONSE (64 * 1024)
#define AB_HTTP_RETRY_AFTER_MAX 86400   /* seconds; longer requests are capped */
#define AB_HTTP_DEFAULT_PER_HOST 8      /* ab_http_do_many: in flight to one host */

/* curl_global_init, once per process (thread-safe).  Returns 0 or -1.
 * ab_http_do calls it too; call it early, before threads, anyway. */
int ab_http_global_init(void);

/* Perform one request.  Always fills resp (see plugin.h); returns 0 when
 * resp->outcome is AB_OK, else -1.  Release resp with ab_http_free. */
int ab_http_do(const struct ab_http_request *req, struct ab_http_response *resp);

/* Perform reqs[0..n-1] at once on the calling thread's curl multi handle
 * (the connections it keeps alive are those ab_http_do uses too): at most
 * max_per_host (0 = AB_HTTP_DEFAULT_PER_HOST) in flight to one host:port,
 * the others waiting in order for a free place.  Each resps[i] is filled
 * exactly as ab_http_do fills it (the same checks, guard, caps and
 * timeouts; a request's timeout starts when it goes out), whatever happens
 * to the others.  Returns how many have outcome AB_OK.  Release each with
 * ab_http_free. */
int ab_http_do_many(const struct ab_http_request *reqs, struct ab_http_response *resps,
	size_t n, unsigned max_per_host);

/* What ab_http_stream tells its caller, and asks it, as it runs (each
 * member may be NULL):
 *  - more(ctx, from): requests to add, written into reqs[from..cap-1];
 *    returns how many (0: none now).  Called whenever no request waits
 *    for a place, so the caller prepares each one just in time.
 *  - done(ctx, i): resps[i] is final (once per request, as it ends).
 *  - settle(ctx): the requests done since the last settle may be
 *    recorded: called when the call is about to wait for the network, at
 *    least every few answers, and at the end. */
struct ab_http_feed {
	size_t (*more)(void *ctx, size_t from);
	void (*done)(void *ctx, size_t i);
	void (*settle)(void *ctx);
	void *ctx;
};

/* ab_http_do_many over reqs[0..n-1] and then what feed->more adds, up to
 * cap requests in all (reqs and resps have room for cap), at most
 * max_per_host in flight to one host:port.  Returns how many ended AB_OK.
 * Release each response with ab_http_free. */
int ab_http_stream(const struct ab_http_request *reqs, struct ab_http_response *resps,
	size_t n, size_t cap, unsigned max_per_host, const struct ab_http_feed *feed);

/* Free resp->body (safe on a zeroed or already freed response). */
void ab_http_free(struct ab_http_response *resp);

/* The same two with the struct ab_host signature, for host->http and
 * host->http_free. */
int ab_http_host_do(const struct ab_host *h, const struct ab_http_request *req,
	struct ab_http_response *resp);
void ab_http_host_free(const struct ab_host *h, struct ab_http_response *resp);

/* Drop the calling thread's curl handles and their connections.  Runs by
 * itself when a thread exits; the main thread calls it before exit. */
void ab_http_thread_cleanup(void);

/* Configuration check for `alertbridge check`: the URL must parse, be
 * https (or http with allow_http), and every address its host resolves to
 * must pass the SSRF guard.  Returns 0; -1 when the URL is refused (reason
 * in err); -2 when the host cannot be resolved now (err says so; a warning,
 * not a configuration error).  The URL appears in err only redacted. */
int ab_http_check_url(const char *url, bool allow_http, const char *const *allow_networks,
	char *err, size_t errsz);

/* The same check for an email channel's smtp:// or smtps:// URL: the same
 * resolution and SSRF guard the email plugin applies when it connects
 * (through host->net_check).  Same return values; URL redacted in err. */
int ab_smtp_check_url(const char *url, const char *const *allow_networks, char *err,
	size_t errsz);

/* Retry-After value -> seconds from now: delta-seconds or an HTTP-date.
 * 0 when absent, unparsable or in the past; capped at
 * AB_HTTP_RETRY_AFTER_MAX. */
int ab_http_parse_retry_after(const char *value, time_t now);

#endif
