/*
 * test_noise.c - noise control with its state in a real store, the clock
 * injected: throttle windows across a restart (store reopened) and across
 * a day boundary with the suppressed count on the next delivery; group
 * timing (group_wait, group_interval, max_group_size, counts per severity
 * and type, top items most severe first); digests on their schedule (empty
 * ones only with send_empty); reminder offsets before fields.expires_at;
 * duplicates leave the state alone; the scheduler thread with an injected
 * clock, and its retention pruning at start (retention "0": none).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "config/config.h"
#include "ingest/ingest.h"
#include "route/noise.h"
#include "deliver/runtime.h"
#include "deliver/scheduler.h"
#include "store/store.h"
#include "../harness/testutil.h"
#include "lib/util.h"

#define CONF_FMT \
	"state_dir = \"%s\";\n" \
	"channels = ( { name = \"a\"; type = \"file\"; path = \"a\"; },\n" \
	"  { name = \"b\"; type = \"file\"; path = \"b\"; } );\n" \
	"rules = (\n" \
	"  { name = \"thr\"; events = [\"thr.*\"]; throttle = \"1h\"; channels = [\"a\"]; },\n" \
	"  { name = \"thr-host\"; events = [\"host.*\"]; throttle = \"10m\";\n" \
	"    throttle_key = [\"type\", \"fields.host\"]; channels = [\"a\"]; },\n" \
	"  { name = \"grp\"; events = [\"finding.*\"]; group_by = [\"tool\", \"asset\"];\n" \
	"    group_wait = \"30s\"; group_interval = \"5m\"; max_group_size = 3;\n" \
	"    channels = [\"a\", \"b\"]; },\n" \
	"  { name = \"dig\"; events = [\"dig.*\"]; channels = [\"b\"];\n" \
	"    digest = { schedule = \"daily 08:00 Europe/Berlin\"; }; },\n" \
	"  { name = \"weekly\"; events = [\"never.*\"]; channels = [\"b\"];\n" \
	"    digest = { schedule = \"weekly mon 09:00 UTC\"; send_empty = true; }; },\n" \
	"  { name = \"remind\"; events = [\"risk_acceptance.*\"]; remind = [\"7d\", \"0d\"];\n" \
	"    channels = [\"a\"]; }\n" \
	");\n" \
	"default = [];\n"

static char *dir, *store_path;
static struct ab_config *cfg;

static int setup(void **state)
{
	char text[4096], *path, *errors = NULL;

	(void)state;
	dir = tu_tmpdir();
	snprintf(text, sizeof text, CONF_FMT, dir);
	path = tu_path(dir, "noise.conf");
	tu_write(path, text);
	cfg = ab_config_load(path, &errors);
	if (!cfg)
		fprintf(stderr, "%s", errors ? errors : "?");
	free(errors);
	free(path);
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

/* A fresh store for each test. */
static struct ab_store *fresh(const char *name)
{
	char err[512];
	struct ab_store *st;

	free(store_path);
	store_path = tu_path(dir, name);
	st = ab_store_open(store_path, err, sizeof err);
	if (!st)
		fail_msg("%s", err);
	return st;
}

static struct ab_store *reopen(struct ab_store *st)
{
	char err[512];

	ab_store_close(st);
	st = ab_store_open(store_path, err, sizeof err);
	if (!st)
		fail_msg("%s", err);
	return st;
}

static int64_t T(const char *s)
{
	int64_t ms = -1;

	assert_int_equal(ab_time_parse_rfc3339(s, &ms), 0);
	return ms;
}

/* Ingest an event (JSON) at now; returns the jobs queued now. */
static int in(struct ab_store *st, const char *js, int64_t now)
{
	char err[512];
	json_t *j = json_loads(js, 0, NULL);
	struct ab_event *ev;
	struct ab_ingest_outcome o = { -1, false, 0, 0, 0, 0 };

	assert_non_null(j);
	ev = ab_event_from_json(j, err, sizeof err);
	json_decref(j);
	if (!ev)
		fail_msg("%s: %s", js, err);
	if (ab_ingest(st, cfg, ev, now, NULL, &o, err, sizeof err) < 0)
		fail_msg("ingest: %s", err);
	ab_event_free(ev);
	return o.added;
}

static int flush(struct ab_store *st, int64_t now)
{
	char err[512];
	int q = -1;

	if (ab_noise_flush(st, cfg, now, &q, err, sizeof err) < 0)
		fail_msg("flush: %s", err);
	return q;
}

/* All jobs as a JSON array of {channel, kind, payload}, oldest first. */
static int collect(const struct ab_job *j, void *arg)
{
	json_t *o = json_pack("{s:s, s:i, s:o}", "channel", j->channel, "kind", j->kind,
		"payload", json_loads(j->payload, 0, NULL));

	json_array_append_new(arg, o);
	return 0;
}

static json_t *jobs(struct ab_store *st)
{
	json_t *a = json_array();

	assert_int_equal(ab_store_list_jobs(st, 0, collect, a), 0);
	return a;
}

static json_t *last_job(struct ab_store *st, json_t **all)
{
	*all = jobs(st);
	assert_true(json_array_size(*all) > 0);
	return json_array_get(*all, json_array_size(*all) - 1);
}

static void test_throttle_restart_day_boundary(void **state)
{
	struct ab_store *st = fresh("thr.db");
	const char *e1 = "{\"type\":\"thr.alert\",\"fingerprint\":\"fp1\",\"title\":\"one\"}";
	const char *e2 = "{\"type\":\"thr.alert\",\"fingerprint\":\"fp1\",\"title\":\"two\"}";
	const char *e3 = "{\"type\":\"thr.alert\",\"fingerprint\":\"fp1\",\"title\":\"three\"}";
	const char *e4 = "{\"type\":\"thr.alert\",\"fingerprint\":\"fp1\",\"title\":\"four\"}";
	const char *other = "{\"type\":\"thr.alert\",\"fingerprint\":\"fp2\",\"title\":\"x\"}";
	json_t *all, *last;

	(void)state;
	/* 23:30 the first goes out and opens a window until 00:30 the next day */
	assert_int_equal(in(st, e1, T("2025-03-28T23:30:00Z")), 1);
	assert_int_equal(in(st, e2, T("2025-03-28T23:50:00Z")), 0);
	assert_int_equal(in(st, other, T("2025-03-28T23:51:00Z")), 1);   /* other key */
	/* restart: the window survives */
	st = reopen(st);
	assert_int_equal(in(st, e3, T("2025-03-29T00:29:59Z")), 0);
	st = reopen(st);
	/* after the window, across midnight: sent with the count */
	assert_int_equal(in(st, e4, T("2025-03-29T00:30:00Z")), 1);
	last = last_job(st, &all);
	assert_int_equal(json_integer_value(json_object_get(last, "kind")), AB_MSG_EVENT);
	assert_string_equal(json_string_value(json_object_get(json_object_get(last, "payload"),
		"title")), "four");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(last,
		"payload"), "fields"), "throttle_suppressed")), 2);
	json_decref(all);
	/* a new window opened at 00:30 and its count started again */
	assert_int_equal(in(st, "{\"type\":\"thr.alert\",\"fingerprint\":\"fp1\",\"title\":\"5\"}",
		T("2025-03-29T01:00:00Z")), 0);
	assert_int_equal(in(st, "{\"type\":\"thr.alert\",\"fingerprint\":\"fp1\",\"title\":\"6\"}",
		T("2025-03-29T01:30:00Z")), 1);
	last = last_job(st, &all);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(last,
		"payload"), "fields"), "throttle_suppressed")), 1);
	json_decref(all);
	/* configurable key: per host */
	assert_int_equal(in(st, "{\"type\":\"host.down\",\"fields\":{\"host\":\"h1\"}}",
		T("2025-03-29T02:00:00Z")), 1);
	assert_int_equal(in(st, "{\"type\":\"host.down\",\"fields\":{\"host\":\"h2\"}}",
		T("2025-03-29T02:01:00Z")), 1);
	assert_int_equal(in(st, "{\"type\":\"host.down\",\"title\":\"again\",\"fields\":{\"host\":"
		"\"h1\"}}", T("2025-03-29T02:02:00Z")), 0);
	/* a duplicate (same id) neither counts nor is sent again */
	assert_int_equal(in(st, e4, T("2025-03-29T02:03:00Z")), 0);
	ab_store_close(st);
}

static const char *finding(char *buf, size_t sz, int n, const char *sev, const char *asset)
{
	snprintf(buf, sz, "{\"type\":\"finding.created\",\"tool\":\"trivy\",\"asset\":\"%s\","
		"\"severity\":\"%s\",\"title\":\"f%d\",\"fingerprint\":\"fp%d\"}", asset, sev, n, n);
	return buf;
}

static void test_group_timing(void **state)
{
	static const char *sevs[] = { "low", "high", "medium", "critical", "low", "info", "high" };
	struct ab_store *st = fresh("grp.db");
	int64_t t0 = T("2025-03-28T12:00:00Z");
	json_t *all, *g, *p;
	char buf[512];

	(void)state;
	for (int i = 0; i < 7; i++)
		assert_int_equal(in(st, finding(buf, sizeof buf, i, sevs[i], "api"), t0 + i * 1000), 0);
	for (int i = 7; i < 9; i++)
		assert_int_equal(in(st, finding(buf, sizeof buf, i, "medium", "web"), t0 + 5000), 0);
	/* a duplicate does not count twice */
	assert_int_equal(in(st, finding(buf, sizeof buf, 0, "low", "api"), t0 + 6000), 0);
	assert_int_equal(ab_noise_next_due(st), t0 + 30000);
	assert_int_equal(flush(st, t0 + 29999), 0);
	st = reopen(st);   /* open groups survive a restart */
	assert_int_equal(flush(st, t0 + 30000), 2);   /* the api group, 2 channels */
	assert_int_equal(flush(st, t0 + 34999), 0);
	assert_int_equal(flush(st, t0 + 35000), 2);   /* web: opened 5 s later */
	assert_int_equal(flush(st, t0 + 35001), 0);
	all = jobs(st);
	assert_int_equal(json_array_size(all), 4);
	p = json_object_get(json_array_get(all, 0), "payload");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(all, 0), "kind")),
		AB_MSG_GROUP);
	g = json_object_get(p, "group");
	assert_string_equal(json_string_value(json_object_get(g, "rule")), "grp");
	assert_int_equal(json_integer_value(json_object_get(g, "count")), 7);
	assert_string_equal(json_string_value(json_object_get(json_object_get(g, "group_by"),
		"asset")), "api");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "counts"),
		"critical")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "counts"), "high")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "counts"), "low")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "counts"),
		"medium")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "counts"), "info")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "by_type"),
		"finding.created")), 7);
	/* top 3 by severity, earliest first among equals */
	assert_int_equal(json_array_size(json_object_get(p, "items")), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p,
		"items"), 0), "title")), "f3");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p,
		"items"), 1), "title")), "f1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p,
		"items"), 2), "title")), "f6");
	assert_int_equal(json_integer_value(json_object_get(p, "omitted")), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(all, 2), "channel")),
		"a");
	g = json_object_get(json_object_get(json_array_get(all, 2), "payload"), "group");
	assert_int_equal(json_integer_value(json_object_get(g, "count")), 2);
	json_decref(all);
	/* a new event of a flushed group waits for group_interval after the flush */
	assert_int_equal(in(st, finding(buf, sizeof buf, 20, "high", "api"), t0 + 40000), 0);
	assert_int_equal(ab_noise_next_due(st), t0 + 30000 + 300000);
	assert_int_equal(flush(st, t0 + 120000), 0);
	st = reopen(st);
	assert_int_equal(flush(st, t0 + 330000), 2);
	/* long after: group_wait again */
	assert_int_equal(in(st, finding(buf, sizeof buf, 21, "low", "api"), t0 + 3600000), 0);
	assert_int_equal(ab_noise_next_due(st), t0 + 3600000 + 30000);
	ab_store_close(st);
}

static void test_digest_schedule(void **state)
{
	struct ab_store *st = fresh("dig.db");
	json_t *all, *d;

	(void)state;
	/* the first pass schedules both digests */
	assert_int_equal(flush(st, T("2025-03-29T10:00:00Z")), 0);
	assert_int_equal(in(st, "{\"type\":\"dig.a\",\"severity\":\"high\",\"title\":\"1\"}",
		T("2025-03-29T11:00:00Z")), 0);
	assert_int_equal(in(st, "{\"type\":\"dig.b\",\"severity\":\"low\",\"title\":\"2\"}",
		T("2025-03-29T12:00:00Z")), 0);
	st = reopen(st);
	assert_int_equal(in(st, "{\"type\":\"dig.a\",\"severity\":\"critical\",\"title\":\"3\"}",
		T("2025-03-30T05:00:00Z")), 0);
	/* 08:00 Berlin on the day of the DST change is 06:00Z */
	assert_int_equal(flush(st, T("2025-03-30T05:59:59Z")), 0);
	assert_int_equal(flush(st, T("2025-03-30T06:00:00Z")), 1);
	all = jobs(st);
	assert_int_equal(json_array_size(all), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(all, 0), "kind")),
		AB_MSG_DIGEST);
	d = json_object_get(json_object_get(json_array_get(all, 0), "payload"), "digest");
	assert_int_equal(json_integer_value(json_object_get(d, "count")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "by_type"), "dig.a")),
		2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "counts"),
		"critical")), 1);
	assert_string_equal(json_string_value(json_object_get(d, "period_end")),
		"2025-03-30T06:00:00Z");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
		json_object_get(json_array_get(all, 0), "payload"), "items"), 0), "title")), "3");
	json_decref(all);
	/* next day: nothing collected, nothing sent */
	assert_int_equal(flush(st, T("2025-03-31T06:00:00Z")), 0);
	/* the weekly one sends even when empty (send_empty), Monday 09:00 UTC */
	assert_int_equal(flush(st, T("2025-03-31T08:59:59Z")), 0);
	assert_int_equal(flush(st, T("2025-03-31T09:00:00Z")), 1);
	all = jobs(st);
	d = json_object_get(json_object_get(json_array_get(all, 1), "payload"), "digest");
	assert_string_equal(json_string_value(json_object_get(d, "rule")), "weekly");
	assert_int_equal(json_integer_value(json_object_get(d, "count")), 0);
	json_decref(all);
	assert_int_equal(flush(st, T("2025-04-06T09:00:00Z")), 0);
	assert_int_equal(flush(st, T("2025-04-07T09:00:00Z")), 1);
	ab_store_close(st);
}

static int64_t count_kind(struct ab_store *st, int kind)
{
	json_t *all = jobs(st), *j;
	int64_t n = 0;
	size_t i;

	json_array_foreach(all, i, j)
		n += json_integer_value(json_object_get(j, "kind")) == kind;
	json_decref(all);
	return n;
}

static void test_reminders(void **state)
{
	struct ab_store *st = fresh("rem.db");
	json_t *all, *p;

	(void)state;
	assert_int_equal(in(st, "{\"type\":\"risk_acceptance.created\",\"title\":\"CVE-1 accepted\","
		"\"fields\":{\"expires_at\":\"2025-04-10T12:00:00Z\"}}", T("2025-03-28T12:00:00Z")), 1);
	/* expires in 3 days: the 7d offset is already past, only 0d */
	assert_int_equal(in(st, "{\"type\":\"risk_acceptance.created\",\"title\":\"CVE-2 accepted\","
		"\"fields\":{\"expires_at\":1743681600}}", T("2025-03-31T12:00:00Z")), 1);
	st = reopen(st);
	assert_int_equal(flush(st, T("2025-04-03T11:59:59Z")), 0);
	assert_int_equal(flush(st, T("2025-04-03T12:00:00Z")), 2);   /* CVE-1 7d, CVE-2 0d */
	assert_int_equal(flush(st, T("2025-04-03T12:00:01Z")), 0);
	all = jobs(st);
	assert_int_equal(json_array_size(all), 4);
	p = json_object_get(json_array_get(all, 2), "payload");
	assert_string_equal(json_string_value(json_object_get(p, "type")), "risk_acceptance.expiring");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "fields"),
		"remind_offset")), "7d");
	assert_string_equal(json_string_value(json_object_get(p, "title")),
		"Expires in 7d: CVE-1 accepted");
	p = json_object_get(json_array_get(all, 3), "payload");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "fields"),
		"remind_offset")), "0d");
	json_decref(all);
	/* (the weekly send_empty digest of the config also fires in between) */
	flush(st, T("2025-04-10T11:00:00Z"));
	assert_int_equal(count_kind(st, AB_MSG_EVENT), 4);
	flush(st, T("2025-04-10T12:00:00Z"));
	assert_int_equal(count_kind(st, AB_MSG_EVENT), 5);
	flush(st, T("2025-04-11T12:00:00Z"));
	assert_int_equal(count_kind(st, AB_MSG_EVENT), 5);
	assert_int_equal(ab_noise_next_due(st) >= T("2025-04-10T12:00:00Z") ||
		ab_noise_next_due(st) == -1, 1);
	ab_store_close(st);
}

/* A version 1 store (before routing state) is migrated when opened. */
static void test_migrate_v1(void **state)
{
	struct ab_store *st = fresh("v1.db");
	sqlite3 *db;
	sqlite3_stmt *q;

	(void)state;
	ab_store_close(st);
	assert_int_equal(sqlite3_open(store_path, &db), SQLITE_OK);
	/* back to version 1: no noise tables, no health, no people */
	assert_int_equal(sqlite3_exec(db, "DROP TABLE throttle; DROP TABLE groups; DROP TABLE items;"
		" DROP TABLE counts; DROP TABLE digests; DROP TABLE reminders;"
		" DROP TABLE channel_health; DROP TABLE prefs; DROP TABLE prefs_gen; DROP TABLE logins;"
		" DROP TABLE threads;"
		" ALTER TABLE delivery_log DROP COLUMN recipient; DROP TABLE jobs; DROP TABLE events;"
		" CREATE TABLE events (id TEXT PRIMARY KEY, json TEXT NOT NULL, received_at INTEGER);"
		" CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,"
		" channel TEXT NOT NULL, kind INTEGER NOT NULL DEFAULT 0, payload TEXT,"
		" state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
		" created_at INTEGER NOT NULL, next_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
		" lease_until INTEGER, last_error TEXT, UNIQUE(event_id, channel));"
		" PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	st = reopen(NULL);
	assert_int_equal(in(st, "{\"type\":\"thr.alert\",\"fingerprint\":\"m\"}",
		T("2025-01-01T00:00:00Z")), 1);
	assert_int_equal(in(st, "{\"type\":\"thr.alert\",\"fingerprint\":\"m\",\"title\":\"2\"}",
		T("2025-01-01T00:00:01Z")), 0);
	assert_int_equal(sqlite3_open(store_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 7);   /* 7: jobs by the event's rowid */
	sqlite3_finalize(q);
	sqlite3_close(db);
	ab_store_close(st);
}

static int64_t fake_now;
static int64_t fake_clock(void *arg)
{
	(void)arg;
	return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

/* The scheduler thread flushes with the injected clock. */
static void test_scheduler_thread(void **state)
{
	struct ab_store *st = fresh("sched.db");
	struct ab_runtime rt = { .cfg = cfg, .refs = 1 };
	struct ab_sched *s;
	char err[256], buf[512];
	uint64_t p0;
	int i;

	(void)state;
	__atomic_store_n(&fake_now, T("2025-03-28T12:00:00Z"), __ATOMIC_SEQ_CST);
	assert_int_equal(in(st, finding(buf, sizeof buf, 1, "high", "x"), fake_now), 0);
	s = ab_sched_start(store_path, &rt, NULL, fake_clock, NULL, err, sizeof err);
	assert_non_null(s);
	for (i = 0; i < 500 && ab_sched_passes(s) < 1; i++)
		usleep(10000);
	assert_int_equal(ab_sched_queued(s), 0);
	__atomic_store_n(&fake_now, fake_now + 30000, __ATOMIC_SEQ_CST);
	p0 = ab_sched_passes(s);
	ab_sched_kick(s);
	for (i = 0; i < 500 && ab_sched_passes(s) < p0 + 1; i++)
		usleep(10000);
	assert_int_equal(ab_sched_queued(s), 2);
	ab_sched_stop(s);
	assert_int_equal(ab_store_count(st, AB_JOB_QUEUED), 2);
	ab_store_close(st);
}

/* A done job for event n, received and delivered at `at`. */
static void done_job(struct ab_store *st, unsigned n, int64_t at)
{
	static const char *const a[] = { "a" };
	struct ab_event *ev = ab_event_new();
	struct ab_result ok;
	struct ab_job job;

	assert_non_null(ev);
	snprintf(ev->id, sizeof ev->id, "%032x", n);
	ev->received_at = at;
	assert_int_equal(ab_store_enqueue(st, ev, a, 1, at, NULL), 0);
	ab_event_free(ev);
	ab_result_set(&ok, AB_OK, 200, NULL);
	assert_int_equal(ab_store_claim(st, at, 60000, &job), 1);
	assert_int_equal(ab_store_finish(st, &job, &ok, 1, at, 0, false), 0);
	ab_job_clear(&job);
}

/* At start the scheduler prunes rows older than `retention` (default 30d):
 * a done job of 40 days ago goes with its event, one of 10 days ago stays;
 * with retention "0" nothing goes. */
static void test_scheduler_prunes(void **state)
{
	static const int64_t keep[] = { 30LL * 86400000, 0 };
	int64_t day = 86400000;

	(void)state;
	__atomic_store_n(&fake_now, T("2025-03-28T12:00:00Z"), __ATOMIC_SEQ_CST);
	assert_int_equal(cfg->retention_ms, keep[0]);
	for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
		struct ab_store *st = fresh(k ? "prune0.db" : "prune.db");
		struct ab_runtime rt = { .cfg = cfg, .refs = 1 };
		struct ab_sched *s;
		char err[256];
		int i;

		done_job(st, 1, fake_now - 40 * day);
		done_job(st, 2, fake_now - 10 * day);
		cfg->retention_ms = keep[k];
		s = ab_sched_start(store_path, &rt, NULL, fake_clock, NULL, err, sizeof err);
		assert_non_null(s);
		for (i = 0; i < 500 && ab_sched_passes(s) < 1; i++)
			usleep(10000);
		ab_sched_stop(s);
		cfg->retention_ms = keep[0];
		assert_int_equal(ab_store_count(st, AB_JOB_DONE), k ? 2 : 1);
		assert_int_equal(ab_store_event_exists(st, "00000000000000000000000000000001"),
			k ? 1 : 0);
		assert_int_equal(ab_store_event_exists(st, "00000000000000000000000000000002"), 1);
		ab_store_close(st);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle_restart_day_boundary),
		cmocka_unit_test(test_group_timing),
		cmocka_unit_test(test_digest_schedule),
		cmocka_unit_test(test_reminders),
		cmocka_unit_test(test_scheduler_thread),
		cmocka_unit_test(test_scheduler_prunes),
		cmocka_unit_test(test_migrate_v1),
	};
	int rc = cmocka_run_group_tests_name("noise", tests, setup, teardown);

	free(store_path);
	return rc;
}
