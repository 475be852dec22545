/*
 * logindb.c - the SQL of the web console's passwords (the logins table of
 * the store's schema version 5, created in store.c; see logindb.h).
 *
 * Public: ab_login_set, ab_login_get, ab_login_delete.
 * Diagnostics: -1 returns leave "login: WHAT: sqlite message" for
 * ab_store_errmsg().  Each call is one statement: its own transaction.
 */
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "store/logindb.h"
#include "store/store_int.h"

enum { LG_SET, LG_GET, LG_DEL, LG_COUNT };
_Static_assert(LG_COUNT <= AB_STORE_LOGIN_STMTS, "raise AB_STORE_LOGIN_STMTS");

static const char *const lg_sql[LG_COUNT] = {
	[LG_SET] = "INSERT INTO logins(user, hash, set_at) VALUES(?1, ?2, ?3) "
		"ON CONFLICT(user) DO UPDATE SET hash = ?2, set_at = ?3",
	[LG_GET] = "SELECT hash FROM logins WHERE user = ?1",
	[LG_DEL] = "DELETE FROM logins WHERE user = ?1",
};

static sqlite3_stmt *stmt(struct ab_store *s, int which)
{
	sqlite3_stmt *st = ab_db_stmt(s->db, &s->lg[which], lg_sql[which]);

	if (!st)
		ab_db_errf(s->err, sizeof s->err, s->db, "login", "prepare");
	return st;
}

int ab_login_set(struct ab_store *s, const char *user, const char *hash, int64_t now)
{
	sqlite3_stmt *st = stmt(s, LG_SET);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	return ab_db_run(s->db, st, s->err, sizeof s->err, "login", "set");
}

int ab_login_get(struct ab_store *s, const char *user, char *hash, size_t hashsz)
{
	sqlite3_stmt *st = stmt(s, LG_GET);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		ab_strlcpy(hash, t ? (const char *)t : "", hashsz);
		sqlite3_reset(st);
		return 1;
	}
	if (rc != SQLITE_DONE)
		ab_db_errf(s->err, sizeof s->err, s->db, "login", "get");
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int ab_login_delete(struct ab_store *s, const char *user)
{
	sqlite3_stmt *st = stmt(s, LG_DEL);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (ab_db_run(s->db, st, s->err, sizeof s->err, "login", "delete") < 0)
		return -1;
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}
