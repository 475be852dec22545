/*
 * test_journal.c - unit tests for the journal (src/store/journal.c) and
 * its checksum (src/lib/crc32c.c): CRC-32C vectors and the hardware path
 * against the tables; append and read across segment boundaries; several
 * producer threads (every acknowledged record read exactly once, in
 * sequence); the non-blocking submit; reader positions across reopening;
 * reclamation below every reader (spares, drop); a torn tail (garbage,
 * a damaged record, a file truncated in a record) cut on open, and a crash
 * at a segment roll (new segment's header lost, or no new segment); the full
 * and too-large errors; a damaged ledger slot; and a crash test: a child
 * appending in a loop is SIGKILLed at random times and every record it
 * had acknowledged must be there, intact, after recovery.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/crc32c.h"
#include "store/journal.h"
#include "../harness/testutil.h"

#define SEG (64u << 10)

struct fx {
	char *dir;
	char err[512];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	if (!f || !(f->dir = tu_tmpdir()))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char orig[600];

	snprintf(orig, sizeof orig, "%s.orig", f->dir);  /* the copies of the torn tests */
	tu_rm_rf(orig);
	tu_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static struct ab_journal_opts small_opts(void)
{
	struct ab_journal_opts o = { 0 };

	o.segment_size = SEG;
	o.max_record = 8192;
	o.queue_bytes = 1u << 20;
	o.max_bytes = 1024ull * SEG;
	return o;
}

/* Deterministic content of record (a, b), len bytes. */
static void fill(uint8_t *p, uint32_t len, uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 1) * 0xC2B2AE3D27D4EB4Full;

	for (uint32_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static int same(const struct ab_journal_rec *r, uint32_t len, uint64_t a, uint64_t b)
{
	uint8_t tmp[8192];

	if (r->len != len || len > sizeof tmp)
		return 0;
	fill(tmp, len, a, b);
	return memcmp(tmp, r->data, len) == 0;
}

static uint32_t len_of(uint64_t k)
{
	return 1 + (uint32_t)((k * 7919) % 6000);
}

static struct ab_journal *jopen(struct fx *f, const struct ab_journal_opts *o,
	struct ab_journal_recovery *rec)
{
	struct ab_journal *j = NULL;

	if (ab_journal_open(&j, f->dir, o, rec, f->err, sizeof f->err) != 0)
		fail_msg("open: %s", f->err);
	return j;
}

/* Appends records k = from .. to-1 (content fill(len_of(k), 0, k)) in
 * batches of 1..17; checks the numbers given back. */
static void append_range(struct fx *f, struct ab_journal *j, uint64_t from, uint64_t to)
{
	static uint8_t bufs[17][8192];
	struct ab_journal_rec recs[17];

	for (uint64_t k = from; k < to;) {
		size_t n = 1 + (size_t)(k % 17);
		uint64_t first = 0;

		if (k + n > to)
			n = (size_t)(to - k);
		for (size_t i = 0; i < n; i++) {
			recs[i].len = len_of(k + i);
			fill(bufs[i], recs[i].len, 0, k + i);
			recs[i].data = bufs[i];
		}
		if (ab_journal_append(j, recs, n, &first, f->err, sizeof f->err) != 0)
			fail_msg("append: %s", f->err);
		assert_int_equal(first, k + 1);
		k += n;
	}
}

/* Reads until `count` records came or a read returns none; checks seq
 * and content (seq s holds k = s - 1); returns the number read. */
static uint64_t read_check(struct fx *f, struct ab_journal_reader *r, uint64_t expect_first,
	uint64_t count, size_t max)
{
	struct ab_journal_rec out[64];
	uint64_t got = 0, want = expect_first;

	while (got < count) {
		size_t m = count - got < max ? (size_t)(count - got) : max;
		int n = ab_journal_read(r, out, m, 200, f->err, sizeof f->err);

		if (n < 0)
			fail_msg("read: %s", f->err);
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			assert_int_equal(out[i].seq, want);
			assert_true(same(&out[i], len_of(want - 1), 0, want - 1));
			want++;
		}
		got += (uint64_t)n;
	}
	return got;
}

static int count_files(const char *dir, const char *suffix, const char *prefix)
{
	char cmd[512];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '%s%s' ", dir, prefix ? prefix : "",
		suffix ? suffix : "");
	p = popen(cmd, "r");
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static int seg_exists(const char *dir, uint64_t idx)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%020llu.seg", dir, (unsigned long long)idx);
	return access(path, F_OK) == 0;
}

/* ---- crc32c ------------------------------------------------------------- */

static void test_crc32c(void **state)
{
	uint8_t buf[300];

	(void)state;
	assert_int_equal(ab_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(ab_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(ab_crc32c(0, "", 0), 0);
	memset(buf, 0, 32);
	assert_int_equal(ab_crc32c(0, buf, 32), 0x8A9136AAu);  /* RFC 3720 B.4 */
	memset(buf, 0xff, 32);
	assert_int_equal(ab_crc32c(0, buf, 32), 0x62A8AB43u);
	fill(buf, sizeof buf, 7, 7);
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len + off <= sizeof buf; len += 13) {
			uint32_t a = ab_crc32c(0, buf + off, len);

			assert_int_equal(a, ab_crc32c_sw(0, buf + off, len));
			/* chaining: crc(a then b) */
			assert_int_equal(ab_crc32c(ab_crc32c(0, buf + off, len / 2), buf + off + len / 2,
						 len - len / 2),
				a);
		}
}

/* ---- round trip --------------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal_recovery rec;
	struct ab_journal *j = jopen(f, &o, &rec);
	struct ab_journal_reader *r;
	struct ab_journal_stats st;

	assert_int_equal(rec.next_seq, 1);
	append_range(f, j, 0, 3000);  /* ~9 MB: ~140 segments */
	ab_journal_get_stats(j, &st);
	assert_int_equal(st.next_seq, 3001);
	assert_int_equal(st.durable_seq, 3000);
	assert_true(st.last_segment > 100);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, r, 1, 3000, 64), 3000);
	assert_int_equal(ab_journal_read(r, (struct ab_journal_rec[1]){ { 0 } }, 1, 0, f->err,
				 sizeof f->err),
		0);
	ab_journal_reader_close(r);
	ab_journal_close(j);

	/* a clean reopen: nothing cut; a new reader starts at the oldest record */
	j = jopen(f, &o, &rec);
	assert_false(rec.torn);
	assert_int_equal(rec.cut_bytes, 0);
	assert_int_equal(rec.next_seq, 3001);
	append_range(f, j, 3000, 3100);
	assert_int_equal(ab_journal_reader_open(j, "r2", &r, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, r, 1, 3100, 7), 3100);
	ab_journal_reader_close(r);
	/* bad arguments */
	assert_int_equal(ab_journal_reader_open(j, "../x", &r, f->err, sizeof f->err), -1);
	assert_int_equal(ab_journal_append(j, NULL, 0, NULL, f->err, sizeof f->err), -1);
	ab_journal_close(j);

	/* one process at a time; settings out of range */
	{
		struct ab_journal *j2;

		j = jopen(f, &o, NULL);
		assert_int_equal(ab_journal_open(&j2, f->dir, &o, NULL, f->err, sizeof f->err), -1);
		assert_non_null(strstr(f->err, "in use"));
		ab_journal_close(j);
		o.segment_size = 1000;
		assert_int_equal(ab_journal_open(&j2, f->dir, &o, NULL, f->err, sizeof f->err), -1);
		assert_non_null(strstr(f->err, "segment_size"));
	}
	/* an existing journal keeps its segment size whatever the setting says */
	o.segment_size = 4 * SEG;
	j = jopen(f, &o, &rec);
	assert_int_equal(rec.next_seq, 3101);
	append_range(f, j, 3100, 3400);
	assert_int_equal(ab_journal_reader_open(j, "r3", &r, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, r, 1, 3400, 64), 3400);
	ab_journal_reader_close(r);
	ab_journal_get_stats(j, &st);
	assert_true(st.last_segment > 150);
	ab_journal_close(j);
	assert_true(seg_exists(f->dir, st.last_segment));
}

/* ---- several producers -------------------------------------------------- */

#define PRODUCERS 4
#define PER_PRODUCER 1500

struct prod {
	struct ab_journal *j;
	int id;
	int rc;
	char err[256];
};

static uint32_t plen(int id, uint64_t k)
{
	return 12 + (uint32_t)((k * 31 + (uint64_t)id * 101) % 700);
}

static void *producer(void *arg)
{
	struct prod *p = arg;
	static __thread uint8_t bufs[5][8192];
	struct ab_journal_rec recs[5];

	for (uint64_t k = 0; k < PER_PRODUCER;) {
		size_t n = 1 + (size_t)((k + (uint64_t)p->id) % 5);

		if (k + n > PER_PRODUCER)
			n = (size_t)(PER_PRODUCER - k);
		for (size_t i = 0; i < n; i++) {
			recs[i].len = plen(p->id, k + i);
			fill(bufs[i], recs[i].len, (uint64_t)p->id + 1, k + i);
			/* the first 12 bytes say who and which */
			memcpy(bufs[i], &p->id, sizeof p->id);
			memcpy(bufs[i] + 4, &(uint64_t){ k + i }, 8);
			recs[i].data = bufs[i];
		}
		p->rc = ab_journal_append(p->j, recs, n, NULL, p->err, sizeof p->err);
		if (p->rc != 0)
			return NULL;
		k += n;
	}
	return NULL;
}

static void test_producers(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal *j;
	struct ab_journal_reader *r;
	struct prod p[PRODUCERS];
	pthread_t th[PRODUCERS];
	static uint8_t seen[PRODUCERS][PER_PRODUCER];
	struct ab_journal_rec out[64];
	uint64_t total = 0, want = 1;
	struct ab_journal_stats st;

	o.ack_every = 100;
	o.spares = 2;
	o.queue_bytes = 64u << 10;  /* small: appenders wait for room */
	o.max_record = 8192;
	j = jopen(f, &o, NULL);
	memset(seen, 0, sizeof seen);
	assert_int_equal(ab_journal_reader_open(j, "dispatch", &r, f->err, sizeof f->err), 0);
	for (int i = 0; i < PRODUCERS; i++) {
		p[i] = (struct prod){ .j = j, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, producer, &p[i]), 0);
	}
	while (total < (uint64_t)PRODUCERS * PER_PRODUCER) {
		int n = ab_journal_read(r, out, 64, 2000, f->err, sizeof f->err);

		if (n < 0)
			fail_msg("read: %s", f->err);
		if (n == 0)
			fail_msg("no record within 2 s after %llu", (unsigned long long)total);
		for (int i = 0; i < n; i++) {
			int id;
			uint64_t k;

			assert_int_equal(out[i].seq, want);
			want++;
			assert_true(out[i].len >= 12);
			memcpy(&id, out[i].data, sizeof id);
			memcpy(&k, (const uint8_t *)out[i].data + 4, 8);
			assert_true(id >= 0 && id < PRODUCERS && k < PER_PRODUCER);
			assert_int_equal(out[i].len, plen(id, k));
			assert_int_equal(seen[id][k], 0);
			seen[id][k] = 1;
		}
		total += (uint64_t)n;
		assert_int_equal(ab_journal_ack(r, out[n - 1].seq, f->err, sizeof f->err), 0);
	}
	for (int i = 0; i < PRODUCERS; i++) {
		pthread_join(th[i], NULL);
		if (p[i].rc != 0)
			fail_msg("producer %d: %s", i, p[i].err);
	}
	for (int i = 0; i < PRODUCERS; i++)
		for (int k = 0; k < PER_PRODUCER; k++)
			assert_int_equal(seen[i][k], 1);
	ab_journal_get_stats(j, &st);
	assert_int_equal(st.records, (uint64_t)PRODUCERS * PER_PRODUCER);
	assert_true(st.batches <= st.records);
	/* consumed segments went away while writing */
	assert_int_equal(ab_journal_reader_flush(r, f->err, sizeof f->err), 0);
	ab_journal_get_stats(j, &st);
	assert_true(st.first_segment > 0);
	assert_true(st.spares <= 2);
	ab_journal_reader_close(r);
	ab_journal_close(j);
}

/* ---- submit ------------------------------------------------------------- */

struct sub {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int calls, bad;
	uint64_t next_first;
};

static void sub_done(void *arg, uint64_t first, size_t n, int status)
{
	struct sub *s = arg;

	pthread_mutex_lock(&s->mu);
	if (status != 0 || first != s->next_first)
		s->bad++;
	s->next_first = first + n;
	s->calls++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void test_submit(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal *j = jopen(f, &o, NULL);
	struct sub s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 1 };
	struct ab_journal_reader *r;
	uint8_t buf[3][8192];
	int queued = 0;

	for (uint64_t k = 0; k < 300; k += 3) {
		struct ab_journal_rec recs[3];
		uint64_t first;
		int rc;

		for (int i = 0; i < 3; i++) {
			recs[i].len = len_of(k + (uint64_t)i);
			fill(buf[i], recs[i].len, 0, k + (uint64_t)i);
			recs[i].data = buf[i];
		}
		while ((rc = ab_journal_submit(j, recs, 3, sub_done, &s, &first, f->err,
				sizeof f->err)) == AB_JOURNAL_AGAIN)
			usleep(1000);
		if (rc != 0)
			fail_msg("submit: %s", f->err);
		assert_int_equal(first, k + 1);
		queued++;
	}
	pthread_mutex_lock(&s.mu);
	while (s.calls < queued)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.next_first, 301);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, r, 1, 300, 64), 300);
	ab_journal_reader_close(r);
	ab_journal_close(j);
}

/* ---- positions ---------------------------------------------------------- */

static void test_positions_survive_reopen(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal *j;
	struct ab_journal_reader *r;

	o.ack_every = 1000000;
	o.ack_ms = 60000;
	j = jopen(f, &o, NULL);
	append_range(f, j, 0, 400);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, r, 1, 400, 40), 400);
	/* an ack in the middle of a read batch, persisted explicitly */
	assert_int_equal(ab_journal_ack(r, 123, f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_reader_flush(r, f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_ack(r, 401, f->err, sizeof f->err), -1);  /* not read */
	ab_journal_reader_close(r);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, r, 124, 400 - 123, 64), 400 - 123);
	/* an ack at the end of a read batch, persisted by close */
	assert_int_equal(ab_journal_ack(r, 400, f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_ack(r, 200, f->err, sizeof f->err), 0);  /* older: no-op */
	ab_journal_reader_close(r);
	ab_journal_close(j);

	j = jopen(f, &o, NULL);
	append_range(f, j, 400, 450);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, r, 401, 50, 64), 50);
	ab_journal_reader_close(r);
	ab_journal_close(j);
}

/* ---- reclamation -------------------------------------------------------- */

static void name_count(void *arg, const char *name)
{
	(void)name;
	(*(int *)arg)++;
}

static void test_reclaim(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal *j;
	struct ab_journal_reader *a, *b;
	struct ab_journal_stats st;
	int names = 0;

	o.spares = 1;
	o.ack_every = 1;
	j = jopen(f, &o, NULL);
	assert_int_equal(ab_journal_reader_open(j, "a", &a, f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_reader_open(j, "b", &b, f->err, sizeof f->err), 0);
	append_range(f, j, 0, 400);  /* ~1.2 MB: ~19 segments */
	ab_journal_get_stats(j, &st);
	assert_true(st.last_segment >= 15);

	/* a consumes everything, b a third: only segments below b go */
	assert_int_equal(read_check(f, a, 1, 400, 64), 400);
	assert_int_equal(ab_journal_ack(a, 400, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, b, 1, 130, 10), 130);
	assert_int_equal(ab_journal_ack(b, 130, f->err, sizeof f->err), 0);
	ab_journal_get_stats(j, &st);
	assert_true(st.first_segment >= 4);
	assert_true(st.first_segment < 8);
	for (uint64_t k = 0; k < st.first_segment; k++)
		assert_false(seg_exists(f->dir, k));
	for (uint64_t k = st.first_segment; k <= st.last_segment; k++)
		assert_true(seg_exists(f->dir, k));
	assert_int_equal(count_files(f->dir, NULL, "^spare\\."), 1);
	assert_int_equal(st.spares, 1);

	/* b cannot be dropped while open; then dropping it frees the rest */
	assert_int_equal(ab_journal_reader_drop(j, "b", f->err, sizeof f->err), -1);
	assert_int_equal(ab_journal_reader_names(j, name_count, &names, f->err, sizeof f->err), 2);
	ab_journal_reader_close(b);
	assert_int_equal(ab_journal_reader_drop(j, "b", f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_reader_drop(j, "b", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "no reader"));
	ab_journal_get_stats(j, &st);
	assert_int_equal(st.first_segment, st.last_segment);
	assert_int_equal(count_files(f->dir, ".seg$", NULL), 1);

	/* the spare becomes the next segment, and the data reads back */
	{
		uint64_t k = 400, seg = st.last_segment;
		struct ab_journal_recovery rec;

		while (st.last_segment == seg) {
			append_range(f, j, k, k + 1);
			k++;
			ab_journal_get_stats(j, &st);
		}
		append_range(f, j, k, k + 3);
		k += 3;
		assert_int_equal(count_files(f->dir, NULL, "^spare\\."), 0);
		assert_int_equal(read_check(f, a, 401, k - 400, 64), k - 400);
		ab_journal_reader_close(a);
		ab_journal_close(j);
		/* the reused segment holds old records after the new ones: a
		 * clean reopen still finds the end (the zero frame), cuts nothing */
		j = jopen(f, &o, &rec);
		assert_int_equal(rec.segment, seg + 1);
		assert_false(rec.torn);
		assert_int_equal(rec.cut_bytes, 0);
		assert_int_equal(rec.next_seq, k + 1);
		ab_journal_close(j);
	}
}

/* ---- torn tails --------------------------------------------------------- */

#define TORN_LEN 100u
#define TORN_FRAME (16u + TORN_LEN)

static void append_fixed(struct fx *f, struct ab_journal *j, uint64_t from, uint64_t to)
{
	uint8_t buf[TORN_LEN];

	for (uint64_t k = from; k < to; k++) {
		struct ab_journal_rec rec = { buf, TORN_LEN, 0 };

		fill(buf, TORN_LEN, 1, k);
		if (ab_journal_append(j, &rec, 1, NULL, f->err, sizeof f->err) != 0)
			fail_msg("append: %s", f->err);
	}
}

/* Opens a copy of the journal after `damage` and checks what recovery cut
 * and that the journal goes on from there. */
static void torn_case(struct fx *f, const char *what, uint64_t expect_next, bool expect_torn)
{
	struct ab_journal_opts o = small_opts();
	struct ab_journal_recovery rec;
	struct ab_journal *j;
	struct ab_journal_reader *r;
	struct ab_journal_rec out[64];
	uint64_t want = 1;
	int n;

	j = jopen(f, &o, &rec);
	if (rec.next_seq != expect_next || rec.torn != expect_torn)
		fail_msg("%s: next %llu torn %d cut %llu", what, (unsigned long long)rec.next_seq,
			rec.torn, (unsigned long long)rec.cut_bytes);
	if (expect_torn)
		assert_true(rec.cut_bytes > 0);
	assert_string_equal(rec.file, "00000000000000000000.seg");
	append_fixed(f, j, expect_next - 1, expect_next + 9);
	assert_int_equal(ab_journal_reader_open(j, "v", &r, f->err, sizeof f->err), 0);
	while ((n = ab_journal_read(r, out, 64, 0, f->err, sizeof f->err)) > 0)
		for (int i = 0; i < n; i++) {
			assert_int_equal(out[i].seq, want);
			assert_true(same(&out[i], TORN_LEN, 1, want - 1));
			want++;
		}
	assert_int_equal(n, 0);
	assert_int_equal(want, expect_next + 10);
	ab_journal_reader_close(r);
	ab_journal_close(j);
	/* and the second recovery is clean */
	j = jopen(f, &o, &rec);
	assert_false(rec.torn);
	assert_int_equal(rec.next_seq, expect_next + 10);
	ab_journal_close(j);
}

static void damage(const char *dir, uint64_t off, const void *bytes, size_t n, off_t trunc)
{
	char path[512];
	int fd;

	snprintf(path, sizeof path, "%s/00000000000000000000.seg", dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	if (n)
		assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
	if (trunc >= 0)
		assert_int_equal(ftruncate(fd, trunc), 0);
	close(fd);
}

static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal *j;
	char orig[600], cmd[1400];
	uint8_t junk[300];
	uint64_t last = 32 + 49 * TORN_FRAME;  /* offset of record 50 */

	j = jopen(f, &o, NULL);
	append_fixed(f, j, 0, 50);
	ab_journal_close(j);
	snprintf(orig, sizeof orig, "%s.orig", f->dir);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", orig, f->dir, orig);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", f->dir, orig, f->dir);

	/* one byte of the last record's payload flipped: record 50 cut */
	damage(f->dir, last + 16 + 40, "\x5a", 1, -1);
	torn_case(f, "flipped byte", 50, true);

	/* the file cut in the middle of the last record */
	assert_int_equal(system(cmd), 0);
	damage(f->dir, 0, NULL, 0, (off_t)(last + 16 + 20));
	torn_case(f, "truncated", 50, true);

	/* garbage after the last record (a torn batch): all 50 stay */
	assert_int_equal(system(cmd), 0);
	fill(junk, sizeof junk, 9, 9);
	damage(f->dir, last + TORN_FRAME, junk, sizeof junk, -1);
	torn_case(f, "garbage", 51, true);

	/* the header of a later record damaged: everything from it is cut */
	assert_int_equal(system(cmd), 0);
	damage(f->dir, 32 + 30 * TORN_FRAME, "\x01\x02\x03", 3, -1);
	torn_case(f, "header", 31, true);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", orig);
	assert_int_equal(system(cmd), 0);
}

/* Reads everything with a fresh reader: 1 .. to-1 with TORN_LEN content. */
static void read_fixed_all(struct fx *f, struct ab_journal *j, const char *name, uint64_t to)
{
	struct ab_journal_reader *r;
	struct ab_journal_rec out[64];
	uint64_t want = 1;
	int n;

	assert_int_equal(ab_journal_reader_open(j, name, &r, f->err, sizeof f->err), 0);
	while ((n = ab_journal_read(r, out, 64, 0, f->err, sizeof f->err)) > 0)
		for (int i = 0; i < n; i++) {
			assert_int_equal(out[i].seq, want);
			assert_true(same(&out[i], TORN_LEN, 1, want - 1));
			want++;
		}
	if (n < 0)
		fail_msg("read: %s", f->err);
	assert_int_equal(want, to);
	ab_journal_reader_close(r);
}

/* A crash at a segment roll: segment 0 holds records 1..564 and its EOS
 * (synced), segment 1 the rest.  Its header lost: recovery continues from
 * segment 0's EOS; segment 1 never created: the same. */
static void test_torn_roll(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal_recovery rec;
	struct ab_journal *j;
	char seg1[600], orig[600], cmd[1400];

	j = jopen(f, &o, NULL);
	append_fixed(f, j, 0, 570);
	ab_journal_close(j);
	snprintf(seg1, sizeof seg1, "%s/00000000000000000001.seg", f->dir);
	snprintf(orig, sizeof orig, "%s.orig", f->dir);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", orig, f->dir, orig);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", f->dir, orig, f->dir);

	{
		int fd = open(seg1, O_RDWR);

		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "\x01\x02", 2, 12), 2);
		close(fd);
	}
	j = jopen(f, &o, &rec);
	assert_true(rec.torn);
	assert_int_equal(rec.next_seq, 565);
	assert_int_equal(rec.segment, 1);
	append_fixed(f, j, 564, 580);
	read_fixed_all(f, j, "v", 581);
	ab_journal_close(j);

	assert_int_equal(system(cmd), 0);
	assert_int_equal(unlink(seg1), 0);
	j = jopen(f, &o, &rec);
	assert_false(rec.torn);
	assert_int_equal(rec.next_seq, 565);
	assert_int_equal(rec.segment, 0);
	read_fixed_all(f, j, "v", 565);
	append_fixed(f, j, 564, 580);
	read_fixed_all(f, j, "w", 581);
	ab_journal_close(j);
	j = jopen(f, &o, &rec);
	assert_false(rec.torn);
	assert_int_equal(rec.next_seq, 581);
	ab_journal_close(j);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", orig);
	assert_int_equal(system(cmd), 0);
}

/* ---- limits ------------------------------------------------------------- */

static void test_full(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal *j;
	struct ab_journal_reader *r;
	struct ab_journal_stats st;
	uint8_t buf[4000];
	struct ab_journal_rec rec = { buf, sizeof buf, 0 };
	struct ab_journal_rec out[64];
	int rc = 0, n;
	uint64_t ok = 0;

	o.max_bytes = 4ull * SEG;
	o.spares = AB_JOURNAL_NO_SPARES;
	j = jopen(f, &o, NULL);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), 0);
	memset(buf, 'x', sizeof buf);
	while (ok < 1000 && (rc = ab_journal_append(j, &rec, 1, NULL, f->err, sizeof f->err)) == 0)
		ok++;
	assert_int_equal(rc, AB_JOURNAL_FULL);
	assert_non_null(strstr(f->err, "full"));
	assert_true(ok > 40 && ok < 4 * SEG / 4000);
	ab_journal_get_stats(j, &st);
	assert_int_equal(st.durable_seq, ok);
	assert_int_equal(st.next_seq, ok + 1);  /* nothing was taken */
	/* still full until the reader consumes */
	assert_int_equal(ab_journal_append(j, &rec, 1, NULL, f->err, sizeof f->err),
		AB_JOURNAL_FULL);
	while ((n = ab_journal_read(r, out, 64, 0, f->err, sizeof f->err)) > 0)
		assert_int_equal(ab_journal_ack(r, out[n - 1].seq, f->err, sizeof f->err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ab_journal_reader_flush(r, f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_append(j, &rec, 1, NULL, f->err, sizeof f->err), 0);
	assert_true(count_files(f->dir, ".seg$", NULL) <= 4);
	ab_journal_reader_close(r);
	ab_journal_close(j);
}

static void test_too_big(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal *j = jopen(f, &o, NULL);
	static uint8_t buf[8193];
	struct ab_journal_rec recs[2] = { { buf, 10, 0 }, { buf, 8193, 0 } };
	struct ab_journal_stats st;
	uint64_t first = 0;

	assert_int_equal(ab_journal_append(j, recs, 2, NULL, f->err, sizeof f->err),
		AB_JOURNAL_TOOBIG);
	assert_non_null(strstr(f->err, "max_record"));
	recs[1].len = 0;
	assert_int_equal(ab_journal_append(j, recs, 2, NULL, f->err, sizeof f->err), -1);
	ab_journal_get_stats(j, &st);
	assert_int_equal(st.next_seq, 1);
	recs[1].len = 8192;
	assert_int_equal(ab_journal_append(j, recs, 2, &first, f->err, sizeof f->err), 0);
	assert_int_equal(first, 1);
	ab_journal_close(j);
	/* a max_record that does not fit a segment is refused */
	o.max_record = SEG;
	assert_int_equal(ab_journal_open(&j, f->dir, &o, NULL, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "max_record"));
}

/* ---- ledger ------------------------------------------------------------- */

static void test_ledger_slots(void **state)
{
	struct fx *f = *state;
	struct ab_journal_opts o = small_opts();
	struct ab_journal *j;
	struct ab_journal_reader *r;
	char path[512];
	int fd;

	o.ack_every = 1000000;
	o.ack_ms = 60000;
	j = jopen(f, &o, NULL);
	append_range(f, j, 0, 60);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), 0);
	/* reads of 10: each ack is exact */
	assert_int_equal(read_check(f, r, 1, 30, 10), 30);
	assert_int_equal(ab_journal_ack(r, 10, f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_reader_flush(r, f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_ack(r, 20, f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_reader_flush(r, f->err, sizeof f->err), 0);
	ab_journal_reader_close(r);

	/* the newer slot (generation 3: slot 1) damaged: the older one (after 10) */
	snprintf(path, sizeof path, "%s/ledger.r", f->dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff", 1, 32 + 20), 1);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, r, 11, 50, 64), 50);
	ab_journal_reader_close(r);  /* nothing acked: the ledger is not rewritten */

	/* both damaged: refused, with the way out in the message */
	assert_int_equal(pwrite(fd, "\xff", 1, 20), 1);
	close(fd);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "ledger.r"));
	assert_non_null(strstr(f->err, "both slots"));
	assert_int_equal(ab_journal_reader_drop(j, "r", f->err, sizeof f->err), 0);
	assert_int_equal(ab_journal_reader_open(j, "r", &r, f->err, sizeof f->err), 0);
	assert_int_equal(read_check(f, r, 1, 60, 64), 60);
	ab_journal_reader_close(r);
	ab_journal_close(j);
}

/* ---- crash -------------------------------------------------------------- */

#define CRASH_RUNS 20
#define CRASH_THREADS 2

struct crash_msg {
	uint64_t first;  /* first sequence number of an acknowledged append */
	uint64_t k0;     /* its first record's key */
	uint32_t n;
	uint32_t tid;
};

static uint32_t clen(uint64_t tid, uint64_t k)
{
	return 20 + (uint32_t)((k * 7919 + tid * 31) % 1500);
}

static struct ab_journal_opts crash_opts(void)
{
	struct ab_journal_opts o = small_opts();

	o.segment_size = 128u << 10;
	o.write_chunk = 512;  /* so that a kill lands inside records */
	o.ack_every = 200;
	o.ack_ms = 5;
	o.spares = 2;
	return o;
}

struct crash_prod {
	struct ab_journal *j;
	int wfd;
	uint32_t tid;
	uint64_t kbase;
};

static void *crash_producer(void *arg)
{
	struct crash_prod *p = arg;
	static __thread uint8_t bufs[40][1600];
	struct ab_journal_rec recs[40];
	char err[256];
	uint64_t k = p->kbase;

	for (unsigned round = 0;; round++) {
		size_t n = 1 + (size_t)((k * 13 + round) % 40);
		struct crash_msg m;

		for (size_t i = 0; i < n; i++) {
			recs[i].len = clen(p->tid, k + i);
			fill(bufs[i], recs[i].len, p->tid + 100, k + i);
			recs[i].data = bufs[i];
		}
		if (ab_journal_append(p->j, recs, n, &m.first, err, sizeof err) != 0)
			_exit(3);
		m.k0 = k;
		m.n = (uint32_t)n;
		m.tid = p->tid;
		if (write(p->wfd, &m, sizeof m) != (ssize_t)sizeof m)
			_exit(4);
		k += n;
	}
	return NULL;
}

static void crash_child(const char *dir, int wfd, int run)
{
	struct ab_journal_opts o = crash_opts();
	struct ab_journal *j;
	struct ab_journal_reader *r;
	struct crash_prod p[CRASH_THREADS];
	pthread_t th;
	struct ab_journal_rec out[100];
	char err[512];

	if (ab_journal_open(&j, dir, &o, NULL, err, sizeof err) != 0 ||
		ab_journal_reader_open(j, "consumer", &r, err, sizeof err) != 0) {
		fprintf(stderr, "child: %s\n", err);
		_exit(2);
	}
	if (write(wfd, "R", 1) != 1)  /* before any producer writes */
		_exit(2);
	for (uint32_t i = 0; i < CRASH_THREADS; i++) {
		p[i] = (struct crash_prod){ j, wfd, i, (uint64_t)run << 32 };
		if (pthread_create(&th, NULL, crash_producer, &p[i]) != 0)
			_exit(2);
	}
	/* consume about half of it, so segments are reclaimed and recycled */
	for (unsigned i = 0;; i++) {
		int n = ab_journal_read(r, out, i % 2 ? 100 : 20, 20, err, sizeof err);

		if (n < 0) {
			fprintf(stderr, "child read: %s\n", err);
			_exit(5);
		}
		if (n > 0 && ab_journal_ack(r, out[n - 1].seq, err, sizeof err) != 0)
			_exit(6);
		usleep(2000);
	}
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Simulated power loss: damages bytes that were never fdatasynced, after
 * the record `durable` in the last segment (a segment is synced whole
 * before the next one gets data, so nothing else can be unsynced).  1 if
 * it wrote something. */
static int power_loss(const char *dir, uint64_t durable)
{
	static uint8_t buf[128u << 10];
	char path[600], cmd[700];
	unsigned long long idx = 0;
	uint64_t p, size;
	uint8_t junk[600];
	size_t jl;
	FILE *ls;
	int fd, ok = 0;

	snprintf(cmd, sizeof cmd, "ls '%s' | grep '[.]seg$' | sort | tail -n 1", dir);
	ls = popen(cmd, "r");
	if (!ls)
		return 0;
	if (fscanf(ls, "%llu", &idx) != 1) {
		pclose(ls);
		return 0;
	}
	pclose(ls);
	snprintf(path, sizeof path, "%s/%020llu.seg", dir, idx);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return 0;
	size = (uint64_t)read(fd, buf, sizeof buf);
	p = 0;
	if (size >= 32 && le64(buf + 8) == idx && le64(buf + 16) <= durable) {
		for (p = 32; p + 16 <= size;) {
			uint32_t len = (uint32_t)le64(buf + p);

			if (len == 0xFFFFFFFFu || len == 0) {
				p = len ? size : p;  /* sealed: nothing unsynced here */
				break;
			}
			if (le64(buf + p + 8) > durable)
				break;
			p += 16u + len;
		}
	}
	p += (uint64_t)(rand() % 3000);
	jl = 1 + (size_t)(rand() % 600);
	for (size_t i = 0; i < jl; i++)
		junk[i] = (uint8_t)rand();
	if (p < size) {
		if (p + jl > size)
			jl = (size_t)(size - p);
		ok = pwrite(fd, junk, jl, (off_t)p) == (ssize_t)jl;
	}
	close(fd);
	return ok;
}

/* The consumer's persisted next sequence number (the newer slot). */
static uint64_t ledger_next(const char *dir)
{
	char path[600];
	uint8_t b[64];
	uint64_t gen = 0, next = 0;
	int fd;

	snprintf(path, sizeof path, "%s/ledger.consumer", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (read(fd, b, sizeof b) == (ssize_t)sizeof b)
		for (int i = 0; i < 2; i++)
			if (le64(b + 32 * i + 8) > gen) {
				gen = le64(b + 32 * i + 8);
				next = le64(b + 32 * i + 24);
			}
	close(fd);
	return next;
}

struct acked {
	uint64_t k;
	uint32_t tid;
	uint8_t set;
};

static void test_crash(void **state)
{
	struct fx *f = *state;
	struct acked *acked = NULL;
	size_t cap = 0;
	uint64_t max_acked = 0, torn_runs = 0, checked = 0, damaged_runs = 0;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();

	print_message("crash test seed %u\n", seed);
	srand(seed);
	for (int run = 1; run <= CRASH_RUNS; run++) {
		int pfd[2];
		pid_t pid;
		char ready;
		struct crash_msg m;
		int st;
		struct ab_journal_opts o = crash_opts();
		struct ab_journal_recovery rec;
		struct ab_journal *j;
		struct ab_journal_reader *r;
		struct ab_journal_rec out[64];
		uint64_t want = 0, last = 0;
		int n;

		assert_int_equal(pipe(pfd), 0);
		fcntl(pfd[0], F_SETPIPE_SZ, 1 << 20);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			crash_child(f->dir, pfd[1], run);
		}
		close(pfd[1]);
		assert_int_equal(read(pfd[0], &ready, 1), 1);
		usleep(5000 + (useconds_t)(rand() % 60000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFSIGNALED(st))
			fail_msg("run %d: the child exited with %d", run, WEXITSTATUS(st));
		while (read(pfd[0], &m, sizeof m) == (ssize_t)sizeof m) {
			if (m.first + m.n > cap) {
				size_t nc = (size_t)(m.first + m.n) * 2;

				acked = realloc(acked, nc * sizeof *acked);
				assert_non_null(acked);
				memset(acked + cap, 0, (nc - cap) * sizeof *acked);
				cap = nc;
			}
			for (uint32_t i = 0; i < m.n; i++)
				acked[m.first + i] = (struct acked){ m.k0 + i, m.tid, 1 };
			if (m.first + m.n - 1 > max_acked)
				max_acked = m.first + m.n - 1;
		}
		close(pfd[0]);
		/* every other run, a power loss: damage what was never synced
		 * (after the last record acknowledged to a producer or read by
		 * the consumer, whose position is durable) */
		if (run % 2 == 0) {
			uint64_t d = ledger_next(f->dir);

			d = d ? d - 1 : 0;
			damaged_runs += (uint64_t)power_loss(f->dir, d > max_acked ? d : max_acked);
		}

		/* recover, then read from the consumer's position to the end */
		if (ab_journal_open(&j, f->dir, &o, &rec, f->err, sizeof f->err) != 0)
			fail_msg("run %d: recovery: %s", run, f->err);
		torn_runs += rec.torn;
		if (rec.next_seq <= max_acked)
			fail_msg("run %d: acknowledged %llu, recovered up to %llu", run,
				(unsigned long long)max_acked, (unsigned long long)rec.next_seq - 1);
		assert_int_equal(ab_journal_reader_open(j, "consumer", &r, f->err, sizeof f->err),
			0);
		while ((n = ab_journal_read(r, out, 64, 0, f->err, sizeof f->err)) > 0)
			for (int i = 0; i < n; i++) {
				uint64_t s = out[i].seq;

				if (want && s != want)
					fail_msg("run %d: %llu after %llu", run, (unsigned long long)s,
						(unsigned long long)want - 1);
				want = s + 1;
				last = s;
				if (s < cap && acked[s].set) {
					if (!same(&out[i], clen(acked[s].tid, acked[s].k),
						    acked[s].tid + 100, acked[s].k))
						fail_msg("run %d: record %llu damaged", run,
							(unsigned long long)s);
					checked++;
				}
			}
		if (n < 0)
			fail_msg("run %d: read: %s", run, f->err);
		if (want && last + 1 != rec.next_seq)
			fail_msg("run %d: read up to %llu, recovered up to %llu", run,
				(unsigned long long)last, (unsigned long long)rec.next_seq - 1);
		ab_journal_reader_close(r);
		ab_journal_close(j);
	}
	print_message("crash test: %d runs, %llu acknowledged, %llu checked after recovery, "
		      "power loss simulated in %llu runs, torn tail cut in %llu runs\n",
		CRASH_RUNS, (unsigned long long)max_acked, (unsigned long long)checked,
		(unsigned long long)damaged_runs, (unsigned long long)torn_runs);
	assert_true(max_acked > 0);
	assert_true(checked > 0);
	free(acked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_producers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_positions_survive_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_roll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ledger_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
	};

	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
