/*
 * journal.c - the append-only segmented journal (see journal.h): group
 * committed appends, recovery of the tail, readers with persistent
 * positions, reclamation and reuse of consumed segments.
 *
 * Public: ab_journal_open, ab_journal_close, ab_journal_append,
 *         ab_journal_submit, ab_journal_get_stats, ab_journal_reader_open,
 *         ab_journal_read, ab_journal_ack, ab_journal_reader_flush,
 *         ab_journal_reader_close, ab_journal_reader_drop,
 *         ab_journal_reader_names.
 * Diagnostics (into err): "journal PATH: OPERATION: strerror" for a failed
 *         system call (PATH is the directory, a segment, a ledger or the
 *         lock file), "journal PATH: ..." for damaged data (a record below
 *         the committed end that fails its checksum or sequence, a ledger
 *         with both slots damaged, a missing segment), for refused
 *         arguments (settings out of range, record too large, bad reader
 *         name) and for a full journal.  After a write or fdatasync error
 *         the journal is broken: every later append returns that message.
 *
 * Directory layout:
 *   NNNNNNNNNNNNNNNNNNNN.seg  segment N (20 digits), segment_size bytes
 *                             (preallocated); byte i is at stream position
 *                             N * segment_size + i
 *   spare.N                   a consumed segment kept for reuse: renamed
 *                             into the next segment number, its blocks are
 *                             overwritten (a plain data flush, no metadata)
 *   ledger.NAME               a reader's position: two 32-byte slots
 *                             written alternately, each checksummed
 *   lock                      flock()ed by the process that has it open
 *
 * Segment: a 32-byte header (u64 magic "ABJNLSG1", u64 number, u64 first
 * sequence number, u32 segment size in KiB, u32 CRC32C of the 28 bytes
 * before), then records, each
 *     u32 len | u32 crc | u64 seq | payload[len]
 * crc = CRC32C(payload, then len and seq as 12 little-endian bytes), seq
 * consecutive.  A record never straddles segments: a segment the writer
 * leaves ends with an end-of-segment frame (len 0xFFFFFFFF, seq = the next
 * segment's first number) and is fdatasynced, EOS included, before any byte
 * of the next one is written (the order the crash test of the prototype
 * showed to be needed), so only the last segment can have a torn tail.
 * Every batch is followed by a 16-byte zero frame (overwritten by the next
 * batch), so the clean end of data reads as zeros even in a reused segment.
 *
 * Writer: appenders copy framed records into a bounded queue (one buffer
 * filling while the writer thread writes and syncs the other: natural
 * batching, as measured in bench/store_proto) and wait for the durable
 * sequence number to pass theirs.  Placement (segment, offset, headers,
 * EOS) is decided when a record is queued, so the "full" check is exact.
 *
 * Recovery (ab_journal_open) scans only the last segment, stops at the
 * first frame that is zero, damaged, out of sequence or an EOS, and zeroes
 * a damaged tail; a last segment without a valid header continues from the
 * previous segment's EOS.
 *
 * Readers: position = (stream position, next sequence number) in the
 * ledger, persisted every ack_every records or ack_ms (fdatasync).  After a
 * persist, every segment wholly below the lowest position of all ledgers in
 * the directory is renamed to a spare (up to `spares`) or deleted.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/util.h"
#include "store/journal.h"

#define SEG_HDR 32u
#define REC_HDR 16u
#define SEG_SLACK 64u                         /* header + EOS + terminator, rounded */
#define SEG_MAGIC 0x3147534C4E4A4241ull       /* "ABJNLSG1" as little-endian bytes */
#define EOS_LEN 0xFFFFFFFFu
#define EOS_SEED 0x454F5331u
#define LEDGER_MAGIC 0x3144454Cu              /* "LED1" */
#define LEDGER_SLOT 32u
#define READ_CHUNK (1u << 20)
#define PATH_CAP 4096
#define MSG_CAP 512
#define MARKS 32
#define SEGRING 64

/* ---- little helpers ---------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* "journal PATH: OP: strerror(e)" */
static void sys_err(char *err, size_t errsz, const char *path, const char *op, int e)
{
	set_err(err, errsz, "journal %s: %s: %s", path, op, strerror(e));
}

static uint32_t frame_crc(const uint8_t *payload, uint32_t len, uint64_t seq)
{
	uint8_t t[12];

	put32(t, len);
	put64(t + 4, seq);
	return ab_crc32c(ab_crc32c(0, payload, len), t, sizeof t);
}

static void seg_header(uint8_t *h, uint64_t idx, uint64_t base, uint64_t seg_size)
{
	put64(h, SEG_MAGIC);
	put64(h + 8, idx);
	put64(h + 16, base);
	put32(h + 24, (uint32_t)(seg_size >> 10));
	put32(h + 28, ab_crc32c(0, h, 28));
}

/* 1 if h is a valid header of segment idx (*base, *seg_size set). */
static int seg_header_ok(const uint8_t *h, uint64_t idx, uint64_t *base, uint64_t *seg_size)
{
	if (get64(h) != SEG_MAGIC || get64(h + 8) != idx || ab_crc32c(0, h, 28) != get32(h + 28))
		return 0;
	*base = get64(h + 16);
	*seg_size = (uint64_t)get32(h + 24) << 10;
	return 1;
}

static void eos_frame(uint8_t *f, uint64_t next_seq)
{
	put32(f, EOS_LEN);
	put64(f + 8, next_seq);
	put32(f + 4, ab_crc32c(EOS_SEED, f + 8, 8));
}

static int eos_ok(const uint8_t *f, uint64_t *next_seq)
{
	if (get32(f) != EOS_LEN || ab_crc32c(EOS_SEED, f + 8, 8) != get32(f + 4))
		return 0;
	*next_seq = get64(f + 8);
	return 1;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int pread_full(int fd, uint8_t *buf, size_t n, uint64_t off, size_t *got)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, buf + done, n - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

static int pwrite_full(int fd, const uint8_t *buf, size_t n, uint64_t off, size_t chunk)
{
	while (n) {
		size_t w = chunk && chunk < n ? chunk : n;
		ssize_t r = pwrite(fd, buf, w, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		buf += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

static int valid_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > AB_JOURNAL_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* ---- the journal ------------------------------------------------------- */

struct piece {
	uint64_t idx, off;  /* segment and offset where buf[start..start+len) goes */
	size_t start, len;
};

struct done_cb {
	ab_journal_done_fn fn;
	void *arg;
	uint64_t first;
	size_t n;
};

struct stage {
	uint8_t *buf;
	size_t len, cap;
	struct piece *pc;
	size_t npc, cappc;
	struct done_cb *cb;
	size_t ncb, capcb;
	uint64_t last_seq, end_pos;
	size_t nrec;
};

struct rd_entry {
	char name[AB_JOURNAL_NAME_MAX + 1];
	struct rd_entry *next;
};

struct ab_journal {
	char dir[PATH_CAP];
	int dirfd, lockfd;
	uint64_t seg_size, max_segs;
	uint32_t max_record, ack_every, ack_ms, spares_max;
	size_t queue_cap, write_chunk;

	pthread_mutex_t mu;  /* everything below up to fs_mu */
	pthread_cond_t cv_work, cv_space, cv_done, cv_data;
	struct stage st[2];
	struct stage *fill, *flush;
	uint64_t q_idx, q_off, q_seq;  /* where the next queued record goes, its number */
	uint64_t durable_seq, durable_end;  /* last durable record, stream position after it */
	uint64_t w_idx;      /* the writer's segment (open or last written) */
	uint64_t low_idx;    /* lowest live segment */
	uint64_t tk_next, tk_serve;  /* FIFO turns of appenders waiting for queue space */
	int broken, stop;
	char fail[MSG_CAP];
	struct rd_entry *readers;
	struct ab_journal_stats stats;
	pthread_t writer;

	pthread_mutex_t fs_mu;  /* spare list, reclamation, ledger creation */
	uint64_t spare[AB_JOURNAL_SPARES_MAX];
	uint32_t nspare;

	int w_fd;  /* writer thread only */
	uint64_t w_syncs, w_sync_ns;
};

static void seg_path(const struct ab_journal *j, uint64_t idx, char *out, size_t n)
{
	snprintf(out, n, "%s/%020llu.seg", j->dir, (unsigned long long)idx);
}

static void spare_path(const struct ab_journal *j, uint64_t idx, char *out, size_t n)
{
	snprintf(out, n, "%s/spare.%llu", j->dir, (unsigned long long)idx);
}

/* Zeroes [off, seg_size) of a segment (and gives it its full size). */
static int zero_tail(struct ab_journal *j, int fd, uint64_t off, const char *path, char *err,
	size_t errsz)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0) {
		sys_err(err, errsz, path, "fstat", errno);
		return -1;
	}
	if ((uint64_t)sb.st_size > off) {
		uint64_t end = (uint64_t)sb.st_size < j->seg_size ? (uint64_t)sb.st_size : j->seg_size;

		if (end > off &&
			fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				(off_t)(end - off)) < 0 &&
			fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				(off_t)(end - off)) < 0) {
			static const uint8_t zeros[65536];

			for (uint64_t o = off; o < end;) {
				size_t n = end - o < sizeof zeros ? (size_t)(end - o) : sizeof zeros;

				if (pwrite_full(fd, zeros, n, o, 0) < 0) {
					sys_err(err, errsz, path, "write", errno);
					return -1;
				}
				o += n;
			}
		}
	}
	if ((uint64_t)sb.st_size < j->seg_size && ftruncate(fd, (off_t)j->seg_size) < 0) {
		sys_err(err, errsz, path, "ftruncate", errno);
		return -1;
	}
	if (fdatasync(fd) < 0) {
		sys_err(err, errsz, path, "fdatasync", errno);
		return -1;
	}
	return 0;
}

static int sync_dir(struct ab_journal *j, char *err, size_t errsz)
{
	if (fsync(j->dirfd) < 0) {
		sys_err(err, errsz, j->dir, "fsync", errno);
		return -1;
	}
	return 0;
}

/* Opens segment idx for writing: a spare renamed into place, else a new
 * file preallocated to seg_size; the directory is synced (the name is
 * durable before any record in it is acknowledged). */
static int open_new_segment(struct ab_journal *j, uint64_t idx, char *err, size_t errsz)
{
	char path[PATH_CAP + 32], sp[PATH_CAP + 32];
	int fd = -1;

	seg_path(j, idx, path, sizeof path);
	pthread_mutex_lock(&j->fs_mu);
	while (fd < 0 && j->nspare > 0) {
		spare_path(j, j->spare[--j->nspare], sp, sizeof sp);
		if (rename(sp, path) < 0) {
			if (errno == ENOENT)
				continue;
			sys_err(err, errsz, sp, "rename", errno);
			pthread_mutex_unlock(&j->fs_mu);
			return -1;
		}
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			sys_err(err, errsz, path, "open", errno);
			pthread_mutex_unlock(&j->fs_mu);
			return -1;
		}
	}
	pthread_mutex_unlock(&j->fs_mu);
	if (fd < 0) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			sys_err(err, errsz, path, "open", errno);
			return -1;
		}
		if (fallocate(fd, 0, 0, (off_t)j->seg_size) < 0 &&
			(errno != EOPNOTSUPP || ftruncate(fd, (off_t)j->seg_size) < 0)) {
			sys_err(err, errsz, path, "fallocate", errno);
			close(fd);
			return -1;
		}
	}
	if (sync_dir(j, err, errsz) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- writer ------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t max)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (n > max)
		n = max;
	if (n < need)
		return -1;
	q = realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Bytes the n records take in the queue from the current placement, and
 * the segment the last one lands in. */
static size_t plan(const struct ab_journal *j, const struct ab_journal_rec *recs, size_t n,
	uint64_t *last_idx)
{
	uint64_t idx = j->q_idx, off = j->q_off;
	size_t bytes = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t fl = REC_HDR + recs[i].len;

		if (off == 0) {
			off = SEG_HDR;
			bytes += SEG_HDR;
		}
		if (off + fl + REC_HDR > j->seg_size) {
			bytes += REC_HDR + SEG_HDR;
			idx++;
			off = SEG_HDR;
		}
		off += fl;
		bytes += (size_t)fl;
	}
	*last_idx = idx;
	return bytes;
}

/* The piece of the fill stage that continues at (q_idx, q_off). */
static struct piece *cur_piece(struct ab_journal *j)
{
	struct stage *s = j->fill;
	struct piece *p = s->npc ? &s->pc[s->npc - 1] : NULL;

	if (p && p->idx == j->q_idx && p->off + p->len == j->q_off)
		return p;
	if (grow((void **)&s->pc, &s->cappc, s->npc + 1, sizeof *s->pc, SIZE_MAX / 64) < 0)
		return NULL;
	p = &s->pc[s->npc++];
	p->idx = j->q_idx;
	p->off = j->q_off;
	p->start = s->len;
	p->len = 0;
	return p;
}

static uint8_t *stage_put(struct ab_journal *j, size_t n)
{
	struct piece *p = cur_piece(j);
	uint8_t *at;

	if (!p)
		return NULL;
	at = j->fill->buf + j->fill->len;
	j->fill->len += n;
	p->len += n;
	j->q_off += n;
	return at;
}

/* Frames n records into the fill stage (room checked); under mu. */
static int enqueue(struct ab_journal *j, const struct ab_journal_rec *recs, size_t n,
	const uint32_t *crcs, uint64_t *first)
{
	struct stage *s = j->fill;

	*first = j->q_seq;
	for (size_t i = 0; i < n; i++) {
		uint64_t fl = REC_HDR + recs[i].len;
		uint8_t *f;

		if (j->q_off == 0) {
			if (!(f = stage_put(j, SEG_HDR)))
				return -1;
			seg_header(f, j->q_idx, j->q_seq, j->seg_size);
		}
		if (j->q_off + fl + REC_HDR > j->seg_size) {
			if (!(f = stage_put(j, REC_HDR)))
				return -1;
			eos_frame(f, j->q_seq);
			j->q_idx++;
			j->q_off = 0;
			if (!(f = stage_put(j, SEG_HDR)))
				return -1;
			seg_header(f, j->q_idx, j->q_seq, j->seg_size);
		}
		if (!(f = stage_put(j, (size_t)fl)))
			return -1;
		put32(f, recs[i].len);
		put64(f + 8, j->q_seq);
		memcpy(f + REC_HDR, recs[i].data, recs[i].len);
		{
			uint8_t t[12];

			put32(t, recs[i].len);
			put64(t + 4, j->q_seq);
			put32(f + 4, ab_crc32c(crcs[i], t, sizeof t));
		}
		j->q_seq++;
	}
	s->nrec += n;
	s->last_seq = j->q_seq - 1;
	s->end_pos = j->q_idx * j->seg_size + j->q_off;
	return 0;
}

/* Writes one stage: pieces in order, the previous segment synced before
 * the next is opened, then one fdatasync. */
static int write_stage(struct ab_journal *j, struct stage *s, char *err, size_t errsz)
{
	char path[PATH_CAP + 32];

	for (size_t i = 0; i < s->npc; i++) {
		struct piece *p = &s->pc[i];

		if (j->w_fd >= 0 && p->idx != j->w_idx) {
			uint64_t t0 = mono_ns();

			if (fdatasync(j->w_fd) < 0) {
				seg_path(j, j->w_idx, path, sizeof path);
				sys_err(err, errsz, path, "fdatasync", errno);
				return -1;
			}
			j->w_sync_ns += mono_ns() - t0;
			j->w_syncs++;
			close(j->w_fd);
			j->w_fd = -1;
		}
		if (j->w_fd < 0) {
			j->w_fd = open_new_segment(j, p->idx, err, errsz);
			if (j->w_fd < 0)
				return -1;
			pthread_mutex_lock(&j->mu);
			j->w_idx = p->idx;
			pthread_mutex_unlock(&j->mu);
		}
		/* the last piece carries the zero frame (room for it is kept in
		 * the buffer and in the segment) */
		if (i + 1 == s->npc)
			memset(s->buf + p->start + p->len, 0, REC_HDR);
		if (pwrite_full(j->w_fd, s->buf + p->start, p->len + (i + 1 == s->npc ? REC_HDR : 0),
			    p->off, j->write_chunk) < 0) {
			seg_path(j, p->idx, path, sizeof path);
			sys_err(err, errsz, path, "write", errno);
			return -1;
		}
	}
	if (j->w_fd >= 0) {
		uint64_t t0 = mono_ns();

		if (fdatasync(j->w_fd) < 0) {
			seg_path(j, j->w_idx, path, sizeof path);
			sys_err(err, errsz, path, "fdatasync", errno);
			return -1;
		}
		j->w_sync_ns += mono_ns() - t0;
		j->w_syncs++;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct ab_journal *j = arg;
	char msg[MSG_CAP];

	pthread_mutex_lock(&j->mu);
	for (;;) {
		struct stage *s;
		int rc;

		while (!j->fill->len && !j->stop)
			pthread_cond_wait(&j->cv_work, &j->mu);
		if (!j->fill->len)
			break;
		s = j->fill;
		j->fill = j->flush;
		j->flush = s;
		pthread_cond_broadcast(&j->cv_space);
		rc = j->broken ? -1 : 0;
		pthread_mutex_unlock(&j->mu);
		if (rc == 0)
			rc = write_stage(j, s, msg, sizeof msg);
		pthread_mutex_lock(&j->mu);
		j->stats.syncs = j->w_syncs;
		j->stats.sync_ns = j->w_sync_ns;
		if (rc == 0) {
			j->durable_seq = s->last_seq;
			j->durable_end = s->end_pos;
			j->stats.batches++;
			j->stats.records += s->nrec;
			j->stats.bytes += s->len;
		} else if (!j->broken) {
			j->broken = 1;
			snprintf(j->fail, sizeof j->fail, "%s", msg);
		}
		pthread_cond_broadcast(&j->cv_done);
		pthread_cond_broadcast(&j->cv_data);
		pthread_mutex_unlock(&j->mu);
		for (size_t i = 0; i < s->ncb; i++)
			s->cb[i].fn(s->cb[i].arg, s->cb[i].first, s->cb[i].n, rc);
		s->len = s->npc = s->ncb = s->nrec = 0;
		pthread_mutex_lock(&j->mu);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Checks the records, waits (wait != 0) for its turn and room, checks
 * "full" and queues them; under mu on return 0 with *last set. */
static int queue_records(struct ab_journal *j, const struct ab_journal_rec *recs, size_t n,
	int wait, uint64_t *first, uint64_t *last, char *err, size_t errsz)
{
	uint32_t crcbuf[64], *crcs = crcbuf;
	uint64_t total = 0, last_idx, my;
	size_t need;
	int rc = 0;

	if (!recs || n == 0 || n > AB_JOURNAL_APPEND_MAX) {
		set_err(err, errsz, "journal %s: append of %zu records (1 to %u at a time)", j->dir,
			n, AB_JOURNAL_APPEND_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (recs[i].len == 0 || (!recs[i].data && recs[i].len)) {
			set_err(err, errsz, "journal %s: record %zu is empty", j->dir, i);
			return -1;
		}
		if (recs[i].len > j->max_record) {
			set_err(err, errsz,
				"journal %s: record of %u bytes is larger than max_record (%u)", j->dir,
				recs[i].len, j->max_record);
			return AB_JOURNAL_TOOBIG;
		}
		total += REC_HDR + SEG_SLACK + recs[i].len;
	}
	if (total + REC_HDR > j->queue_cap) {
		set_err(err, errsz, "journal %s: one append of %llu bytes exceeds queue_bytes (%zu)",
			j->dir, (unsigned long long)total, j->queue_cap);
		return -1;
	}
	if (n > sizeof crcbuf / sizeof crcbuf[0] && !(crcs = malloc(n * sizeof *crcs))) {
		set_err(err, errsz, "journal %s: out of memory", j->dir);
		return -1;
	}
	for (size_t i = 0; i < n; i++)  /* outside the lock; the number is folded in later */
		crcs[i] = ab_crc32c(0, recs[i].data, recs[i].len);

	pthread_mutex_lock(&j->mu);
	need = plan(j, recs, n, &last_idx);
	if (!wait && (j->tk_next != j->tk_serve ||
			     j->fill->len + need + REC_HDR > j->queue_cap) &&
		!j->broken && !j->stop) {
		set_err(err, errsz, "journal %s: the queue is full", j->dir);
		rc = AB_JOURNAL_AGAIN;
		goto out;
	}
	my = j->tk_next++;
	while (!j->broken && !j->stop &&
		(j->tk_serve != my || j->fill->len + (need = plan(j, recs, n, &last_idx)) + REC_HDR >
			j->queue_cap))
		pthread_cond_wait(&j->cv_space, &j->mu);
	j->tk_serve++;
	pthread_cond_broadcast(&j->cv_space);
	if (j->broken || j->stop) {
		set_err(err, errsz, "%s", j->broken ? j->fail : "journal is closing");
		rc = -1;
		goto out;
	}
	need = plan(j, recs, n, &last_idx);
	if (last_idx - j->low_idx + 1 > j->max_segs) {
		set_err(err, errsz,
			"journal %s: full (%llu segments of %llu bytes): waiting for readers to "
			"consume",
			j->dir, (unsigned long long)j->max_segs, (unsigned long long)j->seg_size);
		rc = AB_JOURNAL_FULL;
		goto out;
	}
	if (grow((void **)&j->fill->buf, &j->fill->cap, j->fill->len + need + REC_HDR, 1,
		    j->queue_cap) < 0 ||
		enqueue(j, recs, n, crcs, first) < 0) {
		set_err(err, errsz, "journal %s: out of memory", j->dir);
		j->broken = 1;  /* a half-queued batch cannot be taken back */
		set_err(j->fail, sizeof j->fail, "journal %s: out of memory while queueing",
			j->dir);
		rc = -1;
		goto out;
	}
	*last = j->q_seq - 1;
	pthread_cond_signal(&j->cv_work);
out:
	if (crcs != crcbuf)
		free(crcs);
	if (rc != 0)
		pthread_mutex_unlock(&j->mu);
	return rc;
}

int ab_journal_append(struct ab_journal *j, const struct ab_journal_rec *recs, size_t n,
	uint64_t *first_seq, char *err, size_t errsz)
{
	uint64_t first = 0, last = 0;
	int rc = queue_records(j, recs, n, 1, &first, &last, err, errsz);

	if (rc != 0)
		return rc;
	while (j->durable_seq < last && !j->broken)
		pthread_cond_wait(&j->cv_done, &j->mu);
	if (j->durable_seq < last) {
		set_err(err, errsz, "%s", j->fail);
		rc = -1;
	}
	pthread_mutex_unlock(&j->mu);
	if (rc == 0 && first_seq)
		*first_seq = first;
	return rc;
}

int ab_journal_submit(struct ab_journal *j, const struct ab_journal_rec *recs, size_t n,
	ab_journal_done_fn done, void *arg, uint64_t *first_seq, char *err, size_t errsz)
{
	uint64_t first = 0, last = 0;
	struct stage *s;
	int rc;

	if (!done) {
		set_err(err, errsz, "journal %s: submit without a completion function", j->dir);
		return -1;
	}
	rc = queue_records(j, recs, n, 0, &first, &last, err, errsz);
	if (rc != 0)
		return rc;
	s = j->fill;
	if (grow((void **)&s->cb, &s->capcb, s->ncb + 1, sizeof *s->cb, SIZE_MAX / 64) < 0) {
		/* the records are queued; without their callback they would be orphans */
		j->broken = 1;
		set_err(j->fail, sizeof j->fail, "journal %s: out of memory while queueing",
			j->dir);
		set_err(err, errsz, "%s", j->fail);
		pthread_mutex_unlock(&j->mu);
		return -1;
	}
	s->cb[s->ncb++] = (struct done_cb){ done, arg, first, n };
	pthread_mutex_unlock(&j->mu);
	if (first_seq)
		*first_seq = first;
	return 0;
}

void ab_journal_get_stats(struct ab_journal *j, struct ab_journal_stats *st)
{
	pthread_mutex_lock(&j->mu);
	*st = j->stats;
	st->next_seq = j->q_seq;
	st->durable_seq = j->durable_seq;
	st->first_segment = j->low_idx;
	st->last_segment = j->w_idx > j->q_idx ? j->w_idx : j->q_idx;
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_lock(&j->fs_mu);
	st->spares = j->nspare;
	pthread_mutex_unlock(&j->fs_mu);
}

/* ---- recovery ----------------------------------------------------------- */

struct scan {
	uint64_t end;       /* offset after the last intact record (or the header) */
	uint64_t next_seq;  /* number after the last intact record */
	uint64_t seg_size;  /* from the header */
	int hdr_ok, eos, torn;
};

/* A read buffer over one file. */
struct sbuf {
	uint8_t *buf;
	size_t cap, len;
	uint64_t boff;
};

/* Bytes available at off (at least need unless the file ends first),
 * reading at most up to limit; *p points at them.  -1 on error. */
static long sbuf_get(struct sbuf *b, int fd, uint64_t off, size_t need, uint64_t limit,
	const uint8_t **p)
{
	if (!(off >= b->boff && off + need <= b->boff + b->len)) {
		size_t want;

		if (need > b->cap) {
			size_t nc = need > READ_CHUNK ? need : READ_CHUNK;
			uint8_t *nb = realloc(b->buf, nc);

			if (!nb) {
				errno = ENOMEM;
				return -1;
			}
			b->buf = nb;
			b->cap = nc;
		}
		want = limit - off < b->cap ? (size_t)(limit - off) : b->cap;
		if (pread_full(fd, b->buf, want, off, &b->len) < 0)
			return -1;
		b->boff = off;
	}
	*p = b->buf + (off - b->boff);
	return (long)(b->boff + b->len - off);
}

/* Scans segment idx (open as fd) from its header: the intact records, and
 * why the scan stopped (EOS, zeros, or damaged bytes: torn). */
static int scan_segment(int fd, uint64_t idx, const char *path, struct scan *sc, char *err,
	size_t errsz)
{
	uint8_t hdr[SEG_HDR];
	struct sbuf b = { NULL, 0, 0, 0 };
	size_t got;
	uint64_t base, ss;

	memset(sc, 0, sizeof *sc);
	if (pread_full(fd, hdr, SEG_HDR, 0, &got) < 0) {
		sys_err(err, errsz, path, "read", errno);
		return -1;
	}
	if (got < SEG_HDR || !seg_header_ok(hdr, idx, &base, &ss)) {
		sc->torn = got > 0 && !all_zero(hdr, got);
		return 0;
	}
	if (ss < AB_JOURNAL_SEGMENT_MIN || ss > AB_JOURNAL_SEGMENT_MAX || ss % 4096) {
		set_err(err, errsz, "journal %s: header gives a segment size of %llu bytes", path,
			(unsigned long long)ss);
		return -1;
	}
	sc->hdr_ok = 1;
	sc->seg_size = ss;
	sc->end = SEG_HDR;
	sc->next_seq = base;
	while (sc->end + REC_HDR <= ss) {
		const uint8_t *p;
		uint64_t nx;
		uint32_t fl;
		long av = sbuf_get(&b, fd, sc->end, REC_HDR, ss, &p);

		if (av < 0)
			goto io;
		if (av < (long)REC_HDR) {  /* the file ends (truncated) */
			sc->torn = !all_zero(p, (size_t)av);
			break;
		}
		fl = get32(p);
		if (fl == EOS_LEN) {
			if (eos_ok(p, &nx) && nx == sc->next_seq)
				sc->eos = 1;
			else
				sc->torn = 1;
			break;
		}
		if (all_zero(p, REC_HDR))
			break;  /* the clean end: the zero frame after the last batch */
		if (fl == 0 || fl > ss - SEG_SLACK || get64(p + 8) != sc->next_seq) {
			sc->torn = 1;
			break;
		}
		av = sbuf_get(&b, fd, sc->end, REC_HDR + fl, ss, &p);
		if (av < 0)
			goto io;
		if (av < (long)(REC_HDR + fl) ||
			frame_crc(p + REC_HDR, fl, sc->next_seq) != get32(p + 4)) {
			sc->torn = 1;
			break;
		}
		sc->end += REC_HDR + fl;
		sc->next_seq++;
	}
	free(b.buf);
	return 0;
io:
	free(b.buf);
	sys_err(err, errsz, path, "read", errno);
	return -1;
}

static int list_dir(struct ab_journal *j, uint64_t *mn, uint64_t *mx, uint64_t *nseg,
	char *err, size_t errsz)
{
	DIR *d = opendir(j->dir);
	struct dirent *e;

	*nseg = 0;
	if (!d) {
		sys_err(err, errsz, j->dir, "opendir", errno);
		return -1;
	}
	while ((e = readdir(d))) {
		char *end;
		unsigned long long v;

		if (e->d_name[0] < '0' || e->d_name[0] > '9') {
			if (strncmp(e->d_name, "spare.", 6) == 0) {
				v = strtoull(e->d_name + 6, &end, 10);
				if (*end == '\0' && j->nspare < AB_JOURNAL_SPARES_MAX) {
					j->spare[j->nspare++] = v;
				} else if (*end == '\0') {
					char sp[PATH_CAP + 32];

					spare_path(j, v, sp, sizeof sp);
					unlink(sp);
				}
			}
			continue;
		}
		v = strtoull(e->d_name, &end, 10);
		if (strcmp(end, ".seg") != 0 || end - e->d_name != 20)
			continue;
		if (!*nseg || v < *mn)
			*mn = v;
		if (!*nseg || v > *mx)
			*mx = v;
		(*nseg)++;
	}
	closedir(d);
	return 0;
}

/* Drops spares that do not fit (too many, wrong size, or a new journal). */
static void prune_spares(struct ab_journal *j, int all, uint64_t live)
{
	char sp[PATH_CAP + 32];
	uint32_t keep = 0;

	for (uint32_t i = 0; i < j->nspare; i++) {
		struct stat sb;

		spare_path(j, j->spare[i], sp, sizeof sp);
		if (!all && keep < j->spares_max && live + keep + 1 <= j->max_segs &&
			stat(sp, &sb) == 0 && (uint64_t)sb.st_size == j->seg_size)
			j->spare[keep++] = j->spare[i];
		else
			unlink(sp);
	}
	j->nspare = keep;
}

static int recover(struct ab_journal *j, struct ab_journal_recovery *rec, char *err,
	size_t errsz)
{
	uint64_t mn = 0, mx = 0, nseg;
	char path[PATH_CAP + 32], prev[PATH_CAP + 32];
	struct scan sc, ps;
	int fd;

	if (list_dir(j, &mn, &mx, &nseg, err, errsz) < 0)
		return -1;
	if (nseg == 0) {
		/* a new journal: old spares could hold records with the numbers
		 * about to be reused */
		prune_spares(j, 1, 0);
		j->q_idx = j->q_off = j->w_idx = j->low_idx = 0;
		j->q_seq = 1;
		rec->next_seq = 1;
		seg_path(j, 0, path, sizeof path);
		snprintf(rec->file, sizeof rec->file, "%s", strrchr(path, '/') + 1);
		return 0;
	}
	j->low_idx = mn;
	seg_path(j, mx, path, sizeof path);
	snprintf(rec->file, sizeof rec->file, "%s", strrchr(path, '/') + 1);
	rec->segment = mx;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		sys_err(err, errsz, path, "open", errno);
		return -1;
	}
	if (scan_segment(fd, mx, path, &sc, err, errsz) < 0)
		goto fail;
	if (sc.hdr_ok) {
		j->seg_size = sc.seg_size;  /* the journal keeps the size it was created with */
		if (sc.eos) {
			/* sealed: the next record opens segment mx + 1 */
			close(fd);
			j->q_idx = mx + 1;
			j->q_off = 0;
			j->w_idx = mx;
			j->q_seq = sc.next_seq;
			j->durable_end = mx * j->seg_size + sc.end;
			rec->offset = sc.end;
			rec->next_seq = sc.next_seq;
			return 0;
		}
		if (sc.torn) {
			struct stat sb;

			if (fstat(fd, &sb) == 0 && (uint64_t)sb.st_size > sc.end)
				rec->cut_bytes = (uint64_t)sb.st_size - sc.end;
			rec->torn = 1;
		}
		if ((sc.torn || lseek(fd, 0, SEEK_END) < (off_t)j->seg_size) &&
			zero_tail(j, fd, sc.end, path, err, errsz) < 0)
			goto fail;
		j->w_fd = fd;
		j->q_idx = j->w_idx = mx;
		j->q_off = sc.end;
		j->q_seq = sc.next_seq;
		j->durable_end = mx * j->seg_size + sc.end;
		rec->offset = sc.end;
		rec->next_seq = sc.next_seq;
		return 0;
	}
	/* The last segment has no valid header: nothing in it was acknowledged
	 * (its header goes out with its first batch). */
	if (sc.torn) {
		struct stat sb;

		rec->torn = 1;
		if (fstat(fd, &sb) == 0)
			rec->cut_bytes = (uint64_t)sb.st_size;
	}
	if (nseg == 1 && mx > 0) {
		set_err(err, errsz,
			"journal %s: the only segment has no valid header, so the next sequence "
			"number is unknown (move the directory away to start a new journal)",
			path);
		goto fail;
	}
	if (nseg == 1) {
		if (zero_tail(j, fd, 0, path, err, errsz) < 0)
			goto fail;
		j->w_fd = fd;
		j->q_idx = j->q_off = j->w_idx = 0;
		j->q_seq = 1;
		rec->next_seq = 1;
		return 0;
	}
	seg_path(j, mx - 1, prev, sizeof prev);
	{
		int pfd = open(prev, O_RDWR | O_CLOEXEC);

		if (pfd < 0) {
			sys_err(err, errsz, prev, "open", errno);
			goto fail;
		}
		if (scan_segment(pfd, mx - 1, prev, &ps, err, errsz) < 0) {
			close(pfd);
			goto fail;
		}
		if (!ps.hdr_ok) {
			set_err(err, errsz, "journal %s: segment header damaged", prev);
			close(pfd);
			goto fail;
		}
		j->seg_size = ps.seg_size;
		if (ps.eos) {
			close(pfd);
			if (zero_tail(j, fd, 0, path, err, errsz) < 0)
				goto fail;
			j->w_fd = fd;
			j->q_idx = j->w_idx = mx;
			j->q_off = 0;
			j->q_seq = ps.next_seq;
			j->durable_end = (mx - 1) * j->seg_size + ps.end;
			rec->segment = mx;
			rec->offset = 0;
			rec->next_seq = ps.next_seq;
			return 0;
		}
		/* The EOS went with a torn batch: continue in the previous one. */
		close(fd);
		if (unlink(path) < 0) {
			sys_err(err, errsz, path, "unlink", errno);
			close(pfd);
			return -1;
		}
		if (ps.torn) {
			struct stat sb;

			if (fstat(pfd, &sb) == 0 && (uint64_t)sb.st_size > ps.end)
				rec->cut_bytes += (uint64_t)sb.st_size - ps.end;
			rec->torn = 1;
		}
		if (zero_tail(j, pfd, ps.end, prev, err, errsz) < 0 ||
			sync_dir(j, err, errsz) < 0) {
			close(pfd);
			return -1;
		}
		j->w_fd = pfd;
		j->q_idx = j->w_idx = mx - 1;
		j->q_off = ps.end;
		j->q_seq = ps.next_seq;
		j->durable_end = (mx - 1) * j->seg_size + ps.end;
		rec->segment = mx - 1;
		rec->offset = ps.end;
		rec->next_seq = ps.next_seq;
		snprintf(rec->file, sizeof rec->file, "%s", strrchr(prev, '/') + 1);
		return 0;
	}
fail:
	close(fd);
	return -1;
}

static int check_opts(const struct ab_journal_opts *o, struct ab_journal *j, char *err,
	size_t errsz)
{
	uint64_t max_bytes;

	j->seg_size = o && o->segment_size ? o->segment_size : AB_JOURNAL_SEGMENT_DEFAULT;
	j->max_record = o && o->max_record ? o->max_record : AB_JOURNAL_RECORD_DEFAULT;
	max_bytes = o && o->max_bytes ? o->max_bytes : AB_JOURNAL_BYTES_DEFAULT;
	j->queue_cap = o && o->queue_bytes ? o->queue_bytes : AB_JOURNAL_QUEUE_DEFAULT;
	j->ack_every = o && o->ack_every ? o->ack_every : AB_JOURNAL_ACK_EVERY_DEFAULT;
	j->ack_ms = o && o->ack_ms ? o->ack_ms : AB_JOURNAL_ACK_MS_DEFAULT;
	j->spares_max = !o || !o->spares ? AB_JOURNAL_SPARES_DEFAULT :
		o->spares == AB_JOURNAL_NO_SPARES ? 0 : o->spares;
	j->write_chunk = o ? o->write_chunk : 0;
	if (j->seg_size < AB_JOURNAL_SEGMENT_MIN || j->seg_size > AB_JOURNAL_SEGMENT_MAX ||
		j->seg_size % 4096) {
		set_err(err, errsz, "journal %s: segment_size %llu: need a multiple of 4096 from %u "
			"to %u", j->dir, (unsigned long long)j->seg_size, AB_JOURNAL_SEGMENT_MIN,
			AB_JOURNAL_SEGMENT_MAX);
		return -1;
	}
	if (j->max_record > AB_JOURNAL_RECORD_MAX || j->max_record + SEG_SLACK > j->seg_size) {
		set_err(err, errsz, "journal %s: max_record %u: at most %u and segment_size - %u",
			j->dir, j->max_record, AB_JOURNAL_RECORD_MAX, SEG_SLACK);
		return -1;
	}
	if (max_bytes > AB_JOURNAL_BYTES_MAX || max_bytes / j->seg_size < 2) {
		set_err(err, errsz, "journal %s: max_bytes %llu: from two segments to %llu bytes",
			j->dir, (unsigned long long)max_bytes, (unsigned long long)AB_JOURNAL_BYTES_MAX);
		return -1;
	}
	if (j->queue_cap > AB_JOURNAL_QUEUE_MAX ||
		j->queue_cap < (size_t)j->max_record + REC_HDR * 2 + SEG_SLACK) {
		set_err(err, errsz, "journal %s: queue_bytes %zu: from max_record + %u to %u",
			j->dir, j->queue_cap, REC_HDR * 2 + SEG_SLACK, AB_JOURNAL_QUEUE_MAX);
		return -1;
	}
	if (j->ack_every > AB_JOURNAL_ACK_EVERY_MAX || j->ack_ms > AB_JOURNAL_ACK_MS_MAX ||
		j->spares_max > AB_JOURNAL_SPARES_MAX) {
		set_err(err, errsz, "journal %s: ack_every (max %u), ack_ms (max %u) or spares "
			"(max %u) out of range", j->dir, AB_JOURNAL_ACK_EVERY_MAX,
			AB_JOURNAL_ACK_MS_MAX, AB_JOURNAL_SPARES_MAX);
		return -1;
	}
	j->max_segs = max_bytes / j->seg_size;
	return 0;
}

static void free_journal(struct ab_journal *j)
{
	for (int i = 0; i < 2; i++) {
		free(j->st[i].buf);
		free(j->st[i].pc);
		free(j->st[i].cb);
	}
	if (j->w_fd >= 0)
		close(j->w_fd);
	if (j->lockfd >= 0)
		close(j->lockfd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	pthread_mutex_destroy(&j->mu);
	pthread_mutex_destroy(&j->fs_mu);
	pthread_cond_destroy(&j->cv_work);
	pthread_cond_destroy(&j->cv_space);
	pthread_cond_destroy(&j->cv_done);
	pthread_cond_destroy(&j->cv_data);
	free(j);
}

int ab_journal_open(struct ab_journal **out, const char *dir, const struct ab_journal_opts *o,
	struct ab_journal_recovery *rec, char *err, size_t errsz)
{
	struct ab_journal *j;
	struct ab_journal_recovery dummy;
	pthread_condattr_t ca;
	char path[PATH_CAP + 32];
	uint64_t seg_setting;

	*out = NULL;
	if (!rec)
		rec = &dummy;
	memset(rec, 0, sizeof *rec);
	if (!dir || !*dir || strlen(dir) >= PATH_CAP) {
		set_err(err, errsz, "journal: directory name empty or too long");
		return -1;
	}
	j = calloc(1, sizeof *j);
	if (!j) {
		set_err(err, errsz, "journal %s: out of memory", dir);
		return -1;
	}
	snprintf(j->dir, sizeof j->dir, "%s", dir);
	j->dirfd = j->lockfd = j->w_fd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_mutex_init(&j->fs_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv_work, NULL);
	pthread_cond_init(&j->cv_space, NULL);
	pthread_cond_init(&j->cv_done, NULL);
	pthread_cond_init(&j->cv_data, &ca);
	pthread_condattr_destroy(&ca);
	j->fill = &j->st[0];
	j->flush = &j->st[1];
	if (check_opts(o, j, err, errsz) < 0)
		goto fail;
	seg_setting = j->seg_size;
	if (ab_mkdir_p(dir, 0700) < 0) {
		sys_err(err, errsz, dir, "mkdir", errno);
		goto fail;
	}
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		sys_err(err, errsz, dir, "open", errno);
		goto fail;
	}
	snprintf(path, sizeof path, "%s/lock", dir);
	j->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lockfd < 0) {
		sys_err(err, errsz, path, "open", errno);
		goto fail;
	}
	if (flock(j->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			set_err(err, errsz, "journal %s: in use by another process (or opened twice)",
				dir);
		else
			sys_err(err, errsz, path, "flock", errno);
		goto fail;
	}
	if (recover(j, rec, err, errsz) < 0)
		goto fail;
	if (j->seg_size != seg_setting) {
		/* an existing journal keeps its size: the caps follow it */
		uint64_t max_bytes = (o && o->max_bytes ? o->max_bytes : AB_JOURNAL_BYTES_DEFAULT);

		j->max_segs = max_bytes / j->seg_size < 2 ? 2 : max_bytes / j->seg_size;
		if (j->max_record + SEG_SLACK > j->seg_size)
			j->max_record = (uint32_t)(j->seg_size - SEG_SLACK);
	}
	prune_spares(j, 0, (j->q_idx > j->w_idx ? j->q_idx : j->w_idx) - j->low_idx + 1);
	j->durable_seq = j->q_seq - 1;
	if (pthread_create(&j->writer, NULL, writer_main, j) != 0) {
		set_err(err, errsz, "journal %s: cannot start the writer thread", dir);
		goto fail;
	}
	pthread_setname_np(j->writer, "ab-journal");
	*out = j;
	return 0;
fail:
	free_journal(j);
	return -1;
}

void ab_journal_close(struct ab_journal *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	pthread_cond_broadcast(&j->cv_work);
	pthread_cond_broadcast(&j->cv_space);
	pthread_cond_broadcast(&j->cv_data);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->writer, NULL);
	free_journal(j);
}

/* ---- ledgers and reclamation -------------------------------------------- */

static void ledger_path(const struct ab_journal *j, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/ledger.%s", j->dir, name);
}

/* 0 with the newest valid slot, 1 if neither slot is valid, -1 on error. */
static int ledger_load(int fd, const char *path, uint64_t *gen, uint64_t *pos, uint64_t *seq,
	char *err, size_t errsz)
{
	uint8_t b[2 * LEDGER_SLOT];
	size_t got;
	int found = 0;

	memset(b, 0, sizeof b);
	if (pread_full(fd, b, sizeof b, 0, &got) < 0) {
		sys_err(err, errsz, path, "read", errno);
		return -1;
	}
	*gen = 0;
	for (int i = 0; i < 2; i++) {
		const uint8_t *s = b + i * LEDGER_SLOT;

		if (get32(s) != LEDGER_MAGIC || ab_crc32c(0, s + 8, 24) != get32(s + 4) ||
			get64(s + 8) == 0)
			continue;
		if (!found || get64(s + 8) > *gen) {
			*gen = get64(s + 8);
			*pos = get64(s + 16);
			*seq = get64(s + 24);
			found = 1;
		}
	}
	return found ? 0 : 1;
}

static int ledger_store(int fd, const char *path, uint64_t gen, uint64_t pos, uint64_t seq,
	char *err, size_t errsz)
{
	uint8_t s[LEDGER_SLOT];

	put32(s, LEDGER_MAGIC);
	put64(s + 8, gen);
	put64(s + 16, pos);
	put64(s + 24, seq);
	put32(s + 4, ab_crc32c(0, s + 8, 24));
	if (pwrite_full(fd, s, sizeof s, (gen & 1) * LEDGER_SLOT, 0) < 0) {
		sys_err(err, errsz, path, "write", errno);
		return -1;
	}
	if (fdatasync(fd) < 0) {
		sys_err(err, errsz, path, "fdatasync", errno);
		return -1;
	}
	return 0;
}

/* Lowest persisted position over every ledger; 0 if one is unreadable
 * (nothing is reclaimed then), UINT64_MAX if there is none.  fs_mu held. */
static uint64_t min_position(struct ab_journal *j)
{
	DIR *d = opendir(j->dir);
	struct dirent *e;
	uint64_t mn = UINT64_MAX;
	char path[PATH_CAP + 96], junk[8];

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		uint64_t gen, pos = 0, seq;
		int fd;

		if (strncmp(e->d_name, "ledger.", 7) != 0 || !valid_name(e->d_name + 7))
			continue;
		ledger_path(j, e->d_name + 7, path, sizeof path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || ledger_load(fd, path, &gen, &pos, &seq, junk, sizeof junk) != 0)
			pos = 0;
		if (fd >= 0)
			close(fd);
		if (pos < mn)
			mn = pos;
	}
	closedir(d);
	return mn;
}

/* Renames to spares or deletes every segment wholly below all readers. */
static int reclaim(struct ab_journal *j, char *err, size_t errsz)
{
	uint64_t mn, low, w_idx, q_idx, k;
	char path[PATH_CAP + 32], sp[PATH_CAP + 32];
	int changed = 0, rc = 0;

	pthread_mutex_lock(&j->fs_mu);
	mn = min_position(j);
	if (mn == UINT64_MAX) {
		pthread_mutex_unlock(&j->fs_mu);
		return 0;
	}
	pthread_mutex_lock(&j->mu);
	low = j->low_idx;
	w_idx = j->w_idx;
	q_idx = j->q_idx;
	pthread_mutex_unlock(&j->mu);
	for (k = low; k < w_idx && (k + 1) * j->seg_size <= mn; k++) {
		uint64_t live = (q_idx > w_idx ? q_idx : w_idx) - k;  /* after this one goes */

		seg_path(j, k, path, sizeof path);
		if (j->nspare < j->spares_max && live + j->nspare + 1 <= j->max_segs) {
			spare_path(j, k, sp, sizeof sp);
			if (rename(path, sp) == 0) {
				j->spare[j->nspare++] = k;
				changed = 1;
				continue;
			}
		} else if (unlink(path) == 0) {
			changed = 1;
			continue;
		}
		if (errno != ENOENT) {
			sys_err(err, errsz, path, j->nspare < j->spares_max ? "rename" : "unlink",
				errno);
			rc = -1;
			break;
		}
	}
	if (changed && sync_dir(j, err, errsz) < 0)
		rc = -1;
	pthread_mutex_lock(&j->mu);
	if (k > j->low_idx)
		j->low_idx = k;
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_unlock(&j->fs_mu);
	return rc;
}

/* ---- readers ------------------------------------------------------------ */

struct ab_journal_reader {
	struct ab_journal *j;
	char name[AB_JOURNAL_NAME_MAX + 1];
	char path[PATH_CAP + 96];
	int lfd, fd;
	uint64_t fd_idx;
	uint64_t gen;
	uint64_t pos;         /* stream position of the next frame */
	uint64_t expect;      /* number of the frame at pos (0: from the segment header) */
	uint64_t skip_below;  /* frames numbered below this are passed over */
	uint64_t delivered, acked;
	uint64_t ack_pos;     /* a position at or before record acked + 1 */
	uint64_t p_pos, p_seq;  /* persisted */
	uint64_t unpersisted;
	int64_t first_unpersisted_ms;
	struct { uint64_t seq, pos; } marks[MARKS];   /* after record seq comes pos */
	unsigned nmark;
	struct { uint64_t idx, base; } segs[SEGRING];  /* segments entered */
	unsigned nseg;
	uint8_t *buf;
	size_t cap, len;
	uint64_t buf_pos;
	/* ab_journal_reader_before_persist: made durable what the acks cover */
	int (*before)(void *arg, char *err, size_t errsz);
	void *before_arg;
};

static int registered(struct ab_journal *j, const char *name)
{
	for (struct rd_entry *e = j->readers; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return 1;
	return 0;
}

int ab_journal_reader_open(struct ab_journal *j, const char *name,
	struct ab_journal_reader **out, char *err, size_t errsz)
{
	struct ab_journal_reader *r;
	struct rd_entry *ent;
	uint64_t low, high;
	int rc;

	*out = NULL;
	if (!valid_name(name)) {
		set_err(err, errsz, "journal %s: reader name '%.80s': 1 to %d of [A-Za-z0-9_.-], "
			"not starting with '.'", j->dir, name ? name : "", AB_JOURNAL_NAME_MAX);
		return -1;
	}
	r = calloc(1, sizeof *r);
	ent = calloc(1, sizeof *ent);
	if (!r || !ent) {
		free(r);
		free(ent);
		set_err(err, errsz, "journal %s: out of memory", j->dir);
		return -1;
	}
	r->j = j;
	r->fd = -1;
	snprintf(r->name, sizeof r->name, "%s", name);
	snprintf(ent->name, sizeof ent->name, "%s", name);
	ledger_path(j, name, r->path, sizeof r->path);
	pthread_mutex_lock(&j->mu);
	if (registered(j, name)) {
		pthread_mutex_unlock(&j->mu);
		set_err(err, errsz, "journal %s: reader %s is already open", j->dir, name);
		free(r);
		free(ent);
		return -1;
	}
	ent->next = j->readers;
	j->readers = ent;
	pthread_mutex_unlock(&j->mu);

	pthread_mutex_lock(&j->fs_mu);  /* against reclaim: a new ledger starts at low_idx */
	r->lfd = open(r->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (r->lfd < 0) {
		sys_err(err, errsz, r->path, "open", errno);
		goto fail;
	}
	rc = ledger_load(r->lfd, r->path, &r->gen, &r->p_pos, &r->p_seq, err, errsz);
	if (rc < 0)
		goto fail;
	pthread_mutex_lock(&j->mu);
	low = j->low_idx;
	high = j->q_idx > j->w_idx ? j->q_idx : j->w_idx;
	pthread_mutex_unlock(&j->mu);
	if (rc == 1) {
		struct stat sb;

		if (fstat(r->lfd, &sb) == 0 && sb.st_size > 0) {
			set_err(err, errsz, "journal %s: both slots are damaged (drop the reader "
				"to start it again from the oldest record)", r->path);
			goto fail;
		}
		r->p_pos = low * j->seg_size;
		r->p_seq = 0;
		if (ledger_store(r->lfd, r->path, ++r->gen, r->p_pos, r->p_seq, err, errsz) < 0 ||
			sync_dir(j, err, errsz) < 0)
			goto fail;
	} else if (r->p_pos > (high + 1) * j->seg_size) {
		set_err(err, errsz, "journal %s: position %llu lies beyond the end of the journal "
			"(segment %llu): a ledger of another journal?", r->path,
			(unsigned long long)r->p_pos, (unsigned long long)high);
		goto fail;
	} else if (r->p_pos < low * j->seg_size) {
		set_err(err, errsz, "journal %s: position %llu lies in segment %llu, which is gone "
			"(the journal starts at segment %llu)", r->path,
			(unsigned long long)r->p_pos, (unsigned long long)(r->p_pos / j->seg_size),
			(unsigned long long)low);
		goto fail;
	}
	pthread_mutex_unlock(&j->fs_mu);
	r->pos = r->ack_pos = r->p_pos;
	r->skip_below = r->p_seq;
	r->acked = r->delivered = r->p_seq ? r->p_seq - 1 : 0;
	r->cap = READ_CHUNK + REC_HDR + j->max_record;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		set_err(err, errsz, "journal %s: out of memory", j->dir);
		pthread_mutex_lock(&j->fs_mu);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	pthread_mutex_unlock(&j->fs_mu);
	if (r->lfd >= 0)
		close(r->lfd);
	pthread_mutex_lock(&j->mu);
	for (struct rd_entry **pp = &j->readers; *pp; pp = &(*pp)->next)
		if (*pp == ent) {
			*pp = ent->next;
			break;
		}
	pthread_mutex_unlock(&j->mu);
	free(ent);
	free(r->buf);
	free(r);
	return -1;
}

static void damaged(struct ab_journal_reader *r, uint64_t pos, const char *what, char *err,
	size_t errsz)
{
	char path[PATH_CAP + 32];

	seg_path(r->j, pos / r->j->seg_size, path, sizeof path);
	set_err(err, errsz, "journal %s: offset %llu: %s (reader %s)", path,
		(unsigned long long)(pos % r->j->seg_size), what, r->name);
}

/* Makes [pos, pos + need) of the current segment available in the buffer,
 * reading no further than end (a segment offset).  0 or -1. */
static int fill_buf(struct ab_journal_reader *r, size_t need, uint64_t end, char *err,
	size_t errsz)
{
	struct ab_journal *j = r->j;
	uint64_t idx = r->pos / j->seg_size, off = r->pos % j->seg_size;
	char path[PATH_CAP + 32];
	size_t want, got;

	if (off + need > end) {
		damaged(r, r->pos, "frame runs past the committed end", err, errsz);
		return -1;
	}
	if (r->fd < 0 || r->fd_idx != idx) {
		if (r->fd >= 0)
			close(r->fd);
		seg_path(j, idx, path, sizeof path);
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		r->len = 0;
		if (r->fd < 0) {
			sys_err(err, errsz, path, "open", errno);
			return -1;
		}
		r->fd_idx = idx;
	}
	if (need > r->cap) {
		uint8_t *nb = realloc(r->buf, need);

		if (!nb) {
			set_err(err, errsz, "journal %s: out of memory", j->dir);
			return -1;
		}
		r->buf = nb;
		r->cap = need;
	}
	want = end - off < r->cap ? (size_t)(end - off) : r->cap;
	if (pread_full(r->fd, r->buf, want, off, &got) < 0) {
		seg_path(j, idx, path, sizeof path);
		sys_err(err, errsz, path, "read", errno);
		return -1;
	}
	r->buf_pos = r->pos;
	r->len = got;
	if (got < need) {
		damaged(r, r->pos, "segment file shorter than the committed end", err, errsz);
		return -1;
	}
	return 0;
}

static int in_buf(const struct ab_journal_reader *r, size_t need)
{
	return r->len && r->pos >= r->buf_pos && r->pos + need <= r->buf_pos + r->len &&
		r->fd_idx == r->pos / r->j->seg_size;
}

/* Returns records in [pos, limit): count or -1. */
static long read_some(struct ab_journal_reader *r, struct ab_journal_rec *out, size_t max,
	uint64_t limit, char *err, size_t errsz)
{
	struct ab_journal *j = r->j;
	size_t n = 0;

	while (n < max && r->pos < limit) {
		uint64_t idx = r->pos / j->seg_size, off = r->pos % j->seg_size;
		uint64_t end = limit - idx * j->seg_size < j->seg_size ?
			limit - idx * j->seg_size : j->seg_size;
		const uint8_t *p;
		uint64_t base, ss, nx, seq;
		uint32_t len;

		if (off == 0) {
			if (!in_buf(r, SEG_HDR) && (n || fill_buf(r, SEG_HDR, end, err, errsz) < 0))
				return n ? (long)n : -1;
			p = r->buf + (r->pos - r->buf_pos);
			if (!seg_header_ok(p, idx, &base, &ss) || ss != j->seg_size ||
				(r->expect && base != r->expect)) {
				damaged(r, r->pos, "segment header damaged or out of sequence", err,
					errsz);
				return -1;
			}
			r->expect = base;
			r->segs[r->nseg % SEGRING].idx = idx;
			r->segs[r->nseg % SEGRING].base = base;
			r->nseg++;
			r->pos += SEG_HDR;
			continue;
		}
		if (!in_buf(r, REC_HDR) && (n || fill_buf(r, REC_HDR, end, err, errsz) < 0))
			return n ? (long)n : -1;
		p = r->buf + (r->pos - r->buf_pos);
		len = get32(p);
		if (len == EOS_LEN) {
			if (!eos_ok(p, &nx) || (r->expect && nx != r->expect)) {
				damaged(r, r->pos, "end-of-segment marker damaged", err, errsz);
				return -1;
			}
			r->expect = nx;
			r->pos = (idx + 1) * j->seg_size;
			continue;
		}
		if (len == 0 || len > j->seg_size - SEG_SLACK) {
			damaged(r, r->pos, "record length damaged", err, errsz);
			return -1;
		}
		if (!in_buf(r, REC_HDR + len) &&
			(n || fill_buf(r, REC_HDR + len, end, err, errsz) < 0))
			return n ? (long)n : -1;
		p = r->buf + (r->pos - r->buf_pos);
		seq = get64(p + 8);
		if ((r->expect && seq != r->expect) || frame_crc(p + REC_HDR, len, seq) !=
				get32(p + 4)) {
			damaged(r, r->pos, "record checksum or sequence number wrong", err, errsz);
			return -1;
		}
		r->pos += REC_HDR + len;
		r->expect = seq + 1;
		if (seq < r->skip_below)
			continue;
		out[n].data = p + REC_HDR;
		out[n].len = len;
		out[n].seq = seq;
		n++;
		r->delivered = seq;
	}
	if (n) {
		r->marks[r->nmark % MARKS].seq = r->delivered;
		r->marks[r->nmark % MARKS].pos = r->pos;
		r->nmark++;
	}
	return (long)n;
}

static int persist(struct ab_journal_reader *r, char *err, size_t errsz)
{
	uint64_t next = r->acked + 1;

	if (r->p_seq == next && r->p_pos == r->ack_pos) {
		r->unpersisted = 0;
		return 0;
	}
	if (r->before && r->before(r->before_arg, err, errsz) < 0)
		return -1;   /* not durable downstream yet: the position waits */
	if (ledger_store(r->lfd, r->path, r->gen + 1, r->ack_pos, next, err, errsz) < 0)
		return -1;
	r->gen++;
	r->p_pos = r->ack_pos;
	r->p_seq = next;
	r->unpersisted = 0;
	return reclaim(r->j, err, errsz);
}

static int persist_if_due(struct ab_journal_reader *r, char *err, size_t errsz)
{
	if (r->unpersisted &&
		(r->unpersisted >= r->j->ack_every ||
			mono_ms() - r->first_unpersisted_ms >= (int64_t)r->j->ack_ms))
		return persist(r, err, errsz);
	return 0;
}

int ab_journal_read(struct ab_journal_reader *r, struct ab_journal_rec *out, size_t max,
	int timeout_ms, char *err, size_t errsz)
{
	struct ab_journal *j = r->j;
	struct timespec dl;
	int waited = 0;

	if (max == 0)
		return 0;
	if (max > AB_JOURNAL_READ_MAX)
		max = AB_JOURNAL_READ_MAX;
	if (timeout_ms > AB_JOURNAL_WAIT_MAX_MS)
		timeout_ms = AB_JOURNAL_WAIT_MAX_MS;
	if (timeout_ms > 0) {
		ab_deadline(&dl, CLOCK_MONOTONIC, timeout_ms);
	}
	for (;;) {
		uint64_t limit;
		long n;

		pthread_mutex_lock(&j->mu);
		limit = j->durable_end;
		pthread_mutex_unlock(&j->mu);
		n = read_some(r, out, max, limit, err, errsz);
		if (n != 0 || timeout_ms <= 0 || waited) {
			if (n >= 0 && persist_if_due(r, err, errsz) < 0)
				return -1;
			return (int)n;
		}
		/* nothing yet: wait for the writer, bounded (a due persist first) */
		if (persist_if_due(r, err, errsz) < 0)
			return -1;
		pthread_mutex_lock(&j->mu);
		while (j->durable_end == limit && !j->stop && !waited)
			if (pthread_cond_timedwait(&j->cv_data, &j->mu, &dl) == ETIMEDOUT)
				waited = 1;
		if (j->stop)
			waited = 1;
		pthread_mutex_unlock(&j->mu);
	}
}

int ab_journal_ack(struct ab_journal_reader *r, uint64_t seq, char *err, size_t errsz)
{
	uint64_t next = seq + 1, best = 0, best_pos = 0;
	int found = 0, found_seg = 0;

	if (seq > r->delivered) {
		set_err(err, errsz, "journal %s: ack of record %llu, which this reader has not "
			"read (last %llu)", r->path, (unsigned long long)seq,
			(unsigned long long)r->delivered);
		return -1;
	}
	if (seq <= r->acked)
		return 0;
	/* a position at or before record seq + 1: exact after a read's last
	 * record, else the start of the segment that holds it */
	for (unsigned i = 0; i < MARKS && i < r->nmark; i++)
		if (r->marks[i].seq == seq) {
			r->ack_pos = r->marks[i].pos;
			found = 1;
		}
	for (unsigned i = 0; !found && i < SEGRING && i < r->nseg; i++)
		if (r->segs[i].base <= next && (!found_seg || r->segs[i].base > best)) {
			best = r->segs[i].base;
			best_pos = r->segs[i].idx * r->j->seg_size;
			found_seg = 1;
		}
	if (!found && found_seg && best_pos > r->ack_pos)
		r->ack_pos = best_pos;
	if (!r->unpersisted)
		r->first_unpersisted_ms = mono_ms();
	r->unpersisted += seq - r->acked;
	r->acked = seq;
	return persist_if_due(r, err, errsz);
}

void ab_journal_reader_before_persist(struct ab_journal_reader *r,
	int (*fn)(void *arg, char *err, size_t errsz), void *arg)
{
	r->before = fn;
	r->before_arg = arg;
}

int ab_journal_reader_flush(struct ab_journal_reader *r, char *err, size_t errsz)
{
	return persist(r, err, errsz);
}

void ab_journal_reader_close(struct ab_journal_reader *r)
{
	char junk[8];

	if (!r)
		return;
	persist(r, junk, sizeof junk);
	pthread_mutex_lock(&r->j->mu);
	for (struct rd_entry **pp = &r->j->readers; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, r->name) == 0) {
			struct rd_entry *e = *pp;

			*pp = e->next;
			free(e);
			break;
		}
	pthread_mutex_unlock(&r->j->mu);
	if (r->fd >= 0)
		close(r->fd);
	close(r->lfd);
	free(r->buf);
	free(r);
}

int ab_journal_reader_drop(struct ab_journal *j, const char *name, char *err, size_t errsz)
{
	char path[PATH_CAP + 96];
	int open_now;

	if (!valid_name(name)) {
		set_err(err, errsz, "journal %s: no reader '%.80s'", j->dir, name ? name : "");
		return -1;
	}
	pthread_mutex_lock(&j->mu);
	open_now = registered(j, name);
	pthread_mutex_unlock(&j->mu);
	if (open_now) {
		set_err(err, errsz, "journal %s: reader %s is open: close it first", j->dir, name);
		return -1;
	}
	ledger_path(j, name, path, sizeof path);
	pthread_mutex_lock(&j->fs_mu);
	if (unlink(path) < 0) {
		int e = errno;

		pthread_mutex_unlock(&j->fs_mu);
		if (e == ENOENT)
			set_err(err, errsz, "journal %s: no reader %s", j->dir, name);
		else
			sys_err(err, errsz, path, "unlink", e);
		return -1;
	}
	if (sync_dir(j, err, errsz) < 0) {
		pthread_mutex_unlock(&j->fs_mu);
		return -1;
	}
	pthread_mutex_unlock(&j->fs_mu);
	return reclaim(j, err, errsz);
}

int ab_journal_reader_names(struct ab_journal *j, void (*fn)(void *arg, const char *name),
	void *arg, char *err, size_t errsz)
{
	DIR *d = opendir(j->dir);
	struct dirent *e;
	int n = 0;

	if (!d) {
		sys_err(err, errsz, j->dir, "opendir", errno);
		return -1;
	}
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "ledger.", 7) == 0 && valid_name(e->d_name + 7)) {
			fn(arg, e->d_name + 7);
			n++;
		}
	closedir(d);
	return n;
}
