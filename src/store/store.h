/*
 * store.h - the durable SQLite store (WAL, synchronous=FULL): events,
 * delivery jobs, the delivery log, dead letters and channel health (the
 * routing noise tables: noisedb.h).
 *
 * One struct ab_store per thread (each holds its own connection).  Every
 * write is a transaction that is on disk (fsync) when the call returns 0.
 */
#ifndef AB_STORE_H
#define AB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <alertbridge/plugin.h>
#include "event/event.h"

struct ab_store;

enum ab_job_state {
	AB_JOB_QUEUED = 0,
	AB_JOB_RUNNING = 1,
	AB_JOB_DONE = 2,
	AB_JOB_DEAD = 3,
};

struct ab_job {
	int64_t id;
	char event_id[AB_ID_LEN + 1];
	char *channel;
	int kind;                /* enum ab_msg_kind */
	char *payload;           /* JSON text: the event, or a group payload */
	enum ab_job_state state;
	int attempts;            /* attempts made so far */
	int64_t created_at, next_at, updated_at;  /* ms since epoch */
	char *last_error;
	char *recipient;         /* "" for a channel's job; for people: the user's
				  * name, or "@all" (one message to several) */
	char *recipients;        /* for people: JSON array of { name, email,
				  * display_name }, else NULL */
	char *fp;                /* the event's fingerprint, or NULL */
	/* the fingerprint's first delivery on this channel and recipient
	 * (threads), when there was one: its event, the service's reference, when,
	 * and the deliveries since; thread_event NULL otherwise */
	char *thread_event, *thread_ref;
	int64_t thread_at;
	int thread_count;
};

struct ab_log_entry {
	int64_t id, job_id, at, latency_ms;
	char event_id[AB_ID_LEN + 1];
	char *channel;
	int status;              /* enum ab_status */
	int code;
	int attempt;
	char *error;
	char *recipient;         /* the job's recipient ("" none) */
};

struct ab_store *ab_store_open(const char *path, char *err, size_t errsz);
void ab_store_close(struct ab_store *s);
/* The message of the last failed call on this connection (never NULL). */
const char *ab_store_errmsg(struct ab_store *s);

/* In one transaction: insert the event (kept if its id exists already) and
 * one queued job per channel; a job for the same (event id, channel) that
 * exists is not added again.  *added (may be NULL) gets the number of new
 * jobs.  0 on success (durable), -1 on error (nothing written). */
int ab_store_enqueue(struct ab_store *s, const struct ab_event *ev,
	const char *const *channels, size_t n, int64_t now, int *added);
/* Group commit: after ab_store_begin() every enqueue on this connection
 * joins one transaction that is durable (fsync) only when ab_store_commit()
 * returns 0.  If an enqueue fails inside the batch, the whole batch is rolled
 * back: that enqueue, later ones and the commit return -1 (nothing of the
 * batch was written).  ab_store_rollback() abandons an open batch. */
int ab_store_begin(struct ab_store *s);
int ab_store_commit(struct ab_store *s);
void ab_store_rollback(struct ab_store *s);
/* Tune this connection for large group commits (bigger page cache, rarer
 * WAL checkpoints, handed to the checkpointer while one runs); durability
 * is unchanged.  0 or -1. */
int ab_store_set_bulk(struct ab_store *s);
/* Delivery workers: commits of this connection are not fsynced
 * (synchronous=NORMAL, WAL): safe against a process crash; a power loss may
 * undo its last claims/outcomes/log rows, i.e. cause a duplicate delivery,
 * never a lost job (see store.c).  Never for connections that write events
 * or jobs.  Also checkpoints as rarely as ab_store_set_bulk.  0 or -1. */
int ab_store_set_relaxed(struct ab_store *s);
/* Tests: this connection's WAL checkpoint marks in pages (store.c's
 * wal_hook; 0 keeps one): a PASSIVE checkpoint after each commit from
 * passive pages, a RESTART one from restart pages. */
void ab_store_set_wal_marks(struct ab_store *s, int passive, int restart);
/* The daemon's checkpointer for the store at path (db.h
 * ab_db_checkpointer_start): the bulk writer's connection
 * (ab_store_set_bulk) hands its PASSIVE WAL checkpoints to one thread
 * instead of running them at commit.
 * passive, restart_soon: its marks in pages (0: db.h's defaults; tests set
 * small ones).  0, or -1 with err. */
int ab_store_checkpointer_start(const char *path, int passive, int restart_soon, char *err,
	size_t errsz);
/* Stop it: the connections checkpoint at commit again.  Returns the
 * checkpoints it ran. */
unsigned long ab_store_checkpointer_stop(void);
/* Make every commit of this connection durable now (fdatasync of the
 * write-ahead log), for a relaxed connection whose commits were not:
 * 0, or -1 with the error set. */
int ab_store_sync(struct ab_store *s);
/* Is a batch open?  fail_batch: roll an open batch back with msg as the
 * error (its commit then returns -1); for modules that write their own
 * tables inside a batch (noise.c). */
bool ab_store_in_batch(const struct ab_store *s);
void ab_store_fail_batch(struct ab_store *s, const char *msg);
/* The free-space watermark for new alerts on this connection (lib/diskroom.h;
 * bytes, 0 = off, the default).  room(): 0 when the store's filesystem has
 * room for new alerts, -1 below the watermark with the reason as the
 * connection's error (the input answers "try again"; nothing is written).
 * Inputs call it before ingesting; deliveries and their results never do.
 * room_low(): was the last room() low (so the input can say "storage"). */
void ab_store_set_min_free(struct ab_store *s, uint64_t bytes);
int ab_store_room(struct ab_store *s);
bool ab_store_room_low(const struct ab_store *s);
/* Same with an explicit payload/kind (groups, digests, health events). */
int ab_store_enqueue_payload(struct ab_store *s, const char *event_id, int kind,
	const char *payload, const char *fp, const char *const *channels, size_t n, int64_t now,
	int *added);

/* One job of the stored event event_id for people (the event row must be
 * stored already, e.g. by ab_store_enqueue in the same batch; the job's
 * payload is the event): channel, the recipient key (a user name, or "@all"
 * for one message to several) and the recipients as JSON text (an array of
 * { name, email, display_name }, which the dispatcher hands to the plugin
 * as the payload's "recipients").  A job for the same (event id, channel,
 * recipient) is not added again.  Inside a batch or in its own
 * transaction; *added (may be NULL) 1 or 0.  0, or -1 on error. */
int ab_store_enqueue_people(struct ab_store *s, const char *event_id, const char *channel,
	const char *recipient, const char *recipients, int64_t now, int *added);

/* Claim the oldest due queued job (next_at <= now): it becomes RUNNING with
 * a lease until now + lease_ms.  Returns 1 and fills job, 0 if none is due,
 * -1 on error.  Free with ab_job_clear(). */
int ab_store_claim(struct ab_store *s, int64_t now, int64_t lease_ms, struct ab_job *job);
/* The same for up to max jobs (oldest due first) in one transaction, for a
 * worker that delivers them one after the other: the i-th (from 0) gets a
 * lease until now + (i + 1) * lease_ms.  Returns how many were claimed
 * (jobs[0..n-1], each freed with ab_job_clear()), 0, or -1. */
int ab_store_claim_batch(struct ab_store *s, int64_t now, int64_t lease_ms, struct ab_job *jobs,
	int max);
void ab_job_clear(struct ab_job *job);
/* The circuit breaker (deliver/breaker.h): claim the oldest queued job of
 * channel (by created_at), due or not and held or not, as the paused
 * channel's probe, with a lease until now + lease_ms.  1, 0 if the channel
 * has no queued job, -1. */
int ab_store_claim_probe(struct ab_store *s, const char *channel, int64_t now, int64_t lease_ms,
	struct ab_job *job);
/* The channel works again: each of its queued jobs is due from its
 * created_at, so they go in the order they came (their retry backoff is
 * forgotten; attempts and created_at, hence max_age, are kept).  Returns
 * how many jobs were moved, or -1. */
int ab_store_resume_channel(struct ab_store *s, const char *channel);
/* Claimed jobs that were not attempted after all (the worker stops) go
 * back to QUEUED with their attempt count as before the claim.  0 or -1. */
int ab_store_release(struct ab_store *s, const struct ab_job *jobs, size_t n, int64_t now);
/* A claimed job whose channel is over its rate goes back to QUEUED, due at
 * next_at, its attempt not counted (a release that moves next_at).  1 when
 * put back, 0 when the job is not this claim's any more (its lease expired),
 * -1 on error. */
int ab_store_defer(struct ab_store *s, const struct ab_job *job, int64_t next_at, int64_t now);
/* How many queued jobs are due at now, counting at most limit; -1 on error. */
int64_t ab_store_count_due(struct ab_store *s, int64_t now, int64_t limit);

/* Record one attempt in the delivery log and update the job:
 *   AB_OK -> DONE;  AB_RETRY and !dead -> QUEUED at next_at;
 *   AB_PERMANENT or dead -> DEAD (a dead letter). */
int ab_store_finish(struct ab_store *s, const struct ab_job *job, const struct ab_result *r,
	int64_t latency_ms, int64_t now, int64_t next_at, bool dead);
/* Several finishes in one transaction (one fsync): all recorded, or none
 * (-1).  The arguments of each are those of ab_store_finish(). */
struct ab_finish {
	const struct ab_job *job;
	const struct ab_result *res;
	int64_t latency_ms, now, next_at;
	bool dead;
};
int ab_store_finish_batch(struct ab_store *s, const struct ab_finish *f, size_t n);

/* Retention: delete delivery_log rows with at < cutoff_ms, DONE jobs with
 * updated_at < cutoff_ms (queued, running and dead jobs stay), then events
 * with received_at < cutoff_ms that no job and no reminder references,
 * then the threads of fingerprints last delivered before cutoff_ms.
 * Each transaction deletes at most max_rows rows of one table; a call makes
 * at most a fixed number of transactions and sets deleted->more when it
 * stopped before the end (call again soon).  cutoff_ms <= 0 prunes nothing.
 * Returns the rows deleted (deleted, may be NULL, gets them per table), or
 * -1 (what the committed chunks deleted stays deleted and is counted). */
/* The first delivery of fingerprint fp on channel to recipient ("" for
 * the channel's own messages): 1 with *out filled, 0 when there is none,
 * -1 on a store error. */
struct ab_store_thread {
	char event_id[AB_ID_LEN + 1];
	char ref[128];
	int64_t first_at, last_at;
	int count;                 /* deliveries of the fingerprint */
};
int ab_store_thread(struct ab_store *s, const char *channel, const char *recipient,
	const char *fp, struct ab_store_thread *out);

/* Did channel have fingerprint fp: a delivery kept in threads, or a job
 * for it that is not dead?  1, 0, or -1 on a store error. */
int ab_store_knows(struct ab_store *s, const char *channel, const char *fp);

struct ab_prune_counts {
	int64_t events, jobs, log;
	bool more;
	int64_t threads;         /* fingerprints not delivered since the cutoff */
};
int64_t ab_store_prune(struct ab_store *s, int64_t cutoff_ms, int max_rows,
	struct ab_prune_counts *deleted);

/* Hold the jobs of these channels (disabled ones) on this connection: claim
 * and next_due skip them; they stay QUEUED, attempts and next_at untouched,
 * so they go as soon as the list no longer names their channel.  n = 0
 * holds nothing.  The list is copied.  0, or -1 (list unchanged). */
int ab_store_set_held(struct ab_store *s, const char *const *channels, size_t n);

/* RUNNING jobs whose lease expired (or all, at daemon start) go back to QUEUED. */
int ab_store_requeue_running(struct ab_store *s, int64_t now, bool all);
/* Earliest next_at among queued jobs, or -1 if none. */
int64_t ab_store_next_due(struct ab_store *s);

/* Operator actions.  retry: a DEAD or QUEUED job becomes due now (attempts
 * kept in the log, counter reset).  Return the number of jobs changed or -1. */
int ab_store_retry(struct ab_store *s, int64_t job_id, int64_t now);
int ab_store_retry_dead(struct ab_store *s, int64_t now);
int ab_store_drop(struct ab_store *s, int64_t job_id);

/* Listing: the callback gets each row (borrowed); return non-zero to stop.
 * states: bitmask of 1u << ab_job_state, 0 = queued|running|dead. */
typedef int (*ab_job_cb)(const struct ab_job *job, void *arg);
typedef int (*ab_log_cb)(const struct ab_log_entry *e, void *arg);
int ab_store_list_jobs(struct ab_store *s, unsigned states, ab_job_cb cb, void *arg);
int ab_store_list_log(struct ab_store *s, const char *channel, int limit, ab_log_cb cb, void *arg);
/* Count jobs in a state (for tests and status). */
int64_t ab_store_count(struct ab_store *s, enum ab_job_state state);
/* Jobs that are not done, per channel and state: the count and the oldest
 * created_at (ms); cb returns non-zero to stop.  0 or -1. */
typedef int (*ab_job_stats_cb)(const char *channel, enum ab_job_state state, int64_t count,
	int64_t oldest_ms, void *arg);
int ab_store_job_stats(struct ab_store *s, ab_job_stats_cb cb, void *arg);
/* The stored event JSON for an id (caller frees) or NULL. */
char *ab_store_event_json(struct ab_store *s, const char *event_id);
/* 1 when an event with this id is stored, 0 when not, -1 on error. */
int ab_store_event_exists(struct ab_store *s, const char *event_id);

/* Channel health: one row per channel (deliver/health.c decides the state;
 * the store keeps it across restarts). */
enum ab_health_state {
	AB_HEALTH_HEALTHY = 0,
	AB_HEALTH_FAILING = 1,
	AB_HEALTH_DISABLED = 2,     /* not in the configuration any more, or enabled = false
				     * (cli_channels.c shows it; never stored) */
};
struct ab_health_row {
	const char *channel;
	enum ab_health_state state;
	int failures;            /* consecutive */
	const char *reason;      /* last failure, "" if none */
	int64_t since;           /* when the state began (ms) */
	int64_t last_ok;         /* last success (ms, up to 1 s stale), 0 = never */
	int64_t last_fail;       /* last failure (ms), 0 = never */
};
typedef int (*ab_health_cb)(const struct ab_health_row *row, void *arg);
/* One channel's row: 1 found, 0 none (row zeroed: healthy), -1 error.
 * row->channel is the argument; row->reason is NULL (listing has it). */
int ab_store_health_get(struct ab_store *s, const char *channel, struct ab_health_row *row);
/* Write one channel's row after an attempt at now: ok (a success) sets
 * last_ok and keeps reason and last_fail; a failure sets reason and
 * last_fail and keeps last_ok.  A single statement: its own transaction,
 * or part of an open batch.  0 or -1. */
int ab_store_health_put(struct ab_store *s, const char *channel, enum ab_health_state state,
	int failures, int64_t since, bool ok, const char *reason, int64_t now);
/* Every channel's row, by name (borrowed); cb returns non-zero to stop.
 * 0 or -1. */
int ab_store_health_list(struct ab_store *s, ab_health_cb cb, void *arg);

/* Fault injection, for tests: the next count calls (count < 0: every call
 * until ab_store_set_fault(0, 0)) of the operations in ops, on any
 * connection of the process, fail as a full disk would, writing nothing. */
enum {
	AB_STORE_FAULT_FINISH = 1,    /* ab_store_finish, ab_store_finish_batch */
	AB_STORE_FAULT_RELEASE = 2,   /* ab_store_release, ab_store_defer */
	AB_STORE_FAULT_CLAIM = 4,     /* ab_store_claim, ab_store_claim_batch */
	AB_STORE_FAULT_REQUEUE = 8,   /* ab_store_requeue_running */
};
void ab_store_set_fault(unsigned ops, int count);

const char *ab_job_state_name(enum ab_job_state st);
const char *ab_status_name(int status);  /* "ok", "retry", "permanent" */

#endif
