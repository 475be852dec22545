/*
 * render.c - rendering helpers shared by the channel plugins (see render.h).
 *
 * Public (inside each plugin, not exported): rd_view_init, rd_str,
 *   rd_sev_*, rd_utf8_prefix, rd_utf8_chars, rd_put, rd_esc, rd_oneline,
 *   rd_strv, rd_strv_free, rd_secret, rd_http_parse, rd_http_free,
 *   rd_check_url, rd_http_request, rd_http_result, rd_http_send, rd_http_post,
 *   rd_no_extra, rd_jstr, rd_test_event, rd_send_test, rd_url_ok, rd_view_label,
 *   rd_view_color, rd_followup, rd_msg, rd_set_ref, rd_put_pct.
 * Diagnostics: errors name the setting ("setting 'url': ...") or the
 *   payload member at fault; HTTP failures carry the host helper's
 *   redacted message plus a short, sanitised piece of the service's answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <time.h>

#include "lib/util.h"
#include "render.h"

#define RD_LIST_MAX 64

const char *rd_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static const struct {
	const char *name, *color, *emoji, *teams, *label;
} sevs[] = {
	{ "info", "#439FE0", ":information_source:", "accent", "INFO" },
	{ "low", "#2EB67D", ":large_blue_circle:", "good", "LOW" },
	{ "medium", "#ECB22E", ":large_yellow_circle:", "warning", "MEDIUM" },
	{ "high", "#E8710A", ":large_orange_circle:", "warning", "HIGH" },
	{ "critical", "#E01E5A", ":red_circle:", "attention", "CRITICAL" },
};

int rd_sev_rank(const char *sev)
{
	for (int i = 0; i < 5; i++)
		if (sev && strcmp(sev, sevs[i].name) == 0)
			return i;
	return 0;
}

const char *rd_sev_color(const char *sev) { return sevs[rd_sev_rank(sev)].color; }
const char *rd_sev_emoji(const char *sev) { return sevs[rd_sev_rank(sev)].emoji; }
const char *rd_sev_teams(const char *sev) { return sevs[rd_sev_rank(sev)].teams; }
const char *rd_sev_label(const char *sev) { return sevs[rd_sev_rank(sev)].label; }

/* Length of the UTF-8 sequence at s (1 for an invalid byte). */
static size_t seq_len(const unsigned char *s, size_t left)
{
	size_t n = 1;

	if (s[0] >= 0xf0 && s[0] < 0xf5)
		n = 4;
	else if (s[0] >= 0xe0)
		n = s[0] < 0xf0 ? 3 : 1;
	else if (s[0] >= 0xc2)
		n = 2;
	if (n > left)
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

size_t rd_utf8_prefix(const char *s, size_t len, size_t max_chars, size_t max_bytes)
{
	size_t pos = 0, chars = 0;

	while (pos < len && chars < max_chars) {
		size_t n = seq_len((const unsigned char *)s + pos, len - pos);
		if (pos + n > max_bytes)
			break;
		pos += n;
		chars++;
	}
	return pos;
}

size_t rd_utf8_chars(const char *s)
{
	size_t len = strlen(s), pos = 0, chars = 0;

	while (pos < len) {
		pos += seq_len((const unsigned char *)s + pos, len - pos);
		chars++;
	}
	return chars;
}

/* The escaped form of one character (n bytes at p) or NULL = as is;
 * *rep_len gets its length.  buf holds replacements built on the fly. */
static const char *esc_one(const char *p, size_t n, enum rd_esc esc, bool at_start, char *buf)
{
	char c = p[0];

	if (n != 1)
		return NULL;
	switch (esc) {
	case RD_ESC_SLACK:
		if (c == '&') return "&amp;";
		if (c == '<') return "&lt;";
		if (c == '>') return "&gt;";
		return NULL;
	case RD_ESC_HTML:
		if (c == '&') return "&amp;";
		if (c == '<') return "&lt;";
		if (c == '>') return "&gt;";
		if (c == '"') return "&quot;";
		if (c == '\'') return "&#39;";
		return NULL;
	case RD_ESC_MARKDOWN:
		/* A zero-width space after '@' keeps @channel/@all/@here from pinging. */
		if (c == '@') return "@\xe2\x80\x8b";
		if (c == '<') return "&lt;";
		if (c == '>') return "&gt;";
		if (c == '&') return "&amp;";
		if (strchr("\\`*_~[]()#|!", c) || (at_start && (c == '-' || c == '+'))) {
			buf[0] = '\\';
			buf[1] = c;
			buf[2] = '\0';
			return buf;
		}
		return NULL;
	case RD_ESC_HEADER:
		if ((unsigned char)c < 0x20 || c == 0x7f) return " ";
		return NULL;
	default:
		return NULL;
	}
}

bool rd_put(struct ab_buf *b, const char *s, enum rd_esc esc, size_t max_chars)
{
	size_t len = s ? strlen(s) : 0, pos = 0, chars = 0;
	bool at_start = true;
	char tmp[4];

	if (max_chars && max_chars < 2)
		max_chars = 2;
	while (pos < len) {
		size_t n = seq_len((const unsigned char *)s + pos, len - pos);
		const char *rep = esc_one(s + pos, n, esc, at_start, tmp);
		size_t rl = rep ? strlen(rep) : n;
		size_t rc = rep ? rd_utf8_chars(rep) : 1;

		/* Room for the ellipsis must remain if more follows. */
		if (max_chars && chars + rc > max_chars - 1 && pos + n < len) {
			ab_buf_append_trunc(b, "\xe2\x80\xa6", 3);
			return true;
		}
		if (max_chars && chars + rc > max_chars) {
			ab_buf_append_trunc(b, "\xe2\x80\xa6", 3);
			return true;
		}
		if (ab_buf_append(b, rep ? rep : s + pos, rl) < 0)
			return true;
		at_start = s[pos] == '\n';
		chars += rc;
		pos += n;
	}
	return false;
}

char *rd_esc(const char *s, enum rd_esc esc, size_t max_chars)
{
	struct ab_buf b = AB_BUF_INIT(1 << 20);

	rd_put(&b, s, esc, max_chars);
	if (ab_buf_putc(&b, '\0') < 0) {
		ab_buf_free(&b);
		return NULL;
	}
	b.len--;
	return ab_buf_steal(&b);
}

static void pick_when(struct rd_view *v, const json_t *o, const char *const *keys)
{
	for (; *keys; keys++) {
		const char *t = rd_str(o, *keys);
		if (*t) {
			snprintf(v->when, sizeof v->when, "%s", t);
			return;
		}
	}
}

int rd_view_init(struct rd_view *v, const struct ab_message *msg, char *err, size_t errsz)
{
	const json_t *p = msg->payload, *g, *counts;
	static const char *const ev_times[] = { "occurred_at", "received_at", NULL };
	static const char *const g_times[] = { "last_at", "period_end", "first_at", NULL };
	struct ab_buf cb;
	int top = -1;

	memset(v, 0, sizeof *v);
	v->kind = msg->kind;
	v->id = msg->id ? msg->id : "";
	if (!json_is_object(p)) {
		snprintf(err, errsz, "payload is not a JSON object");
		return -1;
	}
	v->type = v->category = v->severity = v->source = v->tool = v->asset = "";
	v->team = v->status = v->title = v->summary = v->url = "";
	if (msg->kind == AB_MSG_EVENT || msg->kind == AB_MSG_TEST) {
		const json_t *f = json_object_get(p, "fields");
		v->type = rd_str(p, "type");
		v->category = rd_str(p, "category");
		v->severity = *rd_str(p, "severity") ? rd_str(p, "severity") : "info";
		v->source = rd_str(p, "source");
		v->tool = rd_str(p, "tool");
		v->asset = rd_str(p, "asset");
		v->team = rd_str(p, "team");
		v->status = rd_str(p, "status");
		v->title = rd_str(p, "title");
		v->summary = rd_str(p, "summary");
		v->url = rd_str(p, "url");
		if (*rd_str(p, "id"))
			v->id = rd_str(p, "id");
		v->test = msg->kind == AB_MSG_TEST || json_is_true(json_object_get(f, "test"));
		v->suppressed = json_integer_value(json_object_get(f, "throttle_suppressed"));
		pick_when(v, p, ev_times);
		if (!*v->title)
			v->title = *v->type ? v->type : "(untitled event)";
		v->resolved = !v->test && ab_resolved(v->type, v->status);
		if (msg->thread && msg->kind == AB_MSG_EVENT) {
			v->followup = true;
			v->earlier = msg->thread->count;
			if (ab_time_format_rfc3339(msg->thread->first_at, v->first_when,
					sizeof v->first_when) == 0)
				v->first_when[0] = '\0';
		}
		return 0;
	}
	g = json_object_get(p, msg->kind == AB_MSG_DIGEST ? "digest" : "group");
	if (!json_is_object(g)) {
		snprintf(err, errsz, "%s payload without a \"%s\" object",
			msg->kind == AB_MSG_DIGEST ? "digest" : "group",
			msg->kind == AB_MSG_DIGEST ? "digest" : "group");
		return -1;
	}
	v->is_group = true;
	v->items = json_object_get(p, "items");
	if (!json_is_array(v->items))
		v->items = NULL;
	v->count = json_integer_value(json_object_get(g, "count"));
	v->omitted = json_integer_value(json_object_get(p, "omitted"));
	if (v->count <= 0)
		v->count = (long long)json_array_size(v->items) + v->omitted;
	v->url = rd_str(g, "url");
	v->type = msg->kind == AB_MSG_DIGEST ? "digest" : "group";
	v->source = rd_str(g, "rule");
	pick_when(v, g, g_times);
	counts = json_object_get(g, "counts");
	ab_buf_init(&cb, sizeof v->counts - 1);
	for (int r = 4; r >= 0; r--) {
		json_int_t n = json_integer_value(json_object_get(counts, sevs[r].name));
		if (n <= 0)
			continue;
		if (top < 0)
			top = r;
		ab_buf_printf(&cb, "%s%lld %s", cb.len ? ", " : "", (long long)n, sevs[r].name);
	}
	snprintf(v->counts, sizeof v->counts, "%s", ab_buf_cstr(&cb));
	ab_buf_free(&cb);
	if (top < 0 && v->items && json_array_size(v->items))
		top = rd_sev_rank(rd_str(json_array_get(v->items, 0), "severity"));
	v->severity = sevs[top < 0 ? 0 : top].name;
	if (*rd_str(g, "title"))
		snprintf(v->title_buf, sizeof v->title_buf, "%s", rd_str(g, "title"));
	else if (msg->kind == AB_MSG_DIGEST)
		snprintf(v->title_buf, sizeof v->title_buf, "Digest %s: %lld alert%s",
			rd_str(g, "rule"), v->count, v->count == 1 ? "" : "s");
	else
		snprintf(v->title_buf, sizeof v->title_buf, "%lld alert%s (%s)", v->count,
			v->count == 1 ? "" : "s", rd_str(g, "rule"));
	v->title = v->title_buf;
	return 0;
}

void rd_put_pct(struct ab_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			ab_buf_putc(b, (char)c);
		else
			ab_buf_printf(b, "%%%02X", c);
	}
}

const char *rd_view_label(const struct rd_view *v)
{
	return v->resolved ? "RESOLVED" : rd_sev_label(v->severity);
}

const char *rd_view_color(const struct rd_view *v)
{
	return v->resolved ? "#2eb67d" : rd_sev_color(v->severity);
}

void rd_followup(const struct rd_view *v, struct ab_buf *b)
{
	if (!v->followup)
		return;
	ab_buf_printf(b, "%s the alert first sent %s.", v->resolved ? "Resolves" : "Follows up",
		v->first_when[0] ? v->first_when : "earlier");
	if (v->earlier > 1)
		ab_buf_printf(b, " Updated %u time%s since.", v->earlier - 1,
			v->earlier == 2 ? "" : "s");
}

void rd_msg(const struct ab_host *h, const struct ab_message *msg, struct ab_message *out)
{
	unsigned minor = h && AB_PLUGIN_ABI_MAJOR_OF(h->abi) == AB_PLUGIN_ABI_MAJOR ?
		AB_PLUGIN_ABI_MINOR_OF(h->abi) : 0;

	memset(out, 0, sizeof *out);
	out->kind = msg->kind;
	out->id = msg->id;
	out->attempt = msg->attempt;
	out->payload = msg->payload;
	if (minor >= 5) {
		out->payload_text = msg->payload_text;
		out->payload_len = msg->payload_len;
	}
	if (minor >= 6)
		out->thread = msg->thread;
}

void rd_set_ref(const struct ab_host *h, struct ab_result *res, const char *ref)
{
	if (h && AB_PLUGIN_ABI_MAJOR_OF(h->abi) == AB_PLUGIN_ABI_MAJOR &&
	    AB_PLUGIN_ABI_MINOR_OF(h->abi) >= 6)
		snprintf(res->ref, sizeof res->ref, "%s", ref ? ref : "");
}

char *rd_oneline(const struct rd_view *v, size_t max_chars)
{
	struct ab_buf b = AB_BUF_INIT(8192), raw = AB_BUF_INIT(8192);
	char *out;

	if (v->test)
		ab_buf_puts(&raw, "[TEST] ");
	ab_buf_printf(&raw, "[%s] %s", rd_view_label(v), v->title);
	if (v->is_group && v->counts[0])
		ab_buf_printf(&raw, " - %lld alerts: %s", v->count, v->counts);
	else if (!v->is_group && *v->asset)
		ab_buf_printf(&raw, " (%s)", v->asset);
	rd_put(&b, ab_buf_cstr(&raw), RD_ESC_HEADER, max_chars);
	ab_buf_free(&raw);
	if (ab_buf_putc(&b, '\0') < 0) {
		ab_buf_free(&b);
		return NULL;
	}
	b.len--;
	out = ab_buf_steal(&b);
	return out;
}

char **rd_strv(const json_t *arr, size_t max)
{
	size_t n = json_array_size(arr), i;
	char **v;

	if (n > max)
		return NULL;
	v = calloc(n + 1, sizeof *v);
	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (!s || !(v[i] = strdup(s))) {
			rd_strv_free(v);
			return NULL;
		}
	}
	return v;
}

void rd_strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

char *rd_secret(const struct ab_host *h, const char *name, const char *ref, char *err,
	size_t errsz)
{
	char *out = malloc(4097), why[256] = "";

	if (!out) {
		snprintf(err, errsz, "setting '%s': out of memory", name);
		return NULL;
	}
	if (h->secret(h, ref, out, 4097, why, sizeof why) < 0) {
		snprintf(err, errsz, "setting '%s': %s", name, why);
		free(out);
		return NULL;
	}
	return out;
}

int rd_http_parse(const struct ab_host *h, json_t *cfg, struct rd_http *hs, bool url_required,
	char *err, size_t errsz)
{
	json_t *v;

	memset(hs, 0, sizeof *hs);
	hs->timeout_ms = 10000;
	v = json_object_get(cfg, "url");
	if (v && !json_is_string(v)) {
		snprintf(err, errsz, "setting 'url': must be a string (the webhook URL, or "
			"enc:v1:..., file:/path, env:NAME)");
		return -1;
	}
	if (!v && url_required) {
		snprintf(err, errsz, "setting 'url': missing (the webhook URL the service gave you)");
		return -1;
	}
	if (v && !(hs->url = rd_secret(h, "url", json_string_value(v), err, errsz)))
		return -1;
	json_object_del(cfg, "url");
	if ((v = json_object_get(cfg, "allow_http"))) {
		if (!json_is_boolean(v)) {
			snprintf(err, errsz, "setting 'allow_http': must be true or false");
			goto fail;
		}
		hs->allow_http = json_is_true(v);
		json_object_del(cfg, "allow_http");
	}
	if ((v = json_object_get(cfg, "allow_networks"))) {
		if (!json_is_array(v) || !(hs->allow_networks = rd_strv(v, RD_LIST_MAX))) {
			snprintf(err, errsz, "setting 'allow_networks': must be a list of at most "
				"%d CIDR strings, e.g. [\"10.0.0.0/8\"]", RD_LIST_MAX);
			goto fail;
		}
		json_object_del(cfg, "allow_networks");
	}
	if ((v = json_object_get(cfg, "timeout"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 300) {
			snprintf(err, errsz, "setting 'timeout': seconds, 1..300");
			goto fail;
		}
		hs->timeout_ms = (long)json_integer_value(v) * 1000;
		json_object_del(cfg, "timeout");
	}
	if ((v = json_object_get(cfg, "ca_file"))) {
		if (!json_is_string(v) || !(hs->ca_file = strdup(json_string_value(v)))) {
			snprintf(err, errsz, "setting 'ca_file': must be a path to a PEM CA bundle");
			goto fail;
		}
		json_object_del(cfg, "ca_file");
	}
	if (!h->http) {
		snprintf(err, errsz, "this host offers no HTTP helper (plugin needs ABI >= 1.0 "
			"with http)");
		goto fail;
	}
	return 0;
fail:
	rd_http_free(hs);
	return -1;
}

int rd_check_url(const struct ab_host *h, const char *url, enum ab_url_kind kind,
	char *const *allow_networks, char *err, size_t errsz)
{
	char why[512] = "";
	int r;

	if (!AB_HOST_HAS(h, url_check) || !h->url_check)
		return 0;
	r = h->url_check(h, url, kind, (const char *const *)allow_networks, why, sizeof why);
	if (r == AB_URL_OK)
		return 0;
	snprintf(err, errsz, "setting '%s': %s", r == AB_URL_BAD_NETWORK ? "allow_networks" :
		"url", why[0] ? why : "refused");
	return r == AB_URL_UNRESOLVED ? 1 : -1;
}

void rd_http_free(struct rd_http *hs)
{
	if (hs->url) {
		memset(hs->url, 0, strlen(hs->url));
		free(hs->url);
	}
	rd_strv_free(hs->allow_networks);
	free(hs->ca_file);
	memset(hs, 0, sizeof *hs);
}

void rd_http_request(const struct rd_http *hs, const char *const *headers, const char *body,
	size_t len, const char *content_type, struct ab_http_request *rq)
{
	memset(rq, 0, sizeof *rq);
	rq->method = "POST";
	rq->url = hs->url;
	rq->headers = headers;
	rq->body = body;
	rq->body_len = len;
	rq->content_type = content_type;
	rq->timeout_ms = hs->timeout_ms;
	rq->allow_http = hs->allow_http;
	rq->allow_networks = (const char *const *)hs->allow_networks;
	rq->max_response = 16384;
	rq->ca_file = hs->ca_file;
}

void rd_http_result(const struct ab_http_response *rs, struct ab_result *res)
{
	char msg[AB_RESULT_MSG_MAX];

	/* rs->error is redacted and already carries the service's text
	 * ("POST https://hooks.slack.com/...: HTTP 404: no_service"). */
	if (rs->outcome == AB_OK)
		snprintf(msg, sizeof msg, "HTTP %d", rs->status);
	else
		snprintf(msg, sizeof msg, "%s", rs->error[0] ? rs->error : "request failed");
	ab_result_set(res, rs->outcome, rs->status, msg);
	res->retry_after = rs->retry_after;
}

void rd_http_send(const struct ab_host *h, const struct ab_http_request *rq,
	struct ab_result *res)
{
	struct ab_http_response rs;

	memset(&rs, 0, sizeof rs);
	h->http(h, rq, &rs);
	rd_http_result(&rs, res);
	if (h->http_free && h->size >= sizeof(struct ab_host))
		h->http_free(h, &rs);
	else
		free(rs.body);
}

void rd_http_post(const struct ab_host *h, const struct rd_http *hs, const char *const *headers,
	const char *body, size_t len, const char *content_type, struct ab_result *res)
{
	struct ab_http_request rq;

	rd_http_request(hs, headers, body, len, content_type, &rq);
	rd_http_send(h, &rq, res);
}

int rd_no_extra(const json_t *cfg, const char *plugin, char *err, size_t errsz)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)cfg, k, v) {
		(void)v;
		snprintf(err, errsz, "setting '%s': unknown setting for a %s channel", k, plugin);
		return -1;
	}
	return 0;
}

json_t *rd_jstr(const char *s, enum rd_esc esc, size_t max_chars)
{
	char *e = rd_esc(s ? s : "", esc, max_chars);
	json_t *j = e ? json_string(e) : NULL;

	free(e);
	return j;
}

json_t *rd_test_event(const struct ab_host *h, const char *channel)
{
	char when[40], title[200], id[33];
	unsigned char r[16];
	time_t t = (time_t)(h->now_ms(h) / 1000);
	struct tm tm;
	size_t i;

	/* a fresh id per test: receivers drop duplicates by id / webhook-id */
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		int64_t ms = h->now_ms(h);

		for (i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)((ms >> (8 * (i % 8))) ^ (getpid() >> (i % 4)));
	}
	for (i = 0; i < sizeof r; i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(title, sizeof title, "Test message from alertbridge to channel %.64s", channel);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:b}}",
		"id", id, "type", "system.test",
		"category", "system", "severity", "info", "source", "alertbridge",
		"tool", "alertbridge test", "title", title,
		"summary", "This is a test message sent by 'alertbridge test'. If you can read it, "
		"the channel works. No action is needed.", "received_at", when, "fields", "test", 1);
}

bool rd_url_ok(const char *s)
{
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return false;
	if (strlen(s) > 2000)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || strchr("\"<>|\\^`{}", *s) || *s == 0x7f)
			return false;
	return true;
}

void rd_send_test(const struct ab_host *h, const char *channel,
	void (*send)(void *inst, const struct ab_message *msg, struct ab_result *res),
	void *inst, struct ab_result *res)
{
	json_t *ev = rd_test_event(h, channel);
	struct ab_message m = { .kind = AB_MSG_TEST, .attempt = 1, .payload = ev,
		.id = json_string_value(json_object_get(ev, "id")) };

	if (!ev) {
		ab_result_set(res, AB_RETRY, 0, "out of memory");
		return;
	}
	send(inst, &m, res);
	json_decref(ev);
}
