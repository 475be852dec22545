/*
 * test_noisedb.c - unit tests for the noise tables' store calls
 * (src/store/noisedb.c): throttle windows, groups (find, new, join,
 * flushed, reopen, due, prune), items with their cap and counts per
 * scope, digests, reminders (add once, due, done), the earliest due time,
 * and that the calls join an open batch (rolled back with it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/noisedb.h"
#include "store/store.h"

struct fixture {
	char dir[64], path[128];
	struct ab_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[512];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/ab_noisedb_XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
	f->s = ab_store_open(f->path, err, sizeof err);
	if (!f->s) {
		fprintf(stderr, "%s\n", err);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char p[160];

	ab_store_close(f->s);
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_throttle(void **state)
{
	struct fixture *f = *state;
	int64_t end = -1, sup = -1;

	assert_int_equal(ab_noisedb_throttle_get(f->s, "r", "[\"k\"]", &end, &sup), 0);
	assert_int_equal(end, -1);
	assert_int_equal(ab_noisedb_throttle_open(f->s, "r", "[\"k\"]", 5000), 0);
	assert_int_equal(ab_noisedb_throttle_suppress(f->s, "r", "[\"k\"]"), 0);
	assert_int_equal(ab_noisedb_throttle_suppress(f->s, "r", "[\"k\"]"), 0);
	assert_int_equal(ab_noisedb_throttle_get(f->s, "r", "[\"k\"]", &end, &sup), 1);
	assert_int_equal(end, 5000);
	assert_int_equal(sup, 2);
	assert_int_equal(ab_noisedb_throttle_get(f->s, "other", "[\"k\"]", &end, &sup), 0);
	/* a new window: nothing suppressed yet */
	assert_int_equal(ab_noisedb_throttle_open(f->s, "r", "[\"k\"]", 9000), 0);
	assert_int_equal(ab_noisedb_throttle_get(f->s, "r", "[\"k\"]", &end, &sup), 1);
	assert_int_equal(end, 9000);
	assert_int_equal(sup, 0);
}

static void test_groups(void **state)
{
	struct fixture *f = *state;
	struct ab_noise_group g;
	int64_t id, ids[4];

	assert_int_equal(ab_noisedb_group_find(f->s, "r", "[\"h\"]", &g), 0);
	assert_int_equal(g.id, -1);
	id = ab_noisedb_group_new(f->s, "r", "[\"h\"]", "{\"host\":\"h\"}", "[\"a\"]", 1000, 1500);
	assert_true(id > 0);
	assert_int_equal(ab_noisedb_group_join(f->s, id, 1000, "[\"a\"]"), 0);
	assert_int_equal(ab_noisedb_group_join(f->s, id, 1200, "[\"a\",\"b\"]"), 0);
	assert_int_equal(ab_noisedb_group_find(f->s, "r", "[\"h\"]", &g), 1);
	assert_int_equal(g.id, id);
	assert_true(g.has_due);
	assert_int_equal(g.due_at, 1500);
	assert_int_equal(g.count, 2);
	assert_null(g.rule);
	assert_int_equal(ab_noisedb_groups_due(f->s, 1499, ids, 4), 0);
	assert_int_equal(ab_noisedb_groups_due(f->s, 1500, ids, 4), 1);
	assert_int_equal(ids[0], id);
	assert_int_equal(ab_noisedb_group_get(f->s, id, &g), 1);
	assert_string_equal(g.rule, "r");
	assert_string_equal(g.key, "[\"h\"]");
	assert_string_equal(g.group_by, "{\"host\":\"h\"}");
	assert_string_equal(g.channels, "[\"a\",\"b\"]");
	assert_int_equal(g.first_at, 1000);
	assert_int_equal(g.last_at, 1200);
	assert_int_equal(g.count, 2);
	ab_noisedb_group_clear(&g);
	assert_int_equal(ab_noisedb_group_flushed(f->s, id, 1500), 0);
	assert_int_equal(ab_noisedb_group_find(f->s, "r", "[\"h\"]", &g), 1);
	assert_false(g.has_due);
	assert_int_equal(g.count, 0);
	assert_int_equal(g.last_flush, 1500);
	assert_int_equal(ab_noisedb_groups_due(f->s, 99999, ids, 4), 0);
	assert_int_equal(ab_noisedb_group_reopen(f->s, id, 3000, 2000), 0);
	assert_int_equal(ab_noisedb_group_get(f->s, id, &g), 1);
	assert_int_equal(g.due_at, 3000);
	assert_int_equal(g.first_at, 2000);
	ab_noisedb_group_clear(&g);
	assert_int_equal(ab_noisedb_group_get(f->s, id + 1, &g), 0);
	/* idle groups are pruned; one that waits is not */
	assert_int_equal(ab_noisedb_groups_prune(f->s, 99999), 0);
	assert_int_equal(ab_noisedb_group_find(f->s, "r", "[\"h\"]", &g), 1);
	assert_int_equal(ab_noisedb_group_flushed(f->s, id, 4000), 0);
	assert_int_equal(ab_noisedb_groups_prune(f->s, 4000), 0);
	assert_int_equal(ab_noisedb_group_find(f->s, "r", "[\"h\"]", &g), 1);
	assert_int_equal(ab_noisedb_groups_prune(f->s, 4001), 0);
	assert_int_equal(ab_noisedb_group_find(f->s, "r", "[\"h\"]", &g), 0);
}

struct seen {
	int n;
	char text[8][64];
	int64_t num[8];
};

static int on_count(const char *dim, const char *name, int64_t n, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->text[s->n], sizeof s->text[0], "%s/%s", dim, name);
		s->num[s->n++] = n;
	}
	return 0;
}

static int on_item(const char *json, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->text[s->n++], sizeof s->text[0], "%s", json);
	return 0;
}

static void test_items_and_counts(void **state)
{
	struct fixture *f = *state;
	struct seen s;

	/* cap 2: the least severe goes, the latest of equals first */
	assert_int_equal(ab_noisedb_item_add(f->s, "g:1", 1, 10, "{\"n\":1}", 2), 0);
	assert_int_equal(ab_noisedb_item_add(f->s, "g:1", 3, 11, "{\"n\":2}", 2), 0);
	assert_int_equal(ab_noisedb_item_add(f->s, "g:1", 1, 12, "{\"n\":3}", 2), 0);
	assert_int_equal(ab_noisedb_item_add(f->s, "g:1", 2, 13, "{\"n\":4}", 2), 0);
	assert_int_equal(ab_noisedb_item_add(f->s, "d:r", 0, 13, "{\"n\":5}", 2), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_noisedb_scope_items(f->s, "g:1", 10, on_item, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "{\"n\":2}");
	assert_string_equal(s.text[1], "{\"n\":4}");
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_noisedb_scope_items(f->s, "g:1", 1, on_item, &s), 0);
	assert_int_equal(s.n, 1);

	assert_int_equal(ab_noisedb_count_inc(f->s, "g:1", "severity", "high"), 0);
	assert_int_equal(ab_noisedb_count_inc(f->s, "g:1", "severity", "low"), 0);
	assert_int_equal(ab_noisedb_count_inc(f->s, "g:1", "severity", "low"), 0);
	assert_int_equal(ab_noisedb_count_inc(f->s, "g:1", "type", "x"), 0);
	assert_int_equal(ab_noisedb_count_inc(f->s, "d:r", "type", "y"), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_noisedb_scope_counts(f->s, "g:1", on_count, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.text[0], "severity/low");   /* by dim, highest first */
	assert_int_equal(s.num[0], 2);
	assert_string_equal(s.text[1], "severity/high");
	assert_string_equal(s.text[2], "type/x");

	assert_int_equal(ab_noisedb_scope_clear(f->s, "g:1"), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_noisedb_scope_items(f->s, "g:1", 10, on_item, &s), 0);
	assert_int_equal(ab_noisedb_scope_counts(f->s, "g:1", on_count, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(ab_noisedb_scope_items(f->s, "d:r", 10, on_item, &s), 0);
	assert_int_equal(ab_noisedb_scope_counts(f->s, "d:r", on_count, &s), 0);
	assert_int_equal(s.n, 2);                          /* another scope stays */
}

static void test_digests_and_next_due(void **state)
{
	struct fixture *f = *state;
	int64_t start = -1, next = -1;

	assert_int_equal(ab_noisedb_next_due(f->s), -1);
	assert_int_equal(ab_noisedb_digest_get(f->s, "r", &start, &next), 0);
	assert_int_equal(ab_noisedb_digest_new(f->s, "r", 100, 8000), 0);
	assert_int_equal(ab_noisedb_digest_new(f->s, "r", 100, 8000), -1);   /* one per rule */
	assert_non_null(strstr(ab_store_errmsg(f->s), "noise: digest"));
	assert_int_equal(ab_noisedb_digest_get(f->s, "r", &start, &next), 1);
	assert_int_equal(start, 100);
	assert_int_equal(next, 8000);
	assert_int_equal(ab_noisedb_next_due(f->s), 8000);
	assert_int_equal(ab_noisedb_digest_advance(f->s, "r", 8000, 16000), 0);
	assert_int_equal(ab_noisedb_digest_get(f->s, "r", &start, &next), 1);
	assert_int_equal(start, 8000);
	assert_int_equal(next, 16000);
	assert_true(ab_noisedb_group_new(f->s, "g", "[]", "{}", "[]", 1, 7000) > 0);
	assert_int_equal(ab_noisedb_next_due(f->s), 7000);
	assert_int_equal(ab_noisedb_reminder_add(f->s, "e1", "r", 0, 6000, "[\"a\"]", "{}"), 0);
	assert_int_equal(ab_noisedb_next_due(f->s), 6000);
}

static void test_reminders(void **state)
{
	struct fixture *f = *state;
	struct ab_noise_reminder due[4];

	assert_int_equal(ab_noisedb_reminder_add(f->s, "e1", "r", 86400000, 5000, "[\"a\"]",
		"{\"title\":\"x\"}"), 0);
	assert_int_equal(ab_noisedb_reminder_add(f->s, "e1", "r", 86400000, 5000, "[\"a\"]",
		"{}"), 0);                                 /* already scheduled: kept */
	assert_int_equal(ab_noisedb_reminder_add(f->s, "e1", "r", 0, 9000, "[\"a\"]", "{}"), 0);
	assert_int_equal(ab_noisedb_reminders_due(f->s, 4999, due, 4), 0);
	assert_int_equal(ab_noisedb_reminders_due(f->s, 9000, due, 1), 1);   /* at most max */
	ab_noisedb_reminder_clear(&due[0]);
	assert_int_equal(ab_noisedb_reminders_due(f->s, 9000, due, 4), 2);
	assert_string_equal(due[0].event_id, "e1");
	assert_string_equal(due[0].rule, "r");
	assert_int_equal(due[0].offset_ms, 86400000);
	assert_int_equal(due[0].fire_at, 5000);
	assert_string_equal(due[0].channels, "[\"a\"]");
	assert_string_equal(due[0].json, "{\"title\":\"x\"}");
	assert_int_equal(ab_noisedb_reminder_done(f->s, due[0].id, 1), 0);
	assert_int_equal(ab_noisedb_reminder_done(f->s, due[1].id, 2), 0);
	ab_noisedb_reminder_clear(&due[0]);
	ab_noisedb_reminder_clear(&due[1]);
	assert_int_equal(ab_noisedb_reminders_due(f->s, 99999, due, 4), 0);
	assert_int_equal(ab_noisedb_next_due(f->s), -1);
}

/* Inside a batch the writes join its transaction: rolled back with it. */
static void test_batch(void **state)
{
	struct fixture *f = *state;
	int64_t end, sup;

	assert_int_equal(ab_store_begin(f->s), 0);
	assert_int_equal(ab_noisedb_throttle_open(f->s, "r", "k", 5000), 0);
	assert_int_equal(ab_noisedb_throttle_get(f->s, "r", "k", &end, &sup), 1);
	ab_store_rollback(f->s);
	assert_int_equal(ab_noisedb_throttle_get(f->s, "r", "k", &end, &sup), 0);
	assert_int_equal(ab_store_begin(f->s), 0);
	assert_int_equal(ab_noisedb_throttle_open(f->s, "r", "k", 5000), 0);
	assert_int_equal(ab_store_commit(f->s), 0);
	assert_int_equal(ab_noisedb_throttle_get(f->s, "r", "k", &end, &sup), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_throttle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_items_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digests_and_next_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reminders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
	};
	return cmocka_run_group_tests_name("noisedb", tests, NULL, NULL);
}
