/*
 * noisedb.c - the SQL of the routing noise-control tables (schema version
 * 2 of the store, created in store.c): throttle, groups, items, counts,
 * digests, reminders.  route/noise.c holds the logic and calls these.
 *
 * Public: ab_noisedb_throttle_get, ab_noisedb_throttle_suppress,
 *         ab_noisedb_throttle_open, ab_noisedb_group_find,
 *         ab_noisedb_group_get, ab_noisedb_group_clear, ab_noisedb_group_new,
 *         ab_noisedb_group_reopen, ab_noisedb_group_join,
 *         ab_noisedb_group_flushed, ab_noisedb_groups_due,
 *         ab_noisedb_groups_prune, ab_noisedb_item_add, ab_noisedb_count_inc,
 *         ab_noisedb_scope_counts, ab_noisedb_scope_items,
 *         ab_noisedb_scope_clear, ab_noisedb_digest_get, ab_noisedb_digest_new,
 *         ab_noisedb_digest_advance, ab_noisedb_reminder_add,
 *         ab_noisedb_reminders_due, ab_noisedb_reminder_clear,
 *         ab_noisedb_reminder_done, ab_noisedb_next_due.
 * Diagnostics: -1 returns leave "noise: WHAT: sqlite message" (or "noise:
 *         out of memory") for ab_store_errmsg().
 *
 * All SQL is fixed text with bound parameters, prepared once per
 * connection (the store's statement cache).  Nothing here opens or ends a
 * transaction: the caller's batch (ab_store_begin) holds the statements of
 * one ingest or one flush together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/noisedb.h"
#include "store/store_int.h"

enum {
	NZ_THR_GET,
	NZ_THR_SUPPRESS,
	NZ_THR_OPEN,
	NZ_GROUP_FIND,
	NZ_GROUP_GET,
	NZ_GROUP_NEW,
	NZ_GROUP_REOPEN,
	NZ_GROUP_JOIN,
	NZ_GROUP_FLUSHED,
	NZ_GROUPS_DUE,
	NZ_GROUPS_PRUNE,
	NZ_ITEM_ADD,
	NZ_ITEM_COUNT,
	NZ_ITEM_CAP,
	NZ_COUNT_INC,
	NZ_SCOPE_COUNTS,
	NZ_SCOPE_ITEMS,
	NZ_SCOPE_CLEAR_ITEMS,
	NZ_SCOPE_CLEAR_COUNTS,
	NZ_DIGEST_GET,
	NZ_DIGEST_NEW,
	NZ_DIGEST_ADVANCE,
	NZ_REMIND_ADD,
	NZ_REMIND_DUE,
	NZ_REMIND_DONE,
	NZ_NEXT_DUE,
	NZ_COUNT
};
_Static_assert(NZ_COUNT <= AB_STORE_NOISE_STMTS, "raise AB_STORE_NOISE_STMTS");

static const char *const nz_sql[NZ_COUNT] = {
	[NZ_THR_GET] = "SELECT window_end, suppressed FROM throttle WHERE rule = ?1 AND key = ?2",
	[NZ_THR_SUPPRESS] = "UPDATE throttle SET suppressed = suppressed + 1 WHERE rule = ?1 AND "
		"key = ?2",
	[NZ_THR_OPEN] = "INSERT INTO throttle(rule, key, window_end, suppressed) "
		"VALUES(?1, ?2, ?3, 0) ON CONFLICT(rule, key) DO UPDATE SET window_end = ?3, "
		"suppressed = 0",
	[NZ_GROUP_FIND] = "SELECT id, due_at, last_flush, count FROM groups WHERE rule = ?1 AND "
		"key = ?2",
	[NZ_GROUP_GET] = "SELECT rule, key, group_by, channels, first_at, last_at, count, due_at, "
		"last_flush FROM groups WHERE id = ?1",
	[NZ_GROUP_NEW] = "INSERT INTO groups(rule, key, group_by, channels, first_at, last_at, "
		"due_at, last_flush, count) VALUES(?1, ?2, ?3, ?4, ?5, ?5, ?6, 0, 0)",
	[NZ_GROUP_REOPEN] = "UPDATE groups SET due_at = ?2, first_at = ?3 WHERE id = ?1",
	[NZ_GROUP_JOIN] = "UPDATE groups SET count = count + 1, last_at = ?2, channels = ?3 "
		"WHERE id = ?1",
	[NZ_GROUP_FLUSHED] = "UPDATE groups SET due_at = NULL, count = 0, last_flush = ?2 WHERE "
		"id = ?1",
	[NZ_GROUPS_DUE] = "SELECT id FROM groups WHERE due_at IS NOT NULL AND due_at <= ?1 "
		"ORDER BY due_at LIMIT ?2",
	[NZ_GROUPS_PRUNE] = "DELETE FROM groups WHERE due_at IS NULL AND last_flush < ?1",
	[NZ_ITEM_ADD] = "INSERT INTO items(scope, severity, at, json) VALUES(?1, ?2, ?3, ?4)",
	[NZ_ITEM_COUNT] = "SELECT COUNT(*) FROM items WHERE scope = ?1",
	[NZ_ITEM_CAP] = "DELETE FROM items WHERE seq = (SELECT seq FROM items WHERE "
		"scope = ?1 ORDER BY severity ASC, seq DESC LIMIT 1)",
	[NZ_COUNT_INC] = "INSERT INTO counts(scope, dim, name, n) VALUES(?1, ?2, ?3, 1) "
		"ON CONFLICT(scope, dim, name) DO UPDATE SET n = n + 1",
	[NZ_SCOPE_COUNTS] = "SELECT dim, name, n FROM counts WHERE scope = ?1 "
		"ORDER BY dim, n DESC, name",
	[NZ_SCOPE_ITEMS] = "SELECT json FROM items WHERE scope = ?1 "
		"ORDER BY severity DESC, seq ASC LIMIT ?2",
	[NZ_SCOPE_CLEAR_ITEMS] = "DELETE FROM items WHERE scope = ?1",
	[NZ_SCOPE_CLEAR_COUNTS] = "DELETE FROM counts WHERE scope = ?1",
	[NZ_DIGEST_GET] = "SELECT period_start, next_at FROM digests WHERE rule = ?1",
	[NZ_DIGEST_NEW] = "INSERT INTO digests(rule, period_start, next_at) VALUES(?1, ?2, ?3)",
	[NZ_DIGEST_ADVANCE] = "UPDATE digests SET period_start = ?2, next_at = ?3 WHERE rule = ?1",
	[NZ_REMIND_ADD] = "INSERT OR IGNORE INTO reminders(event_id, rule, offset_ms, fire_at, "
		"channels, json) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[NZ_REMIND_DUE] = "SELECT id, event_id, rule, offset_ms, fire_at, channels, json FROM "
		"reminders WHERE done = 0 AND fire_at <= ?1 ORDER BY fire_at LIMIT ?2",
	[NZ_REMIND_DONE] = "UPDATE reminders SET done = ?2 WHERE id = ?1",
	[NZ_NEXT_DUE] = "SELECT MIN(due_at) FROM groups UNION ALL SELECT MIN(next_at) "
		"FROM digests UNION ALL SELECT MIN(fire_at) FROM reminders WHERE done = 0",
};

static void nz_err(struct ab_store *s, const char *what)
{
	ab_db_errf(s->err, sizeof s->err, s->db, "noise", what);
}

static sqlite3_stmt *nz(struct ab_store *s, int which)
{
	sqlite3_stmt *st = ab_db_stmt(s->db, &s->nz[which], nz_sql[which]);

	if (!st)
		nz_err(s, "prepare");
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Bind text[, text] (either may be NULL) and run a write; 0 or -1. */
static int write_tt(struct ab_store *s, int which, const char *a, const char *b,
	const char *what)
{
	sqlite3_stmt *st = nz(s, which);

	if (!st)
		return -1;
	bind_text(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		bind_text(st, 2, b);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "noise", what);
}

/* Bind integer, integer and run a write; 0 or -1. */
static int write_ii(struct ab_store *s, int which, int64_t a, int64_t b, const char *what)
{
	sqlite3_stmt *st = nz(s, which);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "noise", what);
}

/* Step a query whose first row (if any) the caller reads: SQLITE_ROW,
 * SQLITE_DONE, or -1 with the error set (the statement is reset). */
static int first_row(struct ab_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	nz_err(s, what);
	sqlite3_reset(st);
	return -1;
}

static char *col_dup(sqlite3_stmt *st, int col, bool *nomem)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	char *d;

	if (!t)
		return NULL;
	d = strdup((const char *)t);
	if (!d)
		*nomem = true;
	return d;
}

/* ------------------------------------------------------------------ throttle */

int ab_noisedb_throttle_get(struct ab_store *s, const char *rule, const char *key,
	int64_t *window_end, int64_t *suppressed)
{
	sqlite3_stmt *st = nz(s, NZ_THR_GET);
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, rule);
	bind_text(st, 2, key);
	if ((rc = first_row(s, st, "throttle")) < 0)
		return -1;
	if (rc == SQLITE_ROW) {
		*window_end = sqlite3_column_int64(st, 0);
		*suppressed = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW;
}

int ab_noisedb_throttle_suppress(struct ab_store *s, const char *rule, const char *key)
{
	return write_tt(s, NZ_THR_SUPPRESS, rule, key, "throttle");
}

int ab_noisedb_throttle_open(struct ab_store *s, const char *rule, const char *key,
	int64_t window_end)
{
	sqlite3_stmt *st = nz(s, NZ_THR_OPEN);

	if (!st)
		return -1;
	bind_text(st, 1, rule);
	bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, window_end);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "noise", "throttle");
}

/* ------------------------------------------------------------------ groups */

int ab_noisedb_group_find(struct ab_store *s, const char *rule, const char *key,
	struct ab_noise_group *g)
{
	sqlite3_stmt *st = nz(s, NZ_GROUP_FIND);
	int rc;

	memset(g, 0, sizeof *g);
	g->id = -1;
	if (!st)
		return -1;
	bind_text(st, 1, rule);
	bind_text(st, 2, key);
	if ((rc = first_row(s, st, "group")) < 0)
		return -1;
	if (rc == SQLITE_ROW) {
		g->id = sqlite3_column_int64(st, 0);
		g->has_due = sqlite3_column_type(st, 1) != SQLITE_NULL;
		g->due_at = sqlite3_column_int64(st, 1);
		g->last_flush = sqlite3_column_int64(st, 2);
		g->count = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW;
}

int ab_noisedb_group_get(struct ab_store *s, int64_t id, struct ab_noise_group *g)
{
	sqlite3_stmt *st = nz(s, NZ_GROUP_GET);
	bool nomem = false;
	int rc;

	memset(g, 0, sizeof *g);
	g->id = id;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = first_row(s, st, "group")) < 0)
		return -1;
	if (rc == SQLITE_ROW) {
		g->rule = col_dup(st, 0, &nomem);
		g->key = col_dup(st, 1, &nomem);
		g->group_by = col_dup(st, 2, &nomem);
		g->channels = col_dup(st, 3, &nomem);
		g->first_at = sqlite3_column_int64(st, 4);
		g->last_at = sqlite3_column_int64(st, 5);
		g->count = sqlite3_column_int64(st, 6);
		g->has_due = sqlite3_column_type(st, 7) != SQLITE_NULL;
		g->due_at = sqlite3_column_int64(st, 7);
		g->last_flush = sqlite3_column_int64(st, 8);
	}
	sqlite3_reset(st);
	if (nomem) {
		ab_noisedb_group_clear(g);
		snprintf(s->err, sizeof s->err, "noise: out of memory");
		return -1;
	}
	return rc == SQLITE_ROW;
}

void ab_noisedb_group_clear(struct ab_noise_group *g)
{
	free(g->rule);
	free(g->key);
	free(g->group_by);
	free(g->channels);
	g->rule = g->key = g->group_by = g->channels = NULL;
}

int64_t ab_noisedb_group_new(struct ab_store *s, const char *rule, const char *key,
	const char *group_by, const char *channels, int64_t now, int64_t due_at)
{
	sqlite3_stmt *st = nz(s, NZ_GROUP_NEW);

	if (!st)
		return -1;
	bind_text(st, 1, rule);
	bind_text(st, 2, key);
	bind_text(st, 3, group_by);
	bind_text(st, 4, channels);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, due_at);
	if (ab_db_run(s->db, st, s->err, sizeof s->err, "noise", "group") < 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

int ab_noisedb_group_reopen(struct ab_store *s, int64_t id, int64_t due_at, int64_t first_at)
{
	sqlite3_stmt *st = nz(s, NZ_GROUP_REOPEN);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, due_at);
	sqlite3_bind_int64(st, 3, first_at);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "noise", "group");
}

int ab_noisedb_group_join(struct ab_store *s, int64_t id, int64_t now, const char *channels)
{
	sqlite3_stmt *st = nz(s, NZ_GROUP_JOIN);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	bind_text(st, 3, channels);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "noise", "group");
}

int ab_noisedb_group_flushed(struct ab_store *s, int64_t id, int64_t now)
{
	return write_ii(s, NZ_GROUP_FLUSHED, id, now, "group flush");
}

int ab_noisedb_groups_due(struct ab_store *s, int64_t now, int64_t *ids, int max)
{
	sqlite3_stmt *st = nz(s, NZ_GROUPS_DUE);
	int n = 0, rc = SQLITE_DONE;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	if (n < max && rc != SQLITE_DONE) {
		nz_err(s, "groups due");
		n = -1;
	}
	sqlite3_reset(st);
	return n;
}

int ab_noisedb_groups_prune(struct ab_store *s, int64_t cutoff)
{
	sqlite3_stmt *st = nz(s, NZ_GROUPS_PRUNE);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, cutoff);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "noise", "prune");
}

/* ------------------------------------------------------------------ items and counts */

int ab_noisedb_item_add(struct ab_store *s, const char *scope, int severity, int64_t at,
	const char *json, int cap)
{
	sqlite3_stmt *st = nz(s, NZ_ITEM_ADD);
	int64_t n = 0;
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, scope);
	sqlite3_bind_int64(st, 2, severity);
	sqlite3_bind_int64(st, 3, at);
	bind_text(st, 4, json);
	if (ab_db_run(s->db, st, s->err, sizeof s->err, "noise", "item") < 0)
		return -1;
	if (!(st = nz(s, NZ_ITEM_COUNT)))
		return -1;
	bind_text(st, 1, scope);
	if ((rc = first_row(s, st, "item count")) < 0)
		return -1;
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (n <= cap)
		return 0;
	return write_tt(s, NZ_ITEM_CAP, scope, NULL, "item cap");
}

int ab_noisedb_count_inc(struct ab_store *s, const char *scope, const char *dim,
	const char *name)
{
	sqlite3_stmt *st = nz(s, NZ_COUNT_INC);

	if (!st)
		return -1;
	bind_text(st, 1, scope);
	bind_text(st, 2, dim);
	bind_text(st, 3, name);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "noise", "count");
}

int ab_noisedb_scope_counts(struct ab_store *s, const char *scope, ab_noisedb_count_cb cb,
	void *arg)
{
	sqlite3_stmt *st = nz(s, NZ_SCOPE_COUNTS);
	int rc, stop = 0;

	if (!st)
		return -1;
	bind_text(st, 1, scope);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *dim = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (dim && name)
			stop = cb(dim, name, sqlite3_column_int64(st, 2), arg);
	}
	if (!stop && rc != SQLITE_DONE) {
		nz_err(s, "counts");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int ab_noisedb_scope_items(struct ab_store *s, const char *scope, int limit,
	ab_noisedb_item_cb cb, void *arg)
{
	sqlite3_stmt *st = nz(s, NZ_SCOPE_ITEMS);
	int rc, stop = 0;

	if (!st)
		return -1;
	bind_text(st, 1, scope);
	sqlite3_bind_int64(st, 2, limit);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (t)
			stop = cb(t, arg);
	}
	if (!stop && rc != SQLITE_DONE) {
		nz_err(s, "items");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int ab_noisedb_scope_clear(struct ab_store *s, const char *scope)
{
	if (write_tt(s, NZ_SCOPE_CLEAR_ITEMS, scope, NULL, "clear") < 0)
		return -1;
	return write_tt(s, NZ_SCOPE_CLEAR_COUNTS, scope, NULL, "clear");
}

/* ------------------------------------------------------------------ digests */

int ab_noisedb_digest_get(struct ab_store *s, const char *rule, int64_t *period_start,
	int64_t *next_at)
{
	sqlite3_stmt *st = nz(s, NZ_DIGEST_GET);
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, rule);
	if ((rc = first_row(s, st, "digest")) < 0)
		return -1;
	if (rc == SQLITE_ROW) {
		*period_start = sqlite3_column_int64(st, 0);
		*next_at = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW;
}

static int digest_write(struct ab_store *s, int which, const char *rule, int64_t period_start,
	int64_t next_at, const char *what)
{
	sqlite3_stmt *st = nz(s, which);

	if (!st)
		return -1;
	bind_text(st, 1, rule);
	sqlite3_bind_int64(st, 2, period_start);
	sqlite3_bind_int64(st, 3, next_at);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "noise", what);
}

int ab_noisedb_digest_new(struct ab_store *s, const char *rule, int64_t period_start,
	int64_t next_at)
{
	return digest_write(s, NZ_DIGEST_NEW, rule, period_start, next_at, "digest");
}

int ab_noisedb_digest_advance(struct ab_store *s, const char *rule, int64_t period_start,
	int64_t next_at)
{
	return digest_write(s, NZ_DIGEST_ADVANCE, rule, period_start, next_at, "digest flush");
}

/* ------------------------------------------------------------------ reminders */

int ab_noisedb_reminder_add(struct ab_store *s, const char *event_id, const char *rule,
	int64_t offset_ms, int64_t fire_at, const char *channels, const char *json)
{
	sqlite3_stmt *st = nz(s, NZ_REMIND_ADD);

	if (!st)
		return -1;
	bind_text(st, 1, event_id);
	bind_text(st, 2, rule);
	sqlite3_bind_int64(st, 3, offset_ms);
	sqlite3_bind_int64(st, 4, fire_at);
	bind_text(st, 5, channels);
	bind_text(st, 6, json);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "noise", "reminder");
}

void ab_noisedb_reminder_clear(struct ab_noise_reminder *r)
{
	free(r->event_id);
	free(r->rule);
	free(r->channels);
	free(r->json);
	memset(r, 0, sizeof *r);
}

int ab_noisedb_reminders_due(struct ab_store *s, int64_t now, struct ab_noise_reminder *out,
	int max)
{
	sqlite3_stmt *st = nz(s, NZ_REMIND_DUE);
	bool nomem = false;
	int n = 0, rc = SQLITE_DONE;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max);
	while (n < max && !nomem && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ab_noise_reminder *r = &out[n++];

		memset(r, 0, sizeof *r);
		r->id = sqlite3_column_int64(st, 0);
		r->event_id = col_dup(st, 1, &nomem);
		r->rule = col_dup(st, 2, &nomem);
		r->offset_ms = sqlite3_column_int64(st, 3);
		r->fire_at = sqlite3_column_int64(st, 4);
		r->channels = col_dup(st, 5, &nomem);
		r->json = col_dup(st, 6, &nomem);
	}
	if (nomem || (n < max && rc != SQLITE_DONE)) {
		if (nomem)
			snprintf(s->err, sizeof s->err, "noise: out of memory");
		else
			nz_err(s, "reminders due");
		for (int i = 0; i < n; i++)
			ab_noisedb_reminder_clear(&out[i]);
		n = -1;
	}
	sqlite3_reset(st);
	return n;
}

int ab_noisedb_reminder_done(struct ab_store *s, int64_t id, int done)
{
	return write_ii(s, NZ_REMIND_DONE, id, done, "reminder");
}

int64_t ab_noisedb_next_due(struct ab_store *s)
{
	sqlite3_stmt *st = nz(s, NZ_NEXT_DUE);
	int64_t best = -1;

	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			continue;
		if (best < 0 || sqlite3_column_int64(st, 0) < best)
			best = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return best;
}
