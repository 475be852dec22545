/*
 * webhook.c - the "webhook" channel plugin: the canonical event (or group /
 * digest object) as JSON, signed per the Standard Webhooks specification.
 *
 * Settings:
 *   url            (string, required, secret) where to POST
 *   secret         (string or list of strings, optional, secret) signing
 *                  keys "whsec_<base64>"; several = key rotation (one
 *                  signature per key in webhook-signature)
 *   events         (list of globs, default ["*"]) event types delivered,
 *                  e.g. ["finding.*"]; others are skipped (reported OK with
 *                  a note).  Groups/digests go out when any item matches.
 *                  Test messages always go out.
 *   headers        (group name -> string) extra headers; values may be
 *                  secret references; names are HTTP tokens, values one line
 *   allow_http, allow_networks, timeout, ca_file   see render.h (rd_http)
 *
 * Headers sent: webhook-id (the message id: the event id, stable across
 * retries), webhook-timestamp (Unix seconds), webhook-signature
 * ("v1,<base64 HMAC-SHA256(key, id.timestamp.body)>", space-separated for
 * several keys), Content-Type: application/json.
 *
 * Public: hc_plugin_desc, turned by httpchan.c into alertbridge_plugin()
 * (the only exported symbol).
 * Diagnostics: create() errors start with the setting name; send results
 * carry the HTTP helper's redacted message.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"
#include "lib/hmac.h"
#include "httpchan.h"
#include "render.h"
#include "tmpl.h"
#include "lib/util.h"

#define WH_SECRETS_MAX 8
#define WH_HEADERS_MAX 32
#define WH_BODY_MAX (1024 * 1024)

struct wh_key {
	unsigned char key[AB_WHSEC_MAX];
	int len;
};

struct wh_conf {
	struct wh_key keys[WH_SECRETS_MAX];
	int n_keys;
	char **events;              /* NULL-terminated globs */
	char **headers;             /* NULL-terminated "Name: value" */
	size_t n_headers;
	struct tmpl_set tpl;        /* template.body: the body's own shape */
	const struct ab_host *host; /* for the template's warnings */
};

static const char *const wh_parts[] = { "body", NULL };

static int parse_key(const struct ab_host *h, const char *ref, struct wh_key *k, char *err,
	size_t errsz)
{
	char *s = rd_secret(h, "secret", ref, err, errsz);
	int len;

	if (!s)
		return -1;
	if (strncmp(s, "whsec_", 6) != 0) {
		snprintf(err, errsz, "setting 'secret': must start with \"whsec_\" followed by "
			"base64 (24 to 64 random bytes)");
		goto fail;
	}
	if ((len = ab_whsec_decode(s, k->key)) < 0) {
		snprintf(err, errsz, "setting 'secret': the part after whsec_ is not valid base64");
		goto fail;
	}
	if (len < 16) {
		snprintf(err, errsz, "setting 'secret': key too short (%d bytes; use at least 24)",
			len);
		goto fail;
	}
	k->len = len;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
	return 0;
fail:
	OPENSSL_cleanse(s, strlen(s));
	free(s);
	return -1;
}

static bool token_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static int parse_headers(const struct ab_host *h, struct wh_conf *in, const json_t *hdr,
	char *err, size_t errsz)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	if (!json_is_object(hdr) || json_object_size(hdr) > WH_HEADERS_MAX) {
		snprintf(err, errsz, "setting 'headers': must be a group of at most %d "
			"name = \"value\" settings", WH_HEADERS_MAX);
		return -1;
	}
	in->headers = calloc(json_object_size(hdr) + 1, sizeof *in->headers);
	if (!in->headers) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	json_object_foreach((json_t *)hdr, k, v) {
		struct ab_buf b = AB_BUF_INIT(8192);
		char *val;

		if (!token_ok(k) || !strncasecmp(k, "webhook-", 8) ||
		    !strcasecmp(k, "content-type") || !strcasecmp(k, "content-length") ||
		    !strcasecmp(k, "host")) {
			snprintf(err, errsz, "setting 'headers': '%.64s' is not a header name you "
				"can set (HTTP token; not Host, Content-*, webhook-*)", k);
			return -1;
		}
		if (!json_is_string(v)) {
			snprintf(err, errsz, "setting 'headers': value of '%.64s' must be a string", k);
			return -1;
		}
		if (!(val = rd_secret(h, "headers", json_string_value(v), err, errsz)))
			return -1;
		if (strpbrk(val, "\r\n")) {
			snprintf(err, errsz, "setting 'headers': value of '%.64s' contains CR/LF", k);
			free(val);
			return -1;
		}
		ab_buf_printf(&b, "%s: %s", k, val);
		OPENSSL_cleanse(val, strlen(val));
		free(val);
		if (b.overflow || !(in->headers[i] = ab_buf_steal(&b))) {
			ab_buf_free(&b);
			snprintf(err, errsz, "setting 'headers': value of '%.64s' too long", k);
			return -1;
		}
		i++;
	}
	in->n_headers = i;
	return 0;
}

static void wh_free(void *priv)
{
	struct wh_conf *in = priv;

	OPENSSL_cleanse(in->keys, sizeof in->keys);
	tmpl_set_free(&in->tpl);
	rd_strv_free(in->events);
	if (in->headers) {
		for (size_t i = 0; in->headers[i]; i++) {
			OPENSSL_cleanse(in->headers[i], strlen(in->headers[i]));
			free(in->headers[i]);
		}
		free(in->headers);
	}
	free(in);
}

/* The plugin's settings: secret, events, headers. */
static int wh_parse(const struct ab_host *host, json_t *cfg, void **priv, char *err,
	size_t errsz)
{
	struct wh_conf *in = calloc(1, sizeof *in);
	json_t *v;

	if (!(*priv = in)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	in->host = host;
	if (tmpl_set_parse(cfg, wh_parts, &in->tpl, err, errsz) < 0)
		return -1;
	if ((v = json_object_get(cfg, "secret"))) {
		if (json_is_string(v)) {
			if (parse_key(host, json_string_value(v), &in->keys[0], err, errsz) < 0)
				return -1;
			in->n_keys = 1;
		} else if (json_is_array(v) && json_array_size(v) >= 1 &&
			   json_array_size(v) <= WH_SECRETS_MAX) {
			for (size_t i = 0; i < json_array_size(v); i++) {
				const char *s = json_string_value(json_array_get(v, i));
				if (!s) {
					snprintf(err, errsz, "setting 'secret': list elements must "
						"be strings");
					return -1;
				}
				if (parse_key(host, s, &in->keys[in->n_keys], err, errsz) < 0)
					return -1;
				in->n_keys++;
			}
		} else {
			snprintf(err, errsz, "setting 'secret': a string or a list of 1 to %d "
				"strings", WH_SECRETS_MAX);
			return -1;
		}
		json_object_del(cfg, "secret");
	}
	if ((v = json_object_get(cfg, "events"))) {
		size_t i;
		if (!json_is_array(v) || !json_array_size(v) || !(in->events = rd_strv(v, 64))) {
			snprintf(err, errsz, "setting 'events': a non-empty list of at most 64 type "
				"globs, e.g. [\"finding.*\"]");
			return -1;
		}
		for (i = 0; in->events[i]; i++) {
			if (!ab_glob_valid(in->events[i])) {
				snprintf(err, errsz, "setting 'events': bad glob '%.64s'", in->events[i]);
				return -1;
			}
		}
		json_object_del(cfg, "events");
	}
	if ((v = json_object_get(cfg, "headers"))) {
		if (parse_headers(host, in, v, err, errsz) < 0)
			return -1;
		json_object_del(cfg, "headers");
	}
	return 0;
}

static bool type_wanted(const struct wh_conf *in, const char *type)
{
	if (!in->events)
		return true;
	for (size_t i = 0; in->events[i]; i++)
		if (ab_glob_match(in->events[i], type))
			return true;
	return false;
}

static bool wanted(const struct wh_conf *in, const struct ab_message *msg, const char **why)
{
	const json_t *p = msg->payload, *items, *g;
	const char *k;
	json_t *v;

	*why = "";
	if (msg->kind == AB_MSG_TEST || !in->events)
		return true;
	if (msg->kind == AB_MSG_EVENT) {
		*why = rd_str(p, "type");
		return type_wanted(in, *rd_str(p, "type") ? rd_str(p, "type") : "event.generic");
	}
	items = json_object_get(p, "items");
	for (size_t i = 0; i < json_array_size(items); i++)
		if (type_wanted(in, rd_str(json_array_get(items, i), "type")))
			return true;
	g = json_object_get(p, msg->kind == AB_MSG_DIGEST ? "digest" : "group");
	json_object_foreach(json_object_get(g, "by_type"), k, v) {
		(void)v;
		if (type_wanted(in, k))
			return true;
	}
	*why = msg->kind == AB_MSG_DIGEST ? "digest" : "group";
	return false;
}

/* "v1,<b64> v1,<b64>" over "id.ts.body" with every key. */
static int sign(const struct wh_conf *in, const char *id, const char *ts, const char *body,
	size_t len, struct ab_buf *out)
{
	const void *parts[] = { id, ".", ts, ".", body };
	const size_t lens[] = { strlen(id), 1, strlen(ts), 1, len };

	for (int i = 0; i < in->n_keys; i++) {
		unsigned char mac[AB_HMAC_SHA256_LEN];
		char b64[64];

		if (ab_hmac_sha256(in->keys[i].key, (size_t)in->keys[i].len, parts, lens, 5, mac) < 0)
			return -1;
		ab_base64(mac, sizeof mac, b64);
		ab_buf_printf(out, "%sv1,%s", i ? " " : "", b64);
	}
	return out->overflow ? -1 : 0;
}

/* Messages whose types 'events' does not match are skipped (reported OK).
 * Only this filter needs the payload's members: a payload the host gave as
 * text is parsed here, and only when 'events' is set. */
static bool wh_skip(const void *priv, const struct ab_message *msg, char *note, size_t notesz)
{
	const struct wh_conf *in = priv;
	struct ab_message m = *msg;
	json_t *own = NULL;
	const char *why;
	bool skip;

	if (!in->events || msg->kind == AB_MSG_TEST)
		return false;
	if (!m.payload && m.payload_text) {
		/* unparseable: not skipped; render sends what the host stored */
		if (!(own = json_loadb(m.payload_text, m.payload_len, 0, NULL)))
			return false;
		m.payload = own;
	}
	skip = !wanted(in, &m, &why);
	if (skip)
		snprintf(note, notesz, "not subscribed: %.100s does not match 'events'", why);
	json_decref(own);
	return skip;
}

/* The body: the payload itself, compact with sorted keys (the host's text
 * is that already, ABI 1.5). */
/* template.body: the body in the operator's shape (JSON, values escaped
 * inside its strings); NULL when there is none or it failed (logged). */
static char *shaped(const struct wh_conf *in, const struct ab_message *msg)
{
	struct ab_message m = *msg;
	json_t *own = NULL, *check;
	struct rd_view v;
	char err[200], *body = NULL;

	if (!tmpl_part(&in->tpl, "body"))
		return NULL;
	if (!m.payload && m.payload_text)
		m.payload = own = json_loadb(m.payload_text, m.payload_len, 0, NULL);
	if (m.payload && rd_view_init(&v, &m, err, sizeof err) == 0)
		body = tmpl_apply(&in->tpl, "body", in->host, NULL, &v, m.payload, TMPL_ESC_JSON,
			RD_ESC_NONE, WH_BODY_MAX);
	json_decref(own);
	if (body && !(check = json_loads(body, 0, NULL))) {
		in->host->log(in->host, AB_LOG_WARNING, "template.body: the result is not JSON; "
			"the built-in body is used");
		free(body);
		return NULL;
	}
	if (body)
		json_decref(check);
	return body;
}

static char *wh_render(const void *priv, const struct ab_message *msg, size_t *len, char *err,
	size_t errsz)
{
	char *body = shaped(priv, msg);

	if (body) {
		*len = strlen(body);
		return body;
	}
	if (msg->payload)
		body = json_dumps(msg->payload, JSON_COMPACT | JSON_SORT_KEYS);
	else
		body = msg->payload_text ? strndup(msg->payload_text, msg->payload_len) : NULL;
	if (!body) {
		snprintf(err, errsz, "payload cannot be serialised");
		return NULL;
	}
	*len = strlen(body);
	if (*len > WH_BODY_MAX) {
		free(body);
		snprintf(err, errsz, "payload larger than 1 MiB");
		return NULL;
	}
	return body;
}

/* webhook-id, webhook-timestamp, webhook-signature (with keys), then the
 * configured headers. */
static int wh_headers(const struct ab_host *h, const void *priv, const struct ab_message *msg,
	const char *body, size_t len, struct hc_headers *out, char *err, size_t errsz)
{
	const struct wh_conf *in = priv;
	struct ab_buf sig = AB_BUF_INIT(2048);
	const char *id = msg->id ? msg->id : "";
	char ts[32];
	int rc = 0;

	snprintf(ts, sizeof ts, "%lld", (long long)(h->now_ms(h) / 1000));
	if (hc_header_printf(out, "webhook-id: %.64s", id) < 0 ||
	    hc_header_printf(out, "webhook-timestamp: %s", ts) < 0) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (in->n_keys) {
		if (sign(in, id, ts, body, len, &sig) < 0) {
			snprintf(err, errsz, "signing failed (OpenSSL)");
			rc = -1;
		} else if (hc_header_printf(out, "webhook-signature: %s", ab_buf_cstr(&sig)) < 0) {
			snprintf(err, errsz, "out of memory");
			rc = -1;
		}
	}
	_Static_assert(WH_HEADERS_MAX + 3 <= HC_HEADERS_MAX, "room for the configured headers");
	for (size_t i = 0; rc == 0 && i < in->n_headers; i++)
		hc_header_add(out, in->headers[i]);
	ab_buf_free(&sig);
	return rc;
}

const struct hc_desc hc_plugin_desc = {
	.plugin = HC_PLUGIN_FLAGS("webhook", "generic JSON webhook signed per Standard Webhooks", 0,
		AB_PLUGIN_F_PAYLOAD_TEXT),
	.parse = wh_parse,
	.skip = wh_skip,
	.render = wh_render,
	.headers = wh_headers,
	.destroy = wh_free,
};
