/*
 * test_profile.c - the profile engine: each extractor on its own (inline
 * profiles), each shipped profile (conf/profiles.d) against its fixture
 * mail in tests/data/profiles/ (severity, type, title, url, asset), hostile
 * XML (billion laughs, external entity), detection order and conditions,
 * "all" extractors (highest severity wins), and the config errors of the
 * mail sections with FILE:LINE.  Fixtures are found under $top_srcdir.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <cmocka.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "lib/buf.h"
#include "config/config.h"
#include "event/event.h"
#include "config/config_mail.h"
#include "ingest/mail_event.h"
#include "parse/detect.h"
#include "parse/mail.h"
#include "parse/profile.h"
#include "ingest/syslog_source.h"
#include "parse/syslog.h"
#include "route/route.h"
#include "../harness/testutil.h"
#include "lib/util.h"

static char *tmp;

static char *slurp(const char *path, size_t *len)
{
	char *s = ab_read_file(path, 64 * 1024 * 1024, len);

	if (!s)
		fail_msg("cannot read %s (set top_srcdir)", path);
	return s;
}

/* Load a config made of body (profiles glob to the shipped ones added). */
static struct ab_config *load_conf(const char *body, char **errors)
{
	char *p = tu_path(tmp, "ab.conf");
	struct ab_buf b = AB_BUF_INIT(1 << 20);
	struct ab_config *cfg;

	ab_buf_printf(&b, "state_dir = \"%s\";\n%s", tmp, body);
	assert_int_equal(tu_write(p, ab_buf_cstr(&b)), 0);
	cfg = ab_config_load(p, errors);
	ab_buf_free(&b);
	free(p);
	return cfg;
}

static struct ab_config *shipped(void)
{
	char body[2048], *errors = NULL;
	struct ab_config *cfg;

	snprintf(body, sizeof body, "profiles = ( \"%s/conf/profiles.d/*.conf\" );\n", tu_srcdir());
	cfg = load_conf(body, &errors);
	if (!cfg)
		fail_msg("shipped profiles refused:\n%s", errors ? errors : "?");
	return cfg;
}

static struct ab_event *run(const struct ab_profile *p, const char *raw, size_t len,
			    struct ab_buf *trace)
{
	struct ab_mail *m = NULL;
	char err[256];
	struct ab_event *ev = ab_event_new();

	assert_non_null(ev);
	assert_true(ab_mail_parse(raw, len, NULL, &m, err, sizeof err) >= 0);
	assert_int_equal(ab_profile_apply_mail(p, m, ev, trace), 0);
	ab_mail_free(m);
	return ev;
}

/* ------------------------------------------------------------ shipped */

struct want {
	const char *profile, *fixture;
	const char *severity, *type, *title, *url, *asset, *tool;
	const char *field, *field_value;
};

static const struct want wants[] = {
	{ "xalert", "xalert.eml", "critical", "compliance.drift_detected",
	  "/etc/sudoers changed outside change management", "https://cmdb.example.com/hosts/db01",
	  "db01", "script", "ticket", "CHG-4711" },
	{ "defectdojo", "defectdojo.eml", "high", "finding.created",
	  "SQL Injection in /api/v1/orders", "https://dojo.example.com/finding/1234",
	  "payments-api", "defectdojo", "cwe", "89" },
	{ "secobserve", "secobserve.eml", "critical", "finding.created",
	  "Security gate for product \"shop-frontend\" has changed to failed",
	  "https://secobserve.example.com/#/products/17", "shop-frontend", "secobserve",
	  "gate", "failed" },
	{ "wazuh", "wazuh.eml", "medium", "intrusion.detected",
	  "sshd: brute force trying to get access to the system. Non existent user.", NULL,
	  "web01", "wazuh", "rule_id", "5712" },
	{ "nagios", "nagios.eml", "critical", "service.problem",
	  "** PROBLEM Service Alert: web01/HTTPS is CRITICAL **", NULL, "web01", "nagios",
	  "service", "HTTPS" },
	{ "fail2ban", "fail2ban.eml", "low", "intrusion.blocked",
	  "[Fail2Ban] sshd: banned 203.0.113.50 from web01.example.com", NULL,
	  "web01.example.com", "fail2ban", "ip", "203.0.113.50" },
	{ "aws-guardduty", "guardduty.eml", "high", "finding.created",
	  "203.0.113.50 is performing SSH brute force attacks against i-0abcd1234ef567890.", NULL,
	  "i-0abcd1234ef567890", "guardduty", "finding_type", "UnauthorizedAccess:EC2/SSHBruteForce" },
	{ "iodef", "iodef.eml", "high", "incident.reported",
	  "Host is part of a botnet (C2 traffic observed)",
	  "https://cert.example.org/incidents/CERT-2024-0042", "mail.example.com", "iodef",
	  "source_address", "198.51.100.7" },
	{ "generic", "generic.eml", "medium", "alert.generic",
	  "WARNING: certificate for shop.example.com expires in 5 days",
	  "https://wiki.example.com/runbooks/certs", "app01", NULL, NULL, NULL },
};

static void check_str(const char *what, const char *got, const char *want, const char *prof)
{
	if (!want && !got)
		return;
	if (!want || !got || strcmp(got, want))
		fail_msg("profile %s: %s: got '%s', want '%s'", prof, what, got ? got : "(null)",
			 want ? want : "(null)");
}

static void test_shipped_profiles(void **state)
{
	struct ab_config *cfg = shipped();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof wants / sizeof wants[0]; i++) {
		const struct want *w = &wants[i];
		const struct ab_profile *p = ab_mail_profile(cfg->mail, w->profile);
		char path[1024], *raw;
		size_t len;
		struct ab_buf trace = AB_BUF_INIT(1 << 20);
		struct ab_event *ev;

		if (!p)
			fail_msg("profile %s not shipped", w->profile);
		snprintf(path, sizeof path, "%s/tests/data/profiles/%s", tu_srcdir(), w->fixture);
		raw = slurp(path, &len);
		ev = run(p, raw, len, &trace);
		check_str("severity", ab_severity_name(ev->severity), w->severity, w->profile);
		check_str("type", ev->type, w->type, w->profile);
		check_str("title", ev->title, w->title, w->profile);
		check_str("url", ev->url, w->url, w->profile);
		check_str("asset", ev->asset, w->asset, w->profile);
		check_str("tool", ev->tool, w->tool, w->profile);
		if (w->field)
			check_str(w->field, json_string_value(json_object_get(ev->fields, w->field)),
				  w->field_value, w->profile);
		ab_event_free(ev);
		ab_buf_free(&trace);
		free(raw);
	}
	ab_config_free(cfg);
}

/* GuardDuty: occurred_at from detail.updatedAt; IODEF: from DetectTime. */
static void test_shipped_times(void **state)
{
	struct ab_config *cfg = shipped();
	char path[1024], *raw, when[40];
	size_t len;
	struct ab_event *ev;

	(void)state;
	snprintf(path, sizeof path, "%s/tests/data/profiles/guardduty.eml", tu_srcdir());
	raw = slurp(path, &len);
	ev = run(ab_mail_profile(cfg->mail, "aws-guardduty"), raw, len, NULL);
	ab_time_format_rfc3339(ev->occurred_at, when, sizeof when);
	assert_string_equal(when, "2024-05-06T07:59:02Z");
	assert_string_equal(ev->fingerprint, "16afba5c5c43e07c9e3e5e2e544e95df");
	ab_event_free(ev);
	free(raw);
	snprintf(path, sizeof path, "%s/tests/data/profiles/iodef.eml", tu_srcdir());
	raw = slurp(path, &len);
	ev = run(ab_mail_profile(cfg->mail, "iodef"), raw, len, NULL);
	ab_time_format_rfc3339(ev->occurred_at, when, sizeof when);
	assert_string_equal(when, "2024-05-07T09:40:00Z");
	assert_string_equal(ev->fingerprint, "CERT-2024-0042");
	ab_event_free(ev);
	free(raw);
	ab_config_free(cfg);
}

/* ------------------------------------------------------------ extractors */

static struct ab_event *inline_run(const char *profile, const char *raw, struct ab_buf *trace)
{
	char *errors = NULL;
	struct ab_config *cfg = load_conf(profile, &errors);
	struct ab_event *ev;

	if (!cfg)
		fail_msg("inline profile refused:\n%s", errors ? errors : "?");
	assert_int_equal((int)cfg->mail->n_profiles, 1);
	ev = run(cfg->mail->profiles[0], raw, strlen(raw), trace);
	ab_config_free(cfg);
	return ev;
}

#define HDRS "From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\n" \
	"Date: Wed, 01 May 2024 02:15:00 +0000\r\n"

static void test_ext_headers(void **state)
{
	struct ab_event *ev = inline_run("profiles = ( { name = \"p\"; extractors = ( "
		"{ type = \"headers\"; } ); defaults = false; } );",
		HDRS "X-Alert-Severity: high\r\nX-Alert-Asset: db01\r\nX-Alert-Team: dba\r\n"
		"X-Alert-Priority: 2\r\nX-Alert-Rack: r17\r\n\r\nbody\r\n", NULL);

	(void)state;
	assert_int_equal(ev->severity, AB_SEV_HIGH);
	assert_string_equal(ev->asset, "db01");
	assert_string_equal(ev->team, "dba");
	assert_int_equal(ev->priority, 2);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "rack")), "r17");
	assert_null(ev->title);   /* defaults off */
	ab_event_free(ev);
}

static void test_ext_json_attachment_and_nested(void **state)
{
	struct ab_event *ev = inline_run("profiles = ( { name = \"p\"; extractors = ( "
		"{ type = \"json\"; on = \"attachment\"; map = [ \"finding.sev -> severity\", "
		"\"finding.tags[1] -> fields.tag\", \"wrapped.inner.asset -> asset\" ]; } ); } );",
		HDRS "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"
		"--x\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
		"--x\r\nContent-Type: application/json\r\nContent-Disposition: attachment; "
		"filename=\"f.json\"\r\n\r\n{\"finding\":{\"sev\":\"Critical\",\"tags\":[\"a\",\"b\"]},"
		"\"wrapped\":\"{\\\"inner\\\":{\\\"asset\\\":\\\"api\\\"}}\"}\r\n--x--\r\n", NULL);

	(void)state;
	assert_int_equal(ev->severity, AB_SEV_CRITICAL);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "tag")), "b");
	assert_string_equal(ev->asset, "api");   /* JSON inside a string is decoded */
	ab_event_free(ev);
}

static void test_ext_kv_regex_values_fallback(void **state)
{
	struct ab_buf trace = AB_BUF_INIT(1 << 16);
	struct ab_event *ev = inline_run("profiles = ( { name = \"p\"; extractors = ( "
		"{ type = \"kv\"; map = [ \"Level -> severity\", \"Box -> asset\" ]; }, "
		"{ type = \"regex\"; on = \"text\"; pattern = \"ticket (?<fields_ticket>T-\\\\d+)\"; }, "
		"{ type = \"regex\"; on = \"subject\"; pattern = \"^(?<title>s)$\"; } ); "
		"values = ( { target = \"severity\"; match = [\"S0\", \"sev-zero*\"]; "
		"value = \"critical\"; } ); fallback = { type = \"x.y\"; asset = \"nope\"; }; } );",
		HDRS "\r\nLevel: sev-zero (page)\r\n  Box : web07 \r\nsee ticket T-99 now\r\n",
		&trace);

	(void)state;
	assert_int_equal(ev->severity, AB_SEV_CRITICAL);   /* value map with a glob */
	assert_string_equal(ev->asset, "web07");            /* kv beats the fallback */
	assert_string_equal(ev->type, "x.y");
	assert_string_equal(ev->title, "s");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "ticket")), "T-99");
	assert_non_null(strstr(ab_buf_cstr(&trace), "map severity"));
	ab_event_free(ev);
	ab_buf_free(&trace);
}

static void test_ext_xml_hostile(void **state)
{
	const char *prof = "profiles = ( { name = \"p\"; extractors = ( "
		"{ type = \"xml\"; map = [ \"/r/t -> title\", \"count(//x) -> fields.n\" ]; } ); "
		"defaults = false; } );";
	struct ab_buf trace = AB_BUF_INIT(1 << 16);
	struct ab_event *ev;

	(void)state;
	ev = inline_run(prof, HDRS "Content-Type: application/xml\r\n\r\n"
		"<?xml version=\"1.0\"?><r><t>ok</t><x/><x/></r>\r\n", NULL);
	assert_string_equal(ev->title, "ok");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "n")), "2");
	assert_null(json_object_get(ev->fields, "xml_refused"));
	ab_event_free(ev);
	/* Billion laughs: refused, nothing expanded, said on the event for the log. */
	ev = inline_run(prof, HDRS "\r\n<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">"
		"<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;\">]>"
		"<r><t>&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;</t></r>\r\n", &trace);
	assert_null(ev->title);
	assert_non_null(strstr(ab_buf_cstr(&trace), "DOCTYPE refused"));
	assert_string_equal(json_string_value(json_object_get(ev->fields, "xml_refused")),
			    "body: XML with a DOCTYPE refused, entities not expanded");
	ab_event_free(ev);
	/* External entity to /etc/passwd: refused, never read. */
	ev = inline_run(prof, HDRS "\r\n<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM "
		"\"file:///etc/passwd\">]><r><t>&x;</t></r>\r\n", NULL);
	assert_null(ev->title);
	assert_non_null(strstr(json_string_value(json_object_get(ev->fields, "xml_refused")),
			       "DOCTYPE refused"));
	ab_event_free(ev);
	ab_buf_free(&trace);
}

static void test_defaults(void **state)
{
	struct ab_event *ev = inline_run("profiles = ( { name = \"p\"; } );",
		"From: a@example.com\r\nSubject: CRITICAL disk failure on db02\r\n"
		"Date: Wed, 01 May 2024 02:15:00 +0000\r\nContent-Type: text/html\r\n\r\n"
		"<p>Disk <b>sdb</b> failed.</p><a href=\"https://mon.example.com/db02\">graph</a>\r\n",
		NULL);
	char when[40];

	(void)state;
	assert_string_equal(ev->title, "CRITICAL disk failure on db02");
	assert_int_equal(ev->severity, AB_SEV_CRITICAL);
	assert_string_equal(ev->url, "https://mon.example.com/db02");
	assert_non_null(strstr(ev->summary, "Disk sdb failed."));
	ab_time_format_rfc3339(ev->occurred_at, when, sizeof when);
	assert_string_equal(when, "2024-05-01T02:15:00Z");
	ab_event_free(ev);
}

static void test_apply_text(void **state)
{
	char *errors = NULL;
	struct ab_config *cfg = load_conf("profiles = ( { name = \"p\"; extractors = ( "
		"{ type = \"kv\"; separator = \"=\"; map = [ \"host -> asset\", \"sev -> severity\" ]; }"
		" ); } );", &errors);
	struct ab_event *ev = ab_event_new();

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(ab_profile_apply_text(cfg->mail->profiles[0], NULL,
		"sev=high\nhost=fw01\n", ev, NULL), 0);
	assert_string_equal(ev->asset, "fw01");
	assert_int_equal(ev->severity, AB_SEV_HIGH);
	assert_string_equal(ev->title, "sev=high");
	ab_event_free(ev);
	ab_config_free(cfg);
}

/* A regex extractor whose every target has its value does not run (the
 * first value wins); one with a target still free runs, and an "all"
 * extractor runs anyway (a worse severity replaces its own lesser one).
 * Field values found go through value maps and fallback templates. */
static void test_regex_skipped_when_set(void **state)
{
	char *errors = NULL;
	struct ab_config *cfg = load_conf("profiles = ( { name = \"p\"; extractors = ( "
		"{ type = \"regex\"; on = \"text\"; pattern = \"user (?<fields_user>\\\\S+) "
		"from (?<fields_ip>\\\\S+)\"; }, "
		"{ type = \"regex\"; on = \"text\"; pattern = \"(?<fields_user>\\\\S+)\"; }, "
		"{ type = \"regex\"; on = \"text\"; pattern = \"(?<fields_user>\\\\S+) "
		"port (?<fields_port>\\\\d+)\"; }, "
		"{ type = \"regex\"; on = \"text\"; all = true; "
		"pattern = \"sev=(?<severity>\\\\w+)\"; } ); "
		"values = ( { target = \"fields.user\"; match = [\"root\"]; value = \"superuser\"; } ); "
		"fallback = { url = \"https://example.com/u/{fields.user}?ip={fields.ip}\"; }; } );",
		&errors);
	struct ab_buf trace = AB_BUF_INIT(1 << 16);
	struct ab_event *ev = ab_event_new();
	const char *t;

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(ab_profile_apply_text(cfg->mail->profiles[0], NULL,
		"user root from 10.0.0.1 port 22 sev=low sev=high", ev, &trace), 0);
	t = ab_buf_cstr(&trace);
	/* extractor 2 sets only user: not run; 3 has port free: runs */
	assert_non_null(strstr(t, "extractor 2 (regex):\n    not run"));
	assert_null(strstr(t, "extractor 3 (regex):\n    not run"));
	assert_string_equal(json_string_value(json_object_get(ev->fields, "user")), "superuser");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "ip")), "10.0.0.1");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "port")), "22");
	assert_int_equal(ev->severity, AB_SEV_HIGH);        /* "all": the worst match */
	assert_string_equal(ev->url, "https://example.com/u/superuser?ip=10.0.0.1");
	ab_event_free(ev);
	ab_buf_free(&trace);
	ab_config_free(cfg);
}

/* ------------------------------------------------------------ sources, trust */

static void test_sources_and_trust(void **state)
{
	char *errors = NULL;
	struct ab_config *cfg = load_conf(
		"profiles = ( { name = \"g\"; } );\n"
		"mail_sources = ( { name = \"a\"; recipients = [\"alerts+*@example.com\"]; profile = \"g\";\n"
		"  trusted_networks = [\"10.0.0.0/8\"]; authserv_id = \"mx.example.com\"; },\n"
		"  { name = \"h\"; headers = [\"X-Mailer: ^Nagios\"]; } );\n", &errors);
	struct ab_mail *m = NULL;
	struct ab_mail_env env;
	struct sockaddr_in sin;
	char *rc[1] = { "alerts+dojo@example.com" }, why[256], ch[64], err[128];
	const char *raw = "From: x@y\r\nX-Mailer: nagios 4\r\nAuthentication-Results: "
		"mx.example.com; dkim=pass header.d=y\r\n\r\nb\r\n";

	(void)state;
	if (!cfg)
		fail_msg("%s", errors);
	assert_true(ab_mail_parse(raw, strlen(raw), NULL, &m, err, sizeof err) >= 0);
	memset(&env, 0, sizeof env);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0xc0000201);   /* 192.0.2.1 */
	env.client = (struct sockaddr *)&sin;
	env.rcpts = rc;
	env.n_rcpts = 1;
	assert_string_equal(ab_mail_source_select(cfg->mail, &env, m)->name, "a");
	assert_true(ab_mail_trusted(&cfg->mail->sources[0], &env, m, why, sizeof why));
	assert_non_null(strstr(why, "dkim=pass"));
	ab_mail_free(m);
	raw = "From: x@y\r\nAuthentication-Results: evil.example; dkim=pass\r\n\r\nb\r\n";
	assert_true(ab_mail_parse(raw, strlen(raw), NULL, &m, err, sizeof err) >= 0);
	assert_false(ab_mail_trusted(&cfg->mail->sources[0], &env, m, why, sizeof why));
	sin.sin_addr.s_addr = htonl(0x0a010203);   /* 10.1.2.3 */
	assert_true(ab_mail_trusted(&cfg->mail->sources[0], &env, m, why, sizeof why));
	rc[0] = "someone@example.com";
	assert_null(ab_mail_source_select(cfg->mail, &env, m));   /* no rcpt, no X-Mailer */
	ab_mail_free(m);
	assert_true(ab_mail_route_channel(cfg->mail, "route+Slack-Sec@example.com", ch, sizeof ch));
	assert_string_equal(ch, "slack-sec");
	assert_false(ab_mail_route_channel(cfg->mail, "router@example.com", ch, sizeof ch));
	ab_config_free(cfg);
}

/* route+CHANNEL: the envelope's recipients name channels; a To: header
 * does only when there is no envelope at all (the CLI without --rcpt,
 * --sender or --client), never past the rules of a milter session. */
static void test_accept_route_from_envelope_only(void **state)
{
	char *errors = NULL;
	struct ab_config *cfg = load_conf(
		"channels = ( { name = \"file\"; type = \"file\"; path = \"f\"; },\n"
		"  { name = \"pager\"; type = \"file\"; path = \"p\"; } );\n"
		"default = [\"file\"];\n"
		"mail_sources = ( { name = \"net\"; senders = [\"*@scanner.example\"]; } );\n",
		&errors);
	const char *raw = "From: a@scanner.example\r\nTo: route+pager@example.com\r\n"
		"Subject: x\r\n\r\nb\r\n";
	char *rc[1] = { "route+pager@example.com" }, err[128];
	struct ab_mail *m = NULL;
	struct ab_mail_accept acc;
	struct ab_mail_env env;

	(void)state;
	if (!cfg)
		fail_msg("%s", errors);
	assert_true(ab_mail_parse(raw, strlen(raw), NULL, &m, err, sizeof err) >= 0);
	/* a milter session: sender known, the only recipient is ops@ */
	memset(&env, 0, sizeof env);
	env.sender = "a@scanner.example";
	ab_mail_accept(cfg, NULL, &env, m, "mail", NULL, NULL, 0, NULL, &acc);
	assert_int_equal(acc.verdict, AB_MAIL_ACCEPTED);
	assert_int_equal(acc.n_direct, 0);   /* To: picks nothing: the rules decide */
	ab_event_free(acc.ev);
	/* the envelope recipient names the channel */
	env.rcpts = rc;
	env.n_rcpts = 1;
	ab_mail_accept(cfg, NULL, &env, m, "mail", NULL, NULL, 0, NULL, &acc);
	assert_int_equal(acc.n_direct, 1);
	assert_string_equal(acc.direct[0], "pager");
	ab_event_free(acc.ev);
	/* no envelope at all (parse of a file): To: stands in */
	memset(&env, 0, sizeof env);
	ab_mail_accept(cfg, NULL, &env, m, "cli", NULL, NULL, AB_MAIL_ALWAYS_EVENT, NULL, &acc);
	assert_int_equal(acc.n_direct, 1);
	ab_event_free(acc.ev);
	ab_mail_free(m);
	ab_config_free(cfg);
}

/* A header condition is matched within lib/regex.h's budget: a hostile
 * header that would backtrack for ever is no match, promptly. */
static void test_source_header_budget(void **state)
{
	char *errors = NULL;
	struct ab_config *cfg = load_conf(
		"mail_sources = ( { name = \"h\"; headers = [\"X-Tag: ^(a+)+$\"]; } );\n", &errors);
	struct ab_mail *m = NULL;
	struct ab_mail_env env;
	struct ab_buf raw = AB_BUF_INIT(64 * 1024);
	char err[128];
	size_t i;

	(void)state;
	if (!cfg)
		fail_msg("%s", errors);
	memset(&env, 0, sizeof env);
	/* sane input matches (caseless, as header conditions are) */
	ab_buf_puts(&raw, "From: x@y\r\nX-Tag: AAAA\r\n\r\nb\r\n");
	assert_true(ab_mail_parse(raw.data, raw.len, NULL, &m, err, sizeof err) >= 0);
	assert_true(ab_mail_source_match(&cfg->mail->sources[0], &env, m));
	ab_mail_free(m);
	/* 4000 'a' then '!': 2^4000 ways to fail without a budget */
	ab_buf_reset(&raw);
	ab_buf_puts(&raw, "From: x@y\r\nX-Tag: ");
	for (i = 0; i < 4000; i++)
		ab_buf_puts(&raw, "a");
	ab_buf_puts(&raw, "!\r\n\r\nb\r\n");
	assert_false(raw.overflow);
	assert_true(ab_mail_parse(raw.data, raw.len, NULL, &m, err, sizeof err) >= 0);
	assert_false(ab_mail_source_match(&cfg->mail->sources[0], &env, m));
	assert_null(ab_mail_source_select(cfg->mail, &env, m));
	ab_mail_free(m);
	ab_buf_free(&raw);
	ab_config_free(cfg);
}

/* ------------------------------------------------------------ detection */

/* Profiles for the detection tests: written so that several alternatives
 * hold for the same mail and the documented order decides. */
static const char detect_conf[] =
	"profiles = (\n"
	" { name = \"generic\"; fallback = { type = \"alert.generic\"; }; },\n"
	" { name = \"one\"; detect = { subject = \"^Alert\"; };\n"
	"   fallback = { type = \"t.one\"; }; },\n"
	" { name = \"two\"; detect = ( { from = [\"*@tool.example\"]; },\n"
	"   { subject = \"^Alert\"; header = [\"X-Tool:\"]; } );\n"
	"   fallback = { type = \"t.two\"; }; },\n"
	" { name = \"boost\"; priority = 5; detect = { body = \"(?i)boost me\"; };\n"
	"   fallback = { type = \"t.boost\"; }; },\n"
	" { name = \"att\"; detect = { attachment = [\"application/json\"]; subject = \"^Scan\"; };\n"
	"   extractors = ( { type = \"json\"; all = true; map = [ \"findings[*].severity -> severity\",\n"
	"     \"findings[*].title -> title\" ]; } );\n"
	"   fallback = { type = \"t.att\"; }; },\n"
	" { name = \"rep\"; detect = { header = [\"X-Report: ^v[0-9]\", \"X-Kind: scan\"]; };\n"
	"   extractors = ( { type = \"regex\"; all = true;\n"
	"     pattern = \"(?m)^(?<severity>High|Medium|Low|Informational): [1-9]\"; } );\n"
	"   fallback = { type = \"t.rep\"; }; },\n"
	" { name = \"sys\"; detect = ( { app = [\"sshd\"]; message = \"^Failed\"; },\n"
	"   { payload = [\"cef\"]; field = [\"cef.vendor: (?i)^acme$\"]; } );\n"
	"   extractors = ( { type = \"fields\"; map = [ \"cef.product -> fields.product\",\n"
	"     \"syslog.procid -> fields.pid\" ]; } );\n"
	"   fallback = { type = \"t.sys\"; }; }\n"
	");\n";

static const char *detect_type(struct ab_config *cfg, const char *raw)
{
	static char type[64];
	struct ab_mail *m = NULL;
	struct ab_event *ev;
	char err[256];

	assert_true(ab_mail_parse(raw, strlen(raw), NULL, &m, err, sizeof err) >= 0);
	ev = ab_mail_event(cfg->mail, NULL, m, NULL, "mail", NULL, NULL);
	assert_non_null(ev);
	snprintf(type, sizeof type, "%s", ev->type ? ev->type : "");
	ab_event_free(ev);
	ab_mail_free(m);
	return type;
}

static void test_detect_order(void **state)
{
	char *errors = NULL;
	struct ab_config *cfg = load_conf(detect_conf, &errors);
	const struct ab_detect_entry *e;

	(void)state;
	if (!cfg)
		fail_msg("%s", errors);
	/* one condition each: alphabetical (one < two) */
	assert_string_equal(detect_type(cfg, "From: x@tool.example\nSubject: Alert 1\n\nx\n"),
			    "t.one");
	/* two conditions beat one */
	assert_string_equal(detect_type(cfg, "From: x@y.example\nX-Tool: 1\nSubject: Alert 1\n\nx\n"),
			    "t.two");
	/* header presence is per name, any case */
	assert_string_equal(detect_type(cfg, "From: x@y.example\nx-tool: 1\nSubject: Alert 1\n\nx\n"),
			    "t.two");
	/* priority beats more conditions */
	assert_string_equal(detect_type(cfg, "From: x@y.example\nX-Tool: 1\nSubject: Alert 1\n\n"
					"please Boost me\n"), "t.boost");
	/* nothing holds: generic */
	assert_string_equal(detect_type(cfg, "From: x@y.example\nSubject: hello\n\nx\n"),
			    "alert.generic");
	/* every header condition must hold, with its regex */
	assert_string_equal(detect_type(cfg, "From: a@b.example\nX-Report: v2\nSubject: r\n\nx\n"),
			    "alert.generic");
	assert_string_equal(detect_type(cfg, "From: a@b.example\nX-Report: beta\nX-Kind: scan\n"
					"Subject: r\n\nx\n"), "alert.generic");
	/* the order as `alertbridge profiles` lists it */
	e = ab_detect_at(cfg->mail->detect, false, 0);
	assert_string_equal(e->profile->name, "boost");
	e = ab_detect_at(cfg->mail->detect, false, 1);
	assert_string_equal(e->profile->name, "att");
	assert_int_equal(ab_detect_count(cfg->mail->detect, false), 6);
	assert_int_equal(ab_detect_count(cfg->mail->detect, true), 2);
	ab_config_free(cfg);
}

static void test_all_highest_severity(void **state)
{
	char *errors = NULL;
	struct ab_config *cfg = load_conf(detect_conf, &errors);
	struct ab_mail *m = NULL;
	struct ab_event *ev;
	char err[256];
	static const char rep[] =
		"From: a@b.example\nX-Report: v2\nX-Kind: scan\nSubject: weekly\n\n"
		"Summary\nInformational: 4\nHigh: 0\nLow: 2\nMedium: 3\n";
	static const char att[] =
		"From: a@b.example\nSubject: Scan done\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n"
		"see attachment\n--b\nContent-Type: application/json; name=\"r.json\"\n"
		"Content-Disposition: attachment; filename=\"r.json\"\n\n"
		"{\"findings\": [{\"severity\": \"Low\", \"title\": \"first\"},"
		" {\"severity\": \"Critical\", \"title\": \"second\"},"
		" {\"severity\": \"info\", \"title\": \"third\"}]}\n--b--\n";

	(void)state;
	if (!cfg)
		fail_msg("%s", errors);
	assert_true(ab_mail_parse(rep, strlen(rep), NULL, &m, err, sizeof err) >= 0);
	ev = ab_mail_event(cfg->mail, NULL, m, NULL, "mail", NULL, NULL);
	assert_string_equal(ev->type, "t.rep");
	/* "High: 0" is no result; "Informational: 4" does not lower Medium */
	assert_string_equal(ab_severity_name(ev->severity), "medium");
	ab_event_free(ev);
	ab_mail_free(m);

	assert_true(ab_mail_parse(att, strlen(att), NULL, &m, err, sizeof err) >= 0);
	ev = ab_mail_event(cfg->mail, NULL, m, NULL, "mail", NULL, NULL);
	assert_string_equal(ev->type, "t.att");
	assert_string_equal(ab_severity_name(ev->severity), "critical");
	assert_string_equal(ev->title, "first");     /* other targets: the first wins */
	assert_string_equal(json_string_value(json_object_get(ev->fields, "profile")), "att");
	ab_event_free(ev);
	ab_mail_free(m);
	ab_config_free(cfg);
}

static void test_detect_syslog(void **state)
{
	char *errors = NULL, err[256];
	struct ab_config *cfg = load_conf(detect_conf, &errors);
	const struct ab_detect_entry *hit = NULL;
	struct ab_event *ev;
	static const char ssh[] = "<38>Nov 23 10:00:00 bastion sshd[812]: Failed password for root";
	static const char cef[] = "<134>Nov 23 10:00:00 fw CEF:0|ACME|Wall|1.0|100|Blocked|7|src=1.2.3.4";
	static const char other[] = "<134>Nov 23 10:00:00 fw CEF:0|Other|Wall|1.0|100|Blocked|7|src=1.2.3.4";

	(void)state;
	if (!cfg)
		fail_msg("%s", errors);
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, cfg->mail, NULL, NULL, NULL, ssh, strlen(ssh), false,
		1, 0, ev, NULL, &hit, NULL, err, sizeof err), 1);
	assert_non_null(hit);
	assert_string_equal(ev->type, "t.sys");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "syslog.profile")), "sys");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "pid")), "812");
	ab_event_free(ev);

	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, cfg->mail, NULL, NULL, NULL, cef, strlen(cef), false,
		1, 0, ev, NULL, &hit, NULL, err, sizeof err), 1);
	assert_string_equal(ev->type, "t.sys");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "product")), "Wall");
	ab_event_free(ev);

	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, cfg->mail, NULL, NULL, NULL, other, strlen(other),
		false, 1, 0, ev, NULL, &hit, NULL, err, sizeof err), 1);
	assert_null(hit);
	assert_string_equal(ev->type, "finding.created");     /* the parser's own */
	assert_null(json_object_get(ev->fields, "syslog.profile"));
	ab_event_free(ev);
	ab_config_free(cfg);
}

/* What a gate saw: its view's members as text, and how many it was asked. */
struct seen {
	char *text[AB_EVM_COUNT];
	int asked;
};

static bool capture(const struct ab_event *view, void *arg)
{
	struct seen *sn = arg;
	char buf[64];

	sn->asked++;
	for (int m = 0; m < AB_EVM_COUNT; m++) {
		const char *t = ab_event_member_text(view, (enum ab_event_member_id)m, buf,
						     sizeof buf);

		free(sn->text[m]);
		sn->text[m] = t ? strdup(t) : NULL;
	}
	return false;
}

/* One line, as the listener takes it, through the gate (which answers "goes
 * nowhere") and whole: every member of the mask the same.  Returns whether
 * the gate was asked. */
static bool gate_agrees(const struct ab_config *cfg, const char *line, size_t len,
			uint64_t mask)
{
	static struct ab_syslog_view v1, v2;
	struct seen sn = { { NULL }, 0 };
	struct ab_syslog_gate g = { mask, ab_event_new_at(0), capture, &sn };
	struct ab_event *whole = ab_event_new_at(1705312800000LL);
	struct ab_event *half = ab_event_new_at(1705312800000LL);
	unsigned fl = AB_SYSLOG_ID_LATER | AB_SYSLOG_FIELDS_LATER;
	char err[256], buf[64];
	int r1, r2;

	assert_non_null(whole);
	assert_non_null(half);
	assert_non_null(g.view);
	r1 = ab_syslog_process(cfg->syslog, cfg->mail, NULL, "in", "192.0.2.1", line, len, false,
		1705312800000LL, fl, whole, NULL, NULL, &v1, err, sizeof err);
	r2 = ab_syslog_process_gated(cfg->syslog, cfg->mail, NULL, "in", "192.0.2.1", line, len,
		false, 1705312800000LL, fl, half, NULL, NULL, &v2, &g, err, sizeof err);
	assert_true(r1 >= 1);
	if (sn.asked) {
		assert_int_equal(r2, 3);
		assert_int_equal(sn.asked, 1);
		for (int m = 0; m < AB_EVM_COUNT; m++) {
			const char *t = ab_event_member_text(whole, (enum ab_event_member_id)m,
							     buf, sizeof buf);

			if (!(mask & (1ull << m)) || (!t && !sn.text[m]) ||
			    (t && sn.text[m] && !strcmp(t, sn.text[m])))
				continue;
			fail_msg("member %s: whole '%s', gate '%s' for line: %.*s",
				 ab_event_member_defs[m].key, t ? t : "(null)",
				 sn.text[m] ? sn.text[m] : "(null)", (int)len, line);
		}
	} else {
		assert_int_equal(r2, r1);    /* no profile: the gate is not asked */
	}
	for (int m = 0; m < AB_EVM_COUNT; m++)
		free(sn.text[m]);
	ab_event_free(g.view);
	ab_event_free(whole);
	ab_event_free(half);
	return sn.asked > 0;
}

/* The syslog listener's gate (ab_syslog_process_gated): for every line of
 * the tool corpus and the shipped profiles, the members routing reads come
 * out of the gate's partial application as out of the whole one; with
 * every member rules may name (fields matchers) as well. */
static void test_gate_members_agree(void **state)
{
	struct ab_config *cfg = shipped();
	uint64_t base = ab_route_members(cfg), all = 0;
	char pat[1024];
	glob_t gl;
	int lines = 0, gated = 0;

	(void)state;
	assert_true(base & (1ull << AB_EVM_SEVERITY));
	for (int m = 0; m < AB_EVM_COUNT; m++)
		if (ab_event_member_defs[m].flags & AB_EVF_ROUTE)
			all |= 1ull << m;
	snprintf(pat, sizeof pat, "%s/tests/data/corpus/*/*.log", tu_srcdir());
	assert_int_equal(glob(pat, 0, NULL, &gl), 0);
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		size_t n;
		char *text = slurp(gl.gl_pathv[i], &n);

		for (size_t a = 0, b; a < n; a = b + 1) {
			const char *nl = memchr(text + a, '\n', n - a);

			b = nl ? (size_t)(nl - text) : n;
			if (b == a)
				continue;
			lines++;
			gated += gate_agrees(cfg, text + a, b - a, base);
			gate_agrees(cfg, text + a, b - a, all);
		}
		free(text);
	}
	globfree(&gl);
	/* most corpus lines are some profile's */
	assert_true(lines >= 130);
	assert_true(gated * 10 >= lines * 8);
	ab_config_free(cfg);
}

/* regex over the links and over attachments; ignore_links for the default url */
static void test_links_and_attachments(void **state)
{
	static const char mail[] =
		"From: a@b.example\nSubject: Scan added\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/html\n\n"
		"<p><a href=\"https://dojo.example/product/3\">p</a> "
		"<a href=\"https://dojo.example/engagement/7\">e</a> "
		"<a href=\"https://dojo.example/test/42\">t</a></p>\n"
		"--b\nContent-Type: text/plain; name=\"r.txt\"\n"
		"Content-Disposition: attachment; filename=\"r.txt\"\n\nRisk: High\n--b--\n";
	struct ab_event *ev;

	(void)state;
	ev = inline_run("profiles = ( { name = \"p\"; extractors = (\n"
		" { type = \"regex\"; on = \"links\"; pattern = \"(?<url>^https://[^/]+/test/\\\\d+$)\"; },\n"
		" { type = \"regex\"; on = \"attachment\"; pattern = \"Risk: (?<severity>\\\\w+)\"; }\n"
		" ); } );", mail, NULL);
	assert_string_equal(ev->url, "https://dojo.example/test/42");
	assert_string_equal(ab_severity_name(ev->severity), "high");
	ab_event_free(ev);
	/* the default url skips ignored links; "*" leaves none */
	ev = inline_run("profiles = ( { name = \"p\"; ignore_links = [\"*/product/*\"]; } );", mail,
			NULL);
	assert_string_equal(ev->url, "https://dojo.example/engagement/7");
	ab_event_free(ev);
	ev = inline_run("profiles = ( { name = \"p\"; ignore_links = [\"*\"]; } );", mail, NULL);
	assert_null(ev->url);
	ab_event_free(ev);
}

/* A 90-digit level or an exponent is refused, never cast (UBSan). */
static void test_scale_numbers_checked(void **state)
{
	static const char big[] =
		"From: a@b.example\nSubject: x\n\nlevel 123456789012345678901234567890123456789012"
		"345678901234567890123456789012345678901234567890\nscore 1e90\n";
	struct ab_event *ev = inline_run("profiles = ( { name = \"p\"; extractors = (\n"
		" { type = \"regex\"; pattern = \"level (?<severity_wazuh>\\\\d+)\"; } ); } );", big, NULL);

	(void)state;
	assert_string_equal(ab_severity_name(ev->severity), "info");
	ab_event_free(ev);
	ev = inline_run("profiles = ( { name = \"p\"; extractors = (\n"
		" { type = \"regex\"; pattern = \"score (?<severity_guardduty>\\\\S+)\"; } ); } );", big,
		NULL);
	assert_string_equal(ab_severity_name(ev->severity), "info");
	ab_event_free(ev);
	/* 40 digits: too long for the scale, and not read as a bare CEF number */
	ev = inline_run("profiles = ( { name = \"p\"; extractors = (\n"
		" { type = \"regex\"; pattern = \"level (?<severity_wazuh>\\\\d+)\"; } ); } );",
		"From: a@b.example\nSubject: x\n\nlevel 1234567890123456789012345678901234567890\n",
		NULL);
	assert_string_equal(ab_severity_name(ev->severity), "info");
	ab_event_free(ev);
	/* the same patterns do read a number in range */
	ev = inline_run("profiles = ( { name = \"p\"; extractors = (\n"
		" { type = \"regex\"; pattern = \"level (?<severity_wazuh>\\\\d+)\"; } ); } );",
		"From: a@b.example\nSubject: x\n\nlevel 13\n", NULL);
	assert_string_equal(ab_severity_name(ev->severity), "high");
	ab_event_free(ev);
}

/* "all": the match that raises the severity brings its other captures;
 * fallback templates {fields.NAME}; a severity word no scale knows falls back */
static void test_all_captures_templates(void **state)
{
	static const char rows[] =
		"From: a@b.example\nSubject: report\n\n"
		"Low | 11 | first\nCritical | 22 | second\nHigh | 33 | third\n"
		"Critical | 44 | fourth\n";
	static const char prof[] = "profiles = ( { name = \"p\"; extractors = (\n"
		" { type = \"regex\"; all = true;\n"
		"   pattern = \"(?m)^(?<severity>\\\\w+) \\\\| (?<fields_id>\\\\d+) \\\\| (?<title>.+)$\"; } );\n"
		" fallback = { url = \"https://x.example/p/{fields.id}?q={fields.id}\"; }; } );";
	struct ab_event *ev;

	(void)state;
	ev = inline_run(prof, rows, NULL);
	assert_string_equal(ab_severity_name(ev->severity), "critical");
	/* the first Critical row: a later equal severity does not replace it */
	assert_string_equal(json_string_value(json_object_get(ev->fields, "id")), "22");
	assert_string_equal(ev->title, "second");
	assert_string_equal(ev->url, "https://x.example/p/22?q=22");
	ab_event_free(ev);

	/* a field value is percent-encoded in a url, kept as is elsewhere */
	ev = inline_run("profiles = ( { name = \"p\"; extractors = (\n"
		" { type = \"regex\"; pattern = \"Host: (?<fields_host>.+)\"; } );\n"
		" fallback = { url = \"https://cmdb.example/h/{fields.host}\";\n"
		"   title = \"down: {fields.host}\"; }; } );",
		"From: a@b.example\nSubject: s\n\nHost: db 01/a&b\n", NULL);
	assert_string_equal(ev->url, "https://cmdb.example/h/db%2001%2Fa%26b");
	assert_string_equal(ev->title, "down: db 01/a&b");
	ab_event_free(ev);

	/* a template whose field was not found leaves the target to the defaults */
	ev = inline_run("profiles = ( { name = \"p\"; fallback = {\n"
		" url = \"https://x.example/{fields.nope}\"; title = \"{fields.nope}\"; }; } );",
		"From: a@b.example\nSubject: the subject\n\nno link here\n", NULL);
	assert_null(ev->url);
	assert_string_equal(ev->title, "the subject");
	ab_event_free(ev);

	/* "Severity: page" is no severity: the fallback's applies */
	ev = inline_run("profiles = ( { name = \"p\"; extractors = (\n"
		" { type = \"regex\"; pattern = \"Severity: (?<severity>\\\\w+)\"; } );\n"
		" fallback = { severity = \"high\"; }; } );",
		"From: a@b.example\nSubject: s\n\nSeverity: page\n", NULL);
	assert_string_equal(ab_severity_name(ev->severity), "high");
	ab_event_free(ev);
}

/* regex over one syslog field (on = "field") */
static void test_regex_on_field(void **state)
{
	char *errors = NULL, err[256];
	struct ab_config *cfg = load_conf("profiles = ( { name = \"win\";\n"
		" detect = { field = [ \"json.winlog.event_id:\" ]; };\n"
		" extractors = ( { type = \"regex\"; on = \"field\"; field = \"json.winlog.event_id\";\n"
		"   pattern = \"^(?<type>46(?:25|40))$\"; },\n"
		"  { type = \"regex\"; on = \"field\"; field = \"json.user\";\n"
		"   pattern = \"(?<asset>^[a-z]+)\"; } ); } );", &errors);
	const struct ab_detect_entry *hit = NULL;
	struct ab_event *ev;
	static const char line[] = "<134>Nov 23 10:00:00 dc01 winlogbeat: "
		"{\"winlog\": {\"event_id\": 4625}, \"user\": \"alice\"}";
	static const char other[] = "<134>Nov 23 10:00:00 dc01 winlogbeat: "
		"{\"winlog\": {\"event_id\": \"4720\"}}";

	(void)state;
	if (!cfg)
		fail_msg("%s", errors);
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, cfg->mail, NULL, NULL, NULL, line, strlen(line),
		false, 1, 0, ev, NULL, &hit, NULL, err, sizeof err), 1);
	assert_non_null(hit);
	assert_string_equal(ev->type, "4625");       /* an integer field is matched as text */
	assert_string_equal(ev->asset, "alice");
	ab_event_free(ev);
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, cfg->mail, NULL, NULL, NULL, other, strlen(other),
		false, 1, 0, ev, NULL, &hit, NULL, err, sizeof err), 1);
	assert_string_not_equal(ev->type, "4720");   /* no match: the parser's own type */
	ab_event_free(ev);
	ab_config_free(cfg);
}

/* ------------------------------------------------------------ config errors */

static void expect_err(const char *body, const char *want)
{
	char *errors = NULL;
	struct ab_config *cfg = load_conf(body, &errors);

	if (cfg)
		fail_msg("config accepted, wanted error /%s/", want);
	if (!errors || !strstr(errors, want))
		fail_msg("errors:\n%s\nwanted: %s", errors ? errors : "(none)", want);
	free(errors);
}

static void test_config_errors(void **state)
{
	(void)state;
	/* state_dir is line 1: the body starts at line 2. */
	expect_err("milter = { socket = \"inet:10025\"; };", "ab.conf:2: milter: socket");
	expect_err("milter = { socket = \"127.0.0.1:25\"; };", "must be unix:/path");
	expect_err("mail_sources = ( { name = \"a\"; recipients = [\"x@y\"];\n profile = \"nope\"; } );",
		   "ab.conf:2: mail source 'a': unknown profile 'nope'");
	expect_err("profiles = ( { name = \"p\";\n extractors = ( { type = \"regex\"; "
		   "pattern = \"(?<title>x\"; } ); } );", "ab.conf:3: regex extractor: bad regex");
	expect_err("profiles = ( { name = \"p\"; extractors = ( { type = \"kv\";\n"
		   " map = [ \"A -> colour\" ]; } ); } );", "ab.conf:3: setting 'map': unknown target");
	expect_err("profiles = ( { name = \"p\"; extractors = ( { type = \"csv\"; } ); } );",
		   "extractor type 'csv'");
	{
		/* named groups are capped (their targets are worked out once per call) */
		struct ab_buf b = AB_BUF_INIT(8192);

		ab_buf_puts(&b, "profiles = ( { name = \"p\"; extractors = ( { type = \"regex\"; "
			    "pattern = \"");
		for (int i = 0; i < 65; i++)
			ab_buf_printf(&b, "(?<fields_g%d>x)", i);
		ab_buf_puts(&b, "\"; } ); } );");
		expect_err(ab_buf_cstr(&b), "regex has 65 named groups (at most 64)");
		ab_buf_free(&b);
	}
	expect_err("mail_sources = ( { name = \"a\"; recipients = [\"x@y\"];\n"
		   " trusted_networks = [\"10.0.0.0/33\"]; } );", "ab.conf:3: setting "
		   "'trusted_networks': bad network");
	expect_err("mail_sources = ( { name = \"a\"; recipients = [\"x@y\"];\n"
		   " networks = [\"10.1.2.3/8\"]; } );", "ab.conf:3: setting 'networks': bad "
		   "network \"10.1.2.3/8\": host bits set after /8 (did you mean \"10.0.0.0/8\"?)");
	expect_err("mail_sources = ( { name = \"a\"; } );", "set recipients, senders or headers");
	expect_err("mail_sources = ( { name = \"a\"; headers = [\"X-Mailer ^x\"]; } );",
		   "must be \"Name: regex\"");
	expect_err("profiles = ( \"nowhere/*.conf\" );", "no file matches");
	expect_err("mail_sources = ( { name = \"a\"; recipients = [\"x@y\"]; "
		   "disposition = \"drop\"; } );", "disposition 'drop'");
	/* detect blocks */
	expect_err("profiles = ( { name = \"p\";\n detect = { subject = \"(x\"; }; } );",
		   "ab.conf:3: detect: subject: bad regex");
	expect_err("profiles = ( { name = \"p\"; detect = {\n subject = \"x\"; app = [\"sshd\"]; }; } );",
		   "ab.conf:2: detect: an alternative holds mail conditions");
	expect_err("profiles = ( { name = \"p\"; detect = ( {} ); } );",
		   "needs at least one condition");
	expect_err("profiles = ( { name = \"p\"; detect = { header = [\"X-Mailer\"]; }; } );",
		   "must be \"NAME: regex\"");
	expect_err("profiles = ( { name = \"p\"; detect = { payload = [\"xml\"]; }; } );",
		   "payload 'xml' must be cef");
	expect_err("profiles = ( { name = \"p\"; detect = { colour = \"red\"; }; } );",
		   "unknown setting 'colour'");
	expect_err("profiles = ( { name = \"p\"; detect = \"x\"; } );",
		   "'detect' must be a group");
	expect_err("profiles = ( { name = \"p\"; extractors = ( { type = \"kv\"; all = true;\n"
		   " map = [ \"A -> title\" ]; } ); } );", "'all' is only for regex and json");
	expect_err("profiles = ( { name = \"p\"; extractors = ( { type = \"regex\";\n"
		   " pattern = \"(?<severity_richter>x)\"; } ); } );", "is not a target");
	expect_err("profiles = ( { name = \"p\"; extractors = ( { type = \"regex\";\n"
		   " on = \"field\"; pattern = \"x\"; } ); } );", "on = \"field\" needs field");
	expect_err("profiles = ( { name = \"p\"; extractors = ( { type = \"kv\";\n"
		   " field = \"json.a\"; } ); } );", "'field' is for regex extractors");
	expect_err("profiles = ( { name = \"p\";\n fallback = { url = \"https://x/{fields.}\"; }; } );",
		   "ab.conf:3: fallback: 'url': a template place must read {fields.NAME}");
	expect_err("profiles = ( { name = \"p\"; fallback = { url = \"https://x/{fields.a\"; }; } );",
		   "a template place must read");
}

static int setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	return tmp ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tu_rm_rf(tmp);
	free(tmp);
	return 0;
}

/* The targets are the AB_EVF_PROFILE rows of the event's member table,
 * plus severity@SCALE and fields.NAME. */
static void test_targets_from_member_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < AB_EVM_COUNT; i++) {
		const struct ab_event_member_def *d = &ab_event_member_defs[i];

		if (ab_profile_target_ok(d->key) != !!(d->flags & AB_EVF_PROFILE))
			fail_msg("member '%s': target %s", d->key,
				 (d->flags & AB_EVF_PROFILE) ? "refused" : "accepted");
	}
	assert_true(ab_profile_target_ok("occurred_at"));
	assert_true(ab_profile_target_ok("severity@cef"));
	assert_true(ab_profile_target_ok("fields.x"));
	assert_false(ab_profile_target_ok("received_at"));
	assert_false(ab_profile_target_ok("id"));
	assert_false(ab_profile_target_ok("origin"));
	assert_false(ab_profile_target_ok("fields"));
	assert_false(ab_profile_target_ok("severity@nope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_profiles),
		cmocka_unit_test(test_shipped_times),
		cmocka_unit_test(test_ext_headers),
		cmocka_unit_test(test_ext_json_attachment_and_nested),
		cmocka_unit_test(test_ext_kv_regex_values_fallback),
		cmocka_unit_test(test_ext_xml_hostile),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_apply_text),
		cmocka_unit_test(test_regex_skipped_when_set),
		cmocka_unit_test(test_sources_and_trust),
		cmocka_unit_test(test_source_header_budget),
		cmocka_unit_test(test_accept_route_from_envelope_only),
		cmocka_unit_test(test_detect_order),
		cmocka_unit_test(test_all_highest_severity),
		cmocka_unit_test(test_detect_syslog),
		cmocka_unit_test(test_scale_numbers_checked),
		cmocka_unit_test(test_links_and_attachments),
		cmocka_unit_test(test_all_captures_templates),
		cmocka_unit_test(test_regex_on_field),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_targets_from_member_table),
		cmocka_unit_test(test_gate_members_agree),
	};

	return cmocka_run_group_tests_name("profile", tests, setup, teardown);
}
