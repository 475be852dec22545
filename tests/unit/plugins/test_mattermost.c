/*
 * test_mattermost.c - unit tests for the mattermost channel plugin:
 * attachments (color, title, title_link, fields), optional channel /
 * username / icon, props.card, Markdown escaping and broken @mentions.
 */
#include "../harness/chantest.h"

static void test_shape(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\":\"https://mm.example.com/hooks/abc\",\"channel\":\"sec\","
		"\"username\":\"alertbridge\"}");
	json_t *b = ct_send(inst, AB_MSG_EVENT, ct_event("medium", "@channel *bold* [x](y)",
		"see @all"), &res), *att, *f;
	const char *card;

	(void)state;
	assert_int_equal(res.status, AB_OK);
	assert_string_equal(json_string_value(json_object_get(b, "channel")), "sec");
	assert_string_equal(json_string_value(json_object_get(b, "username")), "alertbridge");
	att = json_array_get(json_object_get(b, "attachments"), 0);
	assert_string_equal(json_string_value(json_object_get(att, "color")), "#ECB22E");
	assert_string_equal(json_string_value(json_object_get(att, "title_link")),
		"https://findings.example.com/f/42");
	f = json_object_get(att, "fields");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "title")),
		"Severity");
	assert_true(json_is_true(json_object_get(json_array_get(f, 0), "short")));
	assert_string_equal(json_string_value(json_object_get(att, "text")), "see @\xe2\x80\x8b" "all");
	card = json_string_value(json_object_get(json_object_get(b, "props"), "card"));
	assert_non_null(card);
	assert_non_null(strstr(card, "| Asset | payments-api |"));
	assert_non_null(strstr(card, "\\*bold\\* \\[x\\]\\(y\\)"));
	assert_null(strstr(mock_http.body, "@channel"));
	assert_null(strstr(mock_http.body, "@all"));
	json_decref(b);
	b = ct_send(inst, AB_MSG_GROUP, ct_group(50, 10, false), &res);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(strstr(mock_http.body, "and 20 more"));
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
	assert_non_null(strstr(ct_create_err("{\"url\":\"https://x/\",\"channel\":\"a\\nb\"}"),
		"setting 'channel'"));
}

/* ABI 1.2: the default rate 1 per second, ca_file a path setting, the url checked. */
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
		cmocka_unit_test_setup_teardown(test_shape, ct_setup, ct_teardown),
	};
	return cmocka_run_group_tests_name("mattermost", tests, NULL, NULL);
}
