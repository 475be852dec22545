/*
 * detect_bench.c - what profile detection costs: the tool corpus
 * (tests/data/corpus/ *\/ *.log and *.eml) through the shipped profiles.
 *
 * Usage: detect_bench CONF CORPUS_DIR [ROUNDS]   (default 2000 rounds)
 * For syslog: lines/s of parse + source selection without profiles
 * (ab_syslog_process with no profiles) and with the shipped profiles
 * (detection + the profile picked), and their ratio.  For mail: mails/s of
 * detection alone (ab_mail_pick_profile on parsed mails) and of the whole
 * event (ab_mail_event), parsing excluded.  Then the listener's path for
 * lines that route nowhere (its flags, a renewed event, the view): the
 * profile applied whole, and through the gate (ab_syslog_process_gated:
 * only the members routing reads, ab_route_members of CONF, with a route
 * check that always says "nowhere").  Not part of the tests; see
 * bench/README.
 * Diagnostics: messages on stderr and exit 1.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "event/event.h"
#include "config/config_mail.h"
#include "ingest/mail_event.h"
#include "parse/mail.h"
#include "ingest/syslog_source.h"
#include "parse/syslog.h"
#include "route/route.h"
#include "lib/util.h"

#define MAX_SAMPLES 2000

static char *lines[MAX_SAMPLES];
static struct ab_mail *mails[MAX_SAMPLES];
static size_t n_lines, n_mails;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void load(const char *dir)
{
	DIR *top = opendir(dir), *d;
	struct dirent *t, *e;
	char path[4096], err[256];

	if (!top) {
		fprintf(stderr, "detect_bench: %s: cannot open\n", dir);
		exit(1);
	}
	while ((t = readdir(top)) != NULL) {
		if (t->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, t->d_name);
		if (!(d = opendir(path)))
			continue;
		while ((e = readdir(d)) != NULL) {
			size_t n = strlen(e->d_name), len;
			char *s;

			snprintf(path, sizeof path, "%s/%s/%s", dir, t->d_name, e->d_name);
			if (n > 4 && !strcmp(e->d_name + n - 4, ".log") && n_lines < MAX_SAMPLES) {
				s = ab_read_file(path, 1 << 20, &len);
				if (s) {
					s[strcspn(s, "\r\n")] = '\0';
					lines[n_lines++] = s;
				}
			} else if (n > 4 && !strcmp(e->d_name + n - 4, ".eml") && n_mails < MAX_SAMPLES) {
				s = ab_read_file(path, 16 << 20, &len);
				if (s && ab_mail_parse(s, len, NULL, &mails[n_mails], err, sizeof err) >= 0)
					n_mails++;
				free(s);
			}
		}
		closedir(d);
	}
	closedir(top);
}

static double syslog_rate(const struct ab_mail_conf *mc, long rounds)
{
	char err[256];
	double t0 = now_s();
	long r;
	size_t i;

	for (r = 0; r < rounds; r++)
		for (i = 0; i < n_lines; i++) {
			struct ab_event *ev = ab_event_new();

			if (!ev || ab_syslog_process(NULL, mc, NULL, "bench", "192.0.2.1", lines[i],
						     strlen(lines[i]), false, 1705312800000LL, 0, ev, NULL,
						     NULL, NULL, err, sizeof err) < 0) {
				fprintf(stderr, "detect_bench: %s\n", err);
				exit(1);
			}
			ab_event_free(ev);
		}
	return (double)rounds * (double)n_lines / (now_s() - t0);
}

static bool nowhere(const struct ab_event *view, void *arg)
{
	(void)view;
	(void)arg;
	return false;
}

/* The listener's way with lines that go nowhere; gated or whole. */
static double listener_rate(const struct ab_config *cfg, long rounds, bool gated)
{
	static struct ab_syslog_view view;
	struct ab_syslog_gate g = { gated ? ab_route_members(cfg) : 0, ab_event_new_at(0),
		nowhere, NULL };
	struct ab_event *ev = ab_event_new_at(0);
	char err[256];
	double t0 = now_s();

	for (long r = 0; r < rounds; r++)
		for (size_t i = 0; i < n_lines; i++) {
			if (!ev || !g.view || ab_event_renew_at(ev, 1705312800000LL) < 0 ||
			    ab_syslog_process_gated(cfg->syslog, cfg->mail, NULL, "bench",
				"192.0.2.1", lines[i], strlen(lines[i]), false, 1705312800000LL,
				AB_SYSLOG_ID_LATER | AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, &view,
				&g, err, sizeof err) < 0) {
				fprintf(stderr, "detect_bench: %s\n", err);
				exit(1);
			}
		}
	ab_event_free(ev);
	ab_event_free(g.view);
	return (double)rounds * (double)n_lines / (now_s() - t0);
}

int main(int argc, char **argv)
{
	struct ab_config *cfg;
	char *errors = NULL;
	long rounds = argc > 3 ? strtol(argv[3], NULL, 10) : 2000, r;
	double base, with, t0, pick, full;
	size_t i, hits = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: detect_bench CONF CORPUS_DIR [ROUNDS]\n");
		return 1;
	}
	if (rounds <= 0)
		rounds = 2000;
	cfg = ab_config_load(argv[1], &errors);
	if (!cfg) {
		fprintf(stderr, "%s", errors ? errors : "configuration refused\n");
		return 1;
	}
	load(argv[2]);
	base = syslog_rate(NULL, rounds);
	with = syslog_rate(cfg->mail, rounds);
	printf("syslog: %zu corpus lines x %ld: %.0f lines/s without profiles, %.0f with "
	       "detection + profile: %.2fx\n", n_lines, rounds, base, with, with / base);
	t0 = now_s();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n_mails; i++)
			hits += ab_mail_pick_profile(cfg->mail, NULL, mails[i], NULL, NULL) != NULL;
	pick = (double)rounds * (double)n_mails / (now_s() - t0);
	t0 = now_s();
	for (r = 0; r < rounds / 10 + 1; r++)
		for (i = 0; i < n_mails; i++)
			ab_event_free(ab_mail_event(cfg->mail, NULL, mails[i], NULL, "mail", NULL, NULL));
	full = (double)(rounds / 10 + 1) * (double)n_mails / (now_s() - t0);
	printf("mail: %zu corpus mails: detection alone %.0f mails/s (%.1f us each), whole event "
	       "(detection + profile) %.0f mails/s (%.1f us each)\n", n_mails, pick, 1e6 / pick,
	       full, 1e6 / full);
	if (n_lines) {
		double whole = listener_rate(cfg, rounds, false), gated = listener_rate(cfg, rounds,
										     true);

		printf("syslog, the listener's lines that route nowhere: %.0f lines/s with the "
		       "profile applied whole, %.0f through the gate: %.2fx\n", whole, gated,
		       gated / whole);
	}
	for (i = 0; i < n_lines; i++)
		free(lines[i]);
	for (i = 0; i < n_mails; i++)
		ab_mail_free(mails[i]);
	ab_config_free(cfg);
	return hits ? 0 : 1;
}
