/*
 * spool.c - the syslog spool (see spool.h): the journal that makes a
 * syslog batch durable with one fdatasync, and the mover thread that
 * ingests it into the store behind the listeners.
 *
 * Public: ab_spool_dir, ab_spool_open, ab_spool_start, ab_spool_set_runtime,
 *         ab_spool_routes, ab_spool_encode, ab_spool_put, ab_spool_free_spent,
 *         ab_spool_get_stats, ab_spool_close.
 *
 * Why: a SQLite transaction per batch, with an event row of ~750 bytes of
 * JSON and its jobs, capped syslog input at ~50k lines/s; an append to the
 * journal costs one copy and shares its fdatasync with the whole batch.
 * The store stays the one place operators query (queue, log, dead
 * letters, noise state): the mover fills it in transactions of up to
 * MOVE_BATCH events, so its cost is paid behind the sender, not in front.
 *
 * Record: one byte format, the routing time (int64, little endian, ms
 * since the epoch), then the event with its id: format 2 (written now) in
 * its compact binary form (ab_event_write_bin), format 1 (journals of
 * earlier versions, still read) as canonical JSON.  Reading JSON back with
 * jansson was half of the mover's time per record.
 * Hand-over: ab_spool_put also takes the events the records were made
 * from and keeps up to AB_SPOOL_HANDOFF of them in memory, by record
 * number (put in the ring before the append, as pending, so that a mover
 * that reads a record the moment it is durable waits the few microseconds
 * until the put returns instead of decoding it); the mover routes those
 * events as they are and decodes only the records it has no event for
 * (after a restart, or when it is that far behind).  It gives the handed
 * events back when done with them, and the listener frees them
 * (ab_spool_free_spent) in the malloc arena they came from.
 * The two are the same event: every parsed event's binary form reads
 * back to the same event (fuzz_syslog checks it on every input).  The
 * mover routes again at that time with the configuration it has: the
 * listener's routing only decides whether the line is kept.  "Routes
 * somewhere" means a channel, a matching rule (muted or throttled: noise
 * control keeps state for it) or a disabled channel (kept, as ab_ingest
 * keeps it, with its warning).
 *
 * Order and duplicates: records are moved in journal order.  The mover
 * acknowledges a batch after its store commit, so a crash between the two
 * moves it again: the store ignores an event id it has (no second job).
 * An acknowledgement is persisted every ACK_EVERY records / ACK_MS, after
 * the store's log is synced (the mover's commits are not fsynced one by
 * one: a power loss can undo the last ones, which the journal still holds
 * and moves again).
 *
 * Full: the journal is capped (journal_max_mb); ab_spool_put then fails
 * and the listener keeps the batch, retries and stops reading (TCP
 * backpressure) until the mover has made room.
 *
 * Diagnostics: the store's message when a move fails (rate limited, the
 * batch is retried every RETRY_MS), one error per record that cannot be
 * read back (skipped and counted: it was damaged on disk, which the
 * journal's checksums make very unlikely), the journal's recovery line
 * when a torn tail was cut.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ingest/ingest.h"
#include "ingest/spool.h"
#include "lib/buf.h"
#include "lib/diskroom.h"
#include "lib/log.h"
#include "lib/util.h"
#include "route/route.h"
#include "store/journal.h"
#include "store/store.h"

#define REC_JSON 1                   /* record formats: canonical JSON (read only) */
#define REC_BIN 2                    /* ... the binary form (written) */
#define REC_HEAD 9                   /* format + routing time */
#define MOVE_BATCH 4096              /* records per store transaction */
#define READ_WAIT_MS 200
#define RETRY_MS 500
#define COMPLAIN_MS 30000
#define ACK_EVERY 65536u
#define ACK_MS 200u
#define READER "store"
#define TRIM_AFTER 16384u            /* records moved before an idle mover trims the heap */

struct ab_spool {
	struct ab_journal *jn;
	struct ab_journal_reader *rd;
	struct ab_store *st;            /* the mover's connection */
	pthread_t th;
	bool started;
	pthread_mutex_t mu;             /* rt, stop, drain_until */
	pthread_cond_t cv;
	struct ab_runtime *rt;
	bool stop;
	int64_t drain_until;            /* monotonic ms; 0: not draining */
	void (*wake)(void *);
	void *wake_arg;
	struct ab_journal_rec *recs;    /* ab_spool_put's */
	size_t recs_cap;
	struct ab_diskroom room;        /* ab_spool_put's: the free-space watermark */
	_Atomic uint64_t min_free;      /* bytes, from the configuration (0: off) */
	_Atomic uint64_t room_avail;    /* the last look */
	_Atomic bool room_low;
	/* events handed over in memory by ab_spool_put, oldest first (a ring) */
	pthread_mutex_t hmu;
	pthread_cond_t hcv;             /* a put's pending entries were settled */
	struct handoff {
		uint64_t seq;           /* its record's (while pending: at least this) */
		struct ab_event *ev;
		size_t idx;             /* while pending: its place in the put's evs */
		bool pending;           /* its put's append has not returned yet */
	} ho[AB_SPOOL_HANDOFF];
	size_t ho_head, ho_n;
	/* handed events the mover is done with, for the listener to free in
	 * its own malloc arena (ab_spool_free_spent) */
	struct ab_event *spent[AB_SPOOL_HANDOFF];
	size_t spent_n;
	/* counters */
	_Atomic uint64_t spooled, stored, handed, corrupt, store_errors, acked_seq;
};

static struct ab_complaint move_failed = AB_COMPLAINT_INIT;

int ab_spool_dir(const char *store_path, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s.journal", store_path);

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Before the reader's position is persisted: the moves it covers are
 * durable in the store. */
static int sync_store(void *arg, char *err, size_t errsz)
{
	struct ab_spool *sp = arg;

	if (ab_store_sync(sp->st) == 0)
		return 0;
	snprintf(err, errsz, "%s", ab_store_errmsg(sp->st));
	return -1;
}

int ab_spool_open(struct ab_spool **out, const char *store_path, int max_mb, int min_free_mb,
	char *err, size_t errsz)
{
	struct ab_journal_opts o;
	struct ab_journal_recovery rec;
	struct ab_spool *sp;
	char dir[4096];

	*out = NULL;
	if (ab_spool_dir(store_path, dir, sizeof dir) < 0) {
		snprintf(err, errsz, "syslog journal: store path too long");
		return -1;
	}
	sp = calloc(1, sizeof *sp);
	if (!sp) {
		snprintf(err, errsz, "syslog journal: out of memory");
		return -1;
	}
	pthread_mutex_init(&sp->mu, NULL);
	pthread_mutex_init(&sp->hmu, NULL);
	pthread_cond_init(&sp->hcv, NULL);
	pthread_cond_init(&sp->cv, NULL);
	memset(&o, 0, sizeof o);
	o.segment_size = AB_SPOOL_SEGMENT;
	o.max_record = AB_SPOOL_RECORD_MAX;
	o.queue_bytes = AB_SPOOL_QUEUE;
	o.max_bytes = (uint64_t)(max_mb > 0 ? max_mb : AB_SPOOL_MAX_MB_DEFAULT) << 20;
	if (o.max_bytes < 8ull * AB_SPOOL_SEGMENT)   /* room for a whole batch and more */
		o.max_bytes = 8ull * AB_SPOOL_SEGMENT;
	o.ack_every = ACK_EVERY;
	o.ack_ms = ACK_MS;
	if (ab_mkdir_p(dir, 0750) < 0) {
		snprintf(err, errsz, "syslog journal %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (ab_journal_open(&sp->jn, dir, &o, &rec, err, errsz) < 0)
		goto fail;
	atomic_store(&sp->min_free, (uint64_t)min_free_mb << 20);
	ab_diskroom_init(&sp->room, dir, "syslog journal", (uint64_t)min_free_mb << 20);
	if (rec.torn)
		ab_log(AB_LOG_WARNING, "syslog journal %s: cut a torn tail of %llu byte(s) in %s "
			"(a crash during a write; those lines were never acknowledged)", dir,
			(unsigned long long)rec.cut_bytes, rec.file);
	if (ab_journal_reader_open(sp->jn, READER, &sp->rd, err, errsz) < 0)
		goto fail;
	sp->st = ab_store_open(store_path, err, errsz);
	if (!sp->st)
		goto fail;
	if (ab_store_set_bulk(sp->st) < 0)
		ab_log(AB_LOG_WARNING, "syslog journal: %s (moves work, only slower)",
			ab_store_errmsg(sp->st));
	/* The journal keeps every record until the position past it is
	 * persisted, so the mover's commits need no fsync each: the log is
	 * synced once before each persisting of the position (every ACK_MS or
	 * ACK_EVERY records), not once per move. */
	if (ab_store_set_relaxed(sp->st) == 0)
		ab_journal_reader_before_persist(sp->rd, sync_store, sp);
	*out = sp;
	return 0;
fail:
	ab_spool_close(sp, 0);
	return -1;
}

/* ------------------------------------------------------------ put side */

static bool routes_somewhere(const struct ab_route_result *rr)
{
	return rr->n > 0 || rr->n_matched > 0 || rr->n_disabled > 0;
}

bool ab_spool_routes(const struct ab_config *cfg, const struct ab_event *ev, int64_t now)
{
	struct ab_route_result rr;

	ab_route_at(cfg, ev, now, &rr, NULL);
	return routes_somewhere(&rr);
}

int ab_spool_encode(const struct ab_config *cfg, struct ab_event *ev, int64_t now,
	bool routed, struct ab_buf *out, int (*keep)(struct ab_event *ev, void *arg),
	void *keep_arg)
{
	unsigned char head[REC_HEAD];
	size_t mark = out->len;
	int rc = 1;

	if (!routed && !ab_spool_routes(cfg, ev, now))
		return 0;
	if (keep && keep(ev, keep_arg) < 0)
		return -1;
	head[0] = REC_BIN;
	for (int i = 0; i < 8; i++)
		head[1 + i] = (unsigned char)((uint64_t)now >> (8 * i));
	ab_event_ensure_id(ev);      /* the listener's keep has set it: nothing to do */
	if (ab_buf_append(out, head, sizeof head) < 0 || ab_event_write_bin(ev, out) < 0)
		rc = -1;
	else if (out->len - mark > AB_SPOOL_RECORD_MAX)
		rc = -2;
	if (rc < 0) {
		out->len = mark;         /* nothing of this record stays */
		out->overflow = out->oom = false;
		if (out->data)
			out->data[mark] = '\0';
	}
	return rc;
}

/* Hand-over, before the append: the events evs[0..n-1] into the ring as
 * pending (while it has room), with the least record number each can get
 * (the journal's next; the committer is its only writer), so that a mover
 * that reads their records as soon as they are durable, before the put
 * returns, waits for them rather than decoding.  Returns how many. */
static size_t reserve(struct ab_spool *sp, struct ab_event **evs, size_t n)
{
	struct ab_journal_stats js;
	size_t k = 0;

	ab_journal_get_stats(sp->jn, &js);
	pthread_mutex_lock(&sp->hmu);
	for (size_t i = 0; i < n && sp->ho_n < AB_SPOOL_HANDOFF; i++) {
		struct handoff *h = &sp->ho[(sp->ho_head + sp->ho_n) % AB_SPOOL_HANDOFF];

		if (!evs[i])
			continue;
		*h = (struct handoff){ .seq = js.next_seq + i, .ev = evs[i], .idx = i,
			.pending = true };
		sp->ho_n++;
		k++;
	}
	pthread_mutex_unlock(&sp->hmu);
	return k;
}

/* After the append: the k pending entries (the ring's last) get their
 * record numbers (first_seq + their place) and the spool takes their
 * events; the other events are freed, every evs[i] ends NULL.  After a
 * failed append (ok false) they leave the ring and stay the caller's. */
static void settle(struct ab_spool *sp, struct ab_event **evs, size_t n, size_t k, bool ok,
	uint64_t first_seq)
{
	pthread_mutex_lock(&sp->hmu);
	for (size_t j = sp->ho_n - k; j < sp->ho_n; j++) {
		struct handoff *h = &sp->ho[(sp->ho_head + j) % AB_SPOOL_HANDOFF];

		h->pending = false;
		h->seq = first_seq + h->idx;
		if (ok)
			evs[h->idx] = NULL;
	}
	if (!ok)
		sp->ho_n -= k;
	pthread_cond_broadcast(&sp->hcv);
	pthread_mutex_unlock(&sp->hmu);
	for (size_t i = 0; ok && i < n; i++) {
		ab_event_free(evs[i]);
		evs[i] = NULL;
	}
}

/* The mover: the event handed over for record seq, or NULL (the ring had
 * no room for it, or it came from an earlier run).  Older ones left in
 * the ring (their records were skipped) are freed on the way.  When the
 * oldest is pending and may be seq's, it waits for its put to return
 * (that record is durable: the append is about to). */
static struct ab_event *take_handed(struct ab_spool *sp, uint64_t seq)
{
	struct ab_event *ev = NULL;

	pthread_mutex_lock(&sp->hmu);
	for (int tries = 0; sp->ho_n > 0 && sp->ho[sp->ho_head].pending &&
	     sp->ho[sp->ho_head].seq <= seq && tries < 100; tries++) {
		struct timespec ts;

		ab_deadline(&ts, CLOCK_REALTIME, 10);
		pthread_cond_timedwait(&sp->hcv, &sp->hmu, &ts);
	}
	while (sp->ho_n > 0 && !sp->ho[sp->ho_head].pending && sp->ho[sp->ho_head].seq <= seq) {
		struct handoff *h = &sp->ho[sp->ho_head];

		if (h->seq == seq)
			ev = h->ev;
		else
			ab_event_free(h->ev);
		h->ev = NULL;
		sp->ho_head = (sp->ho_head + 1) % AB_SPOOL_HANDOFF;
		sp->ho_n--;
	}
	pthread_mutex_unlock(&sp->hmu);
	return ev;
}

int ab_spool_put(struct ab_spool *sp, const struct ab_buf *recs, const size_t *offs,
	struct ab_event **evs, size_t n, char *err, size_t errsz)
{
	uint64_t first = 0;
	size_t k;
	int rc;

	if (n == 0)
		return 0;
	ab_diskroom_set(&sp->room, atomic_load(&sp->min_free));
	rc = ab_diskroom_check(&sp->room, err, errsz);
	atomic_store(&sp->room_avail, sp->room.avail);
	atomic_store(&sp->room_low, sp->room.low);
	if (rc < 0)
		return -1;      /* below min_free_mb: the listener pauses and retries */
	if (n > sp->recs_cap) {
		struct ab_journal_rec *r = realloc(sp->recs, n * sizeof *r);

		if (!r) {
			snprintf(err, errsz, "syslog journal: out of memory");
			return -1;
		}
		sp->recs = r;
		sp->recs_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		size_t end = i + 1 < n ? offs[i + 1] : recs->len;

		sp->recs[i].data = recs->data + offs[i];
		sp->recs[i].len = (uint32_t)(end - offs[i]);
	}
	k = evs ? reserve(sp, evs, n) : 0;
	rc = ab_journal_append(sp->jn, sp->recs, n, &first, err, errsz);
	if (evs)
		settle(sp, evs, n, k, rc >= 0, first);
	if (rc < 0)
		return -1;
	atomic_fetch_add(&sp->spooled, n);
	return 0;
}

/* ------------------------------------------------------------ mover */

/* A record's head: its format and routing time.  0, or -1 with err. */
static int rec_head(const struct ab_journal_rec *r, int64_t *now, char *err, size_t errsz)
{
	const unsigned char *p = r->data;
	uint64_t t = 0;

	if (r->len < REC_HEAD || (p[0] != REC_BIN && p[0] != REC_JSON)) {
		snprintf(err, errsz, "unknown record format");
		return -1;
	}
	for (int i = 0; i < 8; i++)
		t |= (uint64_t)p[1 + i] << (8 * i);
	*now = (int64_t)t;
	return 0;
}

/* The record's event: the one handed over in memory, else its binary
 * form (or JSON) read back.  NULL with err when the record cannot be read back. */
static struct ab_event *decode(struct ab_spool *sp, const struct ab_journal_rec *r,
	int64_t *now, bool *handed, char *err, size_t errsz)
{
	const unsigned char *p = r->data;
	struct ab_event *ev = take_handed(sp, r->seq);
	json_error_t je;
	json_t *j;

	if (rec_head(r, now, err, errsz) < 0) {
		ab_event_free(ev);
		return NULL;
	}
	if (ev) {
		atomic_fetch_add(&sp->handed, 1);
		*handed = true;
		return ev;
	}
	if (p[0] == REC_BIN)
		return ab_event_read_bin(p + REC_HEAD, r->len - REC_HEAD, err, errsz);
	j = json_loadb((const char *)p + REC_HEAD, r->len - REC_HEAD, 0, &je);
	if (!j) {
		snprintf(err, errsz, "not JSON: %s", je.text);
		return NULL;
	}
	return ab_event_from_json_take(j, err, errsz);
}

/* A handed event the mover is done with goes back to the listener's
 * thread, which made it: freed there, its memory returns to that
 * thread's malloc arena without the arena lock the two threads would
 * otherwise fight over (in a firehose profile, the mover's frees of handed
 * events were a quarter of its time).  false when the list is full (the
 * listener has not come by): the caller frees it. */
static bool give_back(struct ab_spool *sp, struct ab_event *ev)
{
	bool ok;

	pthread_mutex_lock(&sp->hmu);
	ok = sp->spent_n < AB_SPOOL_HANDOFF;
	if (ok)
		sp->spent[sp->spent_n++] = ev;
	pthread_mutex_unlock(&sp->hmu);
	return ok;
}

void ab_spool_free_spent(struct ab_spool *sp)
{
	struct ab_event *evs[AB_SPOOL_HANDOFF];
	size_t n;

	pthread_mutex_lock(&sp->hmu);
	n = sp->spent_n;
	memcpy(evs, sp->spent, n * sizeof *evs);
	sp->spent_n = 0;
	pthread_mutex_unlock(&sp->hmu);
	for (size_t i = 0; i < n; i++)
		ab_event_free(evs[i]);
}

/* One store transaction for recs[0..n-1].  0 or -1 with err. */
static int move(struct ab_spool *sp, const struct ab_config *cfg,
	const struct ab_journal_rec *recs, size_t n, char *err, size_t errsz)
{
	char e2[512];

	if (ab_store_begin(sp->st) < 0) {
		snprintf(err, errsz, "%s", ab_store_errmsg(sp->st));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t now = 0;
		bool handed = false;
		struct ab_event *ev = decode(sp, &recs[i], &now, &handed, e2, sizeof e2);

		if (!ev) {
			atomic_fetch_add(&sp->corrupt, 1);
			ab_log(AB_LOG_ERR, "syslog journal: record %llu cannot be read back (%s): "
				"skipped", (unsigned long long)recs[i].seq, e2);
			continue;
		}
		if (ab_ingest(sp->st, cfg, ev, now, NULL, NULL, err, errsz) < 0) {
			ab_event_free(ev);
			ab_store_rollback(sp->st);
			return -1;
		}
		if (!handed || !give_back(sp, ev))
			ab_event_free(ev);
	}
	if (ab_store_commit(sp->st) < 0) {
		snprintf(err, errsz, "%s", ab_store_errmsg(sp->st));
		return -1;
	}
	return 0;
}

/* Wait up to ms or until stopped; true when the mover should exit now. */
static bool mover_nap(struct ab_spool *sp, int ms)
{
	struct timespec ts;
	bool out;

	ab_deadline(&ts, CLOCK_REALTIME, ms);
	pthread_mutex_lock(&sp->mu);
	if (!sp->stop)
		pthread_cond_timedwait(&sp->cv, &sp->mu, &ts);
	out = sp->stop && (sp->drain_until == 0 || ab_mono_ms() >= sp->drain_until);
	pthread_mutex_unlock(&sp->mu);
	return out;
}

/* 0 running; 1 draining (stop asked, time left); 2 exit. */
static int mover_state(struct ab_spool *sp)
{
	int s;

	pthread_mutex_lock(&sp->mu);
	s = !sp->stop ? 0 : sp->drain_until && ab_mono_ms() < sp->drain_until ? 1 : 2;
	pthread_mutex_unlock(&sp->mu);
	return s;
}

static void *mover(void *arg)
{
	struct ab_spool *sp = arg;
	struct ab_journal_rec *recs = calloc(MOVE_BATCH, sizeof *recs);
	char err[1024];
	unsigned moved = 0;        /* records since the last heap trim */

	if (!recs) {
		ab_log(AB_LOG_ERR, "syslog journal: mover: out of memory: lines stay in the "
			"journal until a restart");
		return NULL;
	}
	for (;;) {
		int state = mover_state(sp), n;
		struct ab_runtime *rt;
		bool done = false;

		if (state == 2)
			break;
		n = ab_journal_read(sp->rd, recs, MOVE_BATCH, state ? 0 : READ_WAIT_MS, err,
			sizeof err);
		if (n < 0) {
			ab_complain(&move_failed, COMPLAIN_MS, AB_LOG_ERR, "syslog journal: cannot "
				"read: %s", err);
			if (mover_nap(sp, RETRY_MS))
				break;
			continue;
		}
		if (n == 0) {
			if (state == 1)
				break;          /* drained */
			/* idle: persist the last acks, so that their segments are
			 * reclaimed now (a waiting append may need the room) */
			if (ab_journal_reader_flush(sp->rd, err, sizeof err) < 0)
				ab_complain(&move_failed, COMPLAIN_MS, AB_LOG_ERR, "syslog journal: "
					"cannot record the position: %s", err);
			/* after a burst: give the threads' freed heap back to the
			 * system (glibc keeps it in each thread's arena otherwise; a
			 * 200,000-line burst left the daemon at its peak RSS, idle) */
			if (moved >= TRIM_AFTER) {
				malloc_trim(0);
				moved = 0;
			}
			continue;
		}
		pthread_mutex_lock(&sp->mu);
		rt = ab_runtime_ref(sp->rt);
		pthread_mutex_unlock(&sp->mu);
		while (!(done = move(sp, rt->cfg, recs, (size_t)n, err, sizeof err) == 0)) {
			atomic_fetch_add(&sp->store_errors, 1);
			ab_complain(&move_failed, COMPLAIN_MS, AB_LOG_ERR, "syslog journal: cannot "
				"move %d line(s) into the store: %s; they stay in the journal, "
				"retrying", n, err);
			if (mover_nap(sp, RETRY_MS))
				break;
		}
		ab_runtime_unref(rt);
		if (!done)
			break;
		ab_complain_clear(&move_failed, AB_LOG_NOTICE, "syslog journal: moving into "
			"the store again");
		atomic_fetch_add(&sp->stored, (uint64_t)n);
		moved += (unsigned)n;
		/* the jobs are committed: the dispatcher may take them now, before
		 * the acknowledgement, whose persisting (every ACK_MS) syncs the
		 * store's log and the ledger first: a millisecond or more that one
		 * alert in two waited for at 100 ms apart.  A job delivered before
		 * its position is persisted is the same job if a crash makes the
		 * mover move its record again (the store ignores the event id) */
		if (sp->wake)
			sp->wake(sp->wake_arg);
		if (ab_journal_ack(sp->rd, recs[n - 1].seq, err, sizeof err) < 0)
			ab_log(AB_LOG_WARNING, "syslog journal: cannot record the position: %s "
				"(those lines may be moved again: the store ignores them)", err);
		atomic_store(&sp->acked_seq, recs[n - 1].seq);
	}
	free(recs);
	return NULL;
}

int ab_spool_start(struct ab_spool *sp, struct ab_runtime *rt, void (*wake)(void *arg),
	void *wake_arg, char *err, size_t errsz)
{
	sp->rt = ab_runtime_ref(rt);
	sp->wake = wake;
	sp->wake_arg = wake_arg;
	if (pthread_create(&sp->th, NULL, mover, sp) != 0) {
		snprintf(err, errsz, "syslog journal: cannot start the mover thread");
		return -1;
	}
	pthread_setname_np(sp->th, "ab-mover");
	sp->started = true;
	return 0;
}

void ab_spool_set_runtime(struct ab_spool *sp, struct ab_runtime *rt)
{
	struct ab_runtime *old;

	pthread_mutex_lock(&sp->mu);
	old = sp->rt;
	sp->rt = ab_runtime_ref(rt);
	pthread_mutex_unlock(&sp->mu);
	atomic_store(&sp->min_free, (uint64_t)rt->cfg->min_free_mb << 20);
	ab_runtime_unref(old);
}

void ab_spool_get_stats(struct ab_spool *sp, struct ab_spool_stats *st)
{
	struct ab_journal_stats js;
	uint64_t acked;
	int64_t avail;

	memset(st, 0, sizeof *st);
	if (!sp)
		return;
	ab_journal_get_stats(sp->jn, &js);
	st->spooled = atomic_load(&sp->spooled);
	st->stored = atomic_load(&sp->stored);
	st->handed = atomic_load(&sp->handed);
	st->corrupt = atomic_load(&sp->corrupt);
	st->store_errors = atomic_load(&sp->store_errors);
	acked = atomic_load(&sp->acked_seq);
	st->backlog = js.durable_seq > acked ? js.durable_seq - acked : 0;
	st->disk_bytes = (js.last_segment - js.first_segment + 1 + js.spares) *
		(uint64_t)AB_SPOOL_SEGMENT;
	st->min_free = atomic_load(&sp->min_free);
	avail = ab_disk_avail(sp->room.path);   /* path: set once at open */
	st->free_bytes = avail >= 0 ? (uint64_t)avail : atomic_load(&sp->room_avail);
	st->low = atomic_load(&sp->room_low);
}

void ab_spool_close(struct ab_spool *sp, int drain_ms)
{
	char err[512];

	if (!sp)
		return;
	if (sp->started) {
		pthread_mutex_lock(&sp->mu);
		sp->stop = true;
		sp->drain_until = drain_ms > 0 ? ab_mono_ms() + drain_ms : 0;
		pthread_cond_broadcast(&sp->cv);
		pthread_mutex_unlock(&sp->mu);
		pthread_join(sp->th, NULL);
	}
	if (sp->rd) {
		if (ab_journal_reader_flush(sp->rd, err, sizeof err) < 0)
			ab_log(AB_LOG_WARNING, "syslog journal: %s (some lines will be moved again "
				"at the next start; the store ignores them)", err);
		ab_journal_reader_close(sp->rd);
	}
	if (sp->jn)
		ab_journal_close(sp->jn);
	ab_store_close(sp->st);
	ab_runtime_unref(sp->rt);
	free(sp->recs);
	for (size_t i = 0; i < sp->ho_n; i++)
		ab_event_free(sp->ho[(sp->ho_head + i) % AB_SPOOL_HANDOFF].ev);
	for (size_t i = 0; i < sp->spent_n; i++)
		ab_event_free(sp->spent[i]);
	pthread_cond_destroy(&sp->cv);
	pthread_mutex_destroy(&sp->mu);
	pthread_mutex_destroy(&sp->hmu);
	pthread_cond_destroy(&sp->hcv);
	free(sp);
}
