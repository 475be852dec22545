/*
 * db.h - the one SQLite helper of the store layer: open a database file
 * with the standard settings and bring its versioned schema up to date,
 * cache prepared statements per connection, run transactions, format
 * error messages.  Used by store.c (and noisedb.c through the store's
 * connection) and inboxdb.c; nothing outside src/store includes sqlite3.h.
 */
#ifndef AB_DB_H
#define AB_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#define AB_DB_BUSY_MS 10000   /* a writer waits this long for another one */
/* After a checkpoint that empties it, the write-ahead log is cut back to at
 * most this many bytes (PRAGMA journal_size_limit): between checkpoints it
 * holds the bulk writers' 8000 pages (32 MiB) and one transaction, and
 * while readers keep it from starting again at most some 32,000 pages
 * (128 MiB: ab_db_wal's RESTART checkpoint then waits for them). */
#define AB_DB_WAL_LIMIT 67108864
#define AB_STR_(x) #x
#define AB_STR(x) AB_STR_(x)

/* Open the SQLite file at path for reading and writing, creating it (mode
 * 0600) when it does not exist, with WAL, synchronous=FULL,
 * foreign_keys=ON, extended result codes, the busy timeout and the SQL
 * function ab_id_key(text) (an id's 64-bit integer key, db.c).  Then, in
 * one BEGIN IMMEDIATE transaction, bring its schema (PRAGMA user_version)
 * to version n_steps: steps[i] is the SQL that takes version i to i + 1
 * (run with foreign keys off, so a step may rebuild a table others refer
 * to; the references are checked before the commit); a newer version is
 * refused.  who names the file in messages ("store",
 * "inbox": "store PATH: cannot open: ...").  notice (may be NULL) is told
 * before the steps of an existing file run, which on a large file take a
 * while.  NULL with err on failure. */
sqlite3 *ab_db_open(const char *path, const char *who, const char *const *steps, int n_steps,
	void (*notice)(const char *msg), char *err, size_t errsz);
/* The schema version of an open connection, or -1. */
int ab_db_version(sqlite3 *db);
/* A connection's WAL checkpoints, in place of SQLite's wal_autocheckpoint
 * (whose work they do too): after each commit, a PASSIVE checkpoint once
 * the log holds `passive` pages, and a RESTART one once it holds
 * `restart_mark` (see db.c).  The caller keeps it for the connection's
 * life (in the struct that holds the connection). */
struct ab_db_wal {
	int passive;        /* pages: a PASSIVE checkpoint from here */
	int restart_mark;   /* pages: a RESTART one from here ... */
	int restart_at;     /* ... or, after one that could not run, from here */
	unsigned bg_gen;    /* the checkpointer's state when bg was last looked up */
	bool hand_over;     /* ab_db_wal_hand_over was called */
	bool bg;            /* ... and the checkpointer runs them for this file */
	int bg_restart;     /* its restart_soon: this connection's RESTART mark then */
};
#define AB_DB_WAL_PASSIVE 1000    /* SQLite's own mark */
#define AB_DB_WAL_RESTART 32000   /* 128 MiB of log */
/* Install w on db (ab_db_open does not: the caller, once w has its place)
 * with SQLite's passive mark and AB_DB_WAL_RESTART.  A later PRAGMA
 * wal_autocheckpoint would undo it. */
void ab_db_wal_init(sqlite3 *db, struct ab_db_wal *w);
/* Change w's marks (0 keeps one): the bulk writers' rarer checkpoints;
 * tests. */
void ab_db_wal_marks(struct ab_db_wal *w, int passive, int restart);
/* w's connection hands its PASSIVE checkpoints over to the checkpointer
 * while one runs for its file (whatever w's passive mark), and runs its
 * RESTART ones from the checkpointer's restart_soon mark (if lower than
 * w's); else it runs them as before. */
void ab_db_wal_hand_over(struct ab_db_wal *w);
/* The checkpointer: a thread, with a connection of its own to the file at
 * path, that runs the PASSIVE checkpoints of the connections of this
 * process to that file that hand them over (ab_db_wal_hand_over): one when
 * a commit finds passive frames not copied yet (0: AB_DB_WAL_PASSIVE), and
 * after one that copied a whole log of restart_soon pages or more (0: a
 * quarter of AB_DB_WAL_RESTART) a RESTART one that waits a few ms at most,
 * so that the log starts again.  Those threads never wait for a PASSIVE
 * one; the RESTART one that bounds the log stays theirs, from restart_soon
 * pages (db.c).  One at a time per process.  0, or -1 with err. */
int ab_db_checkpointer_start(const char *path, int passive, int restart_soon, char *err,
	size_t errsz);
/* Stop it (a checkpoint in progress ends first); the connections run their
 * own checkpoints again.  Returns the checkpoints it ran (0 when none runs). */
unsigned long ab_db_checkpointer_stop(void);

/* The statement for sql cached in *slot: prepared (persistent) on first
 * use, else reset with its bindings cleared.  NULL on error (then
 * sqlite3_errmsg(db) says why). */
sqlite3_stmt *ab_db_stmt(sqlite3 *db, sqlite3_stmt **slot, const char *sql);
/* Finalize n cached statements (NULL slots are skipped) and clear them. */
void ab_db_finalize(sqlite3_stmt **slots, size_t n);
/* Step a statement that returns no rows (a row is ignored) and reset it:
 * 0, or -1 with the message formatted by ab_db_errf(what). */
int ab_db_run(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errsz, const char *who,
	const char *what);
/* Roll back the open transaction, if SQLite has not done so already. */
void ab_db_rollback(sqlite3 *db);

/* "WHO: WHAT: sqlite message" into err. */
void ab_db_errf(char *err, size_t errsz, sqlite3 *db, const char *who, const char *what);

#endif
