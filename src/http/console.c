/*
 * console.c - the web console under /ui/: server-rendered pages of the
 * notification center for the users of the configuration - sign-in, the
 * bell (unread count) and the personal alert list (read, remove selected,
 * clear all), one alert with its event.  Plain HTML forms; a little
 * plain JavaScript (served here, no asset from elsewhere) only refreshes
 * the bell.
 *
 * Public: ab_http_get_ui, ab_http_post_ui (routes.c); for admin.c
 * (console_int.h): ab_ui_form_get, ab_ui_redirect, ab_ui_page_begin,
 * ab_ui_page_end, ab_ui_message, ab_ui_unread.
 *
 * Security: every page but the sign-in needs a session (session.h: a
 * cookie "ab_session", HttpOnly, Secure, SameSite=Strict, Path=/ui/);
 * every POST carries the session's CSRF token (the sign-in form a
 * double-submit token of its own) and is refused 403 without it; each
 * user reaches their own list only (the inbox handle is scoped to them:
 * another user's alert id is "not found"); sign-ins are throttled per
 * client address and per user name (429 with Retry-After), and an unknown
 * user costs as long as a wrong password; every answer carries a strict
 * Content-Security-Policy (no inline script or style, no frames), nosniff,
 * no referrer, no caching.  Everything from an alert is HTML-escaped;
 * links only for http(s) URLs.
 *
 * Diagnostics: sign-ins and sign-outs are logged at info (user and client
 * address, never a password or a session id); failed ones at notice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>

#include <jansson.h>

#include "http/console.h"
#include "http/console_int.h"
#include "http/session.h"
#include "lib/hmac.h"
#include "lib/log.h"
#include "lib/passwd.h"
#include "lib/util.h"
#include "deliver/runtime.h"
#include "net/cidr.h"
#include "store/inboxdb.h"
#include "store/logindb.h"
#include "store/prefsdb.h"

#define COOKIE "ab_session"
#define LOGIN_COOKIE "ab_login"
#define FORM_VALUE_MAX 1100          /* a password, a user name, a token, an id */
#define LIST_MAX 500                 /* alerts shown on the list page */
#define IDS_MAX 256                  /* alerts one "remove" takes */

static const char csp[] = "default-src 'none'; style-src 'self'; script-src 'self'; "
	"img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
	"base-uri 'none'";

/* ------------------------------------------------------------ requests */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode one application/x-www-form-urlencoded value s[0..n) into out
 * (NUL-terminated).  0, or -1 when it does not fit or has a NUL. */
static int form_decode(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			i += 2;
		}
		if (c == 0 || o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* The k-th (from 0) value of field name in a form body: 1, 0 when absent,
 * -1 when malformed. */
int ab_ui_form_get(const char *body, const char *name, int k, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	const char *p = body;

	while (p && *p) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));

		if (eq && (size_t)(eq - p) == nl && !strncmp(p, name, nl) && k-- == 0)
			return form_decode(eq + 1, (size_t)(end - eq - 1), out, outsz) < 0 ? -1 : 1;
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

/* The value of cookie name into out: 1, or 0. */
static int cookie_get(const struct ab_http_req *rq, const char *name, char *out, size_t outsz)
{
	const char *h = ab_http_header(rq, "Cookie");
	size_t nl = strlen(name);

	while (h && *h) {
		while (*h == ' ' || *h == ';')
			h++;
		const char *end = h + strcspn(h, ";");

		if (!strncmp(h, name, nl) && h[nl] == '=') {
			size_t vl = (size_t)(end - h - (long)nl - 1);

			if (vl >= outsz)
				return 0;
			memcpy(out, h + nl + 1, vl);
			out[vl] = '\0';
			return 1;
		}
		h = end;
	}
	return 0;
}

static bool token_eq(const char *a, const char *b)
{
	return strlen(a) == AB_SESSION_TOKEN_LEN && strlen(b) == AB_SESSION_TOKEN_LEN &&
		ab_mem_equal_ct(a, b, AB_SESSION_TOKEN_LEN);
}

/* ------------------------------------------------------------ answers */

static void headers(struct ab_http_resp *rs)
{
	ab_http_add_header(rs, "Content-Security-Policy", "%s", csp);
	ab_http_add_header(rs, "X-Content-Type-Options", "nosniff");
	ab_http_add_header(rs, "Referrer-Policy", "no-referrer");
	ab_http_add_header(rs, "X-Frame-Options", "DENY");
}

void ab_ui_redirect(struct ab_http_resp *rs, const char *to)
{
	rs->status = 303;
	rs->content_type = "text/html; charset=utf-8";
	ab_buf_reset(&rs->body);
	headers(rs);
	ab_http_add_header(rs, "Location", "%s", to);
}

static void set_cookie(struct ab_http_resp *rs, const char *name, const char *value,
	int64_t max_age_s)
{
	ab_http_add_header(rs, "Set-Cookie", "%s=%s; Path=/ui/; Max-Age=%lld; HttpOnly; Secure; "
		"SameSite=Strict", name, value, (long long)max_age_s);
}

void ab_ui_page_begin(struct ab_http_resp *rs, int status, const char *title,
	const struct ab_session *s, int64_t unread)
{
	struct ab_buf *b = &rs->body;

	rs->status = status;
	rs->content_type = "text/html; charset=utf-8";
	ab_buf_reset(b);
	headers(rs);
	ab_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		"<title>");
	ab_buf_put_html(b, title);
	ab_buf_puts(b, " - alertbridge</title><link rel=\"stylesheet\" href=\"/ui/static/app.css\">"
		"<script src=\"/ui/static/app.js\" defer></script></head><body>\n"
		"<header><a class=\"brand\" href=\"/ui/\">alertbridge</a>");
	if (s) {
		if (unread < 0)
			unread = 0;
		ab_buf_printf(b, "<a class=\"bell\" href=\"/ui/\" aria-label=\"%lld unread alerts\">"
			"<svg aria-hidden=\"true\" width=\"18\" height=\"18\" viewBox=\"0 0 24 24\">"
			"<path fill=\"currentColor\" d=\"M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 "
			"12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 "
			"2v1h18v-1l-2-2z\"/></svg> <span id=\"unread\" "
			"aria-live=\"polite\">%lld</span></a>", (long long)unread, (long long)unread);
		ab_buf_puts(b, "<a href=\"/ui/prefs\">Preferences</a>");
		if (s->admin)
			ab_buf_puts(b, "<a href=\"/ui/admin\">Admin</a>");
		ab_buf_puts(b, "<span class=\"who\">");
		ab_buf_put_html(b, s->user);
		ab_buf_puts(b, "</span><form method=\"post\" action=\"/ui/logout\" class=\"inline\">"
			"<input type=\"hidden\" name=\"csrf\" value=\"");
		ab_buf_puts(b, s->csrf);
		ab_buf_puts(b, "\"><button type=\"submit\">Sign out</button></form>");
	}
	ab_buf_puts(b, "</header>\n<main>\n<h1>");
	ab_buf_put_html(b, title);
	ab_buf_puts(b, "</h1>\n");
}

void ab_ui_page_end(struct ab_http_resp *rs)
{
	ab_buf_puts(&rs->body, "</main></body></html>\n");
}

void ab_ui_message(struct ab_http_resp *rs, int status, const char *title,
	const char *text, const struct ab_session *s)
{
	ab_ui_page_begin(rs, status, title, s, 0);
	ab_buf_puts(&rs->body, "<p role=\"alert\">");
	ab_buf_put_html(&rs->body, text);
	ab_buf_puts(&rs->body, "</p><p><a href=\"/ui/\">Back to the alerts</a></p>\n");
	ab_ui_page_end(rs);
}

/* ------------------------------------------------------------ state */

/* The user a trusted reverse proxy names: http.console's proxy_header,
 * taken only from one of its proxies' addresses.  1 with the name in
 * user, else 0 (a header from elsewhere is ignored and complained about). */
static int proxy_user(const struct ab_config *cfg, const struct ab_http_req *rq, char *user,
	size_t usersz)
{
	static struct ab_complaint stray = AB_COMPLAINT_INIT;
	const struct ab_http_conf *hc = cfg->http;
	unsigned char addr[16];
	const char *v;
	int af;

	if (!hc || !hc->proxy_header || !(v = ab_http_header(rq, hc->proxy_header)) || !*v)
		return 0;
	af = rq->peer && strchr(rq->peer, ':') ? AF_INET6 : AF_INET;
	if (rq->peer && inet_pton(af, rq->peer, addr) == 1)
		for (size_t i = 0; i < hc->n_proxies; i++)
			if (ab_cidr_contains(&hc->proxies[i], af, addr)) {
				ab_strlcpy(user, v, usersz);
				return strlen(v) < usersz;
			}
	ab_complain(&stray, 60000, AB_LOG_NOTICE, "console: header %s from %s ignored: not one "
		"of http.console.proxies", hc->proxy_header, rq->peer ? rq->peer : "?");
	return 0;
}

/* The signed-in user's session (still a user of the configuration), or 0.
 * A request a trusted proxy vouches for gets a session of that user (its
 * cookie set on rs), replacing one of another user. */
static int signed_in(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs, struct ab_session *s)
{
	char id[AB_SESSION_TOKEN_LEN + 8], puser[AB_SESSION_USER_MAX + 1];
	struct ab_runtime *rt = ab_http_app_runtime(app);
	const struct ab_user_conf *u;
	bool have, proxied;
	int64_t now = ab_now_ms();

	if (!rt)
		return 0;
	have = cookie_get(rq, COOKIE, id, sizeof id) && ab_session_find(id, now, s);
	proxied = proxy_user(rt->cfg, rq, puser, sizeof puser);
	if (proxied && have && strcmp(s->user, puser)) {
		ab_session_end(id);
		have = false;
	}
	u = ab_users_find(rt->cfg->users, rt->cfg->n_users, proxied ? puser : have ? s->user :
		NULL);
	if (proxied && !have && u) {
		if (ab_session_create(puser, now, s) == 0) {
			set_cookie(rs, COOKIE, s->id, AB_SESSION_LIFE_MS / 1000);
			have = true;
			ab_log(AB_LOG_INFO, "console: '%s' signed in through the proxy at %s", puser,
				rq->peer ? rq->peer : "?");
		}
	}
	if (have && !u)
		ab_session_end(s->id);   /* removed from the configuration: signed out */
	s->admin = u && u->admin;
	ab_runtime_unref(rt);
	return have && u;
}

/* The user's own alert list: the people section's inbox channel (else the
 * first inbox channel).  NULL with a message in err. */
static struct ab_inbox *open_list(struct ab_http_app *app, const char *user, char *err,
	size_t errsz)
{
	struct ab_runtime *rt = ab_http_app_runtime(app);
	const struct ab_config *cfg;
	const char *ch = NULL;
	struct ab_inbox *ib = NULL;
	char *path = NULL;

	if (!rt) {
		snprintf(err, errsz, "the daemon is reloading; try again");
		return NULL;
	}
	cfg = rt->cfg;
	if (cfg->people && cfg->people->channel[AB_VIA_INBOX])
		ch = cfg->people->channel[AB_VIA_INBOX];
	for (size_t i = 0; !ch && i < cfg->n_channels; i++)
		if (!strcmp(cfg->channels[i].type, "inbox"))
			ch = cfg->channels[i].name;
	if (!ch)
		snprintf(err, errsz, "no inbox channel is configured (people = { inbox = ... })");
	else if ((path = ab_channel_data_file(cfg, NULL, ch, err, errsz)))
		ib = ab_inbox_open(path, err, errsz);
	if (ib && ab_inbox_set_owner(ib, user) < 0) {
		snprintf(err, errsz, "%s", ab_inbox_errmsg(ib));
		ab_inbox_close(ib);
		ib = NULL;
	}
	free(path);
	ab_runtime_unref(rt);
	return ib;
}

/* The user's unread count for the bell (0 when the list cannot be read). */
int64_t ab_ui_unread(struct ab_http_app *app, const char *user)
{
	char err[256];
	struct ab_inbox *ib = open_list(app, user, err, sizeof err);
	int64_t n = ib ? ab_inbox_unread(ib) : 0;

	ab_inbox_close(ib);
	return n < 0 ? 0 : n;
}

/* ------------------------------------------------------------ pages */

static void login_page(struct ab_http_resp *rs, int status, const char *msg)
{
	char tok[AB_SESSION_TOKEN_LEN + 1];
	struct ab_buf *b = &rs->body;

	if (ab_session_token(tok) < 0) {
		ab_ui_message(rs, 500, "Sign in", "No random numbers: try again.", NULL);
		return;
	}
	ab_ui_page_begin(rs, status, "Sign in", NULL, 0);
	set_cookie(rs, LOGIN_COOKIE, tok, 3600);
	if (msg) {
		ab_buf_puts(b, "<p class=\"error\" role=\"alert\">");
		ab_buf_put_html(b, msg);
		ab_buf_puts(b, "</p>\n");
	}
	ab_buf_printf(b, "<form method=\"post\" action=\"/ui/login\" class=\"login\">"
		"<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		"<label for=\"user\">User name</label>"
		"<input id=\"user\" name=\"user\" autocomplete=\"username\" required autofocus>"
		"<label for=\"password\">Password</label>"
		"<input id=\"password\" name=\"password\" type=\"password\" "
		"autocomplete=\"current-password\" required>"
		"<button type=\"submit\">Sign in</button></form>\n", tok);
	ab_ui_page_end(rs);
}

static const char *sev_class(const char *sev)
{
	static const char *const known[] = { "critical", "high", "medium", "low", "info" };

	for (size_t i = 0; sev && i < sizeof known / sizeof known[0]; i++)
		if (!strcasecmp(sev, known[i]))
			return known[i];
	return "info";
}

static bool http_url(const char *u)
{
	return u && (!strncmp(u, "https://", 8) || !strncmp(u, "http://", 7));
}

struct list_ctx {
	struct ab_buf *b;
	int n;
};

static int list_item(const struct ab_inbox_item *it, void *arg)
{
	struct list_ctx *lc = arg;
	struct ab_buf *b = lc->b;
	json_t *p = json_loads(it->json, 0, NULL);
	const char *url = json_string_value(json_object_get(p, "url"));
	char at[AB_RFC3339_MAX];

	if (lc->n++ >= LIST_MAX) {
		json_decref(p);
		return 1;
	}
	ab_time_format_rfc3339(it->created_at, at, sizeof at);
	ab_buf_printf(b, "<li class=\"alert %s\">", it->read ? "read" : "unread");
	ab_buf_printf(b, "<input type=\"checkbox\" name=\"id\" value=\"%lld\" id=\"a%lld\" "
		"aria-label=\"select\">", (long long)it->id, (long long)it->id);
	ab_buf_printf(b, "<span class=\"sev sev-%s\">", sev_class(it->severity));
	ab_buf_put_html(b, it->severity ? it->severity : "info");
	ab_buf_printf(b, "</span> <a class=\"title\" href=\"/ui/alert/%lld\">", (long long)it->id);
	ab_buf_put_html(b, it->title ? it->title : "(no title)");
	ab_buf_puts(b, "</a> <time datetime=\"");
	ab_buf_puts(b, at);
	ab_buf_puts(b, "\">");
	ab_buf_puts(b, at);
	ab_buf_puts(b, "</time>");
	if (http_url(url)) {
		ab_buf_puts(b, " <a class=\"source\" rel=\"noopener noreferrer\" href=\"");
		ab_buf_put_html(b, url);
		ab_buf_puts(b, "\">source</a>");
	}
	if (!it->read)
		ab_buf_printf(b, " <button type=\"submit\" formaction=\"/ui/read\" name=\"read\" "
			"value=\"%lld\">Mark read</button>", (long long)it->id);
	ab_buf_puts(b, "</li>\n");
	json_decref(p);
	return 0;
}

static void list_page(struct ab_http_app *app, const struct ab_session *s,
	struct ab_http_resp *rs)
{
	struct ab_inbox *ib;
	struct list_ctx lc;
	char err[512];
	int64_t unread, total;

	if (!(ib = open_list(app, s->user, err, sizeof err))) {
		ab_ui_message(rs, 503, "Alerts", err, s);
		return;
	}
	unread = ab_inbox_unread(ib);
	total = ab_inbox_total(ib);
	ab_ui_page_begin(rs, 200, "Alerts", s, unread);
	lc.b = &rs->body;
	lc.n = 0;
	ab_buf_printf(&rs->body, "<p class=\"count\">%lld unread of %lld</p>\n",
		(long long)(unread < 0 ? 0 : unread), (long long)(total < 0 ? 0 : total));
	ab_buf_printf(&rs->body, "<form method=\"post\" action=\"/ui/remove\" id=\"list\">"
		"<input type=\"hidden\" name=\"csrf\" value=\"%s\"><ul class=\"alerts\">\n",
		s->csrf);
	if (ab_inbox_list(ib, false, list_item, &lc) < 0)
		ab_buf_puts(&rs->body, "<li role=\"alert\">The list cannot be read now.</li>\n");
	if (!lc.n)
		ab_buf_puts(&rs->body, "<li class=\"empty\">No alerts.</li>\n");
	ab_buf_puts(&rs->body, "</ul>");
	if (lc.n)
		ab_buf_puts(&rs->body, "<div class=\"actions\"><button type=\"submit\" "
			"id=\"remove\">Remove selected</button> <a class=\"button\" id=\"clear\" "
			"href=\"/ui/clear\">Clear all</a></div>");
	ab_buf_puts(&rs->body, "</form>\n");
	ab_ui_page_end(rs);
	ab_inbox_close(ib);
}

struct one_ctx {
	struct ab_buf *b;
};

static void row(struct ab_buf *b, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	ab_buf_puts(b, "<tr><th scope=\"row\">");
	ab_buf_put_html(b, name);
	ab_buf_puts(b, "</th><td>");
	if (http_url(value)) {
		ab_buf_puts(b, "<a rel=\"noopener noreferrer\" href=\"");
		ab_buf_put_html(b, value);
		ab_buf_puts(b, "\">");
		ab_buf_put_html(b, value);
		ab_buf_puts(b, "</a>");
	} else {
		ab_buf_put_html(b, value);
	}
	ab_buf_puts(b, "</td></tr>\n");
}

static int one_item(const struct ab_inbox_item *it, void *arg)
{
	struct one_ctx *oc = arg;
	struct ab_buf *b = oc->b;
	json_t *p = json_loads(it->json, 0, NULL), *v, *origin;
	const char *k;
	size_t i;
	char at[AB_RFC3339_MAX], *txt;

	ab_time_format_rfc3339(it->created_at, at, sizeof at);
	ab_buf_puts(b, "<table class=\"event\">\n");
	row(b, "Title", it->title);
	row(b, "Severity", it->severity);
	row(b, "Type", it->type);
	row(b, "Received", at);
	json_object_foreach(p, k, v) {
		if (json_is_string(v) && strcmp(k, "title") && strcmp(k, "severity") &&
		    strcmp(k, "type"))
			row(b, k, json_string_value(v));
	}
	ab_buf_puts(b, "</table>\n");
	json_array_foreach(json_object_get(p, "recipients"), i, origin) {
		const char *why = json_string_value(json_object_get(origin, "reason"));

		if (!why)
			continue;
		ab_buf_puts(b, "<p class=\"why\">Why you got it: ");
		ab_buf_put_html(b, why);
		ab_buf_puts(b, "</p>\n");
		break;
	}
	if ((v = json_object_get(p, "fields")) && json_object_size(v)) {
		ab_buf_puts(b, "<h2>Fields</h2><table class=\"event\">\n");
		json_object_foreach(v, k, origin) {
			txt = json_is_string(origin) ? NULL : json_dumps(origin, JSON_COMPACT |
				JSON_ENCODE_ANY);
			row(b, k, txt ? txt : json_string_value(origin));
			free(txt);
		}
		ab_buf_puts(b, "</table>\n");
	}
	if ((origin = json_object_get(p, "origin")) && json_object_size(origin)) {
		ab_buf_puts(b, "<h2>Origin</h2><table class=\"event\">\n");
		json_object_foreach(origin, k, v) {
			txt = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			row(b, k, txt ? txt : json_string_value(v));
			free(txt);
		}
		ab_buf_puts(b, "</table>\n");
	}
	json_decref(p);
	return 0;
}

static void alert_page(struct ab_http_app *app, const struct ab_session *s, const char *sid,
	struct ab_http_resp *rs)
{
	struct ab_inbox *ib;
	char err[512], *end;
	long long id = strtoll(sid, &end, 10);
	struct one_ctx oc;
	struct ab_buf body = AB_BUF_INIT(1024 * 1024);
	int r;

	if (*end || id <= 0) {
		ab_ui_message(rs, 404, "Not found", "There is no such alert in your list.", s);
		return;
	}
	if (!(ib = open_list(app, s->user, err, sizeof err))) {
		ab_ui_message(rs, 503, "Alert", err, s);
		return;
	}
	oc.b = &body;
	r = ab_inbox_read(ib, id, one_item, &oc);   /* reading marks it read */
	if (r <= 0) {
		ab_ui_message(rs, r == 0 ? 404 : 503, r == 0 ? "Not found" : "Alert", r == 0 ?
			"There is no such alert in your list." : "The list cannot be read now.", s);
	} else {
		ab_ui_page_begin(rs, 200, "Alert", s, ab_inbox_unread(ib));
		ab_buf_append(&rs->body, ab_buf_cstr(&body), body.len);
		ab_buf_puts(&rs->body, "<p><a href=\"/ui/\">Back to the alerts</a></p>\n");
		ab_ui_page_end(rs);
	}
	ab_buf_free(&body);
	ab_inbox_close(ib);
}

static void clear_page(const struct ab_session *s, struct ab_http_resp *rs)
{
	ab_ui_page_begin(rs, 200, "Clear all alerts?", s, 0);
	ab_buf_printf(&rs->body, "<p>This removes every alert of your list (only yours). It "
		"cannot be undone.</p><form method=\"post\" action=\"/ui/clear\">"
		"<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		"<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
		"<button type=\"submit\" id=\"confirm-clear\">Clear all</button> "
		"<a href=\"/ui/\">Cancel</a></form>\n", s->csrf);
	ab_ui_page_end(rs);
}

/* ------------------------------------------------------------ static */

static const char app_css[] =
	":root{--fg:#1b1b1b;--bg:#fff;--mute:#555;--line:#ccc;--link:#0b5cad}"
	"body{font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0}"
	"header{display:flex;gap:1em;align-items:center;flex-wrap:wrap;padding:.5em 1em;"
	"border-bottom:1px solid var(--line)}"
	"header .brand{font-weight:bold;margin-right:auto}"
	".bell{display:inline-flex;align-items:center;gap:.25em;text-decoration:none}"
	"a{color:var(--link)}main{padding:0 1em 2em;max-width:80em}"
	".inline{display:inline}button,.button{font:inherit;padding:.35em .8em;"
	"border:1px solid #444;border-radius:4px;background:#f3f3f3;color:var(--fg);"
	"text-decoration:none;cursor:pointer}"
	"button:focus,a:focus,input:focus{outline:3px solid #f0a000;outline-offset:2px}"
	"ul.alerts{list-style:none;padding:0}"
	"li.alert{padding:.5em 0;border-bottom:1px solid var(--line);display:flex;gap:.5em;"
	"flex-wrap:wrap;align-items:center}"
	"li.unread .title{font-weight:bold}li.read .title{color:var(--mute)}"
	".sev{font-size:.8em;padding:.1em .5em;border-radius:3px;color:#fff;text-transform:uppercase}"
	".sev-critical{background:#8b0000}.sev-high{background:#b23c00}.sev-medium{background:#7a5c00}"
	".sev-low{background:#245e9f}.sev-info{background:#4d4d4d}"
	"time{color:var(--mute);font-size:.9em}.error{color:#8b0000}"
	"form.login{display:grid;gap:.4em;max-width:20em}"
	"table.event{border-collapse:collapse}table.event th,table.event td{text-align:left;"
	"padding:.2em .6em;border-bottom:1px solid var(--line);vertical-align:top;"
	"overflow-wrap:break-word}table.event th[scope=col]{white-space:nowrap}"
	".actions{margin-top:1em;display:flex;gap:1em}"
	"table.prefs{border-collapse:collapse;margin-bottom:1em}table.prefs th,table.prefs td{"
	"padding:.3em .6em;border-bottom:1px solid var(--line);text-align:left}"
	".kept{color:var(--mute)}.saved{color:#1b5e20}.scroll{overflow-x:auto}"
	".state-failing,.result-permanent{color:#8b0000;font-weight:bold}"
	".state-disabled{color:var(--mute)}.filters{margin-bottom:.5em}\n";

/* The bell: the unread count live from /ui/events (Server-Sent Events),
 * polling /ui/unread where EventSource is missing or closed; preferences:
 * save on change.  The pages work without it. */
static const char app_js[] =
	"'use strict';\n"
	"(function () {\n"
	"  var el = document.getElementById('unread');\n"
	"  if (!el) return;\n"
	"  function show(n) {\n"
	"    el.textContent = String(n);\n"
	"    el.parentNode.setAttribute('aria-label', n + ' unread alerts');\n"
	"  }\n"
	"  function poll() {\n"
	"    if (!window.fetch) return;\n"
	"    setInterval(function () {\n"
	"      fetch('/ui/unread', { credentials: 'same-origin' }).then(function (r) {\n"
	"        return r.ok ? r.json() : null;\n"
	"      }).then(function (j) {\n"
	"        if (j && typeof j.unread === 'number') show(j.unread);\n"
	"      }).catch(function () {});\n"
	"    }, 5000);\n"
	"  }\n"
	"  if (!window.EventSource) { poll(); return; }\n"
	"  var es = new EventSource('/ui/events'), fails = 0;\n"
	"  es.addEventListener('unread', function (m) { fails = 0; show(Number(m.data)); });\n"
	"  es.onerror = function () {\n"
	"    if (++fails >= 3 || es.readyState === EventSource.CLOSED) { es.close(); poll(); }\n"
	"  };\n"
	"})();\n"
	"(function () {\n"
	"  var f = document.getElementById('prefs');\n"
	"  if (!f) return;\n"
	"  f.addEventListener('change', function () {\n"
	"    if (f.requestSubmit) f.requestSubmit(); else f.submit();\n"
	"  });\n"
	"})();\n";

static void static_file(struct ab_http_resp *rs, const char *type, const char *body)
{
	rs->status = 200;
	rs->content_type = type;
	ab_buf_reset(&rs->body);
	headers(rs);
	ab_buf_puts(&rs->body, body);
}

/* ------------------------------------------------------------ preferences */

/* The matrix's rows, grouped as the product pages group notifications;
 * each row is one type glob of the user's preferences. */
static const struct pref_group {
	const char *key;      /* form field part */
	const char *label;
	const char *pattern;  /* the preference's type glob */
	const char *sample;   /* a type of the group, for the override note */
} groups[] = {
	{ "findings", "Findings", "finding.*", "finding.created" },
	{ "scans", "Scans", "scan.*", "scan.completed" },
	{ "sla", "SLA", "sla.*", "sla.breached" },
	{ "compliance", "Compliance", "compliance.*", "compliance.drift_detected" },
	{ "exceptions", "Exceptions", "exception.*", "exception.requested" },
	{ "risk", "Risk acceptance", "risk_acceptance.*", "risk_acceptance.expiring" },
	{ "reviews", "Review requests", "review.*", "review.requested" },
	{ "mentions", "Mentions", "*.mentioned", "user.mentioned" },
	{ "system", "System", "system.*", "system.event" },
};
#define N_GROUPS (sizeof groups / sizeof groups[0])

static const char *const kind_label[AB_VIA_COUNT] = { "E-mail", "In-app", "Chat" };

/* The user's own row for pattern and kind: 1 on, 0 off, -1 none. */
static int pref_value(const struct ab_prefs *p, const char *user, const char *pattern,
	const char *kind)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (!strcmp(p->rows[i].user, user) && !strcmp(p->rows[i].pattern, pattern) &&
		    !strcmp(p->rows[i].kind, kind))
			return p->rows[i].on ? 1 : 0;
	return -1;
}

static bool kept_on(const struct ab_config *cfg, const char *sample)
{
	for (size_t i = 0; cfg->people && i < cfg->people->n_override; i++)
		if (ab_glob_match(cfg->people->system_override[i], sample))
			return true;
	return false;
}

static void prefs_page(struct ab_http_app *app, const struct ab_session *s,
	struct ab_http_resp *rs, const char *note)
{
	struct ab_runtime *rt = ab_http_app_runtime(app);
	struct ab_store *st;
	const struct ab_prefs *p;
	struct ab_buf *b = &rs->body;
	char err[512];

	if (!rt || !(st = ab_store_open(app->store_path, err, sizeof err))) {
		ab_ui_message(rs, 503, "Preferences", rt ? err : "the daemon is reloading", s);
		ab_runtime_unref(rt);
		return;
	}
	if (!(p = ab_prefs_current(st))) {
		ab_ui_message(rs, 503, "Preferences", ab_store_errmsg(st), s);
		goto done;
	}
	ab_ui_page_begin(rs, 200, "Preferences", s, ab_ui_unread(app, s->user));
	if (note) {
		ab_buf_puts(b, "<p class=\"saved\" role=\"status\">");
		ab_buf_put_html(b, note);
		ab_buf_puts(b, "</p>\n");
	}
	ab_buf_puts(b, "<p>For each kind of alert and each way of reaching you: <b>as the "
		"rules say</b> (what your team's rules send you), <b>on</b> (also what no rule "
		"sends you, of your teams) or <b>off</b>. Changes apply to the next alert.</p>\n");
	ab_buf_printf(b, "<form method=\"post\" action=\"/ui/prefs\" id=\"prefs\">"
		"<input type=\"hidden\" name=\"csrf\" value=\"%s\"><div class=\"scroll\"><table class=\"prefs\">"
		"<thead><tr><th scope=\"col\">Alerts</th>", s->csrf);
	for (int k = 0; k < AB_VIA_COUNT; k++)
		ab_buf_printf(b, "<th scope=\"col\">%s</th>", kind_label[k]);
	ab_buf_puts(b, "</tr></thead><tbody>\n");
	for (size_t g = 0; g < N_GROUPS; g++) {
		bool kept = kept_on(rt->cfg, groups[g].sample);

		ab_buf_printf(b, "<tr><th scope=\"row\">%s%s</th>", groups[g].label, kept ?
			" <small class=\"kept\">(kept on by the system)</small>" : "");
		for (int k = 0; k < AB_VIA_COUNT; k++) {
			int v = pref_value(p, s->user, groups[g].pattern, ab_via_name((enum ab_via)k));

			ab_buf_printf(b, "<td><select name=\"%s.%s\" aria-label=\"%s by %s\">"
				"<option value=\"rule\"%s>as the rules say</option>"
				"<option value=\"on\"%s>on</option>"
				"<option value=\"off\"%s>off</option></select></td>",
				groups[g].key, ab_via_name((enum ab_via)k), groups[g].label,
				kind_label[k], v < 0 ? " selected" : "", v == 1 ? " selected" : "",
				v == 0 ? " selected" : "");
		}
		ab_buf_puts(b, "</tr>\n");
	}
	ab_buf_puts(b, "</tbody></table></div><button type=\"submit\" id=\"save\">Save</button>"
		"</form>\n");
	ab_ui_page_end(rs);
done:
	ab_store_close(st);
	ab_runtime_unref(rt);
}

static void save_prefs(struct ab_http_app *app, const struct ab_http_req *rq,
	const struct ab_session *s, struct ab_http_resp *rs)
{
	struct ab_store *st;
	char err[512], field[64], v[16];
	int64_t now = ab_now_ms();
	int changed = 0, rc = 0;

	if (!(st = ab_store_open(app->store_path, err, sizeof err))) {
		ab_ui_message(rs, 503, "Preferences", err, s);
		return;
	}
	for (size_t g = 0; rc >= 0 && g < N_GROUPS; g++) {
		for (int k = 0; rc >= 0 && k < AB_VIA_COUNT; k++) {
			const char *kind = ab_via_name((enum ab_via)k);

			snprintf(field, sizeof field, "%s.%s", groups[g].key, kind);
			if (ab_ui_form_get(rq->body, field, 0, v, sizeof v) != 1)
				continue;   /* not in the form: left as it is */
			if (!strcmp(v, "rule"))
				rc = ab_prefs_unset(st, s->user, groups[g].pattern, kind);
			else if (!strcmp(v, "on") || !strcmp(v, "off"))
				rc = ab_prefs_set(st, s->user, groups[g].pattern, kind,
					!strcmp(v, "on"), now);
			changed += strcmp(v, "rule") != 0;
		}
	}
	ab_store_close(st);
	if (rc < 0) {
		ab_ui_message(rs, 503, "Preferences", "The preferences cannot be saved now.", s);
		return;
	}
	ab_log(AB_LOG_INFO, "console: '%s' saved their preferences (%d set)", s->user, changed);
	prefs_page(app, s, rs, "Saved: the next alerts follow your preferences.");
}

/* ------------------------------------------------------------ live updates */

#define SSE_POLL_MS 500              /* how often the list is looked at */
#define SSE_PING_MS 10000            /* a comment line this often keeps it open */
#define SSE_LIFE_MS (10 * 60 * 1000) /* then the browser reconnects by itself */

/* One open event stream: the user's list, what the browser was told last. */
struct sse {
	struct ab_http_app *app;
	struct ab_inbox *ib;
	char sid[AB_SESSION_TOKEN_LEN + 1];
	int64_t sent, started, last_write;
	bool first;
};

static long sse_next(void *ctx, char *buf, size_t max)
{
	struct sse *e = ctx;
	struct ab_session s;

	for (;;) {
		int64_t now = ab_now_ms(), n;

		if (now - e->started > SSE_LIFE_MS || !ab_session_find(e->sid, now, &s) ||
		    __atomic_load_n(&e->app->stopping, __ATOMIC_ACQUIRE))
			return -1;   /* over, signed out, or the daemon stops: the stream ends */
		n = ab_inbox_unread(e->ib);
		if (n >= 0 && (e->first || n != e->sent)) {
			e->first = false;
			e->sent = n;
			e->last_write = now;
			return snprintf(buf, max, "event: unread\ndata: %lld\n\n", (long long)n);
		}
		if (now - e->last_write >= SSE_PING_MS) {
			e->last_write = now;
			return snprintf(buf, max, ": ping\n\n");
		}
		nanosleep(&(struct timespec){ 0, SSE_POLL_MS * 1000000L }, NULL);
	}
}

static void sse_free(void *ctx)
{
	struct sse *e = ctx;

	ab_inbox_close(e->ib);
	free(e);
}

/* GET /ui/events: Server-Sent Events, "unread" with the count whenever it
 * changes (and once at the start). */
static void events_stream(struct ab_http_app *app, const struct ab_http_req *rq,
	const struct ab_session *s, struct ab_http_resp *rs)
{
	struct sse *e = calloc(1, sizeof *e);
	char err[512];

	if (!e || !(e->ib = open_list(app, s->user, err, sizeof err))) {
		ab_http_error(rs, 503, NULL, "%s", e ? err : "out of memory");
		free(e);
		return;
	}
	if (!cookie_get(rq, COOKIE, e->sid, sizeof e->sid)) {
		sse_free(e);
		ab_http_error(rs, 401, NULL, "sign in first");
		return;
	}
	e->app = app;
	e->started = e->last_write = ab_now_ms();
	e->first = true;
	rs->status = 200;
	rs->content_type = "text/event-stream";
	ab_buf_reset(&rs->body);
	headers(rs);
	rs->stream = sse_next;
	rs->stream_ctx = e;
	rs->stream_free = sse_free;
}

/* ------------------------------------------------------------ handlers */

void ab_http_get_ui(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs)
{
	const char *sub = rq->path + 4;   /* after "/ui/" */
	struct ab_session s;

	if (!strcmp(sub, "static/app.css")) {
		static_file(rs, "text/css; charset=utf-8", app_css);
		return;
	}
	if (!strcmp(sub, "static/app.js")) {
		static_file(rs, "text/javascript; charset=utf-8", app_js);
		return;
	}
	if (!strcmp(sub, "login")) {
		if (signed_in(app, rq, rs, &s))
			ab_ui_redirect(rs, "/ui/");
		else
			login_page(rs, 200, NULL);
		return;
	}
	if (!signed_in(app, rq, rs, &s)) {
		if (!strcmp(sub, "unread") || !strcmp(sub, "events")) {
			ab_http_error(rs, 401, NULL, "sign in first");
			return;
		}
		ab_ui_redirect(rs, "/ui/login");
		return;
	}
	if (!*sub) {
		list_page(app, &s, rs);
	} else if (!strncmp(sub, "alert/", 6)) {
		alert_page(app, &s, sub + 6, rs);
	} else if (!strcmp(sub, "clear")) {
		clear_page(&s, rs);
	} else if (!strcmp(sub, "prefs")) {
		prefs_page(app, &s, rs, NULL);
	} else if (!strcmp(sub, "admin")) {
		ab_ui_admin_get(app, &s, rq, rs);
	} else if (!strcmp(sub, "events")) {
		events_stream(app, rq, &s, rs);
	} else if (!strcmp(sub, "unread")) {
		char err[512];
		struct ab_inbox *ib = open_list(app, s.user, err, sizeof err);
		int64_t n = ib ? ab_inbox_unread(ib) : -1;

		if (n < 0)
			ab_http_error(rs, 503, NULL, "%s", ib ? "the list cannot be read now" : err);
		else
			ab_http_json(rs, 200, json_pack("{s:I}", "unread", (json_int_t)n));
		ab_inbox_close(ib);
		headers(rs);
	} else {
		ab_ui_message(rs, 404, "Not found", "There is no such page.", &s);
	}
}

static void do_login(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs)
{
	char user[FORM_VALUE_MAX], pw[FORM_VALUE_MAX], tok[FORM_VALUE_MAX], ctok[FORM_VALUE_MAX];
	char ukey[AB_SESSION_USER_MAX + 16], hash[AB_PASSWD_HASH_MAX], err[256];
	const char *peer = rq->peer ? rq->peer : "?";
	struct ab_runtime *rt;
	struct ab_store *st;
	struct ab_session s;
	bool known = false, ok;
	int64_t now = ab_now_ms();
	int wait, got = 0;

	if (ab_ui_form_get(rq->body, "csrf", 0, tok, sizeof tok) != 1 ||
	    !cookie_get(rq, LOGIN_COOKIE, ctok, sizeof ctok) || !token_eq(tok, ctok)) {
		login_page(rs, 403, "The form expired: sign in again.");
		return;
	}
	if (ab_ui_form_get(rq->body, "user", 0, user, sizeof user) != 1 || !*user ||
	    strlen(user) > AB_SESSION_USER_MAX ||
	    ab_ui_form_get(rq->body, "password", 0, pw, sizeof pw) != 1) {
		login_page(rs, 400, "Give a user name and a password.");
		return;
	}
	snprintf(ukey, sizeof ukey, "user:%s", user);
	wait = ab_login_wait(peer, now);
	if (!wait)
		wait = ab_login_wait(ukey, now);
	if (wait) {
		ab_log(AB_LOG_NOTICE, "console: sign-in of '%s' from %s refused: too many failed "
			"attempts (wait %d s)", user, peer, wait);
		login_page(rs, 429, "Too many failed sign-ins: wait a few minutes.");
		ab_http_add_header(rs, "Retry-After", "%d", wait);
		explicit_bzero(pw, sizeof pw);
		return;
	}
	if ((rt = ab_http_app_runtime(app))) {
		known = ab_users_find(rt->cfg->users, rt->cfg->n_users, user) != NULL;
		ab_runtime_unref(rt);
	}
	if (known && (st = ab_store_open(app->store_path, err, sizeof err))) {
		got = ab_login_get(st, user, hash, sizeof hash);
		ab_store_close(st);
	} else if (known) {
		got = -1;
	}
	if (got < 0) {
		explicit_bzero(pw, sizeof pw);
		login_page(rs, 503, "Sign-in is not possible now (the store cannot be read).");
		return;
	}
	ok = ab_passwd_verify(got == 1 ? hash : NULL, pw, strlen(pw)) == 1;
	explicit_bzero(pw, sizeof pw);
	if (!ok) {
		ab_login_failed(peer, now);
		ab_login_failed(ukey, now);
		ab_log(AB_LOG_NOTICE, "console: failed sign-in of '%s' from %s", user, peer);
		login_page(rs, 401, "Wrong user name or password.");
		return;
	}
	ab_login_succeeded(ukey);
	ab_login_succeeded(peer);
	if (ab_session_create(user, now, &s) < 0) {
		login_page(rs, 500, "Could not sign in: try again.");
		return;
	}
	ab_log(AB_LOG_INFO, "console: '%s' signed in from %s", user, peer);
	ab_ui_redirect(rs, "/ui/");
	set_cookie(rs, COOKIE, s.id, AB_SESSION_LIFE_MS / 1000);
	set_cookie(rs, LOGIN_COOKIE, "", 0);
}

/* The ids of a remove form into ids; their count, or -1 for a bad one. */
static int form_ids(const char *body, const char *name, int64_t *ids, int max)
{
	char v[32], *end;
	int n = 0, r;

	while (n < max && (r = ab_ui_form_get(body, name, n, v, sizeof v)) == 1) {
		long long id = strtoll(v, &end, 10);

		if (*end || id <= 0)
			return -1;
		ids[n++] = id;
	}
	return r < 0 ? -1 : n;
}

void ab_http_post_ui(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs)
{
	const char *sub = rq->path + 4;
	char tok[FORM_VALUE_MAX], id[AB_SESSION_TOKEN_LEN + 8], err[512];
	struct ab_session s;
	struct ab_inbox *ib;
	int64_t ids[IDS_MAX];
	int n;

	if (!strcmp(sub, "login")) {
		do_login(app, rq, rs);
		return;
	}
	if (!signed_in(app, rq, rs, &s)) {
		ab_ui_message(rs, 401, "Signed out", "Your session has ended: sign in again.", NULL);
		return;
	}
	if (ab_ui_form_get(rq->body, "csrf", 0, tok, sizeof tok) != 1 || !token_eq(tok, s.csrf)) {
		ab_ui_message(rs, 403, "Refused", "The form did not come from this session "
			"(missing or wrong CSRF token): reload the page and try again.", &s);
		return;
	}
	if (!strcmp(sub, "logout")) {
		if (cookie_get(rq, COOKIE, id, sizeof id))
			ab_session_end(id);
		ab_log(AB_LOG_INFO, "console: '%s' signed out", s.user);
		ab_ui_redirect(rs, "/ui/login");
		set_cookie(rs, COOKIE, "", 0);
		return;
	}
	if (!strcmp(sub, "prefs")) {
		save_prefs(app, rq, &s, rs);
		return;
	}
	if (!strncmp(sub, "admin/", 6)) {
		ab_ui_admin_post(app, &s, sub + 6, rq, rs);
		return;
	}
	if (strcmp(sub, "read") && strcmp(sub, "remove") && strcmp(sub, "clear")) {
		ab_ui_message(rs, 404, "Not found", "There is no such action.", &s);
		return;
	}
	if (!(ib = open_list(app, s.user, err, sizeof err))) {
		ab_ui_message(rs, 503, "Alerts", err, &s);
		return;
	}
	if (!strcmp(sub, "read")) {
		n = form_ids(rq->body, "read", ids, 1);
		if (n == 1 && ab_inbox_mark_read(ib, ids[0]) >= 0)
			ab_ui_redirect(rs, "/ui/");
		else
			ab_ui_message(rs, n == 1 ? 503 : 400, "Alerts", "Nothing was marked read.", &s);
	} else if (!strcmp(sub, "remove")) {
		n = form_ids(rq->body, "id", ids, IDS_MAX);
		if (n < 0)
			ab_ui_message(rs, 400, "Alerts", "A selected alert id is not valid.", &s);
		else if (n == 0)
			ab_ui_message(rs, 400, "Alerts", "Select the alerts to remove first.", &s);
		else if (ab_inbox_remove(ib, ids, (size_t)n) < 0)
			ab_ui_message(rs, 503, "Alerts", "The list cannot be changed now.", &s);
		else
			ab_ui_redirect(rs, "/ui/");
	} else if (ab_ui_form_get(rq->body, "confirm", 0, tok, sizeof tok) != 1 ||
		   strcmp(tok, "yes")) {
		ab_ui_redirect(rs, "/ui/clear");
	} else if (ab_inbox_clear(ib) < 0) {
		ab_ui_message(rs, 503, "Alerts", "The list cannot be changed now.", &s);
	} else {
		ab_ui_redirect(rs, "/ui/");
	}
	ab_inbox_close(ib);
}
