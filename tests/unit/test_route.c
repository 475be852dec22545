/*
 * test_route.c - routing basics, table-driven over a real config file:
 * type globs, min_severity, severities, categories, sources, every
 * matching rule fires, final stops, default fallback, one delivery per
 * channel, and the explain trace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "route.h"
#include "testutil.h"

static const char *conf_text =
	"state_dir = \"/tmp\";\n"
	"channels = (\n"
	"  { name = \"inbox\"; type = \"inbox\"; path = \"x.db\"; },\n"
	"  { name = \"sec\";   type = \"file\";  path = \"sec.jsonl\"; },\n"
	"  { name = \"ops\";   type = \"file\";  path = \"ops.jsonl\"; },\n"
	"  { name = \"pager\"; type = \"file\";  path = \"pager.jsonl\"; }\n"
	");\n"
	"rules = (\n"
	"  { name = \"crit-final\"; severities = [\"critical\"]; sources = [\"kubernetes\"];\n"
	"    channels = [\"pager\"]; final = true; },\n"
	"  { name = \"findings\"; events = [\"finding.*\"]; min_severity = \"high\";\n"
	"    channels = [\"sec\", \"inbox\"]; },\n"
	"  { name = \"errors\"; categories = [\"error\"]; channels = [\"ops\"]; },\n"
	"  { name = \"scan-failed\"; events = [\"scan.failed\"]; channels = [\"ops\", \"sec\"]; },\n"
	"  { name = \"cspm\"; sources = [\"cspm\", \"code_*\"]; min_severity = \"medium\";\n"
	"    channels = [\"sec\"]; }\n"
	");\n"
	"default = [\"inbox\"];\n";

static struct ab_config *cfg;
static char *dir;

static int setup(void **state)
{
	char *path, *errors = NULL;

	(void)state;
	dir = tu_tmpdir();
	path = tu_path(dir, "route.conf");
	tu_write(path, conf_text);
	cfg = ab_config_load(path, &errors);
	if (!cfg)
		fprintf(stderr, "%s", errors ? errors : "?");
	free(errors);
	free(path);
	return cfg ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ab_config_free(cfg);
	tu_rm_rf(dir);
	free(dir);
	return 0;
}

struct rcase {
	const char *type, *severity, *category, *source;
	const char *expect;        /* channels in order, space separated */
	bool used_default;
};

static const struct rcase cases[] = {
	{ "finding.created", "high", "security", "code_scan", "sec inbox", false },
	{ "finding.created", "medium", "security", "dast", "inbox", true },
	{ "finding.created", "medium", "security", "code_scan", "sec", false },
	{ "finding.resolved", "critical", "security", "kubernetes", "pager", false },
	{ "finding.created", "critical", "security", "registry", "sec inbox", false },
	{ "scan.failed", "info", "error", "dast", "ops sec", false },
	{ "scan.completed", "info", "system", "dast", "inbox", true },
	{ "FINDING.Created", "high", "security", "x", "sec inbox", false },
	{ "sla.breached", "low", "error", "cspm", "ops", false },
	{ "sla.breached", "medium", "error", "cspm", "ops sec", false },
};

static struct ab_event *mk(const struct rcase *c)
{
	struct ab_event *ev = ab_event_new();
	enum ab_severity s;
	enum ab_category k;

	ab_event_set_str(&ev->type, c->type);
	assert_int_equal(ab_severity_parse(c->severity, &s), 0);
	assert_int_equal(ab_category_parse(c->category, &k), 0);
	ev->severity = s;
	ev->category = k;
	ab_event_set_str(&ev->source, c->source);
	return ev;
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ab_event *ev = mk(&cases[i]);
		struct ab_route_result rr;
		char got[256] = "";

		ab_route(cfg, ev, &rr, NULL);
		for (size_t c = 0; c < rr.n; c++) {
			if (c)
				strncat(got, " ", sizeof got - strlen(got) - 1);
			strncat(got, rr.channels[c], sizeof got - strlen(got) - 1);
		}
		if (strcmp(got, cases[i].expect) != 0 || rr.used_default != cases[i].used_default)
			fail_msg("case %zu (%s/%s/%s/%s): got '%s' default=%d, want '%s' default=%d",
				i, cases[i].type, cases[i].severity, cases[i].category,
				cases[i].source, got, rr.used_default, cases[i].expect,
				cases[i].used_default);
		ab_event_free(ev);
	}
}

static void test_rule_reasons(void **state)
{
	struct rcase c = { "finding.created", "low", "security", "dast", "", false };
	struct ab_event *ev = mk(&c);
	char why[256];

	(void)state;
	assert_false(ab_rule_match(&cfg->rules[1], ev, why, sizeof why));
	assert_non_null(strstr(why, "min_severity high"));
	assert_false(ab_rule_match(&cfg->rules[2], ev, why, sizeof why));
	assert_non_null(strstr(why, "category security"));
	assert_false(ab_rule_match(&cfg->rules[3], ev, why, sizeof why));
	assert_non_null(strstr(why, "finding.created"));
	assert_false(ab_rule_match(&cfg->rules[4], ev, why, sizeof why));
	assert_non_null(strstr(why, "min_severity medium"));
	ev->severity = AB_SEV_MEDIUM;
	assert_false(ab_rule_match(&cfg->rules[4], ev, why, sizeof why));
	assert_non_null(strstr(why, "source 'dast'"));
	ab_event_set_str(&ev->source, "code_scan");
	assert_true(ab_rule_match(&cfg->rules[4], ev, why, sizeof why));
	assert_string_equal(why, "");
	ab_event_free(ev);
}

static void test_explain_trace(void **state)
{
	struct rcase c = { "finding.resolved", "critical", "security", "kubernetes", "", false };
	struct ab_event *ev = mk(&c);
	struct ab_buf b = AB_BUF_INIT(65536);
	struct ab_route_result rr;

	(void)state;
	ab_route(cfg, ev, &rr, &b);
	assert_non_null(strstr(b.data, "rule 'crit-final'"));
	assert_non_null(strstr(b.data, "match (final: stop)"));
	assert_null(strstr(b.data, "rule 'findings'"));
	assert_non_null(strstr(b.data, "deliveries: pager"));
	ab_buf_free(&b);
	ab_event_free(ev);
}

static void test_empty_matcher_matches_all(void **state)
{
	struct ab_rule_conf r;
	struct rcase c = { "anything.at_all", "info", "system", NULL, "", false };
	struct ab_event *ev = mk(&c);

	(void)state;
	memset(&r, 0, sizeof r);
	r.min_severity = -1;
	assert_true(ab_rule_match(&r, ev, NULL, 0));
	ab_event_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_rule_reasons),
		cmocka_unit_test(test_explain_trace),
		cmocka_unit_test(test_empty_matcher_matches_all),
	};
	return cmocka_run_group_tests_name("route", tests, setup, teardown);
}
