/*
 * test_committer.c - unit tests for the group committer (committer.c)
 * against a real SQLite store: one submission commits and is durable;
 * submissions that arrive while a batch commits form ONE next batch
 * (deterministic: the store is held locked by another connection until
 * every thread has queued); direct channels; a failed batch gives every
 * request the message and stores nothing, and the next batch works.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "config/config.h"
#include "event/event.h"
#include "store/store.h"
#include "ingest/committer.h"
#include "../harness/testutil.h"

#define THREADS 8

static char *dir, *store_path;
static struct ab_config *cfg;

static int setup(void **state)
{
	char *errors = NULL, *conf, text[1024];

	(void)state;
	dir = tu_tmpdir();
	assert_non_null(dir);
	store_path = tu_path(dir, "store.db");
	conf = tu_path(dir, "ab.conf");
	snprintf(text, sizeof text, "state_dir = \"%s\";\n"
		 "channels = ( { name = \"a\"; type = \"file\"; path = \"a.jsonl\"; },\n"
		 "             { name = \"b\"; type = \"file\"; path = \"b.jsonl\"; } );\n"
		 "default = [\"a\"];\n", dir);
	tu_write(conf, text);
	cfg = ab_config_load(conf, &errors);
	if (!cfg)
		fail_msg("config: %s", errors ? errors : "?");
	free(conf);
	free(cfg->store_path);
	cfg->store_path = strdup(store_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ab_config_free(cfg);
	tu_rm_rf(dir);
	free(dir);
	free(store_path);
	return 0;
}

static struct ab_event *event(const char *title)
{
	struct ab_event *ev = ab_event_new();

	assert_non_null(ev);
	ab_event_set_str(ev, &ev->title, title);
	ev->severity = AB_SEV_HIGH;
	return ev;
}

/* Rows in the store, read through a connection of our own. */
static int count(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_open_v2(store_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void test_one(void **state)
{
	struct ab_committer *c = ab_committer_new(store_path);
	struct ab_event *ev = event("one");
	struct ab_route_result rr;
	struct ab_committer_stats s;
	char err[512];

	(void)state;
	assert_int_equal(ab_committer_submit(c, cfg, ev, NULL, 0, &rr, err, sizeof err), 0);
	assert_int_equal(rr.n, 1);
	assert_string_equal(rr.channels[0], "a");
	assert_int_equal(count("SELECT count(*) FROM jobs WHERE channel = 'a'"), 1);
	ab_committer_stats(c, &s);
	assert_int_equal(s.submitted, 1);
	assert_int_equal(s.batches, 1);
	assert_int_equal(s.failed, 0);
	ab_event_free(ev);
	ab_committer_free(c);
}

struct worker {
	struct ab_committer *c;
	struct ab_event *ev;
	int rc;
	char err[512];
};

static void *submit(void *arg)
{
	struct worker *w = arg;

	w->rc = ab_committer_submit(w->c, cfg, w->ev, NULL, 0, NULL, w->err, sizeof w->err);
	return NULL;
}

/* The first submission commits while another connection holds the
 * database: the other seven queue meanwhile and then go as one batch. */
static void test_group(void **state)
{
	struct ab_committer *c = ab_committer_new(store_path);
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct ab_committer_stats s;
	sqlite3 *lock;
	char title[32];
	int jobs0 = count("SELECT count(*) FROM jobs");

	(void)state;
	/* the store exists (test_one); hold it so the first batch waits */
	assert_int_equal(sqlite3_open(store_path, &lock), SQLITE_OK);
	assert_int_equal(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < THREADS; i++) {
		snprintf(title, sizeof title, "group %d", i);
		w[i].c = c;
		w[i].ev = event(title);
		assert_int_equal(pthread_create(&th[i], NULL, submit, &w[i]), 0);
		if (i == 0) {   /* the first one leads and blocks in the store */
			do {
				usleep(1000);
				ab_committer_stats(c, &s);
			} while (s.batches < 1);
		}
	}
	do {   /* every other one is queued behind it */
		usleep(1000);
		ab_committer_stats(c, &s);
	} while (s.waiting < THREADS - 1);
	assert_int_equal(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (w[i].rc != 0)
			fail_msg("submission %d: %s", i, w[i].err);
		ab_event_free(w[i].ev);
	}
	ab_committer_stats(c, &s);
	assert_int_equal(s.submitted, THREADS);
	assert_int_equal(s.batches, 2);   /* the first, then the seven together */
	assert_int_equal(s.failed, 0);
	assert_int_equal(count("SELECT count(*) FROM jobs") - jobs0, THREADS);
	ab_committer_free(c);
}

static void test_direct(void **state)
{
	struct ab_committer *c = ab_committer_new(store_path);
	struct ab_event *ev = event("direct");
	const char *direct[] = { "b" };
	struct ab_route_result rr;
	char err[512], sql[160];

	(void)state;
	assert_int_equal(ab_committer_submit(c, cfg, ev, direct, 1, &rr, err, sizeof err), 0);
	assert_int_equal(rr.n, 1);
	assert_string_equal(rr.channels[0], "b");
	snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs WHERE event_id = '%s' AND channel = 'b'",
		 ev->id);
	assert_int_equal(count(sql), 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs WHERE event_id = '%s'", ev->id);
	assert_int_equal(count(sql), 1);   /* the rules (default a) were not asked */
	ab_event_free(ev);
	ab_committer_free(c);
}

/* A store that cannot be written: the message, nothing stored; then the
 * fault goes away and the next submission commits. */
static void test_failure(void **state)
{
	struct ab_committer *c;
	struct ab_event *ev = event("after the fault");
	struct ab_committer_stats s;
	char err[512], *bad = tu_path(dir, "no/such/dir/store.db");

	(void)state;
	c = ab_committer_new(bad);
	assert_int_equal(ab_committer_submit(c, cfg, ev, NULL, 0, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "no/such/dir"));
	ab_committer_stats(c, &s);
	assert_int_equal(s.failed, 1);
	ab_committer_free(c);
	free(bad);

	c = ab_committer_new(store_path);
	assert_int_equal(ab_committer_submit(c, cfg, ev, NULL, 0, NULL, err, sizeof err), 0);
	ab_event_free(ev);
	ab_committer_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_direct),
		cmocka_unit_test(test_failure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
