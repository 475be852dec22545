/*
 * test_tmpl.c - unit tests for the message templates (plugins/common/
 * tmpl.c): compile errors with line and column, values, dotted paths,
 * sections over lists and objects, inverted sections, missing members,
 * escaping for each target (Slack, HTML, Markdown, JSON strings), the
 * output and step bounds, and the template setting's parts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tmpl.h"

static const char *EV = "{\"type\":\"finding.created\",\"severity\":\"high\","
	"\"title\":\"<b>x</b> & \\\"q\\\" *y*\",\"asset\":\"api\",\"fields\":{\"cwe\":89,"
	"\"tags\":[\"a\",\"b\"]},\"items\":[{\"title\":\"one\"},{\"title\":\"two\","
	"\"host\":\"db\"}]}";

/* Render src against EV; the output (static) or "ERROR: why". */
static const char *run(const char *src, enum tmpl_esc kind, enum rd_esc esc, size_t cap)
{
	static char out[8192];
	char err[200];
	struct ab_buf b = AB_BUF_INIT(cap);
	struct tmpl *t = tmpl_compile(src, err, sizeof err);
	json_t *d = json_loads(EV, 0, NULL);

	assert_non_null(d);
	if (!t)
		snprintf(out, sizeof out, "COMPILE: %s", err);
	else if (tmpl_render(t, d, kind, esc, &b, err, sizeof err) < 0)
		snprintf(out, sizeof out, "ERROR: %s", err);
	else
		snprintf(out, sizeof out, "%s", ab_buf_cstr(&b));
	ab_buf_free(&b);
	tmpl_free(t);
	json_decref(d);
	return out;
}

#define RAW(src) run(src, TMPL_ESC_RD, RD_ESC_NONE, 4096)

static void test_values(void **state)
{
	(void)state;
	assert_string_equal(RAW("[{{severity}}] {{title}} on {{asset}}"),
		"[high] <b>x</b> & \"q\" *y* on api");
	assert_string_equal(RAW("CWE-{{fields.cwe}} {{ fields.cwe }}"), "CWE-89 89");
	assert_string_equal(RAW("[{{missing}}][{{fields.nope}}][{{fields.cwe.deeper}}]"), "[][][]");
	assert_string_equal(RAW("{{fields}}|{{items}}"), "|");   /* objects and lists: nothing */
	assert_string_equal(RAW("{{! a comment }}x"), "x");
	assert_string_equal(RAW("no tags at all"), "no tags at all");
	assert_string_equal(RAW(""), "");
}

static void test_sections(void **state)
{
	(void)state;
	assert_string_equal(RAW("{{#items}}- {{title}} ({{host}}{{^host}}no host{{/host}}) "
		"{{asset}}\n{{/items}}"), "- one (no host) api\n- two (db) api\n");
	assert_string_equal(RAW("{{#fields.tags}}<{{.}}>{{/fields.tags}}"), "<a><b>");
	assert_string_equal(RAW("{{#fields}}cwe {{cwe}}, title {{title}}{{/fields}}"),
		"cwe 89, title <b>x</b> & \"q\" *y*");   /* outer members seen inside */
	assert_string_equal(RAW("{{#missing}}no{{/missing}}{{^missing}}yes{{/missing}}"), "yes");
	assert_string_equal(RAW("{{#asset}}on {{asset}}{{/asset}}"), "on api");
}

static void test_escaping(void **state)
{
	(void)state;
	assert_string_equal(run("{{title}}", TMPL_ESC_RD, RD_ESC_HTML, 4096),
		"&lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot; *y*");
	assert_string_equal(run("*{{title}}*", TMPL_ESC_RD, RD_ESC_SLACK, 4096),
		"*&lt;b&gt;x&lt;/b&gt; &amp; \"q\" *y**");
	assert_string_equal(run("{{title}}", TMPL_ESC_RD, RD_ESC_MARKDOWN, 4096),
		"&lt;b&gt;x&lt;/b&gt; &amp; \"q\" \\*y\\*");
	assert_string_equal(run("{\"t\":\"{{title}}\",\"c\":{{fields.cwe}}}", TMPL_ESC_JSON,
		RD_ESC_NONE, 4096), "{\"t\":\"<b>x</b> & \\\"q\\\" *y*\",\"c\":89}");
}

static void test_compile_errors(void **state)
{
	char big[TMPL_SRC_MAX + 2];

	(void)state;
	assert_string_equal(RAW("a\n  {{#items}}x"), "COMPILE: line 2, column 3: section not closed");
	assert_string_equal(RAW("{{#a}}{{/b}}"),
		"COMPILE: line 1, column 7: {{/...}} closes another section than the open one");
	assert_string_equal(RAW("x {{/a}}"), "COMPILE: line 1, column 3: {{/...}} closes no open section");
	assert_string_equal(RAW("{{title"), "COMPILE: line 1, column 1: '{{' without '}}'");
	assert_string_equal(RAW("{{{title}}}"),
		"COMPILE: line 1, column 1: '{{{' (values are always escaped)");
	assert_string_equal(RAW("{{a b}}"), "COMPILE: line 1, column 1: bad name (letters, digits, "
		"'_', '-', dotted paths; at most 64)");
	assert_string_equal(RAW("{{a..b}}"), "COMPILE: line 1, column 1: bad name (letters, "
		"digits, '_', '-', dotted paths; at most 64)");
	assert_string_equal(RAW("{{#a}}{{#b}}{{#c}}{{#d}}{{#e}}{{#f}}{{#g}}{{#h}}{{#i}}"),
		"COMPILE: line 1, column 49: sections nested too deep");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_string_equal(RAW(big), "COMPILE: longer than 16384 bytes");
}

static void test_bounds(void **state)
{
	(void)state;
	/* the output cap */
	assert_string_equal(run("{{#items}}{{title}}{{title}}{{/items}}", TMPL_ESC_RD,
		RD_ESC_NONE, 8), "ERROR: template: output larger than its cap");
	/* nested loops stop at the step bound, not at memory */
	{
		struct ab_buf b = AB_BUF_INIT(1 << 24);
		char err[200];
		json_t *d = json_object(), *l = json_array();
		struct tmpl *t = tmpl_compile("{{#l}}{{#l}}{{#l}}{{#l}}.{{/l}}{{/l}}{{/l}}{{/l}}",
			err, sizeof err);

		for (int i = 0; i < 40; i++)
			json_array_append_new(l, json_integer(i));
		json_object_set_new(d, "l", l);
		assert_non_null(t);
		assert_int_equal(tmpl_render(t, d, TMPL_ESC_RD, RD_ESC_NONE, &b, err, sizeof err), -1);
		assert_string_equal(err, "template: more than the steps a template may take");
		ab_buf_free(&b);
		tmpl_free(t);
		json_decref(d);
	}
}

static void test_parts(void **state)
{
	static const char *const parts[] = { "title", "body", NULL };
	struct tmpl_set s;
	char err[256];
	json_t *cfg;

	(void)state;
	cfg = json_loads("{\"template\":{\"title\":\"{{label}} {{title}}\"},\"url\":\"x\"}", 0, NULL);
	assert_int_equal(tmpl_set_parse(cfg, parts, &s, err, sizeof err), 0);
	assert_non_null(tmpl_part(&s, "title"));
	assert_null(tmpl_part(&s, "body"));
	assert_null(json_object_get(cfg, "template"));   /* consumed */
	assert_non_null(json_object_get(cfg, "url"));
	tmpl_set_free(&s);
	json_decref(cfg);

	cfg = json_loads("{\"template\":{\"subject\":\"x\"}}", 0, NULL);
	assert_int_equal(tmpl_set_parse(cfg, parts, &s, err, sizeof err), -1);
	assert_string_equal(err, "setting 'template.subject': no such part (this channel type "
		"has: title, body)");
	tmpl_set_free(&s);
	json_decref(cfg);

	cfg = json_loads("{\"template\":{\"body\":\"{{#items}}\"}}", 0, NULL);
	assert_int_equal(tmpl_set_parse(cfg, parts, &s, err, sizeof err), -1);
	assert_string_equal(err, "setting 'template.body': line 1, column 1: section not closed");
	tmpl_set_free(&s);
	json_decref(cfg);

	cfg = json_loads("{\"template\":\"{{title}}\"}", 0, NULL);
	assert_int_equal(tmpl_set_parse(cfg, parts, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, "setting 'template': a group of parts"));
	tmpl_set_free(&s);
	json_decref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_parts),
	};
	return cmocka_run_group_tests_name("tmpl", tests, NULL, NULL);
}
