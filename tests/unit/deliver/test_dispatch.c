/*
 * test_dispatch.c - backoff math (full jitter bounds, cap, retry-after)
 * and the worker threads end to end with the scriptable mock plugin:
 * OK -> done, RETRY -> retried until OK, PERMANENT -> dead letter, RETRY
 * past max_age -> dead letter, and every attempt in the delivery log;
 * jobs of a disabled channel (enabled = false) held until a snapshot
 * enables it; a channel over its rate (deferred, attempts not counted);
 * channel health turning failing and telling the fallback channel; channels
 * whose plugin splits send() (ABI 1.3, the mocksplit build of the mock)
 * delivered concurrently to tests/lib/sink.py next to a plain one.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deliver/dispatch.h"
#include "deliver/recorder.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "store/store.h"
#include "lib/util.h"
#include "../harness/testutil.h"

static void test_backoff_bounds(void **state)
{
	static const struct { unsigned attempt; int64_t base, cap, ceiling; } t[] = {
		{ 1, 1000, 600000, 1000 },
		{ 2, 1000, 600000, 2000 },
		{ 3, 1000, 600000, 4000 },
		{ 10, 1000, 600000, 512000 },
		{ 11, 1000, 600000, 600000 },
		{ 64, 1000, 600000, 600000 },
		{ 200, 2000, 600000, 600000 },
		{ 0, 500, 600000, 500 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_int_equal(ab_backoff_ms(t[i].attempt, t[i].base, t[i].cap, 0), 0);
		assert_int_equal(ab_backoff_ms(t[i].attempt, t[i].base, t[i].cap,
			(uint64_t)t[i].ceiling), t[i].ceiling);
		assert_int_equal(ab_backoff_ms(t[i].attempt, t[i].base, t[i].cap, UINT64_MAX),
			(int64_t)(UINT64_MAX % ((uint64_t)t[i].ceiling + 1)));
		for (uint64_t r = 1; r < 5000; r += 97) {
			int64_t v = ab_backoff_ms(t[i].attempt, t[i].base, t[i].cap,
				r * 0x9e3779b97f4a7c15ULL);
			assert_true(v >= 0 && v <= t[i].ceiling);
		}
	}
}

static void test_retry_after_honoured(void **state)
{
	(void)state;
	/* The peer's Retry-After wins when it is later than the jitter. */
	assert_int_equal(ab_retry_at(1000, 1, 30, 1000, 60000, 999), 1000 + 30000);
	/* Jitter wins when later. */
	assert_int_equal(ab_retry_at(1000, 5, 1, 1000, 60000, 15000), 1000 + 15000);
	assert_int_equal(ab_retry_at(1000, 1, 0, 1000, 60000, 0), 1000);
}

/* ------------------------------------------------------------ end to end */

static char *dir;

#define CONF_FMT \
	"state_dir = \"%s\";\n" \
	"plugin_dir = \"%s\";\n" \
	"dispatch = { workers = 2; backoff_base = \"10ms\"; backoff_cap = \"40ms\";\n" \
	"             max_age = \"%s\"; poll = \"20ms\"; timeout = \"5s\"; };\n" \
	"channels = (\n" \
	"  { name = \"good\"; type = \"mock\"; record = \"%s/rec\"; },\n" \
	"  { name = \"flaky\"; type = \"mock\"; script = \"retry:2\"; pause_base = \"10ms\"; pause_cap = \"40ms\"; record = \"%s/rec\"; },\n" \
	"  { name = \"gone\"; type = \"mock\"; script = \"permanent\"; record = \"%s/rec\"; },\n" \
	"  { name = \"down\"; type = \"mock\"; script = \"retry\"; record = \"%s/rec\"; }\n" \
	");\n" \
	"default = [\"good\"];\n"

/* Write text as dir/name, load it and build its runtime (fails the test
 * with the error on any problem). */
static struct ab_runtime *rt_from(const char *name, const char *text)
{
	char *path = tu_path(dir, name), *errors = NULL;
	struct ab_config *cfg;
	struct ab_runtime *rt;

	tu_write(path, text);
	cfg = ab_config_load(path, &errors);
	free(path);
	if (!cfg)
		fail_msg("config: %s", errors);
	rt = ab_runtime_build(cfg, NULL, &errors);
	if (!rt)
		fail_msg("runtime: %s", errors);
	return rt;
}

static struct ab_runtime *mkrt(const char *max_age)
{
	char text[4096];

	snprintf(text, sizeof text, CONF_FMT, dir, dir, max_age, dir, dir, dir, dir);
	return rt_from("d.conf", text);
}

static int setup(void **state)
{
	char libs[1024];

	(void)state;
	ab_log_init("test_dispatch", false, AB_LOG_ERR);
	dir = tu_tmpdir();
	snprintf(libs, sizeof libs, "%s/tests/plugins/.libs", tu_builddir());
	return tu_install_plugin(libs, "mock", dir, 0755);
}

static int teardown(void **state)
{
	(void)state;
	tu_rm_rf(dir);
	free(dir);
	return 0;
}

static struct ab_event *mkev(const char *title)
{
	struct ab_event *ev = ab_event_new();

	ab_event_set_str(ev, &ev->type, "finding.created");
	ab_event_set_str(ev, &ev->title, title);
	ev->severity = AB_SEV_HIGH;
	ev->received_at = ab_now_ms();
	ab_event_ensure_id(ev);
	return ev;
}

/* Wait (bounded) until n jobs reached a final state (done or dead). */
/* n events titled "PREFIX 0" .. "PREFIX n-1", each queued for the nch
 * channels ch, made age_ms ago. */
static void enqueue_titled(struct ab_store *st, const char *prefix, int n,
	const char *const *ch, size_t nch, int64_t age_ms)
{
	for (int i = 0; i < n; i++) {
		char t[64];
		struct ab_event *ev;

		snprintf(t, sizeof t, "%s %d", prefix, i);
		ev = mkev(t);
		assert_int_equal(ab_store_enqueue(st, ev, ch, nch, ab_now_ms() - age_ms, NULL), 0);
		ab_event_free(ev);
	}
}

static void wait_final(struct ab_store *st, int64_t n)
{
	for (int i = 0; i < 1000; i++) {
		if (ab_store_count(st, AB_JOB_DONE) + ab_store_count(st, AB_JOB_DEAD) >= n)
			return;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	fail_msg("dispatcher did not finish within 10 s");
}

struct logcount { int ok, retry, perm; };

static int count_log(const struct ab_log_entry *e, void *arg)
{
	struct logcount *c = arg;

	if (e->status == AB_OK)
		c->ok++;
	else if (e->status == AB_RETRY)
		c->retry++;
	else
		c->perm++;
	return 0;
}

static void test_end_to_end(void **state)
{
	struct ab_runtime *rt = mkrt("1h");
	char err[512], *dbpath = tu_path(dir, "e2e.db");
	struct ab_store *st = ab_store_open(dbpath, err, sizeof err);
	const char *chans[] = { "good", "flaky", "gone" };
	struct ab_dispatcher *d;
	struct logcount lc = { 0, 0, 0 };

	(void)state;
	assert_non_null(st);
	enqueue_titled(st, "event", 5, chans, 3, 0);
	d = ab_dispatch_start(dbpath, rt, err, sizeof err);
	assert_non_null(d);
	wait_final(st, 15);
	ab_dispatch_stop(d);

	assert_int_equal(ab_store_count(st, AB_JOB_DONE), 10);
	assert_int_equal(ab_store_count(st, AB_JOB_DEAD), 5);
	ab_store_list_log(st, NULL, 1000, count_log, &lc);
	assert_int_equal(lc.ok, 10);        /* 5 good + 5 flaky after 2 retries */
	assert_int_equal(lc.retry, 10);     /* flaky: 2 each */
	assert_int_equal(lc.perm, 5);       /* gone */
	ab_store_close(st);
	ab_runtime_unref(rt);
	free(dbpath);
}

/* ABI 1.5: the mock takes the payload as text.  An event's job reaches it
 * as the stored text, byte for byte the event's canonical JSON, with no
 * tree; a payload with the token "recipients" anywhere (here a title) is
 * parsed, as it could be a member the host takes out, and the tree's text
 * is the same JSON. */
static void test_payload_text(void **state)
{
	char text[4096], err[512], *dbpath = tu_path(dir, "text.db"), *pf = tu_path(dir, "pl");
	struct ab_store *st = ab_store_open(dbpath, err, sizeof err);
	const char *chans[] = { "t" };
	struct ab_event *ev[2] = { mkev("plain \"quoted\" \u00e9\t"),
		mkev("recipients") };
	struct ab_buf want[2] = { AB_BUF_INIT(1 << 16), AB_BUF_INIT(1 << 16) };
	struct ab_dispatcher *d;
	struct ab_runtime *rt;
	char line[8192];
	int seen = 0;
	FILE *f;

	(void)state;
	snprintf(text, sizeof text, "state_dir = \"%s\";\nplugin_dir = \"%s\";\n"
		"dispatch = { workers = 1; poll = \"20ms\"; };\n"
		"channels = ( { name = \"t\"; type = \"mock\"; payload = \"%s\"; } );\n"
		"default = [\"t\"];\n", dir, dir, pf);
	rt = rt_from("text.conf", text);
	assert_non_null(st);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ab_event_write_json(ev[i], &want[i]), 0);
		assert_int_equal(ab_store_enqueue(st, ev[i], chans, 1, ab_now_ms(), NULL), 0);
	}
	d = ab_dispatch_start(dbpath, rt, err, sizeof err);
	assert_non_null(d);
	wait_final(st, 2);
	ab_dispatch_stop(d);
	assert_non_null(f = fopen(pf, "r"));
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		for (int i = 0; i < 2; i++) {
			char head[128];

			snprintf(head, sizeof head, "%s %s ", ev[i]->id, i == 0 ? "text" : "tree");
			if (strncmp(line, ev[i]->id, strlen(ev[i]->id)) != 0)
				continue;
			assert_memory_equal(line, head, strlen(head));
			assert_string_equal(line + strlen(head), ab_buf_cstr(&want[i]));
			seen |= 1 << i;
		}
	}
	fclose(f);
	assert_int_equal(seen, 3);
	for (int i = 0; i < 2; i++) {
		ab_buf_free(&want[i]);
		ab_event_free(ev[i]);
	}
	ab_store_close(st);
	ab_runtime_unref(rt);
	free(dbpath);
	free(pf);
}

static void test_max_age_dead_letters(void **state)
{
	struct ab_runtime *rt = mkrt("1s");
	char err[512], *dbpath = tu_path(dir, "age.db");
	struct ab_store *st = ab_store_open(dbpath, err, sizeof err);
	const char *chans[] = { "down" };
	struct ab_dispatcher *d;
	struct ab_event *ev = mkev("never delivered");

	(void)state;
	assert_int_equal(ab_store_enqueue(st, ev, chans, 1, ab_now_ms(), NULL), 0);
	d = ab_dispatch_start(dbpath, rt, err, sizeof err);
	assert_non_null(d);
	wait_final(st, 1);
	ab_dispatch_stop(d);
	assert_int_equal(ab_store_count(st, AB_JOB_DEAD), 1);
	assert_int_equal(ab_store_count(st, AB_JOB_DONE), 0);
	/* An operator replays it: it is queued again (and fails again). */
	assert_int_equal(ab_store_retry_dead(st, ab_now_ms()), 1);
	assert_int_equal(ab_store_count(st, AB_JOB_QUEUED), 1);
	ab_event_free(ev);
	ab_store_close(st);
	ab_runtime_unref(rt);
	free(dbpath);
}

/* ------------------------------------------------------------ a refused result */

#define FAULT_FMT \
	"state_dir = \"%s\";\n" \
	"plugin_dir = \"%s\";\n" \
	"dispatch = { workers = 2; poll = \"20ms\"; timeout = \"60s\"; };\n" \
	"channels = ( { name = \"good\"; type = \"mock\"; record = \"%s/fault.rec\"; } );\n"

/* Lines of path that contain needle. */
static int count_lines(const char *path, const char *needle)
{
	char line[8192];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* The store refuses the results (a full disk): the worker keeps them and
 * writes them within a second of the store taking writes again, far
 * sooner than the 60 s leases; each job was sent once. */
static void test_result_commit_fails(void **state)
{
	char text[4096], err[512], *dbpath = tu_path(dir, "fault.db"),
		*rec = tu_path(dir, "fault.rec");
	struct ab_runtime *rt;
	struct ab_store *st = ab_store_open(dbpath, err, sizeof err);
	const char *good[] = { "good" };
	struct ab_dispatcher *d;
	struct logcount lc = { 0, 0, 0 };
	int64_t t_ok;

	(void)state;
	assert_non_null(st);
	snprintf(text, sizeof text, FAULT_FMT, dir, dir, dir);
	rt = rt_from("fault.conf", text);
	enqueue_titled(st, "fault", 5, good, 1, 0);
	ab_store_set_fault(AB_STORE_FAULT_FINISH | AB_STORE_FAULT_RELEASE, -1);
	d = ab_dispatch_start(dbpath, rt, err, sizeof err);
	assert_non_null(d);
	{
		struct timespec ts = { 1, 500 * 1000000L };
		nanosleep(&ts, NULL);
	}
	/* Sent (a worker whose first result was refused sends no more of its
	 * batch), none recorded, none released: still claimed, or never
	 * claimed while both workers wait for the store. */
	assert_true(count_lines(rec, " ") >= 1);
	assert_true(ab_store_count(st, AB_JOB_RUNNING) >= 1);
	assert_int_equal(ab_store_count(st, AB_JOB_DONE), 0);
	ab_store_set_fault(0, 0);                       /* the disk has room again */
	t_ok = ab_mono_ms();
	wait_final(st, 5);
	t_ok = ab_mono_ms() - t_ok;
	print_message("# results recorded %lld ms after the store recovered\n", (long long)t_ok);
	ab_dispatch_stop(d);
	assert_true(t_ok < 30000);                      /* not the 60 s leases */
	assert_int_equal(ab_store_count(st, AB_JOB_DONE), 5);
	assert_int_equal(count_lines(rec, " "), 5);          /* nobody sent one twice */
	ab_store_list_log(st, NULL, 1000, count_log, &lc);
	assert_int_equal(lc.ok, 5);
	assert_int_equal(lc.retry + lc.perm, 0);
	/* The first results fail once, then go through. */
	ab_store_set_fault(AB_STORE_FAULT_FINISH, 1);
	{
		struct ab_event *ev = mkev("fault once");
		assert_int_equal(ab_store_enqueue(st, ev, good, 1, ab_now_ms(), NULL), 0);
		ab_event_free(ev);
	}
	d = ab_dispatch_start(dbpath, rt, err, sizeof err);
	assert_non_null(d);
	wait_final(st, 6);
	ab_dispatch_stop(d);
	assert_int_equal(ab_store_count(st, AB_JOB_DONE), 6);
	assert_int_equal(count_lines(rec, " "), 6);
	ab_store_set_fault(0, 0);
	ab_store_close(st);
	ab_runtime_unref(rt);
	free(rec);
	free(dbpath);
}

/* ------------------------------------------------------------ enabled = false */

#define HELD_FMT \
	"state_dir = \"%s\";\n" \
	"plugin_dir = \"%s\";\n" \
	"dispatch = { workers = 2; poll = \"20ms\"; timeout = \"5s\"; };\n" \
	"channels = (\n" \
	"  { name = \"good\"; type = \"mock\"; },\n" \
	"  { name = \"off\"; type = \"mock\"; record = \"%s/held.rec\"; enabled = %s; }\n" \
	");\n"

static struct ab_runtime *mkrt_held(bool enabled)
{
	char text[4096];

	snprintf(text, sizeof text, HELD_FMT, dir, dir, dir, enabled ? "true" : "false");
	return rt_from("held.conf", text);
}

struct held_count { int queued_unattempted, other; };

static int count_held(const struct ab_job *j, void *arg)
{
	struct held_count *c = arg;

	if (!strcmp(j->channel, "off") && j->state == AB_JOB_QUEUED && j->attempts == 0)
		c->queued_unattempted++;
	else if (!strcmp(j->channel, "off"))
		c->other++;
	return 0;
}

struct chan_log { const char *channel; int n, first_attempts; };

static int count_chan_log(const struct ab_log_entry *e, void *arg)
{
	struct chan_log *c = arg;

	if (!strcmp(e->channel, c->channel)) {
		c->n++;
		c->first_attempts += e->attempt == 1;
	}
	return 0;
}

/* The store side: a held channel's due jobs are invisible to claim and
 * next_due, and come back when the hold is lifted. */
static void test_store_held(void **state)
{
	char err[512], *dbpath = tu_path(dir, "held-store.db");
	struct ab_store *st = ab_store_open(dbpath, err, sizeof err);
	const char *off[] = { "off" }, *two[] = { "off", "x" };
	struct ab_event *ev = mkev("held in the store");
	struct ab_job job;

	(void)state;
	assert_non_null(st);
	assert_int_equal(ab_store_enqueue(st, ev, off, 1, 1000, NULL), 0);
	assert_int_equal(ab_store_set_held(st, two, 2), 0);
	assert_int_equal(ab_store_next_due(st), -1);
	assert_int_equal(ab_store_claim(st, 5000, 1000, &job), 0);
	assert_int_equal(ab_store_count(st, AB_JOB_QUEUED), 1);
	assert_int_equal(ab_store_set_held(st, NULL, 0), 0);
	assert_int_equal(ab_store_next_due(st), 1000);
	assert_int_equal(ab_store_claim(st, 5000, 1000, &job), 1);
	assert_string_equal(job.channel, "off");
	assert_int_equal(job.attempts, 1);
	ab_job_clear(&job);
	ab_event_free(ev);
	ab_store_close(st);
	free(dbpath);
}

/* Jobs queued for a channel that is disabled in the running snapshot are
 * held - not attempted, not dead-lettered, no plugin instance - while the
 * other channels deliver; a snapshot that enables it again (reload)
 * delivers them, each on its first attempt. */
static void test_disabled_jobs_held(void **state)
{
	struct ab_runtime *rt = mkrt_held(false), *rt2;
	char err[512], *dbpath = tu_path(dir, "held.db"), *rec = tu_path(dir, "held.rec");
	struct ab_store *st = ab_store_open(dbpath, err, sizeof err);
	const char *off[] = { "off" }, *good[] = { "good" };
	struct held_count hc = { 0, 0 };
	struct chan_log lc = { "off", 0, 0 };
	struct ab_dispatcher *d;

	(void)state;
	assert_non_null(st);
	assert_null(ab_runtime_channel(rt, "off"));      /* never created */
	assert_non_null(ab_runtime_channel(rt, "good"));
	/* held jobs first: unheld, they would be claimed before the good one */
	enqueue_titled(st, "held", 3, off, 1, 1000);
	{
		struct ab_event *ev = mkev("goes now");
		assert_int_equal(ab_store_enqueue(st, ev, good, 1, ab_now_ms(), NULL), 0);
		ab_event_free(ev);
	}
	d = ab_dispatch_start(dbpath, rt, err, sizeof err);
	assert_non_null(d);
	wait_final(st, 1);
	assert_int_equal(ab_store_count(st, AB_JOB_DONE), 1);
	assert_int_equal(ab_store_count(st, AB_JOB_DEAD), 0);
	assert_int_equal(ab_store_count(st, AB_JOB_RUNNING), 0);
	ab_store_list_jobs(st, 0, count_held, &hc);
	assert_int_equal(hc.queued_unattempted, 3);
	assert_int_equal(hc.other, 0);
	ab_store_list_log(st, "off", 100, count_chan_log, &lc);
	assert_int_equal(lc.n, 0);
	assert_int_equal(access(rec, F_OK), -1);          /* the plugin never ran */

	/* reload with the channel enabled: the held jobs go */
	rt2 = mkrt_held(true);
	ab_dispatch_set_runtime(d, rt2);
	ab_runtime_unref(rt2);
	wait_final(st, 4);
	ab_dispatch_stop(d);
	assert_int_equal(ab_store_count(st, AB_JOB_DONE), 4);
	assert_int_equal(ab_store_count(st, AB_JOB_DEAD), 0);
	ab_store_list_log(st, "off", 100, count_chan_log, &lc);
	assert_int_equal(lc.n, 3);
	assert_int_equal(lc.first_attempts, 3);
	assert_int_equal(access(rec, F_OK), 0);
	ab_store_close(st);
	ab_runtime_unref(rt);
	free(dbpath);
	free(rec);
}

/* ------------------------------------------------------------ rate limit + health */

#define RATE_FMT \
	"state_dir = \"%s\";\n" \
	"plugin_dir = \"%s\";\n" \
	"dispatch = { workers = 2; backoff_base = \"10ms\"; backoff_cap = \"20ms\";\n" \
	"             max_age = \"1h\"; poll = \"20ms\"; timeout = \"5s\"; };\n" \
	"channels = (\n" \
	"  { name = \"good\"; type = \"mock\"; },\n" \
	"  { name = \"slow\"; type = \"mock\"; rate = \"50/s\"; burst = 1; },\n" \
	"  { name = \"down\"; type = \"mock\"; script = \"retry\"; failure_threshold = 2;\n" \
	"    fallback = \"good\"; }\n" \
	");\n"

struct attempts { const char *channel; int n, over_one; };

static int count_attempts(const struct ab_log_entry *e, void *arg)
{
	struct attempts *a = arg;

	if (!strcmp(e->channel, a->channel)) {
		a->n++;
		a->over_one += e->attempt > 1;
	}
	return 0;
}

struct failing_event { int n; };

static int find_failing(const struct ab_job *j, void *arg)
{
	struct failing_event *f = arg;

	if (!strcmp(j->channel, "good") && strstr(j->payload, "\"channel.failing\"") &&
	    strstr(j->payload, "\"down\""))
		f->n++;
	return 0;
}

/* A burst of jobs for a rate-limited channel all go, each on its first
 * attempt (a deferral is not an attempt); a channel that keeps failing
 * turns failing after failure_threshold attempts, in the store, and its
 * fallback channel gets one channel.failing event. */
static void test_rate_and_health(void **state)
{
	char text[4096], err[512], *dbpath = tu_path(dir, "rate.db");
	struct ab_runtime *rt;
	struct ab_store *st = ab_store_open(dbpath, err, sizeof err);
	const char *slow[] = { "slow" }, *down[] = { "down" };
	struct attempts a = { "slow", 0, 0 };
	struct failing_event fe = { 0 };
	struct ab_health_row row;
	struct ab_dispatcher *d;
	int i;

	(void)state;
	assert_non_null(st);
	snprintf(text, sizeof text, RATE_FMT, dir, dir);
	rt = rt_from("rate.conf", text);
	enqueue_titled(st, "slow", 6, slow, 1, 0);
	{
		struct ab_event *ev = mkev("never delivered");
		assert_int_equal(ab_store_enqueue(st, ev, down, 1, ab_now_ms(), NULL), 0);
		ab_event_free(ev);
	}
	d = ab_dispatch_start(dbpath, rt, err, sizeof err);
	assert_non_null(d);
	/* the six slow ones and the health event for "good" */
	wait_final(st, 7);
	for (i = 0; i < 1000; i++) {
		if (ab_store_health_get(st, "down", &row) == 1 && row.state == AB_HEALTH_FAILING)
			break;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	ab_dispatch_stop(d);
	ab_store_list_log(st, "slow", 100, count_attempts, &a);
	assert_int_equal(a.n, 6);
	assert_int_equal(a.over_one, 0);
	assert_int_equal(ab_store_health_get(st, "down", &row), 1);
	assert_int_equal(row.state, AB_HEALTH_FAILING);
	assert_true(row.failures >= 2);
	assert_true(row.last_fail > 0);
	assert_int_equal(ab_store_health_get(st, "slow", &row), 1);
	assert_int_equal(row.state, AB_HEALTH_HEALTHY);
	assert_int_equal(row.failures, 0);
	assert_true(row.last_ok > 0);
	ab_store_list_jobs(st, 1u << AB_JOB_DONE, find_failing, &fe);
	assert_int_equal(fe.n, 1);
	ab_store_close(st);
	ab_runtime_unref(rt);
	free(dbpath);
}

struct health_events { int failing, recovered; };

static int find_health(const struct ab_job *j, void *arg)
{
	struct health_events *h = arg;

	if (strcmp(j->channel, "good") || !strstr(j->payload, "\"flap\""))
		return 0;
	h->failing += strstr(j->payload, "\"channel.failing\"") != NULL;
	h->recovered += strstr(j->payload, "\"channel.recovered\"") != NULL;
	return 0;
}

/* A channel whose first send of every message fails: a dozen jobs fail
 * (below failure_threshold), then their retries succeed.  Health is read
 * once per run of successes in a batch (the last stands for the run), and
 * the successes still end the count: healthy, no failures, no event for
 * the fallback channel. */
static void test_health_run_of_successes(void **state)
{
	char text[4096], err[512], *dbpath = tu_path(dir, "flap.db");
	struct ab_runtime *rt;
	struct ab_store *st = ab_store_open(dbpath, err, sizeof err);
	const char *flap[] = { "flap" };
	struct health_events he = { 0, 0 };
	int i;
	struct ab_health_row row;
	struct ab_dispatcher *d;

	(void)state;
	assert_non_null(st);
	snprintf(text, sizeof text,
		"state_dir = \"%s\";\nplugin_dir = \"%s\";\n"
		"dispatch = { workers = 1; backoff_base = \"10ms\"; backoff_cap = \"20ms\";\n"
		"  max_age = \"1h\"; poll = \"20ms\"; timeout = \"5s\"; };\n"
		"channels = ( { name = \"good\"; type = \"mock\"; },\n"
		"  { name = \"flap\"; type = \"mock\"; script = \"retry:1\"; failure_threshold = 13;\n"
		"    pause_base = \"10ms\"; pause_cap = \"20ms\"; fallback = \"good\"; } );\n",
		dir, dir);
	rt = rt_from("flap.conf", text);
	enqueue_titled(st, "flap", 12, flap, 1, 0);
	d = ab_dispatch_start(dbpath, rt, err, sizeof err);
	assert_non_null(d);
	wait_final(st, 12);
	/* the last results are recorded after the jobs are DONE (health follows
	 * the batch's commit): wait for them */
	for (i = 0; i < 500; i++) {
		if (ab_store_health_get(st, "flap", &row) == 1 && row.failures == 0 &&
		    row.last_ok > 0)
			break;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	ab_dispatch_stop(d);
	assert_int_equal(ab_store_health_get(st, "flap", &row), 1);
	assert_int_equal(row.state, AB_HEALTH_HEALTHY);
	assert_int_equal(row.failures, 0);
	assert_true(row.last_ok > 0);
	ab_store_list_jobs(st, 1u << AB_JOB_DONE, find_health, &he);
	assert_int_equal(he.failing, 0);
	assert_int_equal(he.recovered, 0);
	assert_true(row.last_fail > 0);
	ab_store_close(st);
	ab_runtime_unref(rt);
	free(dbpath);
}

/* ------------------------------------------------------------ the recorder */

static void count_call(void *arg)
{
	(*(int *)arg)++;
}

/* Results handed in two puts (two workers' batches) are committed by the
 * recorder, in order: jobs done, queued again at their retry time, dead;
 * every attempt logged; the channel's health follows the results in their
 * order (a 404 after successes: failing); one wake for the retry.  Then a
 * store that refuses results: the first put is taken and held, later puts
 * are refused with the store's reason, and once the store takes writes
 * again the held result is recorded and puts work again; a stop while it
 * refuses gives up on what it holds (the job stays running: queued again
 * at the next start). */
static void test_recorder(void **state)
{
	char text[4096], err[512], *dbpath = tu_path(dir, "rec.db");
	struct ab_store *st = ab_store_open(dbpath, err, sizeof err);
	const char *good[] = { "good" };
	struct ab_job jobs[8];
	struct ab_result res[4];
	struct ab_finish f[4];
	struct ab_recorder *rec;
	struct ab_runtime *rt;
	struct ab_health_row row;
	struct logcount lc = { 0, 0, 0 };
	int64_t now;
	int calls = 0, n, i;

	(void)state;
	assert_non_null(st);
	snprintf(text, sizeof text, "state_dir = \"%s\";\nplugin_dir = \"%s\";\n"
		"channels = ( { name = \"good\"; type = \"mock\"; failure_threshold = 5; } );\n",
		dir, dir);
	rt = rt_from("rec.conf", text);
	enqueue_titled(st, "rec", 4, good, 1, 0);
	now = ab_now_ms();
	n = ab_store_claim_batch(st, now, 60000, jobs, 8);
	assert_int_equal(n, 4);
	memset(res, 0, sizeof res);
	ab_result_set(&res[0], AB_OK, 200, "");
	ab_result_set(&res[1], AB_OK, 200, "");
	ab_result_set(&res[2], AB_RETRY, 503, "busy");
	ab_result_set(&res[3], AB_PERMANENT, 404, "no such hook");
	for (i = 0; i < 4; i++)
		f[i] = (struct ab_finish){ &jobs[i], &res[i], 5, now, i == 2 ? now + 60000 : 0,
			i == 3 };
	rec = ab_recorder_start(dbpath, count_call, &calls, err, sizeof err);
	assert_non_null(rec);
	assert_int_equal(ab_recorder_put(rec, rt, f, 2, err, sizeof err), 0);
	assert_int_equal(ab_recorder_put(rec, rt, f + 2, 2, err, sizeof err), 0);
	for (i = 0; i < 4; i++)
		ab_job_clear(&jobs[i]);                      /* the recorder has copies */
	ab_recorder_stop(rec);                            /* records what it holds */
	assert_int_equal(ab_store_count(st, AB_JOB_DONE), 2);
	assert_int_equal(ab_store_count(st, AB_JOB_QUEUED), 1);
	assert_int_equal(ab_store_count(st, AB_JOB_DEAD), 1);
	assert_int_equal(ab_store_next_due(st), now + 60000);
	ab_store_list_log(st, NULL, 100, count_log, &lc);
	assert_int_equal(lc.ok, 2);
	assert_int_equal(lc.retry, 1);
	assert_int_equal(lc.perm, 1);
	assert_int_equal(calls, 1);
	assert_int_equal(ab_store_health_get(st, "good", &row), 1);
	assert_int_equal(row.state, AB_HEALTH_FAILING);
	assert_true(row.last_ok > 0);

	/* the store refuses */
	enqueue_titled(st, "refused", 3, good, 1, 0);
	now = ab_now_ms();
	n = ab_store_claim_batch(st, now, 60000, jobs, 8);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++)
		f[i] = (struct ab_finish){ &jobs[i], &res[0], 5, now, 0, false };
	rec = ab_recorder_start(dbpath, count_call, &calls, err, sizeof err);
	assert_non_null(rec);
	ab_store_set_fault(AB_STORE_FAULT_FINISH, -1);
	assert_int_equal(ab_recorder_put(rec, rt, f, 1, err, sizeof err), 0);   /* taken */
	for (i = 0; i < 500 && ab_recorder_put(rec, rt, f + 1, 1, err, sizeof err) == 0; i++) {
		/* taken before the first commit failed: fine, held with it */
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	assert_true(i < 500);
	assert_non_null(strstr(err, "injected fault"));
	assert_int_equal(ab_store_count(st, AB_JOB_RUNNING), 3);
	ab_store_set_fault(0, 0);                         /* room again */
	for (i = 0; i < 300 && ab_store_count(st, AB_JOB_RUNNING) > 1; i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ab_store_count(st, AB_JOB_RUNNING), 1);   /* held ones recorded */
	ab_store_set_fault(AB_STORE_FAULT_FINISH, -1);
	assert_int_equal(ab_recorder_put(rec, rt, f + 2, 1, err, sizeof err), 0);
	ab_recorder_stop(rec);                            /* refused: given up, logged */
	ab_store_set_fault(0, 0);
	assert_int_equal(ab_store_count(st, AB_JOB_RUNNING), 1);
	for (i = 0; i < 3; i++)
		ab_job_clear(&jobs[i]);
	ab_store_close(st);
	ab_runtime_unref(rt);
	free(dbpath);
}

/* ------------------------------------------------------------ HTTP at once */

#define SPLIT_FMT \
	"state_dir = \"%s\";\n" \
	"plugin_dir = \"%s\";\n" \
	"dispatch = { workers = 2; backoff_base = \"10ms\"; backoff_cap = \"40ms\";\n" \
	"             max_age = \"1h\"; poll = \"20ms\"; timeout = \"5s\"; in_flight = 3; };\n" \
	"channels = (\n" \
	"  { name = \"web\"; type = \"mocksplit\"; url = \"http://127.0.0.1:%d/hook\";\n" \
	"    record = \"%s/srec\"; },\n" \
	"  { name = \"web2\"; type = \"mocksplit\"; url = \"http://127.0.0.1:%d/hook2\";\n" \
	"    record = \"%s/srec\"; rate = \"50/s\"; burst = 5; },\n" \
	"  { name = \"meta\"; type = \"mocksplit\"; url = \"http://169.254.169.254/x\";\n" \
	"    record = \"%s/srec\"; },\n" \
	"  { name = \"local\"; type = \"mocksplit\"; script = \"retry:1\";\n" \
	"    pause_base = \"10ms\"; pause_cap = \"40ms\"; record = \"%s/srec\"; },\n" \
	"  { name = \"plain\"; type = \"mock\"; script = \"retry:1\";\n" \
	"    pause_base = \"10ms\"; pause_cap = \"40ms\"; record = \"%s/srec\"; }\n" \
	");\n" \
	"default = [\"plain\"];\n"

static pid_t sink_pid;   /* stopped by sink_stop, also when a test fails */

static int sink_stop(void **state)
{
	(void)state;
	if (sink_pid > 0) {
		kill(sink_pid, SIGTERM);
		waitpid(sink_pid, NULL, 0);
	}
	sink_pid = 0;
	return 0;
}

static pid_t sink_start(const char *portf, const char *recf, const char *ctlf)
{
	char script[1024];
	const char *srcdir = getenv("srcdir");
	pid_t pid;

	snprintf(script, sizeof script, "%s/tests/lib/sink.py", srcdir && *srcdir ? srcdir : ".");
	pid = fork();
	if (pid == 0) {
		execlp("python3", "python3", script, "--port-file", portf, "--record", recf,
			"--control", ctlf, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int sink_port(const char *portf)
{
	for (int i = 0; i < 300; i++) {   /* up to 15 s for python to start */
		FILE *f = fopen(portf, "r");
		struct timespec ts = { 0, 50 * 1000000L };
		int port = 0;

		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
			if (port > 0)
				return port;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

struct by_channel { const char *channel; int ok, retry, perm; };

static int count_channel(const struct ab_log_entry *e, void *arg)
{
	struct by_channel *c = arg;

	if (strcmp(e->channel, c->channel) != 0)
		return 0;
	if (e->status == AB_OK)
		c->ok++;
	else if (e->status == AB_RETRY)
		c->retry++;
	else
		c->perm++;
	return 0;
}

/* Channels whose plugin splits send() (ABI 1.3) go out concurrently
 * through the HTTP helper, mixed in one batch with a plain send()
 * channel: every message arrives once, a refused one (cloud metadata:
 * the SSRF guard) is dead-lettered without touching the others, a
 * rate-limited one is deferred, not counted, a result decided in
 * http_prepare (no request) retries as send()'s does. */
/* How many client ports the sink's record names (its connections). */
static int distinct_ports(const char *recf)
{
	char line[16384];
	long ports[256];
	int n = 0;
	FILE *f = fopen(recf, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		const char *p = strstr(line, "\"client_port\": ");
		long port;
		int i;

		if (!p)
			continue;
		port = strtol(p + 15, NULL, 10);
		for (i = 0; i < n && ports[i] != port; i++)
			;
		if (i == n && n < 256)
			ports[n++] = port;
	}
	fclose(f);
	return n;
}

static void test_http_split(void **state)
{
	char text[4096], err[512], *dbpath = tu_path(dir, "split.db");
	char *portf = tu_path(dir, "sinkport"), *recf = tu_path(dir, "sinkrec");
	char *ctlf = tu_path(dir, "sinkctl");
	char libs[1024];
	const char *chans[] = { "web", "web2", "meta", "local", "plain" };
	struct by_channel web = { "web", 0, 0, 0 }, web2 = { "web2", 0, 0, 0 };
	struct by_channel meta = { "meta", 0, 0, 0 }, local = { "local", 0, 0, 0 };
	struct by_channel plain = { "plain", 0, 0, 0 };
	struct attempts a = { "web2", 0, 0 };
	struct ab_dispatcher *d;
	struct ab_runtime *rt;
	struct ab_store *st;
	int port, n_ports;

	(void)state;
	snprintf(libs, sizeof libs, "%s/tests/plugins/.libs", tu_builddir());
	assert_int_equal(tu_install_plugin(libs, "mocksplit", dir, 0755), 0);
	/* answers take 50 ms, so each worker's window fills up */
	assert_int_equal(tu_write(ctlf, "{\"mode\": \"slow\", \"delay\": 0.05}"), 0);
	sink_pid = sink_start(portf, recf, ctlf);
	assert_true(sink_pid > 0);
	port = sink_port(portf);
	if (port <= 0)
		fail_msg("tests/lib/sink.py did not start");
	snprintf(text, sizeof text, SPLIT_FMT, dir, dir, port, dir, port, dir, dir, dir, dir);
	rt = rt_from("split.conf", text);
	st = ab_store_open(dbpath, err, sizeof err);
	assert_non_null(st);
	enqueue_titled(st, "split", 40, chans, 5, 0);
	d = ab_dispatch_start(dbpath, rt, err, sizeof err);
	assert_non_null(d);
	wait_final(st, 200);
	ab_dispatch_stop(d);
	sink_stop(NULL);

	assert_int_equal(ab_store_count(st, AB_JOB_DONE), 160);
	assert_int_equal(ab_store_count(st, AB_JOB_DEAD), 40);
	ab_store_list_log(st, NULL, 1000, count_channel, &web);
	ab_store_list_log(st, NULL, 1000, count_channel, &web2);
	ab_store_list_log(st, NULL, 1000, count_channel, &meta);
	ab_store_list_log(st, NULL, 1000, count_channel, &local);
	ab_store_list_log(st, NULL, 1000, count_channel, &plain);
	assert_int_equal(web.ok, 40);
	assert_int_equal(web.retry + web.perm, 0);
	assert_int_equal(web2.ok, 40);
	assert_int_equal(web2.retry + web2.perm, 0);
	assert_int_equal(meta.perm, 40);
	assert_int_equal(meta.ok + meta.retry, 0);
	assert_int_equal(local.ok, 40);
	assert_int_equal(local.retry, 40);
	assert_int_equal(plain.ok, 40);
	assert_int_equal(plain.retry, 40);
	ab_store_list_log(st, "web2", 100, count_attempts, &a);
	assert_int_equal(a.n, 40);
	assert_int_equal(a.over_one, 0);          /* deferrals are not attempts */
	/* each message reached the sink once, on its channel's URL */
	assert_int_equal(count_lines(recf, "\"path\": \"/hook\""), 40);
	assert_int_equal(count_lines(recf, "\"path\": \"/hook2\""), 40);
	/* dispatch.in_flight = 3: each worker kept at most three requests in
	 * flight to the sink, so at most 2 x 3 connections, and used the window */
	n_ports = distinct_ports(recf);
	if (n_ports > 6 || n_ports < 3)
		fail_msg("%d connections to the sink with 2 workers x in_flight 3", n_ports);
	ab_store_close(st);
	ab_runtime_unref(rt);
	free(dbpath);
	free(portf);
	free(recf);
	free(ctlf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_retry_after_honoured),
		cmocka_unit_test(test_end_to_end),
		cmocka_unit_test(test_payload_text),
		cmocka_unit_test(test_max_age_dead_letters),
		cmocka_unit_test(test_result_commit_fails),
		cmocka_unit_test(test_store_held),
		cmocka_unit_test(test_disabled_jobs_held),
		cmocka_unit_test(test_rate_and_health),
		cmocka_unit_test(test_health_run_of_successes),
		cmocka_unit_test(test_recorder),
		cmocka_unit_test_teardown(test_http_split, sink_stop),
	};
	return cmocka_run_group_tests_name("dispatch", tests, setup, teardown);
}
