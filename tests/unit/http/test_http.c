/*
 * test_http.c - unit tests for the HTTP layer without a socket: the router
 * (404, 405 with Allow, 401 with and without tokens, bearer parsing), the
 * events parser (one object, an array, JSON lines, the member blamed for
 * each kind of bad input, the cap on events), and each handler against a
 * real store and runtime (POST /api/v1/events commits and answers 202
 * with the ids; the Alertmanager receiver's mapping, ids and refusals;
 * each hook authentication (GitLab token, HMAC, the Standard Webhooks
 * specification's test vector, bearer token);
 * /healthz; /readyz ready and not ready; /metrics in the
 * exposition format with the queue figures).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include <jansson.h>

#include "config/config.h"
#include "deliver/runtime.h"
#include "http/alertmanager.h"
#include "http/events.h"
#include "http/hooks.h"
#include "lib/hmac.h"
#include "http/router.h"
#include "http/routes.h"
#include "http/status.h"
#include "lib/metrics.h"
#include "../harness/testutil.h"

static char *dir;
static struct ab_http_app app;

static int setup(void **state)
{
	char *errors = NULL, *conf, text[2048];
	const char *stage = getenv("AB_PLUGIN_STAGE");
	struct ab_config *cfg;

	(void)state;
	dir = tu_tmpdir();
	assert_non_null(dir);
	conf = tu_path(dir, "ab.conf");
	snprintf(text, sizeof text, "state_dir = \"%s\";\nplugin_dir = \"%s\";\n"
		 "channels = ( { name = \"file\"; type = \"file\"; path = \"a.jsonl\"; } );\n"
		 "default = [\"file\"];\n"
		 "http = { listen = \"127.0.0.1:1\"; tokens = [\"tok-1\", \"env:AB_TEST_TOKEN\"]; };\n",
		 dir, stage && *stage ? stage : "plugins/built");
	tu_write(conf, text);
	cfg = ab_config_load(conf, &errors);
	if (!cfg)
		fail_msg("config: %s", errors ? errors : "?");
	free(conf);
	memset(&app, 0, sizeof app);
	pthread_mutex_init(&app.mu, NULL);
	app.store_path = strdup(cfg->store_path);
	app.committer = ab_committer_new(cfg->store_path);
	app.rt = ab_runtime_build(cfg, NULL, &errors);
	if (!app.rt)
		fail_msg("runtime: %s", errors ? errors : "?");
	app.tokens = calloc(1, sizeof *app.tokens);
	app.tokens[0] = strdup("tok-1");
	app.n_tokens = 1;
	app.started_ms = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ab_store_close(app.st);
	ab_committer_free(app.committer);
	ab_runtime_unref(app.rt);
	free(app.tokens[0]);
	free(app.tokens);
	free(app.store_path);
	tu_rm_rf(dir);
	free(dir);
	return 0;
}

/* One request through the daemon's route table; the answer's JSON (NULL
 * for text) in *j. */
static int call(const char *method, const char *path, const char *auth, const char *body,
	struct ab_http_resp *rs, json_t **j)
{
	struct ab_http_req rq = { .method = method, .path = path, .peer = "127.0.0.1",
				  .authorization = auth, .body = body ? body : "",
				  .body_len = body ? strlen(body) : 0 };

	ab_http_resp_init(rs);
	ab_http_dispatch(&app, ab_http_routes, ab_http_n_routes, &rq, rs);
	if (j)
		*j = strcmp(rs->content_type, "application/json") == 0 ?
			json_loads(ab_buf_cstr(&rs->body), 0, NULL) : NULL;
	return rs->status;
}

static const char *jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static void test_router(void **state)
{
	struct ab_http_resp rs;
	json_t *j;

	(void)state;
	assert_int_equal(call("GET", "/nope", NULL, NULL, &rs, &j), 404);
	assert_non_null(strstr(jstr(j, "error"), "no such endpoint"));
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
	json_decref(j);
	ab_http_resp_free(&rs);
	assert_int_equal(call("DELETE", "/metrics", NULL, NULL, &rs, &j), 405);
	assert_string_equal(rs.hdr_name, "Allow");
	assert_string_equal(rs.hdr_value, "GET");
	json_decref(j);
	ab_http_resp_free(&rs);
	assert_int_equal(call("GET", "/api/v1/events", NULL, NULL, &rs, &j), 405);
	assert_string_equal(rs.hdr_value, "POST");
	json_decref(j);
	ab_http_resp_free(&rs);
	assert_int_equal(call("HEAD", "/healthz", NULL, NULL, &rs, NULL), 200);
	ab_http_resp_free(&rs);
}

static void test_auth(void **state)
{
	static const char *const bad[] = { NULL, "Bearer", "Bearer ", "Bearer tok-2",
		"Bearer tok-1x", "Bearer tok-", "Basic dG9rLTE=", "Bearer tok-1 extra" };
	struct ab_http_resp rs;
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(call("POST", "/api/v1/events", bad[i], "{}", &rs, &j), 401);
		assert_string_equal(rs.hdr_name, "WWW-Authenticate");
		assert_non_null(jstr(j, "error"));
		assert_null(strstr(ab_buf_cstr(&rs.body), "tok-1"));   /* never echoed */
		json_decref(j);
		ab_http_resp_free(&rs);
	}
	assert_true(ab_http_token_ok(&app, "Bearer tok-1"));
	assert_true(ab_http_token_ok(&app, "bearer  tok-1 "));
	/* no token configured: the API is closed, and says how to open it */
	app.n_tokens = 0;
	assert_int_equal(call("POST", "/api/v1/events", "Bearer tok-1", "{}", &rs, &j), 401);
	assert_non_null(strstr(jstr(j, "error"), "http.tokens"));
	json_decref(j);
	ab_http_resp_free(&rs);
	app.n_tokens = 1;
}

/* The parser: what is taken and which member is blamed. */
static void test_parse(void **state)
{
	static const struct { const char *body; int n; const char *member; const char *msg; } t[] = {
		{ "{\"title\":\"a\"}", 1, NULL, NULL },
		{ "  [{\"title\":\"a\"},{\"title\":\"b\"}]\n", 2, NULL, NULL },
		{ "{\"title\":\"a\"}\n\n{\"title\":\"b\"}\r\n{\"title\":\"c\"}", 3, NULL, NULL },
		{ "{\n  \"title\": \"pretty\"\n}\n", 1, NULL, NULL },
		{ "", -1, "", "empty" },
		{ "[]", -1, "", "empty" },
		{ "{bad", -1, "", "not valid JSON" },
		{ "\"text\"", -1, "", "expected" },
		{ "[{\"title\":\"a\"},{\"severity\":\"bogus\"}]", -1, "[1].severity", "unknown severity" },
		{ "[{\"title\":\"a\"}, 7]", -1, "[1]", "JSON object" },
		{ "{\"title\":\"a\"}\n{\"priority\":\"x\"}", -1, "line 2.priority", "integer" },
		{ "{\"title\":\"a\"}\n{oops\n", -1, "line 2", "not valid JSON" },
		{ "{\"nosuch\":1}", -1, "", "nosuch" },
		{ "{\"origin\":{\"kind\":\"Bad Kind\"}}", -1, "origin.kind", "lowercase" },
	};
	struct ab_event **evs;
	size_t n;
	char err[512], member[128];

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int rc = ab_http_parse_events(t[i].body, strlen(t[i].body), &evs, &n, err,
			sizeof err, member, sizeof member);

		if (t[i].n >= 0) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, err);
			assert_int_equal(n, t[i].n);
			assert_string_equal(evs[0]->origin.kind, "http");
			ab_http_events_free(evs, n);
			continue;
		}
		if (rc != -1)
			fail_msg("case %zu taken", i);
		assert_null(evs);
		if (!strstr(err, t[i].msg))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err, t[i].msg);
		if (t[i].member[0] && strcmp(member, t[i].member) != 0)
			fail_msg("case %zu: member '%s', want '%s' (%s)", i, member, t[i].member, err);
	}
	/* a given origin.kind is kept */
	assert_int_equal(ab_http_parse_events("{\"origin\":{\"kind\":\"ci\"}}", 24, &evs, &n, err,
		sizeof err, member, sizeof member), 0);
	assert_string_equal(evs[0]->origin.kind, "ci");
	ab_http_events_free(evs, n);
}

static void test_parse_cap(void **state)
{
	struct ab_buf b = AB_BUF_INIT(1 << 20);
	struct ab_event **evs;
	size_t n;
	char err[512], member[128];

	(void)state;
	ab_buf_putc(&b, '[');
	for (int i = 0; i <= AB_HTTP_MAX_EVENTS; i++)
		ab_buf_printf(&b, "%s{\"title\":\"e%d\"}", i ? "," : "", i);
	ab_buf_putc(&b, ']');
	assert_int_equal(ab_http_parse_events(b.data, b.len, &evs, &n, err, sizeof err, member,
		sizeof member), -1);
	assert_non_null(strstr(err, "more than"));
	ab_buf_free(&b);
}

static void test_post_events(void **state)
{
	struct ab_http_resp rs;
	json_t *j, *ids;
	struct ab_store *st;
	char err[256];

	(void)state;
	assert_int_equal(call("POST", "/api/v1/events", "Bearer tok-1",
		"[{\"title\":\"one\",\"severity\":\"high\"},{\"title\":\"two\"}]", &rs, &j), 202);
	assert_int_equal(json_integer_value(json_object_get(j, "accepted")), 2);
	ids = json_object_get(j, "ids");
	assert_int_equal(json_array_size(ids), 2);
	st = ab_store_open(app.store_path, err, sizeof err);
	assert_non_null(st);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(ab_store_event_exists(st, json_string_value(json_array_get(ids,
			i))), 1);
	assert_int_equal(ab_store_count(st, AB_JOB_QUEUED), 2);
	ab_store_close(st);
	json_decref(j);
	ab_http_resp_free(&rs);
	/* a bad one in the array: 400, and nothing of the request stored */
	assert_int_equal(call("POST", "/api/v1/events", "Bearer tok-1",
		"[{\"title\":\"three\"},{\"severity\":7}]", &rs, &j), 400);
	assert_string_equal(jstr(j, "member"), "[1].severity");
	json_decref(j);
	ab_http_resp_free(&rs);
	st = ab_store_open(app.store_path, err, sizeof err);
	assert_int_equal(ab_store_count(st, AB_JOB_QUEUED), 2);
	ab_store_close(st);
}

/* An Alertmanager notification as version 0.25 sends it (notify/webhook). */
#define AM_BODY(status1, status2) \
	"{\"receiver\":\"alertbridge\",\"status\":\"firing\",\"alerts\":[" \
	"{\"status\":\"" status1 "\",\"labels\":{\"alertname\":\"DiskFull\",\"severity\":\"page\"," \
	"\"instance\":\"db1:9100\",\"team\":\"ops\"},\"annotations\":{\"summary\":\"/var is 97% full\"," \
	"\"description\":\"only 1.2 GiB left\\non /var\"},\"startsAt\":\"2026-12-06T05:00:00.123456789Z\"," \
	"\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://prom:9090/graph?g0.expr=x\"," \
	"\"fingerprint\":\"a1b2c3d4e5f60718\"}," \
	"{\"status\":\"" status2 "\",\"labels\":{\"alertname\":\"Quiet\",\"severity\":\"bogus\"}," \
	"\"annotations\":{},\"startsAt\":\"2026-12-06T05:00:00Z\",\"endsAt\":\"2026-12-06T05:10:00Z\"," \
	"\"generatorURL\":\"\",\"fingerprint\":\"ffff\"}]," \
	"\"groupLabels\":{},\"commonLabels\":{},\"commonAnnotations\":{}," \
	"\"externalURL\":\"http://am:9093\",\"version\":\"4\",\"groupKey\":\"{}:{}\",\"truncatedAlerts\":0}"

static void test_alertmanager_parse(void **state)
{
	struct ab_event **evs, **evs2;
	size_t n, n2;
	char err[256], member[64];
	const char *b = AM_BODY("firing", "resolved");

	(void)state;
	assert_int_equal(ab_http_parse_alertmanager(b, strlen(b), &evs, &n, err, sizeof err,
		member, sizeof member), 0);
	assert_int_equal(n, 2);
	assert_string_equal(evs[0]->type, "alert.firing");
	assert_string_equal(evs[0]->title, "DiskFull: /var is 97% full");
	assert_string_equal(evs[0]->summary, "only 1.2 GiB left\non /var");
	assert_int_equal(evs[0]->severity, AB_SEV_CRITICAL);   /* "page" */
	assert_string_equal(evs[0]->url, "http://prom:9090/graph?g0.expr=x");
	assert_string_equal(evs[0]->fingerprint, "a1b2c3d4e5f60718");
	assert_string_equal(evs[0]->asset, "db1:9100");
	assert_string_equal(evs[0]->team, "ops");
	assert_null(evs[0]->status);   /* a finding's status: not Alertmanager's word */
	assert_string_equal(json_string_value(json_object_get(evs[0]->fields, "status")), "firing");
	assert_string_equal(evs[0]->origin.kind, "alertmanager");
	assert_int_equal(evs[0]->category, AB_CAT_SYSTEM);
	assert_true(evs[0]->occurred_at == 1796533200123LL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(evs[0]->fields,
		"labels"), "instance")), "db1:9100");
	assert_string_equal(json_string_value(json_object_get(evs[0]->fields, "receiver")),
		"alertbridge");
	/* the second: resolved (its own status beats the group's), unknown
	 * severity word -> medium, title alone, time = endsAt */
	assert_string_equal(evs[1]->type, "alert.resolved");
	assert_string_equal(json_string_value(json_object_get(evs[1]->fields, "status")),
		"resolved");
	assert_string_equal(evs[1]->title, "[RESOLVED] Quiet");
	assert_int_equal(evs[1]->severity, AB_SEV_MEDIUM);
	assert_null(evs[1]->url);
	assert_true(evs[1]->occurred_at == 1796533800000LL);
	assert_string_equal(json_string_value(json_object_get(evs[1]->fields, "severity_label")),
		"bogus");
	/* the same notification again: the same ids; another status: another */
	assert_int_equal(ab_http_parse_alertmanager(b, strlen(b), &evs2, &n2, err, sizeof err,
		member, sizeof member), 0);
	assert_string_equal(evs[0]->id, evs2[0]->id);
	assert_string_not_equal(evs[0]->id, evs[1]->id);
	ab_http_events_free(evs2, n2);
	b = AM_BODY("resolved", "resolved");
	assert_int_equal(ab_http_parse_alertmanager(b, strlen(b), &evs2, &n2, err, sizeof err,
		member, sizeof member), 0);
	assert_string_not_equal(evs[0]->id, evs2[0]->id);
	assert_string_equal(evs[1]->id, evs2[1]->id);
	ab_http_events_free(evs2, n2);
	ab_http_events_free(evs, n);

	/* not Alertmanager's: the member to blame */
	static const struct { const char *body, *member, *msg; } bad[] = {
		{ "[1]", "", "JSON object" },
		{ "{\"version\":\"3\",\"alerts\":[]}", "version", "version 4" },
		{ "{\"version\":\"4\"}", "alerts", "no 'alerts' array" },
		{ "{\"alerts\":[7]}", "alerts[0]", "JSON object" },
		{ "{\"alerts\":[{\"status\":\"odd\"}]}", "alerts[0].status", "firing" },
		{ "{\"alerts\":[{\"status\":\"firing\",\"labels\":{\"a\":1}}]}", "alerts[0].labels",
		  "not a string" },
		{ "{\"alerts\":[{\"status\":\"firing\",\"annotations\":[]}]}",
		  "alerts[0].annotations", "an object" },
		{ "{\"alerts\":", "", "not valid JSON" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(ab_http_parse_alertmanager(bad[i].body, strlen(bad[i].body), &evs,
			&n, err, sizeof err, member, sizeof member), -1);
		assert_string_equal(member, bad[i].member);
		if (!strstr(err, bad[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].msg);
		assert_null(evs);
	}
	/* a value past the event's limits is cut, not refused */
	{
		size_t big = AB_EVENT_TITLE_MAX * 3;
		char *body = malloc(big + 200), *p;

		assert_non_null(body);
		p = body + snprintf(body, 200, "{\"alerts\":[{\"status\":\"firing\",\"labels\":"
			"{\"alertname\":\"");
		memset(p, 'x', big);
		p += big;
		snprintf(p, 60, "\"}}]}");
		assert_int_equal(ab_http_parse_alertmanager(body, strlen(body), &evs, &n, err,
			sizeof err, member, sizeof member), 0);
		assert_int_equal(strlen(evs[0]->title), AB_EVENT_TITLE_MAX);
		ab_http_events_free(evs, n);
		free(body);
	}
}

static void test_post_alertmanager(void **state)
{
	struct ab_http_resp rs;
	json_t *j;
	struct ab_store *st;
	char err[256];
	int64_t before;
	const char *b = AM_BODY("firing", "resolved");

	(void)state;
	st = ab_store_open(app.store_path, err, sizeof err);
	assert_non_null(st);
	before = ab_store_count(st, AB_JOB_QUEUED);
	assert_int_equal(call("POST", "/api/v1/alertmanager", NULL, b, &rs, &j), 401);
	json_decref(j);
	ab_http_resp_free(&rs);
	assert_int_equal(call("POST", "/api/v1/alertmanager", "Bearer tok-1", b, &rs, &j), 202);
	assert_int_equal(json_integer_value(json_object_get(j, "accepted")), 2);
	assert_int_equal(ab_store_event_exists(st, json_string_value(json_array_get(
		json_object_get(j, "ids"), 0))), 1);
	json_decref(j);
	ab_http_resp_free(&rs);
	assert_int_equal(ab_store_count(st, AB_JOB_QUEUED), before + 2);
	/* Alertmanager sending it again (its retry): no second job */
	assert_int_equal(call("POST", "/api/v1/alertmanager", "Bearer tok-1", b, &rs, &j), 202);
	json_decref(j);
	ab_http_resp_free(&rs);
	assert_int_equal(ab_store_count(st, AB_JOB_QUEUED), before + 2);
	assert_int_equal(call("POST", "/api/v1/alertmanager", "Bearer tok-1", "{\"alerts\":3}",
		&rs, &j), 400);
	assert_string_equal(jstr(j, "member"), "alerts");
	json_decref(j);
	ab_http_resp_free(&rs);
	ab_store_close(st);
}

/* Request headers for the hook tests: a NULL-ended name/value list. */
static const char *test_header(void *ctx, const char *name)
{
	const char *const *h = ctx;

	for (; h[0]; h += 2)
		if (!strcasecmp(h[0], name))
			return h[1];
	return NULL;
}

static void test_hook_verify(void **state)
{
	const char *body = "{\"event\":\"x\"}";
	struct ab_http_hook gl = { .name = "gl", .auth = AB_HOOK_AUTH_GITLAB, .secret = "s3cret" };
	struct ab_http_hook hm = { .name = "hm", .auth = AB_HOOK_AUTH_HMAC, .header = "X-Sig",
				   .prefix = "sha256=", .secret = "key" };
	struct ab_http_hook sw = { .name = "sw", .auth = AB_HOOK_AUTH_STANDARD,
				   .secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" };
	struct ab_http_hook tk = { .name = "tk" };
	const char *h_gl_ok[] = { "X-Gitlab-Token", "s3cret", NULL };
	const char *h_gl_bad[] = { "X-Gitlab-Token", "s3cre", NULL };
	/* the Standard Webhooks specification's test vector */
	const char *sw_body = "{\"test\": 2432232314}";
	const char *h_sw_ok[] = { "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp",
		"1614265330", "webhook-signature",
		"v1,bogus v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", NULL };
	struct ab_http_req rq = { .method = "POST", .path = "/api/v1/hooks/x", .peer = "127.0.0.1",
				  .body = body, .body_len = strlen(body), .header = test_header };
	char why[256];
	char hex[65];
	unsigned char mac[AB_HMAC_SHA256_LEN];
	const void *parts[] = { body };
	const size_t lens[] = { strlen(body) };

	(void)state;
	rq.header_ctx = (void *)h_gl_ok;
	assert_int_equal(ab_http_hook_verify(&app, &gl, NULL, &rq, 0, why, sizeof why), 0);
	rq.header_ctx = (void *)h_gl_bad;
	assert_int_equal(ab_http_hook_verify(&app, &gl, NULL, &rq, 0, why, sizeof why), -1);
	assert_non_null(strstr(why, "X-Gitlab-Token"));
	assert_null(strstr(why, "s3cret"));
	/* hmac: the right digest (computed here), then one bit off */
	assert_int_equal(ab_hmac_sha256("key", 3, parts, lens, 1, mac), 0);
	for (size_t i = 0; i < sizeof mac; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	{
		char sig[80];
		const char *h[] = { "X-Sig", sig, NULL };

		snprintf(sig, sizeof sig, "sha256=%s", hex);
		rq.header_ctx = (void *)h;
		assert_int_equal(ab_http_hook_verify(&app, &hm, NULL, &rq, 0, why, sizeof why), 0);
		sig[7] = sig[7] == '0' ? '1' : '0';
		assert_int_equal(ab_http_hook_verify(&app, &hm, NULL, &rq, 0, why, sizeof why), -1);
		assert_non_null(strstr(why, "does not match"));
	}
	/* Standard Webhooks: the spec's vector, at its time and an hour later */
	rq.body = sw_body;
	rq.body_len = strlen(sw_body);
	rq.header_ctx = (void *)h_sw_ok;
	assert_int_equal(ab_http_hook_verify(&app, &sw, NULL, &rq, 1614265330000LL, why,
		sizeof why), 0);
	assert_int_equal(ab_http_hook_verify(&app, &sw, NULL, &rq, 1614265330000LL + 3600000, why,
		sizeof why), -1);
	assert_non_null(strstr(why, "not within"));
	/* token: the API's bearer tokens */
	rq.authorization = "Bearer tok-1";
	assert_int_equal(ab_http_hook_verify(&app, &tk, NULL, &rq, 0, why, sizeof why), 0);
	rq.authorization = "Bearer nope";
	assert_int_equal(ab_http_hook_verify(&app, &tk, NULL, &rq, 0, why, sizeof why), -1);
}

static void test_health(void **state)
{
	struct ab_http_resp rs;
	json_t *j;

	(void)state;
	assert_int_equal(call("GET", "/healthz", NULL, NULL, &rs, &j), 200);
	assert_true(json_is_true(json_object_get(j, "alive")));
	json_decref(j);
	ab_http_resp_free(&rs);
	assert_int_equal(call("GET", "/readyz", NULL, NULL, &rs, &j), 200);
	assert_true(json_is_true(json_object_get(j, "ready")));
	assert_string_equal(jstr(json_object_get(j, "checks"), "store"), "ok");
	json_decref(j);
	ab_http_resp_free(&rs);
}

static AB_METRIC_GAUGE(m_paused, "alertbridge_syslog_paused", "test stand-in", NULL, NULL);

static void test_readyz_paused(void **state)
{
	struct ab_http_resp rs;
	json_t *j;

	(void)state;
	ab_metric_set(&m_paused, NULL, NULL, 1);
	assert_int_equal(call("GET", "/readyz", NULL, NULL, &rs, &j), 503);
	assert_non_null(strstr(jstr(j, "error"), "paused"));
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 503);
	assert_string_equal(jstr(json_object_get(j, "checks"), "store"), "ok");
	json_decref(j);
	ab_http_resp_free(&rs);
	ab_metric_set(&m_paused, NULL, NULL, 0);
}

static void test_metrics(void **state)
{
	struct ab_http_resp rs;
	const char *s;

	(void)state;
	assert_int_equal(call("GET", "/metrics", NULL, NULL, &rs, NULL), 200);
	assert_string_equal(rs.content_type, "text/plain; version=0.0.4; charset=utf-8");
	s = ab_buf_cstr(&rs.body);
	assert_non_null(strstr(s, "# TYPE alertbridge_jobs gauge\n"));
	/* 2 from POST /api/v1/events, 2 from the Alertmanager receiver */
	assert_non_null(strstr(s, "alertbridge_jobs{channel=\"file\",state=\"queued\"} 4\n"));
	assert_non_null(strstr(s, "alertbridge_jobs{channel=\"file\",state=\"dead\"} 0\n"));
	assert_non_null(strstr(s, "alertbridge_channel_up{channel=\"file\"} 1\n"));
	assert_non_null(strstr(s, "alertbridge_events_received_total{input=\"http\"} 2\n"));
	assert_non_null(strstr(s, "alertbridge_store_commit_seconds_count "));
	assert_non_null(strstr(s, "alertbridge_queue_oldest_job_age_seconds{channel=\"file\"} "));
	assert_non_null(strstr(s, "alertbridge_store_min_free_bytes 67108864\n"));
	ab_http_resp_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_router),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_cap),
		cmocka_unit_test(test_post_events),
		cmocka_unit_test(test_alertmanager_parse),
		cmocka_unit_test(test_post_alertmanager),
		cmocka_unit_test(test_hook_verify),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_readyz_paused),
		cmocka_unit_test(test_metrics),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
