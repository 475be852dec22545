/*
 * test_teams.c - unit tests for the teams channel plugin with the mock host
 * and mock HTTP: the Workflows envelope and Adaptive Card 1.4 field by
 * field (text from outside only in TextRuns, as it is; times through the
 * card's DATE/TIME functions), schema validation of every rendered card (python3 jsonschema with
 * tests/data/adaptive-card-1.4.schema.json; a broken card must fail it),
 * the 24 KB cap with huge summaries and groups, 202 accepted.
 */
#include <sys/wait.h>
#include "../harness/chantest.h"

#define URL "{\"url\": \"https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SECRET\"}"

/* 0 when the JSON text validates against the schema. */
static int validate(const char *json)
{
	char path[] = "/tmp/ab_teams_XXXXXX", cmd[1024];
	const char *src = getenv("top_srcdir");
	int fd = mkstemp(path), rc;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "python3 -c 'import json,sys,jsonschema; "
		"s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2])); "
		"jsonschema.Draft7Validator(s).validate(d)' "
		"%s/tests/data/adaptive-card-1.4.schema.json %s 2>/dev/null",
		src ? src : "../..", path);
	rc = system(cmd);
	unlink(path);
	assert_true(WIFEXITED(rc));
	assert_int_not_equal(WEXITSTATUS(rc), 127);   /* python3 missing is an error */
	return WEXITSTATUS(rc);
}

/* A string member, or "". */
static const char *str_of(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* The value of the labelled row (a ColumnSet: label RichTextBlock/TextRun,
 * value RichTextBlock/TextRun or TextBlock), or NULL. */
static const json_t *row(const json_t *body, const char *label, const char **text)
{
	for (size_t i = 0; i < json_array_size(body); i++) {
		const json_t *cs = json_array_get(body, i), *cols = json_object_get(cs, "columns");
		const json_t *l = json_array_get(json_object_get(json_array_get(cols, 0), "items"), 0);
		const json_t *v = json_array_get(json_object_get(json_array_get(cols, 1), "items"), 0);

		if (strcmp(str_of(cs, "type"), "ColumnSet") ||
		    strcmp(str_of(json_array_get(json_object_get(l, "inlines"), 0), "text"), label))
			continue;
		*text = !strcmp(str_of(v, "type"), "RichTextBlock") ?
			str_of(json_array_get(json_object_get(v, "inlines"), 0), "text") : str_of(v, "text");
		return v;
	}
	return NULL;
}

/* Text from outside goes into TextRuns as it is (no Markdown escapes, which
 * Teams clients show differently); our labels stay TextBlocks; the time uses
 * the card's DATE/TIME functions. */
static void test_event_card(void **state)
{
	struct ab_result res;
	void *inst = ct_create(URL);
	json_t *b, *att, *card, *body, *act, *t0, *ev;
	const json_t *v;
	const char *text;

	(void)state;
	mock_http.status = 202;
	ev = ct_event("critical", "RCE *in* [parser](x) code_scan alert(1) **bold**",
		"Details _here_ <b>x</b> C:\\temp");
	json_object_set_new(ev, "received_at", json_string("2026-12-04T16:50:47.857Z"));
	json_object_set_new(ev, "status", json_string("new"));
	b = ct_send(inst, AB_MSG_EVENT, ev, &res);
	assert_int_equal(res.status, AB_OK);
	assert_int_equal(res.code, 202);
	assert_string_equal(mock_http.content_type, "application/json");
	assert_string_equal(json_string_value(json_object_get(b, "type")), "message");
	att = json_array_get(json_object_get(b, "attachments"), 0);
	assert_string_equal(json_string_value(json_object_get(att, "contentType")),
		"application/vnd.microsoft.card.adaptive");
	card = json_object_get(att, "content");
	assert_string_equal(json_string_value(json_object_get(card, "type")), "AdaptiveCard");
	assert_string_equal(json_string_value(json_object_get(card, "version")), "1.4");
	assert_string_equal(json_string_value(json_object_get(json_object_get(card, "msteams"),
		"width")), "Full");
	body = json_object_get(card, "body");
	t0 = json_array_get(body, 0);
	assert_string_equal(str_of(t0, "type"), "RichTextBlock");
	assert_string_equal(str_of(json_array_get(json_object_get(t0, "inlines"), 0), "color"),
		"attention");
	assert_string_equal(str_of(json_array_get(json_object_get(t0, "inlines"), 0), "text"),
		"[CRITICAL] ");
	assert_string_equal(str_of(json_array_get(json_object_get(t0, "inlines"), 1), "type"),
		"TextRun");
	assert_string_equal(str_of(json_array_get(json_object_get(t0, "inlines"), 1), "text"),
		"RCE *in* [parser](x) code_scan alert(1) **bold**");
	assert_string_equal(str_of(json_array_get(json_object_get(json_array_get(body, 1),
		"inlines"), 0), "text"), "Details _here_ <b>x</b> C:\\temp");
	assert_non_null(row(body, "Severity", &text));
	assert_string_equal(text, "CRITICAL");
	assert_non_null(v = row(body, "Asset", &text));
	assert_string_equal(str_of(v, "type"), "RichTextBlock");
	assert_string_equal(text, "payments-api");
	assert_non_null(row(body, "Source", &text));
	assert_string_equal(text, "code_scan");
	assert_non_null(v = row(body, "Time", &text));
	assert_string_equal(str_of(v, "type"), "TextBlock");
	assert_string_equal(text, "{{DATE(2026-12-04T16:50:47Z, SHORT)}} "
		"{{TIME(2026-12-04T16:50:47Z)}}");
	assert_null(strstr(mock_http.body, "FactSet"));
	act = json_array_get(json_object_get(card, "actions"), 0);
	assert_string_equal(json_string_value(json_object_get(act, "type")), "Action.OpenUrl");
	assert_string_equal(json_string_value(json_object_get(act, "url")),
		"https://findings.example.com/f/42");
	assert_int_equal(validate(mock_http.body), 0);

	/* The validator really checks structure: broken cards fail it. */
	json_object_set_new(card, "version", json_string("1.5"));
	{
		char *s = json_dumps(b, 0);
		assert_int_not_equal(validate(s), 0);
		free(s);
	}
	json_object_set_new(card, "version", json_string("1.4"));
	json_object_set_new(t0, "style", json_string("heading"));
	{
		char *s = json_dumps(b, 0);
		assert_int_not_equal(validate(s), 0);
		free(s);
	}
	json_object_del(t0, "style");
	json_object_del(json_array_get(json_object_get(t0, "inlines"), 1), "text");
	{
		char *s = json_dumps(b, 0);
		assert_int_not_equal(validate(s), 0);
		free(s);
	}
	json_decref(b);

	/* a time the card functions cannot take is shown as it is */
	ev = ct_event("low", "t", "");
	json_object_set_new(ev, "received_at", json_string("yesterday {{DATE(x)}}"));
	b = ct_send(inst, AB_MSG_EVENT, ev, &res);
	assert_non_null(v = row(json_object_get(json_object_get(json_array_get(json_object_get(b,
		"attachments"), 0), "content"), "body"), "Time", &text));
	assert_string_equal(str_of(v, "type"), "RichTextBlock");
	assert_string_equal(text, "yesterday {{DATE(x)}}");
	assert_int_equal(validate(mock_http.body), 0);
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
}

/* Lifecycle (ABI 1.6): a later event about a delivered finding names the
 * first alert with the card's DATE/TIME; a resolved one is green, marked
 * RESOLVED, its title struck through. */
static void test_followup(void **state)
{
	struct ab_result res;
	void *inst = ct_create(URL);
	json_t *ev = ct_event("high", "SQL injection", "s"), *b, *body, *t0;
	struct ab_thread th = { .event_id = "0123456789abcdef0123456789abcdee", .ref = "",
		.first_at = 1764866447000LL, .count = 2 };
	struct ab_message m = { .kind = AB_MSG_EVENT, .attempt = 1, .payload = ev,
		.id = "0123456789abcdef0123456789abcdef", .thread = &th };
	const char *text = NULL;

	(void)state;
	json_object_set_new(ev, "status", json_string("resolved"));
	alertbridge_plugin()->send(inst, &m, &res);
	assert_int_equal(res.status, AB_OK);
	b = json_loads(mock_http.body, 0, NULL);
	body = json_object_get(json_object_get(json_array_get(json_object_get(b, "attachments"), 0),
		"content"), "body");
	t0 = json_object_get(json_array_get(body, 0), "inlines");
	assert_string_equal(str_of(json_array_get(t0, 0), "text"), "[RESOLVED] ");
	assert_string_equal(str_of(json_array_get(t0, 0), "color"), "good");
	assert_true(json_is_true(json_object_get(json_array_get(t0, 1), "strikethrough")));
	text = str_of(json_array_get(body, 1), "text");
	assert_string_equal(text, "Resolves the alert first sent {{DATE(2025-12-04T16:40:47Z, "
		"SHORT)}} {{TIME(2025-12-04T16:40:47Z)}} (updated since)");
	assert_int_equal(validate(mock_http.body), 0);
	json_decref(b);
	/* a host of ABI 1.5 has no thread member: the plugin never reads it */
	ct_mh.host.abi = (AB_PLUGIN_ABI_MAJOR << 16) | 5;
	alertbridge_plugin()->send(inst, &m, &res);
	assert_int_equal(res.status, AB_OK);
	assert_null(strstr(mock_http.body, "first sent"));
	ct_mh.host.abi = AB_PLUGIN_ABI;
	/* a new finding: no such line */
	m.thread = NULL;
	json_object_set_new(ev, "status", json_string("open"));
	alertbridge_plugin()->send(inst, &m, &res);
	assert_null(strstr(mock_http.body, "first sent"));
	assert_null(strstr(mock_http.body, "RESOLVED"));
	json_decref(ev);
	alertbridge_plugin()->destroy(inst);
}

/* Templates: title and body go into TextRuns as any outside text, so
 * markup in a title stays text and the card still validates. */
static void test_template(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\": \"https://x.logic.azure.com/workflows/a\", "
		"\"template\": {\"title\": \"Befund: {{title}}\", \"body\": "
		"\"Schwere {{severity_label}}; Asset {{asset}}{{^asset}}unbekannt{{/asset}}\", "
		"\"facts\": \"Werkzeug: {{tool}}\\nTitel: {{title}}\\n\\nohne Label\"}}");
	json_t *b, *body;
	const char *text;

	(void)state;
	b = ct_send(inst, AB_MSG_EVENT, ct_event("high", "**bold** [x](https://evil) \\_", "s"),
		&res);
	assert_int_equal(res.status, AB_OK);
	body = json_object_get(json_object_get(json_array_get(json_object_get(b, "attachments"), 0),
		"content"), "body");
	assert_string_equal(str_of(json_array_get(json_object_get(json_array_get(body, 0),
		"inlines"), 1), "text"), "Befund: **bold** [x](https://evil) \\_");
	assert_string_equal(str_of(json_array_get(json_object_get(json_array_get(body, 1),
		"inlines"), 0), "text"), "Schwere HIGH; Asset payments-api");
	assert_non_null(row(body, "Werkzeug", &text));
	assert_string_equal(text, "semgrep");
	assert_non_null(row(body, "Titel", &text));
	assert_string_equal(text, "**bold** [x](https://evil) \\_");
	assert_non_null(row(body, "", &text));
	assert_string_equal(text, "ohne Label");
	assert_null(row(body, "Severity", &text));   /* the template's rows only */
	assert_int_equal(validate(mock_http.body), 0);
	json_decref(b);
	/* a newline in a value stays in its row */
	b = ct_send(inst, AB_MSG_EVENT, ct_event("high", "a\nWerkzeug: fake", "s"), &res);
	body = json_object_get(json_object_get(json_array_get(json_object_get(b, "attachments"), 0),
		"content"), "body");
	assert_non_null(row(body, "Titel", &text));
	assert_string_equal(text, "a Werkzeug: fake");
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
}

static void test_size_cap(void **state)
{
	struct ab_result res;
	void *inst = ct_create(URL);
	char *big = malloc(200001);
	json_t *b;

	(void)state;
	memset(big, 'A', 200000);
	big[200000] = '\0';
	b = ct_send(inst, AB_MSG_EVENT, ct_event("high", "big", big), &res);
	assert_int_equal(res.status, AB_OK);
	assert_true(mock_http.body_len < 24 * 1024);
	assert_int_equal(validate(mock_http.body), 0);
	json_decref(b);
	b = ct_send(inst, AB_MSG_GROUP, ct_group(300, 1000, false), &res);
	assert_int_equal(res.status, AB_OK);
	assert_true(mock_http.body_len < 24 * 1024);
	assert_non_null(strstr(mock_http.body, "1300"));
	assert_non_null(strstr(mock_http.body, "more"));
	assert_int_equal(validate(mock_http.body), 0);
	json_decref(b);
	b = ct_send(inst, AB_MSG_DIGEST, ct_group(4, 0, true), &res);
	assert_int_equal(res.status, AB_OK);
	assert_int_equal(validate(mock_http.body), 0);
	json_decref(b);
	free(big);
	alertbridge_plugin()->test(inst, &res);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(strstr(mock_http.body, "[TEST]"));
	assert_int_equal(validate(mock_http.body), 0);
	alertbridge_plugin()->destroy(inst);
}

static void test_errors(void **state)
{
	struct ab_result res;
	void *inst = ct_create(URL);
	json_t *b;

	(void)state;
	assert_non_null(strstr(ct_create_err("{\"url\": 5}"), "setting 'url'"));
	mock_http.status = 400;
	mock_http.answer = "{\"error\":{\"code\":\"InvalidRequestContent\"}}";
	b = ct_send(inst, AB_MSG_EVENT, ct_event("low", "x", "y"), &res);
	assert_int_equal(res.status, AB_PERMANENT);
	assert_non_null(strstr(res.message, "InvalidRequestContent"));
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
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
		cmocka_unit_test_setup_teardown(test_event_card, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_followup, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_template, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_size_cap, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_errors, ct_setup, ct_teardown),
	};
	return cmocka_run_group_tests_name("teams", tests, NULL, NULL);
}
