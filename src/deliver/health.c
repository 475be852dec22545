/*
 * health.c - channel health: the state machine that runs after each
 * recorded delivery attempt (see health.h).  The state itself is kept by
 * the store (ab_store_health_get/put/list); this file has no SQL.
 *
 * Public: ab_health_record, ab_health_state_name (the rows: ab_store_health_list).
 * Diagnostics: "channel X is failing: REASON" (error) and "channel X
 *         recovered" (notice) in the log, once per state change; store
 *         errors are logged (once a minute at most, with the count, through
 *         ab_complain) and never stop a delivery.  When the fallback
 *         channel is disabled (enabled = false) no health event is queued
 *         and that log line says the log is the only notice.
 *
 * A change is read, decided and written in one store transaction, so two
 * workers recording attempts of the same channel do not lose a count.  A
 * success on a healthy channel only refreshes last_ok, at most every
 * HEALTH_OK_REFRESH_MS, and reads without a transaction until then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "deliver/health.h"
#include "lib/log.h"

#define AB_HEALTH_REASON_MAX 240
#define HEALTH_OK_REFRESH_MS 1000  /* last_ok of a healthy channel: at most this stale */
#define HEALTH_COMPLAIN_MS 60000   /* a store that refuses health rows: a line a minute */

static struct ab_complaint health_unwritten = AB_COMPLAINT_INIT;

/* Is this permanent error about the channel rather than the message? */
static bool channel_fault(const struct ab_result *res)
{
	if (res->status != AB_PERMANENT)
		return false;
	return res->code != 400 && res->code != 413 && res->code != 422;
}

static void queue_event(struct ab_store *st, const struct ab_config *cfg,
	const struct ab_channel_conf *ch, bool failing, const char *reason, int failures,
	int64_t since, int64_t now)
{
	struct ab_event *ev;
	const char *to[1];
	char title[AB_HEALTH_REASON_MAX + 128], key[160];

	if (!ch->fallback || !strcmp(ch->fallback, ch->name))
		return;
	if (ab_channel_disabled(cfg, ch->fallback))
		return;   /* a disabled fallback gets nothing; the log line says so */
	ev = ab_event_new();
	if (!ev)
		return;
	if (failing)
		snprintf(title, sizeof title, "channel %s is failing: %s", ch->name, reason);
	else
		snprintf(title, sizeof title, "channel %s recovered", ch->name);
	ab_event_set_str(ev, &ev->type, failing ? "channel.failing" : "channel.recovered");
	ev->category = AB_CAT_ERROR;
	ev->severity = failing ? AB_SEV_HIGH : AB_SEV_INFO;
	ab_event_set_str(ev, &ev->source, "alertbridge");
	ab_event_set_str(ev, &ev->tool, "alertbridge");
	ab_event_set_str(ev, &ev->title, title);
	ab_event_set_str(ev, &ev->summary, failing ? "Alerts for this channel are not being "
		"delivered. Check the channel (alertbridge test CHANNEL, alertbridge log "
		"--channels), fix it, then replay dead letters with 'alertbridge queue retry "
		"--dead'." : "Deliveries to this channel work again.");
	ab_event_set_str(ev, &ev->asset, ch->name);
	ab_event_set_str(ev, &ev->status, "new");
	ab_event_set_str(ev, &ev->origin.kind, "daemon");   /* made by the dispatcher */
	json_object_set_new(ev->fields, "channel", json_string(ch->name));
	json_object_set_new(ev->fields, "health", json_string(failing ? "failing" : "healthy"));
	if (failing) {
		json_object_set_new(ev->fields, "reason", json_string(reason));
		json_object_set_new(ev->fields, "failures", json_integer(failures));
	}
	ev->received_at = now;
	ev->occurred_at = now;
	snprintf(key, sizeof key, "health:%s:%s:%lld", ch->name, failing ? "failing" : "ok",
		(long long)since);
	ab_event_compute_id(ev, key, strlen(key));
	to[0] = ch->fallback;
	if (ab_store_enqueue(st, ev, to, 1, now, NULL) < 0)
		ab_log(AB_LOG_ERR, "channel %s: cannot queue the health event for %s: %s",
			ch->name, ch->fallback, ab_store_errmsg(st));
	ab_event_free(ev);
}

/* Read, decide and write one channel's health inside the open batch of st.
 * 1 when the state changed (*nstate, *failures, *since say to what), 0 when
 * not, -1 on a store error (the caller rolls back). */
static int step(struct ab_store *st, const struct ab_channel_conf *ch, bool ok, bool fault,
	const char *reason, int64_t now, enum ab_health_state *nstate, int *failures,
	int64_t *since)
{
	struct ab_health_row row;
	int threshold = ch->failure_threshold > 0 ? ch->failure_threshold : 3;

	if (ab_store_health_get(st, ch->name, &row) < 0)
		return -1;
	*failures = row.failures;
	*since = row.since;
	if (ok) {
		*failures = 0;
		*nstate = AB_HEALTH_HEALTHY;
	} else {
		++*failures;
		*nstate = row.state;
		if (*failures >= threshold || fault)
			*nstate = AB_HEALTH_FAILING;
	}
	if (*nstate != row.state)
		*since = now;
	if (ab_store_health_put(st, ch->name, *nstate, *failures, *since, ok, reason, now) < 0)
		return -1;
	return *nstate != row.state;
}

void ab_health_record(struct ab_store *st, struct ab_runtime *rt, const struct ab_job *job,
	const struct ab_result *res, int64_t now)
{
	const struct ab_channel_conf *ch = ab_config_channel(rt->cfg, job->channel);
	struct ab_health_row row;
	enum ab_health_state nstate = AB_HEALTH_HEALTHY;
	int failures = 0, change, found;
	int64_t since = 0;
	bool ok = res->status == AB_OK, fb_off;
	char reason[AB_HEALTH_REASON_MAX + 1];

	if (!ch)
		return;
	snprintf(reason, sizeof reason, "%.*s", AB_HEALTH_REASON_MAX, res->message);
	/* Success on a healthy channel changes nothing but last_ok: written at
	 * most every HEALTH_OK_REFRESH_MS, not once per delivered job (each
	 * write is a transaction with an fsync, taking the store's write lock
	 * from the syslog input's group commits). */
	found = ok ? ab_store_health_get(st, ch->name, &row) : 0;
	if (found > 0 && row.state == AB_HEALTH_HEALTHY && row.failures == 0 &&
	    now >= row.last_ok && now - row.last_ok < HEALTH_OK_REFRESH_MS)
		return;
	if (ab_store_begin(st) < 0) {
		ab_complain(&health_unwritten, HEALTH_COMPLAIN_MS, AB_LOG_ERR, "channel health: %s",
			    ab_store_errmsg(st));
		return;
	}
	change = step(st, ch, ok, channel_fault(res), reason, now, &nstate, &failures, &since);
	if (change < 0) {
		ab_complain(&health_unwritten, HEALTH_COMPLAIN_MS, AB_LOG_ERR, "channel health: %s",
			    ab_store_errmsg(st));
		ab_store_rollback(st);
		return;
	}
	if (ab_store_commit(st) < 0) {
		ab_complain(&health_unwritten, HEALTH_COMPLAIN_MS, AB_LOG_ERR, "channel health: %s",
			    ab_store_errmsg(st));
		return;
	}
	ab_complain_clear(&health_unwritten, AB_LOG_NOTICE, "channel health: recorded again");
	if (!change)
		return;
	fb_off = ch->fallback && ab_channel_disabled(rt->cfg, ch->fallback);
	if (nstate == AB_HEALTH_FAILING && fb_off)
		ab_log(AB_LOG_ERR, "channel %s is failing: %s (its fallback channel %s is "
			"disabled: only this log line tells)", ch->name, reason, ch->fallback);
	else if (nstate == AB_HEALTH_FAILING)
		ab_log(AB_LOG_ERR, "channel %s is failing: %s%s%s%s", ch->name, reason,
			ch->fallback ? " (telling channel " : "", ch->fallback ? ch->fallback : "",
			ch->fallback ? ")" : "");
	else
		ab_log(AB_LOG_NOTICE, "channel %s recovered%s%s%s", ch->name,
			fb_off ? " (its fallback channel " : "", fb_off ? ch->fallback : "",
			fb_off ? " is disabled: only this log line tells)" : "");
	queue_event(st, rt->cfg, ch, nstate == AB_HEALTH_FAILING, reason, failures, since, now);
}

const char *ab_health_state_name(enum ab_health_state s)
{
	switch (s) {
	case AB_HEALTH_HEALTHY: return "healthy";
	case AB_HEALTH_FAILING: return "failing";
	case AB_HEALTH_DISABLED: return "disabled";
	}
	return "unknown";
}

