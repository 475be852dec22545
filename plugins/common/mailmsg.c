/*
 * mailmsg.c - the alert mail of the e-mail channels (see mailmsg.h).
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
 * Recipients are exactly 'to', or for a message to people (ABI 1.4)
 * exactly the addresses of its "recipients", which only the host sets;
 * nothing from the event can add one.
 *
 * Public: mm_conf_parse, mm_conf_free, mm_addr_ok, mm_rcpts, mm_build.
 * Diagnostics: setting errors name the setting; build errors say why.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "lib/buf.h"
#include "mailmsg.h"
#include "render.h"
#include "tmpl.h"

bool mm_addr_ok(const char *a)
{
	const char *at = strchr(a, '@');

	if (!at || at == a || !at[1] || strlen(a) > MM_ADDR_MAX || strchr(at + 1, '@'))
		return false;
	for (; *a; a++)
		if ((unsigned char)*a <= 0x20 || strchr("<>()[],;:\"\\", *a) || *a == 0x7f)
			return false;
	return true;
}


static const char *const mm_parts[] = { "subject", "title", "body", "text", "html", NULL };

int mm_conf_parse(json_t *cfg, struct mm_conf *mc, char *err, size_t errsz)
{
	const struct ab_host *host = mc->host;   /* the caller's, kept */
	json_t *v;
	const char *s;

	memset(mc, 0, sizeof *mc);
	mc->host = host;
	if ((v = json_object_get(cfg, "from"))) {
		if (!(s = json_string_value(v)) || !mm_addr_ok(s)) {
			snprintf(err, errsz, "setting 'from': a plain address like "
				"alerts@example.com");
			return -1;
		}
		mc->from = strdup(s);
		json_object_del(cfg, "from");
	}
	if (!mc->from) {
		snprintf(err, errsz, v ? "out of memory" : "setting 'from': required, a plain "
			"address like alerts@example.com");
		return -1;
	}
	mc->domain = strdup(strchr(mc->from, '@') + 1);
	if (tmpl_set_parse(cfg, mm_parts, &mc->tpl, err, errsz) < 0)
		return -1;
	v = json_object_get(cfg, "subject_prefix");
	if (v && (!json_is_string(v) || strlen(json_string_value(v)) > 200 ||
		  strpbrk(json_string_value(v), "\r\n"))) {
		snprintf(err, errsz, "setting 'subject_prefix': must be a one-line string (at "
			"most 200 bytes)");
		return -1;
	}
	mc->prefix = strdup(v ? json_string_value(v) : "[alertbridge]");
	json_object_del(cfg, "subject_prefix");
	v = json_object_get(cfg, "to");
	if (!v) {
		mc->to = calloc(1, sizeof *mc->to);   /* none: the channel e-mails people only */
	} else if (!json_is_array(v) || !json_array_size(v) || !(mc->to = rd_strv(v, MM_RCPT_MAX))) {
		snprintf(err, errsz, "setting 'to': a list of 1 to %d addresses (leave it out "
			"for a channel that only e-mails people)", MM_RCPT_MAX);
		return -1;
	}
	if (!mc->to || !mc->domain || !mc->prefix) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; mc->to[i]; i++) {
		if (!mm_addr_ok(mc->to[i])) {
			snprintf(err, errsz, "setting 'to': '%.100s' is not a plain address",
				mc->to[i]);
			return -1;
		}
	}
	json_object_del(cfg, "to");
	return 0;
}

void mm_conf_free(struct mm_conf *mc)
{
	free(mc->from);
	free(mc->prefix);
	free(mc->domain);
	rd_strv_free(mc->to);
	tmpl_set_free(&mc->tpl);
	memset(mc, 0, sizeof *mc);
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

size_t mm_rcpts(char *const *to, const struct ab_message *msg, const char **out, char *err,
	size_t errsz)
{
	const json_t *people = json_object_get(msg->payload, "recipients"), *p;
	size_t n = 0, i;

	if (!people) {
		for (; to && to[n] && n < MM_RCPT_MAX; n++)
			out[n] = to[n];
		if (!n)
			snprintf(err, errsz, "no recipients: the channel has no 'to' (it only "
				"e-mails people) and the message names no people");
		return n;
	}
	json_array_foreach(people, i, p) {
		const char *a = json_string_value(json_object_get(p, "email"));

		if (a && mm_addr_ok(a) && n < MM_RCPT_MAX)
			out[n++] = a;
	}
	if (!n)
		snprintf(err, errsz, "no recipients: the people of this message have no usable "
			"e-mail address (set email in the users section)");
	return n;
}

char *mm_build(const struct mm_conf *in, int64_t now_ms, const struct ab_message *msg,
	const char *const *to, size_t n_to, size_t *len, bool *oom, char *err, size_t errsz)
{
	struct rd_view v, raw;
	struct ab_buf m = AB_BUF_INIT(MM_MAIL_MAX), t = AB_BUF_INIT(MM_MAIL_MAX / 4),
		h = AB_BUF_INIT(MM_MAIL_MAX / 3);
	char hash[33], idp[33], boundary[64], date[64], mid[400], subj[1200], *one;
	char *own[2] = { NULL, NULL };
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
	/* template.subject replaces the one-line summary; template.title and
	 * template.body the title and summary of the text and HTML parts, escaped
	 * there as the event's own (put_header, rd_put) */
	one = tmpl_apply(&in->tpl, "subject", in->host, NULL, &v, msg->payload, TMPL_ESC_RD,
		RD_ESC_NONE, 900);
	if (!one)
		one = rd_oneline(&v, 300);
	snprintf(subj, sizeof subj, "%s %s", in->prefix, one ? one : "alert");
	free(one);
	raw = v;   /* whole-part templates see the event before title and body change */
	tmpl_view(&in->tpl, in->host, msg->payload, &v, own);

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
	/* template.text and template.html replace a whole part (the values in
	 * HTML escaped for it); both see the event as it is */
	for (int k = 0; k < 2; k++) {
		char *whole = tmpl_apply(&in->tpl, k ? "html" : "text", in->host, NULL, &raw,
			msg->payload, TMPL_ESC_RD, k ? RD_ESC_HTML : RD_ESC_NONE, MM_MAIL_MAX / 4);

		if (whole) {
			ab_buf_reset(k ? &h : &t);
			ab_buf_puts(k ? &h : &t, whole);
			free(whole);
		}
	}
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
	free(own[0]);
	free(own[1]);
	if (m.oom || !m.data) {   /* memory, not the message: another try may work */
		ab_buf_free(&m);
		*oom = true;
		snprintf(err, errsz, "out of memory while building the mail");
		return NULL;
	}
	if (m.overflow) {
		ab_buf_free(&m);
		snprintf(err, errsz, "mail larger than %d bytes", MM_MAIL_MAX);
		return NULL;
	}
	*len = m.len;
	return ab_buf_steal(&m);
}

