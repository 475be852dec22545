/*
 * test_webhook.c - unit tests for the webhook channel plugin: canonical JSON
 * body, Standard Webhooks headers with the signature verified by an
 * independent implementation (python3 hmac/base64), key rotation (two
 * signatures), stable webhook-id, events subscription globs, custom
 * headers and bad settings; a payload given as text (ABI 1.5).
 */
#include <sys/wait.h>
#include "../harness/chantest.h"

/* whsec_ + base64("alertbridge-test-key-0123456789") */
#define K1 "whsec_YWxlcnRicmlkZ2UtdGVzdC1rZXktMDEyMzQ1Njc4OQ=="
#define K2 "whsec_c2Vjb25kLXJvdGF0ZWQta2V5LWZvci10ZXN0cyE="

/* Verify webhook-signature with Python's hmac: 0 when every listed key
 * produced one of the signatures. */
static int py_verify(const char *keys)
{
	char path[] = "/tmp/ab_wh_XXXXXX", cmd[2048];
	int fd = mkstemp(path), rc;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	assert_non_null(f);
	fwrite(mock_http.body, 1, mock_http.body_len, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "python3 -c '\n"
		"import sys,hmac,hashlib,base64\n"
		"body=open(sys.argv[1],\"rb\").read()\n"
		"msg=sys.argv[2].encode()+b\".\"+sys.argv[3].encode()+b\".\"+body\n"
		"sigs=sys.argv[4].split(\" \")\n"
		"for k in sys.argv[5].split(\",\"):\n"
		"  key=base64.b64decode(k[len(\"whsec_\"):])\n"
		"  want=\"v1,\"+base64.b64encode(hmac.new(key,msg,hashlib.sha256).digest()).decode()\n"
		"  sys.exit(1) if want not in sigs else None\n"
		"' %s '%s' '%s' '%s' '%s'", path, mock_http_header("webhook-id"),
		mock_http_header("webhook-timestamp"), mock_http_header("webhook-signature"), keys);
	rc = system(cmd);
	unlink(path);
	assert_true(WIFEXITED(rc));
	assert_int_not_equal(WEXITSTATUS(rc), 127);
	return WEXITSTATUS(rc);
}

static void test_signature(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\":\"https://hooks.example.com/x\",\"secret\":\"" K1 "\"}");
	json_t *b;

	(void)state;
	ct_mh.now = 1714564800123LL;
	b = ct_send(inst, AB_MSG_EVENT, ct_event("high", "t", "s"), &res);
	assert_int_equal(res.status, AB_OK);
	assert_string_equal(json_string_value(json_object_get(b, "id")),
		"0123456789abcdef0123456789abcdef");
	assert_string_equal(json_string_value(json_object_get(b, "type")), "finding.created");
	assert_string_equal(mock_http_header("webhook-id"), "0123456789abcdef0123456789abcdef");
	assert_string_equal(mock_http_header("webhook-timestamp"), "1714564800");
	assert_int_equal(strncmp(mock_http_header("webhook-signature"), "v1,", 3), 0);
	assert_int_equal(py_verify(K1), 0);
	assert_int_not_equal(py_verify(K2), 0);         /* wrong key must not verify */
	/* Tampered body: the independent check fails. */
	mock_http.body[5] ^= 1;
	assert_int_not_equal(py_verify(K1), 0);
	json_decref(b);
	alertbridge_plugin()->destroy(inst);

	inst = ct_create("{\"url\":\"https://hooks.example.com/x\",\"secret\":[\"" K1 "\",\"" K2
		"\"]}");
	b = ct_send(inst, AB_MSG_GROUP, ct_group(2, 0, false), &res);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(json_object_get(b, "group"));
	assert_non_null(strchr(mock_http_header("webhook-signature"), ' '));
	assert_int_equal(py_verify(K1 "," K2), 0);
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
}

static void test_events_and_headers(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\":\"https://hooks.example.com/x\",\"events\":[\"finding.*\"],"
		"\"headers\":{\"X-Team\":\"blue\",\"Authorization\":\"Bearer tok\"}}");
	json_t *b, *ev;

	(void)state;
	b = ct_send(inst, AB_MSG_EVENT, ct_event("high", "t", "s"), &res);
	assert_int_equal(mock_http.calls, 1);
	assert_string_equal(mock_http_header("X-Team"), "blue");
	assert_string_equal(mock_http_header("Authorization"), "Bearer tok");
	assert_null(mock_http_header("webhook-signature"));
	json_decref(b);
	ev = ct_event("high", "t", "s");
	json_object_set_new(ev, "type", json_string("system.disk"));
	b = ct_send(inst, AB_MSG_EVENT, ev, &res);
	assert_null(b);
	assert_int_equal(mock_http.calls, 0);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(strstr(res.message, "not subscribed"));
	alertbridge_plugin()->test(inst, &res);   /* tests always go out */
	assert_int_equal(res.status, AB_OK);
	assert_non_null(strstr(mock_http.body, "system.test"));
	alertbridge_plugin()->destroy(inst);

	assert_non_null(strstr(ct_create_err("{\"url\":\"https://x/\",\"secret\":\"nope\"}"),
		"setting 'secret'"));
	assert_non_null(strstr(ct_create_err("{\"url\":\"https://x/\",\"headers\":{\"Bad Name\":\"v\"}}"),
		"setting 'headers'"));
	assert_non_null(strstr(ct_create_err("{\"url\":\"https://x/\",\"headers\":{\"X\":\"a\\r\\nB: c\"}}"),
		"CR/LF"));
	assert_non_null(strstr(ct_create_err("{\"url\":\"https://x/\",\"events\":[\"[\"]}"),
		"setting 'events'"));
}

/* ABI 1.5: a payload given as text (AB_PLUGIN_F_PAYLOAD_TEXT) is sent as
 * it is, byte for byte what the tree gives, signed over those bytes; the
 * events filter reads the type from the text. */
static void send_text(void *inst, json_t *payload, struct ab_result *res)
{
	char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
	struct ab_message m = { .kind = AB_MSG_EVENT, .attempt = 1, .payload = NULL,
		.payload_text = text, .payload_len = strlen(text),
		.id = "0123456789abcdef0123456789abcdef" };

	mock_http.calls = 0;
	alertbridge_plugin()->send(inst, &m, res);
	free(text);
	json_decref(payload);
}

static void test_payload_text(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\":\"https://hooks.example.com/x\",\"secret\":\"" K1 "\","
		"\"events\":[\"finding.*\"]}");
	json_t *ev = ct_event("high", "t \"q\" \u00e9", "s");
	char *want = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);

	(void)state;
	assert_true(alertbridge_plugin()->flags & AB_PLUGIN_F_PAYLOAD_TEXT);
	send_text(inst, ev, &res);
	assert_int_equal(res.status, AB_OK);
	assert_int_equal(mock_http.calls, 1);
	assert_int_equal(mock_http.body_len, strlen(want));
	assert_memory_equal(mock_http.body, want, strlen(want));
	assert_int_equal(py_verify(K1), 0);
	free(want);

	ev = ct_event("high", "t", "s");
	json_object_set_new(ev, "type", json_string("system.disk"));
	send_text(inst, ev, &res);
	assert_int_equal(mock_http.calls, 0);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(strstr(res.message, "not subscribed: system.disk"));
	alertbridge_plugin()->destroy(inst);
}

/* template.body: the body in the operator's JSON shape, values escaped as
 * JSON string contents (quotes, backslashes, newlines), missing ones empty;
 * a shape that does not come out as JSON falls back to the event itself. */
static void test_body_template(void **state)
{
	struct ab_result res;
	void *inst = ct_create("{\"url\":\"https://hooks.example.com/x\",\"template\":{\"body\":"
		"\"{\\\"summary\\\": \\\"[{{severity}}] {{title}}\\\", \\\"cwe\\\": \\\""
		"{{fields.cwe}}\\\", \\\"none\\\": \\\"{{fields.nothing}}\\\"}\"}}");
	json_t *ev = ct_event("high", "a \"quoted\"\nline \\ end", "s"), *b;

	(void)state;
	b = ct_send(inst, AB_MSG_EVENT, ev, &res);
	assert_int_equal(res.status, AB_OK);
	assert_non_null(b);
	assert_string_equal(json_string_value(json_object_get(b, "summary")),
		"[high] a \"quoted\"\nline \\ end");
	assert_string_equal(json_string_value(json_object_get(b, "cwe")), "");
	assert_string_equal(json_string_value(json_object_get(b, "none")), "");
	assert_null(json_object_get(b, "type"));
	json_decref(b);
	alertbridge_plugin()->destroy(inst);

	/* a shape that is not JSON: the built-in body, and a warning */
	inst = ct_create("{\"url\":\"https://hooks.example.com/x\",\"template\":{\"body\":"
		"\"not json {{title}}\"}}");
	b = ct_send(inst, AB_MSG_EVENT, ct_event("high", "t", "s"), &res);
	assert_int_equal(res.status, AB_OK);
	assert_string_equal(json_string_value(json_object_get(b, "type")), "finding.created");
	json_decref(b);
	alertbridge_plugin()->destroy(inst);
}

/* ABI 1.2: the default rate 0 (unlimited), ca_file a path setting, the url checked. */
static void test_abi12(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();

	(void)state;
	assert_true(p->default_rate == 0);
	assert_string_equal(p->path_settings[0], "ca_file");
	assert_null(p->path_settings[1]);
	assert_non_null(p->check);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi12),
		cmocka_unit_test_setup_teardown(test_signature, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_events_and_headers, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_payload_text, ct_setup, ct_teardown),
		cmocka_unit_test_setup_teardown(test_body_template, ct_setup, ct_teardown),
	};
	return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
