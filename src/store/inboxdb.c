/*
 * inboxdb.c - the in-app alert list behind the "inbox" channel: a SQLite
 * file (opened by db.c: WAL, synchronous=FULL, busy timeout 10 s, created
 * mode 0600) with
 * one table
 *   items(id, owner, event_id, severity, type, title, json, created_at, read)
 *   UNIQUE(owner, event_id)
 * and PRAGMA user_version 2 (a newer version is refused; version 1, without
 * owner, is migrated: its items become the shared list's).  The inbox
 * plugin writes it; the alertbridge tool lists and manages it, possibly at
 * the same time from another process.
 *
 * Each owner has a list of their own: "" is the shared list (the inbox
 * channel without people), a user name is that user's personal list.  A
 * handle works on one list at a time (ab_inbox_set_owner); reading,
 * removing and clearing never touch another owner's items, and an id of
 * another owner's item is "not found".
 *
 * Reading an item marks it read and never removes it; removal is explicit
 * (selected ids, clear all) or by ab_inbox_prune (oldest read items first,
 * then the oldest unread).  Ids are never reused (AUTOINCREMENT), so the
 * number an operator types always means the same alert.
 *
 * Public: ab_inbox_open, ab_inbox_close, ab_inbox_add, ab_inbox_list,
 * ab_inbox_read, ab_inbox_mark_read, ab_inbox_remove, ab_inbox_clear,
 * ab_inbox_unread, ab_inbox_total, ab_inbox_prune, ab_inbox_errmsg,
 * ab_inbox_set_owner, ab_inbox_owners.
 *
 * Diagnostics: -1 returns keep "inbox: WHAT: sqlite message" for
 * ab_inbox_errmsg(); ab_inbox_open writes "inbox PATH: ..." into err.
 * Callbacks get borrowed items and must not call back into the same inbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/inboxdb.h"

#define INBOX_SCHEMA_VERSION 2

enum {
	IS_ADD,
	IS_LIST_ALL,
	IS_LIST_UNREAD,
	IS_GET,
	IS_MARK,
	IS_REMOVE,
	IS_CLEAR,
	IS_UNREAD,
	IS_TOTAL,
	IS_PRUNE_READ,
	IS_PRUNE_ANY,
	IS_OWNERS,
	IS_BEGIN,
	IS_COMMIT,
	IS_ROLLBACK,
	IS_COUNT
};

/* Every statement is scoped to the handle's owner, bound as ?9. */
#define ITEM_COLS "SELECT id, event_id, severity, type, title, json, created_at, read FROM items "

static const char *const inbox_sql[IS_COUNT] = {
	[IS_ADD] = "INSERT OR IGNORE INTO items(owner, event_id, severity, type, title, json, "
		"created_at) VALUES(?9, ?1, ?2, ?3, ?4, ?5, ?6)",
	[IS_LIST_ALL] = ITEM_COLS "WHERE owner = ?9 ORDER BY id DESC",
	[IS_LIST_UNREAD] = ITEM_COLS "WHERE owner = ?9 AND read = 0 ORDER BY id DESC",
	[IS_GET] = ITEM_COLS "WHERE id = ?1 AND owner = ?9",
	[IS_MARK] = "UPDATE items SET read = 1 WHERE id = ?1 AND owner = ?9",
	[IS_REMOVE] = "DELETE FROM items WHERE id = ?1 AND owner = ?9",
	[IS_CLEAR] = "DELETE FROM items WHERE owner = ?9",
	[IS_UNREAD] = "SELECT COUNT(*) FROM items WHERE owner = ?9 AND read = 0",
	[IS_TOTAL] = "SELECT COUNT(*) FROM items WHERE owner = ?9",
	[IS_PRUNE_READ] = "DELETE FROM items WHERE id IN (SELECT id FROM items "
		"WHERE owner = ?9 AND read = 1 ORDER BY id LIMIT ?1)",
	[IS_PRUNE_ANY] = "DELETE FROM items WHERE id IN (SELECT id FROM items "
		"WHERE owner = ?9 ORDER BY id LIMIT ?1)",
	[IS_OWNERS] = "SELECT owner, COUNT(*), SUM(read = 0) FROM items GROUP BY owner "
		"ORDER BY owner",
	[IS_BEGIN] = "BEGIN IMMEDIATE",
	[IS_COMMIT] = "COMMIT",
	[IS_ROLLBACK] = "ROLLBACK",
};

static const char inbox_schema[] =
	"CREATE TABLE IF NOT EXISTS items ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" event_id TEXT NOT NULL UNIQUE,"
	" severity TEXT,"
	" type TEXT,"
	" title TEXT,"
	" json TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" read INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS items_read ON items(read, id);";

/* Version 2: an owner per item (its items become the shared list's). */
static const char inbox_owner[] =
	"CREATE TABLE items2 ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" owner TEXT NOT NULL DEFAULT '',"
	" event_id TEXT NOT NULL,"
	" severity TEXT,"
	" type TEXT,"
	" title TEXT,"
	" json TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" read INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE(owner, event_id));"
	"INSERT INTO items2(id, owner, event_id, severity, type, title, json, created_at, read)"
	" SELECT id, '', event_id, severity, type, title, json, created_at, read FROM items;"
	"DROP TABLE items;"
	"ALTER TABLE items2 RENAME TO items;"
	"CREATE INDEX items_owner_read ON items(owner, read, id);";

/* inbox_steps[v] takes an inbox at version v to v + 1 (db.c). */
static const char *const inbox_steps[INBOX_SCHEMA_VERSION] = { inbox_schema, inbox_owner };

struct ab_inbox {
	sqlite3 *db;
	struct ab_db_wal wal;         /* its WAL checkpoints (db.c) */
	sqlite3_stmt *st[IS_COUNT];
	char owner[AB_INBOX_OWNER_MAX + 1];   /* "" = the shared list */
	char err[512];
};

static void set_err(struct ab_inbox *ib, const char *what)
{
	ab_db_errf(ib->err, sizeof ib->err, ib->db, "inbox", what);
}

const char *ab_inbox_errmsg(struct ab_inbox *ib)
{
	return ib ? ib->err : "inbox: not open";
}

/* The statement, its owner bound (where it has one). */
static sqlite3_stmt *stmt(struct ab_inbox *ib, int which)
{
	sqlite3_stmt *st = ab_db_stmt(ib->db, &ib->st[which], inbox_sql[which]);

	if (!st)
		set_err(ib, "prepare");
	else if (sqlite3_bind_parameter_count(st) >= 9)
		sqlite3_bind_text(st, 9, ib->owner, -1, SQLITE_STATIC);
	return st;
}

/* Step a statement that returns no rows; sqlite3_changes() or -1. */
static int run(struct ab_inbox *ib, sqlite3_stmt *st, const char *what)
{
	if (ab_db_run(ib->db, st, ib->err, sizeof ib->err, "inbox", what) < 0)
		return -1;
	return sqlite3_changes(ib->db);
}

static int run_plain(struct ab_inbox *ib, int which, const char *what)
{
	sqlite3_stmt *st = stmt(ib, which);

	return st ? run(ib, st, what) : -1;
}

static void rollback(struct ab_inbox *ib)
{
	if (!sqlite3_get_autocommit(ib->db))
		run_plain(ib, IS_ROLLBACK, "rollback");
}

static int commit(struct ab_inbox *ib)
{
	if (run_plain(ib, IS_COMMIT, "commit") < 0) {
		rollback(ib);
		return -1;
	}
	return 0;
}

struct ab_inbox *ab_inbox_open(const char *path, char *err, size_t errsz)
{
	struct ab_inbox *ib = calloc(1, sizeof *ib);

	if (!ib) {
		snprintf(err, errsz, "inbox %s: out of memory", path ? path : "");
		return NULL;
	}
	ib->db = ab_db_open(path, "inbox", inbox_steps, INBOX_SCHEMA_VERSION, NULL, err,
		errsz);
	if (!ib->db) {
		free(ib);
		return NULL;
	}
	ab_db_wal_init(ib->db, &ib->wal);   /* checkpoints; a bounded log (db.c) */
	return ib;
}

void ab_inbox_close(struct ab_inbox *ib)
{
	if (!ib)
		return;
	ab_db_finalize(ib->st, IS_COUNT);
	sqlite3_close(ib->db);
	free(ib);
}

static void bind_opt(sqlite3_stmt *st, int col, const char *v)
{
	if (v)
		sqlite3_bind_text(st, col, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

int ab_inbox_add(struct ab_inbox *ib, const char *event_id, const char *severity,
	const char *type, const char *title, const char *json, int64_t now)
{
	sqlite3_stmt *st;

	if (!event_id || !*event_id || !json) {
		snprintf(ib->err, sizeof ib->err, "inbox: add: an item needs an id and a payload");
		return -1;
	}
	if (!(st = stmt(ib, IS_ADD)))
		return -1;
	sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
	bind_opt(st, 2, severity);
	bind_opt(st, 3, type);
	bind_opt(st, 4, title);
	sqlite3_bind_text(st, 5, json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	return run(ib, st, "add") < 0 ? -1 : sqlite3_changes(ib->db) > 0;
}

static const char *col(sqlite3_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);

	return t ? (const char *)t : "";
}

/* Row of ITEM_COLS -> borrowed item (valid until the next step). */
static void item_fill(sqlite3_stmt *st, struct ab_inbox_item *it)
{
	it->id = sqlite3_column_int64(st, 0);
	it->event_id = col(st, 1);
	it->severity = col(st, 2);
	it->type = col(st, 3);
	it->title = col(st, 4);
	it->json = col(st, 5);
	it->created_at = sqlite3_column_int64(st, 6);
	it->read = sqlite3_column_int(st, 7) != 0;
}

int ab_inbox_list(struct ab_inbox *ib, bool unread_only, ab_inbox_cb cb, void *arg)
{
	struct ab_inbox_item it;
	sqlite3_stmt *st = stmt(ib, unread_only ? IS_LIST_UNREAD : IS_LIST_ALL);
	int rc, stop = 0;

	if (!st)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		item_fill(st, &it);
		stop = cb(&it, arg);
	}
	if (!stop && rc != SQLITE_DONE) {
		set_err(ib, "list");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/* The callback sees the item as it was before this read (read == false
 * means it was new); afterwards it is marked read. */
int ab_inbox_read(struct ab_inbox *ib, int64_t id, ab_inbox_cb cb, void *arg)
{
	struct ab_inbox_item it;
	sqlite3_stmt *st;
	int rc;

	if (run_plain(ib, IS_BEGIN, "read: begin") < 0)
		return -1;
	if (!(st = stmt(ib, IS_GET)))
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		rollback(ib);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		set_err(ib, "read");
		sqlite3_reset(st);
		goto fail;
	}
	item_fill(st, &it);
	if (cb)
		cb(&it, arg);
	sqlite3_reset(st);
	if (ab_inbox_mark_read(ib, id) < 0)
		goto fail;
	return commit(ib) < 0 ? -1 : 1;
fail:
	rollback(ib);
	return -1;
}

int ab_inbox_mark_read(struct ab_inbox *ib, int64_t id)
{
	sqlite3_stmt *st = stmt(ib, IS_MARK);
	int n;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	n = run(ib, st, "mark read");
	return n < 0 ? -1 : n > 0;
}

int ab_inbox_remove(struct ab_inbox *ib, const int64_t *ids, size_t n)
{
	sqlite3_stmt *st;
	int total = 0, c;

	if (n == 0)
		return 0;
	if (!ids) {
		snprintf(ib->err, sizeof ib->err, "inbox: remove: no ids");
		return -1;
	}
	if (run_plain(ib, IS_BEGIN, "remove: begin") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!(st = stmt(ib, IS_REMOVE)))
			goto fail;
		sqlite3_bind_int64(st, 1, ids[i]);
		if ((c = run(ib, st, "remove")) < 0)
			goto fail;
		total += c;
	}
	return commit(ib) < 0 ? -1 : total;
fail:
	rollback(ib);
	return -1;
}

int ab_inbox_clear(struct ab_inbox *ib)
{
	return run_plain(ib, IS_CLEAR, "clear");
}

static int64_t count(struct ab_inbox *ib, int which, const char *what)
{
	sqlite3_stmt *st = stmt(ib, which);
	int64_t v = -1;

	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		set_err(ib, what);
	sqlite3_reset(st);
	return v;
}

int64_t ab_inbox_unread(struct ab_inbox *ib)
{
	return count(ib, IS_UNREAD, "unread count");
}

int64_t ab_inbox_total(struct ab_inbox *ib)
{
	return count(ib, IS_TOTAL, "count");
}

int ab_inbox_prune(struct ab_inbox *ib, int64_t max_items)
{
	int64_t total, over;
	sqlite3_stmt *st;
	int removed = 0, c;

	if (max_items < 0)
		max_items = 0;
	if (run_plain(ib, IS_BEGIN, "prune: begin") < 0)
		return -1;
	if ((total = count(ib, IS_TOTAL, "prune: count")) < 0)
		goto fail;
	for (int pass = 0; pass < 2 && total - removed > max_items; pass++) {
		over = total - removed - max_items;
		if (!(st = stmt(ib, pass == 0 ? IS_PRUNE_READ : IS_PRUNE_ANY)))
			goto fail;
		sqlite3_bind_int64(st, 1, over);
		if ((c = run(ib, st, "prune")) < 0)
			goto fail;
		removed += c;
	}
	return commit(ib) < 0 ? -1 : removed;
fail:
	rollback(ib);
	return -1;
}

int ab_inbox_set_owner(struct ab_inbox *ib, const char *owner)
{
	size_t n = owner ? strlen(owner) : 0;

	if (n > AB_INBOX_OWNER_MAX) {
		snprintf(ib->err, sizeof ib->err, "inbox: an owner name is at most %d bytes",
			AB_INBOX_OWNER_MAX);
		return -1;
	}
	memcpy(ib->owner, owner ? owner : "", n);
	ib->owner[n] = '\0';
	return 0;
}

int ab_inbox_owners(struct ab_inbox *ib, ab_inbox_owner_cb cb, void *arg)
{
	sqlite3_stmt *st = stmt(ib, IS_OWNERS);
	int rc, stop = 0;

	if (!st)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = cb(col(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), arg);
	if (!stop && rc != SQLITE_DONE) {
		set_err(ib, "owners");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}
