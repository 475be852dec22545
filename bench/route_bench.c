/*
 * route_bench.c - what routing one event costs: ab_route_at() over a
 * configuration of 24 global rules and a team block (type, severity,
 * source and tool globs, statuses, fields regexes, a not block, disabled
 * and team-owned channels), for events made from syslog lines (a CEF, an
 * RFC 3164 and a LEEF line, ab_syslog_parse as the listener does) and an
 * event of the team.  Routing only: no store, no noise control.
 *
 * Usage: route_bench [ITERATIONS [CONF]]   (default 1,000,000 per event;
 *   CONF: another configuration file instead of the built-in one)
 * Prints one line per event: name, iterations, ns per event, channels.
 * Run it pinned to one core (taskset -c 1).  Not part of the tests.
 * Diagnostics: "config: ..." or "parse failed" on stderr and exit 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "event/event.h"
#include "parse/syslog.h"
#include "route/route.h"

#define NOW_MS 1705312800000LL

static const char conf_text[] =
	"state_dir = \"/tmp\";\n"
	"channels = (\n"
	"  { name = \"inbox\"; type = \"file\"; path = \"i.jsonl\"; },\n"
	"  { name = \"sec\"; type = \"file\"; path = \"s.jsonl\"; },\n"
	"  { name = \"ops\"; type = \"file\"; path = \"o.jsonl\"; },\n"
	"  { name = \"pager\"; type = \"file\"; path = \"p.jsonl\"; },\n"
	"  { name = \"old\"; type = \"file\"; path = \"x.jsonl\"; enabled = false; },\n"
	"  { name = \"net\"; type = \"file\"; path = \"n.jsonl\"; },\n"
	"  { name = \"pay\"; type = \"file\"; path = \"y.jsonl\"; }\n"
	");\n"
	"rules = (\n"
	"  { name = \"k8s-crit\"; severities = [\"critical\"]; sources = [\"kubernetes\"];"
	" channels = [\"pager\"]; final = true; },\n"
	"  { name = \"scan-failed\"; events = [\"scan.failed\"]; channels = [\"ops\"]; },\n"
	"  { name = \"sla\"; events = [\"sla.*\"]; min_severity = \"medium\"; channels = [\"ops\"]; },\n"
	"  { name = \"cspm\"; sources = [\"cspm\", \"code_*\"]; min_severity = \"medium\";"
	" channels = [\"sec\"]; },\n"
	"  { name = \"zap\"; tools = [\"zap\", \"burp*\"]; channels = [\"sec\"]; },\n"
	"  { name = \"gvm\"; tools = [\"greenbone\", \"openvas\"]; min_severity = \"high\";"
	" channels = [\"sec\"]; },\n"
	"  { name = \"cve\"; fields = { cve = \"^CVE-2024-\"; }; channels = [\"sec\"]; },\n"
	"  { name = \"cvss\"; fields = { cvss = \"^(9|10)\"; }; channels = [\"pager\"]; },\n"
	"  { name = \"dmz\"; assets = [\"dmz-*\", \"web-*\"]; min_severity = \"high\";"
	" channels = [\"sec\"]; },\n"
	"  { name = \"prio\"; min_priority = 1; channels = [\"pager\"]; },\n"
	"  { name = \"resolved\"; events = [\"finding.resolved\"]; statuses = [\"*\"];"
	" channels = [\"inbox\"]; },\n"
	"  { name = \"errors\"; categories = [\"error\"]; channels = [\"ops\"]; },\n"
	"  { name = \"ssh\"; events = [\"syslog.message\"]; tools = [\"sshd\"];"
	" fields = { asset = \"^(bastion|jump)\"; }; channels = [\"ops\"]; },\n"
	"  { name = \"kern\"; events = [\"syslog.message\"]; fields = { tool ="
	" \"^kernel$\"; }; channels = [\"ops\"]; },\n"
	"  { name = \"fw-drop\"; sources = [\"firewall\"]; fields = { severity = \"^(high|critical)\";"
	" summary = \"(?i)blocked\"; }; channels = [\"net\", \"old\"]; },\n"
	"  { name = \"fw-title\"; sources = [\"firewall\"]; fields = { title = \"(?i)smuggling\"; };"
	" channels = [\"sec\"]; },\n"
	"  { name = \"ids\"; sources = [\"ids\", \"hids\"]; min_severity = \"medium\";"
	" channels = [\"sec\", \"net\"]; },\n"
	"  { name = \"findings\"; events = [\"finding.*\"]; min_severity = \"high\";"
	" not = { sources = [\"dast\"]; tools = [\"zap\"]; }; channels = [\"sec\", \"inbox\"]; },\n"
	"  { name = \"leef\"; tools = [\"lancope\"]; fields = { title = \"^4[0-9]$\"; };"
	" channels = [\"net\"]; },\n"
	"  { name = \"pay-any\"; teams = [\"payments\"]; channels = [\"inbox\"]; },\n"
	"  { name = \"auth\"; events = [\"syslog.message\"]; fields = { summary ="
	" \"(?i)failed password\"; }; channels = [\"sec\"]; },\n"
	"  { name = \"old\"; events = [\"legacy.*\"]; channels = [\"old\"]; },\n"
	"  { name = \"info\"; severities = [\"info\"]; events = [\"heartbeat.*\"];"
	" channels = [\"inbox\"]; },\n"
	"  { name = \"all-crit\"; min_severity = \"critical\"; channels = [\"pager\"]; }\n"
	");\n"
	"teams = ( { name = \"payments\"; channels = [\"pay\"];\n"
	"    rules = ( { name = \"pay-crit\"; severities = [\"critical\"]; channels = [\"pay\"]; },\n"
	"              { name = \"pay-high\"; min_severity = \"high\"; channels = [\"pay\", \"sec\"]; }"
	" ); } );\n"
	"default = [\"inbox\"];\n";

static const struct {
	const char *name;
	const char *line;
	const char *team;
} samples[] = {
	{ "cef", "<134>Jan 15 10:00:00 fw01 CEF:0|Fortinet|Fortigate|v7.2.5|0419016384|ips: "
		 "signature detected|7|src=198.51.100.9 dst=10.1.1.5 spt=51512 dpt=443 act=dropped "
		 "msg=HTTP.Request.Smuggling attack blocked cs1Label=policy cs1=wan-in", NULL },
	{ "rfc3164", "<34>Oct 11 22:14:15 mymachine sshd[4321]: Failed password for invalid user "
		     "admin from 203.0.113.5 port 52144 ssh2", NULL },
	{ "leef", "<13>Jan 15 10:00:00 qradar LEEF:2.0|Lancope|StealthWatch|1.0|41|^|"
		  "src=10.0.1.8^dst=10.0.0.5^sev=5^cat=anomaly^usrName=admin^"
		  "msg=Worm activity detected^devTime=Jan 15 2024 10:00:00", NULL },
	{ "team", "<134>Jan 15 10:00:00 pos01 CEF:0|Acme|Till|1.0|100|card reader tamper|9|"
		  "dhost=pos01 msg=tamper switch open", "payments" },
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct ab_config *load(const char *path)
{
	char tmpl[] = "/tmp/route_bench.XXXXXX";
	char *errors = NULL;
	struct ab_config *cfg;
	int fd = -1;

	if (!path) {
		fd = mkstemp(tmpl);
		if (fd < 0 || write(fd, conf_text, sizeof conf_text - 1) !=
			(ssize_t)(sizeof conf_text - 1)) {
			fprintf(stderr, "config: cannot write %s\n", tmpl);
			return NULL;
		}
		close(fd);
		path = tmpl;
	}
	cfg = ab_config_load(path, &errors);
	if (!cfg)
		fprintf(stderr, "config: %s", errors ? errors : "cannot load\n");
	free(errors);
	if (fd >= 0)
		unlink(tmpl);
	return cfg;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	struct ab_config *cfg = load(argc > 2 ? argv[2] : NULL);
	static struct ab_route_result rr;
	char err[128];

	if (!cfg)
		return 1;
	if (iters <= 0)
		iters = 1000000;
	for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
		struct ab_event *ev = ab_event_new();
		volatile size_t sink = 0;
		double t0, dt;

		if (!ev || ab_syslog_parse(samples[s].line, strlen(samples[s].line), "192.0.2.1",
					   NOW_MS, ev, err, sizeof err) != 0) {
			fprintf(stderr, "parse failed: %s\n", ev ? err : "out of memory");
			return 1;
		}
		if (samples[s].team)
			ab_event_set_str(ev, &ev->team, samples[s].team);
		t0 = now_s();
		for (long i = 0; i < iters; i++) {
			ab_route_at(cfg, ev, NOW_MS, &rr, NULL);
			sink += rr.n;
		}
		dt = now_s() - t0;
		printf("%-8s %ld x %7.0f ns/event, %zu rules matched, channels:", samples[s].name,
		       iters, dt / (double)iters * 1e9, rr.n_matched);
		for (size_t c = 0; c < rr.n; c++)
			printf(" %s", rr.channels[c]);
		printf("\n");
		ab_event_free(ev);
	}
	ab_config_free(cfg);
	return 0;
}
