/*
 * test_config.c - unit tests for config.c (alertbridge.conf loading and
 * validation).
 *
 * Fixture files are written into a private mkdtemp() directory by the tests
 * themselves, so every expected error carries an exact "FILE:LINE:" prefix.
 * One table row per error kind (err_cases[]), then tests for a full valid
 * file, defaults, @include, the shipped conf/alertbridge.conf (found via
 * $top_srcdir, default "."), ab_config_path() and ab_config_channel().
 *
 * Diagnostics: cmocka assertions; the error text is printed on failure.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <alertbridge/plugin.h>

#include "config/config.h"
#include "event/event.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[] = "/tmp/ab-test-config.XXXXXX";

/* ------------------------------------------------------------ helpers */

static char *fixture_path(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

/* Write name (may contain one sub directory) under tmpdir; returns its path. */
static const char *write_fixture(const char *name, const char *text)
{
	char *path = fixture_path(name);
	char *slash = strrchr(path, '/');
	FILE *f;

	*slash = '\0';
	mkdir(path, 0700);
	*slash = '/';
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void assert_has(const char *errors, const char *want)
{
	if (!errors || !strstr(errors, want)) {
		print_error("expected error line:\n  %s\ngot:\n%s", want, errors ? errors : "(none)");
		fail();
	}
}

static struct ab_config *load_ok(const char *path)
{
	char *errors = NULL;
	struct ab_config *cfg = ab_config_load(path, &errors);

	if (!cfg || errors) {
		print_error("load of %s failed:\n%s", path, errors ? errors : "(no text)");
		free(errors);
		fail();
	}
	return cfg;
}

/* ------------------------------------------------------------ users */

/* The directory: who is on which team, roles, what each may see; an
 * @included users file. */
static void test_users(void **state)
{
	const struct ab_user_conf *a, *b, *c;
	struct ab_config *cfg;

	(void)state;
	write_fixture("people/users.conf",
		"users = (\n"
		"  { name = \"alice\"; email = \"alice@example.com\"; display_name = \"Alice\";\n"
		"    teams = [\"secops\"]; roles = [\"lead\"]; },\n"
		"  { name = \"bob\"; email = \"bob@example.com\"; teams = [\"secops\", \"web\"]; },\n"
		"  { name = \"carol\"; roles = [\"member\", \"admin\"]; }\n"
		");\n");
	cfg = load_ok(write_fixture("users_main.conf", "@include \"people/users.conf\"\n"));
	assert_int_equal(cfg->n_users, 3);
	a = ab_users_find(cfg->users, cfg->n_users, "alice");
	b = ab_users_find(cfg->users, cfg->n_users, "bob");
	c = ab_users_find(cfg->users, cfg->n_users, "carol");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_null(ab_users_find(cfg->users, cfg->n_users, "dave"));
	assert_string_equal(a->email, "alice@example.com");
	assert_string_equal(a->display_name, "Alice");
	assert_null(c->email);
	assert_true(a->line == 2 && strstr(a->file, "users.conf"));
	assert_true(ab_user_has_role(a, "lead") && ab_user_has_role(a, "LEAD"));
	assert_false(ab_user_has_role(b, "lead"));
	assert_false(a->admin || b->admin);
	assert_true(c->admin);
	assert_true(ab_user_in_team(b, "web") && !ab_user_in_team(a, "web"));
	/* access: own teams only; admins everything; an event of no team: admins */
	assert_true(ab_user_sees(a, "secops"));
	assert_false(ab_user_sees(a, "web"));
	assert_false(ab_user_sees(a, NULL));
	assert_false(ab_user_sees(a, ""));
	assert_true(ab_user_sees(c, "web") && ab_user_sees(c, NULL));
	ab_config_free(cfg);
}

/* ------------------------------------------------------------ error table */

struct want {
	int line;            /* 0: "FILE: msg" */
	const char *msg;
};

struct err_case {
	const char *name;
	const char *text;
	struct want want[4];
	size_t n_lines;      /* exact number of error lines */
	const char *absent;  /* must not appear (or NULL) */
};

static const struct err_case err_cases[] = {
	{ "syntax_error",
	  "state_dir = \"/tmp\";\nlog = { level = ; };\n",
	  { { 2, "syntax error" } }, 1, NULL },
	{ "duplicate_setting_is_libconfig_error",
	  "log = { level = \"info\"; level = \"debug\"; };\n",
	  { { 1, "duplicate setting name" } }, 1, NULL },
	{ "unknown_top_with_hint",
	  "# comment\nstate_dr = \"/tmp\";\n",
	  { { 2, "unknown setting 'state_dr' in the top level; did you mean 'state_dir'?" } }, 1,
	  NULL },
	{ "unknown_in_dispatch_no_hint",
	  "dispatch = {\n\tworkers = 2;\n\tzzzzzz = 1;\n};\n",
	  { { 3, "unknown setting 'zzzzzz' in dispatch" } }, 1, "did you mean" },
	{ "unknown_in_rule_with_hint",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = (\n  { name = \"r1\";\n    chanels = [\"a\"];\n    channels = [\"a\"]; }\n);\n",
	  { { 4, "unknown setting 'chanels' in rule 'r1'; did you mean 'channels'?" } }, 1, NULL },
	{ "retention_bad_duration",
	  "# keep\nretention = \"a month\";\n",
	  { { 2, "setting 'retention': bad duration 'a month'" } }, 1, NULL },
	{ "retention_below_an_hour",
	  "\nretention = \"30m\";\n",
	  { { 2, "setting 'retention' must be 0 (keep everything) or between 1h and 36500d "
	    "(got 30m)" } }, 1, NULL },
	{ "retention_not_a_string",
	  "retention = 30;\n",
	  { { 1, "setting 'retention' must be a duration string" } }, 1, NULL },
	{ "min_free_mb_negative",
	  "min_free_mb = -1;\n",
	  { { 1, "setting 'min_free_mb' must be between 0 and 16777216 (got -1)" } }, 1, NULL },
	{ "users_bad_email_role_dup",
	  "users = (\n { name = \"a\"; email = \"a at b\"; roles = [\"Lead\"]; },\n"
	  " { name = \"a\"; },\n { email = \"x@y.z\"; }\n);\n",
	  { { 2, "user 'a': setting 'email' must be one address such as \"alice@example.com\" "
	    "(got 'a at b')" },
	    { 2, "user 'a': role 'Lead' must be a lower-case word" },
	    { 3, "duplicate user name 'a' (first defined at " },
	    { 4, "users: entry 3 needs name = \"...\"" } }, 4, NULL },
	{ "users_bad_team",
	  "users = (\n { name = \"e\"; teams = [\"a/b\"]; }\n);\n",
	  { { 2, "user 'e': team 'a/b' must be 1 to 64 characters, no '/'" } }, 1, NULL },
	{ "wrong_type_int",
	  "dispatch = {\n\tworkers = \"2\";\n};\n",
	  { { 2, "setting 'workers' must be an integer" } }, 1, NULL },
	{ "wrong_type_bool",
	  "log = {\n\tsyslog = \"yes\";\n};\n",
	  { { 2, "setting 'syslog' must be true or false" } }, 1, NULL },
	{ "wrong_type_group",
	  "log = \"info\";\n",
	  { { 1, "setting 'log' must be a group { ... }" } }, 1, NULL },
	{ "wrong_type_channels",
	  "channels = \"inbox\";\n",
	  { { 1, "setting 'channels' must be a list ( { ... }, ... )" } }, 1, NULL },
	{ "wrong_type_string_list",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = ({ name = \"r\"; channels = [\"a\"];\n  events = [1, 2]; });\n",
	  { { 3, "rule 'r': setting 'events' must be a list of strings [\"a\", \"b\"]" } }, 1,
	  NULL },
	{ "workers_too_low",
	  "dispatch = { workers = 0; };\n",
	  { { 1, "setting 'workers' must be between 1 and 64 (got 0)" } }, 1, NULL },
	{ "workers_too_high",
	  "\ndispatch = { workers = 65; };\n",
	  { { 2, "setting 'workers' must be between 1 and 64 (got 65)" } }, 1, NULL },
	{ "in_flight_too_high",
	  "dispatch = {\n\tin_flight = 33;\n};\n",
	  { { 2, "setting 'in_flight' must be between 1 and 32 (got 33)" } }, 1, NULL },
	{ "bad_duration",
	  "dispatch = {\n\tbackoff_base = \"5 minutes\";\n};\n",
	  { { 2, "setting 'backoff_base': bad duration '5 minutes' (use 30s, 5m, 1h, 2d)" } }, 1,
	  NULL },
	{ "duration_not_string",
	  "dispatch = {\n\tpoll = 5;\n};\n",
	  { { 2, "setting 'poll' must be a duration string such as \"30s\"" } }, 1, NULL },
	{ "duration_out_of_range",
	  "dispatch = {\n\tpoll = \"2h\";\n};\n",
	  { { 2, "setting 'poll' must be between 1ms and 1h (got 2h)" } }, 1, NULL },
	{ "backoff_base_over_cap",
	  "dispatch = {\n\tbackoff_base = \"1h\";\n\tbackoff_cap = \"10m\";\n};\n",
	  { { 2, "setting 'backoff_base' (1h) is greater than 'backoff_cap' (10m)" } }, 1, NULL },
	{ "backoff_base_over_default_cap",
	  "dispatch = {\n\n\tbackoff_base = \"11m\";\n};\n",
	  { { 3, "setting 'backoff_base' (11m) is greater than 'backoff_cap' (10m)" } }, 1, NULL },
	{ "pause_base_over_cap",
	  "channels = ({ name = \"a\"; type = \"file\";\n\tpause_base = \"1m\"; });\n",
	  { { 1, "channel 'a': setting 'pause_base' (1m) is greater than 'pause_cap' (30s)" } },
	  1, NULL },
	{ "pause_cap_out_of_range",
	  "channels = ({ name = \"a\"; type = \"file\";\n\tpause_cap = \"2d\"; });\n",
	  { { 2, "channel 'a': setting 'pause_cap' must be between 10ms and 1d (got 2d)" } }, 1, NULL },
	{ "bad_log_level",
	  "log = {\n\tlevel = \"loud\";\n};\n",
	  { { 2, "setting 'level': unknown log level 'loud' (use err, warning, notice, info, debug)" } }, 1, NULL },
	{ "relative_state_dir",
	  "state_dir = \"var/ab\";\n",
	  { { 1, "setting 'state_dir' must be an absolute path (got 'var/ab')" } }, 1, NULL },
	{ "bad_glob",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = (\n{\n  name = \"r1\";\n  events = [\"finding.*\",\n    \"finding.[abc\"];\n"
	  "  channels = [\"a\"];\n});\n",
	  { { 6, "rule 'r1': bad glob 'finding.[abc' in 'events'" } }, 1, NULL },
	{ "bad_source_glob",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = ({ name = \"r1\"; channels = [\"a\"];\n  sources = [\"\"]; });\n",
	  { { 3, "rule 'r1': bad glob '' in 'sources'" } }, 1, NULL },
	{ "bad_severity",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = ({ name = \"r1\"; channels = [\"a\"];\n"
	  "  severities = [\"high\", \"hgh\"]; });\n",
	  { { 3, "rule 'r1': unknown severity 'hgh' (use critical, high, medium, low, info)" } },
	  1, NULL },
	{ "severity_synonym_rejected",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = ({ name = \"r1\"; channels = [\"a\"];\n  severities = [\"crit\"]; });\n",
	  { { 3, "rule 'r1': unknown severity 'crit'" } }, 1, NULL },
	{ "bad_min_severity",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = ({ name = \"r1\"; channels = [\"a\"];\n  min_severity = \"urgent\"; });\n",
	  { { 3, "rule 'r1': unknown severity 'urgent'" } }, 1, NULL },
	{ "bad_category",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = ({ name = \"r1\"; channels = [\"a\"];\n  categories = [\"secrity\"]; });\n",
	  { { 3, "rule 'r1': unknown category 'secrity' (use security, system, error)" } }, 1,
	  NULL },
	{ "duplicate_channel",
	  "channels = (\n  { name = \"a\"; type = \"file\"; },\n  { name = \"b\"; type = \"file\"; },\n"
	  "  { name = \"a\"; type = \"inbox\"; }\n);\n",
	  { { 4, "duplicate channel name 'a' (first defined at @DIR@/duplicate_channel.conf:2)" } },
	  1, NULL },
	{ "duplicate_rule",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = (\n  { name = \"r\"; channels = [\"a\"]; },\n  { name = \"r\"; channels = [\"a\"]; }\n);\n",
	  { { 4, "duplicate rule name 'r' (first defined at @DIR@/duplicate_rule.conf:3)" } }, 1,
	  NULL },
	{ "unknown_channel_in_rule",
	  "rules = (\n  { name = \"r1\";\n    channels = [\"a\",\n      \"slack\"]; }\n);\n"
	  "channels = (\n  { name = \"a\"; type = \"file\"; },\n  { name = \"b\"; type = \"file\"; }\n);\n",
	  { { 4, "rule 'r1': unknown channel 'slack' (defined channels: a, b)" } }, 1, NULL },
	{ "unknown_channel_in_default",
	  "channels = (\n  { name = \"a\"; type = \"file\"; },\n  { name = \"b\"; type = \"file\"; }\n);\n"
	  "default = [\"nope\"];\n",
	  { { 5, "default: unknown channel 'nope' (defined channels: a, b)" } }, 1, NULL },
	{ "unknown_channel_none_defined",
	  "default = [\"inbox\"];\n",
	  { { 1, "default: unknown channel 'inbox' (no channels are defined)" } }, 1, NULL },
	{ "rule_without_channels",
	  "channels = ({ name = \"a\"; type = \"file\"; });\n"
	  "rules = (\n  { name = \"empty\"; channels = []; },\n  { name = \"missing\"; }\n);\n",
	  { { 3, "rule 'empty': no channels" }, { 4, "rule 'missing': no channels" } }, 2, NULL },
	{ "unnamed_rule",
	  "rules = (\n  { events = [\"x.*\"]; }\n);\n",
	  { { 2, "rule 'rule 1': no channels" } }, 1, NULL },
	{ "channel_missing_name_and_type",
	  "channels = (\n  { name = \"a\"; type = \"file\"; },\n  { type = \"file\"; },\n"
	  "  { name = \"x\"; }\n);\n",
	  { { 3, "channel 2: missing required setting 'name'" },
	    { 4, "channel 'x': missing required setting 'type'" } }, 2, NULL },
	{ "bad_channel_name",
	  "channels = (\n  { name = \"Bad Name\"; type = \"file\"; },\n  { name = \"-x\"; type = \"file\"; }\n);\n",
	  { { 2, "channel name 'Bad Name' must match [a-z0-9][a-z0-9_-]{0,63}" },
	    { 3, "channel name '-x' must match" } }, 2, NULL },
	{ "bad_channel_type",
	  "channels = (\n  { name = \"a\";\n    type = \"../evil\"; }\n);\n",
	  { { 3, "channel 'a': channel type '../evil' must match [a-z0-9_-]+" } }, 1, NULL },
	{ "channel_entry_not_group",
	  /* libconfig dates a scalar list element by the token after it */
	  "channels = (\n  \"inbox\" );\n",
	  { { 2, "channels: entry 1 must be a group" } }, 1, NULL },
	{ "control_chars_in_value",
	  "log = { level = \"a\\nb\"; };\n",
	  { { 1, "setting 'level': unknown log level 'a?b'" } }, 1, NULL },
	{ "include_missing",
	  "log = { level = \"info\"; };\n@include \"nope.conf\"\n",
	  { { 2, "cannot open include file 'nope.conf' (relative to @DIR@)" } }, 1, NULL },
	{ "include_glob_unsupported",
	  "@include \"profiles.d/*.conf\"\n",
	  { { 1, "cannot include 'profiles.d/*.conf': libconfig 1.5 does not expand "
	      "wildcards; @include each file by name" } }, 1, NULL },
	/* enabled = false: a disabled channel is still validated */
	{ "enabled_not_bool",
	  "channels = (\n  { name = \"a\"; type = \"file\";\n    enabled = \"no\"; }\n);\n",
	  { { 3, "channel 'a': setting 'enabled' must be true or false" } }, 1, NULL },
	{ "disabled_channel_bad_settings",
	  "channels = (\n  { name = \"off\"; type = \"file\"; enabled = false;\n"
	  "    rate = \"fast\";\n    burst = 0;\n    fallback = \"nope\"; }\n);\n",
	  { { 3, "channel 'off': setting 'rate': 'fast' is not a rate" },
	    { 4, "channel 'off': setting 'burst' must be between 1 and 1000 (got 0)" },
	    { 5, "channel 'off': setting 'fallback': unknown channel 'nope' "
		 "(defined channels: off)" } },
	  3, NULL },
	{ "disabled_channel_bad_name",
	  "channels = (\n  { name = \"Off\"; type = \"file\"; enabled = false; }\n);\n",
	  { { 2, "channel name 'Off' must match" } }, 1, NULL },
	{ "many_errors_collected",
	  "state_dr = \"/x\";\ndispatch = {\n\tworkers = 0;\n\tpoll = \"soon\";\n};\n"
	  "log = { syslog = 1; };\n",
	  { { 1, "unknown setting 'state_dr'" }, { 3, "setting 'workers' must be between" },
	    { 4, "setting 'poll': bad duration 'soon'" },
	    { 6, "setting 'syslog' must be true or false" } }, 4, NULL },
};

/* Replace @DIR@ in s by tmpdir. */
static void expand_dir(const char *s, char *out, size_t outsz)
{
	const char *at = strstr(s, "@DIR@");

	if (at)
		snprintf(out, outsz, "%.*s%s%s", (int)(at - s), s, tmpdir, at + 5);
	else
		snprintf(out, outsz, "%s", s);
}

static void test_error_case(void **state)
{
	const struct err_case *tc = *state;
	char name[128], want[1024], msg[900];
	char *errors = (char *)"sentinel";
	const char *path;
	struct ab_config *cfg;
	size_t i;

	snprintf(name, sizeof name, "%s.conf", tc->name);
	path = write_fixture(name, tc->text);
	cfg = ab_config_load(path, &errors);
	if (cfg) {
		ab_config_free(cfg);
		print_error("%s: loaded although it should fail\n", tc->name);
		fail();
	}
	assert_non_null(errors);
	for (i = 0; i < ARRAY_LEN(tc->want) && tc->want[i].msg; i++) {
		expand_dir(tc->want[i].msg, msg, sizeof msg);
		if (tc->want[i].line > 0)
			snprintf(want, sizeof want, "%s:%d: %s", path, tc->want[i].line, msg);
		else
			snprintf(want, sizeof want, "%s: %s", path, msg);
		assert_has(errors, want);
	}
	if (count_lines(errors) != tc->n_lines) {
		print_error("%s: expected %zu error lines, got:\n%s", tc->name, tc->n_lines, errors);
		fail();
	}
	if (tc->absent && strstr(errors, tc->absent)) {
		print_error("%s: unexpected '%s' in:\n%s", tc->name, tc->absent, errors);
		fail();
	}
	free(errors);
}

/* ------------------------------------------------------------ other tests */

static void test_missing_file(void **state)
{
	char *errors = NULL, want[4200];
	const char *path = fixture_path("does-not-exist.conf");

	(void)state;
	assert_null(ab_config_load(path, &errors));
	snprintf(want, sizeof want, "%s: cannot read the configuration file: No such file", path);
	assert_has(errors, want);
	free(errors);
}

static void test_error_in_included_file(void **state)
{
	char *errors = NULL, want[4200];
	const char *path;

	(void)state;
	write_fixture("inc/broken.conf", "channels = (\n  { name = \"a\"; type = \"file\"; },\n"
		      "  { name = \"a\"; type = \"file\"; }\n);\n");
	path = write_fixture("incbroken.conf", "log = { level = \"info\"; };\n"
			     "@include \"inc/broken.conf\"\n");
	assert_null(ab_config_load(path, &errors));
	snprintf(want, sizeof want, "%s/inc/broken.conf:3: duplicate channel name 'a' "
		 "(first defined at %s/inc/broken.conf:2)", tmpdir, tmpdir);
	assert_has(errors, want);
	free(errors);
	write_fixture("inc/syntax.conf", "a = 1;\nb = ;\n");
	path = write_fixture("incsyntax.conf", "@include \"inc/syntax.conf\"\n");
	assert_null(ab_config_load(path, &errors));
	snprintf(want, sizeof want, "%s/inc/syntax.conf:2: syntax error", tmpdir);
	assert_has(errors, want);
	free(errors);
}

static void test_include_plain(void **state)
{
	struct ab_config *cfg;
	const struct ab_channel_conf *ch;
	char want[4200];
	const char *path;

	(void)state;
	write_fixture("profiles.d/chan.conf",
		      "# included\nchannels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"x\"; }\n);\n");
	path = write_fixture("withinclude.conf", "state_dir = \"/srv/ab\";\n"
			     "@include \"profiles.d/chan.conf\"\n"
			     "default = [\"hook\"];\n");
	cfg = load_ok(path);
	ch = ab_config_channel(cfg, "hook");
	assert_non_null(ch);
	assert_string_equal(ch->type, "webhook");
	snprintf(want, sizeof want, "%s/profiles.d/chan.conf", tmpdir);
	assert_string_equal(ch->file, want);
	assert_int_equal(ch->line, 3);
	assert_int_equal(cfg->n_default, 1);
	ab_config_free(cfg);
}

static void test_defaults(void **state)
{
	struct ab_config *cfg;

	(void)state;
	cfg = load_ok(write_fixture("empty.conf", "# nothing\n"));
	assert_string_equal(cfg->state_dir, "/var/lib/alertbridge");
	assert_string_equal(cfg->store_path, "/var/lib/alertbridge/store.db");
	assert_non_null(cfg->plugin_dir);
	assert_true(cfg->plugin_dir[0] != '\0');
	assert_null(cfg->user);
	assert_null(cfg->pidfile);
	assert_int_equal(cfg->log_level, AB_LOG_INFO);
	assert_false(cfg->log_syslog);
	assert_int_equal(cfg->dispatch.workers, 2);
	assert_int_equal(cfg->dispatch.in_flight, 8);
	assert_int_equal(cfg->dispatch.backoff_base_ms, 2000);
	assert_int_equal(cfg->dispatch.backoff_cap_ms, 600000);
	assert_int_equal(cfg->dispatch.max_age_ms, 2LL * 86400 * 1000);
	assert_int_equal(cfg->dispatch.poll_ms, 500);
	assert_int_equal(cfg->dispatch.timeout_ms, 30000);
	assert_int_equal(cfg->retention_ms, 30LL * 86400 * 1000);
	assert_int_equal(cfg->min_free_mb, 64);
	assert_int_equal(cfg->n_channels, 0);
	assert_int_equal(cfg->n_rules, 0);
	assert_int_equal(cfg->n_default, 0);
	assert_string_equal(cfg->path, fixture_path("empty.conf"));
	ab_config_free(cfg);
}

static const char full_conf[] =
	"state_dir = \"/srv/alertbridge/\";\n"
	"store = \"q/store.db\";\n"
	"plugin_dir = \"/opt/ab/plugins\";\n"
	"user = \"alertbridge\";\n"
	"pidfile = \"run/ab.pid\";\n"
	"log = { level = \"debug\"; syslog = true; };\n"
	"dispatch = { workers = 8; in_flight = 16; backoff_base = \"500ms\"; backoff_cap = \"1h\";\n"
	"  max_age = \"1w\"; poll = \"250ms\"; timeout = \"2m\"; };\n"
	"channels = (\n"
	"  { name = \"inbox\"; type = \"inbox\"; path = \"inbox.db\"; },\n"
	"  { name = \"hook_1\"; type = \"webhook\";\n"
	"    url = \"env:HOOK\"; retries = 3; big = 5000000000L; ratio = 0.5; on = false;\n"
	"    events = [\"finding.*\", \"scan.*\"]; mixed = (1, \"two\", { three = 3; });\n"
	"    headers = { x_team = \"sec\"; nested = { deep = true; }; };\n"
	"    empty = []; }\n"
	");\n"
	"rules = (\n"
	"  { name = \"crit\"; events = [\"finding.*\"]; categories = [\"security\", \"ERROR\"];\n"
	"    severities = [\"high\", \"critical\"]; min_severity = \"medium\";\n"
	"    sources = [\"code_scan\", \"dast*\"]; channels = [\"hook_1\", \"inbox\"]; final = true; },\n"
	"  { channels = [\"inbox\"]; }\n"
	");\n"
	"default = [\"inbox\", \"hook_1\"];\n";

static void test_full_config(void **state)
{
	static const char settings_json[] =
		"{\"url\": \"env:HOOK\", \"retries\": 3, \"big\": 5000000000, \"ratio\": 0.5,"
		" \"on\": false, \"events\": [\"finding.*\", \"scan.*\"],"
		" \"mixed\": [1, \"two\", {\"three\": 3}],"
		" \"headers\": {\"x_team\": \"sec\", \"nested\": {\"deep\": true}}, \"empty\": []}";
	struct ab_config *cfg;
	const struct ab_channel_conf *ch;
	const struct ab_rule_conf *r;
	json_t *want;
	const char *path;

	(void)state;
	path = write_fixture("full.conf", full_conf);
	cfg = load_ok(path);
	assert_string_equal(cfg->state_dir, "/srv/alertbridge/");
	assert_string_equal(cfg->store_path, "/srv/alertbridge/q/store.db");
	assert_string_equal(cfg->plugin_dir, "/opt/ab/plugins");
	assert_string_equal(cfg->user, "alertbridge");
	assert_string_equal(cfg->pidfile, "/srv/alertbridge/run/ab.pid");
	assert_int_equal(cfg->log_level, AB_LOG_DEBUG);
	assert_true(cfg->log_syslog);
	assert_int_equal(cfg->dispatch.workers, 8);
	assert_int_equal(cfg->dispatch.in_flight, 16);
	assert_int_equal(cfg->dispatch.backoff_base_ms, 500);
	assert_int_equal(cfg->dispatch.backoff_cap_ms, 3600000);
	assert_int_equal(cfg->dispatch.max_age_ms, 7LL * 86400 * 1000);
	assert_int_equal(cfg->dispatch.poll_ms, 250);
	assert_int_equal(cfg->dispatch.timeout_ms, 120000);

	assert_int_equal(cfg->n_channels, 2);
	ch = ab_config_channel(cfg, "inbox");
	assert_ptr_equal(ch, &cfg->channels[0]);
	assert_string_equal(ch->type, "inbox");
	assert_string_equal(ch->file, path);
	assert_int_equal(ch->line, 10);
	want = json_pack("{s:s}", "path", "inbox.db");
	assert_true(json_equal(ch->settings, want));
	json_decref(want);

	ch = ab_config_channel(cfg, "hook_1");
	assert_ptr_equal(ch, &cfg->channels[1]);
	assert_string_equal(ch->type, "webhook");
	assert_int_equal(ch->line, 11);
	want = json_loads(settings_json, 0, NULL);
	assert_non_null(want);
	if (!json_equal(ch->settings, want)) {
		char *got = json_dumps(ch->settings, JSON_SORT_KEYS);

		print_error("settings: %s\n", got);
		free(got);
		fail();
	}
	json_decref(want);
	assert_null(json_object_get(ch->settings, "name"));
	assert_null(json_object_get(ch->settings, "type"));
	assert_null(ab_config_channel(cfg, "nope"));
	assert_null(ab_config_channel(cfg, NULL));

	assert_int_equal(cfg->n_rules, 2);
	r = &cfg->rules[0];
	assert_string_equal(r->name, "crit");
	assert_string_equal(r->file, path);
	assert_int_equal(r->line, 18);
	assert_int_equal(r->n_events, 1);
	assert_string_equal(r->events[0], "finding.*");
	assert_int_equal(r->categories, (1u << AB_CAT_SECURITY) | (1u << AB_CAT_ERROR));
	assert_int_equal(r->severities, (1u << AB_SEV_HIGH) | (1u << AB_SEV_CRITICAL));
	assert_int_equal(r->min_severity, AB_SEV_MEDIUM);
	assert_int_equal(r->n_sources, 2);
	assert_string_equal(r->sources[1], "dast*");
	assert_int_equal(r->n_channels, 2);
	assert_string_equal(r->channels[0], "hook_1");
	assert_string_equal(r->channels[1], "inbox");
	assert_true(r->final);

	r = &cfg->rules[1];
	assert_string_equal(r->name, "rule 2");
	assert_int_equal(r->line, 21);
	assert_int_equal(r->n_events, 0);
	assert_int_equal(r->categories, 0);
	assert_int_equal(r->severities, 0);
	assert_int_equal(r->min_severity, -1);
	assert_int_equal(r->n_sources, 0);
	assert_false(r->final);

	assert_int_equal(cfg->n_default, 2);
	assert_string_equal(cfg->default_channels[0], "inbox");
	assert_string_equal(cfg->default_channels[1], "hook_1");
	ab_config_free(cfg);
}

/* The shipped default must load with zero errors and ship the documented
 * out-of-the-box policy. */
static void test_shipped_config(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct ab_config *cfg;
	const struct ab_channel_conf *ch;
	size_t i;

	(void)state;
	snprintf(path, sizeof path, "%s/conf/alertbridge.conf", top && *top ? top : ".");
	cfg = load_ok(path);
	assert_string_equal(cfg->state_dir, "/var/lib/alertbridge");
	assert_string_equal(cfg->store_path, "/var/lib/alertbridge/store.db");
	assert_null(cfg->user);
	assert_int_equal(cfg->n_channels, 2);
	ch = ab_config_channel(cfg, "inbox");
	assert_non_null(ch);
	assert_string_equal(ch->type, "inbox");
	assert_string_equal(json_string_value(json_object_get(ch->settings, "path")), "inbox.db");
	ch = ab_config_channel(cfg, "file");
	assert_non_null(ch);
	assert_string_equal(ch->type, "file");
	assert_true(json_is_true(json_object_get(ch->settings, "fsync")));
	assert_int_equal(cfg->n_rules, 5);
	/* high and critical alerts of every recognized type */
	assert_int_equal(cfg->rules[0].n_events, 0);
	assert_int_equal(cfg->rules[0].min_severity, AB_SEV_HIGH);
	assert_string_equal(cfg->rules[1].events[0], "sla.warning");   /* the shipped policy */
	assert_string_equal(cfg->rules[1].events[1], "sla.breached");
	assert_string_equal(cfg->rules[2].events[0], "compliance.drift_detected");
	assert_string_equal(cfg->rules[3].events[0], "scan.failed");
	assert_string_equal(cfg->rules[4].events[0], "*.resolved");
	for (i = 0; i < cfg->n_rules; i++) {
		assert_int_equal(cfg->rules[i].n_channels, i == 4 ? 1 : 2);
		assert_false(cfg->rules[i].final);
	}
	assert_int_equal(cfg->n_default, 0);   /* only what a rule asks for */
	ab_config_free(cfg);
}

static void test_config_path(void **state)
{
	static const struct {
		const char *state_dir, *in, *out;
	} cases[] = {
		{ "/var/lib/ab", "store.db", "/var/lib/ab/store.db" },
		{ "/var/lib/ab/", "store.db", "/var/lib/ab/store.db" },
		{ "/var/lib/ab", "./x/y", "/var/lib/ab/x/y" },
		{ "/var/lib/ab", "/abs/path", "/abs/path" },
		{ "/", "x", "/x" },
		{ "/var/lib/ab", "", "/var/lib/ab" },
	};
	struct ab_config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		char *got;

		memset(&cfg, 0, sizeof cfg);
		cfg.state_dir = (char *)cases[i].state_dir;
		got = ab_config_path(&cfg, cases[i].in);
		assert_non_null(got);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
	cfg.state_dir = (char *)"/x";
	assert_null(ab_config_path(&cfg, NULL));
}

/* 150 unknown settings: the first 100 are shown, the rest counted. */
static void test_error_cap(void **state)
{
	char text[150 * 16 + 1], *errors = NULL, want[4200];
	const char *path;
	size_t off = 0;
	int i;

	(void)state;
	for (i = 0; i < 150; i++)
		off += (size_t)snprintf(text + off, sizeof text - off, "zz%d = 1;\n", i);
	path = write_fixture("cap.conf", text);
	assert_null(ab_config_load(path, &errors));
	assert_int_equal(count_lines(errors), 101);
	snprintf(want, sizeof want, "%s:100: unknown setting 'zz99' in the top level\n", path);
	assert_has(errors, want);
	snprintf(want, sizeof want, "%s: 50 more errors not shown\n", path);
	assert_has(errors, want);
	free(errors);
}

/* enabled: default true, false kept out of the plugin settings,
 * a fallback naming a disabled channel loads, and the notes the daemon
 * logs at load (one per disabled channel, one per such fallback). */
static const char enabled_conf[] =
	"channels = (\n"
	"  { name = \"on\"; type = \"file\"; path = \"on.jsonl\"; },\n"
	"  { name = \"off\"; type = \"file\"; path = \"off.jsonl\"; enabled = false; },\n"
	"  { name = \"yes\"; type = \"file\"; enabled = true; fallback = \"off\"; },\n"
	"  { name = \"off2\"; type = \"file\"; enabled = false; fallback = \"off\"; }\n"
	");\n"
	"rules = ({ name = \"r\"; channels = [\"off\"]; });\n"
	"default = [\"off\", \"on\"];\n";

struct notes { int n, warnings; char text[2048]; };

static void note_cb(void *arg, bool warning, const char *line)
{
	struct notes *nt = arg;

	nt->n++;
	nt->warnings += warning;
	snprintf(nt->text + strlen(nt->text), sizeof nt->text - strlen(nt->text), "%s\n", line);
}

static void test_channel_enabled(void **state)
{
	const char *path = write_fixture("enabled.conf", enabled_conf);
	struct ab_config *cfg = load_ok(path);
	struct notes nt;
	char want[4096 + 256];

	(void)state;
	memset(&nt, 0, sizeof nt);
	assert_int_equal(cfg->n_channels, 4);
	assert_true(ab_config_channel(cfg, "on")->enabled);
	assert_false(ab_config_channel(cfg, "off")->enabled);
	assert_true(ab_config_channel(cfg, "yes")->enabled);
	assert_string_equal(ab_config_channel(cfg, "yes")->fallback, "off");
	assert_false(ab_channel_disabled(cfg, "on"));
	assert_true(ab_channel_disabled(cfg, "off"));
	assert_true(ab_channel_disabled(cfg, "off2"));
	assert_false(ab_channel_disabled(cfg, "nope"));
	assert_false(ab_channel_disabled(cfg, NULL));
	/* a host setting: the plugin never sees it */
	assert_null(json_object_get(ab_config_channel(cfg, "off")->settings, "enabled"));
	assert_null(json_object_get(ab_config_channel(cfg, "yes")->settings, "enabled"));
	assert_string_equal(json_string_value(json_object_get(
		ab_config_channel(cfg, "off")->settings, "path")), "off.jsonl");

	assert_int_equal(ab_channels_notes(cfg, note_cb, &nt), 3);
	assert_int_equal(nt.n, 3);
	assert_int_equal(nt.warnings, 1);
	snprintf(want, sizeof want, "%s:3: channel 'off' is disabled (enabled = false)", path);
	assert_has(nt.text, want);
	snprintf(want, sizeof want, "%s:5: channel 'off2' is disabled", path);
	assert_has(nt.text, want);
	snprintf(want, sizeof want, "%s:4: channel 'yes': its fallback channel 'off' is disabled: "
		"health events of 'yes' (failing, recovered) go only to the log", path);
	assert_has(nt.text, want);
	/* off2 is disabled itself: no note about its fallback */
	assert_null(strstr(nt.text, "channel 'off2': its fallback"));
	ab_config_free(cfg);
}

static void test_null_errors_pointer(void **state)
{
	(void)state;
	assert_null(ab_config_load(write_fixture("nullerr.conf", "bogus = 1;\n"), NULL));
}

/* ------------------------------------------------------------ main */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* retention: a duration, "0"/"0s" keeps everything, at least an hour. */
static void test_retention(void **state)
{
	static const struct { const char *v; int64_t ms; } ok[] = {
		{ "0", 0 }, { "0s", 0 }, { "1h", 3600LL * 1000 }, { "90d", 90LL * 86400 * 1000 },
		{ "2w", 14LL * 86400 * 1000 },
	};
	char text[128], name[64];
	struct ab_config *cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		snprintf(name, sizeof name, "retention%zu.conf", i);
		snprintf(text, sizeof text, "retention = \"%s\";\n", ok[i].v);
		cfg = load_ok(write_fixture(name, text));
		assert_int_equal(cfg->retention_ms, ok[i].ms);
		ab_config_free(cfg);
	}
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_error_in_included_file),
		cmocka_unit_test(test_include_plain),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_shipped_config),
		cmocka_unit_test(test_config_path),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_null_errors_pointer),
		cmocka_unit_test(test_channel_enabled),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_users),
	};
	struct CMUnitTest tests[ARRAY_LEN(fixed) + ARRAY_LEN(err_cases)];
	size_t i;

	for (i = 0; i < ARRAY_LEN(err_cases); i++) {
		struct CMUnitTest t = { err_cases[i].name, test_error_case, NULL, NULL,
					(void *)&err_cases[i] };

		tests[i] = t;
	}
	for (i = 0; i < ARRAY_LEN(fixed); i++)
		tests[ARRAY_LEN(err_cases) + i] = fixed[i];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
