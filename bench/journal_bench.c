/*
 * journal_bench.c - throughput and acknowledgement latency of the journal
 * (src/store/journal.c) as the daemon would use it: P producer threads
 * append records of S bytes, a reader thread consumes and acks them (so
 * segments are reclaimed and recycled as in production), for T seconds.
 *
 * Modes, per producer:
 *   append B   ab_journal_append of B records at a time, waiting for each
 *              (B = 1: like `alertbridge send`; B = 64: a listener handing
 *              over one TCP read at a time);
 *   submit B W ab_journal_submit of B records at a time with up to W
 *              records in flight (the non-blocking ingest path).
 * Latency = the call (append) or submit to its completion callback.
 *
 * Usage: journal_bench [-d DIR] [-t SECS] [-s SIZES] [-p PRODUCERS] [-m MODES] [-r RATE]
 *   -d DIR        journal directory, emptied before each case
 *                 (default /var/tmp/ab_journal_bench, removed at the end)
 *   -t SECS       seconds per case (default 2)
 *   -s 200,750    record sizes          -p 1,2,4   producer counts
 *   -m LIST       modes: append1,append64,submit (default all three)
 *   -r RATE       offered load in records/s over all producers (default 0: as
 *                 fast as they can), paced per batch
 * Prints one table row per case: records/s, MB/s, p50/p99/max latency,
 * records per commit, fdatasyncs and their mean, and the load average.
 * Diagnostics: the journal's messages on stderr, exit 1.  Not a test.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/journal.h"

#define HIST_US 200000u  /* 1 us buckets up to 200 ms, then one overflow bucket */

struct hist {
	uint32_t *b;
	uint64_t n, max_us;
};

struct cfg {
	const char *dir;
	double secs;
	uint32_t size;
	int producers;
	int submit;
	uint32_t batch, window;
	double rate;
};

struct prod {
	const struct cfg *c;
	struct ab_journal *j;
	struct hist h;
	uint64_t records;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint32_t inflight;
	int failed;
};

static atomic_int stop_flag;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void hist_add(struct hist *h, uint64_t ns, uint64_t weight)
{
	uint64_t us = ns / 1000;

	if (us > h->max_us)
		h->max_us = us;
	h->b[us < HIST_US ? us : HIST_US] += (uint32_t)weight;
	h->n += weight;
}

static double hist_pct_ms(const struct hist *h, double pct)
{
	uint64_t want = (uint64_t)((double)h->n * pct / 100.0), acc = 0;

	for (uint32_t i = 0; i <= HIST_US; i++) {
		acc += h->b[i];
		if (acc > want)
			return i / 1000.0;
	}
	return HIST_US / 1000.0;
}

/* A log-shaped payload of n bytes (what a syslog line or event JSON is). */
static void payload(uint8_t *p, uint32_t n, uint64_t k)
{
	static const char pat[] = "<134>1 2026-11-23T09:00:00.123+01:00 web7 nginx 4242 ACCESS "
				  "[req@32473 ip=\"10.1.2.3\" code=\"403\"] blocked request "
				  "{\"severity\":\"high\",\"title\":\"Intrusion blocked\"} ";
	int h = snprintf((char *)p, n, "%020llu ", (unsigned long long)k);

	for (uint32_t i = h > 0 ? (uint32_t)h : 0; i < n; i++)
		p[i] = (uint8_t)pat[(i + k) % (sizeof pat - 1)];
}

struct sub_ctx {
	struct prod *p;
	uint64_t t0;
	uint32_t n;
};

static void sub_done(void *arg, uint64_t first, size_t n, int status)
{
	struct sub_ctx *s = arg;
	struct prod *p = s->p;

	(void)first;
	pthread_mutex_lock(&p->mu);
	if (status != 0)
		p->failed = 1;
	else
		hist_add(&p->h, now_ns() - s->t0, n);
	p->records += n;
	p->inflight -= s->n;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	free(s);
}

static void *producer(void *arg)
{
	struct prod *p = arg;
	const struct cfg *c = p->c;
	struct ab_journal_rec *recs = calloc(c->batch, sizeof *recs);
	uint8_t *buf = malloc((size_t)c->batch * c->size);
	char err[512];
	uint64_t k = 0;

	if (!recs || !buf) {
		p->failed = 1;
		return NULL;
	}
	for (uint32_t i = 0; i < c->batch; i++) {
		recs[i].data = buf + (size_t)i * c->size;
		recs[i].len = c->size;
	}
	uint64_t due = now_ns(), every = c->rate > 0 ?
		(uint64_t)(1e9 * c->batch * c->producers / c->rate) : 0;

	while (!atomic_load(&stop_flag)) {
		uint64_t t0;
		int rc;

		if (every) {  /* pacing: a batch when due, catching up when late */
			struct timespec ts = { (time_t)(due / 1000000000ull),
				(long)(due % 1000000000ull) };

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			due += every;
		}

		for (uint32_t i = 0; i < c->batch; i++)
			payload(buf + (size_t)i * c->size, c->size, k++);
		t0 = now_ns();
		if (!c->submit) {
			rc = ab_journal_append(p->j, recs, c->batch, NULL, err, sizeof err);
			if (rc != 0) {
				fprintf(stderr, "append: %s\n", err);
				p->failed = 1;
				break;
			}
			hist_add(&p->h, now_ns() - t0, c->batch);
			p->records += c->batch;
			continue;
		}
		{
			struct sub_ctx *s = malloc(sizeof *s);

			if (!s) {
				p->failed = 1;
				break;
			}
			pthread_mutex_lock(&p->mu);
			while (p->inflight + c->batch > c->window && !p->failed)
				pthread_cond_wait(&p->cv, &p->mu);
			p->inflight += c->batch;
			pthread_mutex_unlock(&p->mu);
			*s = (struct sub_ctx){ p, now_ns(), c->batch };
			while ((rc = ab_journal_submit(p->j, recs, c->batch, sub_done, s, NULL, err,
					sizeof err)) == AB_JOURNAL_AGAIN)
				sched_yield();
			if (rc != 0) {
				fprintf(stderr, "submit: %s\n", err);
				free(s);
				p->failed = 1;
				break;
			}
		}
	}
	pthread_mutex_lock(&p->mu);
	while (p->inflight && !p->failed)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	free(recs);
	free(buf);
	return NULL;
}

struct reader_arg {
	struct ab_journal *j;
	uint64_t records;
	int failed;
};

static void *reader(void *arg)
{
	struct reader_arg *a = arg;
	struct ab_journal_reader *r;
	static struct ab_journal_rec out[4096];
	char err[512];

	if (ab_journal_reader_open(a->j, "bench", &r, err, sizeof err) != 0) {
		fprintf(stderr, "reader: %s\n", err);
		a->failed = 1;
		return NULL;
	}
	for (;;) {
		int n = ab_journal_read(r, out, 4096, 50, err, sizeof err);

		if (n < 0) {
			fprintf(stderr, "read: %s\n", err);
			a->failed = 1;
			break;
		}
		if (n > 0) {
			a->records += (uint64_t)n;
			if (ab_journal_ack(r, out[n - 1].seq, err, sizeof err) != 0) {
				fprintf(stderr, "ack: %s\n", err);
				a->failed = 1;
				break;
			}
		} else if (atomic_load(&stop_flag) == 2) {
			break;
		}
	}
	ab_journal_reader_close(r);
	return NULL;
}

static int run_case(const struct cfg *c, const char *label)
{
	struct ab_journal *j;
	struct ab_journal_stats st;
	struct prod *p = calloc((size_t)c->producers, sizeof *p);
	pthread_t *th = calloc((size_t)c->producers, sizeof *th), rt;
	struct reader_arg ra = { 0 };
	struct hist all = { calloc(HIST_US + 1, sizeof(uint32_t)), 0, 0 };
	char err[512], cmd[600];
	double load[3] = { 0, 0, 0 }, secs;
	uint64_t t0, recs = 0;
	int failed = 0;

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
	if (!p || !th || !all.b || system(cmd) != 0)
		return -1;
	if (ab_journal_open(&j, c->dir, NULL, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	atomic_store(&stop_flag, 0);
	ra.j = j;
	pthread_create(&rt, NULL, reader, &ra);
	t0 = now_ns();
	for (int i = 0; i < c->producers; i++) {
		p[i].c = c;
		p[i].j = j;
		p[i].h.b = calloc(HIST_US + 1, sizeof(uint32_t));
		pthread_mutex_init(&p[i].mu, NULL);
		pthread_cond_init(&p[i].cv, NULL);
		if (!p[i].h.b)
			return -1;
		pthread_create(&th[i], NULL, producer, &p[i]);
	}
	usleep((useconds_t)(c->secs * 1e6));
	atomic_store(&stop_flag, 1);
	for (int i = 0; i < c->producers; i++) {
		pthread_join(th[i], NULL);
		failed |= p[i].failed;
		recs += p[i].records;
		for (uint32_t b = 0; b <= HIST_US; b++)
			all.b[b] += p[i].h.b[b];
		all.n += p[i].h.n;
		if (p[i].h.max_us > all.max_us)
			all.max_us = p[i].h.max_us;
		free(p[i].h.b);
		pthread_mutex_destroy(&p[i].mu);
		pthread_cond_destroy(&p[i].cv);
	}
	secs = (double)(now_ns() - t0) / 1e9;
	atomic_store(&stop_flag, 2);
	pthread_join(rt, NULL);
	ab_journal_get_stats(j, &st);
	ab_journal_close(j);
	getloadavg(load, 3);
	printf("| %s | %u | %d | %.0fk | %.0f | %.2f | %.2f | %.1f | %.0f | %llu | %.0f | %.0fk | "
	       "%.1f |\n",
		label, c->size, c->producers, (double)recs / secs / 1e3,
		(double)recs * c->size / secs / 1e6, hist_pct_ms(&all, 50), hist_pct_ms(&all, 99),
		all.max_us / 1000.0, st.batches ? (double)st.records / (double)st.batches : 0,
		(unsigned long long)st.syncs, st.syncs ? (double)st.sync_ns / st.syncs / 1e3 : 0,
		(double)ra.records / secs / 1e3, load[0]);
	fflush(stdout);
	free(all.b);
	free(p);
	free(th);
	return failed || ra.failed ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct cfg c = { "/var/tmp/ab_journal_bench", 2.0, 0, 0, 0, 1, 1, 0 };
	const char *sizes = "200,750", *prods = "1,2,4", *modes = "append1,append64,submit";
	char cmd[600];
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "d:t:s:p:m:r:")) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 't': c.secs = atof(optarg); break;
		case 's': sizes = optarg; break;
		case 'p': prods = optarg; break;
		case 'm': modes = optarg; break;
		case 'r': c.rate = atof(optarg); break;
		default:
			fprintf(stderr, "usage: journal_bench [-d DIR] [-t SECS] [-s SIZES] "
					"[-p PRODUCERS] [-m append1,append64,submit] [-r RATE]\n");
			return 64;
		}
	}
	if (c.secs <= 0 || c.secs > 600 || c.rate < 0 || c.rate > 1e8) {
		fprintf(stderr, "journal_bench: -t from 0 to 600 seconds, -r up to 1e8\n");
		return 64;
	}
	printf("| mode | size | producers | records/s | MB/s | p50 ack ms | p99 ack ms | max ms | "
	       "records/commit | fdatasyncs | mean fdatasync us | reader rec/s | load1 |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (const char *m = modes; *m && rc == 0;) {
		size_t ml = strcspn(m, ",");
		char label[32];

		snprintf(label, sizeof label, "%.*s", (int)ml, m);
		c.submit = strncmp(label, "submit", 6) == 0;
		c.batch = c.submit ? 16 : strcmp(label, "append64") == 0 ? 64 : 1;
		c.window = 4096;
		if (c.submit)
			snprintf(label, sizeof label, "submit 16/4096");
		for (const char *s = sizes; *s && rc == 0;) {
			c.size = (uint32_t)strtoul(s, NULL, 10);
			for (const char *pp = prods; *pp && rc == 0;) {
				c.producers = atoi(pp);
				if (c.size == 0 || c.size > (1u << 20) || c.producers < 1 ||
					c.producers > 64) {
					fprintf(stderr, "journal_bench: bad size or producer count\n");
					return 64;
				}
				rc = run_case(&c, label);
				pp += strcspn(pp, ",");
				pp += *pp == ',';
			}
			s += strcspn(s, ",");
			s += *s == ',';
		}
		m += ml;
		m += *m == ',';
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", c.dir);
	if (system(cmd) != 0)
		rc = -1;
	return rc ? 1 : 0;
}
