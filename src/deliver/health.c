/*
 * health.c - channel health (kept in the store) and the rate-limit gate of
 * the dispatcher (see health.h).
 *
 * Public: ab_chanctl_admit, ab_chanctl_result, ab_chanctl_shutdown,
 *         ab_health_list, ab_health_state_name.
 * Diagnostics: "channel X is failing: REASON" (error) and "channel X
 *         recovered" (notice) in the log, once per state change; store
 *         errors are logged and never stop a delivery.  When the fallback
 *         channel is disabled (enabled = false) no health event is queued
 *         and that log line says the log is the only notice.
 *
 * The dispatcher side keeps one SQLite connection of its own to the store
 * (guarded by a mutex) for the channel_health table and for putting a job
 * back when its channel has no token: the job goes back to QUEUED with its
 * attempt not counted and next_at when the bucket has a token again.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "deliver/health.h"
#include "lib/log.h"
#include "deliver/ratelimit.h"

#define AB_HEALTH_REASON_MAX 240
#define HEALTH_OK_REFRESH_MS 1000  /* last_ok of a healthy channel: at most this stale */

static const char health_sql[] =
	"CREATE TABLE IF NOT EXISTS channel_health ("
	" channel TEXT PRIMARY KEY,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT,"
	" since INTEGER NOT NULL DEFAULT 0,"
	" last_ok INTEGER NOT NULL DEFAULT 0,"
	" last_fail INTEGER NOT NULL DEFAULT 0);";

static pthread_mutex_t ctl_mu = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *ctl_db;
static sqlite3_stmt *ctl_read;   /* the per-result health read, prepared once */
static char *ctl_path;
static struct ab_ratelimit *ctl_rl;

static sqlite3 *open_db(const char *path, char *err, size_t errsz)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errsz, "store %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_exec(db, health_sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "store %s: channel_health: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* Caller holds ctl_mu. */
static sqlite3 *ctl(const char *store_path)
{
	char err[512];

	if (ctl_db && ctl_path && !strcmp(ctl_path, store_path))
		return ctl_db;
	sqlite3_finalize(ctl_read);
	ctl_read = NULL;
	sqlite3_close(ctl_db);
	free(ctl_path);
	ctl_path = strdup(store_path);
	ctl_db = ctl_path ? open_db(store_path, err, sizeof err) : NULL;
	if (!ctl_db)
		ab_log(AB_LOG_ERR, "channel health: %s", ctl_path ? err : "out of memory");
	if (!ctl_rl)
		ctl_rl = ab_ratelimit_new();
	return ctl_db;
}

void ab_chanctl_shutdown(void)
{
	pthread_mutex_lock(&ctl_mu);
	sqlite3_finalize(ctl_read);
	ctl_read = NULL;
	sqlite3_close(ctl_db);
	ctl_db = NULL;
	free(ctl_path);
	ctl_path = NULL;
	ab_ratelimit_free(ctl_rl);
	ctl_rl = NULL;
	pthread_mutex_unlock(&ctl_mu);
}

int ab_chanctl_admit(struct ab_runtime *rt, const struct ab_job *job, int64_t now)
{
	const struct ab_channel_conf *ch = ab_config_channel(rt->cfg, job->channel);
	sqlite3_stmt *st = NULL;
	double rate;
	int burst, done = 0;
	int64_t wait;

	if (!ch)
		return 0;
	ab_ratelimit_conf(ch, ab_runtime_default_rate(rt, job->channel), &rate, &burst);
	if (rate <= 0)
		return 0;
	pthread_mutex_lock(&ctl_mu);
	if (!ctl(rt->cfg->store_path) || !ctl_rl) {
		pthread_mutex_unlock(&ctl_mu);
		return 0;
	}
	wait = ab_ratelimit_take(ctl_rl, job->channel, rate, burst, now);
	if (wait > 0 && sqlite3_prepare_v2(ctl_db, "UPDATE jobs SET state = 0, attempts = "
	    "MAX(attempts - 1, 0), next_at = ?2, updated_at = ?3, lease_until = NULL "
	    "WHERE id = ?1 AND state = 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, job->id);
		sqlite3_bind_int64(st, 2, now + wait);
		sqlite3_bind_int64(st, 3, now);
		if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(ctl_db) == 1)
			done = 1;
		else
			ab_log(AB_LOG_WARNING, "rate limit: cannot put job %lld back: %s",
				(long long)job->id, sqlite3_errmsg(ctl_db));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&ctl_mu);
	if (done)
		ab_log(AB_LOG_DEBUG, "job %lld: channel %s over its rate (%.3g/s, burst %d): "
			"due again in %lld ms", (long long)job->id, job->channel, rate, burst,
			(long long)wait);
	return done;
}

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
	ab_event_set_str(&ev->type, failing ? "channel.failing" : "channel.recovered");
	ev->category = AB_CAT_ERROR;
	ev->severity = failing ? AB_SEV_HIGH : AB_SEV_INFO;
	ab_event_set_str(&ev->source, "alertbridge");
	ab_event_set_str(&ev->tool, "alertbridge");
	ab_event_set_str(&ev->title, title);
	ab_event_set_str(&ev->summary, failing ? "Alerts for this channel are not being "
		"delivered. Check the channel (alertbridge test CHANNEL, alertbridge log "
		"--channels), fix it, then replay dead letters with 'alertbridge queue retry "
		"--dead'." : "Deliveries to this channel work again.");
	ab_event_set_str(&ev->asset, ch->name);
	ab_event_set_str(&ev->status, "new");
	ab_event_set_str(&ev->origin.kind, "daemon");   /* made by the dispatcher */
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

void ab_chanctl_result(struct ab_store *st, struct ab_runtime *rt, const struct ab_job *job,
	const struct ab_result *res, int64_t now)
{
	const struct ab_channel_conf *ch = ab_config_channel(rt->cfg, job->channel);
	sqlite3_stmt *q = NULL;
	int state = 0, failures = 0, threshold, nstate;
	int64_t since = 0, last_ok = -1;
	bool ok = res->status == AB_OK, change, fb_off;
	char reason[AB_HEALTH_REASON_MAX + 1];

	if (!ch)
		return;
	threshold = ch->failure_threshold > 0 ? ch->failure_threshold : 3;
	snprintf(reason, sizeof reason, "%.*s", AB_HEALTH_REASON_MAX, res->message);
	pthread_mutex_lock(&ctl_mu);
	if (!ctl(rt->cfg->store_path)) {
		pthread_mutex_unlock(&ctl_mu);
		return;
	}
	/* runs once per delivery attempt: the statement is kept (ctl_mu) */
	if (ctl_read || sqlite3_prepare_v3(ctl_db, "SELECT state, failures, since, last_ok FROM "
	    "channel_health WHERE channel = ?1", -1, SQLITE_PREPARE_PERSISTENT, &ctl_read,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_text(ctl_read, 1, ch->name, -1, SQLITE_STATIC);
		if (sqlite3_step(ctl_read) == SQLITE_ROW) {
			state = sqlite3_column_int(ctl_read, 0);
			failures = sqlite3_column_int(ctl_read, 1);
			since = sqlite3_column_int64(ctl_read, 2);
			last_ok = sqlite3_column_int64(ctl_read, 3);
		}
		sqlite3_reset(ctl_read);
		sqlite3_clear_bindings(ctl_read);
	}
	/* Success on a healthy channel changes nothing but last_ok: written at
	 * most every HEALTH_OK_REFRESH_MS, not once per delivered job (each
	 * write is a transaction with an fsync, taking the store's write lock
	 * from the syslog input's group commits). */
	if (ok && state == AB_HEALTH_HEALTHY && failures == 0 && last_ok >= 0 &&
	    now >= last_ok && now - last_ok < HEALTH_OK_REFRESH_MS) {
		pthread_mutex_unlock(&ctl_mu);
		return;
	}
	if (ok) {
		failures = 0;
		nstate = AB_HEALTH_HEALTHY;
	} else {
		failures++;
		nstate = state;
		if (failures >= threshold || channel_fault(res))
			nstate = AB_HEALTH_FAILING;
	}
	change = nstate != state;
	if (change)
		since = now;
	if (sqlite3_prepare_v2(ctl_db, "INSERT INTO channel_health(channel, state, failures, "
	    "reason, since, last_ok, last_fail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	    "ON CONFLICT(channel) DO UPDATE SET state = ?2, failures = ?3, "
	    "reason = CASE WHEN ?8 THEN reason ELSE ?4 END, since = ?5, "
	    "last_ok = CASE WHEN ?8 THEN ?6 ELSE last_ok END, "
	    "last_fail = CASE WHEN ?8 THEN last_fail ELSE ?7 END", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, ch->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, nstate);
		sqlite3_bind_int(q, 3, failures);
		sqlite3_bind_text(q, 4, ok ? "" : reason, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 5, since);
		sqlite3_bind_int64(q, 6, ok ? now : 0);
		sqlite3_bind_int64(q, 7, ok ? 0 : now);
		sqlite3_bind_int(q, 8, ok);
		if (sqlite3_step(q) != SQLITE_DONE)
			ab_log(AB_LOG_ERR, "channel health: %s", sqlite3_errmsg(ctl_db));
	} else {
		ab_log(AB_LOG_ERR, "channel health: %s", sqlite3_errmsg(ctl_db));
	}
	sqlite3_finalize(q);
	pthread_mutex_unlock(&ctl_mu);
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

int ab_health_list(const char *store_path, ab_health_cb cb, void *arg, char *err, size_t errsz)
{
	sqlite3 *db = open_db(store_path, err, errsz);
	sqlite3_stmt *q = NULL;
	int rc = 0, r;

	if (!db)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT channel, state, failures, COALESCE(reason, ''), since, "
	    "last_ok, last_fail FROM channel_health ORDER BY channel", -1, &q, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "store: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		struct ab_health_row row;
		row.channel = (const char *)sqlite3_column_text(q, 0);
		row.state = (enum ab_health_state)sqlite3_column_int(q, 1);
		row.failures = sqlite3_column_int(q, 2);
		row.reason = (const char *)sqlite3_column_text(q, 3);
		row.since = sqlite3_column_int64(q, 4);
		row.last_ok = sqlite3_column_int64(q, 5);
		row.last_fail = sqlite3_column_int64(q, 6);
		if (!row.channel || !row.reason)
			continue;
		if (cb(&row, arg))
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		snprintf(err, errsz, "store: %s", sqlite3_errmsg(db));
		rc = -1;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}
