/* store_bench.c - one harness, three durable stores: producers hand
 * records to a writer thread through a bounded queue; the writer takes
 * what is queued (natural batching, or waiting up to a max delay), appends
 * the batch to the backend, which returns only once it is durable
 * (fdatasync / LMDB commit / SQLite COMMIT), and only then acknowledges the
 * batch.  Ack latency = enqueue to the end of that commit.
 *
 *   store_bench -b journal|lmdb|sqlite [options]
 *     -d DIR      store directory (emptied first)          default /var/tmp/store_proto
 *     -s BYTES    payload size                             200
 *     -p N        producer threads                         1
 *     -t SECS     run time                                 2
 *     -D USEC     max batch delay (0: natural batching)     0
 *     -r RATE     offered load, records/s over all producers (0: as fast as possible)
 *     -w N        producer window: wait for acks when N records are in flight (0: none)
 *     -q N        queue capacity in records                 8192
 *     -v VARIANT  journal: grow|fallocate|recycle; lmdb: sync|nometasync|writemap;
 *                 sqlite: full|normal
 *     -S MIB      journal segment size                      64
 *     -R          journal: a reader thread tails the journal, persists its ledger every
 *                 -L records or -T ms and reclaims (recycle: renames to spares) segments
 *     -L N / -T MS ledger policy                            65536 / 100
 *     -n          no sync at all (CPU ceiling)
 *     -l LABEL    printed as the first CSV column
 *   store_bench -b journal -X -d DIR [-S MIB]   read DIR from a fresh ledger "cold" to the end
 *     (after fadvise DONTNEED: cold) and print the rate
 *   store_bench -b journal -Y -d DIR [-S MIB] [-v VARIANT]   time the recovery of DIR (cold):
 *     jnl_open scanning the last segment
 *
 * Prints one CSV line (see HEADER). */
#include "common.h"
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <lmdb.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER                                                                                     \
	"label,backend,variant,size,producers,delay_us,rate,records,secs,rec_s,MB_s,p50_us,p99_us,"  \
	"p999_us,max_us,batches,avg_batch,avg_sync_us,read_rec_s,ledger_syncs,reclaimed,load1,"     \
	"cpu_us_rec,writer_cpu_pct"

struct cfg {
	const char *backend, *variant, *dir, *label;
	uint32_t size;
	int producers;
	double secs;
	uint64_t delay_us, rate, window, qcap;
	uint64_t seg_mib;
	int reader, nosync;
	uint64_t ledger_every, ledger_ms;
};

/* ---- backends ---------------------------------------------------------- */

struct backend {
	void *(*open)(const struct cfg *c);
	/* frames: n contiguous frames (REC_HDR + payload), seqs consecutive */
	int (*append)(void *h, const uint8_t *frames, size_t bytes, size_t n);
	void (*close)(void *h);
	uint64_t syncs, sync_ns;
};

static struct jnl *g_jnl;

static void *jb_open(const struct cfg *c)
{
	struct jnl_opts o = {.dir = c->dir, .seg_size = c->seg_mib << 20, .nosync = c->nosync};
	if (!strcmp(c->variant, "fallocate"))
		o.prealloc = JNL_FALLOCATE;
	else if (!strcmp(c->variant, "recycle"))
		o.prealloc = JNL_RECYCLE;
	else
		o.prealloc = JNL_GROW;
	int torn;
	uint64_t cut;
	struct jnl *j;
	if (jnl_open(&j, &o, &torn, &cut) < 0)
		return NULL;
	if (o.prealloc == JNL_RECYCLE && jnl_prewrite(j, 3) < 0)
		return NULL;
	g_jnl = j;
	return j;
}
static int jb_append(void *h, const uint8_t *f, size_t bytes, size_t n)
{
	return jnl_append(h, f, bytes, n);
}
static void jb_close(void *h) { jnl_close(h); }

struct lm {
	MDB_env *env;
	MDB_dbi dbi;
};
static void *lm_open(const struct cfg *c)
{
	struct lm *l = calloc(1, sizeof *l);
	unsigned flags = 0;
	if (!strcmp(c->variant, "nometasync"))
		flags |= MDB_NOMETASYNC;
	if (!strcmp(c->variant, "writemap"))
		flags |= MDB_WRITEMAP | MDB_NOMETASYNC;
	if (c->nosync)
		flags |= MDB_NOSYNC;
	mkdir(c->dir, 0700);
	if (mdb_env_create(&l->env) || mdb_env_set_mapsize(l->env, (size_t)32 << 30) ||
	    mdb_env_open(l->env, c->dir, flags, 0600))
		return NULL;
	MDB_txn *t;
	if (mdb_txn_begin(l->env, NULL, 0, &t) ||
	    mdb_dbi_open(t, NULL, MDB_INTEGERKEY | MDB_CREATE, &l->dbi) || mdb_txn_commit(t))
		return NULL;
	return l;
}
static int lm_append(void *h, const uint8_t *f, size_t bytes, size_t n)
{
	struct lm *l = h;
	MDB_txn *t;
	if (mdb_txn_begin(l->env, NULL, 0, &t))
		return -1;
	for (size_t pos = 0; pos < bytes;) {
		uint32_t len = get32(f + pos);
		uint64_t seq = get64(f + pos + 8);
		MDB_val k = {sizeof seq, &seq}, v = {len, (void *)(f + pos + REC_HDR)};
		int rc = mdb_put(t, l->dbi, &k, &v, MDB_APPEND);
		if (rc) {
			fprintf(stderr, "mdb_put: %s\n", mdb_strerror(rc));
			mdb_txn_abort(t);
			return -1;
		}
		pos += REC_HDR + len;
	}
	(void)n;
	return mdb_txn_commit(t) ? -1 : 0;
}
static void lm_close(void *h)
{
	struct lm *l = h;
	mdb_env_close(l->env);
	free(l);
}

struct sq {
	sqlite3 *db;
	sqlite3_stmt *ins, *begin, *commit;
};
static void *sq_open(const struct cfg *c)
{
	struct sq *s = calloc(1, sizeof *s);
	char path[4096];
	mkdir(c->dir, 0700);
	snprintf(path, sizeof path, "%s/q.db", c->dir);
	if (sqlite3_open(path, &s->db))
		return NULL;
	char pragma[128];
	snprintf(pragma, sizeof pragma, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;",
		 c->nosync ? "OFF" : !strcmp(c->variant, "normal") ? "NORMAL" : "FULL");
	if (sqlite3_exec(s->db, pragma, 0, 0, 0) ||
	    sqlite3_exec(s->db, "CREATE TABLE IF NOT EXISTS q(seq INTEGER PRIMARY KEY, data BLOB)",
			 0, 0, 0) ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO q(seq, data) VALUES(?, ?)", -1, &s->ins, 0) ||
	    sqlite3_prepare_v2(s->db, "BEGIN", -1, &s->begin, 0) ||
	    sqlite3_prepare_v2(s->db, "COMMIT", -1, &s->commit, 0))
		return NULL;
	return s;
}
static int sq_append(void *h, const uint8_t *f, size_t bytes, size_t n)
{
	struct sq *s = h;
	if (sqlite3_step(s->begin) != SQLITE_DONE)
		return -1;
	sqlite3_reset(s->begin);
	for (size_t pos = 0; pos < bytes;) {
		uint32_t len = get32(f + pos);
		sqlite3_bind_int64(s->ins, 1, (sqlite3_int64)get64(f + pos + 8));
		sqlite3_bind_blob(s->ins, 2, f + pos + REC_HDR, (int)len, SQLITE_STATIC);
		if (sqlite3_step(s->ins) != SQLITE_DONE)
			return -1;
		sqlite3_reset(s->ins);
		pos += REC_HDR + len;
	}
	(void)n;
	int rc = sqlite3_step(s->commit);
	sqlite3_reset(s->commit);
	return rc == SQLITE_DONE ? 0 : -1;
}
static void sq_close(void *h)
{
	struct sq *s = h;
	sqlite3_finalize(s->ins);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_close(s->db);
	free(s);
}

/* ---- queue and threads ------------------------------------------------- */

struct slot {
	uint64_t t_submit;
	uint32_t len; /* frame length */
	uint8_t *data;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t nonempty, notfull, acked;
	struct slot *slots;
	uint64_t cap, head, tail; /* head: next to fill; tail: next to take */
	uint64_t next_seq;
	int writer_waiting;
	_Atomic uint64_t committed; /* highest durable seq */
	_Atomic int stop;
	_Atomic int writer_done;
	_Atomic uint64_t committed_pos; /* journal stream position of `committed` */
} q = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .nonempty = PTHREAD_COND_INITIALIZER,
       .notfull = PTHREAD_COND_INITIALIZER,
       .acked = PTHREAD_COND_INITIALIZER};

static struct cfg C;
static struct backend *B;
static struct hist H;
static uint64_t n_batches, t_start;
static _Atomic uint64_t n_committed, t_end;
static int fail;

static void *producer(void *arg)
{
	(void)arg;
	uint8_t payload[REC_MAX];
	uint64_t *inflight = C.window ? calloc(C.window, sizeof *inflight) : NULL;
	uint64_t k = 0;
	double per = C.rate ? (double)C.rate / C.producers : 0;
	uint64_t t0 = now_ns(), sent = 0;
	payload_fill(payload, C.size, 0);
	while (!atomic_load(&q.stop)) {
		if (per > 0) { /* paced: send what is due, then sleep 200 us */
			uint64_t due = (uint64_t)((double)(now_ns() - t0) / 1e9 * per);
			if (sent >= due) {
				struct timespec ts = {0, 200000};
				nanosleep(&ts, NULL);
				continue;
			}
		}
		/* The payload is built and checksummed before the hand-over; the
		 * sequence number is folded into the CRC under the lock. */
		uint32_t pcrc = crc32c(0, payload, C.size);
		pthread_mutex_lock(&q.mu);
		while (q.head - q.tail >= q.cap && !atomic_load(&q.stop))
			pthread_cond_wait(&q.notfull, &q.mu);
		if (atomic_load(&q.stop)) {
			pthread_mutex_unlock(&q.mu);
			break;
		}
		struct slot *s = &q.slots[q.head % q.cap];
		uint64_t seq = q.next_seq++;
		put32(s->data, C.size);
		put64(s->data + 8, seq);
		put32(s->data + 4, frame_crc(pcrc, seq));
		memcpy(s->data + REC_HDR, payload, C.size);
		s->len = REC_HDR + C.size;
		s->t_submit = now_ns();
		q.head++;
		if (q.writer_waiting)
			pthread_cond_signal(&q.nonempty);
		pthread_mutex_unlock(&q.mu);
		sent++;
		if (inflight) {
			uint64_t old = inflight[k % C.window];
			inflight[k % C.window] = seq;
			k++;
			if (old && atomic_load(&q.committed) < old) {
				pthread_mutex_lock(&q.mu);
				while (atomic_load(&q.committed) < old && !atomic_load(&q.writer_done))
					pthread_cond_wait(&q.acked, &q.mu);
				pthread_mutex_unlock(&q.mu);
			}
		}
	}
	free(inflight);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	void *h = B->open(&C);
	size_t wcap = (size_t)q.cap * (REC_HDR + C.size);
	uint8_t *wbuf = malloc(wcap);
	uint64_t *ts = malloc(q.cap * sizeof *ts);
	if (!h || !wbuf || !ts) {
		fprintf(stderr, "open %s failed\n", C.backend);
		fail = 1;
		atomic_store(&q.stop, 1);
		atomic_store(&q.writer_done, 1);
		return NULL;
	}
	if (g_jnl)
		atomic_store(&q.committed_pos, jnl_end_pos(g_jnl));
	for (;;) {
		pthread_mutex_lock(&q.mu);
		while (q.head == q.tail && !atomic_load(&q.stop)) {
			q.writer_waiting = 1;
			pthread_cond_wait(&q.nonempty, &q.mu);
		}
		q.writer_waiting = 0;
		if (q.head == q.tail) {
			pthread_mutex_unlock(&q.mu);
			break;
		}
		if (C.delay_us) { /* wait until the oldest waited delay_us, or the queue is full */
			uint64_t first = q.slots[q.tail % q.cap].t_submit;
			uint64_t dl = first + C.delay_us * 1000;
			while (q.head - q.tail < q.cap && now_ns() < dl && !atomic_load(&q.stop)) {
				struct timespec abs;
				clock_gettime(CLOCK_REALTIME, &abs);
				uint64_t left = dl - now_ns();
				if ((int64_t)left <= 0)
					break;
				abs.tv_nsec += (long)left;
				abs.tv_sec += abs.tv_nsec / 1000000000;
				abs.tv_nsec %= 1000000000;
				q.writer_waiting = 1;
				pthread_cond_timedwait(&q.nonempty, &q.mu, &abs);
				q.writer_waiting = 0;
			}
		}
		uint64_t a = q.tail, b = q.head;
		pthread_mutex_unlock(&q.mu);
		/* copy out, then free the slots so producers fill them during the sync */
		size_t bytes = 0, n = 0;
		for (uint64_t i = a; i < b; i++) {
			struct slot *s = &q.slots[i % q.cap];
			memcpy(wbuf + bytes, s->data, s->len);
			bytes += s->len;
			ts[n++] = s->t_submit;
		}
		pthread_mutex_lock(&q.mu);
		q.tail = b;
		pthread_cond_broadcast(&q.notfull);
		pthread_mutex_unlock(&q.mu);
		if (B->append(h, wbuf, bytes, n) < 0) {
			fprintf(stderr, "append failed: %s\n", strerror(errno));
			fail = 1;
			atomic_store(&q.stop, 1);
			break;
		}
		uint64_t t = now_ns();
		if (t_end == 0 || !atomic_load(&q.stop)) {
			for (size_t i = 0; i < n; i++)
				hist_add_ns(&H, t - ts[i]);
			n_committed += n;
			n_batches++;
		}
		if (g_jnl)
			atomic_store(&q.committed_pos, jnl_end_pos(g_jnl));
		atomic_store(&q.committed, get64(wbuf + bytes - (REC_HDR + C.size) + 8));
		if (C.window) {
			pthread_mutex_lock(&q.mu);
			pthread_cond_broadcast(&q.acked);
			pthread_mutex_unlock(&q.mu);
		}
	}
	if (g_jnl) {
		B->syncs = jnl_syncs(g_jnl);
		B->sync_ns = jnl_sync_ns(g_jnl);
	}
	atomic_store(&q.writer_done, 1);
	pthread_mutex_lock(&q.mu);
	pthread_cond_broadcast(&q.acked);
	pthread_mutex_unlock(&q.mu);
	B->close(h);
	g_jnl = NULL;
	free(wbuf);
	free(ts);
	return NULL;
}

static uint64_t r_records, r_ledgers, r_reclaimed;
static double r_secs;

static void *reader(void *arg)
{
	(void)arg;
	struct jnl_reader *r;
	while (!atomic_load(&q.committed_pos) && !atomic_load(&q.writer_done))
		usleep(100);
	if (jnl_reader_open(&r, C.dir, C.seg_mib << 20, "bench") < 0) {
		fprintf(stderr, "reader open failed\n");
		return NULL;
	}
	uint64_t t0 = now_ns(), last_ack = t0, since = 0;
	int recycle = !strcmp(C.variant, "recycle") ? 4 : 0;
	for (;;) {
		uint64_t limit = atomic_load(&q.committed_pos);
		const uint8_t *p;
		uint32_t len;
		uint64_t seq;
		int rc = jnl_reader_next(r, limit, &p, &len, &seq);
		if (rc < 0) {
			fprintf(stderr, "reader: corrupt at %llu\n", (unsigned long long)jnl_reader_pos(r));
			fail = 1;
			break;
		}
		if (rc == 1) {
			r_records++;
			since++;
		}
		uint64_t t = now_ns();
		int done = rc == 0 && atomic_load(&q.writer_done) &&
			   jnl_reader_pos(r) >= atomic_load(&q.committed_pos);
		if (since && (since >= C.ledger_every || t - last_ack >= C.ledger_ms * 1000000ull ||
			      done)) {
			jnl_reader_ack(r);
			r_ledgers++;
			int n = jnl_reclaim(C.dir, C.seg_mib << 20, jnl_reader_pos(r), recycle);
			if (n > 0)
				r_reclaimed += (uint64_t)n;
			since = 0;
			last_ack = t;
		}
		if (done)
			break;
		if (rc == 0)
			usleep(200);
	}
	r_secs = (double)(now_ns() - t0) / 1e9;
	jnl_reader_close(r);
	return NULL;
}

static uint64_t proc_cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static uint64_t thread_cpu_ns(pthread_t t)
{
	clockid_t cid;
	struct timespec ts;
	if (pthread_getcpuclockid(t, &cid) || clock_gettime(cid, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double load1(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static int read_only(void)
{
	/* cold read of a closed journal from ledger "bench" to the end */
	struct jnl_reader *r;
	char cmd[4200];
	snprintf(cmd, sizeof cmd,
		 "for f in %s/*.seg; do dd if=/dev/null of=$f oflag=nocache conv=notrunc,fdatasync "
		 "count=0 status=none; done",
		 C.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fadvise failed\n");
	if (jnl_reader_open(&r, C.dir, C.seg_mib << 20, "cold") < 0)
		return 1;
	uint64_t t0 = now_ns(), n = 0, bytes = 0, since = 0, acks = 0;
	const uint8_t *p;
	uint32_t len;
	uint64_t seq;
	int rc;
	while ((rc = jnl_reader_next(r, UINT64_MAX, &p, &len, &seq)) == 1) {
		n++;
		bytes += len;
		if (++since >= C.ledger_every) {
			jnl_reader_ack(r);
			acks++;
			since = 0;
		}
	}
	jnl_reader_ack(r);
	acks++;
	double s = (double)(now_ns() - t0) / 1e9;
	printf("%s,journal-read,%s,%u,0,0,0,%llu,%.3f,%.0f,%.1f,,,,,,,,%.0f,%llu,0,%.2f,,\n", C.label,
	       C.variant, C.size, (unsigned long long)n, s, n / s, bytes / s / 1e6, n / s,
	       (unsigned long long)acks, load1());
	jnl_reader_close(r);
	return rc < 0;
}

static int recover_only(void)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd,
		 "for f in %s/*.seg; do dd if=/dev/null of=$f oflag=nocache conv=notrunc,fdatasync "
		 "count=0 status=none; done",
		 C.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fadvise failed\n");
	struct jnl_opts o = {.dir = C.dir, .seg_size = C.seg_mib << 20};
	o.prealloc = !strcmp(C.variant, "recycle")     ? JNL_RECYCLE
		     : !strcmp(C.variant, "fallocate") ? JNL_FALLOCATE
						       : JNL_GROW;
	struct jnl *j;
	int torn;
	uint64_t cut, t0 = now_ns();
	if (jnl_open(&j, &o, &torn, &cut) < 0)
		return 1;
	double ms = (double)(now_ns() - t0) / 1e6;
	uint64_t end = jnl_end_pos(j);
	printf("recovery,%s,last segment data %.1f MiB,open+scan %.1f ms,torn %d,next seq %llu\n",
	       C.variant, (double)(end % (C.seg_mib << 20)) / 1048576.0, ms, torn,
	       (unsigned long long)jnl_next_seq(j));
	jnl_close(j);
	return 0;
}

int main(int argc, char **argv)
{
	static struct backend jb = {jb_open, jb_append, jb_close, 0, 0},
			      lb = {lm_open, lm_append, lm_close, 0, 0},
			      sb = {sq_open, sq_append, sq_close, 0, 0};
	C = (struct cfg){.backend = "journal", .variant = "", .dir = "/var/tmp/store_proto",
			 .label = "-", .size = 200, .producers = 1, .secs = 2, .qcap = 8192,
			 .seg_mib = 64, .ledger_every = 65536, .ledger_ms = 100};
	int opt, readonly = 0, recover = 0;
	while ((opt = getopt(argc, argv, "b:d:s:p:t:D:r:w:q:v:S:RL:T:nl:XYH")) != -1) {
		switch (opt) {
		case 'b': C.backend = optarg; break;
		case 'd': C.dir = optarg; break;
		case 's': C.size = (uint32_t)atoi(optarg); break;
		case 'p': C.producers = atoi(optarg); break;
		case 't': C.secs = atof(optarg); break;
		case 'D': C.delay_us = strtoull(optarg, 0, 10); break;
		case 'r': C.rate = strtoull(optarg, 0, 10); break;
		case 'w': C.window = strtoull(optarg, 0, 10); break;
		case 'q': C.qcap = strtoull(optarg, 0, 10); break;
		case 'v': C.variant = optarg; break;
		case 'S': C.seg_mib = strtoull(optarg, 0, 10); break;
		case 'R': C.reader = 1; break;
		case 'L': C.ledger_every = strtoull(optarg, 0, 10); break;
		case 'T': C.ledger_ms = strtoull(optarg, 0, 10); break;
		case 'n': C.nosync = 1; break;
		case 'l': C.label = optarg; break;
		case 'X': readonly = 1; break;
		case 'Y': recover = 1; break;
		case 'H': puts(HEADER); return 0;
		default: return 64;
		}
	}
	if (C.size < 32 || C.size > REC_MAX || C.producers < 1)
		return 64;
	if (readonly)
		return read_only();
	if (recover)
		return recover_only();
	if (!strcmp(C.backend, "journal")) {
		B = &jb;
		if (!*C.variant)
			C.variant = "grow";
	} else if (!strcmp(C.backend, "lmdb")) {
		B = &lb;
		if (!*C.variant)
			C.variant = "sync";
	} else if (!strcmp(C.backend, "sqlite")) {
		B = &sb;
		if (!*C.variant)
			C.variant = "full";
	} else {
		return 64;
	}
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", C.dir);
	if (system(cmd) != 0)
		return 1;
	q.cap = C.qcap;
	q.next_seq = 1;
	q.slots = calloc(q.cap, sizeof *q.slots);
	for (uint64_t i = 0; i < q.cap; i++)
		q.slots[i].data = malloc(REC_HDR + C.size);
	if (hist_init(&H) < 0)
		return 1;
	pthread_t w, rd, pr[64];
	pthread_create(&w, NULL, writer, NULL);
	/* wait for the store to be open (recycle pre-writes segments) */
	while (!g_jnl && !strcmp(C.backend, "journal") && !atomic_load(&q.writer_done))
		usleep(1000);
	usleep(20000);
	if (C.reader && B == &jb)
		pthread_create(&rd, NULL, reader, NULL);
	t_start = now_ns();
	uint64_t cpu0 = proc_cpu_ns(), wcpu0 = thread_cpu_ns(w);
	for (int i = 0; i < C.producers && i < 64; i++)
		pthread_create(&pr[i], NULL, producer, (void *)(intptr_t)i);
	struct timespec ts = {(time_t)C.secs, (long)((C.secs - (time_t)C.secs) * 1e9)};
	nanosleep(&ts, NULL);
	t_end = now_ns();
	uint64_t committed_at_end = n_committed;
	uint64_t cpu1 = proc_cpu_ns(), wcpu1 = thread_cpu_ns(w);
	atomic_store(&q.stop, 1);
	pthread_mutex_lock(&q.mu);
	pthread_cond_broadcast(&q.notfull);
	pthread_cond_broadcast(&q.nonempty);
	pthread_cond_broadcast(&q.acked);
	pthread_mutex_unlock(&q.mu);
	for (int i = 0; i < C.producers && i < 64; i++)
		pthread_join(pr[i], NULL);
	pthread_join(w, NULL);
	if (C.reader && B == &jb)
		pthread_join(rd, NULL);
	if (fail)
		return 1;
	double secs = (double)(t_end - t_start) / 1e9;
	double rec_s = (double)committed_at_end / secs;
	uint64_t syncs = B->syncs ? B->syncs : n_batches;
	printf("%s,%s,%s,%u,%d,%llu,%llu,%llu,%.3f,%.0f,%.1f,%llu,%llu,%llu,%llu,%llu,%.1f,%.0f,"
	       "%.0f,%llu,%llu,%.2f,%.2f,%.0f\n",
	       C.label, C.backend, C.variant, C.size, C.producers, (unsigned long long)C.delay_us,
	       (unsigned long long)C.rate, (unsigned long long)committed_at_end, secs, rec_s,
	       rec_s * (REC_HDR + C.size) / 1e6, (unsigned long long)hist_pct_us(&H, 50),
	       (unsigned long long)hist_pct_us(&H, 99), (unsigned long long)hist_pct_us(&H, 99.9),
	       (unsigned long long)H.max_us, (unsigned long long)n_batches,
	       n_batches ? (double)n_committed / n_batches : 0,
	       B->sync_ns ? (double)B->sync_ns / syncs / 1e3 : 0,
	       C.reader && r_secs > 0 ? r_records / r_secs : 0, (unsigned long long)r_ledgers,
	       (unsigned long long)r_reclaimed, load1(),
	       committed_at_end ? (double)(cpu1 - cpu0) / 1e3 / (double)committed_at_end : 0,
	       100.0 * (double)(wcpu1 - wcpu0) / (double)(t_end - t_start));
	return 0;
}
