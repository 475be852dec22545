/*
 * prefsdb.c - the SQL of people's preferences (the prefs and prefs_gen
 * tables of the store's schema version 4, created in store.c): set, unset,
 * and the snapshot routing reads (see prefsdb.h).
 *
 * Public: ab_prefs_set, ab_prefs_unset, ab_prefs_current, ab_prefs_free.
 * Diagnostics: -1 / NULL returns leave "prefs: WHAT: sqlite message" (or
 * "prefs: out of memory") for ab_store_errmsg().
 *
 * Statements are fixed text with bound parameters, cached per connection.
 * A set or unset is one statement: its own transaction, or part of the
 * caller's open batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/prefsdb.h"
#include "store/store_int.h"

enum {
	PF_SET,
	PF_UNSET_ONE,
	PF_UNSET_PATTERN,
	PF_UNSET_USER,
	PF_GEN,
	PF_ALL,
	PF_COUNT
};
_Static_assert(PF_COUNT <= AB_STORE_PREFS_STMTS, "raise AB_STORE_PREFS_STMTS");

static const char *const pf_sql[PF_COUNT] = {
	[PF_SET] = "INSERT INTO prefs(user, pattern, kind, value, set_at) VALUES(?1, ?2, ?3, "
		"?4, ?5) ON CONFLICT(user, pattern, kind) DO UPDATE SET value = ?4, set_at = ?5",
	[PF_UNSET_ONE] = "DELETE FROM prefs WHERE user = ?1 AND pattern = ?2 AND kind = ?3",
	[PF_UNSET_PATTERN] = "DELETE FROM prefs WHERE user = ?1 AND pattern = ?2",
	[PF_UNSET_USER] = "DELETE FROM prefs WHERE user = ?1",
	[PF_GEN] = "SELECT gen FROM prefs_gen WHERE id = 1",
	[PF_ALL] = "SELECT user, pattern, kind, value, set_at FROM prefs "
		"ORDER BY user, pattern, kind",
};

static sqlite3_stmt *stmt(struct ab_store *s, int which)
{
	sqlite3_stmt *st = ab_db_stmt(s->db, &s->pf[which], pf_sql[which]);

	if (!st)
		ab_db_errf(s->err, sizeof s->err, s->db, "prefs", "prepare");
	return st;
}

static int run(struct ab_store *s, sqlite3_stmt *st, const char *what)
{
	return ab_db_run(s->db, st, s->err, sizeof s->err, "prefs", what);
}

int ab_prefs_set(struct ab_store *s, const char *user, const char *pattern, const char *kind,
	bool on, int64_t now)
{
	sqlite3_stmt *st = stmt(s, PF_SET);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pattern, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, on ? 1 : 0);
	sqlite3_bind_int64(st, 5, now);
	return run(s, st, "set");
}

int ab_prefs_unset(struct ab_store *s, const char *user, const char *pattern, const char *kind)
{
	int which = !pattern ? PF_UNSET_USER : !kind ? PF_UNSET_PATTERN : PF_UNSET_ONE;
	sqlite3_stmt *st = stmt(s, which);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (pattern)
		sqlite3_bind_text(st, 2, pattern, -1, SQLITE_STATIC);
	if (pattern && kind)
		sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	if (run(s, st, "unset") < 0)
		return -1;
	return sqlite3_changes(s->db);
}

void ab_prefs_free(struct ab_prefs *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->rows[i].user);
		free(p->rows[i].pattern);
		free(p->rows[i].kind);
	}
	free(p->rows);
	free(p);
}

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return strdup(t ? (const char *)t : "");
}

/* Read the whole table into a new snapshot; NULL on error. */
static struct ab_prefs *load(struct ab_store *s, int64_t gen)
{
	sqlite3_stmt *st = stmt(s, PF_ALL);
	struct ab_prefs *p = calloc(1, sizeof *p);
	size_t cap = 0;
	int rc;

	if (!st || !p) {
		free(p);
		if (st)
			snprintf(s->err, sizeof s->err, "prefs: out of memory");
		return NULL;
	}
	p->gen = gen;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ab_pref *r;

		if (p->n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct ab_pref *nr = realloc(p->rows, nc * sizeof *nr);

			if (!nr)
				goto nomem;
			p->rows = nr;
			cap = nc;
		}
		r = &p->rows[p->n++];
		r->user = col(st, 0);
		r->pattern = col(st, 1);
		r->kind = col(st, 2);
		r->on = sqlite3_column_int(st, 3) != 0;
		r->set_at = sqlite3_column_int64(st, 4);
		if (!r->user || !r->pattern || !r->kind)
			goto nomem;
	}
	if (rc != SQLITE_DONE) {
		ab_db_errf(s->err, sizeof s->err, s->db, "prefs", "read");
		sqlite3_reset(st);
		ab_prefs_free(p);
		return NULL;
	}
	sqlite3_reset(st);
	return p;
nomem:
	sqlite3_reset(st);
	ab_prefs_free(p);
	snprintf(s->err, sizeof s->err, "prefs: out of memory");
	return NULL;
}

const struct ab_prefs *ab_prefs_current(struct ab_store *s)
{
	sqlite3_stmt *st = stmt(s, PF_GEN);
	struct ab_prefs *p;
	int64_t gen;

	if (!st)
		return NULL;
	if (sqlite3_step(st) != SQLITE_ROW) {
		ab_db_errf(s->err, sizeof s->err, s->db, "prefs", "read the change counter");
		sqlite3_reset(st);
		return NULL;
	}
	gen = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (s->prefs && s->prefs->gen == gen)
		return s->prefs;
	if (!(p = load(s, gen)))
		return NULL;
	ab_prefs_free(s->prefs);
	s->prefs = p;
	return p;
}
