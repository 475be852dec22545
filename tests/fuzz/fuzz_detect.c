/*
 * fuzz_detect.c - libFuzzer target for profile detection: the shipped
 * profiles' detect blocks (src/parse/detect.c) and the profile they pick,
 * over a mail or a syslog line.
 *
 * Public: LLVMFuzzerTestOneInput.
 * Diagnostics: abort() on a broken invariant; crashes, sanitizer reports
 *         and hangs are the findings.  Seeds: tests/fuzz/corpus/detect/.
 *
 * The first byte chooses the input: 'S' a syslog line (the rest, up to
 * the first newline), anything else a mail (the rest).  Invariants: the
 * same input picks the same profile twice; the profile named on the event
 * (fields.profile / fields["syslog.profile"]) is the one detection picked;
 * a syslog line read with its payload's fields left for later (then
 * added) makes the same event as one read whole (the same JSON); the
 * listener's gate (ab_syslog_process_gated), when it is asked, has worked
 * out every member rules may name as the whole application of the profile
 * sets it;
 * a mail that no alternative recognizes goes to "generic"; the event's
 * strings are valid UTF-8 and its canonical JSON loads back unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "event/event.h"
#include "fuzz_event.h"
#include "fuzz_profiles.h"
#include "config/config_mail.h"
#include "ingest/mail_event.h"
#include "parse/detect.h"
#include "parse/mail.h"
#include "parse/syslog.h"
#include "lib/utf8.h"
#include "ingest/syslog_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ab_config *cfg;   /* the shipped profiles, kept for the run */

static void check_strings(const struct ab_event *ev)
{
	const char *const strs[] = {
		ev->type, ev->source, ev->tool, ev->title, ev->summary, ev->url, ev->asset,
		ev->team, ev->status, ev->fingerprint,
	};
	size_t i;

	for (i = 0; i < sizeof strs / sizeof strs[0]; i++)
		if (strs[i] && !ab_utf8_valid(strs[i], strlen(strs[i])))
			abort();
	if ((unsigned)ev->severity >= AB_SEV_COUNT || (unsigned)ev->category >= AB_CAT_COUNT)
		abort();
}

static void one_mail(const uint8_t *data, size_t size)
{
	const struct ab_detect_entry *a = NULL, *b = NULL;
	const struct ab_profile *p, *q;
	struct ab_mail *m = NULL;
	struct ab_event *ev;
	char err[256];
	const char *named;

	if (ab_mail_parse((const char *)data, size, NULL, &m, err, sizeof err) < 0)
		return;
	p = ab_mail_pick_profile(cfg->mail, NULL, m, NULL, &a);
	q = ab_mail_pick_profile(cfg->mail, NULL, m, NULL, &b);
	if (p != q || a != b || (a && a->profile != p))
		abort();
	if (!a && p != ab_mail_profile(cfg->mail, "generic"))
		abort();
	ev = ab_mail_event(cfg->mail, NULL, m, NULL, "mail", NULL, NULL);
	if (!ev)
		abort();
	named = json_string_value(json_object_get(ev->fields, "profile"));
	if (!named || strcmp(named, p->name))
		abort();
	ev->received_at = 1705312800000LL;
	ab_event_ensure_id(ev);
	check_strings(ev);
	fuzz_event_roundtrip(ev, "fuzz_detect");
	fuzz_event_bin_roundtrip(ev, "fuzz_detect");
	ab_event_free(ev);
	ab_mail_free(m);
}

/* The gate's view, member by member as text (ab_syslog_process_gated). */
static char *gate_text[AB_EVM_COUNT];
static struct ab_syslog_view gate_view;   /* the line's scan: not on the stack */
static int gate_asked;

static bool gate_capture(const struct ab_event *view, void *arg)
{
	char buf[64];

	(void)arg;
	gate_asked++;
	for (int m = 0; m < AB_EVM_COUNT; m++) {
		const char *t = ab_event_member_text(view, (enum ab_event_member_id)m, buf,
						     sizeof buf);

		free(gate_text[m]);
		gate_text[m] = t ? strdup(t) : NULL;
	}
	return false;
}

/* The line through the gate: asked only when a profile applies (a), then
 * every member it worked out as on ev, the whole event. */
static void gate_same(const uint8_t *data, size_t size, const struct ab_event *ev,
		      const struct ab_detect_entry *a)
{
	uint64_t all = 0;
	struct ab_syslog_gate g = { 0, ab_event_new_at(0), gate_capture, NULL };
	struct ab_event *half = ab_event_new();
	char err[256], buf[64];
	int rc;

	for (int m = 0; m < AB_EVM_COUNT; m++)
		if (ab_event_member_defs[m].flags & AB_EVF_ROUTE)
			all |= 1ull << m;
	g.members = all;
	if (!g.view || !half)
		abort();
	gate_asked = 0;
	/* as the listener: the fields left for later where they can be */
	rc = ab_syslog_process_gated(NULL, cfg->mail, NULL, "fuzz", "192.0.2.1",
		(const char *)data, size, false, 1705312800000LL, AB_SYSLOG_FIELDS_LATER, half,
		NULL, NULL, &gate_view, &g, err, sizeof err);
	/* asked only when a profile applies, and then unless a field its part
	 * reads could not be read from the line (the line goes the whole way) */
	if (gate_asked > 1 || (gate_asked && (!a || rc != 3)) || (!gate_asked && rc != 1 &&
								   rc != 2))
		abort();
	for (int m = 0; gate_asked && m < AB_EVM_COUNT; m++) {
		const char *t = ab_event_member_text(ev, (enum ab_event_member_id)m, buf,
						     sizeof buf);

		if (!(all & (1ull << m)))
			continue;
		if ((t == NULL) != (gate_text[m] == NULL) || (t && strcmp(t, gate_text[m])))
			abort();
	}
	for (int m = 0; m < AB_EVM_COUNT; m++) {
		free(gate_text[m]);
		gate_text[m] = NULL;
	}
	ab_event_free(g.view);
	ab_event_free(half);
}

static void one_line(const uint8_t *data, size_t size)
{
	static struct ab_syslog_view view;   /* 4 KiB: not on the fuzzer's stack */
	const struct ab_detect_entry *a = NULL, *b = NULL;
	int rc;
	struct ab_event *ev = ab_event_new(), *ev2 = ab_event_new();
	const uint8_t *nl = memchr(data, '\n', size);
	const char *named;
	char err[256];

	if (!ev || !ev2)
		abort();
	if (nl)
		size = (size_t)(nl - data);
	if (ab_syslog_process(NULL, cfg->mail, NULL, "fuzz", "192.0.2.1", (const char *)data, size,
			      false, 1705312800000LL, 0, ev, NULL, &a, NULL, err, sizeof err) != 1)
		abort();
	/* the second time with the payload's fields left for later, added
	 * when they were: the same profile, the same event */
	rc = ab_syslog_process(NULL, cfg->mail, NULL, "fuzz", "192.0.2.1", (const char *)data, size,
			       false, 1705312800000LL, AB_SYSLOG_FIELDS_LATER, ev2, NULL, &b, &view,
			       err, sizeof err);
	if ((rc != 1 && rc != 2) || (rc == 2 && (b || ab_syslog_view_fields(&view, ev2) < 0)))
		abort();
	if (a != b)
		abort();
	fuzz_event_same(ev, ev2);
	named = json_string_value(json_object_get(ev->fields, "syslog.profile"));
	if ((a == NULL) != (named == NULL) || (a && strcmp(named, a->profile->name)))
		abort();
	gate_same(data, size, ev, a);
	ab_event_ensure_id(ev);
	check_strings(ev);
	fuzz_event_roundtrip(ev, "fuzz_detect");
	fuzz_event_bin_roundtrip(ev, "fuzz_detect");
	ab_event_free(ev);
	ab_event_free(ev2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!cfg)
		cfg = fuzz_load_profiles("fuzz_detect");
	if (size < 1)
		return 0;
	if (data[0] == 'S')
		one_line(data + 1, size - 1);
	else
		one_mail(data + 1, size - 1);
	return 0;
}
