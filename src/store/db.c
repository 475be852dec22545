/*
 * db.c - the SQLite helper shared by the store's files (see db.h): the
 * queue (store.c, noisedb.c) and the inbox (inboxdb.c).
 *
 * Public: ab_db_open, ab_db_version, ab_db_wal_init, ab_db_wal_marks,
 *         ab_db_checkpointer_start, ab_db_checkpointer_stop,
 *         ab_db_stmt, ab_db_finalize, ab_db_run,
 *         ab_db_rollback, ab_db_errf.
 * Diagnostics: ab_db_open writes "WHO PATH: ..." into err: cannot open
 *         (with the reason and what to check), read-only, no WAL, cannot
 *         read the schema version, a version newer than this build
 *         supports, a failed migration step; the others "WHO: WHAT: sqlite
 *         message".
 *
 * Every database file is shared by several connections at once (threads
 * of the daemon, the alertbridge tool in another process), so each runs
 * in WAL mode with synchronous=FULL (a commit is fsynced before the call
 * returns), foreign_keys=ON and a busy timeout.  Schema changes are
 * numbered steps: a file at version v gets steps v .. n-1, all in the
 * transaction that sets the new user_version, with foreign keys off (a step
 * may rebuild a table) and checked before the commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/db.h"

/* A writer that finds the file locked by another (the mover, a worker, the
 * HTTP committer, the tool) sleeps 0.1, 0.2, 0.4, 0.8, 1.6 ms, then 2 ms
 * at a time, for AB_DB_BUSY_MS in all.  SQLite's own busy timeout sleeps
 * 1, 2, 5, 10, 15, 20, 25, 25, 25, 50 ms ...: the others' transactions take
 * a millisecond or two, so a writer slept far past them.  Measured
 * (route_deliver, builds alternating, 7 rounds): events POSTed at half
 * capacity reached the sink p50 27-229 -> 3-5 ms, p99 132-391 -> 18-26 ms;
 * burst medians ab-tcp 11.9k -> 11.8k, ab-http 10.8k -> 12.2k alerts/s,
 * CPU per alert +11-20 %. */
#define BUSY_FIRST_US 100
#define BUSY_MAX_US 2000
#define RESTART_WAIT_MS 200   /* wal_hook's RESTART checkpoint waits this long at most */
#define RESTART_SOON_MS 10    /* the checkpointer's, after a whole PASSIVE one */
#define PATH_MSG_MAX 1024     /* a path's bytes in a notice; the checkpointer's file */

static int busy_wait(void *arg, int count)
{
	int64_t us = BUSY_FIRST_US, total = 0;
	int64_t limit = (int64_t)(arg ? *(const int *)arg : AB_DB_BUSY_MS) * 1000;
	struct timespec ts;

	for (int i = 0; i < count && total < limit; i++) {
		total += us;
		us = us * 2 < BUSY_MAX_US ? us * 2 : BUSY_MAX_US;
	}
	if (total >= limit)
		return 0;            /* SQLITE_BUSY: the caller says so */
	ts.tv_sec = 0;
	ts.tv_nsec = (long)us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

void ab_db_errf(char *err, size_t errsz, sqlite3 *db, const char *who, const char *what)
{
	snprintf(err, errsz, "%s: %s: %s", who, what, db ? sqlite3_errmsg(db) : "not open");
}

/* SQL ab_id_key(text), on every connection: the integer key that indexes
 * rows by an id in a quarter of the room of its text (store.c's events; a
 * non-unique index, so the id itself is compared too).  FNV-1a, 64 bits:
 * spreads any id (a content hash's hex, a group's name) over the keys. */
static int64_t id_key(const char *id, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)id[i];
		h *= 1099511628211ULL;
	}
	return (int64_t)h;
}

/* ab_id_key's SQL side (NULL for NULL). */
static void sql_id_key(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const unsigned char *t = sqlite3_value_text(argv[0]);

	(void)argc;
	if (t)
		sqlite3_result_int64(cx, id_key((const char *)t,
			(size_t)sqlite3_value_bytes(argv[0])));
	else
		sqlite3_result_null(cx);
}

/* sqlite3_exec of fixed text; "WHO PATH: WHAT: message" into err. */
static int exec_open(sqlite3 *db, const char *sql, const char *who, const char *path,
	const char *what, char *err, size_t errsz)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errsz, "%s %s: %s: %s", who, path, what,
			msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int ab_db_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int ver = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		ver = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ver;
}

/* Inside BEGIN IMMEDIATE: run the steps from the file's version on.  0
 * when the file was up to date, 1 when steps ran, -1 on error. */
static int migrate(sqlite3 *db, const char *path, const char *who, const char *const *steps,
	int n_steps, void (*notice)(const char *msg), char *err, size_t errsz)
{
	int ver = ab_db_version(db);
	char sql[64], what[64], msg[256 + PATH_MSG_MAX];

	if (ver < 0) {
		snprintf(err, errsz, "%s %s: cannot read the schema version: %s", who, path,
			sqlite3_errmsg(db));
		return -1;
	}
	if (ver > n_steps) {
		snprintf(err, errsz, "%s %s: schema version %d is newer than this alertbridge "
			"supports (%d): run a newer alertbridge, or move the file away to start "
			"an empty %s", who, path, ver, n_steps, who);
		return -1;
	}
	if (ver == n_steps)
		return 0;
	if (ver > 0 && notice) {   /* a step may rebuild a table */
		snprintf(msg, sizeof msg, "%s %.*s: updating the schema from version %d to %d "
			"(once; a large file takes a while)", who, PATH_MSG_MAX, path, ver,
			n_steps);
		notice(msg);
	}
	for (int v = ver; v < n_steps; v++) {
		snprintf(what, sizeof what, ver == 0 ? "creating the schema (version %d)" :
			"updating the schema to version %d", v + 1);
		if (exec_open(db, steps[v], who, path, what, err, errsz) < 0)
			return -1;
	}
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", n_steps);
	if (exec_open(db, sql, who, path, "setting the schema version", err, errsz) < 0)
		return -1;
	return 1;
}

/* After the steps: no row may refer to one that is not there. */
static int fk_check(sqlite3 *db, const char *path, const char *who, char *err, size_t errsz)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(err, errsz, "%s %s: after the schema update, table %s refers to rows "
			"that are not there", who, path, (const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		snprintf(err, errsz, "%s %s: foreign key check: %s", who, path,
			sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Before SQLite's first use in the process: no memory statistics (nothing
 * reads them), so its allocations take no mutex shared by every thread
 * (6 % of the syslog mover's CPU was that lock; route_deliver, 2 rounds:
 * ab-tcp 17.2k/17.6k -> 19.1k/21.4k alerts/s, 74 -> 60-68 us per alert).
 * Refused (and harmless) if SQLite is in use already. */
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void config_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

sqlite3 *ab_db_open(const char *path, const char *who, const char *const *steps, int n_steps,
	void (*notice)(const char *msg), char *err, size_t errsz)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *mode = NULL;
	int fd, mig;

	if (!path || !*path) {
		snprintf(err, errsz, "%s: no path given", who);
		return NULL;
	}
	pthread_once(&config_once, config_sqlite);
	/* Create the file ourselves so it is 0600 (SQLite gives the -wal and
	 * -shm files the same mode).  Only when it does not exist yet: closing
	 * any descriptor of a file drops every POSIX lock this process holds
	 * on it, which would silently break SQLite's locking for the other
	 * connections of this process (and let another process delete the
	 * WAL they are writing to). */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd >= 0) {
		close(fd);
	} else if (errno != EEXIST) {
		snprintf(err, errsz, "%s %s: cannot open: %s (check the directory exists and "
			"is writable by the alertbridge user)", who, path, strerror(errno));
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s %s: cannot open: %s", who, path,
			db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	if (sqlite3_db_readonly(db, "main") == 1) {
		snprintf(err, errsz, "%s %s: the file is read-only for this user", who, path);
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_handler(db, busy_wait, NULL);
	if (sqlite3_create_function(db, "ab_id_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC |
		SQLITE_INNOCUOUS, NULL, sql_id_key, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s %s: cannot add a function: %s", who, path,
			sqlite3_errmsg(db));
		goto fail;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		mode = (const char *)sqlite3_column_text(st, 0);
	if (!mode || strcmp(mode, "wal") != 0) {
		snprintf(err, errsz, "%s %s: cannot switch to WAL mode: %s", who, path,
			mode ? mode : sqlite3_errmsg(db));
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if (exec_open(db, "PRAGMA synchronous=FULL", who, path, "pragma", err, errsz) < 0 ||
	    exec_open(db, "PRAGMA journal_size_limit=" AB_STR(AB_DB_WAL_LIMIT), who, path,
		"pragma", err, errsz) < 0 ||
	    exec_open(db, "PRAGMA foreign_keys=OFF", who, path, "pragma", err, errsz) < 0 ||
	    exec_open(db, "BEGIN IMMEDIATE", who, path, "cannot lock for writing", err,
		errsz) < 0)
		goto fail;
	/* Foreign keys are off while the steps run, so that a step may rebuild
	 * a table others refer to (SQLite's documented way to change a
	 * table's constraints) without their rows following the old one. */
	if ((mig = migrate(db, path, who, steps, n_steps, notice, err, errsz)) < 0 ||
	    (mig > 0 && fk_check(db, path, who, err, errsz) < 0) ||
	    exec_open(db, "COMMIT", who, path, "commit", err, errsz) < 0) {
		ab_db_rollback(db);
		goto fail;
	}
	if (exec_open(db, "PRAGMA foreign_keys=ON", who, path, "pragma", err, errsz) < 0)
		goto fail;
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

/* The checkpointer (ab_db_checkpointer_start): one thread of the process
 * runs the PASSIVE checkpoints of the connections that hand theirs over
 * (ab_db_wal_hand_over: the store's bulk writer, the syslog mover), on a
 * connection of its own, so that the mover does not wait for them.  Its
 * PASSIVE checkpoint of 8000 pages (32 MiB copied into the database and
 * fsynced) took 10-28 ms before it woke the dispatcher, and the syslog
 * journal's fdatasync waited behind that I/O: alerts at half of
 * route_deliver's capacity reached the sink p99 24-81 ms.  Here 1000
 * pages at a time, off the mover: p99 9-19 ms.  The other connections
 * keep theirs: the HTTP committer's, 1000 pages after its fsynced commit,
 * falls in its idle time between requests, and while it runs the workers
 * wait for its wake, so the first of them to write finds the log wholly
 * copied and starts it again (the checkpointer running them instead: p99
 * 17 -> 23 ms).  The RESTART checkpoint that bounds the log (wal_hook)
 * stays with the committing connection, at a lower mark: a writer that
 * commits back to back would take the lock before the thread every time. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	sqlite3 *db;                 /* the thread's connection */
	char path[PATH_MSG_MAX];     /* its file, as SQLite names it */
	_Atomic unsigned gen;        /* odd while running: hooks look again when it moves */
	bool stop;
	int pages;                   /* the log's length a commit reported (0: nothing asked) */
	int copied;                  /* frames the last checkpoint copied */
	int passive;                 /* frames not copied yet that call for a checkpoint */
	int restart_soon;            /* a log this long, wholly copied: RESTART at once */
	unsigned long runs;
} bg = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* A RESTART checkpoint of db: waits at most wait_ms (writers wait
 * meanwhile) for the other writers and for the readers of older
 * snapshots, copies what is left, and the next write starts the log
 * again.  SQLite's result. */
static int restart(sqlite3 *db, const char *name, int wait_ms)
{
	int rc;

	sqlite3_busy_handler(db, busy_wait, &wait_ms);
	rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	sqlite3_busy_handler(db, busy_wait, NULL);
	return rc;
}

/* A PASSIVE checkpoint: the frames it copied; *whole (may be NULL) when
 * that was the whole log. */
static int passive(sqlite3 *db, const char *name, bool *whole)
{
	int nlog = -1, copied = 0;

	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &nlog, &copied);
	if (whole)
		*whole = nlog > 0 && copied >= nlog;
	return copied;
}

/* ab_db_wal's hook.  A PASSIVE checkpoint never waits, so it cannot copy
 * past a reader's snapshot, and the log starts again from its beginning
 * only when a writer finds it wholly copied while no reader uses it.
 * With the daemon's threads always reading or writing, under a sustained
 * load that never happened and the log grew without end (2.6 GB while
 * 600,000 syslog lines routed to a channel went into the store, every
 * write a new block the kernel zeroes).  So a commit that finds
 * restart_mark pages in the log runs a RESTART checkpoint: it waits, at
 * most RESTART_WAIT_MS (writers waiting meanwhile; the usual busy handler
 * would wait AB_DB_BUSY_MS), for the other writers and for the readers of
 * older snapshots, copies the rest, and the next write starts the log
 * again (journal_size_limit cuts the file back).  When it cannot (busy),
 * this connection tries again a quarter of the mark later.  A connection
 * whose PASSIVE checkpoints the checkpointer runs only tells it the log's
 * length when there is work, and runs that RESTART checkpoint at the
 * checkpointer's restart_soon mark: the thread has copied all but the
 * last thousand pages or so, so it is short, and under a sustained load
 * (which keeps the thread's own RESTART from the lock) the log file
 * peaked at 67-71 MB instead of 130 (the syslog mover: 600,000 lines into
 * the store in the same time). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct ab_db_wal *w = arg;
	unsigned gen = atomic_load(&bg.gen);
	int mark = w->restart_mark;

	if (gen != w->bg_gen) {
		const char *f = sqlite3_db_filename(db, "main");

		w->bg_gen = gen;
		pthread_mutex_lock(&bg.mu);
		w->bg = w->hand_over && (gen & 1) && f && strcmp(f, bg.path) == 0;
		w->bg_restart = bg.restart_soon;
		pthread_mutex_unlock(&bg.mu);
	}
	if (w->bg && w->bg_restart < mark)
		mark = w->bg_restart;
	if (pages < mark)
		w->restart_at = mark;   /* the log started again */
	if (pages >= w->restart_at) {
		w->restart_at = restart(db, name, RESTART_WAIT_MS) == SQLITE_OK ? mark :
			pages + mark / 4;
	} else if (w->bg) {
		pthread_mutex_lock(&bg.mu);
		if (pages < bg.copied)
			bg.copied = 0;      /* the log started again */
		if (pages - bg.copied >= bg.passive && pages > bg.pages) {
			bg.pages = pages;
			pthread_cond_signal(&bg.cv);
		}
		pthread_mutex_unlock(&bg.mu);
	} else if (pages >= w->passive) {
		passive(db, name, NULL);
	}
	return SQLITE_OK;
}

/* The checkpointer's thread: a PASSIVE checkpoint when a commit found
 * bg.passive frames not copied yet.  When it copied the whole of a log of
 * bg.restart_soon pages or more, a RESTART one right after it, waiting at
 * most RESTART_SOON_MS, lets the next write start the log again: with the
 * other threads writing all the time, the log was seldom wholly copied
 * when a writer looked, so it grew to the restart mark, whose RESTART
 * checkpoint then held every writer for 10-35 ms.  This one has a few
 * frames to copy and holds them 0.5 ms (p50); one after every PASSIVE
 * checkpoint held them too often (p99 at half capacity 13.5 -> 17 ms,
 * medians of 6 runs). */
static void *checkpointer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&bg.mu);
	for (;;) {
		int pages, copied;
		bool whole;

		while (!bg.stop && bg.pages == 0)
			pthread_cond_wait(&bg.cv, &bg.mu);
		if (bg.stop)
			break;
		pages = bg.pages;
		bg.pages = 0;
		pthread_mutex_unlock(&bg.mu);
		copied = passive(bg.db, "main", &whole);
		if (whole && pages >= bg.restart_soon &&
		    restart(bg.db, "main", RESTART_SOON_MS) == SQLITE_OK)
			copied = 0;
		pthread_mutex_lock(&bg.mu);
		bg.copied = copied;
		bg.runs++;
	}
	pthread_mutex_unlock(&bg.mu);
	return NULL;
}

int ab_db_checkpointer_start(const char *path, int passive_mark, int restart_soon, char *err,
	size_t errsz)
{
	const char *f;

	if (atomic_load(&bg.gen) & 1) {
		snprintf(err, errsz, "checkpointer: already running");
		return -1;
	}
	if (sqlite3_open_v2(path, &bg.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(bg.db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK ||
	    !(f = sqlite3_db_filename(bg.db, "main")) || strlen(f) >= sizeof bg.path) {
		snprintf(err, errsz, "checkpointer %s: cannot open: %s", path, !bg.db ?
			"out of memory" : sqlite3_errcode(bg.db) == SQLITE_OK ? "the path is too long" :
			sqlite3_errmsg(bg.db));
		sqlite3_close(bg.db);
		bg.db = NULL;
		return -1;
	}
	sqlite3_busy_handler(bg.db, busy_wait, NULL);
	pthread_mutex_lock(&bg.mu);
	snprintf(bg.path, sizeof bg.path, "%s", f);
	bg.stop = false;
	bg.pages = bg.copied = 0;
	bg.runs = 0;
	bg.passive = passive_mark > 0 ? passive_mark : AB_DB_WAL_PASSIVE;
	bg.restart_soon = restart_soon > 0 ? restart_soon : AB_DB_WAL_RESTART / 4;
	pthread_mutex_unlock(&bg.mu);
	if (pthread_create(&bg.th, NULL, checkpointer, NULL) != 0) {
		snprintf(err, errsz, "checkpointer %s: cannot start its thread", path);
		sqlite3_close(bg.db);
		bg.db = NULL;
		return -1;
	}
	pthread_setname_np(bg.th, "ab-checkpoint");
	atomic_fetch_add(&bg.gen, 1);   /* odd: the hooks hand over */
	return 0;
}

unsigned long ab_db_checkpointer_stop(void)
{
	unsigned long runs;

	if (!(atomic_load(&bg.gen) & 1))
		return 0;
	atomic_fetch_add(&bg.gen, 1);   /* even: the hooks checkpoint themselves again */
	pthread_mutex_lock(&bg.mu);
	bg.stop = true;
	pthread_cond_signal(&bg.cv);
	pthread_mutex_unlock(&bg.mu);
	pthread_join(bg.th, NULL);
	sqlite3_close(bg.db);
	bg.db = NULL;
	pthread_mutex_lock(&bg.mu);
	runs = bg.runs;
	bg.path[0] = '\0';
	pthread_mutex_unlock(&bg.mu);
	return runs;
}

void ab_db_wal_init(sqlite3 *db, struct ab_db_wal *w)
{
	w->passive = AB_DB_WAL_PASSIVE;
	w->restart_at = w->restart_mark = AB_DB_WAL_RESTART;
	w->bg_gen = 0;
	w->bg_restart = 0;
	w->bg = w->hand_over = false;
	sqlite3_wal_hook(db, wal_hook, w);
}

void ab_db_wal_hand_over(struct ab_db_wal *w)
{
	w->hand_over = true;
	w->bg_gen = 0;   /* looked up at the next commit */
}

void ab_db_wal_marks(struct ab_db_wal *w, int passive, int restart)
{
	if (passive > 0)
		w->passive = passive;
	if (restart > 0)
		w->restart_at = w->restart_mark = restart;
}

sqlite3_stmt *ab_db_stmt(sqlite3 *db, sqlite3_stmt **slot, const char *sql)
{
	if (*slot) {
		sqlite3_reset(*slot);
		sqlite3_clear_bindings(*slot);
		return *slot;
	}
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
		sqlite3_finalize(*slot);
		*slot = NULL;
		return NULL;
	}
	return *slot;
}

void ab_db_finalize(sqlite3_stmt **slots, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_finalize(slots[i]);
		slots[i] = NULL;
	}
}

int ab_db_run(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errsz, const char *who,
	const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		ab_db_errf(err, errsz, db, who, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

void ab_db_rollback(sqlite3 *db)
{
	if (db && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}
