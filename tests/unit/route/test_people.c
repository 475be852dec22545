/*
 * test_people.c - alerts to people (route/people.c) over a real
 * configuration and a real store: rule recipients by role (with and
 * without members on the event's team), by team and by name; the union of
 * rules and personal subscriptions; preferences that turn a kind off, the
 * most specific one deciding; people.system_override against an "off";
 * access (a user sees their teams' events, admins all); users without an
 * address; a preference change taking effect on the next event without a
 * reload; email_mode "together"; and the configuration errors of
 * recipients and the people section, each with FILE:LINE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config.h"
#include "route/noise.h"
#include "route/people.h"
#include "route/route.h"
#include "store/prefsdb.h"
#include "store/store.h"
#include "lib/util.h"
#include "../harness/testutil.h"

#define CONF_HEAD \
	"state_dir = \"/tmp\";\n" \
	"channels = (\n" \
	"  { name = \"inbox\"; type = \"inbox\"; path = \"x.db\"; },\n" \
	"  { name = \"mail\";  type = \"email\"; url = \"smtp://127.0.0.1:25\"; },\n" \
	"  { name = \"ops\";   type = \"file\";  path = \"ops.jsonl\"; }\n" \
	");\n" \
	"users = (\n" \
	"  { name = \"alice\"; email = \"alice@example.com\"; teams = [\"secops\"];\n" \
	"    roles = [\"lead\"]; },\n" \
	"  { name = \"bob\"; email = \"bob@example.com\"; teams = [\"secops\"];\n" \
	"    roles = [\"member\"]; },\n" \
	"  { name = \"carol\"; email = \"carol@example.com\"; teams = [\"web\"];\n" \
	"    roles = [\"lead\"]; },\n" \
	"  { name = \"root\"; email = \"root@example.com\"; roles = [\"admin\"]; },\n" \
	"  { name = \"nomail\"; teams = [\"secops\"]; roles = [\"lead\"]; }\n" \
	");\n"

static const char *conf_text = CONF_HEAD
	"people = { email = \"mail\"; inbox = \"inbox\"; };\n"
	"rules = (\n"
	"  { name = \"leads\"; min_severity = \"high\"; channels = [\"ops\"];\n"
	"    recipients = { roles = [\"lead\"]; via = [\"email\", \"inbox\"]; }; },\n"
	"  { name = \"managers\"; events = [\"sla.*\"];\n"
	"    recipients = { roles = [\"manager\", \"lead\"]; via = [\"inbox\"]; }; },\n"
	"  { name = \"scans\"; events = [\"scan.*\"];\n"
	"    recipients = { teams = [\"secops\"]; via = [\"inbox\"]; }; },\n"
	"  { name = \"named\"; events = [\"review.requested\"];\n"
	"    recipients = { users = [\"carol\", \"bob\"]; via = [\"email\"]; }; }\n"
	");\n"
	"default = [\"ops\"];\n";

static struct ab_config *cfg;
static char *dir;

static struct ab_config *load(const char *name, const char *text, char **errors)
{
	char *path = tu_path(dir, name);
	struct ab_config *c;

	tu_write(path, text);
	c = ab_config_load(path, errors);
	free(path);
	return c;
}

static int setup(void **state)
{
	char *errors = NULL;

	(void)state;
	dir = tu_tmpdir();
	cfg = load("people.conf", conf_text, &errors);
	if (!cfg)
		fprintf(stderr, "%s", errors ? errors : "?");
	free(errors);
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

/* Decisions as "user:kind:why;" in the order they come (users, then kinds). */
static void add_decision(const struct ab_person_decision *d, void *arg)
{
	struct ab_buf *b = arg;

	ab_buf_printf(b, "%s:%s:%s;", d->user->name, ab_via_name(d->via),
		ab_person_why_text(d->why));
}

/* Route ev, and decide for the rules that matched. */
static char *decide(const char *js, const struct ab_prefs *prefs, struct ab_buf *explain)
{
	struct ab_event *ev = ev_json(js);
	struct ab_route_result rr;
	const struct ab_rule_conf *rules[AB_ROUTE_MAX_HITS];
	struct ab_buf b = AB_BUF_INIT(4096);
	size_t n = 0;

	ab_route(cfg, ev, &rr, NULL);
	for (size_t h = 0; h < rr.n_hits; h++)
		if (rr.hits[h].rule && !rr.hits[h].muted)
			rules[n++] = rr.hits[h].rule;
	ab_people_decide(cfg, ev, rules, n, prefs, add_decision, &b, explain);
	ab_event_free(ev);
	ab_buf_puts(&b, "");
	return ab_buf_steal(&b);
}

static void expect(const char *js, const struct ab_prefs *prefs, const char *want)
{
	char *got = decide(js, prefs, NULL);

	if (strcmp(got, want))
		fail_msg("event %s:\n  got  %s\n  want %s", js, got, want);
	free(got);
}

#define SECOPS_HIGH "{\"type\":\"finding.created\",\"severity\":\"high\",\"team\":\"secops\"}"

/* Roles on the event's team; a user without an address gets no e-mail. */
static void test_roles(void **state)
{
	struct ab_buf ex = AB_BUF_INIT(8192);
	char *got;

	(void)state;
	expect(SECOPS_HIGH, NULL, "alice:email:rule;alice:inbox:rule;"
		"nomail:email:no e-mail address;nomail:inbox:rule;");
	/* carol is a lead too, but on web */
	expect("{\"type\":\"finding.created\",\"severity\":\"high\",\"team\":\"web\"}", NULL,
		"carol:email:rule;carol:inbox:rule;");
	/* a role nobody on the team has sends nothing, and explain says so */
	got = decide("{\"type\":\"sla.breached\",\"team\":\"secops\"}", NULL, &ex);
	assert_string_equal(got, "alice:inbox:rule;nomail:inbox:rule;");
	assert_non_null(strstr(ab_buf_cstr(&ex), "role 'manager' has no member on team "
		"'secops': nobody gets it by that role"));
	free(got);
	ab_buf_reset(&ex);
	/* no team on the event: teams and roles reach nobody */
	got = decide("{\"type\":\"sla.breached\"}", NULL, &ex);
	assert_string_equal(got, "");
	assert_non_null(strstr(ab_buf_cstr(&ex), "the event has no team"));
	free(got);
	ab_buf_free(&ex);
	/* every member of a listed team */
	expect("{\"type\":\"scan.completed\",\"team\":\"secops\"}", NULL,
		"alice:inbox:rule;bob:inbox:rule;nomail:inbox:rule;");
	/* the listed team's members only see their team's events */
	expect("{\"type\":\"scan.completed\",\"team\":\"web\"}", NULL,
		"alice:inbox:no access;bob:inbox:no access;nomail:inbox:no access;");
}

/* Named users, with access checked. */
static void test_named(void **state)
{
	(void)state;
	expect("{\"type\":\"review.requested\",\"severity\":\"low\",\"team\":\"secops\"}", NULL,
		"bob:email:rule;carol:email:no access;");
	expect("{\"type\":\"review.requested\",\"severity\":\"low\",\"team\":\"web\"}", NULL,
		"bob:email:no access;carol:email:rule;");
}

static struct ab_pref P(const char *user, const char *pattern, const char *kind, bool on)
{
	struct ab_pref p = { (char *)user, (char *)pattern, (char *)kind, on, 1 };

	return p;
}

/* Union, off, override, subscriptions and specificity. */
static void test_preferences(void **state)
{
	struct ab_pref rows[] = {   /* sorted by user, as the store gives them */
		P("alice", "*", "*", false),
		P("alice", "finding.created", "inbox", true),
		P("alice", "finding.*", "email", false),
		P("bob", "finding.*", "inbox", true),
		P("carol", "*", "inbox", true),
		P("root", "scan.*", "*", true),
	};
	struct ab_prefs prefs = { rows, sizeof rows / sizeof rows[0], 1 };

	(void)state;
	/* alice: email off (finding.* beats *), inbox on (the exact type beats *);
	 * bob subscribed; carol subscribed but not her team; nomail as the rule says */
	expect(SECOPS_HIGH, &prefs, "alice:email:off by preference;alice:inbox:rule;"
		"bob:inbox:subscribed;carol:inbox:no access;nomail:email:no e-mail address;"
		"nomail:inbox:rule;");
	/* system_override keeps mentions on against alice's "* * off" */
	expect("{\"type\":\"alice.mentioned\",\"severity\":\"high\",\"team\":\"secops\"}",
		&prefs, "alice:email:system override;alice:inbox:system override;"
		"carol:inbox:no access;nomail:email:no e-mail address;nomail:inbox:rule;");
	/* an admin's subscription reaches every team's events */
	expect("{\"type\":\"scan.failed\",\"team\":\"web\"}", &prefs,
		"alice:inbox:no access;bob:inbox:no access;carol:inbox:subscribed;"
		"root:email:subscribed;root:inbox:subscribed;nomail:inbox:no access;");
	/* the most specific preference */
	assert_false(ab_people_pref(&prefs, "alice", "finding.created", AB_VIA_EMAIL)->on);
	assert_true(ab_people_pref(&prefs, "alice", "finding.created", AB_VIA_INBOX)->on);
	assert_false(ab_people_pref(&prefs, "alice", "finding.updated", AB_VIA_INBOX)->on);
	assert_null(ab_people_pref(&prefs, "bob", "finding.created", AB_VIA_EMAIL));
	assert_null(ab_people_pref(&prefs, "zed", "finding.created", AB_VIA_EMAIL));
}

/* Through the store: jobs per person, a preference change takes effect on
 * the next event without a reload, "together" makes one e-mail job. */
static int count_jobs(const struct ab_job *j, void *arg)
{
	struct ab_buf *b = arg;

	ab_buf_printf(b, "%s/%s;", j->channel, j->recipient);
	return 0;
}

static char *ingest(struct ab_store *st, const struct ab_config *c, const char *js,
	int64_t now)
{
	struct ab_event *ev = ev_json(js);
	struct ab_ingest_outcome out;
	struct ab_route_result rr;
	struct ab_buf b = AB_BUF_INIT(4096);
	char err[512];

	if (ab_store_begin(st) < 0)
		fail_msg("%s", ab_store_errmsg(st));
	ab_route_at(c, ev, now, &rr, NULL);
	if (ab_noise_ingest(st, c, ev, &rr, now, &out, NULL, err, sizeof err) < 0)
		fail_msg("%s", err);
	assert_int_equal(ab_store_commit(st), 0);
	ab_event_free(ev);
	ab_buf_printf(&b, "people=%d ", out.people);
	return ab_buf_steal(&b);
}

static void test_store_jobs(void **state)
{
	char *path = tu_path(dir, "store.db"), err[256], *got;
	struct ab_store *st = ab_store_open(path, err, sizeof err), *cli;
	struct ab_buf b = AB_BUF_INIT(4096);
	struct ab_config *c2;
	char *errors = NULL;

	(void)state;
	assert_non_null(st);
	got = ingest(st, cfg, "{\"id\":\"e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1\",\"type\":\"finding.created\",\"severity\":"
		"\"high\",\"team\":\"secops\"}", 1000);
	assert_string_equal(got, "people=3 ");
	free(got);
	/* alice turns e-mail off for findings in another process: no reload */
	assert_non_null(cli = ab_store_open(path, err, sizeof err));
	assert_int_equal(ab_prefs_set(cli, "alice", "finding.*", "email", false, 1500), 0);
	ab_store_close(cli);
	got = ingest(st, cfg, "{\"id\":\"e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2\",\"type\":\"finding.created\",\"severity\":"
		"\"high\",\"team\":\"secops\"}", 2000);
	assert_string_equal(got, "people=2 ");
	free(got);
	assert_int_equal(ab_store_list_jobs(st, 0, count_jobs, &b), 0);
	assert_string_equal(ab_buf_cstr(&b), "ops/;mail/alice;inbox/alice;inbox/nomail;"
		"ops/;inbox/alice;inbox/nomail;");
	/* email_mode together: one e-mail to everyone */
	c2 = load("together.conf", CONF_HEAD
		"people = { email = \"mail\"; email_mode = \"together\"; };\n"
		"rules = ({ name = \"r\"; recipients = { teams = [\"secops\"]; "
		"via = [\"email\"]; }; });\n", &errors);
	if (!c2)
		fail_msg("%s", errors);
	assert_int_equal(ab_prefs_unset(st, "alice", NULL, NULL), 1);
	got = ingest(st, c2, "{\"id\":\"e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3\",\"type\":\"x.y\",\"team\":\"secops\"}", 3000);
	assert_string_equal(got, "people=1 ");
	free(got);
	ab_buf_reset(&b);
	assert_int_equal(ab_store_list_jobs(st, 0, count_jobs, &b), 0);
	assert_non_null(strstr(ab_buf_cstr(&b), "mail/@all;"));
	ab_config_free(c2);
	ab_buf_free(&b);
	ab_store_close(st);
	free(path);
}

/* Configuration errors, all in one run, each with FILE:LINE. */
static void test_config_errors(void **state)
{
	char *errors = NULL;
	struct ab_config *c = load("bad.conf", CONF_HEAD
		"rules = (\n"
		"  { name = \"a\"; recipients = { roles = [\"lead\"]; via = [\"email\"]; }; },\n"
		"  { name = \"b\"; recipients = { users = [\"zed\"]; via = [\"inbox\", \"pager\"]; }; },\n"
		"  { name = \"c\"; group_by = [\"tool\"]; channels = [\"ops\"];\n"
		"    recipients = { via = [\"inbox\"]; }; },\n"
		"  { name = \"d\"; recipients = { roles = [\"Lead Dev\"]; }; }\n"
		");\n", &errors);

	(void)state;
	assert_null(c);
	assert_non_null(errors);
	assert_non_null(strstr(errors, "bad.conf:18: rule 'a': recipients: via \"email\" "
		"needs people = { email = \"CHANNEL\"; }"));
	assert_non_null(strstr(errors, "bad.conf:19: rule 'b': recipients: unknown user 'zed'"));
	assert_non_null(strstr(errors, "via 'pager' must be \"email\", \"inbox\" or \"chat\""));
	assert_non_null(strstr(errors, "rule 'c': recipients cannot be combined with group_by"));
	assert_non_null(strstr(errors, "role 'Lead Dev' must be"));
	assert_non_null(strstr(errors, "bad.conf:22: recipients: missing required setting 'via'"));
	free(errors);
	errors = NULL;
	/* the people section names defined channels */
	c = load("bad2.conf", CONF_HEAD "people = { inbox = \"nowhere\"; email_mode = \"all\"; };\n"
		"default = [\"ops\"];\n", &errors);
	assert_null(c);
	assert_non_null(strstr(errors, "bad2.conf:17: people: unknown channel 'nowhere'"));
	assert_non_null(strstr(errors, "email_mode must be \"each\""));
	free(errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_preferences),
		cmocka_unit_test(test_store_jobs),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests_name("people", tests, setup, teardown);
}
