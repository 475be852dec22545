/*
 * test_slack.c - unit tests for the slack channel plugin with the mock
 * host and mock HTTP: settings, Block Kit shape field by field (parsed
 * JSON), escaping of & < > (no "<!channel>" ping), header/section limits
 * with UTF-8-safe truncation and a "view full" link, groups and digests
 * within 50 blocks, result classes and the test message.
 */
#include "../harness/chantest.h"

#define URL "{\"url\": \"https://hooks.slack.com/services/T0/B0/secret\"}"

static void test_settings(void **state)
{
	(void)state;
	assert_non_null(strstr(ct_create_err("{}"), "setting 'url'"));
	assert_non_null(strstr(ct_create_err("{\"url\":\"https://x/\",\"bogus\":1}"),
		"setting 'bogus'"));
	assert_non_null(strstr(ct_create_err("{\"url\":\"https://x/\",\"allow_networks\":[1]}"),
		"setting 'allow_networks'"));
}

static void test_event_shape(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\": \"https://hooks.slack.com/services/T0/B0/secret\", "
		"\"allow_networks\": [\"127.0.0.0/8\"]}");
	json_t *b = ct_send(inst, AB_MSG_EVENT, ct_event("critical", "SQL injection in login",
		"User input reaches a query."), &res), *att, *blocks, *fields;

	assert_int_equal(res.status, AB_OK);
	assert_non_null(b);
	assert_string_equal(mock_http.url, "https://hooks.slack.com/services/T0/B0/secret");
	assert_string_equal(mock_http.content_type, "application/json");
	assert_string_equal(mock_http.allow0, "127.0.0.0/8");
	assert_non_null(strstr(json_string_value(json_object_get(b, "text")),
		"SQL injection in login"));
	assert_non_null(strstr(json_string_value(json_object_get(b, "text")), "CRITICAL"));
	att = json_array_get(json_object_get(b, "attachments"), 0);
	assert_string_equal(json_string_value(json_object_get(att, "color")), "#E01E5A");
	blocks = json_object_get(att, "blocks");
	assert_string_equal(json_string_value(json_object_get(json_array_get(blocks, 0), "type")),
		"header");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(blocks, 0), "text"), "text")), ":red_circle: SQL injection in login");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(blocks, 1), "text"), "text")), "User input reaches a query.");
	fields = json_object_get(json_array_get(blocks, 2), "fields");
	assert_int_equal(json_array_size(fields), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 0), "text")),
		"*Severity*\nCRITICAL");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 3), "text")),
		"*Asset*\npayments-api");
	assert_string_equal(json_string_value(json_object_get(json_array_get(blocks, 3), "type")),
		"context");
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(
		json_array_get(blocks, 3), "elements"), 0), "text")), "Tool: semgrep"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
		json_array_get(blocks, 4), "elements"), 0), "url")), "https://findings.example.com/f/42");
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
}

static void test_escaping(void **state)
{
	struct ab_result res;
	void *inst = ct_create(URL);
	json_t *b = ct_send(inst, AB_MSG_EVENT, ct_event("high", "<!channel> & <@U123> <https://evil|x>",
		"<!here> ping"), &res);
	json_t *blocks = json_object_get(json_array_get(json_object_get(b, "attachments"), 0),
		"blocks");

	assert_non_null(b);
	assert_null(strstr(mock_http.body, "<!channel>"));
	assert_null(strstr(mock_http.body, "<!here>"));
	assert_null(strstr(mock_http.body, "<@U123>"));
	assert_null(strstr(mock_http.body, "<https://evil"));
	assert_non_null(strstr(json_string_value(json_object_get(b, "text")),
		"&lt;!channel&gt; &amp; &lt;@U123&gt;"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(blocks, 1), "text"), "text")), "&lt;!here&gt; ping");
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
}

static void test_limits(void **state)
{
	struct ab_result res;
	void *inst = ct_create(URL);
	char *title = malloc(3 * 400 + 1), *sum = malloc(3 * 5000 + 1);
	json_t *b, *blocks;
	const char *h, *s;

	/* Three-byte characters: a byte-wise cut would break UTF-8 (json_loads fails). */
	for (int i = 0; i < 400; i++)
		memcpy(title + 3 * i, "\xe2\x82\xac", 3);
	title[1200] = '\0';
	for (int i = 0; i < 5000; i++)
		memcpy(sum + 3 * i, "\xe2\x82\xac", 3);
	sum[15000] = '\0';
	b = ct_send(inst, AB_MSG_EVENT, ct_event("low", title, sum), &res);
	assert_non_null(b);
	blocks = json_object_get(json_array_get(json_object_get(b, "attachments"), 0), "blocks");
	h = json_string_value(json_object_get(json_object_get(json_array_get(blocks, 0), "text"),
		"text"));
	assert_true(ct_chars(h) <= 150);
	assert_true(ct_chars(h) >= 140);
	assert_non_null(strstr(h, "\xe2\x80\xa6"));       /* ellipsis */
	s = json_string_value(json_object_get(json_object_get(json_array_get(blocks, 1), "text"),
		"text"));
	assert_true(ct_chars(s) <= 3000);
	assert_non_null(strstr(s, "<https://findings.example.com/f/42|view full>"));
	json_decref(b);
	free(title);
	free(sum);
	alertbridge_plugin()->destroy(inst);
}

static void test_group_and_digest(void **state)
{
	struct ab_result res;
	void *inst = ct_create(URL);
	json_t *b = ct_send(inst, AB_MSG_GROUP, ct_group(120, 180, false), &res), *blocks;
	const char *all;

	assert_int_equal(res.status, AB_OK);
	assert_non_null(b);
	blocks = json_object_get(json_array_get(json_object_get(b, "attachments"), 0), "blocks");
	assert_true(json_array_size(blocks) <= 50);
	assert_true(json_array_size(blocks) >= 40);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(blocks, 1), "text"), "text")), "*300 alerts*: 60 critical, 240 high");
	all = mock_http.body;
	assert_non_null(strstr(all, "and 260 more"));
	assert_non_null(strstr(json_string_value(json_object_get(b, "text")), "Code scan results"));
	json_decref(b);

	b = ct_send(inst, AB_MSG_DIGEST, ct_group(3, 0, true), &res);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(strstr(mock_http.body, "finding 2"));
	assert_non_null(strstr(mock_http.body, "alertbridge digest"));
	json_decref(b);
	/* A group payload without "group" is refused permanently, nothing sent. */
	b = ct_send(inst, AB_MSG_GROUP, json_pack("{s:[]}", "items"), &res);
	assert_null(b);
	assert_int_equal(res.status, AB_PERMANENT);
	alertbridge_plugin()->destroy(inst);
}

static void test_results(void **state)
{
	struct ab_result res;
	void *inst = ct_create(URL);
	json_t *b;

	mock_http.status = 404;
	mock_http.answer = "no_service";
	b = ct_send(inst, AB_MSG_EVENT, ct_event("info", "t", "s"), &res);
	assert_int_equal(res.status, AB_PERMANENT);
	assert_int_equal(res.code, 404);
	assert_non_null(strstr(res.message, "no_service"));
	assert_null(strstr(res.message, "secret"));
	json_decref(b);
	mock_http.status = 429;
	mock_http.answer = "rate_limited";
	mock_http.retry_after = 3;
	b = ct_send(inst, AB_MSG_EVENT, ct_event("info", "t", "s"), &res);
	assert_int_equal(res.status, AB_RETRY);
	assert_int_equal(res.retry_after, 3);
	json_decref(b);
	mock_http.status = 0;
	mock_http.retry_after = 0;
	mock_http.answer = NULL;
	alertbridge_plugin()->test(inst, &res);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(strstr(mock_http.body, "[TEST]"));
	assert_non_null(strstr(mock_http.body, "Test message from alertbridge to channel chan"));
	alertbridge_plugin()->destroy(inst);
}

/* ABI 1.2: the default rate 1 per second, ca_file a path setting, the url checked. */
/* Templates: the operator's words, values escaped for Slack (a title's
 * "<!channel>" never pings), every field missing gives no error, a broken
 * template is a settings error naming the part, line and column. */
static void test_template(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\": \"https://hooks.slack.com/services/T0/B0/x\", "
		"\"template\": {\"title\": \"{{label}}: {{title}} @ {{asset}}{{^asset}}?{{/asset}}\","
		" \"body\": \"CWE {{fields.cwe}}{{^fields.cwe}}unknown{{/fields.cwe}} - {{summary}}\","
		" \"text\": \"New: {{title}}\"}}");
	json_t *ev = ct_event("high", "<!channel> & <b>", "sum <@U1>"), *b;
	const char *text;

	(void)state;
	b = ct_send(inst, AB_MSG_EVENT, ev, &res);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(b);
	text = json_string_value(json_object_get(b, "text"));
	assert_string_equal(text, "New: &lt;!channel&gt; &amp; &lt;b&gt;");
	assert_non_null(strstr(mock_http.body, "HIGH: &lt;!channel&gt; &amp; &lt;b&gt; @ payments-api"));
	assert_non_null(strstr(mock_http.body, "CWE unknown - sum &lt;@U1&gt;"));
	assert_null(strstr(mock_http.body, "<!channel>"));
	json_decref(b);
	/* an event with nothing but its type: no error, the blanks stay blank */
	b = ct_send(inst, AB_MSG_EVENT, json_pack("{s:s}", "type", "x.y"), &res);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(strstr(mock_http.body, "INFO: x.y @ ?"));
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
	assert_non_null(strstr(ct_create_err("{\"url\": \"https://hooks.slack.com/services/T/B/x\", "
		"\"template\": {\"title\": \"{{#items}}\\n{{title}}\"}}"),
		"setting 'template.title': line 1, column 1: section not closed"));
	assert_non_null(strstr(ct_create_err("{\"url\": \"https://hooks.slack.com/services/T/B/x\", "
		"\"template\": {\"subject\": \"x\"}}"),
		"setting 'template.subject': no such part (this channel type has: title, body, text)"));
}

static void test_abi12(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();

	(void)state;
	assert_true(p->default_rate == 1.0);
	assert_string_equal(p->path_settings[0], "ca_file");
	assert_null(p->path_settings[1]);
	assert_non_null(p->check);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi12),
		cmocka_unit_test_setup_teardown(test_settings, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_event_shape, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_escaping, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_limits, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_group_and_digest, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_results, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_template, ct_setup, ct_teardown),
	};
	return cmocka_run_group_tests_name("slack", tests, NULL, NULL);
}
