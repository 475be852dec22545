/* crash_test.c - kill -9 a journal writer mid-batch, recover, verify.
 *
 * Each run forks a child that opens the journal in DIR (recovering what
 * the previous child left), appends batches of 1..400 records of
 * variable size (50..999 bytes, content a function of the sequence
 * number) with its writes split in 512-byte pieces so that the kill lands
 * inside records, and after every acknowledged batch (jnl_append returned:
 * fdatasync done) reports the batch's last seq and end position to the
 * parent through a pipe.  The child also runs a reader that persists its
 * ledger and reclaims consumed segments (recycling them as spares in the
 * recycle mode, so stale frames of old segments are met by the scan).
 * The parent SIGKILLs the child after 20..150 ms, then (every other run)
 * simulates power loss by writing 1..600 random bytes somewhere in the
 * never-synced tail (after the acknowledged end, in the last segment), reopens (recovery: torn-record detection by
 * CRC32C and cut), and verifies that every record from the reader's
 * ledger position to the last acknowledged one is present, in sequence
 * and intact.  The journal is kept across runs, so each run also
 * recovers a journal that has been recovered before.
 *
 *   crash_test DIR [RUNS] [grow|fallocate|recycle]   (default 50, grow)
 * Exit status 0 if every run verified. */
#include "common.h"
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEG (1ull << 20) /* 1 MiB segments: many rolls per run */

static uint32_t len_of(uint64_t seq) { return 50 + (uint32_t)((seq * 7919) % 950); }

struct msg {
	uint64_t seq, pos;
};

static enum jnl_prealloc mode;

static int child(const char *dir, int wfd, unsigned seed)
{
	struct jnl_opts o = {.dir = dir, .seg_size = SEG, .prealloc = mode, .write_chunk = 512};
	struct jnl *j;
	int torn;
	uint64_t cut;
	if (jnl_open(&j, &o, &torn, &cut) < 0)
		return 2;
	if (mode == JNL_RECYCLE)
		jnl_prewrite(j, 2);
	struct jnl_reader *r;
	if (jnl_reader_open(&r, dir, SEG, "c") < 0)
		return 2;
	if (write(wfd, "R", 1) != 1)
		return 2;
	srand(seed);
	uint8_t *buf = malloc(400 * (REC_HDR + REC_MAX));
	uint64_t since = 0;
	for (;;) {
		size_t n = 1 + (size_t)(rand() % 400), bytes = 0;
		uint64_t seq = jnl_next_seq(j);
		for (size_t i = 0; i < n; i++, seq++) {
			uint32_t l = len_of(seq);
			payload_fill(buf + bytes + REC_HDR, l, seq);
			bytes += frame_record(buf + bytes, seq, buf + bytes + REC_HDR, l);
		}
		if (jnl_append(j, buf, bytes, n) < 0)
			return 3;
		struct msg m = {seq - 1, jnl_end_pos(j)};
		if (write(wfd, &m, sizeof m) != (ssize_t)sizeof m)
			return 3;
		/* consume about half of what is there, ack every ~300 records */
		const uint8_t *p;
		uint32_t l;
		uint64_t s;
		for (int k = rand() % 300; k > 0; k--) {
			int rc = jnl_reader_next(r, jnl_end_pos(j), &p, &l, &s);
			if (rc < 0)
				return 4;
			if (rc == 0)
				break;
			if (!payload_check(p, l, s))
				return 4;
			if (++since >= 300) {
				jnl_reader_ack(r);
				jnl_reclaim(dir, SEG, jnl_reader_pos(r), mode == JNL_RECYCLE ? 2 : 0);
				since = 0;
			}
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: crash_test DIR [RUNS] [grow|fallocate|recycle]\n");
		return 64;
	}
	const char *dir = argv[1];
	int runs = argc > 2 ? atoi(argv[2]) : 50;
	const char *ms = argc > 3 ? argv[3] : "grow";
	mode = !strcmp(ms, "fallocate") ? JNL_FALLOCATE : !strcmp(ms, "recycle") ? JNL_RECYCLE : JNL_GROW;
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	srand((unsigned)getpid());
	int failures = 0, torn_runs = 0, injected = 0, extra_runs = 0;
	uint64_t total_acked = 0, total_cut = 0;
	for (int run = 1; run <= runs; run++) {
		int pfd[2];
		if (pipe(pfd) < 0)
			return 1;
		fcntl(pfd[0], F_SETPIPE_SZ, 1 << 20);
		pid_t pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			_exit(child(dir, pfd[1], (unsigned)rand() + (unsigned)run));
		}
		close(pfd[1]);
		char ready;
		if (read(pfd[0], &ready, 1) != 1) {
			fprintf(stderr, "run %d: child did not start\n", run);
			return 1;
		}
		usleep(20000 + (useconds_t)(rand() % 130000));
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		if (!WIFSIGNALED(st)) {
			fprintf(stderr, "run %d: child exited early (%d)\n", run, WEXITSTATUS(st));
			failures++;
			close(pfd[0]);
			continue;
		}
		struct msg m = {0, 0}, t;
		uint64_t batches = 0;
		while (read(pfd[0], &t, sizeof t) == (ssize_t)sizeof t) {
			m = t;
			batches++;
		}
		close(pfd[0]);
		/* Simulated power loss: damage bytes that were never fdatasynced, i.e.
		 * after the acknowledged end, in the last segment (a segment is
		 * synced whole before the next one gets data).  If the writer had
		 * rolled, the damage may hit the new segment's header. */
		if (run % 2 == 0 && m.pos) {
			int64_t last = jnl_last_segment(dir);
			uint64_t idx = (uint64_t)last, base = m.pos / SEG == idx ? m.pos % SEG : 0;
			uint64_t at = base + (uint64_t)(rand() % 3000);
			if (last >= 0 && at < SEG) {
				char path[4200];
				snprintf(path, sizeof path, "%s/%020llu.seg", dir, (unsigned long long)idx);
				int fd = open(path, O_RDWR);
				uint8_t junk[600];
				size_t jl = 1 + (size_t)(rand() % 600);
				for (size_t i = 0; i < jl; i++)
					junk[i] = (uint8_t)rand();
				if (at + jl > SEG)
					jl = SEG - at;
				if (fd >= 0 && pwrite(fd, junk, jl, (off_t)at) == (ssize_t)jl)
					injected++;
				if (fd >= 0)
					close(fd);
			}
		}
		/* recover */
		struct jnl_opts o = {.dir = dir, .seg_size = SEG, .prealloc = mode};
		struct jnl *j;
		int torn;
		uint64_t cut;
		if (jnl_open(&j, &o, &torn, &cut) < 0) {
			fprintf(stderr, "run %d: recovery failed\n", run);
			failures++;
			continue;
		}
		torn_runs += torn;
		total_cut += cut;
		uint64_t next = jnl_next_seq(j);
		jnl_close(j);
		/* verify: from the reader's ledger (or the first segment) to the end */
		struct jnl_reader *r;
		if (jnl_reader_open(&r, dir, SEG, "c") < 0)
			return 1;
		uint64_t ledger_pos = jnl_reader_pos(r);
		int64_t first = jnl_first_segment(dir);
		if (first >= 0 && (uint64_t)first * SEG > ledger_pos) {
			fprintf(stderr, "run %d: segment below the ledger position was reclaimed\n", run);
			failures++;
		}
		const uint8_t *p;
		uint32_t l;
		uint64_t s, prev = 0, count = 0;
		int rc, bad = 0;
		while ((rc = jnl_reader_next(r, UINT64_MAX, &p, &l, &s)) == 1) {
			if ((prev && s != prev + 1) || l != len_of(s) || !payload_check(p, l, s)) {
				bad = 1;
				break;
			}
			prev = s;
			count++;
		}
		jnl_reader_close(r);
		if (rc < 0 || bad || (m.seq && prev < m.seq) || next != (prev ? prev + 1 : next)) {
			fprintf(stderr,
				"run %d: FAIL rc=%d bad=%d acked=%llu last=%llu next=%llu\n", run, rc,
				bad, (unsigned long long)m.seq, (unsigned long long)prev,
				(unsigned long long)next);
			failures++;
		}
		if (prev > m.seq)
			extra_runs++; /* complete but unacknowledged records kept: fine */
		total_acked += m.seq;
		printf("run %2d: %4llu batches acked, last acked seq %8llu, recovered last %8llu, "
		       "verified %7llu records from the ledger on, torn tail %s, cut %llu bytes\n",
		       run, (unsigned long long)batches, (unsigned long long)m.seq,
		       (unsigned long long)prev, (unsigned long long)count, torn ? "yes" : "no",
		       (unsigned long long)cut);
	}
	printf("crash_test %s: %d runs, %d failures; torn tail detected and cut in %d runs; "
	       "damage injected after the acked end in %d runs; unacked complete records kept in "
	       "%d runs\n",
	       ms, runs, failures, torn_runs, injected, extra_runs);
	return failures ? 1 : 0;
}
