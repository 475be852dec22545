/*
 * journal.h - the durable append-only journal: records (event JSON, raw
 * lines: opaque bytes to the journal) get consecutive sequence numbers and
 * are acknowledged only after the fdatasync that covers them; named readers
 * consume them in order and keep their positions; whole segments below
 * every reader are reclaimed.  Meant for the durable hot path (syslog
 * ingest at ~300k records/s), in place of SQLite rows for the queue.
 *
 * The interface is narrow on purpose (append, read, ack), so that another
 * backend (a shared multi-node log) can implement it: callers see only
 * sequence numbers, never files or byte offsets.
 *
 * Threads: ab_journal_append and ab_journal_submit may be called from any
 * number of threads at once (their records are committed together, one
 * fdatasync per batch, by the journal's writer thread).  A reader is used
 * by one thread at a time; different readers may run in parallel.  Close
 * every reader before the journal.  One process at a time opens a journal
 * directory (a lock file).
 *
 * Disk: segments are reclaimed only below the position of every
 * registered reader (a ledger in the directory); with no reader nothing is
 * reclaimed, and a reader that stops acking holds the journal back until
 * appends return AB_JOURNAL_FULL (drop it with ab_journal_reader_drop).
 *
 * Delivery is at least once: a reader restarts at its last persisted
 * position, which lags its acks by up to ack_every records or ack_ms, so a
 * consumer must be idempotent (event ids are).
 */
#ifndef AB_JOURNAL_H
#define AB_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes besides 0 and -1 (an I/O error or a bad argument; after an
 * I/O error of the writer every later append fails: reopen the journal). */
#define AB_JOURNAL_FULL (-2)    /* the journal holds max_bytes: push back, retry after readers ack */
#define AB_JOURNAL_TOOBIG (-3)  /* a record is larger than max_record (nothing was queued) */
#define AB_JOURNAL_AGAIN (-4)   /* ab_journal_submit: the queue is full right now */

/* Caps and defaults of the settings (0 in struct ab_journal_opts = default). */
#define AB_JOURNAL_SEGMENT_DEFAULT (64u << 20)
#define AB_JOURNAL_SEGMENT_MIN (64u << 10)
#define AB_JOURNAL_SEGMENT_MAX (1u << 30)
#define AB_JOURNAL_RECORD_DEFAULT (1u << 20)
#define AB_JOURNAL_RECORD_MAX (16u << 20)
#define AB_JOURNAL_BYTES_DEFAULT (4ull << 30)
#define AB_JOURNAL_BYTES_MAX (1ull << 40)
#define AB_JOURNAL_QUEUE_DEFAULT (8u << 20)
#define AB_JOURNAL_QUEUE_MAX (256u << 20)
#define AB_JOURNAL_ACK_EVERY_DEFAULT 65536u
#define AB_JOURNAL_ACK_EVERY_MAX 10000000u
#define AB_JOURNAL_ACK_MS_DEFAULT 100u
#define AB_JOURNAL_ACK_MS_MAX 60000u
#define AB_JOURNAL_SPARES_DEFAULT 2u
#define AB_JOURNAL_SPARES_MAX 16u
#define AB_JOURNAL_NAME_MAX 64          /* reader names: [A-Za-z0-9_.-], not starting with '.' */
#define AB_JOURNAL_READ_MAX 65536u      /* records per ab_journal_read */
#define AB_JOURNAL_APPEND_MAX 65536u    /* records per append/submit call */
#define AB_JOURNAL_WAIT_MAX_MS 60000    /* longest wait of ab_journal_read */

struct ab_journal_opts {
	uint32_t segment_size;  /* bytes per segment file; applies when the journal is created
	                           (an existing journal keeps the size in its headers) */
	uint64_t max_bytes;     /* cap on segment files (live and spare) on disk; >= 2 segments */
	uint32_t max_record;    /* largest record; <= segment_size - 64 */
	uint32_t queue_bytes;   /* records waiting for the writer (x2: one batch in flight) */
	uint32_t ack_every;     /* a reader persists its position every N acked records ... */
	uint32_t ack_ms;        /* ... or T ms after an unpersisted ack, whichever comes first */
	uint32_t spares;        /* consumed segments kept for reuse (0: delete them); 0 = default,
	                           AB_JOURNAL_NO_SPARES for none */
	uint32_t write_chunk;   /* tests only: split writes into pieces of this many bytes */
};
#define AB_JOURNAL_NO_SPARES UINT32_MAX

/* A record: in append/submit, data and len (seq ignored); from read, seq
 * too, and data points into the reader's buffer until its next read. */
struct ab_journal_rec {
	const void *data;
	uint32_t len;
	uint64_t seq;
};

/* What recovery found in the last segment (for the daemon's log). */
struct ab_journal_recovery {
	uint64_t segment;       /* the last segment (where writing continues) */
	uint64_t offset;        /* end of its last intact record */
	uint64_t next_seq;      /* sequence number of the next record */
	bool torn;              /* the tail held damaged bytes (a torn write): cut */
	uint64_t cut_bytes;     /* bytes discarded after offset (zeroed or removed) */
	char file[80];          /* the segment's file name */
};

struct ab_journal_stats {
	uint64_t next_seq, durable_seq;  /* next to assign; last acknowledged */
	uint64_t batches, records, bytes;  /* committed since open */
	uint64_t syncs, sync_ns;        /* fdatasync calls of the writer and their time */
	uint64_t first_segment, last_segment;
	uint32_t spares;
};

struct ab_journal;
struct ab_journal_reader;

/* Called by the writer thread once a submitted batch is durable (status 0)
 * or has failed (-1).  It must not block or call ab_journal_append. */
typedef void (*ab_journal_done_fn)(void *arg, uint64_t first_seq, size_t n, int status);

/* Opens (creating if needed) the journal in dir and recovers its tail;
 * rec (may be NULL) gets what recovery did.  0, or -1 with err. */
int ab_journal_open(struct ab_journal **out, const char *dir, const struct ab_journal_opts *o,
	struct ab_journal_recovery *rec, char *err, size_t errsz);
/* Commits what is queued, stops the writer and closes.  Readers first. */
void ab_journal_close(struct ab_journal *j);

/* Appends n records (all or none) and returns once they are durable;
 * *first_seq (may be NULL) gets the first one's number, the others follow
 * it.  0, -1, AB_JOURNAL_FULL or AB_JOURNAL_TOOBIG, with err. */
int ab_journal_append(struct ab_journal *j, const struct ab_journal_rec *recs, size_t n,
	uint64_t *first_seq, char *err, size_t errsz);
/* Queues n records without waiting; done(arg, first_seq, n, status) runs
 * on the writer thread when they are durable.  The records are copied.
 * 0, -1, AB_JOURNAL_FULL, AB_JOURNAL_TOOBIG or AB_JOURNAL_AGAIN (queue
 * full: retry after a completion), with err; done is called only after 0. */
int ab_journal_submit(struct ab_journal *j, const struct ab_journal_rec *recs, size_t n,
	ab_journal_done_fn done, void *arg, uint64_t *first_seq, char *err, size_t errsz);
void ab_journal_get_stats(struct ab_journal *j, struct ab_journal_stats *st);

/* Opens the reader called name, at its persisted position (a new name
 * starts at the oldest record and is registered at once).  0 or -1. */
int ab_journal_reader_open(struct ab_journal *j, const char *name,
	struct ab_journal_reader **out, char *err, size_t errsz);
/* Up to max records after the reader's position and up to the durable
 * end, waiting up to timeout_ms (capped) while there are none.  Returns
 * the count (0: none in time, or the journal is closing) or -1 with err. */
int ab_journal_read(struct ab_journal_reader *r, struct ab_journal_rec *out, size_t max,
	int timeout_ms, char *err, size_t errsz);
/* Everything up to and including seq (a record this reader returned) is
 * consumed.  Persisted every ack_every records or ack_ms; then segments
 * below every reader are reclaimed.  0 or -1. */
int ab_journal_ack(struct ab_journal_reader *r, uint64_t seq, char *err, size_t errsz);
/* Persists the acked position now (and reclaims).  0 or -1. */
int ab_journal_reader_flush(struct ab_journal_reader *r, char *err, size_t errsz);
/* fn(arg) runs before each persisting of the reader's position, and the
 * position is not persisted when it fails (-1 with err): a reader whose
 * own writes become durable later (the mover's store commits without
 * fsync) makes them durable there first. */
void ab_journal_reader_before_persist(struct ab_journal_reader *r,
	int (*fn)(void *arg, char *err, size_t errsz), void *arg);
/* Persists (best effort: call flush first to see errors) and closes. */
void ab_journal_reader_close(struct ab_journal_reader *r);
/* Removes the registered reader name (not open), so it no longer holds
 * segments back, and reclaims.  0 or -1 (no such reader, or open). */
int ab_journal_reader_drop(struct ab_journal *j, const char *name, char *err, size_t errsz);
/* Calls fn for every registered reader.  Count or -1. */
int ab_journal_reader_names(struct ab_journal *j, void (*fn)(void *arg, const char *name),
	void *arg, char *err, size_t errsz);

#endif
