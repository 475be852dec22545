/*
 * test_httpchan.c - unit tests for the HTTP channel skeleton
 * (plugins/common/httpchan.c) with a toy descriptor: the plugin struct it
 * exports, the order of the create() checks and release of a half-built
 * private struct, skip/render/headers hooks and the result each failure
 * maps to, content type, test(), check() (the url through host->url_check),
 * ABI 1.3's http_prepare/http_result (the request send() makes, the same
 * result) and the header list bounds.
 */
#include "../harness/chantest.h"
#include "httpchan.h"
#include "render.h"

static int toy_destroyed;           /* toy_free calls */

struct toy {
	char *mode;                 /* "", "skip", "badrender", "badheaders" */
	char *extra;                /* a static header line, or NULL */
};

static void toy_free(void *priv)
{
	struct toy *t = priv;

	toy_destroyed++;
	free(t->mode);
	free(t->extra);
	free(t);
}

static int toy_parse(const struct ab_host *h, json_t *cfg, void **priv, char *err,
	size_t errsz)
{
	struct toy *t = calloc(1, sizeof *t);
	const char *mode = json_string_value(json_object_get(cfg, "mode"));

	(void)h;
	if (!(*priv = t))
		return -1;
	/* Allocate first, then fail: the base must still release it. */
	t->mode = strdup(mode ? mode : "");
	if (mode && strcmp(mode, "parsefail") == 0) {
		snprintf(err, errsz, "setting 'mode': parsefail asked for");
		return -1;
	}
	json_object_del(cfg, "mode");
	if (json_object_get(cfg, "extra")) {
		t->extra = strdup(json_string_value(json_object_get(cfg, "extra")));
		json_object_del(cfg, "extra");
	}
	return 0;
}

static bool toy_skip(const void *priv, const struct ab_message *msg, char *note, size_t notesz)
{
	const struct toy *t = priv;

	if (strcmp(t->mode, "skip") != 0 || msg->kind == AB_MSG_TEST)
		return false;
	snprintf(note, notesz, "skipped by toy");
	return true;
}

static char *toy_render(const void *priv, const struct ab_message *msg, size_t *len, char *err,
	size_t errsz)
{
	const struct toy *t = priv;
	json_t *o;
	char *out;

	if (strcmp(t->mode, "badrender") == 0) {
		snprintf(err, errsz, "toy cannot render this");
		return NULL;
	}
	o = json_pack("{s:i,s:s,s:s}", "kind", (int)msg->kind, "id", msg->id,
		"title", rd_str(msg->payload, "title"));
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	*len = strlen(out);
	return out;
}

static int toy_headers(const struct ab_host *h, const void *priv, const struct ab_message *msg,
	const char *body, size_t len, struct hc_headers *out, char *err, size_t errsz)
{
	const struct toy *t = priv;

	(void)body;
	if (strcmp(t->mode, "badheaders") == 0) {
		snprintf(err, errsz, "toy headers failed");
		return -1;
	}
	hc_header_printf(out, "X-Len: %zu", len);
	hc_header_printf(out, "X-Now: %lld", (long long)h->now_ms(h));
	hc_header_printf(out, "X-Id: %s", msg->id);
	if (t->extra)
		hc_header_add(out, t->extra);
	return 0;
}

const struct hc_desc hc_plugin_desc = {
	.plugin = HC_PLUGIN("toy", "toy channel for the httpchan tests", 0.5),
	.content_type = "application/x-toy",
	.parse = toy_parse,
	.skip = toy_skip,
	.render = toy_render,
	.headers = toy_headers,
	.destroy = toy_free,
};

static void test_plugin_struct(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();

	(void)state;
	assert_int_equal(p->abi, AB_PLUGIN_ABI);
	assert_int_equal(p->size, sizeof(struct ab_plugin));
	assert_string_equal(p->name, "toy");
	assert_string_equal(p->description, "toy channel for the httpchan tests");
	assert_ptr_equal(p->create, hc_create);
	assert_ptr_equal(p->send, hc_send);
	assert_ptr_equal(p->test, hc_test);
	assert_null(p->flush);
	assert_ptr_equal(p->destroy, hc_destroy);
	p->destroy(NULL);                   /* a no-op */
	/* ABI 1.2: the rate given to HC_PLUGIN, ca_file a path, the url check */
	assert_true(p->default_rate == 0.5);
	assert_non_null(p->path_settings);
	assert_string_equal(p->path_settings[0], "ca_file");
	assert_null(p->path_settings[1]);
	assert_ptr_equal(p->check, hc_check);
}

/* check(): the url (a resolved secret) through host->url_check, https
 * unless allow_http, allow_networks passed on; each answer mapped. */
static void test_check(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();
	json_t *c;
	char err[256];

	(void)state;
	mock_host_secret(&ct_mh, "env:TOY_URL", "https://hooks.example.com/s3cret");
	c = json_pack("{s:s,s:[s,s]}", "url", "env:TOY_URL", "allow_networks", "10.0.0.0/8",
		"192.168.0.0/16");
	assert_int_equal(p->check(c, &ct_mh.host, err, sizeof err), 0);
	assert_int_equal(ct_mh.n_url_checks, 1);
	assert_string_equal(ct_mh.url_seen, "https://hooks.example.com/s3cret");
	assert_int_equal(ct_mh.url_kind_seen, AB_URL_HTTPS);
	assert_int_equal(ct_mh.url_nets_seen, 2);
	ct_mh.url_result = AB_URL_REFUSED;
	assert_int_equal(p->check(c, &ct_mh.host, err, sizeof err), -1);
	assert_string_equal(err, "setting 'url': mock url check -1");
	ct_mh.url_result = AB_URL_BAD_NETWORK;
	assert_int_equal(p->check(c, &ct_mh.host, err, sizeof err), -1);
	assert_string_equal(err, "setting 'allow_networks': mock url check -3");
	ct_mh.url_result = AB_URL_UNRESOLVED;      /* a warning */
	assert_int_equal(p->check(c, &ct_mh.host, err, sizeof err), 1);
	assert_string_equal(err, "setting 'url': mock url check -2");
	json_decref(c);

	ct_mh.url_result = AB_URL_OK;
	c = json_pack("{s:s,s:b}", "url", "http://127.0.0.1:8080/x", "allow_http", 1);
	assert_int_equal(p->check(c, &ct_mh.host, err, sizeof err), 0);
	assert_int_equal(ct_mh.url_kind_seen, AB_URL_HTTP);
	assert_int_equal(ct_mh.url_nets_seen, 0);
	json_decref(c);

	/* a secret that does not resolve is the url's error */
	c = json_pack("{s:s}", "url", "env:TOY_NOT_SET");
	assert_int_equal(p->check(c, &ct_mh.host, err, sizeof err), -1);
	assert_non_null(strstr(err, "setting 'url': "));
	json_decref(c);

	/* a host before ABI 1.2 has no url_check: nothing to say */
	ct_mh.n_url_checks = 0;
	ct_mh.host.size = (uint32_t)offsetof(struct ab_host, url_check);
	c = json_pack("{s:s}", "url", "https://hooks.example.com/x");
	assert_int_equal(p->check(c, &ct_mh.host, err, sizeof err), 0);
	assert_int_equal(ct_mh.n_url_checks, 0);
	ct_mh.host.size = sizeof ct_mh.host;
	json_decref(c);
}

static void test_create(void **state)
{
	void *inst;

	(void)state;
	toy_destroyed = 0;
	/* The common settings come first: no private struct was built. */
	assert_non_null(strstr(ct_create_err("{\"mode\":\"parsefail\"}"), "setting 'url'"));
	assert_int_equal(toy_destroyed, 0);
	assert_non_null(strstr(ct_create_err("{\"url\":\"https://x/\",\"timeout\":0}"),
		"setting 'timeout'"));
	assert_int_equal(toy_destroyed, 0);
	/* A failing parser: its message, and its half-built struct released. */
	assert_string_equal(ct_create_err("{\"url\":\"https://x/\",\"mode\":\"parsefail\"}"),
		"setting 'mode': parsefail asked for");
	assert_int_equal(toy_destroyed, 1);
	/* Left-over keys are unknown settings, named with the plugin. */
	assert_string_equal(ct_create_err("{\"url\":\"https://x/\",\"bogus\":1}"),
		"setting 'bogus': unknown setting for a toy channel");
	assert_int_equal(toy_destroyed, 2);
	inst = ct_create("{\"url\":\"https://x/\",\"mode\":\"\"}");
	alertbridge_plugin()->destroy(inst);
	assert_int_equal(toy_destroyed, 3);
}

static void test_send(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\":\"http://127.0.0.1:9/h\",\"allow_http\":true,"
		"\"extra\":\"X-Static: yes\"}");
	json_t *b;
	char want[32];

	(void)state;
	ct_mh.now = 1714564800123LL;
	b = ct_send(inst, AB_MSG_EVENT, ct_event("high", "the title", "s"), &res);
	assert_int_equal(res.status, AB_OK);
	assert_int_equal(res.code, 200);
	assert_int_equal(mock_http.calls, 1);
	assert_string_equal(mock_http.url, "http://127.0.0.1:9/h");
	assert_true(mock_http.allow_http);
	assert_string_equal(mock_http.content_type, "application/x-toy");
	assert_non_null(b);
	assert_string_equal(json_string_value(json_object_get(b, "title")), "the title");
	assert_int_equal(json_integer_value(json_object_get(b, "kind")), AB_MSG_EVENT);
	/* Headers computed from the body, in the order the hook added them. */
	assert_int_equal(mock_http.n_headers, 4);
	snprintf(want, sizeof want, "%zu", mock_http.body_len);
	assert_string_equal(mock_http_header("X-Len"), want);
	assert_string_equal(mock_http_header("X-Now"), "1714564800123");
	assert_string_equal(mock_http_header("X-Id"), "0123456789abcdef0123456789abcdef");
	assert_string_equal(mock_http.headers[3], "X-Static: yes");
	json_decref(b);

	/* HTTP answers map through rd_http_post. */
	mock_http.status = 503;
	mock_http.answer = "busy";
	mock_http.retry_after = 7;
	b = ct_send(inst, AB_MSG_EVENT, ct_event("high", "t", "s"), &res);
	assert_int_equal(res.status, AB_RETRY);
	assert_int_equal(res.code, 503);
	assert_int_equal(res.retry_after, 7);
	assert_non_null(strstr(res.message, "busy"));
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
}

/* ABI 1.3's split: http_prepare builds the request send() would make (the
 * host performs it), http_result maps the answer as send() does; a hook
 * failure or a skip is decided in http_prepare, with no request. */
static void test_split(void **state)
{
	static const struct { const char *mode; enum ab_status status; } fails[] = {
		{ "skip", AB_OK }, { "badrender", AB_PERMANENT }, { "badheaders", AB_RETRY },
	};
	const struct ab_plugin *p = alertbridge_plugin();
	void *inst = ct_create("{\"url\":\"https://hooks.example.com/x\",\"extra\":\"X-Static: yes\"}");
	json_t *ev = ct_event("high", "the title", "s");
	struct ab_message m = { .kind = AB_MSG_EVENT, .attempt = 1, .payload = ev,
		.id = "0123456789abcdef0123456789abcdef" };
	struct ab_http_request req;
	struct ab_http_response resp;
	struct ab_result res, via_send;
	void *st = NULL;
	json_t *b;

	(void)state;
	assert_ptr_equal(p->http_prepare, hc_http_prepare);
	assert_ptr_equal(p->http_result, hc_http_result);
	for (int answer = 0; answer < 2; answer++) {
		mock_http.status = answer ? 429 : 202;
		mock_http.answer = answer ? "slow down" : "accepted";
		mock_http.retry_after = answer ? 4 : 0;
		memset(&req, 0, sizeof req);
		assert_int_equal(p->http_prepare(inst, &m, &req, &st, &res), 1);
		assert_non_null(st);
		assert_string_equal(req.url, "https://hooks.example.com/x");
		assert_string_equal(req.method, "POST");
		assert_string_equal(req.content_type, "application/x-toy");
		assert_non_null(req.headers);
		assert_string_equal(req.headers[3], "X-Static: yes");
		assert_null(req.headers[4]);
		b = json_loadb(req.body, req.body_len, 0, NULL);
		assert_non_null(b);
		assert_string_equal(json_string_value(json_object_get(b, "title")), "the title");
		json_decref(b);
		/* the host performs it; then the plugin maps the answer */
		mock_http.calls = 0;
		memset(&resp, 0, sizeof resp);
		ct_mh.host.http(&ct_mh.host, &req, &resp);
		memset(&res, 0, sizeof res);
		p->http_result(inst, st, &resp, &res);
		ct_mh.host.http_free(&ct_mh.host, &resp);
		/* send() gives the same result and sends the same body */
		b = ct_send(inst, AB_MSG_EVENT, json_incref(ev), &via_send);
		assert_non_null(b);
		json_decref(b);
		assert_int_equal(res.status, via_send.status);
		assert_int_equal(res.status, answer ? AB_RETRY : AB_OK);
		assert_int_equal(res.code, via_send.code);
		assert_int_equal(res.retry_after, via_send.retry_after);
		assert_string_equal(res.message, via_send.message);
	}
	/* a host that drops a prepared request only releases its state */
	assert_int_equal(p->http_prepare(inst, &m, &req, &st, &res), 1);
	p->http_result(inst, st, NULL, NULL);
	p->destroy(inst);
	json_decref(ev);

	for (size_t i = 0; i < sizeof fails / sizeof fails[0]; i++) {
		char conf[128];

		snprintf(conf, sizeof conf, "{\"url\":\"https://x/\",\"mode\":\"%s\"}",
			fails[i].mode);
		inst = ct_create(conf);
		ev = ct_event("high", "t", "s");
		m.payload = ev;
		mock_http.calls = 0;
		st = &st;
		memset(&res, 0, sizeof res);
		assert_int_equal(p->http_prepare(inst, &m, &req, &st, &res), 0);
		assert_null(st);
		assert_int_equal(res.status, fails[i].status);
		assert_int_equal(ct_send(inst, AB_MSG_EVENT, ev, &via_send), NULL);
		assert_int_equal(via_send.status, res.status);
		assert_string_equal(via_send.message, res.message);
		assert_int_equal(mock_http.calls, 0);
		p->destroy(inst);
	}
}

static void test_hooks_fail(void **state)
{
	static const struct {
		const char *mode;
		enum ab_status status;
		const char *message;
	} cases[] = {
		{ "skip", AB_OK, "skipped by toy" },              /* delivered, nothing sent */
		{ "badrender", AB_PERMANENT, "toy cannot render this" },
		{ "badheaders", AB_RETRY, "toy headers failed" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ab_result res;
		char conf[128];
		void *inst;

		snprintf(conf, sizeof conf, "{\"url\":\"https://x/\",\"mode\":\"%s\"}",
			cases[i].mode);
		inst = ct_create(conf);
		assert_null(ct_send(inst, AB_MSG_EVENT, ct_event("high", "t", "s"), &res));
		assert_int_equal(mock_http.calls, 0);
		assert_int_equal(res.status, cases[i].status);
		assert_int_equal(res.code, 0);
		assert_string_equal(res.message, cases[i].message);
		if (cases[i].status == AB_OK) {
			alertbridge_plugin()->test(inst, &res);  /* the toy never skips tests */
			assert_int_equal(res.status, AB_OK);
			assert_int_equal(mock_http.calls, 1);
		}
		alertbridge_plugin()->destroy(inst);
	}
}

static void test_test_message(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\":\"https://x/\"}");
	json_t *b;

	(void)state;
	alertbridge_plugin()->test(inst, &res);
	assert_int_equal(res.status, AB_OK);
	assert_int_equal(mock_http.calls, 1);
	b = json_loads(mock_http.body, 0, NULL);
	assert_non_null(b);
	assert_int_equal(json_integer_value(json_object_get(b, "kind")), AB_MSG_TEST);
	/* a fresh id per test (receivers drop duplicates by id) */
	assert_int_equal(strlen(json_string_value(json_object_get(b, "id"))), 32);
	assert_string_not_equal(json_string_value(json_object_get(b, "id")),
		"00000000000000000000000000000000");
	assert_string_equal(json_string_value(json_object_get(b, "title")),
		"Test message from alertbridge to channel chan");
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
}

static void test_header_bounds(void **state)
{
	struct hc_headers hh;
	char big[HC_HEADER_LINE_MAX + 2];

	(void)state;
	memset(&hh, 0, sizeof hh);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(hc_header_printf(&hh, "X-Big: %s", big), -1);
	assert_int_equal(hh.n, 0);
	assert_int_equal(hc_header_printf(&hh, "X-A: %d", 1), 0);
	assert_string_equal(hh.v[0], "X-A: 1");
	for (int i = 1; i < HC_HEADERS_MAX; i++)
		assert_int_equal(hc_header_add(&hh, "X-B: 2"), 0);
	assert_int_equal(hh.n, HC_HEADERS_MAX);
	assert_null(hh.v[HC_HEADERS_MAX]);
	assert_int_equal(hc_header_add(&hh, "X-C: 3"), -1);
	assert_int_equal(hc_header_printf(&hh, "X-D: %d", 4), -1);
	assert_int_equal(hh.n, HC_HEADERS_MAX);
	for (size_t i = 0; i < hh.n_own; i++)
		free(hh.own[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plugin_struct),
		cmocka_unit_test_setup_teardown(test_check, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_create, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_split, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_send, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_hooks_fail, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_test_message, ct_setup, ct_teardown),
		cmocka_unit_test(test_header_bounds),
	};
	return cmocka_run_group_tests_name("httpchan", tests, NULL, NULL);
}
