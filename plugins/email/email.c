/*
 * email.c - the "email" channel plugin: re-rendered alert mail over SMTP
 * (libcurl).
 *
 * Settings:
 *   url        (string, required, secret) "smtp://host:587" or "smtps://host:465"
 *   tls        "starttls" (default for smtp://: STARTTLS is required, the
 *              send fails if the server does not offer it), "smtps"
 *              (implicit TLS, the default for smtps://) or "none" (no TLS;
 *              then a password is refused: it would cross in clear)
 *   username, password  (strings, optional; password is a secret) AUTH
 *   from       (string, required) sender address
 *   to         (list of addresses, 1..50) where alerts go; leave it out for
 *              a channel that only e-mails people (the people section)
 *   subject_prefix (string, default "[alertbridge]")
 *   ca_file    (string) PEM CA bundle for the server certificate (a path
 *              setting: relative to state_dir)
 *   timeout    (seconds, 1..300, default 30)
 *   allow_networks (list of CIDR strings, e.g. ["10.0.0.0/8"]) networks let
 *              through the SSRF guard: every address the plugin connects to
 *              is checked by the host (host->net_check) and loopback,
 *              private, link-local, CGNAT, ULA, multicast, ... are refused
 *              unless listed here (a relay on 127.0.0.1 needs
 *              ["127.0.0.0/8"]).  A refusal is a permanent failure;
 *              check() applies the same guard to the URL (host->url_check)
 *              for `alertbridge check`, start and reload.
 *
 * Mail: multipart/alternative (text/plain first, text/html last, inline
 * CSS, severity-coloured header, fields table, link), Auto-Submitted:
 * auto-generated, Message-ID derived from the finding (fingerprint, else
 * the event id): a finding.created (or any event without a fingerprint)
 * gets "<ab-HASH@DOMAIN>", later events about the same finding get
 * "<ab-HASH-EVENTID@DOMAIN>" with In-Reply-To/References "<ab-HASH@DOMAIN>"
 * so mail clients thread them (a group or digest is its own thread; a
 * test mail gets a fresh "<ab-test-MS-HASH@DOMAIN>" each time).  DOMAIN is
 * the domain of 'from'.  CR/LF and other controls are stripped from every
 * header value; non-ASCII subjects are RFC 2047 encoded; bodies are base64.
 * The envelope recipients are exactly 'to', or for a message to people
 * (ABI 1.4, AB_PLUGIN_F_RECIPIENTS) exactly the addresses of its
 * "recipients", which only the host sets; nothing from the event can add
 * one.
 *
 * Public: alertbridge_plugin() (the only exported symbol).
 * Diagnostics: create() and check() errors start with the setting name
 * ("setting 'url': smtp://...: refused by the SSRF guard: ..."); send results
 * say what failed with the server's last reply when there was one
 * ("STARTTLS required ... but the server did not offer it", "SMTP 535:
 * authentication failed (535 5.7.8 ...)", "connection refused by the SSRF
 * guard: 127.0.0.1 is a loopback address ...") and never show the password
 * or the URL's user info.  Outcome: authentication failures, 5xx replies,
 * missing STARTTLS, untrusted certificates, SSRF refusals and bad URLs are
 * PERMANENT; 4xx replies, timeouts and connection errors RETRY.  Logs: a
 * warning per SSRF refusal.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"
#include "render.h"

#define EM_RCPT_MAX 50
#define EM_ADDR_MAX 254
#define EM_MAIL_MAX (2 * 1024 * 1024)
#define EM_NETS_MAX 64
#define EM_REPLY_MAX 160

enum em_tls { EM_TLS_STARTTLS, EM_TLS_SMTPS, EM_TLS_NONE };

struct em_inst {
	const struct ab_host *host;
	char *channel;
	char *url, *username, *password, *from, *prefix, *ca_file, *domain;
	char **to;
	char **allow;            /* allow_networks, NULL-terminated or NULL */
	enum em_tls tls;
	long timeout_ms;
};

static bool addr_ok(const char *a)
{
	const char *at = strchr(a, '@');

	if (!at || at == a || !at[1] || strlen(a) > EM_ADDR_MAX || strchr(at + 1, '@'))
		return false;
	for (; *a; a++)
		if ((unsigned char)*a <= 0x20 || strchr("<>()[],;:\"\\", *a) || *a == 0x7f)
			return false;
	return true;
}

/* Does url carry a password in its user info (smtp://user:pw@host)?  A URL
 * curl cannot parse counts as yes: it is refused where that matters. */
static bool url_has_password(const char *url)
{
	CURLU *u = curl_url();
	char *pw = NULL;
	bool has;

	if (!u)
		return true;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		curl_url_cleanup(u);
		return true;
	}
	has = curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK && pw && *pw;
	curl_free(pw);
	curl_url_cleanup(u);
	return has;
}

static void em_free(struct em_inst *in)
{
	if (in->password) {
		OPENSSL_cleanse(in->password, strlen(in->password));
		free(in->password);
	}
	if (in->url) {
		OPENSSL_cleanse(in->url, strlen(in->url));
		free(in->url);
	}
	free(in->username);
	free(in->from);
	free(in->prefix);
	free(in->ca_file);
	free(in->domain);
	rd_strv_free(in->to);
	rd_strv_free(in->allow);
	free(in->channel);
	free(in);
}

static int take_str(json_t *cfg, const char *name, char **out, char *err, size_t errsz)
{
	json_t *v = json_object_get(cfg, name);

	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) > 1024 ||
	    strpbrk(json_string_value(v), "\r\n")) {
		snprintf(err, errsz, "setting '%s': must be a one-line string", name);
		return -1;
	}
	if (!(*out = strdup(json_string_value(v)))) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	json_object_del(cfg, name);
	return 0;
}

static void *em_create(const struct ab_host *host, const char *channel, const json_t *config,
	char *err, size_t errsz)
{
	struct em_inst *in = calloc(1, sizeof *in);
	json_t *cfg = json_deep_copy(config), *v;
	char *url_ref = NULL, *pw_ref = NULL, *tls = NULL;

	if (!in || !cfg || !(in->channel = strdup(channel))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	in->host = host;
	in->timeout_ms = 30000;
	if (host->size < offsetof(struct ab_host, net_check) + sizeof host->net_check ||
	    !host->net_check) {
		snprintf(err, errsz, "this host offers no SSRF guard for SMTP (net_check, plugin "
			"ABI >= 1.1): upgrade alertbridge");
		goto fail;
	}
	if (take_str(cfg, "url", &url_ref, err, errsz) < 0 ||
	    take_str(cfg, "password", &pw_ref, err, errsz) < 0 ||
	    take_str(cfg, "username", &in->username, err, errsz) < 0 ||
	    take_str(cfg, "from", &in->from, err, errsz) < 0 ||
	    take_str(cfg, "subject_prefix", &in->prefix, err, errsz) < 0 ||
	    take_str(cfg, "ca_file", &in->ca_file, err, errsz) < 0 ||
	    take_str(cfg, "tls", &tls, err, errsz) < 0)
		goto fail;
	if (!url_ref) {
		snprintf(err, errsz, "setting 'url': missing (smtp://host:587 or smtps://host:465)");
		goto fail;
	}
	if (!(in->url = rd_secret(host, "url", url_ref, err, errsz)))
		goto fail;
	if (strncasecmp(in->url, "smtp://", 7) && strncasecmp(in->url, "smtps://", 8)) {
		snprintf(err, errsz, "setting 'url': must start with smtp:// or smtps://");
		goto fail;
	}
	in->tls = strncasecmp(in->url, "smtps://", 8) == 0 ? EM_TLS_SMTPS : EM_TLS_STARTTLS;
	if (tls) {
		if (!strcmp(tls, "starttls") && in->tls != EM_TLS_SMTPS)
			in->tls = EM_TLS_STARTTLS;
		else if (!strcmp(tls, "smtps") && in->tls == EM_TLS_SMTPS)
			in->tls = EM_TLS_SMTPS;
		else if (!strcmp(tls, "none") && in->tls != EM_TLS_SMTPS)
			in->tls = EM_TLS_NONE;
		else {
			snprintf(err, errsz, "setting 'tls': \"starttls\" or \"none\" with smtp://, "
				"\"smtps\" with smtps://");
			goto fail;
		}
	}
	if (pw_ref && !(in->password = rd_secret(host, "password", pw_ref, err, errsz)))
		goto fail;
	if (in->password && !in->username) {
		snprintf(err, errsz, "setting 'username': required with 'password'");
		goto fail;
	}
	if (in->tls == EM_TLS_NONE && url_has_password(in->url)) {
		snprintf(err, errsz, "setting 'url': a password in the URL is refused with tls = "
			"\"none\" (it would cross the network in clear)");
		goto fail;
	}
	if (in->password && in->tls == EM_TLS_NONE) {
		snprintf(err, errsz, "setting 'password': refused with tls = \"none\" (it would "
			"cross the network in clear); use \"starttls\" or smtps://");
		goto fail;
	}
	if (!in->from || !addr_ok(in->from)) {
		snprintf(err, errsz, "setting 'from': required, a plain address like "
			"alerts@example.com");
		goto fail;
	}
	in->domain = strdup(strchr(in->from, '@') + 1);
	v = json_object_get(cfg, "to");
	if (!v) {
		in->to = calloc(1, sizeof *in->to);   /* none: the channel e-mails people only */
	} else if (!json_is_array(v) || !json_array_size(v) || !(in->to = rd_strv(v, EM_RCPT_MAX))) {
		snprintf(err, errsz, "setting 'to': a list of 1 to %d addresses (leave it out "
			"for a channel that only e-mails people)", EM_RCPT_MAX);
		goto fail;
	}
	if (!in->to) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	for (size_t i = 0; in->to[i]; i++) {
		if (!addr_ok(in->to[i])) {
			snprintf(err, errsz, "setting 'to': '%.100s' is not a plain address",
				in->to[i]);
			goto fail;
		}
	}
	json_object_del(cfg, "to");
	if ((v = json_object_get(cfg, "allow_networks"))) {
		if (!json_is_array(v) || !(in->allow = rd_strv(v, EM_NETS_MAX))) {
			snprintf(err, errsz, "setting 'allow_networks': must be a list of at most "
				"%d CIDR strings, e.g. [\"10.0.0.0/8\"]", EM_NETS_MAX);
			goto fail;
		}
		json_object_del(cfg, "allow_networks");
	}
	if ((v = json_object_get(cfg, "timeout"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 300) {
			snprintf(err, errsz, "setting 'timeout': seconds, 1..300");
			goto fail;
		}
		in->timeout_ms = (long)json_integer_value(v) * 1000;
		json_object_del(cfg, "timeout");
	}
	if (!in->prefix && !(in->prefix = strdup("[alertbridge]"))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	if (!in->domain || rd_no_extra(cfg, "email", err, errsz) < 0)
		goto fail;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsz, "libcurl initialisation failed");
		goto fail;
	}
	free(url_ref);
	free(pw_ref);
	free(tls);
	json_decref(cfg);
	return in;
fail:
	free(url_ref);
	if (pw_ref)
		OPENSSL_cleanse(pw_ref, strlen(pw_ref));
	free(pw_ref);
	free(tls);
	json_decref(cfg);
	if (in)
		em_free(in);
	return NULL;
}

/* Header value: controls (CR, LF, ...) become spaces; RFC 2047 when not ASCII. */
static void put_header(struct ab_buf *b, const char *name, const char *value)
{
	char *clean = rd_esc(value, RD_ESC_HEADER, 400);
	bool ascii = true;

	if (!clean) {
		ab_buf_fail(b);   /* a mail without this header is never sent */
		return;
	}
	for (const char *p = clean; *p; p++)
		if ((unsigned char)*p >= 0x80)
			ascii = false;
	ab_buf_printf(b, "%s: ", name);
	if (ascii) {
		ab_buf_printf(b, "%s\r\n", clean);
	} else {
		/* Encoded words of <= 45 input bytes, cut at UTF-8 boundaries. */
		size_t len = strlen(clean), pos = 0;
		while (pos < len) {
			size_t n = rd_utf8_prefix(clean + pos, len - pos, (size_t)-1, 45);
			unsigned char enc[64];
			if (n == 0)
				n = 1;
			EVP_EncodeBlock(enc, (const unsigned char *)clean + pos, (int)n);
			ab_buf_printf(b, "%s=?UTF-8?B?%s?=", pos ? "\r\n " : "", enc);
			pos += n;
		}
		ab_buf_puts(b, "\r\n");
	}
	free(clean);
}

static void put_base64(struct ab_buf *b, const char *s, size_t len)
{
	unsigned char enc[80];

	for (size_t pos = 0; pos < len; pos += 57) {
		size_t n = len - pos < 57 ? len - pos : 57;
		EVP_EncodeBlock(enc, (const unsigned char *)s + pos, (int)n);
		ab_buf_printf(b, "%s\r\n", enc);
	}
}

static void text_line(struct ab_buf *t, struct ab_buf *h, const char *name, const char *value)
{
	if (!*value)
		return;
	ab_buf_printf(t, "%-10s %s\n", name, value);
	ab_buf_printf(h, "<tr><td style=\"padding:4px 12px 4px 0;color:#555;font-weight:bold\">"
		"%s</td><td style=\"padding:4px 0\">", name);
	rd_put(h, value, RD_ESC_HTML, 1000);
	ab_buf_puts(h, "</td></tr>\n");
}

static void bodies(const struct rd_view *v, struct ab_buf *t, struct ab_buf *h)
{
	const char *color = rd_sev_color(v->severity);

	ab_buf_printf(t, "%s%s: %s\n\n", v->test ? "[TEST] " : "", rd_sev_label(v->severity),
		v->title);
	ab_buf_printf(h, "<!DOCTYPE html><html><body style=\"margin:0;font-family:Arial,"
		"Helvetica,sans-serif;font-size:14px;color:#222\">\n"
		"<div style=\"background:%s;color:#fff;padding:12px 16px;font-size:18px;"
		"font-weight:bold\">%s%s: ", color, v->test ? "[TEST] " : "",
		rd_sev_label(v->severity));
	rd_put(h, v->title, RD_ESC_HTML, 1000);
	ab_buf_puts(h, "</div>\n<div style=\"padding:12px 16px\">\n");
	if (!v->is_group) {
		if (*v->summary) {
			ab_buf_printf(t, "%s\n\n", v->summary);
			ab_buf_puts(h, "<p style=\"white-space:pre-wrap\">");
			rd_put(h, v->summary, RD_ESC_HTML, 20000);
			ab_buf_puts(h, "</p>\n");
		}
		ab_buf_puts(h, "<table style=\"border-collapse:collapse\">\n");
		text_line(t, h, "Severity", rd_sev_label(v->severity));
		text_line(t, h, "Type", v->type);
		text_line(t, h, "Source", v->source);
		text_line(t, h, "Tool", v->tool);
		text_line(t, h, "Asset", v->asset);
		text_line(t, h, "Team", v->team);
		text_line(t, h, "Status", v->status);
		text_line(t, h, "Time", v->when);
		text_line(t, h, "Event id", v->id);
		ab_buf_puts(h, "</table>\n");
	} else {
		size_t n = v->items ? json_array_size(v->items) : 0;
		char c[32];

		snprintf(c, sizeof c, "%lld", v->count);
		ab_buf_puts(h, "<table style=\"border-collapse:collapse\">\n");
		text_line(t, h, "Alerts", c);
		text_line(t, h, "Severity", v->counts);
		text_line(t, h, "Rule", v->source);
		text_line(t, h, "Last", v->when);
		ab_buf_puts(h, "</table>\n<ul>\n");
		ab_buf_puts(t, "\n");
		for (size_t i = 0; i < n && i < 100; i++) {
			const json_t *it = json_array_get(v->items, i);
			const char *ti = *rd_str(it, "title") ? rd_str(it, "title") : rd_str(it, "type");
			ab_buf_printf(t, "- [%s] %s\n", rd_sev_label(rd_str(it, "severity")), ti);
			ab_buf_printf(h, "<li><b style=\"color:%s\">%s</b> ",
				rd_sev_color(rd_str(it, "severity")), rd_sev_label(rd_str(it, "severity")));
			rd_put(h, ti, RD_ESC_HTML, 500);
			ab_buf_puts(h, "</li>\n");
		}
		ab_buf_puts(h, "</ul>\n");
		if (v->omitted > 0) {
			ab_buf_printf(t, "...and %lld more\n", v->omitted);
			ab_buf_printf(h, "<p>...and %lld more</p>\n", v->omitted);
		}
	}
	if (rd_url_ok(v->url)) {
		ab_buf_printf(t, "\nView: %s\n", v->url);
		ab_buf_puts(h, "<p><a style=\"display:inline-block;background:#1264a3;color:#fff;"
			"padding:8px 14px;text-decoration:none;border-radius:4px\" href=\"");
		rd_put(h, v->url, RD_ESC_HTML, 0);
		ab_buf_puts(h, "\">View finding</a></p>\n");
	}
	ab_buf_puts(t, "\n-- \nSent by alertbridge (automatic message, do not reply).\n");
	ab_buf_puts(h, "<p style=\"color:#888;font-size:12px\">Sent by alertbridge (automatic "
		"message).</p>\n</div></body></html>\n");
}

/* HASH of the finding key: fingerprint, else the event id / group key. */
static void finding_hash(const struct ab_message *msg, const struct rd_view *v, char out[33])
{
	const char *key = *rd_str(msg->payload, "fingerprint") ? rd_str(msg->payload, "fingerprint")
		: v->id;
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)key, strlen(key), md);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The part of an id that may go into a Message-ID: [A-Za-z0-9._-], at most
 * 32 characters; "x" when nothing is left. */
static void id_part(const char *id, char out[33])
{
	size_t o = 0;

	for (; *id && o < 32; id++)
		if (isalnum((unsigned char)*id) || *id == '.' || *id == '_' || *id == '-')
			out[o++] = *id;
	if (o == 0)
		out[o++] = 'x';
	out[o] = '\0';
}

/* The recipients of msg into out (at most EM_RCPT_MAX, borrowed): the
 * people of the payload's "recipients" when the host set it (their
 * addresses instead of 'to'), else 'to'.  The count, or 0 with the reason
 * in err (nobody to send to: a permanent failure). */
static size_t rcpts(const struct em_inst *in, const struct ab_message *msg, const char **out,
	char *err, size_t errsz)
{
	const json_t *people = json_object_get(msg->payload, "recipients"), *p;
	size_t n = 0, i;

	if (!people) {
		for (; in->to[n] && n < EM_RCPT_MAX; n++)
			out[n] = in->to[n];
		if (!n)
			snprintf(err, errsz, "no recipients: the channel has no 'to' (it only "
				"e-mails people) and the message names no people");
		return n;
	}
	json_array_foreach(people, i, p) {
		const char *a = json_string_value(json_object_get(p, "email"));

		if (a && addr_ok(a) && n < EM_RCPT_MAX)
			out[n++] = a;
	}
	if (!n)
		snprintf(err, errsz, "no recipients: the people of this message have no usable "
			"e-mail address (set email in the users section)");
	return n;
}

static char *build_mail(const struct em_inst *in, const struct ab_message *msg,
	const char *const *to, size_t n_to, size_t *len, bool *oom, char *err, size_t errsz)
{
	struct rd_view v;
	struct ab_buf m = AB_BUF_INIT(EM_MAIL_MAX), t = AB_BUF_INIT(EM_MAIL_MAX / 4),
		h = AB_BUF_INIT(EM_MAIL_MAX / 3);
	char hash[33], idp[33], boundary[64], date[64], mid[400], subj[1200], *one;
	int64_t now_ms = in->host->now_ms(in->host);
	time_t now = (time_t)(now_ms / 1000);
	struct tm tm;
	bool followup;

	if (rd_view_init(&v, msg, err, errsz) < 0)
		return NULL;
	finding_hash(msg, &v, hash);
	followup = !v.is_group && *rd_str(msg->payload, "fingerprint") &&
		strcmp(v.type, "finding.created") != 0;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(boundary, sizeof boundary, "=_ab_%s", hash);
	one = rd_oneline(&v, 300);
	snprintf(subj, sizeof subj, "%s %s", in->prefix, one ? one : "alert");
	free(one);

	put_header(&m, "From", in->from);
	ab_buf_puts(&m, "To: ");
	for (size_t i = 0; i < n_to; i++)
		ab_buf_printf(&m, "%s%s", i ? ",\r\n " : "", to[i]);   /* folded: <= 998 */
	ab_buf_puts(&m, "\r\n");
	put_header(&m, "Subject", subj);
	ab_buf_printf(&m, "Date: %s\r\n", date);
	id_part(v.id, idp);
	if (v.test) {
		/* every test mail is new: a repeated Message-ID would be dropped as
		 * a duplicate by some mailbox providers */
		snprintf(mid, sizeof mid, "<ab-test-%lld-%s@%s>", (long long)now_ms, hash,
			in->domain);
		put_header(&m, "Message-ID", mid);
	} else if (followup) {
		snprintf(mid, sizeof mid, "<ab-%s-%s@%s>", hash, idp, in->domain);
		put_header(&m, "Message-ID", mid);
		snprintf(mid, sizeof mid, "<ab-%s@%s>", hash, in->domain);
		put_header(&m, "In-Reply-To", mid);
		put_header(&m, "References", mid);
	} else {
		snprintf(mid, sizeof mid, "<ab-%s@%s>", hash, in->domain);
		put_header(&m, "Message-ID", mid);
	}
	ab_buf_puts(&m, "Auto-Submitted: auto-generated\r\n"
		"X-Auto-Response-Suppress: All\r\n"
		"MIME-Version: 1.0\r\n");
	put_header(&m, "X-Alertbridge-Severity", v.severity);
	ab_buf_printf(&m, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
		"This is a multi-part message in MIME format.\r\n", boundary);
	bodies(&v, &t, &h);
	ab_buf_printf(&m, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n", boundary);
	put_base64(&m, ab_buf_cstr(&t), t.len);
	ab_buf_printf(&m, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n", boundary);
	put_base64(&m, ab_buf_cstr(&h), h.len);
	ab_buf_printf(&m, "--%s--\r\n", boundary);
	if (t.oom || h.oom)
		ab_buf_fail(&m);   /* a body cut short by ENOMEM: never sent */
	ab_buf_free(&t);
	ab_buf_free(&h);
	if (m.oom || !m.data) {   /* memory, not the message: another try may work */
		ab_buf_free(&m);
		*oom = true;
		snprintf(err, errsz, "out of memory while building the mail");
		return NULL;
	}
	if (m.overflow) {
		ab_buf_free(&m);
		snprintf(err, errsz, "mail larger than %d bytes", EM_MAIL_MAX);
		return NULL;
	}
	*len = m.len;
	return ab_buf_steal(&m);
}

struct reader {
	const char *p;
	size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct reader *r = arg;
	size_t n = size * nmemb < r->left ? size * nmemb : r->left;

	memcpy(buf, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

/* Per-send state shared with the libcurl callbacks. */
struct em_conn {
	const struct em_inst *in;
	bool refused;                 /* the SSRF guard refused an address */
	bool passed;                  /* ... and let another one through */
	char why[AB_RESULT_MSG_MAX];  /* ... and why (the first refusal) */
	char reply[EM_REPLY_MAX];     /* the server's last reply line, printable */
};

/* CURLOPT_OPENSOCKETFUNCTION: the host's SSRF guard on every address. */
static curl_socket_t open_socket_cb(void *clientp, curlsocktype purpose,
	struct curl_sockaddr *address)
{
	struct em_conn *cx = clientp;
	const struct ab_host *h = cx->in->host;
	char why[AB_RESULT_MSG_MAX];

	if (purpose != CURLSOCKTYPE_IPCXN) {
		if (!cx->refused)
			snprintf(cx->why, sizeof cx->why, "unexpected socket type");
		cx->refused = true;
		return CURL_SOCKET_BAD;
	}
	if (h->net_check(h, &address->addr, (size_t)address->addrlen,
			 (const char *const *)cx->in->allow, why, sizeof why) != 0) {
		if (!cx->refused)
			snprintf(cx->why, sizeof cx->why, "%s", why);
		cx->refused = true;
		return CURL_SOCKET_BAD;
	}
	cx->passed = true;
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* CURLOPT_DEBUGFUNCTION: keep the server's last reply line (what it said
 * about a refusal: "535 5.7.8 Authentication credentials invalid").  Only
 * incoming protocol lines are looked at: what we send (AUTH data) never is. */
static int debug_cb(CURL *c, curl_infotype type, char *data, size_t size, void *clientp)
{
	struct em_conn *cx = clientp;
	size_t o = 0;

	(void)c;
	if (type != CURLINFO_HEADER_IN || size < 3 || !isdigit((unsigned char)data[0]))
		return 0;
	for (size_t i = 0; i < size && o + 1 < sizeof cx->reply; i++) {
		unsigned char ch = (unsigned char)data[i];
		if (ch == '\r' || ch == '\n')
			break;
		cx->reply[o++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	cx->reply[o] = '\0';
	return 0;
}

/* Replace every occurrence of needle (4 bytes or more) in s by "***". */
static void scrub(char *s, const char *needle, size_t nlen)
{
	char *p;

	if (!needle || nlen < 4)
		return;
	while ((p = memmem(s, strlen(s), needle, nlen)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + nlen, strlen(p + nlen) + 1);
	}
}

/* Nothing secret in a result message: the password, the URL, its user info. */
static void scrub_secrets(const struct em_inst *in, char *msg)
{
	const char *start, *at, *end;

	if (in->password)
		scrub(msg, in->password, strlen(in->password));
	scrub(msg, in->url, strlen(in->url));
	start = strstr(in->url, "://");
	start = start ? start + 3 : in->url;
	end = start + strcspn(start, "/?#");
	at = NULL;
	for (const char *p = start; p < end; p++)
		if (*p == '@')
			at = p;
	if (at)
		scrub(msg, start, (size_t)(at - start));
}

static void classify(const struct em_inst *in, CURLcode rc, long code, const char *ebuf,
	const struct em_conn *cx, struct ab_result *res)
{
	char msg[AB_RESULT_MSG_MAX], said[EM_REPLY_MAX + 4] = "";
	enum ab_status st = AB_RETRY;

	if (cx->reply[0] && code >= 400)
		snprintf(said, sizeof said, " (%s)", cx->reply);
	if (cx->refused && !cx->passed) {   /* else judge what the allowed address did */
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "connection refused by the SSRF guard: %.200s",
			cx->why);
	} else switch (rc) {
	case CURLE_USE_SSL_FAILED:
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "STARTTLS required (tls = \"starttls\") but the server "
			"did not offer it: nothing was sent; fix the server or set tls = \"none\" "
			"knowingly");
		break;
	case CURLE_LOGIN_DENIED:
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "SMTP %ld: authentication failed%s: check username and "
			"password (app password)", code, said);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "TLS certificate of the SMTP server not trusted: %.150s "
			"(set ca_file)", ebuf);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "bad SMTP URL: %.150s", ebuf);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(msg, sizeof msg, "timed out after %ld s%s", in->timeout_ms / 1000, said);
		break;
	default:
		if (code >= 500)
			st = AB_PERMANENT;
		if (code >= 400 && cx->reply[0])
			snprintf(msg, sizeof msg, "SMTP %ld: %.170s", code, cx->reply);
		else
			snprintf(msg, sizeof msg, "SMTP%s%.0ld: %.180s", code ? " " : "", code,
				*ebuf ? ebuf : curl_easy_strerror(rc));
		break;
	}
	scrub_secrets(in, msg);
	/* no SMTP reply code for a refusal of ours (the last reply was EHLO's 250) */
	ab_result_set(res, st, (cx->refused && !cx->passed) || rc == CURLE_USE_SSL_FAILED ? 0
		: (int)code, msg);
}

static void em_send(void *p, const struct ab_message *msg, struct ab_result *res)
{
	struct em_inst *in = p;
	char err[200], ebuf[CURL_ERROR_SIZE] = "";
	size_t len = 0;
	bool oom = false;
	const char *to[EM_RCPT_MAX];
	size_t n_to = rcpts(in, msg, to, err, sizeof err);
	char *mail = n_to ? build_mail(in, msg, to, n_to, &len, &oom, err, sizeof err) : NULL;
	struct curl_slist *rcpt = NULL;
	struct em_conn cx;
	struct reader rd;
	CURL *c;
	CURLcode rc;
	long code = 0;
	char from[EM_ADDR_MAX + 3];

	if (!mail) {
		ab_result_set(res, oom ? AB_RETRY : AB_PERMANENT, 0, err);
		return;
	}
	c = curl_easy_init();
	if (!c) {
		free(mail);
		ab_result_set(res, AB_RETRY, 0, "cannot initialise libcurl");
		return;
	}
	for (size_t i = 0; i < n_to; i++) {
		char a[EM_ADDR_MAX + 3];
		struct curl_slist *n;
		snprintf(a, sizeof a, "<%s>", to[i]);
		if (!(n = curl_slist_append(rcpt, a))) {
			curl_slist_free_all(rcpt);
			curl_easy_cleanup(c);
			OPENSSL_cleanse(mail, len);
			free(mail);
			ab_result_set(res, AB_RETRY, 0, "out of memory");
			return;
		}
		rcpt = n;
	}
	memset(&cx, 0, sizeof cx);
	cx.in = in;
	snprintf(from, sizeof from, "<%s>", in->from);
	rd.p = mail;
	rd.left = len;
	curl_easy_setopt(c, CURLOPT_URL, in->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* a proxy from the environment would hide the real peer from the guard */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &cx);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, &cx);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);   /* feeds debug_cb only */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, in->timeout_ms < 10000 ? in->timeout_ms
		: 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, in->timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	if (in->tls == EM_TLS_STARTTLS)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (in->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, in->ca_file);
	if (in->username)
		curl_easy_setopt(c, CURLOPT_USERNAME, in->username);
	if (in->password)
		curl_easy_setopt(c, CURLOPT_PASSWORD, in->password);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		char ok[64];
		snprintf(ok, sizeof ok, "SMTP %ld: accepted for %zu recipient%s", code, n_to,
			n_to == 1 ? "" : "s");
		ab_result_set(res, AB_OK, (int)code, ok);
	} else {
		classify(in, rc, code, ebuf, &cx, res);
		if (cx.refused && !cx.passed)
			in->host->log(in->host, AB_LOG_WARNING, "email: channel %s: %s", in->channel,
				res->message);
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	OPENSSL_cleanse(mail, len);
	free(mail);
}

static void em_test(void *p, struct ab_result *res)
{
	struct em_inst *in = p;
	json_t *ev = rd_test_event(in->host, in->channel);
	struct ab_message m = { .kind = AB_MSG_TEST, .attempt = 1, .payload = ev,
		.id = json_string_value(json_object_get(ev, "id")) };

	if (!ev) {
		ab_result_set(res, AB_RETRY, 0, "out of memory");
		return;
	}
	em_send(in, &m, res);
	json_decref(ev);
}

static void em_destroy(void *p)
{
	if (p)
		em_free(p);
}

/* check(): the url as create() resolved it, through the host's URL check
 * (smtp:// or smtps://, the SSRF guard with allow_networks). */
static int em_check(const json_t *config, const struct ab_host *host, char *err, size_t errsz)
{
	const char *ref = json_string_value(json_object_get(config, "url"));
	json_t *nets = json_object_get(config, "allow_networks");
	char *url, **allow = NULL;
	int r;

	if (!ref)
		return 0;   /* create() refused it already */
	if (json_is_array(nets) && json_array_size(nets) &&
	    !(allow = rd_strv(nets, EM_NETS_MAX))) {
		snprintf(err, errsz, "setting 'allow_networks': must be a list of at most %d CIDR "
			"strings, e.g. [\"10.0.0.0/8\"]", EM_NETS_MAX);
		return -1;
	}
	if (!(url = rd_secret(host, "url", ref, err, errsz))) {
		rd_strv_free(allow);
		return -1;
	}
	r = rd_check_url(host, url, AB_URL_SMTP, allow, err, errsz);
	OPENSSL_cleanse(url, strlen(url));
	free(url);
	rd_strv_free(allow);
	return r;
}

static const char *const em_path_settings[] = { "ca_file", NULL };

static const struct ab_plugin em_plugin = {
	.abi = AB_PLUGIN_ABI,
	.size = sizeof(struct ab_plugin),
	.name = "email",
	.description = "re-rendered alert mail over SMTP (STARTTLS/SMTPS, AUTH)",
	.create = em_create,
	.send = em_send,
	.test = em_test,
	.flush = NULL,
	.destroy = em_destroy,
	.default_rate = 0,
	.path_settings = em_path_settings,
	.check = em_check,
	.http_prepare = NULL,
	.http_result = NULL,
	.flags = AB_PLUGIN_F_RECIPIENTS,
};

const struct ab_plugin *alertbridge_plugin(void);
const struct ab_plugin *alertbridge_plugin(void)
{
	return &em_plugin;
}
