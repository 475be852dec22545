/*
 * hooks.c - POST /api/v1/hooks/NAME (hooks.h): a tool's own webhook
 * (GitLab, Grafana, DefectDojo, anything that POSTs JSON) through the
 * hook's profile (the same extractors as mail and syslog) into one event,
 * committed with its jobs before the 202 (ab_http_take_events).
 *
 * Public: ab_http_hook_verify, ab_http_hook_event, ab_http_post_hook.
 *
 * Authentication per hook (config_http.h): the API's bearer tokens, or
 * the tool's own scheme, the secret resolved at each request (env:,
 * file:, enc:; never logged, compared in constant time):
 *   gitlab             X-Gitlab-Token equals the secret
 *   header             the named header equals the secret
 *   hmac-sha256        the named header holds hex HMAC-SHA256(secret, body),
 *                      after the hook's prefix ("sha256=") when it has one
 *   standard-webhooks  webhook-id, webhook-timestamp (within 5 minutes)
 *                      and webhook-signature ("v1,BASE64 ...", any of
 *                      them) over "id.timestamp.body", key "whsec_BASE64"
 *
 * The event: the profile's values, origin.kind "hook", fields.hook the
 * hook's name; its id a hash of the content (ab_event_ensure_id), so the
 * tool sending the same delivery again makes no second event.
 * Answers: 202; 400 (the body is not JSON); 401 (the check failed: which
 * header is missing or wrong, never the secret); 404 (no such hook); 503.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "lib/hmac.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/secret.h"
#include "lib/util.h"
#include "config/config_http.h"
#include "config/config_mail.h"
#include "parse/profile.h"
#include "http/events.h"
#include "http/hooks.h"

#define HOOK_PREFIX "/api/v1/hooks/"
#define SW_TOLERANCE_S 300   /* Standard Webhooks: timestamps this far off are refused */

static AB_METRIC_COUNTER(m_hooks, "alertbridge_http_hook_events_total", "Events taken by "
	"POST /api/v1/hooks/NAME, by result (accepted, rejected: bad input or authentication, "
	"unavailable: not stored).", "result", NULL);

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* header value == secret, in constant time for equal lengths. */
static bool equals_secret(const char *v, const char *secret)
{
	size_t n = strlen(secret);

	return v && strlen(v) == n && ab_mem_equal_ct(v, secret, n);
}

static int verify_hmac(const struct ab_http_hook *h, const char *v, const char *secret,
	const char *body, size_t len, char *why, size_t whysz)
{
	unsigned char mac[AB_HMAC_SHA256_LEN], got[AB_HMAC_SHA256_LEN];
	const void *parts[] = { body };
	const size_t lens[] = { len };
	size_t pl = h->prefix ? strlen(h->prefix) : 0;

	if (!v) {
		snprintf(why, whysz, "no %s header (the signature)", h->header);
		return -1;
	}
	if (pl && strncasecmp(v, h->prefix, pl) == 0)
		v += pl;
	if (strlen(v) != 2 * AB_HMAC_SHA256_LEN) {
		snprintf(why, whysz, "header %s: not a hex HMAC-SHA256%s%s", h->header,
			pl ? " after " : "", pl ? h->prefix : "");
		return -1;
	}
	for (size_t i = 0; i < AB_HMAC_SHA256_LEN; i++) {
		int a = hexval(v[2 * i]), b = hexval(v[2 * i + 1]);

		if (a < 0 || b < 0) {
			snprintf(why, whysz, "header %s: not a hex HMAC-SHA256", h->header);
			return -1;
		}
		got[i] = (unsigned char)(a << 4 | b);
	}
	if (ab_hmac_sha256(secret, strlen(secret), parts, lens, 1, mac) < 0) {
		snprintf(why, whysz, "cannot compute the HMAC (OpenSSL)");
		return -1;
	}
	if (!ab_mem_equal_ct(mac, got, sizeof mac)) {
		snprintf(why, whysz, "header %s: the signature does not match the body", h->header);
		return -1;
	}
	return 0;
}

static int verify_standard(const struct ab_http_req *rq, const char *secret, int64_t now_ms,
	char *why, size_t whysz)
{
	const char *id = ab_http_header(rq, "webhook-id");
	const char *ts = ab_http_header(rq, "webhook-timestamp");
	const char *sig = ab_http_header(rq, "webhook-signature");
	unsigned char key[AB_WHSEC_MAX], mac[AB_HMAC_SHA256_LEN];
	char want[64], *end;
	long long t;
	int klen;

	if (!id || !ts || !sig) {
		snprintf(why, whysz, "Standard Webhooks: the webhook-id, webhook-timestamp and "
			"webhook-signature headers are required");
		return -1;
	}
	t = strtoll(ts, &end, 10);
	if (end == ts || *end || t <= 0 || (t - now_ms / 1000 > SW_TOLERANCE_S) ||
	    (now_ms / 1000 - t > SW_TOLERANCE_S)) {
		snprintf(why, whysz, "Standard Webhooks: webhook-timestamp is not within %d s of "
			"now (a replay, or a clock off)", SW_TOLERANCE_S);
		return -1;
	}
	if ((klen = ab_whsec_decode(secret, key)) < 0) {
		snprintf(why, whysz, "Standard Webhooks: the hook's secret is not whsec_BASE64");
		return -1;
	}
	{
		const void *parts[] = { id, ".", ts, ".", rq->body };
		const size_t lens[] = { strlen(id), 1, strlen(ts), 1, rq->body_len };

		if (ab_hmac_sha256(key, (size_t)klen, parts, lens, 5, mac) < 0) {
			snprintf(why, whysz, "cannot compute the HMAC (OpenSSL)");
			return -1;
		}
	}
	ab_base64(mac, sizeof mac, want);
	/* "v1,SIG v1,SIG ...": any one that matches */
	for (const char *p = sig; *p;) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n > 3 && !strncmp(p, "v1,", 3) && n - 3 == strlen(want) &&
		    ab_mem_equal_ct(p + 3, want, n - 3))
			return 0;
		p += n;
	}
	snprintf(why, whysz, "Standard Webhooks: no v1 signature in webhook-signature matches");
	return -1;
}

int ab_http_hook_verify(struct ab_http_app *app, const struct ab_http_hook *h,
	const char *secrets_key, const struct ab_http_req *rq, int64_t now_ms, char *why,
	size_t whysz)
{
	char secret[AB_SECRET_MAX], e[256];
	int rc = -1;

	if (h->auth == AB_HOOK_AUTH_TOKEN) {
		if (ab_http_token_ok(app, rq->authorization))
			return 0;
		snprintf(why, whysz, "a valid bearer token is required (Authorization: Bearer "
			"TOKEN, one of http.tokens)");
		return -1;
	}
	if (ab_secret_resolve(h->secret, secrets_key, secret, sizeof secret, e, sizeof e) < 0) {
		ab_log(AB_LOG_ERR, "http: hook '%s': its secret cannot be read: %s", h->name, e);
		snprintf(why, whysz, "the hook's secret cannot be read on the server (see its log)");
		return -1;
	}
	switch (h->auth) {
	case AB_HOOK_AUTH_GITLAB:
		rc = equals_secret(ab_http_header(rq, "X-Gitlab-Token"), secret) ? 0 : -1;
		if (rc)
			snprintf(why, whysz, "X-Gitlab-Token is missing or not the hook's secret token");
		break;
	case AB_HOOK_AUTH_HEADER:
		rc = equals_secret(ab_http_header(rq, h->header), secret) ? 0 : -1;
		if (rc)
			snprintf(why, whysz, "header %s is missing or not the hook's secret", h->header);
		break;
	case AB_HOOK_AUTH_HMAC:
		rc = verify_hmac(h, ab_http_header(rq, h->header), secret, rq->body, rq->body_len,
			why, whysz);
		break;
	case AB_HOOK_AUTH_STANDARD:
		rc = verify_standard(rq, secret, now_ms, why, whysz);
		break;
	default:
		snprintf(why, whysz, "unknown authentication");
		break;
	}
	OPENSSL_cleanse(secret, sizeof secret);
	return rc;
}

struct ab_event *ab_http_hook_event(const struct ab_http_hook *h, const struct ab_profile *p,
	const char *body, size_t len, char *err, size_t errsz)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, 0, &je);
	struct ab_event *ev;

	if (!j) {
		snprintf(err, errsz, "not valid JSON (line %d, column %d): %s", je.line, je.column,
			je.text);
		return NULL;
	}
	json_decref(j);
	if (!(ev = ab_event_new()) || ab_profile_apply_text(p, NULL, body, ev, NULL) < 0) {
		ab_event_free(ev);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	/* the engine's default summary is the text itself: raw JSON says
	 * nothing a profile's own summary would not */
	if (ev->summary && !strncmp(ev->summary, body, strlen(ev->summary)) &&
	    strlen(ev->summary) > 16) {
		ab_event_set_str(ev, &ev->summary, NULL);
	}
	ab_event_set_str(ev, &ev->origin.kind, "hook");
	json_object_set_new(ev->fields, "hook", json_string(h->name));
	ab_event_ensure_id(ev);
	return ev;
}

void ab_http_post_hook(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs)
{
	const char *name = rq->path + strlen(HOOK_PREFIX);
	struct ab_runtime *rt = ab_http_app_runtime(app);
	const struct ab_http_hook *h;
	const struct ab_profile *p;
	struct ab_event **evs;
	char why[512];

	if (!rt) {
		ab_http_error(rs, 503, NULL, "not started yet: try again");
		return;
	}
	if (!(h = ab_http_hook_find(rt->cfg->http, name))) {
		ab_http_error(rs, 404, NULL, "no hook named '%.64s' (configure it in http.hooks)",
			name);
		goto out;
	}
	if (ab_http_hook_verify(app, h, rt->cfg->secrets_key, rq, ab_now_ms(), why,
		sizeof why) < 0) {
		ab_metric_inc(&m_hooks, "rejected", NULL);
		ab_log(AB_LOG_WARNING, "http: hook '%s' from %s refused: %s", h->name, rq->peer,
			why);
		ab_http_error(rs, 401, NULL, "%s", why);
		goto out;
	}
	p = ab_mail_profile(rt->cfg->mail, h->profile);
	if (!(evs = calloc(1, sizeof *evs)) ||
	    !(evs[0] = ab_http_hook_event(h, p, rq->body, rq->body_len, why, sizeof why))) {
		free(evs);
		ab_metric_inc(&m_hooks, "rejected", NULL);
		ab_http_error(rs, 400, NULL, "%s", why);
		goto out;
	}
	ab_http_take_events(app, rq, rs, evs, 1, &m_hooks);
out:
	ab_runtime_unref(rt);
}
