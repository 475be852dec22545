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
 * Public: alertbridge_plugin() (the only exported symbol).
 * Diagnostics: create() errors start with the setting name; send results
 * carry the HTTP helper's redacted message.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <alertbridge/plugin.h>

#include "buf.h"
#include "render.h"
#include "util.h"

#define WH_SECRETS_MAX 8
#define WH_KEY_MAX 256
#define WH_HEADERS_MAX 32
#define WH_BODY_MAX (1024 * 1024)

struct wh_key {
	unsigned char key[WH_KEY_MAX];
	int len;
};

struct wh_inst {
	const struct ab_host *host;
	char *channel;
	struct rd_http http;
	struct wh_key keys[WH_SECRETS_MAX];
	int n_keys;
	char **events;              /* NULL-terminated globs */
	char **headers;             /* NULL-terminated "Name: value" */
	size_t n_headers;
};

static int parse_key(const struct ab_host *h, const char *ref, struct wh_key *k, char *err,
	size_t errsz)
{
	char *s = rd_secret(h, "secret", ref, err, errsz);
	const char *b64;
	size_t n;
	unsigned char tmp[WH_KEY_MAX + 4];
	int len;

	if (!s)
		return -1;
	b64 = strncmp(s, "whsec_", 6) == 0 ? s + 6 : NULL;
	if (!b64) {
		snprintf(err, errsz, "setting 'secret': must start with \"whsec_\" followed by "
			"base64 (24 to 64 random bytes)");
		goto fail;
	}
	n = strlen(b64);
	if (n == 0 || n % 4 || n > WH_KEY_MAX) {
		snprintf(err, errsz, "setting 'secret': the part after whsec_ is not valid base64");
		goto fail;
	}
	len = EVP_DecodeBlock(tmp, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		snprintf(err, errsz, "setting 'secret': the part after whsec_ is not valid base64");
		goto fail;
	}
	if (n >= 1 && b64[n - 1] == '=')
		len--;
	if (n >= 2 && b64[n - 2] == '=')
		len--;
	if (len < 16) {
		snprintf(err, errsz, "setting 'secret': key too short (%d bytes; use at least 24)",
			len);
		goto fail;
	}
	memcpy(k->key, tmp, (size_t)len);
	k->len = len;
	OPENSSL_cleanse(tmp, sizeof tmp);
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

static int parse_headers(struct wh_inst *in, const json_t *hdr, char *err, size_t errsz)
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
		if (!(val = rd_secret(in->host, "headers", json_string_value(v), err, errsz)))
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

static void wh_free(struct wh_inst *in)
{
	rd_http_free(&in->http);
	OPENSSL_cleanse(in->keys, sizeof in->keys);
	rd_strv_free(in->events);
	if (in->headers) {
		for (size_t i = 0; in->headers[i]; i++) {
			OPENSSL_cleanse(in->headers[i], strlen(in->headers[i]));
			free(in->headers[i]);
		}
		free(in->headers);
	}
	free(in->channel);
	free(in);
}

static void *wh_create(const struct ab_host *host, const char *channel, const json_t *config,
	char *err, size_t errsz)
{
	struct wh_inst *in = calloc(1, sizeof *in);
	json_t *cfg = json_deep_copy(config), *v;

	if (!in || !cfg || !(in->channel = strdup(channel))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	in->host = host;
	if (rd_http_parse(host, cfg, &in->http, true, err, errsz) < 0)
		goto fail;
	if ((v = json_object_get(cfg, "secret"))) {
		if (json_is_string(v)) {
			if (parse_key(host, json_string_value(v), &in->keys[0], err, errsz) < 0)
				goto fail;
			in->n_keys = 1;
		} else if (json_is_array(v) && json_array_size(v) >= 1 &&
			   json_array_size(v) <= WH_SECRETS_MAX) {
			for (size_t i = 0; i < json_array_size(v); i++) {
				const char *s = json_string_value(json_array_get(v, i));
				if (!s) {
					snprintf(err, errsz, "setting 'secret': list elements must "
						"be strings");
					goto fail;
				}
				if (parse_key(host, s, &in->keys[in->n_keys], err, errsz) < 0)
					goto fail;
				in->n_keys++;
			}
		} else {
			snprintf(err, errsz, "setting 'secret': a string or a list of 1 to %d "
				"strings", WH_SECRETS_MAX);
			goto fail;
		}
		json_object_del(cfg, "secret");
	}
	if ((v = json_object_get(cfg, "events"))) {
		size_t i;
		if (!json_is_array(v) || !json_array_size(v) || !(in->events = rd_strv(v, 64))) {
			snprintf(err, errsz, "setting 'events': a non-empty list of at most 64 type "
				"globs, e.g. [\"finding.*\"]");
			goto fail;
		}
		for (i = 0; in->events[i]; i++) {
			if (!ab_glob_valid(in->events[i])) {
				snprintf(err, errsz, "setting 'events': bad glob '%.64s'", in->events[i]);
				goto fail;
			}
		}
		json_object_del(cfg, "events");
	}
	if ((v = json_object_get(cfg, "headers"))) {
		if (parse_headers(in, v, err, errsz) < 0)
			goto fail;
		json_object_del(cfg, "headers");
	}
	if (rd_no_extra(cfg, "webhook", err, errsz) < 0)
		goto fail;
	json_decref(cfg);
	return in;
fail:
	json_decref(cfg);
	if (in)
		wh_free(in);
	return NULL;
}

static bool type_wanted(const struct wh_inst *in, const char *type)
{
	if (!in->events)
		return true;
	for (size_t i = 0; in->events[i]; i++)
		if (ab_glob_match(in->events[i], type))
			return true;
	return false;
}

static bool wanted(const struct wh_inst *in, const struct ab_message *msg, const char **why)
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
static int sign(const struct wh_inst *in, const char *id, const char *ts, const char *body,
	size_t len, struct ab_buf *out)
{
	for (int i = 0; i < in->n_keys; i++) {
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;
		unsigned char b64[128];
		EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
		EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
		OSSL_PARAM params[2];
		size_t ml = 0;
		int ok;

		params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
		params[1] = OSSL_PARAM_construct_end();
		ok = c && EVP_MAC_init(c, in->keys[i].key, (size_t)in->keys[i].len, params) == 1 &&
			EVP_MAC_update(c, (const unsigned char *)id, strlen(id)) == 1 &&
			EVP_MAC_update(c, (const unsigned char *)".", 1) == 1 &&
			EVP_MAC_update(c, (const unsigned char *)ts, strlen(ts)) == 1 &&
			EVP_MAC_update(c, (const unsigned char *)".", 1) == 1 &&
			EVP_MAC_update(c, (const unsigned char *)body, len) == 1 &&
			EVP_MAC_final(c, mac, &ml, sizeof mac) == 1;
		EVP_MAC_CTX_free(c);
		EVP_MAC_free(m);
		if (!ok)
			return -1;
		maclen = (unsigned int)ml;
		EVP_EncodeBlock(b64, mac, (int)maclen);
		ab_buf_printf(out, "%sv1,%s", i ? " " : "", b64);
	}
	return out->overflow ? -1 : 0;
}

static void wh_send(void *p, const struct ab_message *msg, struct ab_result *res)
{
	struct wh_inst *in = p;
	const char **hdrs;
	const char *why;
	char *body, ts[32], idh[96], tsh[64];
	struct ab_buf sig = AB_BUF_INIT(2048), sigh = AB_BUF_INIT(2200);
	size_t len, n = 0;

	if (!wanted(in, msg, &why)) {
		char note[160];
		snprintf(note, sizeof note, "not subscribed: %.100s does not match 'events'", why);
		ab_result_set(res, AB_OK, 0, note);
		return;
	}
	body = json_dumps(msg->payload, JSON_COMPACT | JSON_SORT_KEYS);
	if (!body) {
		ab_result_set(res, AB_PERMANENT, 0, "payload cannot be serialised");
		return;
	}
	len = strlen(body);
	if (len > WH_BODY_MAX) {
		free(body);
		ab_result_set(res, AB_PERMANENT, 0, "payload larger than 1 MiB");
		return;
	}
	hdrs = calloc(in->n_headers + 4, sizeof *hdrs);
	if (!hdrs) {
		free(body);
		ab_result_set(res, AB_RETRY, 0, "out of memory");
		return;
	}
	snprintf(ts, sizeof ts, "%lld", (long long)(in->host->now_ms(in->host) / 1000));
	snprintf(idh, sizeof idh, "webhook-id: %.64s", msg->id ? msg->id : "");
	snprintf(tsh, sizeof tsh, "webhook-timestamp: %s", ts);
	hdrs[n++] = idh;
	hdrs[n++] = tsh;
	if (in->n_keys) {
		if (sign(in, msg->id ? msg->id : "", ts, body, len, &sig) < 0) {
			ab_result_set(res, AB_RETRY, 0, "signing failed (OpenSSL)");
			goto out;
		}
		ab_buf_printf(&sigh, "webhook-signature: %s", ab_buf_cstr(&sig));
		hdrs[n++] = ab_buf_cstr(&sigh);
	}
	for (size_t i = 0; i < in->n_headers; i++)
		hdrs[n++] = in->headers[i];
	hdrs[n] = NULL;
	rd_http_post(in->host, &in->http, hdrs, body, len, "application/json", res);
out:
	ab_buf_free(&sig);
	ab_buf_free(&sigh);
	free(hdrs);
	free(body);
}

static void wh_test(void *p, struct ab_result *res)
{
	struct wh_inst *in = p;
	json_t *ev = rd_test_event(in->host, in->channel);
	struct ab_message m = { AB_MSG_TEST, "00000000000000000000000000000000", 1, ev };

	if (!ev) {
		ab_result_set(res, AB_RETRY, 0, "out of memory");
		return;
	}
	wh_send(in, &m, res);
	json_decref(ev);
}

static void wh_destroy(void *p)
{
	if (p)
		wh_free(p);
}

static const struct ab_plugin wh_plugin = {
	.abi = AB_PLUGIN_ABI,
	.size = sizeof(struct ab_plugin),
	.name = "webhook",
	.description = "generic JSON webhook signed per Standard Webhooks",
	.create = wh_create,
	.send = wh_send,
	.test = wh_test,
	.flush = NULL,
	.destroy = wh_destroy,
};

const struct ab_plugin *alertbridge_plugin(void);
const struct ab_plugin *alertbridge_plugin(void)
{
	return &wh_plugin;
}
