/*
 * test_http.c - tests for the outbound HTTP helper (net/http.c) against the
 * local sink tests/lib/sink.py on 127.0.0.1 (plain and TLS, ephemeral
 * ports): outcome classes per answer (2xx, 3xx, 4xx, 429, 5xx, slow,
 * reset), Retry-After, the SSRF guard (also on a reused connection), http
 * without allow_http, the answer cap, what the sink receives, connection
 * reuse, TLS with a throwaway CA, many requests at once (ab_http_do_many:
 * each answer as ab_http_do gives it, one failure touching no other, the
 * in-flight bound per host counted in connections at the sink, keep-alive
 * across calls), ab_http_check_url, ab_smtp_check_url, and
 * that the URL's secret path never shows in errors or logs.  Needs python3 and openssl.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "net/http.h"

#define SECRET "SECRET123"

static const char *const allow_lo[] = { "127.0.0.0/8", NULL };

static struct {
	char dir[64];
	pid_t sink, tls_sink;
	int port, tls_port;
	char url[256];        /* http://127.0.0.1:PORT/services/SECRET123 */
	char tls_url[256];
	int seq;
} T;

/* ------------------------------------------------------------ helpers */

static void in_dir(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "%s/%s", T.dir, name);
}

static const char *srcdir(void)
{
	const char *s = getenv("srcdir");
	return s && *s ? s : ".";
}

static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int wait_port(const char *name, pid_t pid)
{
	char p[128];
	int port = 0;

	in_dir(p, sizeof p, name);
	for (int i = 0; i < 300; i++) {     /* up to 15 s for python to start */
		FILE *f = fopen(p, "r");
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
			if (port > 0)
				return port;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static pid_t start_sink(const char *prefix, bool tls)
{
	char script[256], portf[128], rec[128], ctl[128], cert[128], key[128];
	char *argv[16];
	int n = 0;

	snprintf(script, sizeof script, "%s/tests/lib/sink.py", srcdir());
	{
		char name[64];
		snprintf(name, sizeof name, "%sport", prefix);
		in_dir(portf, sizeof portf, name);
		snprintf(name, sizeof name, "%srec", prefix);
		in_dir(rec, sizeof rec, name);
		snprintf(name, sizeof name, "%sctl", prefix);
		in_dir(ctl, sizeof ctl, name);
	}
	in_dir(cert, sizeof cert, "server.pem");
	in_dir(key, sizeof key, "server.key");
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = "--port-file";
	argv[n++] = portf;
	argv[n++] = "--record";
	argv[n++] = rec;
	argv[n++] = "--control";
	argv[n++] = ctl;
	if (tls) {
		argv[n++] = "--tls-cert";
		argv[n++] = cert;
		argv[n++] = "--tls-key";
		argv[n++] = key;
	}
	argv[n] = NULL;
	return spawn(argv);
}

/* Write the control file of the plain ("") or TLS ("t") sink.  A sequence
 * number makes each write distinct, so the sink restarts its count. */
static void control(const char *prefix, const char *json)
{
	char p[128], tmp[140], name[32];
	FILE *f;

	snprintf(name, sizeof name, "%sctl", prefix);
	in_dir(p, sizeof p, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", p);
	f = fopen(tmp, "w");
	assert_non_null(f);
	if (strcmp(json, "{}") == 0)
		fprintf(f, "{\"seq\": %d}", ++T.seq);
	else
		fprintf(f, "{\"seq\": %d, %s", ++T.seq, json + 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, p), 0);
}

/* Records of the plain sink, as a JSON array (caller decrefs). */
static json_t *records(void)
{
	char p[128], line[65536];
	json_t *arr = json_array();
	FILE *f;

	in_dir(p, sizeof p, "rec");
	f = fopen(p, "r");
	if (!f)
		return arr;
	while (fgets(line, sizeof line, f)) {
		json_t *j = json_loads(line, 0, NULL);
		if (j)
			json_array_append_new(arr, j);
	}
	fclose(f);
	return arr;
}

static size_t n_records(void)
{
	json_t *a = records();
	size_t n = json_array_size(a);
	json_decref(a);
	return n;
}

static void req_init(struct ab_http_request *r, const char *url)
{
	memset(r, 0, sizeof *r);
	r->url = url;
	r->allow_http = true;
	r->allow_networks = allow_lo;
	r->body = "{\"text\":\"hi\"}";
	r->body_len = strlen(r->body);
	r->content_type = "application/json";
	r->timeout_ms = 5000;
}

/* ab_http_do refuses req for good, saying want. */
static void refused(const struct ab_http_request *req, const char *want)
{
	struct ab_http_response resp;

	assert_int_equal(ab_http_do(req, &resp), -1);
	assert_int_equal(resp.outcome, AB_PERMANENT);
	if (!strstr(resp.error, want))
		fail_msg("error \"%s\", want \"%s\"", resp.error, want);
	ab_http_free(&resp);
}

static void assert_no_secret(const char *what, const char *s)
{
	if (strstr(s, SECRET))
		fail_msg("%s leaks the URL path: %s", what, s);
}

static int setup(void **state)
{
	char script[256];
	char *mk[4];
	int st;
	pid_t pid;

	(void)state;
	ab_log_init("test_http", false, AB_LOG_DEBUG);
	if (ab_http_global_init() != 0)
		return -1;
	snprintf(T.dir, sizeof T.dir, "/tmp/ab_http_XXXXXX");
	if (!mkdtemp(T.dir))
		return -1;
	snprintf(script, sizeof script, "%s/tests/lib/mkcert.sh", srcdir());
	mk[0] = "sh";
	mk[1] = script;
	mk[2] = T.dir;
	mk[3] = NULL;
	pid = spawn(mk);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "mkcert.sh failed\n");
		return -1;
	}
	T.sink = start_sink("", false);
	T.tls_sink = start_sink("t", true);
	T.port = wait_port("port", T.sink);
	T.tls_port = wait_port("tport", T.tls_sink);
	if (T.port <= 0 || T.tls_port <= 0) {
		fprintf(stderr, "sink.py did not start\n");
		return -1;
	}
	snprintf(T.url, sizeof T.url, "http://127.0.0.1:%d/services/" SECRET, T.port);
	snprintf(T.tls_url, sizeof T.tls_url, "https://127.0.0.1:%d/services/" SECRET,
		T.tls_port);
	return 0;
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	stop(T.sink);
	stop(T.tls_sink);
	ab_http_thread_cleanup();
	curl_global_cleanup();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", T.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ answers */

struct answer_case {
	const char *name;
	const char *control;
	long timeout_ms;
	int status;
	enum ab_status outcome;
	int retry_after;          /* -1: not checked */
	const char *error;        /* substring of resp.error; "" = must be empty */
	const char *body;         /* expected body, or NULL */
};

static const struct answer_case answer_cases[] = {
	{ "200", "{\"mode\": \"ok\"}", 0, 200, AB_OK, 0, "", "ok" },
	{ "202", "{\"mode\": \"ok\", \"status\": 202, \"body\": \"accepted\"}", 0, 202, AB_OK,
		0, "", "accepted" },
	{ "204", "{\"mode\": \"ok\", \"status\": 204, \"body\": \"\"}", 0, 204, AB_OK, 0, "",
		"" },
	{ "500", "{\"mode\": \"status\", \"status\": 500, \"body\": \"oops\"}", 0, 500,
		AB_RETRY, 0, "HTTP 500: oops", "oops" },
	{ "503+3", "{\"mode\": \"status\", \"status\": 503, \"retry_after\": \"3\"}", 0, 503,
		AB_RETRY, 3, "HTTP 503", NULL },
	{ "429+7", "{\"mode\": \"status\", \"status\": 429, \"retry_after\": \"7\", "
		"\"body\": \"rate limited\"}", 0, 429, AB_RETRY, 7, "HTTP 429: rate limited", NULL },
	{ "404", "{\"mode\": \"status\", \"status\": 404, \"body\": \"no_service\"}", 0, 404,
		AB_PERMANENT, 0, "HTTP 404: no_service", "no_service" },
	{ "400", "{\"mode\": \"status\", \"status\": 400, \"body\": \"invalid_blocks\\n\"}", 0,
		400, AB_PERMANENT, 0, "HTTP 400: invalid_blocks", NULL },
	{ "403 multi-line", "{\"mode\": \"status\", \"status\": 403, "
		"\"body\": \"a\\r\\nb\\tc\"}", 0, 403, AB_PERMANENT, 0, "HTTP 403: a b c", NULL },
	{ "302", "{\"mode\": \"redirect\", \"redirect\": \"http://127.0.0.1:1/other/SECRET123\"}",
		0, 302, AB_PERMANENT, 0, "redirect to http://127.0.0.1:1/*** refused", NULL },
	{ "301", "{\"mode\": \"redirect\", \"status\": 301, \"redirect\": \"https://x.test/\"}",
		0, 301, AB_PERMANENT, 0, "HTTP 301: redirect to https://x.test/", NULL },
	{ "slow", "{\"mode\": \"slow\", \"delay\": 3, \"count\": 1}", 300, 0, AB_RETRY, 0,
		"timed out after", NULL },
	{ "reset", "{\"mode\": \"reset\", \"count\": 1}", 0, 0, AB_RETRY, 0,
		"Connection reset by peer", NULL },
	{ "back to ok", "{}", 0, 200, AB_OK, 0, "", "ok" },
};

static void test_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof answer_cases / sizeof answer_cases[0]; i++) {
		const struct answer_case *c = &answer_cases[i];
		struct ab_http_request req;
		struct ab_http_response resp;
		int rc;

		control("", c->control);
		req_init(&req, T.url);
		if (c->timeout_ms)
			req.timeout_ms = c->timeout_ms;
		rc = ab_http_do(&req, &resp);
		if (resp.status != c->status || resp.outcome != c->outcome)
			fail_msg("%s: got status %d outcome %d (%s), want %d/%d", c->name,
				resp.status, resp.outcome, resp.error, c->status, c->outcome);
		assert_int_equal(rc, c->outcome == AB_OK ? 0 : -1);
		if (c->retry_after >= 0 && resp.retry_after != c->retry_after)
			fail_msg("%s: retry_after %d, want %d", c->name, resp.retry_after,
				c->retry_after);
		if (*c->error ? !strstr(resp.error, c->error) : resp.error[0] != '\0')
			fail_msg("%s: error \"%s\", want \"%s\"", c->name, resp.error, c->error);
		if (c->outcome != AB_OK &&
		    !strstr(resp.error, "POST http://127.0.0.1:"))
			fail_msg("%s: error \"%s\" does not name the (redacted) URL", c->name,
				resp.error);
		assert_non_null(resp.body);
		if (c->body)
			assert_string_equal(resp.body, c->body);
		assert_int_equal(strlen(resp.body), resp.body_len);
		assert_no_secret(c->name, resp.error);
		ab_http_free(&resp);
		assert_null(resp.body);
		ab_http_free(&resp);
	}
}

/* ------------------------------------------------------------ Retry-After */

struct ra_case {
	const char *value;
	int want;
};

static void test_retry_after_parse(void **state)
{
	/* "now" is Sun, 06 Nov 1994 08:49:37 GMT */
	const time_t now = 784111777;
	const struct ra_case cases[] = {
		{ NULL, 0 },
		{ "", 0 },
		{ "  ", 0 },
		{ "7", 7 },
		{ " 120 \r\n", 120 },
		{ "0", 0 },
		{ "86400", 86400 },
		{ "86401", AB_HTTP_RETRY_AFTER_MAX },
		{ "99999999999999999999999", AB_HTTP_RETRY_AFTER_MAX },
		{ "-5", 0 },
		{ "1.5", 0 },
		{ "soon", 0 },
		{ "Sun, 06 Nov 1994 08:50:37 GMT", 60 },
		{ "Sunday, 06-Nov-94 08:49:47 GMT", 10 },
		{ "Sun Nov  6 08:49:57 1994", 20 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 0 },     /* now */
		{ "Sat, 05 Nov 1994 08:49:37 GMT", 0 },     /* past */
		{ "Mon, 07 Nov 1994 08:49:38 GMT", AB_HTTP_RETRY_AFTER_MAX },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = ab_http_parse_retry_after(cases[i].value, now);
		if (got != cases[i].want)
			fail_msg("\"%s\": got %d, want %d", cases[i].value ? cases[i].value : "(null)",
				got, cases[i].want);
	}
}

static void test_retry_after_http_date(void **state)
{
	struct ab_http_request req;
	struct ab_http_response resp;
	char date[64], json[256];
	time_t t = time(NULL) + 3600;
	struct tm tm;

	(void)state;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(json, sizeof json, "{\"mode\": \"status\", \"status\": 503, "
		"\"retry_after\": \"%s\"}", date);
	control("", json);
	req_init(&req, T.url);
	assert_int_equal(ab_http_do(&req, &resp), -1);
	assert_int_equal(resp.outcome, AB_RETRY);
	/* an hour ahead, give or take the seconds this test took */
	assert_in_range(resp.retry_after, 3000, 3600);
	ab_http_free(&resp);
}

/* ------------------------------------------------------------ refusals */

struct refuse_case {
	const char *name;
	const char *host;           /* URL up to the port; the plain sink's port follows */
	const char *path;
	bool allow_http;
	bool allow_lo;
	const char *error;
};

static void test_refusals(void **state)
{
	const struct refuse_case cases[] = {
		{ "http without allow_http", "http://127.0.0.1", "/services/SECRET123", false, true,
			"plain http is refused; use https, or set allow_http = true" },
		{ "loopback without allow_networks", "http://127.0.0.1", "/services/SECRET123",
			true, false, "connection refused by the SSRF guard: 127.0.0.1 is a loopback "
			"address (127.0.0.0/8); add \"127.0.0.0/8\" to the channel's allow_networks" },
		{ "v4-mapped loopback", "http://[::ffff:127.0.0.1]", "/services/SECRET123", true,
			false, "embeds 127.0.0.1" },
		{ "metadata", "http://169.254.169.254", "/latest/SECRET123", true, true,
			"cloud metadata" },
		{ "ftp", "ftp://127.0.0.1", "/SECRET123", true, true, "scheme \"ftp\" not supported" },
		{ "no scheme", "127.0.0.1", "/SECRET123", true, true, "" },
		{ "garbage", "https://exa mple.com", "/SECRET123", true, true, "not a valid URL" },
		{ "no host", "https://", "/SECRET123", true, true, "" },
	};
	size_t before = n_records();

	(void)state;
	control("", "{\"mode\": \"ok\"}");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct refuse_case *c = &cases[i];
		struct ab_http_request req;
		struct ab_http_response resp;
		char url[256];

		snprintf(url, sizeof url, "%s:%d%s", c->host, T.port, c->path);
		req_init(&req, url);
		req.allow_http = c->allow_http;
		req.allow_networks = c->allow_lo ? allow_lo : NULL;
		assert_int_equal(ab_http_do(&req, &resp), -1);
		if (resp.outcome != AB_PERMANENT || !strstr(resp.error, c->error) || !resp.error[0])
			fail_msg("%s: outcome %d error \"%s\", want PERMANENT \"%s\"", c->name,
				resp.outcome, resp.error, c->error);
		assert_int_equal(resp.status, 0);
		assert_no_secret(c->name, resp.error);
		ab_http_free(&resp);
	}
	/* nothing reached the sink */
	assert_int_equal(n_records(), before);
}

static void test_bad_request_fields(void **state)
{
	const char *const bad_hdr[] = { "X-A: 1", "X-B: 2\r\nX-Injected: 1", NULL };
	const char *const no_colon[] = { "X-A", NULL };
	struct ab_http_request req;
	struct ab_http_response resp;

	(void)state;
	req_init(&req, T.url);
	req.headers = bad_hdr;
	refused(&req, "header 2");
	req.headers = no_colon;
	refused(&req, "header 1");
	req.headers = NULL;
	req.content_type = "text/plain\nX-Injected: 1";
	refused(&req, "content type");
	req.content_type = NULL;
	req.method = "post me";
	refused(&req, "bad method");
	req.url = NULL;
	assert_int_equal(ab_http_do(&req, &resp), -1);
	assert_int_equal(resp.outcome, AB_PERMANENT);
	ab_http_free(&resp);
}

/* A connection opened for a channel that allows loopback must not carry a
 * request for a channel that does not. */
static void test_guard_on_reused_connection(void **state)
{
	struct ab_http_request req;
	struct ab_http_response resp;

	(void)state;
	control("", "{\"mode\": \"ok\"}");
	req_init(&req, T.url);
	assert_int_equal(ab_http_do(&req, &resp), 0);
	ab_http_free(&resp);
	req.allow_networks = NULL;
	refused(&req, "SSRF guard: 127.0.0.1 is a loopback address");
}

/* ------------------------------------------------------------ bodies */

struct cap_case {
	int body_size;
	size_t max_response;
	size_t want_len;
	bool truncated;
};

static void test_answer_cap(void **state)
{
	const struct cap_case cases[] = {
		{ 1000, 0, 1000, false },
		{ 65536, 0, 65536, false },
		{ 200000, 0, 65536, true },
		{ 200000, 1000, 1000, true },
		{ 1000, 1000, 1000, false },
		{ 1001, 1000, 1000, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct cap_case *c = &cases[i];
		struct ab_http_request req;
		struct ab_http_response resp;
		char json[128];

		snprintf(json, sizeof json, "{\"mode\": \"ok\", \"body_size\": %d}", c->body_size);
		control("", json);
		req_init(&req, T.url);
		req.max_response = c->max_response;
		if (ab_http_do(&req, &resp) != 0)
			fail_msg("case %zu: %s", i, resp.error);
		assert_int_equal(resp.status, 200);
		assert_int_equal(resp.body_len, c->want_len);
		assert_int_equal(strlen(resp.body), c->want_len);
		assert_int_equal(resp.truncated, c->truncated);
		ab_http_free(&resp);
	}
}

static void test_what_the_sink_sees(void **state)
{
	const char *const hdrs[] = { "X-Test: one", "Authorization: Bearer tok", NULL };
	struct ab_http_request req;
	struct ab_http_response resp;
	json_t *recs, *last, *h;
	const char *body = "{\"text\":\"x\"}";
	size_t i;
	int seen = 0;

	(void)state;
	control("", "{\"mode\": \"ok\"}");
	req_init(&req, T.url);
	req.headers = hdrs;
	req.body = body;
	req.body_len = strlen(body);
	assert_int_equal(ab_http_do(&req, &resp), 0);
	ab_http_free(&resp);
	recs = records();
	last = json_array_get(recs, json_array_size(recs) - 1);
	assert_non_null(last);
	assert_string_equal(json_string_value(json_object_get(last, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(last, "path")),
		"/services/" SECRET);
	assert_string_equal(json_string_value(json_object_get(last, "body")), body);
	json_array_foreach(json_object_get(last, "headers"), i, h) {
		const char *k = json_string_value(json_array_get(h, 0));
		const char *v = json_string_value(json_array_get(h, 1));
		if (strcmp(k, "X-Test") == 0 && strcmp(v, "one") == 0)
			seen |= 1;
		if (strcmp(k, "Content-Type") == 0 && strcmp(v, "application/json") == 0)
			seen |= 2;
		if (strcmp(k, "Authorization") == 0)
			seen |= 4;
		if (strcmp(k, "Expect") == 0)
			seen |= 8;
	}
	assert_int_equal(seen, 7);
	json_decref(recs);

	/* GET sends no body */
	req.method = "GET";
	assert_int_equal(ab_http_do(&req, &resp), 0);
	ab_http_free(&resp);
	recs = records();
	last = json_array_get(recs, json_array_size(recs) - 1);
	assert_string_equal(json_string_value(json_object_get(last, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(last, "body")), "");
	json_decref(recs);
}

static void test_connection_reuse(void **state)
{
	struct ab_http_request req;
	struct ab_http_response resp;
	json_t *recs;
	size_t n;

	(void)state;
	control("", "{\"mode\": \"ok\"}");
	req_init(&req, T.url);
	assert_int_equal(ab_http_do(&req, &resp), 0);
	ab_http_free(&resp);
	assert_int_equal(ab_http_do(&req, &resp), 0);
	assert_int_equal(resp.num_connects, 0);
	ab_http_free(&resp);
	recs = records();
	n = json_array_size(recs);
	assert_true(n >= 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, n - 1),
				"client_port")),
		json_integer_value(json_object_get(json_array_get(recs, n - 2), "client_port")));
	json_decref(recs);
}

/* A URL this thread already sent to is not parsed again, but nothing it
 * was refused for changes: plain http without allow_http, the SSRF guard,
 * also after other URLs took the thread's memo. */
static void test_url_memo(void **state)
{
	struct ab_http_request req;
	struct ab_http_response resp;
	char other[sizeof T.url + 16];

	(void)state;
	control("", "{\"mode\": \"ok\"}");
	for (int round = 0; round < 2; round++) {
		req_init(&req, T.url);
		assert_int_equal(ab_http_do(&req, &resp), 0);
		assert_int_equal(resp.status, 200);
		ab_http_free(&resp);
		req.allow_http = false;
		refused(&req, "plain http is refused");
		req.allow_http = true;
		req.allow_networks = NULL;
		refused(&req, "SSRF guard");
		for (int i = 0; i < 6; i++) {   /* more URLs than the memo holds */
			snprintf(other, sizeof other, "%s/other-%d", T.url, i);
			req_init(&req, other);
			assert_int_equal(ab_http_do(&req, &resp), 0);
			ab_http_free(&resp);
		}
		req_init(&req, "https://exa mple.com/x");
		refused(&req, "not a valid URL");
	}
}

static void test_tls(void **state)
{
	struct ab_http_request req;
	struct ab_http_response resp;
	char ca[128];

	(void)state;
	in_dir(ca, sizeof ca, "ca.pem");
	control("t", "{\"mode\": \"ok\", \"status\": 202, \"body\": \"tls ok\"}");
	req_init(&req, T.tls_url);
	req.allow_http = false;
	req.ca_file = ca;
	if (ab_http_do(&req, &resp) != 0)
		fail_msg("https: %s", resp.error);
	assert_int_equal(resp.status, 202);
	assert_string_equal(resp.body, "tls ok");
	ab_http_free(&resp);
	/* the system store does not know the throwaway CA: a transport error */
	req.ca_file = NULL;
	assert_int_equal(ab_http_do(&req, &resp), -1);
	assert_int_equal(resp.outcome, AB_RETRY);
	assert_int_equal(resp.status, 0);
	assert_no_secret("tls", resp.error);
	ab_http_free(&resp);
}

/* Each thread has its own handle, freed when the thread exits (ASan would
 * report the leak otherwise). */
#define N_THREADS 4
#define N_PER_THREAD 3

static void *worker(void *arg)
{
	int *ok = arg;

	for (int i = 0; i < N_PER_THREAD; i++) {
		struct ab_http_request req;
		struct ab_http_response resp;

		req_init(&req, T.url);
		if (ab_http_host_do(NULL, &req, &resp) == 0 && strcmp(resp.body, "ok") == 0)
			(*ok)++;
		ab_http_host_free(NULL, &resp);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t th[N_THREADS];
	int ok[N_THREADS] = { 0 };

	(void)state;
	control("", "{\"mode\": \"ok\"}");
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, &ok[i]), 0);
	for (int i = 0; i < N_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(ok[i], N_PER_THREAD);
	}
}

/* ------------------------------------------------------------ many at once */

/* The number of distinct client ports among the plain sink's records from
 * index from on (each is one connection). */
static size_t distinct_ports(size_t from)
{
	json_t *recs = records();
	json_int_t ports[256];
	size_t n = 0;

	for (size_t i = from; i < json_array_size(recs); i++) {
		json_int_t p = json_integer_value(json_object_get(json_array_get(recs, i),
			"client_port"));
		size_t j;
		for (j = 0; j < n && ports[j] != p; j++)
			;
		if (j == n && n < sizeof ports / sizeof ports[0])
			ports[n++] = p;
	}
	json_decref(recs);
	return n;
}

/* Mixed requests at once: each answer is its own, exactly as ab_http_do
 * gives it; refused ones never reach the sink. */
static void test_many_mixed(void **state)
{
	const char *const bad_hdr[] = { "X-B: 2\r\nX-Injected: 1", NULL };
	struct ab_http_request req[8];
	struct ab_http_response resp[8];
	char meta[128], closed[128];
	size_t before = n_records();

	(void)state;
	control("", "{\"mode\": \"ok\"}");
	snprintf(meta, sizeof meta, "http://169.254.169.254:%d/latest/" SECRET, T.port);
	snprintf(closed, sizeof closed, "http://127.0.0.1:1/services/" SECRET);
	for (size_t i = 0; i < 8; i++)
		req_init(&req[i], T.url);
	req[1].url = meta;                     /* cloud metadata: refused by the guard */
	req[3].allow_networks = NULL;          /* loopback without allow_networks */
	req[4].headers = bad_hdr;              /* never sent */
	req[5].url = closed;                   /* connection refused: RETRY */
	req[6].allow_http = false;             /* plain http refused */
	assert_int_equal(ab_http_do_many(req, resp, 8, 2), 3);
	for (size_t i = 0; i < 8; i++) {
		struct ab_http_response one;
		/* the same request alone gives the same outcome and error */
		ab_http_do(&req[i], &one);
		/* (a transport error's text may name a time; the rest is exact) */
		if (one.outcome != resp[i].outcome || one.status != resp[i].status ||
		    (one.outcome != AB_RETRY && strcmp(one.error, resp[i].error) != 0))
			fail_msg("request %zu: many gave %d/%d \"%s\", alone %d/%d \"%s\"", i,
				resp[i].outcome, resp[i].status, resp[i].error, one.outcome,
				one.status, one.error);
		assert_no_secret("many", resp[i].error);
		ab_http_free(&one);
	}
	assert_int_equal(resp[0].outcome, AB_OK);
	assert_string_equal(resp[0].body, "ok");
	assert_int_equal(resp[2].outcome, AB_OK);
	assert_int_equal(resp[7].outcome, AB_OK);
	assert_int_equal(resp[1].outcome, AB_PERMANENT);
	assert_non_null(strstr(resp[1].error, "cloud metadata"));
	assert_int_equal(resp[3].outcome, AB_PERMANENT);
	assert_non_null(strstr(resp[3].error, "SSRF guard: 127.0.0.1 is a loopback address"));
	assert_int_equal(resp[4].outcome, AB_PERMANENT);
	assert_non_null(strstr(resp[4].error, "header 1"));
	assert_int_equal(resp[5].outcome, AB_RETRY);
	assert_int_equal(resp[5].status, 0);
	assert_int_equal(resp[6].outcome, AB_PERMANENT);
	assert_non_null(strstr(resp[6].error, "plain http is refused"));
	for (size_t i = 0; i < 8; i++)
		ab_http_free(&resp[i]);
	/* 3 from the many, 3 from the same alone */
	assert_int_equal(n_records(), before + 6);
	/* nothing, and a NULL list */
	assert_int_equal(ab_http_do_many(NULL, NULL, 0, 0), 0);
}

/* One request that fails in transit (slow past its timeout, an error
 * status) does not touch the others on the same connections.  (Not a
 * reset: libcurl sends a request again, once, on a fresh connection when
 * a reused one dies before the answer.) */
static void test_many_one_fails(void **state)
{
	static const struct {
		const char *control;
		enum ab_status outcome;
		const char *error;
	} cases[] = {
		{ "{\"mode\": \"slow\", \"delay\": 2, \"count\": 1}", AB_RETRY, "timed out after" },
		{ "{\"mode\": \"status\", \"status\": 503, \"retry_after\": \"9\", \"count\": 1}",
			AB_RETRY, "HTTP 503" },
		{ "{\"mode\": \"status\", \"status\": 404, \"body\": \"no_service\", \"count\": 1}",
			AB_PERMANENT, "HTTP 404: no_service" },
	};

	(void)state;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct ab_http_request req[6];
		struct ab_http_response resp[6];
		int failed = -1;

		control("", cases[c].control);
		for (size_t i = 0; i < 6; i++) {
			req_init(&req[i], T.url);
			req[i].timeout_ms = 700;
		}
		if (ab_http_do_many(req, resp, 6, 3) != 5)
			for (size_t i = 0; i < 6; i++)
				if (resp[i].outcome != AB_OK || i == 5)
					fail_msg("case %zu: not 5 of 6 ok: %zu: %s", c, i,
						resp[i].error);
		for (int i = 0; i < 6; i++) {
			if (resp[i].outcome == AB_OK) {
				assert_string_equal(resp[i].body, "ok");
				continue;
			}
			failed = i;
			if (resp[i].outcome != cases[c].outcome ||
			    !strstr(resp[i].error, cases[c].error))
				fail_msg("case %zu: %d \"%s\", want %d \"%s\"", c, resp[i].outcome,
					resp[i].error, cases[c].outcome, cases[c].error);
			assert_no_secret("one fails", resp[i].error);
		}
		assert_true(failed >= 0);
		if (c == 1)
			assert_int_equal(resp[failed].retry_after, 9);
		for (size_t i = 0; i < 6; i++)
			ab_http_free(&resp[i]);
	}
	control("", "{\"mode\": \"ok\"}");
}

/* Many slow requests to one host with a bound of 3: three connections,
 * never more, kept alive for the next call (and for ab_http_do).  A new
 * thread starts with no connections, so the sink's count is this test's. */
struct bound_run {
	unsigned bound;
	size_t n;
	int ok1, ok2, ok_single;
	long connects1, connects2, connects_single;
};

static void *bound_thread(void *arg)
{
	struct bound_run *b = arg;
	struct ab_http_request req[12];
	struct ab_http_response resp[12];
	struct ab_http_response one;

	for (size_t i = 0; i < b->n; i++)
		req_init(&req[i], T.url);
	b->ok1 = ab_http_do_many(req, resp, b->n, b->bound);
	for (size_t i = 0; i < b->n; i++) {
		b->connects1 += resp[i].num_connects;
		ab_http_free(&resp[i]);
	}
	b->ok2 = ab_http_do_many(req, resp, b->n, b->bound);
	for (size_t i = 0; i < b->n; i++) {
		b->connects2 += resp[i].num_connects;
		ab_http_free(&resp[i]);
	}
	b->ok_single = ab_http_do(&req[0], &one) == 0;
	b->connects_single = one.num_connects;
	ab_http_free(&one);
	return NULL;
}

static void test_many_bound_and_keepalive(void **state)
{
	static const unsigned bounds[] = { 1, 3, 12 };

	(void)state;
	/* every answer takes 200 ms, so the requests overlap as far as allowed */
	control("", "{\"mode\": \"slow\", \"delay\": 0.2}");
	for (size_t c = 0; c < sizeof bounds / sizeof bounds[0]; c++) {
		struct bound_run b = { .bound = bounds[c], .n = 12 };
		size_t before = n_records();
		pthread_t th;

		assert_int_equal(pthread_create(&th, NULL, bound_thread, &b), 0);
		assert_int_equal(pthread_join(th, NULL), 0);
		assert_int_equal(b.ok1, 12);
		assert_int_equal(b.ok2, 12);
		assert_true(b.ok_single);
		/* as many connections as the bound: made by the first call only */
		assert_int_equal(b.connects1, bounds[c]);
		assert_int_equal(b.connects2, 0);
		assert_int_equal(b.connects_single, 0);
		assert_int_equal(n_records(), before + 25);
		assert_int_equal(distinct_ports(before), bounds[c]);
	}
	control("", "{\"mode\": \"ok\"}");
}

/* ab_http_stream as the dispatcher uses it: requests added one at a time
 * just before a place is free (never more than the bound running when
 * more() is asked), each answer handed over once as it ends, settled
 * while the others are still running (not only at the end), a request
 * refused before it goes out ended at once. */
#define STREAM_CAP 12
#define STREAM_BOUND 3
struct stream_run {
	struct ab_http_request req[STREAM_CAP];
	struct ab_http_response resp[STREAM_CAP];
	const char *url;
	size_t added, done, done_at_settle, max_running;
	int ok;
	unsigned ended[STREAM_CAP];
	unsigned settles, unsettled;
	size_t settled_before_last;   /* answers settled when the last was added */
};

static size_t stream_more(void *ctx, size_t from)
{
	static const char *const bad_hdr[] = { "X-B: 2\r\nX-Injected: 1", NULL };
	struct stream_run *r = ctx;

	assert_int_equal(from, r->added);
	if (r->added == STREAM_CAP)
		return 0;
	if (r->added - r->done > r->max_running)
		r->max_running = r->added - r->done;
	req_init(&r->req[from], r->url);
	if (from == 4)
		r->req[from].headers = bad_hdr;   /* refused, never sent */
	if (from == STREAM_CAP - 1)
		r->settled_before_last = r->done_at_settle;
	r->added++;
	return 1;
}

static void stream_done(void *ctx, size_t i)
{
	struct stream_run *r = ctx;

	assert_true(i < r->added);
	r->ended[i]++;
	r->done++;
	r->unsettled++;
}

static void stream_settle(void *ctx)
{
	struct stream_run *r = ctx;

	assert_true(r->unsettled > 0);   /* only called with something to settle */
	r->settles++;
	r->unsettled = 0;
	r->done_at_settle = r->done;
}

static void *stream_thread(void *arg)
{
	struct stream_run *r = arg;
	struct ab_http_feed feed = { stream_more, stream_done, stream_settle, r };

	r->ok = ab_http_stream(r->req, r->resp, 0, STREAM_CAP, STREAM_BOUND, &feed);
	return NULL;
}

static void test_stream_window(void **state)
{
	struct stream_run r;
	size_t before = n_records();
	pthread_t th;

	(void)state;
	memset(&r, 0, sizeof r);
	r.url = T.url;
	control("", "{\"mode\": \"slow\", \"delay\": 0.1}");
	assert_int_equal(pthread_create(&th, NULL, stream_thread, &r), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	control("", "{\"mode\": \"ok\"}");
	assert_int_equal(r.ok, STREAM_CAP - 1);         /* all but the bad one */
	assert_true(r.max_running <= STREAM_BOUND);     /* prepared just in time */
	assert_int_equal(r.added, STREAM_CAP);
	for (size_t i = 0; i < STREAM_CAP; i++) {
		assert_int_equal(r.ended[i], 1);
		assert_int_equal(r.resp[i].outcome, i == 4 ? AB_PERMANENT : AB_OK);
		ab_http_free(&r.resp[i]);
	}
	assert_int_equal(r.unsettled, 0);       /* everything settled at the end */
	assert_true(r.settles >= 3);            /* 11 slow answers, 3 at a time */
	assert_true(r.settled_before_last > 0); /* a window, not rounds */
	assert_int_equal(n_records(), before + STREAM_CAP - 1);
	/* nothing to do at all */
	assert_int_equal(ab_http_stream(NULL, NULL, 0, 0, 0, NULL), 0);
}

/* The in-flight bound is per host: two host names of the same sink
 * (127.0.0.1 and localhost) with a bound of 1 get one connection each. */
static void *two_hosts_thread(void *arg)
{
	struct bound_run *b = arg;
	struct ab_http_request req[8];
	struct ab_http_response resp[8];
	char url2[256];

	snprintf(url2, sizeof url2, "http://localhost:%d/services/" SECRET, T.port);
	for (size_t i = 0; i < 8; i++)
		req_init(&req[i], i % 2 ? url2 : T.url);
	b->ok1 = ab_http_do_many(req, resp, 8, 1);
	for (size_t i = 0; i < 8; i++) {
		b->connects1 += resp[i].num_connects;
		ab_http_free(&resp[i]);
	}
	return NULL;
}

static void test_many_bound_per_host(void **state)
{
	struct bound_run b = { .bound = 1, .n = 8 };
	size_t before;
	pthread_t th;

	(void)state;
	control("", "{\"mode\": \"slow\", \"delay\": 0.1}");
	before = n_records();
	assert_int_equal(pthread_create(&th, NULL, two_hosts_thread, &b), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	control("", "{\"mode\": \"ok\"}");
	if (b.ok1 != 8)
		skip();   /* localhost is not 127.0.0.1 here */
	assert_int_equal(b.connects1, 2);
	assert_int_equal(distinct_ports(before), 2);
}

/* ------------------------------------------------------------ no leaks */

static void test_secret_never_logged(void **state)
{
	const char *controls[] = {
		"{\"mode\": \"status\", \"status\": 404, \"body\": \"no /services/SECRET123 here\"}",
		"{\"mode\": \"redirect\", \"redirect\": \"http://127.0.0.1:1/services/SECRET123\"}",
		"{\"mode\": \"slow\", \"delay\": 2, \"count\": 1}",
		"{\"mode\": \"ok\"}",
	};
	char logp[128], leak[AB_HTTP_ERROR_MAX] = "", *log;
	int saved, fd;
	FILE *f;
	long n;

	(void)state;
	in_dir(logp, sizeof logp, "stderr.log");
	fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	for (size_t i = 0; i < sizeof controls / sizeof controls[0]; i++) {
		struct ab_http_request req;
		struct ab_http_response resp;

		control("", controls[i]);
		req_init(&req, T.url);
		req.timeout_ms = 300;
		ab_http_do(&req, &resp);
		if (strstr(resp.error, SECRET))
			ab_strlcpy(leak, resp.error, sizeof leak);
		ab_http_free(&resp);
		req.allow_networks = NULL;        /* SSRF refusal, logged as a warning */
		ab_http_do(&req, &resp);
		if (strstr(resp.error, SECRET))
			ab_strlcpy(leak, resp.error, sizeof leak);
		ab_http_free(&resp);
		req.allow_http = false;
		ab_http_do(&req, &resp);
		if (strstr(resp.error, SECRET))
			ab_strlcpy(leak, resp.error, sizeof leak);
		ab_http_free(&resp);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	/* asserted only now that stderr is back */
	if (leak[0])
		fail_msg("an error leaks the URL path: %s", leak);
	f = fopen(logp, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	log = calloc(1, (size_t)n + 1);
	assert_non_null(log);
	assert_int_equal(fread(log, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_non_null(strstr(log, "http: POST http://127.0.0.1:"));   /* it did log */
	assert_non_null(strstr(log, "SSRF guard"));
	if (strstr(log, SECRET))
		fail_msg("the log leaks the URL path:\n%s", log);
	free(log);
}

/* ------------------------------------------------------------ check_url */

struct check_case {
	const char *url;
	bool allow_http;
	bool allow_lo;
	int want;
	const char *err;
};

static void test_check_url(void **state)
{
	const struct check_case cases[] = {
		{ "https://127.0.0.1/services/SECRET123", false, false, -1,
			"https://127.0.0.1/***: refused by the SSRF guard: 127.0.0.1 is a loopback" },
		{ "https://127.0.0.1/services/SECRET123", false, true, 0, "" },
		{ "https://127.0.0.1:8443/x/SECRET123", false, true, 0, "" },
		{ "http://127.0.0.1/services/SECRET123", false, true, -1, "plain http is refused" },
		{ "http://127.0.0.1/services/SECRET123", true, true, 0, "" },
		{ "https://[::1]/SECRET123", false, false, -1, "::1 is a loopback address" },
		{ "https://[::1]/SECRET123", false, true, -1, "::1 is a loopback address" },
		{ "https://localhost/SECRET123", false, false, -1, "loopback" },
		{ "https://10.0.0.1/SECRET123", false, true, -1, "private" },
		{ "https://169.254.169.254/latest/meta-data/SECRET123", false, false, -1,
			"cloud metadata" },
		{ "https://[fd00:ec2::254]/SECRET123", false, false, -1, "cloud metadata" },
		{ "https://8.8.8.8/SECRET123", false, false, 0, "" },
		{ "https://[2606:4700::1111]/SECRET123", false, false, 0, "" },
		{ "gopher://127.0.0.1/SECRET123", false, false, -1, "not supported" },
		{ "", false, false, -1, "no URL" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct check_case *c = &cases[i];
		char err[512] = "";
		int rc = ab_http_check_url(c->url, c->allow_http, c->allow_lo ? allow_lo : NULL,
			err, sizeof err);

		if (rc != c->want || (*c->err ? !strstr(err, c->err) : err[0] != '\0'))
			fail_msg("%s: got %d \"%s\", want %d \"%s\"", c->url, rc, err, c->want,
				c->err);
		assert_no_secret(c->url, err);
	}
}

/* The email channel's URL check: smtp(s) only, the same guard. */
static void test_smtp_check_url(void **state)
{
	const struct check_case cases[] = {
		{ "smtp://127.0.0.1:2525", false, false, -1,
			"smtp://127.0.0.1:2525: refused by the SSRF guard: 127.0.0.1 is a loopback" },
		{ "smtp://127.0.0.1:2525", false, true, 0, "" },
		{ "smtps://alice:SECRET123@127.0.0.1", false, false, -1,
			"smtps://127.0.0.1/***: refused by the SSRF guard" },
		{ "smtps://alice:SECRET123@127.0.0.1", false, true, 0, "" },
		{ "smtp://[::1]:587", false, true, -1, "::1 is a loopback address" },
		{ "smtp://10.1.2.3:587", false, false, -1, "private" },
		{ "smtps://8.8.8.8", false, false, 0, "" },
		{ "https://8.8.8.8/SECRET123", false, false, -1, "use smtp:// or smtps://" },
		{ "smtp://", false, false, -1, "not a valid URL" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct check_case *c = &cases[i];
		char err[512] = "";
		int rc = ab_smtp_check_url(c->url, c->allow_lo ? allow_lo : NULL, err, sizeof err);

		if (rc != c->want || (*c->err ? !strstr(err, c->err) : err[0] != '\0'))
			fail_msg("%s: got %d \"%s\", want %d \"%s\"", c->url, rc, err, c->want,
				c->err);
		assert_no_secret(c->url, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_retry_after_parse),
		cmocka_unit_test(test_retry_after_http_date),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_bad_request_fields),
		cmocka_unit_test(test_guard_on_reused_connection),
		cmocka_unit_test(test_answer_cap),
		cmocka_unit_test(test_what_the_sink_sees),
		cmocka_unit_test(test_connection_reuse),
		cmocka_unit_test(test_url_memo),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_many_mixed),
		cmocka_unit_test(test_many_one_fails),
		cmocka_unit_test(test_many_bound_and_keepalive),
		cmocka_unit_test(test_many_bound_per_host),
		cmocka_unit_test(test_stream_window),
		cmocka_unit_test(test_secret_never_logged),
		cmocka_unit_test(test_check_url),
		cmocka_unit_test(test_smtp_check_url),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
