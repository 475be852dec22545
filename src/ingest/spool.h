/*
 * spool.h - the syslog spool: a durable journal between the syslog
 * listeners and the store.  The listeners' committer puts routed events in
 * (acknowledged once fdatasynced, one sync per batch); a mover thread
 * takes them out in order and ingests them into the store (routing, noise
 * control, delivery jobs) in large transactions, then acknowledges them in
 * the journal.  Events that route nowhere are counted, never written.
 *
 * Threads: ab_spool_put from one thread at a time (the committer),
 * ab_spool_routes and ab_spool_encode from any; ab_spool_free_spent from
 * the thread that made the handed events (the listener); the mover is the spool's own thread;
 * ab_spool_get_stats from any thread.
 */
#ifndef AB_SPOOL_H
#define AB_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include <stdbool.h>

#include "deliver/runtime.h"
#include "event/event.h"
#include "lib/buf.h"

#define AB_SPOOL_MAX_MB_DEFAULT 1024      /* journal_max_mb when not set */
#define AB_SPOOL_SEGMENT (8u << 20)       /* bytes per journal segment */
#define AB_SPOOL_RECORD_MAX (4u << 20)    /* largest record (an event in its binary form) */
/* Records one ab_spool_put may take, in bytes (with their framing): the
 * journal refuses a larger append, so callers stay well below it. */
#define AB_SPOOL_QUEUE (32u << 20)
#define AB_SPOOL_HANDOFF 1024             /* events waiting in memory for the mover */

struct ab_spool;

struct ab_spool_stats {
	uint64_t spooled;      /* events made durable in the journal since start */
	uint64_t stored;       /* events moved into the store since start */
	uint64_t handed;       /* ... of them taken from memory, their records not decoded */
	uint64_t corrupt;      /* records the mover could not read back (logged, skipped) */
	uint64_t store_errors; /* failed store transactions of the mover (retried) */
	uint64_t backlog;      /* durable records not yet in the store */
	uint64_t disk_bytes;   /* segment files on disk (live and spare) */
	uint64_t min_free;     /* the free-space watermark (bytes; 0: off) */
	uint64_t free_bytes;   /* available on the journal's filesystem at the last append */
	bool low;              /* below the watermark: appends refused, input paused */
};

/* The journal's directory for a store file: "STORE.journal". */
int ab_spool_dir(const char *store_path, char *out, size_t outsz);

/* Opens (creating) the journal next to store_path, recovering its tail, and
 * opens the mover's store connection; nothing runs yet.  max_mb caps the
 * journal on disk (0: the default); below min_free_mb free on its
 * filesystem (0: no watermark; later taken from each runtime set) appends
 * are refused until there is room (lib/diskroom.h).  0, or -1 with err. */
int ab_spool_open(struct ab_spool **out, const char *store_path, int max_mb, int min_free_mb,
	char *err, size_t errsz);
/* Starts the mover: it ingests with rt's configuration (a reference is
 * taken) and calls wake(wake_arg) after each store commit.  0 or -1. */
int ab_spool_start(struct ab_spool *sp, struct ab_runtime *rt, void (*wake)(void *arg),
	void *wake_arg, char *err, size_t errsz);
/* Later batches are routed and stored with rt (a reference is taken). */
void ab_spool_set_runtime(struct ab_spool *sp, struct ab_runtime *rt);
/* Does ev, routed at now with cfg, go somewhere: a channel, a matching rule
 * (noise control keeps its state) or a disabled channel? */
bool ab_spool_routes(const struct ab_config *cfg, const struct ab_event *ev, int64_t now);
/* Routes ev at now with cfg (routed: the caller has found that it goes
 * somewhere, on the same members, and it is not routed again); if it goes
 * somewhere, calls keep(ev, keep_arg) when keep is set (the listener
 * completes the event there, its id and the payload's fields: lines that
 * go nowhere never pay for them),
 * sets its id if it still has none and appends its record to out.  1
 * appended, 0 it goes nowhere (nothing appended), -1 out of memory (keep
 * returned < 0 too) or over out's cap, -2 the record is over
 * AB_SPOOL_RECORD_MAX (nothing appended in either case).  Any thread: it
 * touches only its arguments, so the listener encodes a line as soon as it
 * is parsed. */
int ab_spool_encode(const struct ab_config *cfg, struct ab_event *ev, int64_t now,
	bool routed, struct ab_buf *out, int (*keep)(struct ab_event *ev, void *arg),
	void *keep_arg);
/* Appends the n records that ab_spool_encode put into recs, the i-th at
 * offset offs[i], and returns once they are durable.  0, or -1 with err
 * (the journal is full, its filesystem below min_free_mb, or an I/O error:
 * nothing of this call is durable; retry later).  evs (may be NULL, and
 * so may each evs[i]): the event each record was encoded from.  On
 * success the spool takes them all (evs[i] set to NULL): up to
 * AB_SPOOL_HANDOFF of them wait in memory for the mover, which then routes
 * them as they are instead of decoding their records; the others are
 * freed.  On failure they stay the caller's. */
int ab_spool_put(struct ab_spool *sp, const struct ab_buf *recs, const size_t *offs,
	struct ab_event **evs, size_t n, char *err, size_t errsz);
void ab_spool_get_stats(struct ab_spool *sp, struct ab_spool_stats *st);
/* Free the handed events the mover is done with: called by the thread that
 * made them (the listener), so that their memory goes back to its malloc
 * arena without contention. */
void ab_spool_free_spent(struct ab_spool *sp);
/* Stops the mover (after moving what is durable, for up to drain_ms),
 * closes the journal.  What is left is moved at the next start. */
void ab_spool_close(struct ab_spool *sp, int drain_ms);

#endif
