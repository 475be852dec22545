/*
 * ingest.c - route an event and commit it with its delivery jobs and its
 * noise-control state (throttle, group, digest, reminders) in one
 * transaction.
 *
 * Public: ab_ingest, ab_ingest_direct, ab_ingest_explain.
 * When the caller has a store batch open (group commit), the event joins
 * it and is durable when the caller's ab_store_commit() returns 0; a
 * failure rolls that batch back (ab_store_fail_batch).  Otherwise
 * ab_ingest opens and commits its own transaction.
 * Diagnostics: the store's message when the commit failed (the caller
 *   answers TEMPFAIL / does not acknowledge; nothing is lost).  One
 *   warning line when an event is kept but goes nowhere because its
 *   channels (and the default ones) are disabled, naming the event id and
 *   the disabled channels (at most one per 10 s, with the count of the
 *   events not warned about).
 */
#include <stdio.h>
#include <string.h>

#include "ingest/ingest.h"
#include "lib/log.h"
#include "route/noise.h"
#include "lib/util.h"
#include "lib/metrics.h"

AB_METRIC_COUNTER(ab_m_events_by_profile, "alertbridge_events_by_profile_total", "Events "
	"parsed, by input (mail, syslog) and the profile that took them.", "input", "profile");
AB_METRIC_COUNTER(ab_m_parse_fallbacks, "alertbridge_parse_fallbacks_total", "Events no "
	"profile recognised: parsed with the generic defaults, by input.", "input", NULL);
static AB_METRIC_COUNTER(m_received, "alertbridge_events_received_total", "Events routed and "
	"stored, by input (origin.kind: mail, syslog, cli, http).", "input", NULL);

/* Every target disabled, default included: say so, once per WARN_EVERY_MS
 * at most (a flood routed only to disabled channels must not become a log
 * flood). */
#define WARN_EVERY_MS 10000
static void warn_disabled(const struct ab_event *ev, const struct ab_route_result *rr)
{
	static struct ab_complaint disabled = AB_COMPLAINT_INIT;
	struct ab_buf names = AB_BUF_INIT(1024);

	for (size_t i = 0; i < rr->n_disabled; i++)
		ab_buf_printf(&names, "%s%s", i ? ", " : "", rr->disabled[i]);
	ab_complain(&disabled, WARN_EVERY_MS, AB_LOG_WARNING, "event %s: not delivered: its "
		"channels are disabled (%s) and no enabled default channel is left; the event is "
		"kept in the store (enable a channel or add an enabled one to 'default')", ev->id,
		ab_buf_cstr(&names));
	ab_buf_free(&names);
}

/* The free-space watermark (min_free_mb): below it nothing new is taken,
 * and an open batch fails as a whole (its input retries it).  min_free
 * (bytes) is the configuration's, or for ab_ingest_direct, which has none,
 * UINT64_MAX: whatever the input set on its connection. */
static int room(struct ab_store *st, uint64_t min_free, const struct ab_event *ev, bool own,
	char *err, size_t errsz)
{
	if (min_free != UINT64_MAX)
		ab_store_set_min_free(st, min_free);
	if (ab_store_room(st) == 0)
		return 0;
	snprintf(err, errsz, "could not store event %s: %s", ev->id, ab_store_errmsg(st));
	if (!own)
		ab_store_fail_batch(st, err);
	return -1;
}

static int run(struct ab_store *st, const struct ab_config *cfg, struct ab_event *ev,
	int64_t now, struct ab_route_result *rr, struct ab_ingest_outcome *out,
	struct ab_buf *explain,
	bool dry, char *err, size_t errsz)
{
	struct ab_route_result local;
	bool own = !ab_store_in_batch(st);
	char e2[512];

	if (!rr)
		rr = &local;
	if (!ev->received_at)
		ev->received_at = now;
	ab_event_ensure_id(ev);
	ab_route_at(cfg, ev, now, rr, explain);
	if (!dry && room(st, (uint64_t)cfg->min_free_mb << 20, ev, own, err, errsz) < 0)
		return -1;
	if (own && ab_store_begin(st) < 0) {
		snprintf(err, errsz, "could not store event %s: %s", ev->id, ab_store_errmsg(st));
		return -1;
	}
	if (ab_noise_ingest(st, cfg, ev, rr, now, out, explain, e2, sizeof e2) < 0) {
		snprintf(err, errsz, "could not store event %s: %s", ev->id, e2);
		if (own)
			ab_store_rollback(st);
		else
			ab_store_fail_batch(st, err);
		return -1;
	}
	if (own && dry) {
		ab_store_rollback(st);
		return 0;
	}
	if (own && ab_store_commit(st) < 0) {
		snprintf(err, errsz, "could not store event %s: %s", ev->id, ab_store_errmsg(st));
		return -1;
	}
	if (!dry && rr->n == 0 && rr->n_disabled > 0)
		warn_disabled(ev, rr);
	if (!dry)
		ab_metric_inc(&m_received, ev->origin.kind, NULL);
	return 0;
}

int ab_ingest(struct ab_store *st, const struct ab_config *cfg, struct ab_event *ev,
	int64_t now, struct ab_route_result *rr, struct ab_ingest_outcome *out, char *err,
	size_t errsz)
{
	return run(st, cfg, ev, now, rr, out, NULL, false, err, errsz);
}

int ab_ingest_direct(struct ab_store *st, struct ab_event *ev, const char *const *channels,
	size_t n, int64_t now, struct ab_route_result *rr, struct ab_ingest_outcome *out,
	char *err, size_t errsz)
{
	int added = 0;

	if (n > AB_ROUTE_MAX_CHANNELS)
		n = AB_ROUTE_MAX_CHANNELS;
	if (!ev->received_at)
		ev->received_at = now;
	ab_event_ensure_id(ev);
	if (room(st, UINT64_MAX, ev, !ab_store_in_batch(st), err, errsz) < 0)
		return -1;
	if (ab_store_enqueue(st, ev, channels, n, now, &added) < 0) {
		snprintf(err, errsz, "could not store event %s: %s", ev->id, ab_store_errmsg(st));
		return -1;
	}
	if (rr) {
		memset(rr, 0, sizeof *rr);
		for (size_t i = 0; i < n; i++)
			rr->channels[i] = channels[i];
		rr->n = n;
	}
	if (out) {
		memset(out, 0, sizeof *out);
		out->added = added;
		out->duplicate = added == 0 && n > 0;
	}
	ab_metric_inc(&m_received, ev->origin.kind, NULL);
	return 0;
}

int ab_ingest_explain(struct ab_store *st, const struct ab_config *cfg, struct ab_event *ev,
	int64_t now, struct ab_buf *explain, char *err, size_t errsz)
{
	if (ab_store_in_batch(st)) {
		snprintf(err, errsz, "explain: a batch is open on this connection");
		return -1;
	}
	return run(st, cfg, ev, now, NULL, NULL, explain, true, err, errsz);
}
