/*
 * syslog_parse_bench.c - how many lines per second ab_syslog_parse() takes
 * on one core, for an RFC 5424, an RFC 3164 and a CEF sample.
 *
 * Usage: syslog_parse_bench [ITERATIONS]   (default 1,000,000 per sample)
 * Prints one line per sample: name, iterations, seconds, lines/s.  Each
 * iteration parses into a fresh event (as the listener will), so the
 * figure includes ab_event_new/free and the id hash.  Not part of the tests;
 * README's performance section shows its figures.
 * Diagnostics: "parse failed" on stderr and exit 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/event.h"
#include "parse/syslog.h"

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
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	size_t s;
	char err[128];

	if (iters <= 0)
		iters = 1000000;
	for (s = 0; s < sizeof samples / sizeof samples[0]; s++) {
		size_t len = strlen(samples[s].line);
		double t0 = now_s(), dt;
		long i;

		for (i = 0; i < iters; i++) {
			struct ab_event *ev = ab_event_new();

			if (!ev || ab_syslog_parse(samples[s].line, len, "192.0.2.1",
						   1705312800000LL, ev, err, sizeof err) != 0) {
				fprintf(stderr, "parse failed: %s\n", err);
				return 1;
			}
			ab_event_free(ev);
		}
		dt = now_s() - t0;
		printf("%-8s %ld lines in %.3f s: %.0f lines/s\n", samples[s].name, iters, dt,
		       (double)iters / dt);
	}
	return 0;
}
