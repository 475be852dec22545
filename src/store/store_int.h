/*
 * store_int.h - the inside of struct ab_store, shared by the files of the
 * store layer that write the queue's database (store.c: events, jobs, the
 * delivery log, channel health; noisedb.c: the routing noise tables;
 * prefsdb.c: people's preferences; logindb.c: the console's passwords).
 * Nothing outside src/store includes it.
 */
#ifndef AB_STORE_INT_H
#define AB_STORE_INT_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/diskroom.h"
#include "store/db.h"
#include "store/store.h"

#define AB_STORE_QUEUE_STMTS 40   /* store.c's statements (its enum checks it) */
#define AB_STORE_NOISE_STMTS 40   /* noisedb.c's statements (its enum checks it) */
#define AB_STORE_PREFS_STMTS 8    /* prefsdb.c's statements (its enum checks it) */
#define AB_STORE_LOGIN_STMTS 4    /* logindb.c's statements (its enum checks it) */

struct ab_prefs;   /* store/prefsdb.h */
/* prefsdb.c: release a snapshot (store.c's close). */
void ab_prefs_free(struct ab_prefs *p);

struct ab_store {
	sqlite3 *db;
	sqlite3_stmt *st[AB_STORE_QUEUE_STMTS];   /* prepared once, cached */
	sqlite3_stmt *nz[AB_STORE_NOISE_STMTS];
	sqlite3_stmt *pf[AB_STORE_PREFS_STMTS];
	sqlite3_stmt *lg[AB_STORE_LOGIN_STMTS];
	struct ab_prefs *prefs;   /* prefsdb.c's snapshot, or NULL */
	char err[512];
	struct ab_buf json;  /* event JSON text, reused across enqueues */
	bool batch;          /* inside ab_store_begin(): enqueues join one transaction */
	bool batch_failed;   /* an enqueue failed: the batch was rolled back */
	char *held;          /* JSON array of held channels (ab_store_set_held), or NULL */
	struct ab_diskroom room;  /* the free-space watermark of new alerts (ab_store_room) */
	struct ab_db_wal wal;     /* its WAL checkpoints (db.c) */
};

/* "store: WHAT: sqlite message" as the connection's last error. */
void ab_store_set_err(struct ab_store *s, const char *what);
/* Step a statement that returns no rows and reset it; 0, or -1 with the
 * error set ("store: WHAT: ..."). */
int ab_store_run(struct ab_store *s, sqlite3_stmt *st, const char *what);

#endif
