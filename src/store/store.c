/*
 * store.c - the durable SQLite store: events, delivery jobs, the delivery
 * log and dead letters (jobs in state DEAD).
 *
 * The file is shared by several connections at once (each dispatcher
 * thread, the ingest side and the `alertbridge` tool in other processes),
 * so it runs in WAL mode with synchronous=FULL (a commit is fsynced before
 * the call returns), foreign_keys=ON and a 10 s busy timeout (db.c opens
 * it and runs the schema steps).  Every write
 * is one BEGIN IMMEDIATE transaction; SQL is never built from user strings
 * (all statements are fixed text, prepared once per connection and cached).
 *
 * Schema version 1 (PRAGMA user_version):
 *   events(id, json, received_at)
 *   jobs(id, event_id, channel, kind, payload NULL = use events.json, state,
 *        attempts, created_at, next_at, updated_at, lease_until, last_error)
 *        UNIQUE(event_id, channel): a pair is never queued twice, even when
 *        the same event arrives again after its job is done.  event_id is
 *        not a foreign key: group/digest jobs carry their own payload and
 *        id, with no events row.
 *   delivery_log(id, job_id, event_id, channel, at, attempt, status, code,
 *        latency_ms, error); job_id becomes NULL when the job is dropped.
 * Done jobs are the dedup record.  ab_store_prune (the scheduler, per the
 * `retention` setting) deletes, older than a cutoff: delivery_log rows,
 * DONE jobs (never queued, running or dead ones), and events that no job
 * and no reminder row references, in short transactions; the dedup record
 * is therefore the retention window.
 * Schema version 2 adds the routing noise-control state (noise.c):
 *   throttle(rule, key, window_end, suppressed)
 *   groups(id, rule, key, group_by, channels, first_at, last_at, due_at,
 *        last_flush, count), items(seq, scope, severity, at, json),
 *   counts(scope, dim, name, n), digests(rule, period_start, next_at),
 *   reminders(id, event_id, rule, offset_ms, fire_at, channels, json, done).
 * Schema version 3 adds channel health (the dispatcher's state machine in
 * deliver/health.c keeps it here):
 *   channel_health(channel, state, failures, reason, since, last_ok,
 *        last_fail), one row per channel.
 * Schema version 4 adds people: jobs(..., recipient, recipients) with
 *        UNIQUE(event_id, channel, recipient) ("" for a channel's job, a
 *        user name or "@all" for people), delivery_log.recipient, and
 *        prefs(user, pattern, kind, value, set_at) with prefs_gen (a change
 *        counter kept by triggers; prefsdb.c).
 * Schema version 5 adds logins(user, hash, set_at): the web console's
 *        passwords as Argon2id hashes (logindb.c).
 * Schema version 6 adds lifecycle by fingerprint: jobs.fp and
 *        threads(channel, recipient, fingerprint, event_id, ref, first_at,
 *        last_at, count).
 * Schema version 7 makes what the syslog mover writes appends: events(id,
 *        key, json, received_at) found by key = ab_id_key(id) (db.c) and
 *        id, jobs.event_row = the event's rowid under UNIQUE(event_row,
 *        channel, recipient), and jobs_free: UNIQUE(event_id, channel,
 *        recipient) for the jobs with no events row (groups, digests).
 * An older store is migrated in place when opened (db.c runs the steps
 * from its version on; a channel_health table that an older alertbridge
 * created outside the versioned schema is kept as it is).
 *
 * Public: ab_store_open, ab_store_close, ab_store_errmsg, ab_store_enqueue,
 * ab_store_enqueue_payload, ab_store_enqueue_people, ab_store_claim, ab_store_claim_batch, ab_job_clear,
 * ab_store_finish, ab_store_finish_batch, ab_store_release, ab_store_count_due,
 * ab_store_requeue_running, ab_store_next_due, ab_store_retry,
 * ab_store_retry_dead, ab_store_drop, ab_store_list_jobs, ab_store_list_log,
 * ab_store_count, ab_store_job_stats, ab_store_event_json, ab_store_event_exists, ab_job_state_name,
 * ab_status_name,
 * ab_store_begin, ab_store_commit, ab_store_rollback (group commit), ab_store_set_bulk,
 * ab_store_set_relaxed, ab_store_set_min_free, ab_store_room, ab_store_room_low (the
 * free-space watermark of new alerts),
 * ab_store_prune (retention),
 * ab_store_set_held (claim and next-due skip the queued jobs of the held -
 * disabled - channels of this connection; they stay queued, unattempted),
 * ab_store_defer (a claimed job over its channel's rate goes back, its
 * attempt not counted), ab_store_claim_probe and ab_store_resume_channel
 * (the circuit breaker: a paused channel's probe, and its queue due again), ab_store_health_get, ab_store_health_put,
 * ab_store_health_list (channel health), ab_store_set_wal_marks (tests: the
 * checkpoint marks), ab_store_checkpointer_start, ab_store_checkpointer_stop (the
 * daemon's checkpoint thread, db.c), ab_store_set_fault (tests: the next
 * claims, finishes, releases or requeues fail as on a full disk); for the layer's other files
 * (store_int.h): ab_store_set_err, ab_store_run.
 *
 * Diagnostics: functions return -1 and keep a message for ab_store_errmsg()
 * ("store: enqueue: database is locked", "store PATH: schema version 7 is
 * newer than this alertbridge supports (3): ..."); ab_store_open writes its
 * message into err.  List callbacks get borrowed rows and must not call
 * back into the same struct ab_store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "store/store.h"
#include "store/store_int.h"

#define STORE_SCHEMA_VERSION 7
#define STORE_ERROR_MAX 512        /* last_error / delivery_log.error cap */
#define STORE_CHANNEL_MAX 256      /* channel name length cap */
#define STORE_MAX_CHANNELS 4096    /* channels per enqueue */
#define STORE_JSON_KEEP (256 * 1024)  /* reused event JSON buffer kept up to this */
#define STORE_BULK_CACHE_KB 16384     /* ab_store_set_bulk: page cache */
#define STORE_BULK_CHECKPOINT 8000    /* ab_store_set_bulk: WAL pages (32 MB) */
#define STORE_PRUNE_MAX_CHUNKS 50     /* ab_store_prune: transactions per call */
#define STORE_PRUNE_PAUSE_NS 1000000L /* between full chunks: let other writers in */

enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INS_EVENT,
	ST_INS_JOB,
	ST_CLAIM_PICK,
	ST_CLAIM_MARK,
	ST_LOG_ADD,
	ST_FINISH,
	ST_REQUEUE,
	ST_NEXT_DUE,
	ST_RETRY,
	ST_RETRY_DEAD,
	ST_JOB_STATE,
	ST_DROP,
	ST_LIST_JOBS,
	ST_LIST_LOG_ALL,
	ST_LIST_LOG_CH,
	ST_COUNT,
	ST_JOB_STATS,
	ST_EVENT_JSON,
	ST_CLAIM_PICK_HELD,     /* ab_store_set_held: jobs of disabled channels wait */
	ST_NEXT_DUE_HELD,
	ST_EVENT_ROW,
	ST_COUNT_DUE,
	ST_RELEASE,
	ST_PRUNE_LOG,
	ST_PRUNE_JOBS,
	ST_PRUNE_EVENTS,
	ST_DEFER,
	ST_HEALTH_GET,
	ST_HEALTH_PUT,
	ST_HEALTH_LIST,
	ST_CLAIM_PROBE,
	ST_RESUME,
	ST_INS_JOB_TO,
	ST_THREAD,
	ST_PRUNE_THREADS,
	ST_THREAD_GET,
	ST_KNOWS,
	ST_COUNT_ALL
};
_Static_assert(ST_COUNT_ALL <= AB_STORE_QUEUE_STMTS, "raise AB_STORE_QUEUE_STMTS");

/* Job columns shared by claim and listing (order matters: see job_fill). */
#define JOB_COLS "j.id, j.event_id, j.channel, j.kind, COALESCE(j.payload, e.json), " \
	"j.state, j.attempts, j.created_at, j.next_at, j.updated_at, j.last_error, " \
	"j.recipient, j.recipients, j.fp, t.event_id, t.ref, t.first_at, t.count"
/* the first delivery of the job's fingerprint on its channel (and to its
 * recipient), if any: a lookup by primary key, only for jobs with one */
#define JOB_FROM " FROM jobs j LEFT JOIN events e ON e.rowid = j.event_row " \
	"LEFT JOIN threads t ON j.fp IS NOT NULL AND t.channel = j.channel AND " \
	"t.recipient = j.recipient AND t.fingerprint = j.fp "
/* The first rowid of table whose time column is not older than ?1 (the
 * end of the retention scan), or past the last row. */
#define PRUNE_BOUND(table, col) "COALESCE((SELECT rowid FROM " table " WHERE " col \
	" >= ?1 ORDER BY rowid LIMIT 1), 9223372036854775807)"
/* An event by its id ?1: through the id's integer key (ab_id_key, db.c). */
#define EVENT_BY_ID " FROM events WHERE key = ab_id_key(?1) AND id = ?1"
#define LOG_COLS "SELECT id, job_id, event_id, channel, at, attempt, status, code, " \
	"latency_ms, error, recipient FROM delivery_log "

static const char *const sql_text[ST_COUNT_ALL] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* after ST_EVENT_ROW found none (an INSERT ... SELECT ... WHERE NOT
	 * EXISTS on events would stage its row in a temporary table) */
	[ST_INS_EVENT] = "INSERT INTO events(id, key, json, received_at) "
		"VALUES(?1, ab_id_key(?1), ?2, ?3)",
	[ST_EVENT_ROW] = "SELECT rowid" EVENT_BY_ID,
	[ST_INS_JOB] = "INSERT OR IGNORE INTO jobs(event_id, event_row, channel, kind, payload, "
		"state, attempts, created_at, next_at, updated_at, fp) "
		"VALUES(?1, ?7, ?2, ?3, ?4, 0, 0, ?5, ?5, ?5, ?6)",
	[ST_INS_JOB_TO] = "INSERT OR IGNORE INTO jobs(event_id, event_row, channel, kind, payload, "
		"state, attempts, created_at, next_at, updated_at, recipient, recipients, fp) "
		"VALUES(?1, ?6, ?2, 0, NULL, 0, 0, ?3, ?3, ?3, ?4, ?5, (SELECT NULLIF(json_extract("
		"json, '$.fingerprint'), '') FROM events WHERE rowid = ?6))",
	/* the first delivery of a fingerprint is kept (its reference replaced
	 * only by a delivery that reports one: a new message); later ones count */
	[ST_THREAD] = "INSERT INTO threads(channel, recipient, fingerprint, event_id, ref, "
		"first_at, last_at, count) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, 1) "
		"ON CONFLICT(channel, fingerprint, recipient) DO UPDATE SET last_at = ?6, "
		"count = count + (event_id != ?4), "
		/* a new top-level message (the first one was gone) is followed from now */
		"ref = CASE WHEN ?5 <> '' THEN ?5 ELSE ref END",
	[ST_THREAD_GET] = "SELECT event_id, ref, first_at, last_at, count FROM threads "
		"WHERE channel = ?1 AND recipient = ?2 AND fingerprint = ?3",
	[ST_KNOWS] = "SELECT EXISTS (SELECT 1 FROM threads WHERE channel = ?1 AND fingerprint = ?2)"
		" OR EXISTS (SELECT 1 FROM jobs WHERE fp = ?2 AND channel = ?1 AND state != 3)",
	[ST_PRUNE_THREADS] = "DELETE FROM threads WHERE rowid IN (SELECT rowid FROM threads "
		"WHERE last_at < ?1 LIMIT ?2)",
	[ST_CLAIM_PICK] = "SELECT " JOB_COLS JOB_FROM
		"WHERE j.state = 0 AND j.next_at <= ?1 ORDER BY j.next_at, j.id LIMIT ?3",
	[ST_CLAIM_MARK] = "UPDATE jobs SET state = 1, attempts = attempts + 1, lease_until = ?2, "
		"updated_at = ?3 WHERE id = ?1 AND state = 0",
	/* attempt: counts on across a replay (queue retry resets the job's
	 * retry budget, not the history) */
	[ST_LOG_ADD] = "INSERT INTO delivery_log(job_id, event_id, channel, at, attempt, status, "
		"code, latency_ms, error, recipient) VALUES(?1, ?2, ?3, ?4, MAX(?5, (SELECT "
		"COALESCE(MAX(attempt), 0) + 1 FROM delivery_log WHERE job_id = ?1)), ?6, ?7, ?8, "
		"?9, ?10)",
	[ST_FINISH] = "UPDATE jobs SET state = ?2, next_at = ?3, updated_at = ?4, "
		"lease_until = NULL, last_error = ?5 WHERE id = ?1 AND state = 1 AND attempts = ?6",
	[ST_REQUEUE] = "UPDATE jobs SET state = 0, lease_until = NULL, updated_at = ?1 "
		"WHERE state = 1 AND (?2 OR lease_until IS NULL OR lease_until <= ?1)",
	[ST_NEXT_DUE] = "SELECT MIN(next_at) FROM jobs WHERE state = 0",
	[ST_RETRY] = "UPDATE jobs SET state = 0, next_at = ?2, attempts = 0, updated_at = ?2, "
		"lease_until = NULL WHERE id = ?1 AND state IN (0, 3)",
	[ST_RETRY_DEAD] = "UPDATE jobs SET state = 0, next_at = ?1, attempts = 0, updated_at = ?1, "
		"lease_until = NULL WHERE state = 3",
	[ST_JOB_STATE] = "SELECT state FROM jobs WHERE id = ?1",
	[ST_DROP] = "DELETE FROM jobs WHERE id = ?1 AND state <> 1",
	[ST_LIST_JOBS] = "SELECT " JOB_COLS JOB_FROM
		"WHERE j.state IN (?1, ?2, ?3, ?4) ORDER BY j.id",
	[ST_LIST_LOG_ALL] = LOG_COLS "ORDER BY id DESC LIMIT ?1",
	[ST_LIST_LOG_CH] = LOG_COLS "WHERE channel = ?2 ORDER BY id DESC LIMIT ?1",
	[ST_COUNT] = "SELECT COUNT(*) FROM jobs WHERE state = ?1",
	[ST_JOB_STATS] = "SELECT channel, state, COUNT(*), MIN(created_at) FROM jobs "
		"WHERE state <> 2 GROUP BY channel, state",
	[ST_EVENT_JSON] = "SELECT json" EVENT_BY_ID,
	[ST_COUNT_DUE] = "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE state = 0 AND "
		"next_at <= ?1 LIMIT ?2)",
	[ST_RELEASE] = "UPDATE jobs SET state = 0, attempts = MAX(attempts - 1, 0), "
		"lease_until = NULL, updated_at = ?2 WHERE id = ?1 AND state = 1 AND attempts = ?3",
	/* a release that also moves next_at (over the channel's rate) */
	[ST_DEFER] = "UPDATE jobs SET state = 0, attempts = MAX(attempts - 1, 0), "
		"lease_until = NULL, updated_at = ?2, next_at = ?4 WHERE id = ?1 AND state = 1 "
		"AND attempts = ?3",
	[ST_HEALTH_GET] = "SELECT state, failures, since, last_ok, last_fail FROM channel_health "
		"WHERE channel = ?1",
	/* ?8: a success (keeps reason and last_fail) or a failure (keeps last_ok) */
	[ST_HEALTH_PUT] = "INSERT INTO channel_health(channel, state, failures, reason, since, "
		"last_ok, last_fail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
		"ON CONFLICT(channel) DO UPDATE SET state = ?2, failures = ?3, "
		"reason = CASE WHEN ?8 THEN reason ELSE ?4 END, since = ?5, "
		"last_ok = CASE WHEN ?8 THEN ?6 ELSE last_ok END, "
		"last_fail = CASE WHEN ?8 THEN last_fail ELSE ?7 END",
	[ST_HEALTH_LIST] = "SELECT channel, state, failures, COALESCE(reason, ''), since, "
		"last_ok, last_fail FROM channel_health ORDER BY channel",
	/* the circuit breaker's probe: the channel's oldest queued job, due or not */
	[ST_CLAIM_PROBE] = "SELECT " JOB_COLS JOB_FROM
		"WHERE j.state = 0 AND j.channel = ?1 ORDER BY j.created_at, j.id LIMIT 1",
	/* a channel that works again: its queued jobs due in the order they came */
	[ST_RESUME] = "UPDATE jobs SET next_at = created_at WHERE state = 0 AND channel = ?1 "
		"AND next_at > created_at",
	[ST_CLAIM_PICK_HELD] = "SELECT " JOB_COLS JOB_FROM
		"WHERE j.state = 0 AND j.next_at <= ?1 AND j.channel NOT IN "
		"(SELECT value FROM json_each(?2)) ORDER BY j.next_at, j.id LIMIT ?3",
	[ST_NEXT_DUE_HELD] = "SELECT MIN(next_at) FROM jobs WHERE state = 0 AND channel NOT IN "
		"(SELECT value FROM json_each(?1))",
	/* Retention (ab_store_prune): ?1 = cutoff, ?2 = rows per transaction.
	 * Rows are stored in time order, so each scan stops at the first row
	 * (by rowid) that is recent: the scalar subquery runs once and skips
	 * only the old rows that stay, never the whole table (no time index).
	 * "+state": walk jobs by rowid, not all done jobs through jobs_due. */
	[ST_PRUNE_LOG] = "DELETE FROM delivery_log WHERE id IN (SELECT id FROM delivery_log "
		"WHERE id < " PRUNE_BOUND("delivery_log", "at") " AND at < ?1 ORDER BY id LIMIT ?2)",
	[ST_PRUNE_JOBS] = "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs "
		"WHERE id < " PRUNE_BOUND("jobs", "created_at") " AND +state = 2 AND "
		"updated_at < ?1 ORDER BY id LIMIT ?2)",
	[ST_PRUNE_EVENTS] = "DELETE FROM events WHERE rowid IN (SELECT e.rowid FROM events e "
		"WHERE e.rowid < " PRUNE_BOUND("events", "received_at") " AND "
		"e.received_at < ?1 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE "
		"j.event_row = e.rowid) AND NOT EXISTS (SELECT 1 FROM reminders r WHERE "
		"r.event_id = e.id) ORDER BY e.rowid LIMIT ?2)",
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS events ("
	" id TEXT PRIMARY KEY,"
	" json TEXT NOT NULL,"
	" received_at INTEGER);"
	"CREATE TABLE IF NOT EXISTS jobs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" event_id TEXT NOT NULL,"
	" channel TEXT NOT NULL,"
	" kind INTEGER NOT NULL DEFAULT 0,"
	" payload TEXT,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" next_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" lease_until INTEGER,"
	" last_error TEXT,"
	" UNIQUE(event_id, channel));"
	"CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, next_at);"
	"CREATE TABLE IF NOT EXISTS delivery_log ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,"
	" event_id TEXT NOT NULL,"
	" channel TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" attempt INTEGER NOT NULL,"
	" status INTEGER NOT NULL,"
	" code INTEGER NOT NULL DEFAULT 0,"
	" latency_ms INTEGER NOT NULL DEFAULT 0,"
	" error TEXT);"
	"CREATE INDEX IF NOT EXISTS delivery_log_channel ON delivery_log(channel, id);"
	"CREATE INDEX IF NOT EXISTS delivery_log_job ON delivery_log(job_id);";

/* Version 2: routing state (throttle, groups, digests, reminders; noise.c). */
static const char schema_v2_sql[] =
	"CREATE TABLE IF NOT EXISTS throttle (rule TEXT NOT NULL, key TEXT NOT NULL,"
	" window_end INTEGER NOT NULL, suppressed INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(rule, key));"
	"CREATE TABLE IF NOT EXISTS groups (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" rule TEXT NOT NULL, key TEXT NOT NULL, group_by TEXT NOT NULL, channels TEXT NOT NULL,"
	" first_at INTEGER, last_at INTEGER, due_at INTEGER, last_flush INTEGER NOT NULL DEFAULT 0,"
	" count INTEGER NOT NULL DEFAULT 0, UNIQUE(rule, key));"
	"CREATE INDEX IF NOT EXISTS groups_due ON groups(due_at);"
	"CREATE TABLE IF NOT EXISTS items (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" scope TEXT NOT NULL, severity INTEGER NOT NULL, at INTEGER NOT NULL, json TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS items_scope ON items(scope, severity, seq);"
	"CREATE TABLE IF NOT EXISTS counts (scope TEXT NOT NULL, dim TEXT NOT NULL,"
	" name TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(scope, dim, name));"
	"CREATE TABLE IF NOT EXISTS digests (rule TEXT PRIMARY KEY,"
	" period_start INTEGER NOT NULL, next_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS reminders (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" event_id TEXT NOT NULL, rule TEXT NOT NULL, offset_ms INTEGER NOT NULL,"
	" fire_at INTEGER NOT NULL, channels TEXT NOT NULL, json TEXT NOT NULL,"
	" done INTEGER NOT NULL DEFAULT 0, UNIQUE(event_id, rule, offset_ms));"
	"CREATE INDEX IF NOT EXISTS reminders_due ON reminders(done, fire_at);";

/* Version 3: channel health (deliver/health.c's state).  IF NOT EXISTS: a
 * version 2 store may have the table already, made by an older dispatcher
 * outside the versioned schema, with these columns. */
static const char schema_v3_sql[] =
	"CREATE TABLE IF NOT EXISTS channel_health ("
	" channel TEXT PRIMARY KEY,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT,"
	" since INTEGER NOT NULL DEFAULT 0,"
	" last_ok INTEGER NOT NULL DEFAULT 0,"
	" last_fail INTEGER NOT NULL DEFAULT 0);";

/* Version 4: people.  A job may be for people (recipient: a user name, or
 * "@all" for one message to several; recipients: their JSON), so jobs is
 * rebuilt with UNIQUE(event_id, channel, recipient) - its rows, ids and
 * id sequence kept, the delivery log still pointing at them (db.c runs
 * the step with foreign keys off).  The delivery log says whom an attempt
 * was for; prefs holds each user's preferences, and prefs_gen counts
 * their changes (triggers), so that a reader knows when to read again. */
/* The jobs table as versions 4 and later rebuild it: its columns, with
 * ref (how a job names its event) after event_id ... */
#define JOBS_COLUMNS(ref) \
	" id INTEGER PRIMARY KEY AUTOINCREMENT," \
	" event_id TEXT NOT NULL," \
	ref \
	" channel TEXT NOT NULL," \
	" kind INTEGER NOT NULL DEFAULT 0," \
	" payload TEXT," \
	" state INTEGER NOT NULL DEFAULT 0," \
	" attempts INTEGER NOT NULL DEFAULT 0," \
	" created_at INTEGER NOT NULL," \
	" next_at INTEGER NOT NULL," \
	" updated_at INTEGER NOT NULL," \
	" lease_until INTEGER," \
	" last_error TEXT," \
	" recipient TEXT NOT NULL DEFAULT ''," \
	" recipients TEXT,"
/* ... and the new table tmp, filled, put in its place: the id sequence
 * kept, the old table and its indexes gone, jobs_due made again. */
#define JOBS_REPLACE(tmp) \
	"DELETE FROM sqlite_sequence WHERE name = '" tmp "';" \
	"UPDATE sqlite_sequence SET name = '" tmp "' WHERE name = 'jobs';" \
	"DROP TABLE jobs;" \
	"ALTER TABLE " tmp " RENAME TO jobs;" \
	"CREATE INDEX jobs_due ON jobs(state, next_at);"

static const char schema_v4_sql[] =
	"CREATE TABLE jobs_v4 (" JOBS_COLUMNS("") " UNIQUE(event_id, channel, recipient));"
	"INSERT INTO jobs_v4(id, event_id, channel, kind, payload, state, attempts, created_at,"
	" next_at, updated_at, lease_until, last_error) SELECT id, event_id, channel, kind,"
	" payload, state, attempts, created_at, next_at, updated_at, lease_until, last_error"
	" FROM jobs;"
	JOBS_REPLACE("jobs_v4")
	"ALTER TABLE delivery_log ADD COLUMN recipient TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE prefs (user TEXT NOT NULL, pattern TEXT NOT NULL, kind TEXT NOT NULL,"
	" value INTEGER NOT NULL, set_at INTEGER NOT NULL, PRIMARY KEY(user, pattern, kind));"
	"CREATE TABLE prefs_gen (id INTEGER PRIMARY KEY CHECK (id = 1), gen INTEGER NOT NULL);"
	"INSERT INTO prefs_gen VALUES (1, 0);"
	"CREATE TRIGGER prefs_ins AFTER INSERT ON prefs BEGIN"
	" UPDATE prefs_gen SET gen = gen + 1; END;"
	"CREATE TRIGGER prefs_upd AFTER UPDATE ON prefs BEGIN"
	" UPDATE prefs_gen SET gen = gen + 1; END;"
	"CREATE TRIGGER prefs_del AFTER DELETE ON prefs BEGIN"
	" UPDATE prefs_gen SET gen = gen + 1; END;";

/* Version 5: the web console's local accounts (logindb.c): an Argon2id
 * hash per user name. */
static const char schema_v5_sql[] =
	"CREATE TABLE logins (user TEXT PRIMARY KEY, hash TEXT NOT NULL,"
	" set_at INTEGER NOT NULL);";

/* Version 6: lifecycle by fingerprint.  A job of an event with a
 * fingerprint carries it (fp); threads keeps, per channel, recipient and
 * fingerprint, the first delivery (its event and the service's reference,
 * e.g. a Slack message's ts) and counts the later ones, within the
 * retention window. */
static const char schema_v6_sql[] =
	"ALTER TABLE jobs ADD COLUMN fp TEXT;"
	"CREATE INDEX jobs_fp ON jobs(fp) WHERE fp IS NOT NULL;"
	"CREATE TABLE threads (channel TEXT NOT NULL, recipient TEXT NOT NULL,"
	" fingerprint TEXT NOT NULL, event_id TEXT NOT NULL, ref TEXT NOT NULL DEFAULT '',"
	" first_at INTEGER NOT NULL, last_at INTEGER NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(channel, fingerprint, recipient));"
	"CREATE INDEX threads_last ON threads(last_at);";

/* Version 7: rows the syslog mover appends.  The events' id (a random
 * content hash) was the primary key and jobs were UNIQUE(event_id, ...):
 * two indexes keyed by random text, so once they outgrew the page cache
 * every line routed dirtied a leaf of each, anywhere in them (the mover's
 * cost per line tripled as the store grew to 600,000 events).  Now events
 * are found by key, the id's 64-bit integer (ab_id_key, db.c; not unique:
 * the id is compared too), in an index a quarter the size, and a job
 * refers to its event's rowid (event_row), so the jobs' unique index is
 * an append.  A job with no events row (a group's or a digest's message)
 * has event_row NULL and stays unique by its event_id (jobs_free).  Both
 * tables are rebuilt with their rowids and the jobs' id sequence kept, so
 * the delivery log's job_id, reminders and threads still point right. */
static const char schema_v7_sql[] =
	"CREATE TABLE events_v7 (id TEXT NOT NULL, key INTEGER NOT NULL, json TEXT NOT NULL,"
	" received_at INTEGER);"
	"INSERT INTO events_v7(rowid, id, key, json, received_at) SELECT rowid, id,"
	" ab_id_key(id), json, received_at FROM events ORDER BY rowid;"
	"DROP TABLE events;"
	"ALTER TABLE events_v7 RENAME TO events;"
	"CREATE INDEX events_key ON events(key);"
	"CREATE TABLE jobs_v7 (" JOBS_COLUMNS(" event_row INTEGER,") " fp TEXT,"
	" UNIQUE(event_row, channel, recipient));"
	"INSERT INTO jobs_v7(id, event_id, event_row, channel, kind, payload, state, attempts,"
	" created_at, next_at, updated_at, lease_until, last_error, recipient, recipients, fp)"
	" SELECT j.id, j.event_id, (SELECT e.rowid FROM events e WHERE e.key ="
	" ab_id_key(j.event_id) AND e.id = j.event_id), j.channel, j.kind, j.payload, j.state,"
	" j.attempts, j.created_at, j.next_at, j.updated_at, j.lease_until, j.last_error,"
	" j.recipient, j.recipients, j.fp FROM jobs j ORDER BY j.id;"
	JOBS_REPLACE("jobs_v7")
	"CREATE INDEX jobs_fp ON jobs(fp) WHERE fp IS NOT NULL;"
	"CREATE UNIQUE INDEX jobs_free ON jobs(event_id, channel, recipient)"
	" WHERE event_row IS NULL;";

/* schema_steps[v] takes a store at version v to v + 1 (db.c). */
static const char *const schema_steps[STORE_SCHEMA_VERSION] = {
	schema_sql, schema_v2_sql, schema_v3_sql, schema_v4_sql, schema_v5_sql, schema_v6_sql,
	schema_v7_sql,
};

/* ab_store_set_fault: which operations fail, and how many more times. */
static atomic_uint fault_ops;
static atomic_int fault_left;

void ab_store_set_fault(unsigned ops, int count)
{
	atomic_store(&fault_left, count);
	atomic_store(&fault_ops, count ? ops : 0);
}

/* Is this call of op to fail (fault injection)?  -1 with the error set. */
static int fault(struct ab_store *s, unsigned op, const char *what)
{
	int left;

	if (!(atomic_load(&fault_ops) & op))
		return 0;
	left = atomic_load(&fault_left);
	for (;;) {
		if (left == 0)
			return 0;
		if (left < 0 || atomic_compare_exchange_weak(&fault_left, &left, left - 1))
			break;
	}
	snprintf(s->err, sizeof s->err, "store: %s: database or disk is full (injected fault)",
		what);
	return -1;
}

void ab_store_set_err(struct ab_store *s, const char *what)
{
	ab_db_errf(s->err, sizeof s->err, s->db, "store", what);
}

const char *ab_store_errmsg(struct ab_store *s)
{
	return s ? s->err : "store: not open";
}

/* The cached statement, reset and with bindings cleared; NULL on error. */
static sqlite3_stmt *stmt(struct ab_store *s, int which)
{
	sqlite3_stmt *st = ab_db_stmt(s->db, &s->st[which], sql_text[which]);

	if (!st)
		ab_store_set_err(s, "prepare");
	return st;
}

/* Run a statement that returns no rows; 0 or -1. */
int ab_store_run(struct ab_store *s, sqlite3_stmt *st, const char *what)
{
	return ab_db_run(s->db, st, s->err, sizeof s->err, "store", what);
}


static int tx_begin(struct ab_store *s, const char *what)
{
	sqlite3_stmt *st = stmt(s, ST_BEGIN);

	return st ? ab_store_run(s, st, what) : -1;
}

static void tx_rollback(struct ab_store *s)
{
	sqlite3_stmt *st;

	if (sqlite3_get_autocommit(s->db))
		return; /* already rolled back by SQLite */
	st = stmt(s, ST_ROLLBACK);
	if (st) {
		sqlite3_step(st);
		sqlite3_reset(st);
	} else {
		ab_db_rollback(s->db);
	}
}

static int tx_commit(struct ab_store *s, const char *what)
{
	sqlite3_stmt *st = stmt(s, ST_COMMIT);

	if (!st || ab_store_run(s, st, what) < 0) {
		tx_rollback(s);
		return -1;
	}
	return 0;
}

void ab_store_set_wal_marks(struct ab_store *s, int passive, int restart)
{
	ab_db_wal_marks(&s->wal, passive, restart);
}

int ab_store_checkpointer_start(const char *path, int passive, int restart_soon, char *err,
	size_t errsz)
{
	return ab_db_checkpointer_start(path, passive, restart_soon, err, errsz);
}

unsigned long ab_store_checkpointer_stop(void)
{
	return ab_db_checkpointer_stop();
}

/* ab_db_open's word before a schema update (store version 7 rebuilds two
 * tables: some 13 s per 600,000 events). */
static void schema_notice(const char *msg)
{
	ab_log(AB_LOG_NOTICE, "%s", msg);
}

struct ab_store *ab_store_open(const char *path, char *err, size_t errsz)
{
	struct ab_store *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, errsz, "store %s: out of memory", path ? path : "");
		return NULL;
	}
	ab_buf_init(&s->json, AB_EVENT_JSON_MAX);
	ab_diskroom_init(&s->room, path, "store", 0);
	s->db = ab_db_open(path, "store", schema_steps, STORE_SCHEMA_VERSION, schema_notice,
		err, errsz);
	if (!s->db) {
		free(s);
		return NULL;
	}
	ab_db_wal_init(s->db, &s->wal);   /* checkpoints; a bounded log (db.c) */
	return s;
}

/* Bulk writer (the syslog input's group commits): a page cache that holds
 * what a batch touches, so pages are not read back from the WAL, and a
 * checkpoint only every STORE_BULK_CHECKPOINT pages instead of SQLite's
 * 1000: index pages that every batch rewrites are copied to the database
 * once per checkpoint, not once per 4 MB of log.  The delivery workers'
 * connections (ab_store_set_relaxed) checkpoint as rarely; whichever
 * commit crosses the mark runs it.  While the daemon's checkpointer runs
 * (ab_store_checkpointer_start), this connection's PASSIVE checkpoints
 * are its (db.c: every 1000 pages, off this thread). */
int ab_store_set_bulk(struct ab_store *s)
{
	char sql[96];

	snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", STORE_BULK_CACHE_KB);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		ab_store_set_err(s, "bulk settings");
		return -1;
	}
	ab_db_wal_marks(&s->wal, STORE_BULK_CHECKPOINT, 0);
	ab_db_wal_hand_over(&s->wal);
	return 0;
}

/* Delivery workers' connections: synchronous=NORMAL.  In WAL mode a commit
 * is then written to the log but not fsynced; it survives a crash of the
 * process (kill -9), and only an OS crash or power loss can lose the last
 * commits before the next fsync (the next FULL commit of another
 * connection, e.g. ingest, or a checkpoint, syncs them too: one WAL file).
 * The database stays consistent either way.  What such a loss undoes is
 * claims (the job is queued again), outcomes and delivery log rows (the job
 * is delivered again) and health rows: each a duplicate delivery at worst,
 * which at-least-once allows and receivers dedupe by event id; never a
 * lost alert, since events and their jobs are written by FULL connections.
 * (A health event the worker queues goes with the health row that caused
 * it: both undone, both redone at the channel's next change.)  Saves two
 * fsyncs per claimed batch on a steady stream.
 * Checkpoints as the bulk writer's (every STORE_BULK_CHECKPOINT pages, not
 * SQLite's 1000): on a steady stream each alert adds some 15 WAL frames of
 * the same few index and table pages, so with 1000 the workers ran a
 * checkpoint (copy + fsync of the database) every ~70 alerts, about a
 * tenth of their CPU; 8 times rarer copies each hot page 8 times less. */
int ab_store_set_relaxed(struct ab_store *s)
{
	if (sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		ab_store_set_err(s, "relaxed sync");
		return -1;
	}
	ab_db_wal_marks(&s->wal, STORE_BULK_CHECKPOINT, 0);
	return 0;
}

int ab_store_sync(struct ab_store *s)
{
	const char *db = sqlite3_db_filename(s->db, "main");
	const char *wal = db && *db ? sqlite3_filename_wal(db) : NULL;
	int fd, rc;

	if (!wal || !*wal)
		return 0;   /* not a file: nothing to sync */
	fd = open(wal, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;   /* no log: the last checkpoint synced the database */
		snprintf(s->err, sizeof s->err, "store: sync: %s: %s", wal, strerror(errno));
		return -1;
	}
	rc = fdatasync(fd);
	if (rc < 0)
		snprintf(s->err, sizeof s->err, "store: sync: %s: %s", wal, strerror(errno));
	close(fd);
	return rc < 0 ? -1 : 0;
}

void ab_store_close(struct ab_store *s)
{
	if (!s)
		return;
	ab_db_finalize(s->st, ST_COUNT_ALL);
	ab_db_finalize(s->nz, AB_STORE_NOISE_STMTS);
	ab_db_finalize(s->pf, AB_STORE_PREFS_STMTS);
	ab_db_finalize(s->lg, AB_STORE_LOGIN_STMTS);
	ab_prefs_free(s->prefs);
	sqlite3_close(s->db);
	free(s->held);
	ab_buf_free(&s->json);
	free(s);
}

static bool channel_ok(const char *ch)
{
	return ch && *ch && strlen(ch) <= STORE_CHANNEL_MAX;
}

static bool event_id_ok(const char *id)
{
	size_t n;

	if (!id)
		return false;
	n = strlen(id);
	return n > 0 && n <= AB_ID_LEN;
}

/* The rowid of event id's row into *row: 1, 0 when there is none, -1 on
 * error. */
static int event_row(struct ab_store *s, const char *id, int64_t *row)
{
	sqlite3_stmt *st = stmt(s, ST_EVENT_ROW);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*row = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		ab_store_set_err(s, "event");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Shared body of both enqueue calls.  event_json NULL: no event row
 * (a message of its own; its jobs still refer to the event if it has one). */
static int enqueue(struct ab_store *s, const char *event_id, const char *event_json,
	int64_t received_at, int kind, const char *payload, const char *fp,
	const char *const *channels, size_t n, int64_t now, int *added)
{
	sqlite3_stmt *st;
	int64_t row = 0;
	int count = 0, have_row;

	if (added)
		*added = 0;
	if (!event_id_ok(event_id)) {
		snprintf(s->err, sizeof s->err, "store: enqueue: bad event id (1 to %d characters)",
			AB_ID_LEN);
		goto fail;
	}
	if (n > STORE_MAX_CHANNELS || (n > 0 && !channels)) {
		snprintf(s->err, sizeof s->err, "store: enqueue: bad channel list");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (!channel_ok(channels[i])) {
			snprintf(s->err, sizeof s->err, "store: enqueue: bad channel name "
				"(1 to %d characters)", STORE_CHANNEL_MAX);
			goto fail;
		}
	}
	if (s->batch_failed) {
		snprintf(s->err, sizeof s->err, "store: enqueue: the batch was rolled back");
		return -1;
	}
	if (!s->batch && tx_begin(s, "enqueue") < 0)
		return -1;
	if ((have_row = event_row(s, event_id, &row)) < 0)
		goto fail;
	if (event_json && !have_row) {   /* an event seen before keeps its row */
		if (!(st = stmt(s, ST_INS_EVENT)))
			goto fail;
		sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, event_json, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, received_at);
		if (ab_store_run(s, st, "enqueue: event") < 0)
			goto fail;
		row = sqlite3_last_insert_rowid(s->db);
		have_row = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(st = stmt(s, ST_INS_JOB)))
			goto fail;
		sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, channels[i], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, kind);
		if (payload)
			sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_int64(st, 5, now);
		if (fp && *fp)
			sqlite3_bind_text(st, 6, fp, -1, SQLITE_STATIC);
		if (have_row)
			sqlite3_bind_int64(st, 7, row);
		if (ab_store_run(s, st, "enqueue: job") < 0)
			goto fail;
		count += sqlite3_changes(s->db);
	}
	if (!s->batch && tx_commit(s, "enqueue: commit") < 0)
		return -1;
	if (added)
		*added = count;
	return 0;
fail:
	tx_rollback(s);
	if (s->batch)
		s->batch_failed = true;
	return -1;
}

void ab_store_set_min_free(struct ab_store *s, uint64_t bytes)
{
	ab_diskroom_set(&s->room, bytes);
}

int ab_store_room(struct ab_store *s)
{
	char msg[sizeof s->err - 16];

	if (ab_diskroom_check(&s->room, msg, sizeof msg) == 0)
		return 0;
	snprintf(s->err, sizeof s->err, "store: %s", msg);
	return -1;
}

bool ab_store_room_low(const struct ab_store *s)
{
	return s->room.low;
}

/* Group commit (syslog input): see store.h. */
int ab_store_begin(struct ab_store *s)
{
	if (s->batch) {
		snprintf(s->err, sizeof s->err, "store: begin: a batch is already open");
		return -1;
	}
	if (tx_begin(s, "begin batch") < 0)
		return -1;
	s->batch = true;
	s->batch_failed = false;
	return 0;
}

/* the inputs' durable commits (ab_store_commit: the batch, with its fsync) */
static AB_METRIC_HISTOGRAM(m_commit_seconds, "alertbridge_store_commit_seconds",
	"Time to commit an input's batch of events and jobs to the store (fsync included).",
	NULL, NULL, ab_metric_latency_bounds);

int ab_store_commit(struct ab_store *s)
{
	bool failed = s->batch_failed;
	int64_t t0;
	int rc;

	if (!s->batch) {
		snprintf(s->err, sizeof s->err, "store: commit: no batch is open");
		return -1;
	}
	s->batch = false;
	s->batch_failed = false;
	if (failed)
		return -1;   /* rolled back already; err says why */
	t0 = ab_mono_us();
	rc = tx_commit(s, "commit batch");
	if (rc == 0)
		ab_metric_observe(&m_commit_seconds, NULL, NULL, (double)(ab_mono_us() - t0) / 1e6);
	return rc;
}

bool ab_store_in_batch(const struct ab_store *s)
{
	return s->batch;
}

void ab_store_fail_batch(struct ab_store *s, const char *msg)
{
	if (!s->batch)
		return;
	snprintf(s->err, sizeof s->err, "%s", msg);
	tx_rollback(s);
	s->batch_failed = true;
}

void ab_store_rollback(struct ab_store *s)
{
	if (!s->batch)
		return;
	s->batch = false;
	s->batch_failed = false;
	tx_rollback(s);
}

int ab_store_enqueue(struct ab_store *s, const struct ab_event *ev,
	const char *const *channels, size_t n, int64_t now, int *added)
{
	int rc;

	if (!ev) {
		snprintf(s->err, sizeof s->err, "store: enqueue: no event");
		return -1;
	}
	ab_buf_reset(&s->json);
	if (ab_event_write_json(ev, &s->json) < 0) {
		snprintf(s->err, sizeof s->err, "store: enqueue: cannot serialise event %s",
			ev->id);
		return -1;
	}
	rc = enqueue(s, ev->id, ab_buf_cstr(&s->json), ev->received_at ? ev->received_at : now,
		AB_MSG_EVENT, NULL, ev->fingerprint, channels, n, now, added);
	if (s->json.cap > STORE_JSON_KEEP)
		ab_buf_free(&s->json);   /* keep the idle footprint small */
	return rc;
}

int ab_store_enqueue_payload(struct ab_store *s, const char *event_id, int kind,
	const char *payload, const char *fp, const char *const *channels, size_t n, int64_t now,
	int *added)
{
	if (!payload) {
		snprintf(s->err, sizeof s->err, "store: enqueue: no payload");
		return -1;
	}
	return enqueue(s, event_id, NULL, now, kind, payload, fp, channels, n, now, added);
}

int ab_store_enqueue_people(struct ab_store *s, const char *event_id, const char *channel,
	const char *recipient, const char *recipients, int64_t now, int *added)
{
	sqlite3_stmt *st;
	int64_t row = 0;
	int count, have_row;

	if (added)
		*added = 0;
	if (!event_id_ok(event_id) || !channel_ok(channel) || !recipient || !*recipient ||
	    strlen(recipient) > STORE_CHANNEL_MAX || !recipients) {
		snprintf(s->err, sizeof s->err, "store: enqueue: bad job for people (event id, "
			"channel, recipient or recipients)");
		goto fail;
	}
	if (s->batch_failed) {
		snprintf(s->err, sizeof s->err, "store: enqueue: the batch was rolled back");
		return -1;
	}
	if (!s->batch && tx_begin(s, "enqueue") < 0)
		return -1;
	if ((have_row = event_row(s, event_id, &row)) < 0 || !(st = stmt(s, ST_INS_JOB_TO)))
		goto fail;
	sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_text(st, 4, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, recipients, -1, SQLITE_STATIC);
	if (have_row)
		sqlite3_bind_int64(st, 6, row);
	if (ab_store_run(s, st, "enqueue: job for people") < 0)
		goto fail;
	count = sqlite3_changes(s->db);
	if (!s->batch && tx_commit(s, "enqueue: commit") < 0)
		return -1;
	if (added)
		*added = count;
	return 0;
fail:
	tx_rollback(s);
	if (s->batch)
		s->batch_failed = true;
	return -1;
}

static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

/* Fill job from a JOB_COLS row; 0 or -1 (ENOMEM). */
static int job_fill(sqlite3_stmt *st, struct ab_job *job)
{
	const unsigned char *t;

	memset(job, 0, sizeof *job);
	job->id = sqlite3_column_int64(st, 0);
	t = sqlite3_column_text(st, 1);
	ab_strlcpy(job->event_id, t ? (const char *)t : "", sizeof job->event_id);
	job->channel = col_dup(st, 2);
	job->kind = sqlite3_column_int(st, 3);
	job->payload = col_dup(st, 4);
	if (!job->payload)
		job->payload = strdup(""); /* no payload and no event row: cannot happen */
	job->state = (enum ab_job_state)sqlite3_column_int(st, 5);
	job->attempts = sqlite3_column_int(st, 6);
	job->created_at = sqlite3_column_int64(st, 7);
	job->next_at = sqlite3_column_int64(st, 8);
	job->updated_at = sqlite3_column_int64(st, 9);
	if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
		job->last_error = col_dup(st, 10);
		if (!job->last_error)
			goto nomem;
	}
	job->recipient = col_dup(st, 11);
	if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
		job->recipients = col_dup(st, 12);
		if (!job->recipients)
			goto nomem;
	}
	if (sqlite3_column_type(st, 13) != SQLITE_NULL && !(job->fp = col_dup(st, 13)))
		goto nomem;
	if (sqlite3_column_type(st, 14) != SQLITE_NULL) {
		job->thread_event = col_dup(st, 14);
		job->thread_ref = col_dup(st, 15);
		job->thread_at = sqlite3_column_int64(st, 16);
		job->thread_count = sqlite3_column_int(st, 17);
		if (!job->thread_event || !job->thread_ref)
			goto nomem;
	}
	if (!job->channel || !job->payload || !job->recipient)
		goto nomem;
	return 0;
nomem:
	ab_job_clear(job);
	return -1;
}

void ab_job_clear(struct ab_job *job)
{
	if (!job)
		return;
	free(job->channel);
	free(job->payload);
	free(job->last_error);
	free(job->recipient);
	free(job->recipients);
	free(job->fp);
	free(job->thread_event);
	free(job->thread_ref);
	memset(job, 0, sizeof *job);
}

/* Claim up to max due jobs in one transaction (see store.h). */
int ab_store_claim_batch(struct ab_store *s, int64_t now, int64_t lease_ms, struct ab_job *jobs,
	int max)
{
	sqlite3_stmt *st;
	int64_t next;
	int rc, n = 0;

	if (max < 1)
		return 0;
	memset(jobs, 0, (size_t)max * sizeof *jobs);
	/* Cheap read first, so idle polling never takes the write lock. */
	next = ab_store_next_due(s);
	if (next < 0 && s->err[0] == '\0')
		return 0;
	if (next > now)
		return 0;
	if (fault(s, AB_STORE_FAULT_CLAIM, "claim") < 0 || tx_begin(s, "claim") < 0)
		return -1;
	if (!(st = stmt(s, s->held ? ST_CLAIM_PICK_HELD : ST_CLAIM_PICK)))
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	if (s->held)
		sqlite3_bind_text(st, 2, s->held, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (job_fill(st, &jobs[n]) < 0) {
			sqlite3_reset(st);
			snprintf(s->err, sizeof s->err, "store: claim: out of memory");
			goto fail;
		}
		n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		ab_store_set_err(s, "claim");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	if (n == 0) {
		tx_rollback(s);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (!(st = stmt(s, ST_CLAIM_MARK)))
			goto fail;
		sqlite3_bind_int64(st, 1, jobs[i].id);
		/* Delivered one after the other, outcomes recorded in groups: the
		 * i-th may start i leases late and, unless it is the last, its
		 * outcome may wait for one more attempt (dispatch.c records first
		 * when that would not fit). */
		sqlite3_bind_int64(st, 2, now + lease_ms * (i + (i + 1 < n ? 2 : 1)));
		sqlite3_bind_int64(st, 3, now);
		if (ab_store_run(s, st, "claim: mark running") < 0)
			goto fail;
		if (sqlite3_changes(s->db) != 1) {
			snprintf(s->err, sizeof s->err, "store: claim: job %lld changed under us",
				(long long)jobs[i].id);
			goto fail;
		}
	}
	if (tx_commit(s, "claim: commit") < 0)
		goto clear;
	for (int i = 0; i < n; i++) {
		jobs[i].state = AB_JOB_RUNNING;
		jobs[i].attempts++;
		jobs[i].updated_at = now;
	}
	return n;
fail:
	tx_rollback(s);
clear:
	for (int i = 0; i < n; i++)
		ab_job_clear(&jobs[i]);
	return -1;
}

int ab_store_claim_probe(struct ab_store *s, const char *channel, int64_t now, int64_t lease_ms,
	struct ab_job *job)
{
	sqlite3_stmt *st;
	int rc;

	memset(job, 0, sizeof *job);
	if (!channel_ok(channel)) {
		snprintf(s->err, sizeof s->err, "store: claim: bad channel name");
		return -1;
	}
	if (fault(s, AB_STORE_FAULT_CLAIM, "claim") < 0 || tx_begin(s, "claim") < 0)
		return -1;
	if (!(st = stmt(s, ST_CLAIM_PROBE)))
		goto fail;
	sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		tx_rollback(s);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		ab_store_set_err(s, "claim");
		sqlite3_reset(st);
		goto fail;
	}
	if (job_fill(st, job) < 0) {
		sqlite3_reset(st);
		snprintf(s->err, sizeof s->err, "store: claim: out of memory");
		goto fail;
	}
	sqlite3_reset(st);
	if (!(st = stmt(s, ST_CLAIM_MARK)))
		goto fail;
	sqlite3_bind_int64(st, 1, job->id);
	sqlite3_bind_int64(st, 2, now + lease_ms);
	sqlite3_bind_int64(st, 3, now);
	if (ab_store_run(s, st, "claim: mark running") < 0 || tx_commit(s, "claim: commit") < 0)
		goto fail;
	job->state = AB_JOB_RUNNING;
	job->attempts++;
	job->updated_at = now;
	return 1;
fail:
	tx_rollback(s);
	ab_job_clear(job);
	return -1;
}

int ab_store_resume_channel(struct ab_store *s, const char *channel)
{
	sqlite3_stmt *st;

	if (!channel_ok(channel)) {
		snprintf(s->err, sizeof s->err, "store: resume: bad channel name");
		return -1;
	}
	if (fault(s, AB_STORE_FAULT_RELEASE, "resume") < 0 || !(st = stmt(s, ST_RESUME)))
		return -1;
	sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
	if (ab_store_run(s, st, "resume") < 0)
		return -1;
	return sqlite3_changes(s->db);
}

int ab_store_claim(struct ab_store *s, int64_t now, int64_t lease_ms, struct ab_job *job)
{
	return ab_store_claim_batch(s, now, lease_ms, job, 1);
}

int ab_store_release(struct ab_store *s, const struct ab_job *jobs, size_t n, int64_t now)
{
	sqlite3_stmt *st;

	if (n == 0)
		return 0;
	if (fault(s, AB_STORE_FAULT_RELEASE, "release") < 0 || tx_begin(s, "release") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!(st = stmt(s, ST_RELEASE)))
			goto fail;
		sqlite3_bind_int64(st, 1, jobs[i].id);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int(st, 3, jobs[i].attempts);
		if (ab_store_run(s, st, "release") < 0)
			goto fail;
	}
	return tx_commit(s, "release: commit");
fail:
	tx_rollback(s);
	return -1;
}

/* Over its channel's rate: like a release, and due again at next_at. */
int ab_store_defer(struct ab_store *s, const struct ab_job *job, int64_t next_at, int64_t now)
{
	sqlite3_stmt *st;

	if (fault(s, AB_STORE_FAULT_RELEASE, "defer") < 0 || !(st = stmt(s, ST_DEFER)))
		return -1;
	sqlite3_bind_int64(st, 1, job->id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, job->attempts);
	sqlite3_bind_int64(st, 4, next_at);
	if (ab_store_run(s, st, "defer") < 0)
		return -1;
	return sqlite3_changes(s->db) == 1;
}

int ab_store_health_get(struct ab_store *s, const char *channel, struct ab_health_row *row)
{
	sqlite3_stmt *st;
	int rc;

	memset(row, 0, sizeof *row);
	row->channel = channel;
	if (!channel_ok(channel)) {
		snprintf(s->err, sizeof s->err, "store: health: bad channel name");
		return -1;
	}
	if (!(st = stmt(s, ST_HEALTH_GET)))
		return -1;
	sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row->state = (enum ab_health_state)sqlite3_column_int(st, 0);
		row->failures = sqlite3_column_int(st, 1);
		row->since = sqlite3_column_int64(st, 2);
		row->last_ok = sqlite3_column_int64(st, 3);
		row->last_fail = sqlite3_column_int64(st, 4);
	} else if (rc != SQLITE_DONE) {
		ab_store_set_err(s, "health");
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int ab_store_health_put(struct ab_store *s, const char *channel, enum ab_health_state state,
	int failures, int64_t since, bool ok, const char *reason, int64_t now)
{
	sqlite3_stmt *st;

	if (!channel_ok(channel)) {
		snprintf(s->err, sizeof s->err, "store: health: bad channel name");
		return -1;
	}
	if (!(st = stmt(s, ST_HEALTH_PUT)))
		return -1;
	sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_int(st, 3, failures);
	sqlite3_bind_text(st, 4, ok || !reason ? "" : reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, since);
	sqlite3_bind_int64(st, 6, ok ? now : 0);
	sqlite3_bind_int64(st, 7, ok ? 0 : now);
	sqlite3_bind_int(st, 8, ok);
	return ab_store_run(s, st, "health");
}

int ab_store_health_list(struct ab_store *s, ab_health_cb cb, void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_HEALTH_LIST);
	struct ab_health_row row;
	int rc, stop = 0;

	if (!st)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.channel = (const char *)sqlite3_column_text(st, 0);
		row.state = (enum ab_health_state)sqlite3_column_int(st, 1);
		row.failures = sqlite3_column_int(st, 2);
		row.reason = (const char *)sqlite3_column_text(st, 3);
		row.since = sqlite3_column_int64(st, 4);
		row.last_ok = sqlite3_column_int64(st, 5);
		row.last_fail = sqlite3_column_int64(st, 6);
		if (!row.channel || !row.reason)
			continue;
		stop = cb(&row, arg);
	}
	if (!stop && rc != SQLITE_DONE) {
		ab_store_set_err(s, "health list");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int64_t ab_store_count_due(struct ab_store *s, int64_t now, int64_t limit)
{
	sqlite3_stmt *st = stmt(s, ST_COUNT_DUE);
	int64_t v = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, limit);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		ab_store_set_err(s, "count due");
	sqlite3_reset(st);
	return v;
}

/* The body of a finish, inside the caller's transaction; 0 or -1. */
static int finish_one(struct ab_store *s, const struct ab_finish *f)
{
	const struct ab_job *job = f->job;
	const struct ab_result *r = f->res;
	char msg[STORE_ERROR_MAX + 1];
	enum ab_job_state state;
	sqlite3_stmt *st;
	bool has_msg;
	size_t ml;

	/* A plugin may have left r->message unterminated: bound the copy. */
	ml = strnlen(r->message, sizeof r->message);
	if (ml > STORE_ERROR_MAX)
		ml = STORE_ERROR_MAX;
	memcpy(msg, r->message, ml);
	msg[ml] = '\0';
	has_msg = ml > 0;
	if (r->status == AB_OK)
		state = AB_JOB_DONE;
	else if (r->status == AB_RETRY && !f->dead)
		state = AB_JOB_QUEUED;
	else
		state = AB_JOB_DEAD;
	if (!(st = stmt(s, ST_LOG_ADD)))
		return -1;
	sqlite3_bind_int64(st, 1, job->id);
	sqlite3_bind_text(st, 2, job->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, job->channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, f->now);
	sqlite3_bind_int(st, 5, job->attempts);
	sqlite3_bind_int(st, 6, (int)r->status);
	sqlite3_bind_int(st, 7, r->code);
	sqlite3_bind_int64(st, 8, f->latency_ms);
	if (has_msg)
		sqlite3_bind_text(st, 9, msg, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_text(st, 10, job->recipient ? job->recipient : "", -1, SQLITE_STATIC);
	if (ab_store_run(s, st, "finish: log") < 0)
		return -1;
	if (!(st = stmt(s, ST_FINISH)))
		return -1;
	sqlite3_bind_int64(st, 1, job->id);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_int64(st, 3, state == AB_JOB_QUEUED ? f->next_at : f->now);
	sqlite3_bind_int64(st, 4, f->now);
	if (state == AB_JOB_DONE)
		sqlite3_bind_null(st, 5);
	else
		sqlite3_bind_text(st, 5, has_msg ? msg : ab_status_name(r->status), -1,
			SQLITE_STATIC);
	sqlite3_bind_int(st, 6, job->attempts);
	/* 0 rows: the lease expired and the job was requeued (and maybe claimed
	 * again) or dropped; the attempt is logged, the job is left alone. */
	if (ab_store_run(s, st, "finish: job") < 0)
		return -1;
	if (state != AB_JOB_DONE || !job->fp)
		return 0;
	/* the fingerprint's first delivery on this channel, or one more */
	if (!(st = stmt(s, ST_THREAD)))
		return -1;
	sqlite3_bind_text(st, 1, job->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job->recipient ? job->recipient : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, job->fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, job->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->ref, (int)strnlen(r->ref, sizeof r->ref), SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, f->now);
	return ab_store_run(s, st, "finish: thread");
}

int ab_store_finish_batch(struct ab_store *s, const struct ab_finish *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!f[i].job || !f[i].res || !f[i].job->channel) {
			snprintf(s->err, sizeof s->err, "store: finish: no job or result");
			return -1;
		}
	}
	if (n == 0)
		return 0;
	if (fault(s, AB_STORE_FAULT_FINISH, "finish") < 0 || tx_begin(s, "finish") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (finish_one(s, &f[i]) < 0) {
			tx_rollback(s);
			return -1;
		}
	}
	return tx_commit(s, "finish: commit");
}

int ab_store_finish(struct ab_store *s, const struct ab_job *job, const struct ab_result *r,
	int64_t latency_ms, int64_t now, int64_t next_at, bool dead)
{
	struct ab_finish f = { job, r, latency_ms, now, next_at, dead };

	return ab_store_finish_batch(s, &f, 1);
}

int ab_store_requeue_running(struct ab_store *s, int64_t now, bool all)
{
	sqlite3_stmt *st;
	int n;

	if (fault(s, AB_STORE_FAULT_REQUEUE, "requeue") < 0 || tx_begin(s, "requeue") < 0)
		return -1;
	if (!(st = stmt(s, ST_REQUEUE)))
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, all ? 1 : 0);
	if (ab_store_run(s, st, "requeue") < 0)
		goto fail;
	n = sqlite3_changes(s->db);
	if (tx_commit(s, "requeue: commit") < 0)
		return -1;
	return n;
fail:
	tx_rollback(s);
	return -1;
}

int64_t ab_store_next_due(struct ab_store *s)
{
	sqlite3_stmt *st = stmt(s, s->held ? ST_NEXT_DUE_HELD : ST_NEXT_DUE);
	int64_t v = -1;
	int rc;

	s->err[0] = '\0';
	if (!st)
		return -1;
	if (s->held)
		sqlite3_bind_text(st, 1, s->held, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_ROW)
		ab_store_set_err(s, "next due");
	sqlite3_reset(st);
	return v;
}

int ab_store_set_held(struct ab_store *s, const char *const *channels, size_t n)
{
	json_t *a;
	char *text = NULL;

	if (n > STORE_MAX_CHANNELS) {
		snprintf(s->err, sizeof s->err, "store: held: more than %d channels",
			STORE_MAX_CHANNELS);
		return -1;
	}
	if (n) {
		if (!(a = json_array())) {
			snprintf(s->err, sizeof s->err, "store: held: out of memory");
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (json_array_append_new(a, json_string(channels[i])) < 0)
				break;
		if (json_array_size(a) == n)
			text = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		if (!text) {
			snprintf(s->err, sizeof s->err, "store: held: out of memory or bad name");
			return -1;
		}
	}
	free(s->held);
	s->held = text;
	return 0;
}

/* One-statement write in its own transaction; returns changes or -1. */
static int write1(struct ab_store *s, int which, int64_t a, int64_t b, const char *what)
{
	sqlite3_stmt *st = stmt(s, which);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (ab_store_run(s, st, what) < 0)
		return -1;
	return sqlite3_changes(s->db);
}

int ab_store_retry(struct ab_store *s, int64_t job_id, int64_t now)
{
	return write1(s, ST_RETRY, job_id, now, "retry");
}

int ab_store_retry_dead(struct ab_store *s, int64_t now)
{
	return write1(s, ST_RETRY_DEAD, now, 0, "retry dead");
}

int ab_store_drop(struct ab_store *s, int64_t job_id)
{
	sqlite3_stmt *st;
	int rc, n;

	if (tx_begin(s, "drop") < 0)
		return -1;
	if (!(st = stmt(s, ST_JOB_STATE)))
		goto fail;
	sqlite3_bind_int64(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int(st, 0) == AB_JOB_RUNNING) {
		sqlite3_reset(st);
		snprintf(s->err, sizeof s->err, "store: drop: job %lld is being delivered right "
			"now; try again when the attempt has finished", (long long)job_id);
		goto fail;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ab_store_set_err(s, "drop");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		tx_rollback(s);
		return 0;
	}
	if (!(st = stmt(s, ST_DROP)))
		goto fail;
	sqlite3_bind_int64(st, 1, job_id);
	if (ab_store_run(s, st, "drop") < 0)
		goto fail;
	n = sqlite3_changes(s->db);
	if (tx_commit(s, "drop: commit") < 0)
		return -1;
	return n;
fail:
	tx_rollback(s);
	return -1;
}

int ab_store_list_jobs(struct ab_store *s, unsigned states, ab_job_cb cb, void *arg)
{
	sqlite3_stmt *st;
	struct ab_job job;
	int rc, stop = 0;

	if (states == 0)
		states = 1u << AB_JOB_QUEUED | 1u << AB_JOB_RUNNING | 1u << AB_JOB_DEAD;
	if (!(st = stmt(s, ST_LIST_JOBS)))
		return -1;
	for (int i = 0; i < 4; i++)
		sqlite3_bind_int(st, i + 1, (states & (1u << i)) ? i : -1);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (job_fill(st, &job) < 0) {
			snprintf(s->err, sizeof s->err, "store: list jobs: out of memory");
			sqlite3_reset(st);
			return -1;
		}
		stop = cb(&job, arg);
		ab_job_clear(&job);
	}
	if (!stop && rc != SQLITE_DONE) {
		ab_store_set_err(s, "list jobs");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int ab_store_list_log(struct ab_store *s, const char *channel, int limit, ab_log_cb cb,
	void *arg)
{
	struct ab_log_entry e;
	sqlite3_stmt *st;
	const unsigned char *t;
	int rc, stop = 0;

	if (!(st = stmt(s, channel ? ST_LIST_LOG_CH : ST_LIST_LOG_ALL)))
		return -1;
	sqlite3_bind_int(st, 1, limit > 0 ? limit : -1);
	if (channel)
		sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof e);
		e.id = sqlite3_column_int64(st, 0);
		e.job_id = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 :
			sqlite3_column_int64(st, 1);
		t = sqlite3_column_text(st, 2);
		ab_strlcpy(e.event_id, t ? (const char *)t : "", sizeof e.event_id);
		e.channel = col_dup(st, 3);
		e.at = sqlite3_column_int64(st, 4);
		e.attempt = sqlite3_column_int(st, 5);
		e.status = sqlite3_column_int(st, 6);
		e.code = sqlite3_column_int(st, 7);
		e.latency_ms = sqlite3_column_int64(st, 8);
		e.error = col_dup(st, 9);
		e.recipient = col_dup(st, 10);
		if (!e.channel || !e.recipient ||
		    (!e.error && sqlite3_column_type(st, 9) != SQLITE_NULL)) {
			free(e.channel);
			free(e.error);
			free(e.recipient);
			snprintf(s->err, sizeof s->err, "store: list log: out of memory");
			sqlite3_reset(st);
			return -1;
		}
		stop = cb(&e, arg);
		free(e.channel);
		free(e.error);
		free(e.recipient);
	}
	if (!stop && rc != SQLITE_DONE) {
		ab_store_set_err(s, "list log");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int ab_store_job_stats(struct ab_store *s, ab_job_stats_cb cb, void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_STATS);
	int rc, stop = 0;

	if (!st)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ch = (const char *)sqlite3_column_text(st, 0);

		if (ch)
			stop = cb(ch, (enum ab_job_state)sqlite3_column_int(st, 1),
				sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), arg);
	}
	if (!stop && rc != SQLITE_DONE) {
		ab_store_set_err(s, "job stats");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int64_t ab_store_count(struct ab_store *s, enum ab_job_state state)
{
	sqlite3_stmt *st = stmt(s, ST_COUNT);
	int64_t v = -1;

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, (int)state);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		ab_store_set_err(s, "count");
	sqlite3_reset(st);
	return v;
}

/* One retention chunk: delete up to max_rows rows of one table in its own
 * transaction.  Rows deleted, or -1. */
static int64_t prune_chunk(struct ab_store *s, int which, int64_t cutoff_ms, int max_rows)
{
	sqlite3_stmt *st;
	int64_t n;

	if (tx_begin(s, "prune") < 0)
		return -1;
	st = stmt(s, which);
	if (!st) {
		tx_rollback(s);
		return -1;
	}
	sqlite3_bind_int64(st, 1, cutoff_ms);
	sqlite3_bind_int(st, 2, max_rows);
	if (ab_store_run(s, st, "prune") < 0) {
		tx_rollback(s);
		return -1;
	}
	n = sqlite3_changes(s->db);
	if (tx_commit(s, "prune") < 0)
		return -1;
	return n;
}

int64_t ab_store_prune(struct ab_store *s, int64_t cutoff_ms, int max_rows,
	struct ab_prune_counts *deleted)
{
	/* Order matters: log rows first, then done jobs, then the events that
	 * the pruned jobs no longer reference. */
	static const int which[] = { ST_PRUNE_LOG, ST_PRUNE_JOBS, ST_PRUNE_EVENTS,
		ST_PRUNE_THREADS };
	struct ab_prune_counts d = { 0 };
	int64_t *count[] = { &d.log, &d.jobs, &d.events, &d.threads };
	const struct timespec pause = { 0, STORE_PRUNE_PAUSE_NS };
	int chunks = 0;
	size_t t;

	if (deleted)
		*deleted = d;
	if (s->batch) {
		snprintf(s->err, sizeof s->err, "store: prune: a group commit is open");
		return -1;
	}
	if (max_rows < 1 || cutoff_ms <= 0)
		return 0;
	for (t = 0; t < sizeof which / sizeof which[0]; t++) {
		for (;;) {
			int64_t n;

			if (chunks == STORE_PRUNE_MAX_CHUNKS) {
				d.more = true;
				goto out;
			}
			if (chunks > 0)
				nanosleep(&pause, NULL);
			n = prune_chunk(s, which[t], cutoff_ms, max_rows);
			chunks++;
			if (n < 0) {
				if (deleted)
					*deleted = d;
				return -1;
			}
			*count[t] += n;
			if (n < max_rows)
				break;
		}
	}
out:
	if (deleted)
		*deleted = d;
	return d.log + d.jobs + d.events + d.threads;
}

int ab_store_thread(struct ab_store *s, const char *channel, const char *recipient,
	const char *fp, struct ab_store_thread *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	if (!channel || !fp || !*fp || !(st = stmt(s, ST_THREAD_GET)))
		return channel && fp && *fp ? -1 : 0;
	sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, recipient ? recipient : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, fp, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		ab_strlcpy(out->event_id, t ? (const char *)t : "", sizeof out->event_id);
		t = sqlite3_column_text(st, 1);
		ab_strlcpy(out->ref, t ? (const char *)t : "", sizeof out->ref);
		out->first_at = sqlite3_column_int64(st, 2);
		out->last_at = sqlite3_column_int64(st, 3);
		out->count = sqlite3_column_int(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ab_store_set_err(s, "thread");
		return -1;
	}
	return rc == SQLITE_ROW;
}

int ab_store_knows(struct ab_store *s, const char *channel, const char *fp)
{
	sqlite3_stmt *st;
	int rc, known = 0;

	if (!channel || !fp || !*fp)
		return 0;
	if (!(st = stmt(s, ST_KNOWS)))
		return -1;
	sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		known = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		ab_store_set_err(s, "knows");
		return -1;
	}
	return known;
}

char *ab_store_event_json(struct ab_store *s, const char *event_id)
{
	sqlite3_stmt *st;
	char *out = NULL;
	int rc;

	if (!event_id || !(st = stmt(s, ST_EVENT_JSON)))
		return NULL;
	sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		out = col_dup(st, 0);
	else if (rc != SQLITE_DONE)
		ab_store_set_err(s, "event json");
	sqlite3_reset(st);
	return out;
}

int ab_store_event_exists(struct ab_store *s, const char *event_id)
{
	int64_t row;

	return event_id ? event_row(s, event_id, &row) : -1;
}

const char *ab_job_state_name(enum ab_job_state st)
{
	switch (st) {
	case AB_JOB_QUEUED: return "queued";
	case AB_JOB_RUNNING: return "running";
	case AB_JOB_DONE: return "done";
	case AB_JOB_DEAD: return "dead";
	}
	return "unknown";
}

const char *ab_status_name(int status)
{
	switch (status) {
	case AB_OK: return "ok";
	case AB_RETRY: return "retry";
	case AB_PERMANENT: return "permanent";
	default: return "unknown";
	}
}
