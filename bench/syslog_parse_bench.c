/*
 * syslog_parse_bench.c - how many lines per second the syslog parser takes
 * on one core, for an RFC 5424, an RFC 3164, a CEF, a LEEF and a JSON
 * (Suricata EVE) sample, and "cef-var", the CEF line with other numbers
 * (src, ports, signature id) on every line: the scan alone (ab_syslog_scan, the view routing
 * will read), what a line that routes nowhere costs ("drop": scan and the
 * event's members, without its id and its payload's fields, which the
 * listener makes only for lines that go somewhere), and scan + materialize
 * (ab_syslog_parse into a fresh event, as for a line that is kept:
 * ab_event_new/free and the id hash included).
 *
 * Usage: syslog_parse_bench [ITERATIONS [SAMPLE [scan|drop|parse]]]
 *   ITERATIONS per sample and mode (default 1,000,000); SAMPLE one of the
 *   names below (default all); the mode alone (default both).
 * Prints one line per sample and mode: name, mode, lines, seconds, lines/s.
 * Run it pinned to one core (taskset -c 1); for figures that do not depend
 * on the machine's load, count instructions per line with callgrind
 * (valgrind --tool=callgrind at two ITERATIONS, the difference divided by
 * the difference of ITERATIONS).  Not part of the tests; README's
 * performance section shows its figures.
 * Diagnostics: "parse failed" on stderr and exit 1; "unknown sample" exit 2.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/event.h"
#include "parse/syslog.h"

#define NOW_MS 1705312800000LL

static const struct {
	const char *name;
	const char *line;
} samples[] = {
	{ "rfc5424", "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
		     "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
		     "An application event log entry..." },
	{ "rfc3164", "<34>Oct 11 22:14:15 mymachine sshd[4321]: Failed password for invalid user "
		     "admin from 203.0.113.5 port 52144 ssh2" },
	{ "cef", "<134>Jan 15 10:00:00 fw01 CEF:0|Fortinet|Fortigate|v7.2.5|0419016384|ips: "
		 "signature detected|7|src=198.51.100.9 dst=10.1.1.5 spt=51512 dpt=443 act=dropped "
		 "msg=HTTP.Request.Smuggling attack blocked cs1Label=policy cs1=wan-in" },
	{ "leef", "<13>Jan 15 10:00:00 qradar LEEF:2.0|Lancope|StealthWatch|1.0|41|^|"
		  "src=10.0.1.8^dst=10.0.0.5^sev=5^cat=anomaly^usrName=admin^"
		  "msg=Worm activity detected^devTime=Jan 15 2024 10:00:00" },
	/* the CEF line with other values on every line: src, spt, dpt and the
	 * signature id change (digits rewritten per iteration), as in a stream */
	{ "cef-var", "<134>Jan 15 10:00:00 fw01 CEF:0|Fortinet|Fortigate|v7.2.5|0419016384|ips: "
		     "signature detected|7|src=198.51.100.009 dst=10.1.1.5 spt=51512 dpt=00443 "
		     "act=dropped msg=HTTP.Request.Smuggling attack blocked cs1Label=policy "
		     "cs1=wan-in" },
	{ "json", "<14>Jan 15 10:00:00 ids suricata[1234]: {\"timestamp\":"
		  "\"2024-01-15T10:00:00.000000+0000\",\"flow_id\":1234567,\"in_iface\":\"eth0\","
		  "\"event_type\":\"alert\",\"src_ip\":\"203.0.113.5\",\"src_port\":52144,"
		  "\"dest_ip\":\"10.0.0.5\",\"dest_port\":80,\"proto\":\"TCP\",\"alert\":{"
		  "\"action\":\"allowed\",\"gid\":1,\"signature_id\":2010935,\"rev\":3,"
		  "\"signature\":\"ET SCAN Suspicious inbound to MSSQL port 1433\","
		  "\"category\":\"Potentially Bad Traffic\",\"severity\":2}}" },
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, const char *mode, long iters, double dt)
{
	printf("%-8s %-6s %ld lines in %.3f s: %.0f lines/s\n", name, mode, iters, dt,
	       (double)iters / dt);
}

/* The scan alone; the sink keeps the view read. */
static void bench_scan(const char *name, const char *line, long iters)
{
	static struct ab_syslog_view v;
	size_t len = strlen(line);
	volatile long sink = 0;
	double t0 = now_s();
	long i;

	for (i = 0; i < iters; i++) {
		ab_syslog_scan(line, len, NOW_MS, &v);
		sink += v.nkv + (long)v.msg.n;
	}
	report(name, "scan", iters, now_s() - t0);
	(void)sink;
}

/* Digits at the first n places after each marker, from v (a varied line). */
static void put_digits(char *line, const char *marker, size_t n, unsigned long v)
{
	char *p = strstr(line, marker);

	if (!p)
		return;
	p += strlen(marker);
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* What a line that routes nowhere costs the listener: scan, and the
 * event's members without the id and without its fields (they are made
 * only for a line that goes somewhere: AB_SYSLOG_FIELDS_LATER and, with
 * no sources or detection to read them, AB_SYSLOG_HEADER_LATER), in the
 * event of the line before, renewed (ab_event_renew_at), as the listener
 * does for a line that went nowhere. */
static int bench_drop(const char *name, const char *line, long iters)
{
	static struct ab_syslog_view v;
	size_t len = strlen(line);
	struct ab_event *ev = ab_event_new_at(NOW_MS);
	double t0 = now_s();
	char err[128];
	long i;

	for (i = 0; i < iters; i++) {
		ab_syslog_scan(line, len, NOW_MS, &v);
		if (!ev || ab_syslog_view_event(&v, "192.0.2.1", AB_SYSLOG_ID_LATER |
						AB_SYSLOG_FIELDS_LATER | AB_SYSLOG_HEADER_LATER, ev,
						err, sizeof err) < 0 ||
		    ab_event_renew_at(ev, NOW_MS) < 0) {
			fprintf(stderr, "parse failed: %s\n", ev ? err : "out of memory");
			return -1;
		}
	}
	report(name, "drop", iters, now_s() - t0);
	ab_event_free(ev);
	return 0;
}

/* Scan and materialize into a fresh event each time. */
static int bench_parse(const char *name, const char *sample, long iters)
{
	size_t len = strlen(sample);
	bool vary = strstr(name, "-var") != NULL;
	char *line = strdup(sample);
	double t0 = now_s();
	char err[128];
	long i;

	if (!line)
		return -1;
	for (i = 0; i < iters; i++) {
		struct ab_event *ev = ab_event_new_at(NOW_MS);

		if (vary) {
			unsigned long x = (unsigned long)i * 2654435761u;

			put_digits(line, "src=198.51.100.", 3, x % 256);
			put_digits(line, "spt=", 5, (x >> 8) % 65536);
			put_digits(line, "dpt=", 5, (x >> 24) % 2048);
			put_digits(line, "v7.2.5|04", 8, i % 64);
		}

		if (!ev || ab_syslog_parse(line, len, "192.0.2.1", NOW_MS, ev, err, sizeof err) != 0) {
			fprintf(stderr, "parse failed: %s\n", ev ? err : "out of memory");
			free(line);
			return -1;
		}
		ab_event_free(ev);
	}
	report(name, "parse", iters, now_s() - t0);
	free(line);
	return 0;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	const char *only = argc > 2 ? argv[2] : NULL, *mode = argc > 3 ? argv[3] : NULL;
	size_t s;
	int found = 0;

	if (iters <= 0)
		iters = 1000000;
	for (s = 0; s < sizeof samples / sizeof samples[0]; s++) {
		if (only && strcmp(only, samples[s].name) != 0)
			continue;
		found = 1;
		if (!mode || strcmp(mode, "scan") == 0)
			bench_scan(samples[s].name, samples[s].line, iters);
		if ((!mode || strcmp(mode, "drop") == 0) &&
		    bench_drop(samples[s].name, samples[s].line, iters) < 0)
			return 1;
		if ((!mode || strcmp(mode, "parse") == 0) &&
		    bench_parse(samples[s].name, samples[s].line, iters) < 0)
			return 1;
	}
	if (!found) {
		fprintf(stderr, "unknown sample %s\n", only);
		return 2;
	}
	return 0;
}
