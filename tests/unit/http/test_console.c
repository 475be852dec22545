/*
 * test_console.c - the web console's pieces without a browser: Argon2id
 * hashes (lib/passwd), the console's accounts in the store (logindb),
 * sessions (idle and absolute expiry, sign-out, per-user end), the sign-in
 * throttle, header values that cannot split a response, the HTML escaper,
 * and the /ui/ handlers through the daemon's route table: the sign-in with
 * its double-submit token, a wrong password and an unknown user (the same
 * answer), the session cookie's flags, CSRF on every POST, a user's own
 * list only, form parsing (several ids, percent-encoding), the security
 * headers.  tests/integration/console_browser.sh drives it in Chromium.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "config/config.h"
#include "deliver/runtime.h"
#include "http/router.h"
#include "http/routes.h"
#include "http/session.h"
#include "lib/buf.h"
#include "lib/passwd.h"
#include "lib/util.h"
#include "store/inboxdb.h"
#include "store/logindb.h"
#include "store/store.h"
#include "../harness/testutil.h"

static char *dir;
static struct ab_http_app app;
static char inbox_path[512];

static int setup(void **state)
{
	char *errors = NULL, *conf, text[4096], err[256], hash[AB_PASSWD_HASH_MAX];
	const char *stage = getenv("AB_PLUGIN_STAGE");
	struct ab_config *cfg;
	struct ab_store *st;

	(void)state;
	dir = tu_tmpdir();
	conf = tu_path(dir, "ab.conf");
	snprintf(text, sizeof text, "state_dir = \"%s\";\nplugin_dir = \"%s\";\n"
		"channels = ( { name = \"inbox\"; type = \"inbox\"; path = \"inbox.db\"; } );\n"
		"users = ( { name = \"alice\"; teams = [\"t\"]; },\n"
		"          { name = \"bob\"; teams = [\"t\"]; } );\n"
		"people = { inbox = \"inbox\"; };\n"
		"default = [\"inbox\"];\n"
		"http = { listen = \"127.0.0.1:1\"; console = { proxy_header = \"X-Remote-User\";\n"
		"         proxies = [\"192.0.2.100/32\", \"2001:db8::1\"]; }; };\n", dir, stage && *stage ? stage :
		"plugins/built");
	tu_write(conf, text);
	if (!(cfg = ab_config_load(conf, &errors)))
		fail_msg("config: %s", errors ? errors : "?");
	free(conf);
	memset(&app, 0, sizeof app);
	pthread_mutex_init(&app.mu, NULL);
	app.store_path = strdup(cfg->store_path);
	if (!(app.rt = ab_runtime_build(cfg, NULL, &errors)))
		fail_msg("runtime: %s", errors ? errors : "?");
	assert_non_null(st = ab_store_open(app.store_path, err, sizeof err));
	assert_int_equal(ab_passwd_hash("alice-password", 14, hash, sizeof hash, err,
		sizeof err), 0);
	assert_int_equal(ab_login_set(st, "alice", hash, 1), 0);
	ab_store_close(st);
	snprintf(inbox_path, sizeof inbox_path, "%s/inbox.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ab_runtime_unref(app.rt);
	free(app.store_path);
	tu_rm_rf(dir);
	free(dir);
	return 0;
}

/* Requests: a Cookie header and an X-Remote-User header, nothing else. */
struct hdrs {
	const char *cookie, *remote;
};

static const char *test_header(void *ctx, const char *name)
{
	const struct hdrs *h = ctx;

	return !strcasecmp(name, "Cookie") ? h->cookie : !strcasecmp(name, "X-Remote-User") ?
		h->remote : NULL;
}

static int call_from(const char *peer, const char *remote, const char *method,
	const char *path, const char *cookie, const char *body, struct ab_http_resp *rs)
{
	struct hdrs h = { cookie, remote };
	struct ab_http_req rq = { .method = method, .path = path, .peer = peer,
				  .body = body ? body : "", .body_len = body ? strlen(body) : 0,
				  .header = test_header, .header_ctx = &h };

	ab_http_resp_init(rs);
	ab_http_dispatch(&app, ab_http_routes, ab_http_n_routes, &rq, rs);
	return rs->status;
}

static int call(const char *method, const char *path, const char *cookie, const char *body,
	struct ab_http_resp *rs)
{
	return call_from("192.0.2.7", NULL, method, path, cookie, body, rs);
}

static const char *hdr(const struct ab_http_resp *rs, const char *name, int k)
{
	for (size_t i = 0; i < rs->n_hdrs; i++)
		if (!strcasecmp(rs->hdrs[i].name, name) && k-- == 0)
			return rs->hdrs[i].value;
	return NULL;
}

/* The value of a hidden csrf input of the page, into out. */
static void csrf_of(const struct ab_http_resp *rs, char *out, size_t outsz)
{
	const char *p = strstr(ab_buf_cstr(&rs->body), "name=\"csrf\" value=\"");

	assert_non_null(p);
	p += strlen("name=\"csrf\" value=\"");
	snprintf(out, outsz, "%.*s", (int)strcspn(p, "\""), p);
}

static void test_passwd(void **state)
{
	char h1[AB_PASSWD_HASH_MAX], h2[AB_PASSWD_HASH_MAX], err[128];

	(void)state;
	assert_int_equal(ab_passwd_hash("s3cret-pass", 11, h1, sizeof h1, err, sizeof err), 0);
	assert_int_equal(ab_passwd_hash("s3cret-pass", 11, h2, sizeof h2, err, sizeof err), 0);
	assert_true(!strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31));
	assert_string_not_equal(h1, h2);                 /* a salt of its own */
	assert_int_equal(ab_passwd_verify(h1, "s3cret-pass", 11), 1);
	assert_int_equal(ab_passwd_verify(h1, "s3cret-pasS", 11), 0);
	assert_int_equal(ab_passwd_verify("$argon2id$garbage", "x", 1), 0);
	assert_int_equal(ab_passwd_verify(NULL, "x", 1), 0);
}

static void test_sessions(void **state)
{
	struct ab_session s, f;

	(void)state;
	ab_session_reset();
	assert_int_equal(ab_session_create("alice", 1000, &s), 0);
	assert_int_equal(strlen(s.id), AB_SESSION_TOKEN_LEN);
	assert_string_not_equal(s.id, s.csrf);
	assert_int_equal(ab_session_find(s.id, 2000, &f), 1);
	assert_string_equal(f.user, "alice");
	assert_string_equal(f.csrf, s.csrf);
	assert_int_equal(ab_session_find("x", 2000, &f), 0);
	/* idle: used every hour it lives on; unused for 2 h it ends */
	for (int64_t t = 3600000; t < AB_SESSION_LIFE_MS - 3600000; t += 3600000)
		assert_int_equal(ab_session_find(s.id, t, &f), 1);
	assert_int_equal(ab_session_find(s.id, AB_SESSION_LIFE_MS + 1000, &f), 0);
	assert_int_equal(ab_session_create("alice", 1000, &s), 0);
	assert_int_equal(ab_session_find(s.id, 1000 + AB_SESSION_IDLE_MS + 1, &f), 0);
	assert_int_equal(ab_session_create("alice", 1000, &s), 0);
	ab_session_end(s.id);
	assert_int_equal(ab_session_find(s.id, 1001, &f), 0);
	assert_int_equal(ab_session_create("bob", 1000, &s), 0);
	assert_int_equal(ab_session_create("bob", 1000, &f), 0);
	assert_int_equal(ab_session_end_user("bob"), 2);
	assert_int_equal(ab_session_find(s.id, 1001, &f), 0);
}

static void test_throttle(void **state)
{
	(void)state;
	ab_session_reset();
	for (int i = 0; i < AB_LOGIN_FAILS; i++) {
		assert_int_equal(ab_login_wait("192.0.2.1", 1000 + i), 0);
		ab_login_failed("192.0.2.1", 1000 + i);
	}
	assert_true(ab_login_wait("192.0.2.1", 2000) > 0);
	assert_int_equal(ab_login_wait("192.0.2.2", 2000), 0);     /* another client */
	assert_int_equal(ab_login_wait("192.0.2.1", 1000 + AB_LOGIN_WINDOW_MS), 0);
	ab_login_failed("user:x", 1);
	ab_login_succeeded("user:x");
	assert_int_equal(ab_login_wait("user:x", 2), 0);
}

static void test_header_and_html(void **state)
{
	struct ab_http_resp rs;
	struct ab_buf b = AB_BUF_INIT(1024);

	(void)state;
	ab_http_resp_init(&rs);
	assert_int_equal(ab_http_add_header(&rs, "X-A", "%s", "ok"), 0);
	assert_int_equal(ab_http_add_header(&rs, "Location", "%s", "/x\r\nSet-Cookie: y=1"), -1);
	assert_int_equal(rs.n_hdrs, 1);
	ab_http_resp_free(&rs);
	ab_buf_put_html(&b, "<a href=\"x\">'&'</a>");
	assert_string_equal(ab_buf_cstr(&b), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
	ab_buf_free(&b);
}

/* Sign in as alice through the handlers; the session cookie into cookie. */
static void sign_in(char *cookie, size_t cookiesz)
{
	struct ab_http_resp rs;
	char tok[80], lc[120], body[512];
	const char *sc;

	assert_int_equal(call("GET", "/ui/login", NULL, NULL, &rs), 200);
	csrf_of(&rs, tok, sizeof tok);
	snprintf(lc, sizeof lc, "ab_login=%s", tok);
	ab_http_resp_free(&rs);
	snprintf(body, sizeof body, "csrf=%s&user=alice&password=alice%%2Dpassword", tok);
	assert_int_equal(call("POST", "/ui/login", lc, body, &rs), 303);
	assert_string_equal(hdr(&rs, "Location", 0), "/ui/");
	assert_non_null(sc = hdr(&rs, "Set-Cookie", 0));
	assert_non_null(strstr(sc, "; HttpOnly; Secure; SameSite=Strict"));
	assert_non_null(strstr(sc, "Path=/ui/"));
	snprintf(cookie, cookiesz, "%.*s", (int)strcspn(sc, ";"), sc);
	ab_http_resp_free(&rs);
}

static void test_login(void **state)
{
	struct ab_http_resp rs;
	char tok[80], lc[120], body[512], a[600], b[600];

	(void)state;
	ab_session_reset();
	assert_int_equal(call("GET", "/ui/", NULL, NULL, &rs), 303);      /* no session */
	assert_string_equal(hdr(&rs, "Location", 0), "/ui/login");
	ab_http_resp_free(&rs);
	assert_int_equal(call("GET", "/ui/login", NULL, NULL, &rs), 200);
	assert_non_null(strstr(hdr(&rs, "Content-Security-Policy", 0), "default-src 'none'"));
	assert_string_equal(hdr(&rs, "X-Content-Type-Options", 0), "nosniff");
	csrf_of(&rs, tok, sizeof tok);
	ab_http_resp_free(&rs);
	/* without the login cookie's token: refused */
	snprintf(body, sizeof body, "csrf=%s&user=alice&password=alice-password", tok);
	assert_int_equal(call("POST", "/ui/login", NULL, body, &rs), 403);
	ab_http_resp_free(&rs);
	snprintf(lc, sizeof lc, "ab_login=%s", tok);
	/* a wrong password and an unknown user: the same words */
	snprintf(body, sizeof body, "csrf=%s&user=alice&password=nope", tok);
	assert_int_equal(call("POST", "/ui/login", lc, body, &rs), 401);
	snprintf(a, sizeof a, "%s", strstr(ab_buf_cstr(&rs.body), "<p class=\"error\""));
	ab_http_resp_free(&rs);
	snprintf(body, sizeof body, "csrf=%s&user=mallory&password=nope", tok);
	assert_int_equal(call("POST", "/ui/login", lc, body, &rs), 401);
	snprintf(b, sizeof b, "%s", strstr(ab_buf_cstr(&rs.body), "<p class=\"error\""));
	ab_http_resp_free(&rs);
	a[strcspn(a, "\n")] = b[strcspn(b, "\n")] = '\0';
	assert_string_equal(a, b);
	/* bob is a user without a password: no sign-in */
	snprintf(body, sizeof body, "csrf=%s&user=bob&password=", tok);
	assert_int_equal(call("POST", "/ui/login", lc, body, &rs), 401);
	ab_http_resp_free(&rs);
	ab_session_reset();   /* forget the failures */
	sign_in(a, sizeof a);
	assert_int_equal(call("GET", "/ui/", a, NULL, &rs), 200);
	assert_non_null(strstr(ab_buf_cstr(&rs.body), "No alerts."));
	ab_http_resp_free(&rs);
}

static void test_own_list_and_csrf(void **state)
{
	struct ab_http_resp rs;
	struct ab_inbox *ib;
	char cookie[200], tok[80], body[512], err[256], path[64];
	int64_t mine[3] = { 0 }, theirs;

	(void)state;
	ab_session_reset();
	assert_non_null(ib = ab_inbox_open(inbox_path, err, sizeof err));
	assert_int_equal(ab_inbox_set_owner(ib, "alice"), 0);
	for (int i = 0; i < 3; i++) {
		char id[8], title[40];

		snprintf(id, sizeof id, "e%d", i);
		snprintf(title, sizeof title, "mine <%d>", i);
		assert_int_equal(ab_inbox_add(ib, id, "high", "finding.created", title, "{}", 10), 1);
	}
	assert_int_equal(ab_inbox_set_owner(ib, "bob"), 0);
	assert_int_equal(ab_inbox_add(ib, "e9", "low", "x", "bob's", "{}", 10), 1);
	ab_inbox_close(ib);
	sign_in(cookie, sizeof cookie);
	assert_int_equal(call("GET", "/ui/", cookie, NULL, &rs), 200);
	assert_non_null(strstr(ab_buf_cstr(&rs.body), "mine &lt;2&gt;"));   /* escaped */
	assert_null(strstr(ab_buf_cstr(&rs.body), "bob"));
	assert_non_null(strstr(ab_buf_cstr(&rs.body), "3 unread of 3"));
	csrf_of(&rs, tok, sizeof tok);
	for (int i = 0; i < 3; i++) {
		char needle[64];
		const char *p;

		snprintf(needle, sizeof needle, "mine &lt;%d&gt;", i);
		p = strstr(ab_buf_cstr(&rs.body), needle);
		while (p > ab_buf_cstr(&rs.body) && strncmp(p, "/ui/alert/", 10))
			p--;
		mine[i] = strtoll(p + 10, NULL, 10);
	}
	ab_http_resp_free(&rs);
	theirs = mine[2] + 1;   /* bob's, added after */
	snprintf(path, sizeof path, "/ui/alert/%lld", (long long)theirs);
	assert_int_equal(call("GET", path, cookie, NULL, &rs), 404);
	ab_http_resp_free(&rs);
	/* POSTs without or with a wrong token change nothing */
	assert_int_equal(call("POST", "/ui/clear", cookie, "confirm=yes", &rs), 403);
	ab_http_resp_free(&rs);
	assert_int_equal(call("POST", "/ui/clear", cookie, "confirm=yes&csrf=00", &rs), 403);
	ab_http_resp_free(&rs);
	/* remove two of three (form fields repeated), and bob's id is not alice's */
	snprintf(body, sizeof body, "csrf=%s&id=%lld&id=%lld&id=%lld", tok, (long long)mine[0],
		(long long)mine[1], (long long)theirs);
	assert_int_equal(call("POST", "/ui/remove", cookie, body, &rs), 303);
	ab_http_resp_free(&rs);
	assert_int_equal(call("GET", "/ui/", cookie, NULL, &rs), 200);
	assert_non_null(strstr(ab_buf_cstr(&rs.body), "1 unread of 1"));
	ab_http_resp_free(&rs);
	assert_non_null(ib = ab_inbox_open(inbox_path, err, sizeof err));
	assert_int_equal(ab_inbox_set_owner(ib, "bob"), 0);
	assert_int_equal(ab_inbox_total(ib), 1);   /* bob's list untouched */
	ab_inbox_close(ib);
	/* sign out: the cookie is worth nothing after */
	snprintf(body, sizeof body, "csrf=%s", tok);
	assert_int_equal(call("POST", "/ui/logout", cookie, body, &rs), 303);
	ab_http_resp_free(&rs);
	assert_int_equal(call("GET", "/ui/", cookie, NULL, &rs), 303);
	ab_http_resp_free(&rs);
}

/* A trusted reverse proxy's header signs its user in; from anywhere else
 * it is ignored; it names a user of the configuration or nobody. */
static void test_proxy_header(void **state)
{
	struct ab_http_resp rs;
	const char *sc;
	char cookie[200];

	(void)state;
	ab_session_reset();
	assert_int_equal(call_from("192.0.2.7", "alice", "GET", "/ui/", NULL, NULL, &rs), 303);
	assert_string_equal(hdr(&rs, "Location", 0), "/ui/login");   /* not a proxy */
	ab_http_resp_free(&rs);
	assert_int_equal(call_from("192.0.2.100", "mallory", "GET", "/ui/", NULL, NULL, &rs), 303);
	ab_http_resp_free(&rs);
	assert_int_equal(call_from("192.0.2.100", "alice", "GET", "/ui/", NULL, NULL, &rs), 200);
	assert_non_null(sc = hdr(&rs, "Set-Cookie", 0));
	snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(sc, ";"), sc);
	assert_non_null(strstr(ab_buf_cstr(&rs.body), ">alice</span>"));
	ab_http_resp_free(&rs);
	/* the session then works as any other (and the proxy is IPv6 too) */
	assert_int_equal(call("GET", "/ui/", cookie, NULL, &rs), 200);
	ab_http_resp_free(&rs);
	assert_int_equal(call_from("2001:db8::1", "bob", "GET", "/ui/", cookie, NULL, &rs), 200);
	assert_non_null(strstr(ab_buf_cstr(&rs.body), ">bob</span>"));   /* bob's, not alice's */
	ab_http_resp_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passwd),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_header_and_html),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_own_list_and_csrf),
		cmocka_unit_test(test_proxy_header),
	};

	return cmocka_run_group_tests_name("console", tests, setup, teardown);
}
