/*
 * test_route.c - routing, table-driven over real config files: type
 * globs, min_severity, severities, categories, sources, every matching
 * rule fires, final stops, default fallback, one delivery per channel,
 * the explain trace; every matcher of the rule language (tools, statuses
 * and their active default, min_priority, assets, teams, fields regexes,
 * not); team scoping and isolation; active and mute windows (midnight,
 * DST, critical never muted unless mute_critical); and the contradictions
 * `alertbridge check` rejects, each with FILE:LINE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config.h"
#include "route/route.h"
#include "lib/util.h"
#include "../harness/testutil.h"

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

	ab_event_set_str(ev, &ev->type, c->type);
	assert_int_equal(ab_severity_parse(c->severity, &s), 0);
	assert_int_equal(ab_category_parse(c->category, &k), 0);
	ev->severity = s;
	ev->category = k;
	ab_event_set_str(ev, &ev->source, c->source);
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
	ab_event_set_str(ev, &ev->source, "code_scan");
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
	assert_non_null(strstr(b.data, "final: later rules"));
	assert_null(strstr(b.data, "rule 'findings'"));
	assert_non_null(strstr(b.data, "channels: pager\n"));
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


/* ------------------------------------------------------------------ the rule language */

static const char *lang_text =
	"state_dir = \"/tmp\";\n"
	"channels = ( { name = \"a\"; type = \"file\"; path = \"a\"; },\n"
	"  { name = \"b\"; type = \"file\"; path = \"b\"; },\n"
	"  { name = \"pay\"; type = \"file\"; path = \"p\"; },\n"
	"  { name = \"web\"; type = \"file\"; path = \"w\"; } );\n"
	"rules = (\n"
	"  { name = \"tools\"; tools = [\"trivy\", \"semgrep*\"]; channels = [\"a\"]; },\n"
	"  { name = \"statuses\"; statuses = [\"resolved\", \"false positive\"]; channels = [\"a\"]; },\n"
	"  { name = \"active\"; channels = [\"a\"]; },\n"
	"  { name = \"prio\"; min_priority = 2; channels = [\"a\"]; },\n"
	"  { name = \"assets\"; assets = [\"payments-*\"]; channels = [\"a\"]; },\n"
	"  { name = \"teams\"; teams = [\"pay*\"]; channels = [\"a\"]; },\n"
	"  { name = \"fields\"; fields = { cve = \"^CVE-2024-\"; title = \"(?i)sql injection\"; };\n"
	"    channels = [\"a\"]; },\n"
	"  { name = \"cvss\"; fields = { cvss = \"^(9|10)\"; }; channels = [\"a\"]; },\n"
	"  { name = \"not\"; events = [\"finding.*\"]; not = { sources = [\"dast\"]; tools = [\"zap\"]; };\n"
	"    channels = [\"a\"]; },\n"
	"  { name = \"notnot\"; not = { not = { severities = [\"critical\"]; }; }; channels = [\"a\"]; },\n"
	"  { name = \"all\"; events = [\"scan.*\"]; categories = [\"system\", \"error\"];\n"
	"    min_severity = \"medium\"; severities = [\"medium\", \"high\"]; sources = [\"cspm\"];\n"
	"    tools = [\"prowler\"]; assets = [\"aws-*\"]; min_priority = 3; channels = [\"a\"]; }\n"
	");\n"
	"teams = ( { name = \"payments\"; channels = [\"pay\"]; default = [\"pay\"];\n"
	"    rules = ( { name = \"pay-crit\"; severities = [\"critical\"]; channels = [\"pay\", \"b\"]; final = true; },\n"
	"              { name = \"pay-after-final\"; channels = [\"b\"]; } ); },\n"
	"  { name = \"web\"; channels = [\"web\"];\n"
	"    rules = ( { name = \"web-all\"; min_severity = \"high\"; channels = [\"web\"]; } ); } );\n"
	"default = [\"b\", \"pay\", \"web\"];\n";

static struct ab_config *load_text(const char *text, char **errors)
{
	char *d = tu_tmpdir(), *path = tu_path(d, "lang.conf");
	struct ab_config *c;

	tu_write(path, text);
	c = ab_config_load(path, errors);
	tu_rm_rf(d);
	free(d);
	free(path);
	return c;
}

static struct ab_event *ev_json(const char *js)
{
	char err[256];
	json_t *j = json_loads(js, 0, NULL);
	struct ab_event *ev;

	assert_non_null(j);
	ev = ab_event_from_json(j, err, sizeof err);
	json_decref(j);
	if (!ev)
		fail_msg("bad test event %s: %s", js, err);
	ab_event_ensure_id(ev);
	return ev;
}

static const struct ab_rule_conf *rule_named(const struct ab_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_rules; i++)
		if (!strcmp(c->rules[i].name, name))
			return &c->rules[i];
	fail_msg("no rule %s", name);
	return NULL;
}

static void test_matchers(void **state)
{
	static const struct {
		const char *rule, *event;
		bool match;
		const char *why;      /* substring of the first reason when not matched */
	} tc[] = {
		{ "tools", "{\"tool\":\"trivy\"}", true, NULL },
		{ "tools", "{\"tool\":\"semgrep-pro\"}", true, NULL },
		{ "tools", "{\"tool\":\"TRIVY\"}", true, NULL },
		{ "tools", "{\"tool\":\"zap\"}", false, "tool 'zap' matches none of tools" },
		{ "tools", "{}", false, "tool '' matches none" },
		{ "statuses", "{\"status\":\"resolved\"}", true, NULL },
		{ "statuses", "{\"status\":\"False_Positive\"}", true, NULL },
		{ "statuses", "{\"status\":\"open\"}", false, "status 'open' not in statuses" },
		{ "statuses", "{}", false, "not in statuses" },
		{ "active", "{\"status\":\"open\"}", true, NULL },
		{ "active", "{\"status\":\"In Review\"}", true, NULL },
		{ "active", "{\"status\":\"in_review\"}", true, NULL },
		{ "active", "{\"status\":\"affected\"}", true, NULL },
		{ "active", "{\"status\":\"new\"}", true, NULL },
		{ "active", "{\"status\":\"reopened\"}", true, NULL },
		{ "active", "{}", true, NULL },
		{ "active", "{\"status\":\"resolved\"}", false, "not an active one" },
		{ "active", "{\"status\":\"risk accepted\"}", false, "not an active one" },
		{ "prio", "{\"priority\":1}", true, NULL },
		{ "prio", "{\"priority\":2}", true, NULL },
		{ "prio", "{\"priority\":3}", false, "priority 3 is lower than min_priority 2" },
		{ "prio", "{}", false, "priority unset" },
		{ "assets", "{\"asset\":\"payments-api\"}", true, NULL },
		{ "assets", "{\"asset\":\"web-shop\"}", false, "asset 'web-shop'" },
		{ "teams", "{\"team\":\"payments\"}", true, NULL },
		{ "teams", "{\"team\":\"web\"}", false, "team 'web' matches none" },
		{ "fields", "{\"title\":\"SQL Injection in /login\",\"fields\":{\"cve\":\"CVE-2024-1234\"}}",
		  true, NULL },
		{ "fields", "{\"title\":\"XSS\",\"fields\":{\"cve\":\"CVE-2024-1234\"}}", false,
		  "field 'title' does not match" },
		{ "fields", "{\"title\":\"sql injection\",\"fields\":{\"cve\":\"CVE-2023-1\"}}", false,
		  "field 'cve' does not match /^CVE-2024-/" },
		{ "fields", "{\"title\":\"sql injection\"}", false, "field 'cve' is not set" },
		{ "cvss", "{\"fields\":{\"cvss\":9.8}}", true, NULL },
		{ "cvss", "{\"fields\":{\"cvss\":10}}", true, NULL },
		{ "cvss", "{\"fields\":{\"cvss\":7.5}}", false, "does not match" },
		{ "not", "{\"type\":\"finding.created\",\"source\":\"dast\",\"tool\":\"zap\"}", false,
		  "excluded by not" },
		{ "not", "{\"type\":\"finding.created\",\"source\":\"dast\",\"tool\":\"burp\"}", true,
		  NULL },
		{ "not", "{\"type\":\"finding.created\",\"source\":\"sast\",\"tool\":\"zap\"}", true,
		  NULL },
		/* the not matcher has no status default: a resolved zap finding is excluded too */
		{ "not", "{\"type\":\"finding.created\",\"source\":\"dast\",\"tool\":\"zap\","
		  "\"status\":\"open\"}", false, "excluded" },
		{ "notnot", "{\"severity\":\"critical\"}", true, NULL },
		{ "notnot", "{\"severity\":\"high\"}", false, "excluded" },
		{ "all", "{\"type\":\"scan.failed\",\"category\":\"error\",\"severity\":\"high\","
		  "\"source\":\"cspm\",\"tool\":\"prowler\",\"asset\":\"aws-prod\",\"priority\":3}", true,
		  NULL },
		{ "all", "{\"type\":\"scan.failed\",\"category\":\"error\",\"severity\":\"critical\","
		  "\"source\":\"cspm\",\"tool\":\"prowler\",\"asset\":\"aws-prod\",\"priority\":3}", false,
		  "severity critical not in severities" },
		{ "all", "{\"type\":\"scan.failed\",\"category\":\"error\",\"severity\":\"medium\","
		  "\"source\":\"cspm\",\"tool\":\"prowler\",\"asset\":\"gcp-prod\",\"priority\":3}", false,
		  "asset 'gcp-prod'" },
		{ "all", "{\"type\":\"scan.failed\",\"category\":\"security\",\"severity\":\"medium\"}",
		  false, "category security" },
	};
	char *errors = NULL;
	struct ab_config *c = load_text(lang_text, &errors);

	(void)state;
	if (!c)
		fail_msg("config: %s", errors);
	for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		struct ab_event *ev = ev_json(tc[i].event);
		char why[512];
		bool m = ab_rule_match(rule_named(c, tc[i].rule), ev, why, sizeof why);

		if (m != tc[i].match || (!m && !strstr(why, tc[i].why)))
			fail_msg("case %zu: rule %s on %s: got %s '%s'", i, tc[i].rule,
				tc[i].event, m ? "match" : "no match", why);
		ab_event_free(ev);
	}
	ab_config_free(c);
}

static void route_str(const struct ab_config *c, const char *event, int64_t now, char *got,
	size_t gotsz, bool *used_default)
{
	struct ab_event *ev = ev_json(event);
	struct ab_route_result rr;

	ab_route_at(c, ev, now, &rr, NULL);
	got[0] = '\0';
	for (size_t i = 0; i < rr.n; i++)
		snprintf(got + strlen(got), gotsz - strlen(got), "%s%s", i ? " " : "", rr.channels[i]);
	if (used_default)
		*used_default = rr.used_default;
	ab_event_free(ev);
}

/* Team blocks: their rules see only their team's events, their channels
 * only ever get their team's events, global rules apply in addition, a
 * final in a team stops only that team's rules, team default first. */
/* Does routing read a key of fields (then syslog lines are routed whole)?
 * Members named in fields = { } do not count; a team's rule and a not { }
 * do. */
static bool only_cve(const char *key)
{
	return !strcmp(key, "cve");
}

static void test_reads_fields(void **state)
{
	static const struct {
		const char *rules;
		bool want;
	} tc[] = {
		{ "", false },
		{ "rules = ( { name = \"r\"; min_severity = \"high\"; channels = [\"a\"]; } );",
		  false },
		{ "rules = ( { name = \"r\"; fields = { title = \"x\"; asset = \"y\"; };\n"
		  "  channels = [\"a\"]; } );", false },
		{ "rules = ( { name = \"r\"; fields = { title = \"x\"; cve = \"y\"; };\n"
		  "  channels = [\"a\"]; } );", true },
		{ "rules = ( { name = \"r\"; channels = [\"a\"];\n"
		  "  not = { fields = { rule_id = \"^1\"; }; }; } );", true },
		{ "teams = ( { name = \"t\"; channels = [\"a\"];\n"
		  "  rules = ( { name = \"r\"; fields = { src_ip = \"^10\\\\.\"; };\n"
		  "    channels = [\"a\"]; } ); } );", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		char text[1024], *errors = NULL;
		struct ab_config *c;

		snprintf(text, sizeof text, "channels = ( { name = \"a\"; type = \"file\"; "
			"path = \"/tmp/a\"; } );\n%s\n", tc[i].rules);
		c = load_text(text, &errors);
		if (!c)
			fail_msg("case %zu: %s", i, errors);
		if (ab_route_reads_fields(c, NULL) != tc[i].want)
			fail_msg("case %zu: reads fields %d, want %d", i, !tc[i].want, tc[i].want);
		/* only keys that which() picks */
		if (ab_route_reads_fields(c, only_cve) != (tc[i].want && strstr(tc[i].rules, "cve")))
			fail_msg("case %zu: reads cve", i);
		ab_config_free(c);
	}
}

static void test_teams(void **state)
{
	static const struct {
		const char *event, *want;
		bool def;
	} tc[] = {
		{ "{\"team\":\"payments\",\"severity\":\"critical\",\"tool\":\"trivy\"}", "pay b a", false },
		{ "{\"team\":\"payments\",\"severity\":\"low\"}", "b a", false },
		{ "{\"team\":\"payments\",\"severity\":\"low\",\"status\":\"resolved\",\"type\":\"x.y\"}",
		  "a", false },
		{ "{\"team\":\"web\",\"severity\":\"critical\"}", "web a", false },
		{ "{\"team\":\"web\",\"severity\":\"low\",\"status\":\"resolved\",\"type\":\"x.y\","
		  "\"title\":\"t\"}", "a", false },
		{ "{\"team\":\"other\",\"severity\":\"critical\",\"tool\":\"trivy\"}", "a", false },
		/* no rule matches a closed finding, and the default channels do
		 * not take an inactive status either */
		{ "{\"team\":\"payments\",\"status\":\"closed\",\"type\":\"x.y\"}", "", false },
		{ "{\"status\":\"closed\",\"type\":\"x.y\"}", "", false },
	};
	/* no rule at all matches: team default, or the global default without
	 * the other teams' channels */
	static const struct {
		const char *event, *want;
	} dc[] = {
		{ "{\"team\":\"payments\",\"type\":\"x.y\"}", "pay" },
		{ "{\"team\":\"nobody\",\"type\":\"x.y\"}", "b" },
		{ "{\"type\":\"x.y\"}", "b" },
		{ "{\"team\":\"web\",\"type\":\"x.y\"}", "b web" },
		{ "{\"team\":\"web\",\"type\":\"x.y\",\"status\":\"open\"}", "b web" },
	};
	static const char def_text[] =
		"state_dir = \"/tmp\";\n"
		"channels = ( { name = \"b\"; type = \"file\"; path = \"b\"; },\n"
		"  { name = \"pay\"; type = \"file\"; path = \"p\"; },\n"
		"  { name = \"web\"; type = \"file\"; path = \"w\"; } );\n"
		"rules = ( { name = \"only-hits\"; events = [\"hit.*\"]; channels = [\"b\"]; } );\n"
		"teams = ( { name = \"payments\"; channels = [\"pay\"]; default = [\"pay\"]; },\n"
		"  { name = \"web\"; channels = [\"web\"]; } );\n"
		"default = [\"b\", \"pay\", \"web\"];\n";
	char *errors = NULL, got[256];
	struct ab_config *c = load_text(lang_text, &errors);
	bool def;

	(void)state;
	if (!c)
		fail_msg("config: %s", errors);
	assert_int_equal(c->n_teams, 2);
	assert_string_equal(c->teams[0].rules[0].key, "payments/pay-crit");
	for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		route_str(c, tc[i].event, 0, got, sizeof got, &def);
		if (strcmp(got, tc[i].want) != 0 || def != tc[i].def)
			fail_msg("case %zu %s: got '%s' (default %d) want '%s'", i, tc[i].event,
				got, def, tc[i].want);
	}
	ab_config_free(c);
	c = load_text(def_text, &errors);
	if (!c)
		fail_msg("config: %s", errors);
	for (size_t i = 0; i < sizeof dc / sizeof dc[0]; i++) {
		route_str(c, dc[i].event, 0, got, sizeof got, &def);
		if (strcmp(got, dc[i].want) != 0 || !def)
			fail_msg("default case %zu %s: got '%s' (default %d) want '%s'", i,
				dc[i].event, got, def, dc[i].want);
	}
	ab_config_free(c);
}

static int64_t T(const char *s)
{
	int64_t ms = -1;

	assert_int_equal(ab_time_parse_rfc3339(s, &ms), 0);
	return ms;
}

/* Active and mute windows through ab_route_at: business hours in Berlin
 * around the DST change, a night mute across midnight that never silences
 * critical, and one that does (mute_critical). */
static void test_windows(void **state)
{
	static const char *text =
		"state_dir = \"/tmp\";\n"
		"channels = ( { name = \"day\"; type = \"file\"; path = \"d\"; },\n"
		"  { name = \"night\"; type = \"file\"; path = \"n\"; },\n"
		"  { name = \"fallback\"; type = \"file\"; path = \"f\"; } );\n"
		"rules = (\n"
		"  { name = \"office\"; events = [\"office.*\"]; channels = [\"day\"];\n"
		"    active = ( { days = [\"mon-fri\"]; from = \"08:00\"; to = \"18:00\";\n"
		"                 time_zone = \"Europe/Berlin\"; } ); },\n"
		"  { name = \"quiet\"; events = [\"quiet.*\"]; channels = [\"night\"];\n"
		"    mute = ( { from = \"22:00\"; to = \"07:00\"; time_zone = \"Europe/Berlin\"; } ); },\n"
		"  { name = \"hard\"; events = [\"hard.*\"]; channels = [\"night\"]; mute_critical = true;\n"
		"    mute = ( { days = [\"sat-sun\"]; time_zone = \"UTC\"; } ); }\n"
		");\n"
		"default = [\"fallback\"];\n";
	static const struct {
		const char *event, *at, *want;
	} tc[] = {
		/* Friday 07:30 CET = 06:30Z: outside; 08:30 CET: inside */
		{ "{\"type\":\"office.x\"}", "2025-03-28T06:30:00Z", "fallback" },
		{ "{\"type\":\"office.x\"}", "2025-03-28T07:30:00Z", "day" },
		/* Monday after the change: 06:30Z is 08:30 CEST: inside */
		{ "{\"type\":\"office.x\"}", "2025-03-31T06:30:00Z", "day" },
		{ "{\"type\":\"office.x\"}", "2025-03-31T05:30:00Z", "fallback" },
		{ "{\"type\":\"office.x\"}", "2025-03-29T10:00:00Z", "fallback" },
		/* mute 22:00-07:00 Berlin across midnight; a muted match still counts
		 * as a match (no default) */
		{ "{\"type\":\"quiet.x\",\"severity\":\"high\"}", "2025-03-28T20:59:00Z", "night" },
		{ "{\"type\":\"quiet.x\",\"severity\":\"high\"}", "2025-03-28T21:00:00Z", "" },
		{ "{\"type\":\"quiet.x\",\"severity\":\"high\"}", "2025-03-28T23:00:00Z", "" },
		{ "{\"type\":\"quiet.x\",\"severity\":\"high\"}", "2025-03-29T05:59:00Z", "" },
		{ "{\"type\":\"quiet.x\",\"severity\":\"high\"}", "2025-03-29T06:00:00Z", "night" },
		/* the DST night: 07:00 CEST is 05:00Z */
		{ "{\"type\":\"quiet.x\",\"severity\":\"high\"}", "2025-03-30T04:59:00Z", "" },
		{ "{\"type\":\"quiet.x\",\"severity\":\"high\"}", "2025-03-30T05:00:00Z", "night" },
		/* critical is never muted unless the rule says so */
		{ "{\"type\":\"quiet.x\",\"severity\":\"critical\"}", "2025-03-28T23:00:00Z", "night" },
		{ "{\"type\":\"hard.x\",\"severity\":\"critical\"}", "2025-03-29T12:00:00Z", "" },
		{ "{\"type\":\"hard.x\",\"severity\":\"critical\"}", "2025-03-28T12:00:00Z", "night" },
	};
	char *errors = NULL, got[256];
	struct ab_config *c = load_text(text, &errors);

	(void)state;
	if (!c)
		fail_msg("config: %s", errors);
	for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		route_str(c, tc[i].event, T(tc[i].at), got, sizeof got, NULL);
		if (strcmp(got, tc[i].want) != 0)
			fail_msg("case %zu %s at %s: got '%s' want '%s'", i, tc[i].event,
				tc[i].at, got, tc[i].want);
	}
	ab_config_free(c);
}

/* What `alertbridge check` (and the daemon) refuse, each at FILE:LINE. */
static void test_check_rejects(void **state)
{
	static const struct {
		const char *rules, *want;
	} tc[] = {
		{ "rules = ( { name = \"r\"; events = [\"x\"]; } );",
		  "lang.conf:3: rule 'r': no channels" },
		{ "rules = ( { name = \"r\"; channels = [\"nope\"]; } );",
		  "lang.conf:3: rule 'r': unknown channel 'nope'" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"];\n min_severity = \"critical\"; "
		  "severities = [\"low\"]; } );", "lang.conf:3: rule 'r': impossible severity range" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"];\n mute = ( { time_zone = "
		  "\"Europe/Berlinn\"; } ); } );", "lang.conf:4: rule 'r': time_zone: unknown time "
		  "zone 'Europe/Berlinn'" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"];\n digest = { schedule = \"dayly 08:00\"; "
		  "}; } );", "lang.conf:4: rule 'r': digest: schedule 'dayly 08:00' does not parse" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"];\n digest = { schedule = \"daily 08:00 "
		  "Mars/Base\"; }; } );", "unknown time zone 'Mars/Base'" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"];\n fields = { cve = \"(unclosed\"; }; } );",
		  "lang.conf:4: rule 'r': fields: 'cve': bad regular expression" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"]; group_wait = \"1m\"; } );",
		  "group_wait, group_interval and max_group_size need group_by" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"]; group_by = [\"tool\"];\n digest = { "
		  "schedule = \"daily 08:00\"; }; } );", "either groups" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"]; throttle = \"1x\"; } );",
		  "bad duration '1x'" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"]; remind = [\"soon\"]; } );",
		  "remind: bad offset 'soon'" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"];\n active = ( { days = [\"funday\"]; } ); } );",
		  "lang.conf:4: rule 'r': bad day 'funday'" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"];\n active = ( { from = \"25:00\"; } ); } );",
		  "from: bad time '25:00'" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"]; tols = [\"x\"]; } );",
		  "unknown setting 'tols' in rule 'r'; did you mean 'tools'?" },
		{ "teams = ( { name = \"t1\"; channels = [\"a\"]; },\n { name = \"t2\"; channels = [\"b\"];\n"
		  " rules = ( { name = \"x\"; channels = [\"a\"]; } ); } );",
		  "team 't2': rule 'x' sends to channel 'a', which belongs to team 't1'" },
		{ "teams = ( { name = \"t1\"; channels = [\"a\"]; },\n { name = \"t2\"; channels = [\"a\"]; } );",
		  "channel 'a' already belongs to team 't1'" },
		{ "teams = ( { name = \"t1\"; channels = [\"a\"]; },\n { name = \"t1\"; channels = [\"b\"]; } );",
		  "duplicate team name 't1'" },
		{ "rules = ( { name = \"r\"; channels = [\"a\"]; not = { channels = [\"a\"]; }; } );",
		  "unknown setting 'channels' in not" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		char text[2048], *errors = NULL;
		struct ab_config *c;

		snprintf(text, sizeof text, "channels = ( { name = \"a\"; type = \"file\"; path = \"a\"; },\n"
			"  { name = \"b\"; type = \"file\"; path = \"b\"; } );\n%s\n", tc[i].rules);
		c = load_text(text, &errors);
		if (c || !errors || !strstr(errors, tc[i].want))
			fail_msg("case %zu: want '%s', got: %s", i, tc[i].want,
				errors ? errors : "(accepted)");
		ab_config_free(c);
		free(errors);
	}
}

/* The shipped conf/alertbridge.conf: critical and high findings, SLA
 * warnings and breaches, compliance drift and failed scans reach the
 * default pair inbox + file; everything else goes nowhere until a rule
 * asks for it. */
static void test_shipped_policy(void **state)
{
	static const struct {
		const char *event, *want;
	} tc[] = {
		{ "{\"type\":\"finding.created\",\"severity\":\"critical\"}", "inbox file" },
		{ "{\"type\":\"finding.created\",\"severity\":\"high\",\"status\":\"open\"}",
		  "inbox file" },
		{ "{\"type\":\"finding.created\",\"severity\":\"medium\"}", "" },
		{ "{\"type\":\"finding.created\",\"severity\":\"low\"}", "" },
		{ "{\"type\":\"finding.resolved\",\"severity\":\"high\",\"status\":\"resolved\"}", "" },
		{ "{\"type\":\"sla.warning\"}", "inbox file" },
		{ "{\"type\":\"sla.breached\",\"severity\":\"info\"}", "inbox file" },
		{ "{\"type\":\"sla.reset\"}", "" },
		{ "{\"type\":\"compliance.drift_detected\",\"category\":\"system\"}", "inbox file" },
		{ "{\"type\":\"scan.failed\",\"category\":\"error\"}", "inbox file" },
		{ "{\"type\":\"scan.completed\",\"category\":\"system\"}", "" },
		{ "{\"type\":\"user.login\",\"category\":\"system\"}", "" },
	};
	const char *top = getenv("top_srcdir");
	char path[4096], *errors = NULL, got[256];
	struct ab_config *c;

	(void)state;
	snprintf(path, sizeof path, "%s/conf/alertbridge.conf", top && *top ? top : "../..");
	c = ab_config_load(path, &errors);
	if (!c)
		fail_msg("%s", errors ? errors : "?");
	for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		route_str(c, tc[i].event, 0, got, sizeof got, NULL);
		if (strcmp(got, tc[i].want) != 0)
			fail_msg("case %zu %s: got '%s' want '%s'", i, tc[i].event, got, tc[i].want);
	}
	ab_config_free(c);
}

/* ------------------------------------------------------------------ enabled = false */

static const char *disabled_text =
	"state_dir = \"/tmp\";\n"
	"channels = ( { name = \"a\"; type = \"file\"; path = \"a\"; },\n"
	"  { name = \"b\"; type = \"file\"; path = \"b\"; enabled = false; },\n"
	"  { name = \"c\"; type = \"file\"; path = \"c\"; },\n"
	"  { name = \"d\"; type = \"file\"; path = \"d\"; enabled = false; },\n"
	"  { name = \"pay\"; type = \"file\"; path = \"p\"; },\n"
	"  { name = \"payoff\"; type = \"file\"; path = \"po\"; enabled = false; } );\n"
	"rules = (\n"
	"  { name = \"to-b\"; events = [\"b.*\"]; channels = [\"b\"]; },\n"
	"  { name = \"to-ab\"; events = [\"ab.*\"]; channels = [\"b\", \"a\"]; },\n"
	"  { name = \"to-bd\"; events = [\"bd.*\"]; channels = [\"b\", \"d\"]; },\n"
	"  { name = \"also-b\"; events = [\"bd.*\", \"ab.*\"]; channels = [\"b\"]; },\n"
	"  { name = \"muted\"; events = [\"m.*\"]; channels = [\"a\"];\n"
	"    mute = ({ time_zone = \"UTC\"; }); },\n"
	"  { name = \"muted-and-b\"; events = [\"m.*\"]; channels = [\"b\"]; }\n"
	");\n"
	"teams = ( { name = \"payments\"; channels = [\"pay\", \"payoff\"]; default = [\"pay\"];\n"
	"    rules = ( { name = \"p\"; events = [\"p.*\"]; channels = [\"payoff\"]; } ); } );\n"
	"default = [\"b\", \"c\"];\n";

static void disabled_str(const struct ab_route_result *rr, char *out, size_t outsz)
{
	out[0] = '\0';
	for (size_t i = 0; i < rr->n_disabled; i++)
		snprintf(out + strlen(out), outsz - strlen(out), "%s%s", i ? " " : "",
			rr->disabled[i]);
}

/* A disabled channel is left out of every result; an event left with no
 * channel goes to the default channels (minus disabled ones): the team's
 * when it has some; a mute is not "left with no channel because of a
 * disabled one" unless a disabled channel was also in the way. */
static void test_disabled_channels(void **state)
{
	static const struct {
		const char *event, *want, *disabled;
		bool def, fallback;
	} tc[] = {
		{ "{\"type\":\"b.x\"}", "c", "b", true, true },
		{ "{\"type\":\"ab.x\"}", "a", "b", false, false },
		{ "{\"type\":\"bd.x\"}", "c", "b d", true, true },
		{ "{\"type\":\"none.x\"}", "c", "b", true, false },
		{ "{\"type\":\"m.x\",\"severity\":\"low\"}", "c", "b", true, true },
		{ "{\"type\":\"p.x\",\"team\":\"payments\"}", "pay", "payoff", true, true },
		{ "{\"type\":\"none.x\",\"team\":\"payments\"}", "pay", "", true, false },
	};
	char *errors = NULL, got[256], dis[256];
	struct ab_config *c = load_text(disabled_text, &errors);

	(void)state;
	if (!c)
		fail_msg("config: %s", errors);
	for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
		struct ab_event *ev = ev_json(tc[i].event);
		struct ab_route_result rr;

		ab_route_at(c, ev, 0, &rr, NULL);
		got[0] = '\0';
		for (size_t k = 0; k < rr.n; k++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? " " : "",
				rr.channels[k]);
		disabled_str(&rr, dis, sizeof dis);
		if (strcmp(got, tc[i].want) || strcmp(dis, tc[i].disabled) ||
		    rr.used_default != tc[i].def || rr.disabled_fallback != tc[i].fallback)
			fail_msg("case %zu %s: got '%s' disabled '%s' default %d fallback %d, want "
				"'%s' '%s' %d %d", i, tc[i].event, got, dis, rr.used_default,
				rr.disabled_fallback, tc[i].want, tc[i].disabled, tc[i].def,
				tc[i].fallback);
		/* no hit claims a disabled channel (noise.c turns claims into jobs) */
		for (size_t h = 0; h < rr.n_hits; h++)
			for (size_t k = 0; k < rr.hits[h].n_chans; k++)
				if (rr.hits[h].claim & (1ull << k))
					assert_false(ab_channel_disabled(c, rr.hits[h].chans[k]));
		ab_event_free(ev);
	}
	ab_config_free(c);
}

/* Nothing left at all: no channel, the disabled ones listed (ab_ingest
 * logs the warning from them), and explain says where the event went. */
static void test_disabled_nothing_left(void **state)
{
	char *errors = NULL, dis[256], *text = strdup(disabled_text), *p;
	struct ab_config *c;
	struct ab_event *ev;
	struct ab_route_result rr;
	struct ab_buf b = AB_BUF_INIT(65536);

	(void)state;
	assert_non_null(text);
	p = strstr(text, "default = [\"b\", \"c\"];");
	assert_non_null(p);
	memcpy(p, "default = [\"d\", \"b\"];", strlen("default = [\"d\", \"b\"];"));
	c = load_text(text, &errors);
	free(text);
	if (!c)
		fail_msg("config: %s", errors);
	ev = ev_json("{\"type\":\"b.x\"}");
	ab_route_at(c, ev, 0, &rr, &b);
	assert_int_equal(rr.n, 0);
	disabled_str(&rr, dis, sizeof dis);
	assert_string_equal(dis, "b d");
	assert_true(rr.used_default);
	assert_true(rr.disabled_fallback);
	assert_non_null(strstr(b.data, "rule 'to-b' ("));
	assert_non_null(strstr(b.data, "    b: (disabled) left out"));
	assert_non_null(strstr(b.data, "every channel of the matching rules is disabled: the "
		"default channels instead"));
	assert_non_null(strstr(b.data, "    d: (disabled) left out"));
	assert_non_null(strstr(b.data, "channels: (none); left out: b (disabled), d (disabled)\n"));
	assert_non_null(strstr(b.data, "nothing left to deliver to: the event is stored"));
	ab_buf_free(&b);
	ab_event_free(ev);

	/* explain of a partly disabled rule: the enabled channel, the disabled one marked */
	b = (struct ab_buf)AB_BUF_INIT(65536);
	ev = ev_json("{\"type\":\"ab.x\"}");
	ab_route_at(c, ev, 0, &rr, &b);
	assert_non_null(strstr(b.data, "channels: a; left out: b (disabled)\n"));
	assert_null(strstr(b.data, "default channels"));
	ab_buf_free(&b);
	ab_event_free(ev);
	ab_config_free(c);
}

/* ab_event_member: the AB_EVF_ROUTE rows of the member table by name
 * (unset -> NULL; priority as text), anything else from fields. */
static void test_event_member(void **state)
{
	struct ab_event *ev = ab_event_new();
	char buf[64];

	(void)state;
	assert_non_null(ev);
	assert_string_equal(ab_event_member(ev, "type", buf, sizeof buf), "event.generic");
	assert_string_equal(ab_event_member(ev, "severity", buf, sizeof buf), "info");
	assert_string_equal(ab_event_member(ev, "category", buf, sizeof buf), "security");
	assert_string_equal(ab_event_member(ev, "id", buf, sizeof buf), "");
	assert_null(ab_event_member(ev, "priority", buf, sizeof buf));
	assert_null(ab_event_member(ev, "asset", buf, sizeof buf));
	ab_event_set_str(ev, &ev->asset, "db-1");
	ab_event_set_str(ev, &ev->fingerprint, "fp");
	ev->priority = 3;
	ev->occurred_at = 1714564800000LL;
	json_object_set_new(ev->fields, "asset", json_string("from fields"));
	json_object_set_new(ev->fields, "occurred_at", json_string("a field"));
	json_object_set_new(ev->fields, "n", json_integer(42));
	json_object_set_new(ev->fields, "ok", json_true());
	assert_string_equal(ab_event_member(ev, "asset", buf, sizeof buf), "db-1");
	assert_string_equal(ab_event_member(ev, "fields.asset", buf, sizeof buf), "from fields");
	assert_string_equal(ab_event_member(ev, "fingerprint", buf, sizeof buf), "fp");
	assert_string_equal(ab_event_member(ev, "priority", buf, sizeof buf), "3");
	/* not a routing member: a key of fields, as before the member table */
	assert_string_equal(ab_event_member(ev, "occurred_at", buf, sizeof buf), "a field");
	assert_null(ab_event_member(ev, "received_at", buf, sizeof buf));
	assert_null(ab_event_member(ev, "origin", buf, sizeof buf));
	assert_string_equal(ab_event_member(ev, "n", buf, sizeof buf), "42");
	assert_string_equal(ab_event_member(ev, "fields.ok", buf, sizeof buf), "true");
	for (size_t i = 0; i < AB_EVM_COUNT; i++) {
		const struct ab_event_member_def *d = &ab_event_member_defs[i];

		if ((d->flags & AB_EVF_ROUTE) && d->kind == AB_EVK_STR)
			ab_event_set_str(ev, ab_event_str_member(ev, (enum ab_event_member_id)i),
				d->key);
	}
	for (size_t i = 0; i < AB_EVM_COUNT; i++) {
		const struct ab_event_member_def *d = &ab_event_member_defs[i];

		if ((d->flags & AB_EVF_ROUTE) && d->kind == AB_EVK_STR)
			assert_string_equal(ab_event_member(ev, d->key, buf, sizeof buf), d->key);
	}
	ab_event_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_rule_reasons),
		cmocka_unit_test(test_explain_trace),
		cmocka_unit_test(test_empty_matcher_matches_all),
		cmocka_unit_test(test_matchers),
		cmocka_unit_test(test_reads_fields),
		cmocka_unit_test(test_teams),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_check_rejects),
		cmocka_unit_test(test_shipped_policy),
		cmocka_unit_test(test_disabled_channels),
		cmocka_unit_test(test_disabled_nothing_left),
		cmocka_unit_test(test_event_member),
	};
	return cmocka_run_group_tests_name("route", tests, setup, teardown);
}
