/* journal.c - prototype segmented journal: group-committed appends,
 * recovery by tail scan, readers with ledgers, reclamation of consumed
 * segments.  See journal.h for the layout and the interface. */
#include "journal.h"
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/falloc.h>

#define SEG_HDR 32u
#define SEG_MAGIC 0x4745534C4E4A4241ull /* "ABJNLSEG" little-endian */
#define EOS_LEN 0xFFFFFFFFu

struct jnl {
	char dir[PATH_MAX];
	int dirfd;
	uint64_t seg_size;
	enum jnl_prealloc prealloc;
	size_t write_chunk;
	int nosync;
	uint64_t idx;  /* current segment */
	int fd;
	uint64_t off;  /* end of data in the current segment */
	uint64_t next_seq;
	uint64_t syncs, sync_ns;
};

static void seg_name(char *out, size_t n, const char *dir, uint64_t idx)
{
	snprintf(out, n, "%s/%020llu.seg", dir, (unsigned long long)idx);
}

static void seg_header(uint8_t *h, uint64_t idx, uint64_t base_seq)
{
	put64(h, SEG_MAGIC);
	put64(h + 8, idx);
	put64(h + 16, base_seq);
	put32(h + 24, crc32c(0, h, 24));
	put32(h + 28, 0);
}

/* 1 and *base_seq if h is a valid header for segment idx. */
static int seg_header_ok(const uint8_t *h, uint64_t idx, uint64_t *base_seq)
{
	if (get64(h) != SEG_MAGIC || get64(h + 8) != idx || crc32c(0, h, 24) != get32(h + 24))
		return 0;
	*base_seq = get64(h + 16);
	return 1;
}

static void eos_frame(uint8_t *f, uint64_t next_seq)
{
	uint8_t b[8];
	put64(b, next_seq);
	put32(f, EOS_LEN);
	put32(f + 4, crc32c(0x454f53u, b, 8));
	put64(f + 8, next_seq);
}

static int is_eos(const uint8_t *f, uint64_t *next_seq)
{
	if (get32(f) != EOS_LEN || crc32c(0x454f53u, f + 8, 8) != get32(f + 4))
		return 0;
	*next_seq = get64(f + 8);
	return 1;
}

static int list_segments(const char *dir, uint64_t *min_idx, uint64_t *max_idx)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		unsigned long long v = strtoull(e->d_name, &end, 10);
		if (end == e->d_name || strcmp(end, ".seg") != 0)
			continue;
		if (!n || v < *min_idx)
			*min_idx = v;
		if (!n || v > *max_idx)
			*max_idx = v;
		n++;
	}
	closedir(d);
	return n;
}

struct scan {
	uint64_t end;      /* offset after the last good frame (or header) */
	uint64_t next_seq; /* seq after the last good record */
	int hdr_ok;
	int eos;           /* ended with an end-of-segment marker */
	int torn;          /* stopped at a non-zero, bad frame */
};

/* Scans segment idx from the start.  prev_next_seq: the seq the segment
 * must start with (0: take it from the header). */
static int scan_segment(int fd, uint64_t idx, uint64_t seg_size, struct scan *s)
{
	struct stat st;
	memset(s, 0, sizeof *s);
	if (fstat(fd, &st) < 0)
		return -1;
	uint64_t size = (uint64_t)st.st_size < seg_size ? (uint64_t)st.st_size : seg_size;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return -1;
	ssize_t got = size ? pread(fd, buf, size, 0) : 0;
	if (got < 0) {
		free(buf);
		return -1;
	}
	uint64_t base;
	if ((uint64_t)got < SEG_HDR || !seg_header_ok(buf, idx, &base)) {
		/* empty, or a header torn / left over from a recycled segment */
		s->torn = (uint64_t)got >= SEG_HDR && get64(buf) != 0 && get64(buf) == SEG_MAGIC &&
			  get64(buf + 8) == idx;
		free(buf);
		return 0;
	}
	s->hdr_ok = 1;
	s->end = SEG_HDR;
	s->next_seq = base;
	for (;;) {
		uint64_t seq, nx;
		size_t avail = (size_t)((uint64_t)got - s->end);
		if (avail >= REC_HDR && is_eos(buf + s->end, &nx) && nx == s->next_seq) {
			s->eos = 1;
			break;
		}
		long fl = frame_check(buf + s->end, avail, &seq);
		if (fl == 0)
			break;
		if (fl < 0 || seq != s->next_seq) {
			/* torn/corrupt, or stale (recycled) data: not torn then */
			s->torn = fl < 0;
			break;
		}
		s->end += (uint64_t)fl;
		s->next_seq++;
	}
	free(buf);
	return 0;
}

static int do_sync(struct jnl *j, int fd)
{
	if (j->nosync)
		return 0;
	uint64_t t0 = now_ns();
	int rc = fdatasync(fd);
	j->sync_ns += now_ns() - t0;
	j->syncs++;
	return rc;
}

static int zero_file(int fd, uint64_t size)
{
	static uint8_t zeros[1 << 20];
	for (uint64_t o = 0; o < size;) {
		size_t n = size - o < sizeof zeros ? (size_t)(size - o) : sizeof zeros;
		ssize_t w = pwrite(fd, zeros, n, (off_t)o);
		if (w <= 0)
			return -1;
		o += (uint64_t)w;
	}
	return 0;
}

/* Opens segment idx for writing: a spare (recycled) file renamed into
 * place if there is one, else a new file (fallocated or zero-filled by
 * mode).  The directory is fsynced so the name is durable. */
static int open_new_segment(struct jnl *j, uint64_t idx)
{
	char path[PATH_MAX + 32], spare[PATH_MAX + 300];
	seg_name(path, sizeof path, j->dir, idx);
	int fd = -1;
	if (j->prealloc == JNL_RECYCLE) {
		DIR *d = opendir(j->dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (strncmp(e->d_name, "spare.", 6) == 0) {
				snprintf(spare, sizeof spare, "%s/%s", j->dir, e->d_name);
				if (rename(spare, path) == 0) {
					fd = open(path, O_RDWR | O_CLOEXEC);
					break;
				}
			}
		}
		if (d)
			closedir(d);
	}
	if (fd < 0) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		if (j->prealloc == JNL_FALLOCATE && fallocate(fd, 0, 0, (off_t)j->seg_size) < 0) {
			close(fd);
			return -1;
		}
		if (j->prealloc == JNL_RECYCLE &&
		    (zero_file(fd, j->seg_size) < 0 || fdatasync(fd) < 0)) {
			close(fd);
			return -1;
		}
	}
	if (!j->nosync)
		fsync(j->dirfd);
	return fd;
}

int jnl_prewrite(struct jnl *j, int count)
{
	char path[PATH_MAX + 32];
	for (int i = 0; i < count; i++) {
		snprintf(path, sizeof path, "%s/spare.%d", j->dir, i);
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		int rc = zero_file(fd, j->seg_size);
		if (rc == 0)
			rc = fdatasync(fd);
		close(fd);
		if (rc < 0)
			return -1;
	}
	return fsync(j->dirfd);
}

/* Cuts segment data after `end`: ftruncate for grown files, zero-range
 * for preallocated ones. */
static int cut_tail(struct jnl *j, int fd, uint64_t end, uint64_t *cut)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if ((uint64_t)st.st_size <= end)
		return 0;
	if (j->prealloc == JNL_GROW) {
		*cut += (uint64_t)st.st_size - end;
		if (ftruncate(fd, (off_t)end) < 0)
			return -1;
	} else {
		*cut += (uint64_t)st.st_size - end;
		if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)end,
			      (off_t)((uint64_t)st.st_size - end)) < 0 &&
		    zero_file(fd, 0) < 0)
			return -1;
	}
	return fdatasync(fd);
}

int jnl_open(struct jnl **out, const struct jnl_opts *o, int *torn, uint64_t *cut_bytes)
{
	struct jnl *j = calloc(1, sizeof *j);
	if (!j)
		return -1;
	*torn = 0;
	*cut_bytes = 0;
	snprintf(j->dir, sizeof j->dir, "%s", o->dir);
	j->seg_size = o->seg_size;
	j->prealloc = o->prealloc;
	j->write_chunk = o->write_chunk;
	j->nosync = o->nosync;
	j->fd = -1;
	mkdir(j->dir, 0700);
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0)
		goto fail;
	uint64_t mn = 0, mx = 0;
	int n = list_segments(j->dir, &mn, &mx);
	if (n < 0)
		goto fail;
	if (n == 0) {
		j->idx = 0;
		j->next_seq = 1;
		j->off = 0;
		if ((j->fd = open_new_segment(j, 0)) < 0)
			goto fail;
		*out = j;
		return 0;
	}
	char path[PATH_MAX + 32];
	seg_name(path, sizeof path, j->dir, mx);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	struct scan s;
	if (scan_segment(fd, mx, j->seg_size, &s) < 0) {
		close(fd);
		goto fail;
	}
	*torn = s.torn;
	if (s.hdr_ok) {
		if (s.eos) { /* crashed right after closing it: continue in the next one */
			close(fd);
			j->idx = mx + 1;
			j->next_seq = s.next_seq;
			j->off = 0;
			if ((j->fd = open_new_segment(j, j->idx)) < 0)
				goto fail;
		} else {
			if (cut_tail(j, fd, s.end, cut_bytes) < 0) {
				close(fd);
				goto fail;
			}
			j->fd = fd;
			j->idx = mx;
			j->off = s.end;
			j->next_seq = s.next_seq;
		}
	} else {
		/* Last segment has no valid header: nothing in it was acknowledged. */
		if (cut_tail(j, fd, 0, cut_bytes) < 0) {
			close(fd);
			goto fail;
		}
		j->fd = fd;
		j->idx = mx;
		j->off = 0;
		j->next_seq = 1;
		if (mx > mn) { /* the segment before must end with its EOS marker */
			char pp[PATH_MAX + 32];
			seg_name(pp, sizeof pp, j->dir, mx - 1);
			int pfd = open(pp, O_RDONLY | O_CLOEXEC);
			struct scan ps;
			if (pfd < 0 || scan_segment(pfd, mx - 1, j->seg_size, &ps) < 0 || !ps.hdr_ok) {
				if (pfd >= 0)
					close(pfd);
				goto fail;
			}
			close(pfd);
			j->next_seq = ps.next_seq;
			if (!ps.eos) {
				/* EOS lost with the torn batch: continue in the previous one */
				close(fd);
				unlink(path);
				j->idx = mx - 1;
				j->off = ps.end;
				j->fd = open(pp, O_RDWR | O_CLOEXEC);
				if (j->fd < 0 || cut_tail(j, j->fd, ps.end, cut_bytes) < 0)
					goto fail;
			}
		}
	}
	*out = j;
	return 0;
fail:
	if (j->dirfd >= 0)
		close(j->dirfd);
	if (j->fd >= 0)
		close(j->fd);
	free(j);
	return -1;
}

uint64_t jnl_next_seq(const struct jnl *j) { return j->next_seq; }
uint64_t jnl_end_pos(const struct jnl *j) { return j->idx * j->seg_size + j->off; }
uint64_t jnl_syncs(const struct jnl *j) { return j->syncs; }
uint64_t jnl_sync_ns(const struct jnl *j) { return j->sync_ns; }

static int write_all(struct jnl *j, int fd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	if (!j->write_chunk) {
		size_t total = 0;
		for (int i = 0; i < iovcnt; i++)
			total += iov[i].iov_len;
		ssize_t w = pwritev(fd, iov, iovcnt, (off_t)off);
		return w == (ssize_t)total ? 0 : -1;
	}
	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;
		while (left) {
			size_t n = left < j->write_chunk ? left : j->write_chunk;
			if (pwrite(fd, p, n, (off_t)off) != (ssize_t)n)
				return -1;
			p += n;
			off += n;
			left -= n;
		}
	}
	return 0;
}

int jnl_append(struct jnl *j, const uint8_t *frames, size_t bytes, size_t n)
{
	size_t pos = 0;
	uint8_t hdr[SEG_HDR], eos[REC_HDR];
	while (pos < bytes) {
		/* Collect the frames that fit in the current segment (room for EOS). */
		size_t start = pos;
		uint64_t off = j->off + (j->off == 0 ? SEG_HDR : 0);
		uint64_t seq0 = j->next_seq;
		while (pos < bytes) {
			size_t fl = REC_HDR + get32(frames + pos);
			if (off + fl + REC_HDR > j->seg_size)
				break;
			off += fl;
			pos += fl;
			j->next_seq++;
		}
		struct iovec iov[3];
		int ic = 0;
		uint64_t woff = j->off;
		if (j->off == 0) {
			seg_header(hdr, j->idx, seq0);
			iov[ic].iov_base = hdr;
			iov[ic++].iov_len = SEG_HDR;
		}
		if (pos > start) {
			iov[ic].iov_base = (void *)(frames + start);
			iov[ic++].iov_len = pos - start;
		}
		int roll = pos < bytes;
		if (roll) {
			eos_frame(eos, j->next_seq);
			iov[ic].iov_base = eos;
			iov[ic++].iov_len = REC_HDR;
		}
		if (write_all(j, j->fd, iov, ic, woff) < 0)
			return -1;
		j->off = off;
		if (roll) {
			/* The full segment, EOS included, is durable before any byte of
			 * the next one is written: after a power loss a segment with data
			 * always follows a complete one, so recovery scans only the last
			 * segment (one extra fdatasync per segment). */
			if (do_sync(j, j->fd) < 0)
				return -1;
			close(j->fd);
			j->idx++;
			j->off = 0;
			if ((j->fd = open_new_segment(j, j->idx)) < 0)
				return -1;
		}
	}
	(void)n;
	return do_sync(j, j->fd);
}

void jnl_close(struct jnl *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	close(j->dirfd);
	free(j);
}

/* ---- readers ---------------------------------------------------------- */

#define RBUF (1u << 20)

struct jnl_reader {
	char dir[PATH_MAX];
	char ledger[PATH_MAX + 64];
	uint64_t seg_size;
	int lfd;
	uint64_t gen;
	uint64_t pos;      /* stream position of the next frame */
	uint64_t next_seq; /* 0: unknown (take from the segment header) */
	uint64_t fd_idx;
	int fd;
	uint8_t *buf;
	uint64_t buf_pos; /* stream position of buf[0] */
	size_t buf_len;
};

static int ledger_slot_ok(const uint8_t *s, uint64_t *gen, uint64_t *pos, uint64_t *seq)
{
	if (crc32c(0, s, 24) != get32(s + 24) || get64(s) == 0)
		return 0;
	*gen = get64(s);
	*pos = get64(s + 8);
	*seq = get64(s + 16);
	return 1;
}

int jnl_reader_open(struct jnl_reader **out, const char *dir, uint64_t seg_size, const char *name)
{
	struct jnl_reader *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	snprintf(r->dir, sizeof r->dir, "%s", dir);
	snprintf(r->ledger, sizeof r->ledger, "%s/ledger.%s", dir, name);
	r->seg_size = seg_size;
	r->fd = -1;
	r->buf = malloc(RBUF);
	r->lfd = open(r->ledger, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (!r->buf || r->lfd < 0) {
		free(r->buf);
		free(r);
		return -1;
	}
	uint8_t l[64] = {0};
	if (pread(r->lfd, l, 64, 0) == 64) {
		uint64_t g, p, s;
		for (int i = 0; i < 2; i++)
			if (ledger_slot_ok(l + 32 * i, &g, &p, &s) && g > r->gen) {
				r->gen = g;
				r->pos = p;
				r->next_seq = s;
			}
	}
	*out = r;
	return 0;
}

uint64_t jnl_reader_pos(const struct jnl_reader *r) { return r->pos; }

void jnl_reader_seek(struct jnl_reader *r, uint64_t pos)
{
	r->pos = pos;
	r->next_seq = 0;
	r->buf_len = 0;
}

int64_t jnl_first_segment(const char *dir)
{
	uint64_t mn = 0, mx = 0;
	int n = list_segments(dir, &mn, &mx);
	return n > 0 ? (int64_t)mn : -1;
}

int64_t jnl_last_segment(const char *dir)
{
	uint64_t mn = 0, mx = 0;
	int n = list_segments(dir, &mn, &mx);
	return n > 0 ? (int64_t)mx : -1;
}

int jnl_reader_ack(struct jnl_reader *r)
{
	uint8_t s[32] = {0};
	r->gen++;
	put64(s, r->gen);
	put64(s + 8, r->pos);
	put64(s + 16, r->next_seq);
	put32(s + 24, crc32c(0, s, 24));
	if (pwrite(r->lfd, s, 32, (off_t)(32 * (r->gen & 1))) != 32)
		return -1;
	return fdatasync(r->lfd);
}

/* Makes [pos, pos+need) available in buf, reading at most up to limit. */
static int reader_fill(struct jnl_reader *r, uint64_t need, uint64_t limit)
{
	uint64_t idx = r->pos / r->seg_size;
	if (r->pos >= r->buf_pos && r->pos + need <= r->buf_pos + r->buf_len)
		return 1;
	if (r->fd < 0 || r->fd_idx != idx) {
		char path[PATH_MAX + 32];
		if (r->fd >= 0)
			close(r->fd);
		seg_name(path, sizeof path, r->dir, idx);
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		r->fd_idx = idx;
		r->buf_len = 0;
		if (r->fd < 0)
			return 0;
	}
	uint64_t seg_end = (idx + 1) * r->seg_size;
	uint64_t end = limit < seg_end ? limit : seg_end;
	if (r->pos + need > end)
		return 0;
	size_t want = (size_t)(end - r->pos < RBUF ? end - r->pos : RBUF);
	ssize_t got = pread(r->fd, r->buf, want, (off_t)(r->pos - idx * r->seg_size));
	if (got < 0)
		return -1;
	r->buf_pos = r->pos;
	r->buf_len = (size_t)got;
	return r->pos + need <= r->buf_pos + r->buf_len;
}

int jnl_reader_next(struct jnl_reader *r, uint64_t limit, const uint8_t **payload, uint32_t *len,
		    uint64_t *seq)
{
	for (;;) {
		if (r->pos >= limit)
			return 0;
		uint64_t idx = r->pos / r->seg_size;
		if (r->pos == idx * r->seg_size) { /* segment header */
			int f = reader_fill(r, SEG_HDR, limit);
			if (f <= 0)
				return f;
			uint64_t base;
			if (!seg_header_ok(r->buf + (r->pos - r->buf_pos), idx, &base))
				return 0;
			if (r->next_seq && base != r->next_seq)
				return -1;
			r->next_seq = base;
			r->pos += SEG_HDR;
		}
		int f = reader_fill(r, REC_HDR, limit);
		if (f <= 0)
			return f;
		const uint8_t *p = r->buf + (r->pos - r->buf_pos);
		uint64_t nx;
		if (is_eos(p, &nx) && nx == r->next_seq) {
			r->pos = (idx + 1) * r->seg_size;
			continue;
		}
		uint32_t l = get32(p);
		if (l == 0 || l > REC_MAX)
			return get64(p) == 0 && l == 0 ? 0 : -1;
		f = reader_fill(r, REC_HDR + l, limit);
		if (f <= 0)
			return f;
		p = r->buf + (r->pos - r->buf_pos);
		long fl = frame_check(p, REC_HDR + l, seq);
		if (fl <= 0 || *seq != r->next_seq)
			return limit == UINT64_MAX ? 0 : -1;
		*payload = p + REC_HDR;
		*len = l;
		r->pos += (uint64_t)fl;
		r->next_seq++;
		return 1;
	}
}

void jnl_reader_close(struct jnl_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	close(r->lfd);
	free(r->buf);
	free(r);
}

int jnl_reclaim(const char *dir, uint64_t seg_size, uint64_t min_pos, int recycle_spares)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int spares = 0, done = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "spare.", 6) == 0)
			spares++;
	rewinddir(d);
	while ((e = readdir(d))) {
		char *end;
		unsigned long long v = strtoull(e->d_name, &end, 10);
		if (end == e->d_name || strcmp(end, ".seg") != 0)
			continue;
		if ((v + 1) * seg_size > min_pos)
			continue;
		char path[PATH_MAX + 64], sp[PATH_MAX + 64];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (spares < recycle_spares) {
			snprintf(sp, sizeof sp, "%s/spare.r%llu", dir, v);
			if (rename(path, sp) == 0)
				spares++;
		} else {
			unlink(path);
		}
		done++;
	}
	closedir(d);
	return done;
}
