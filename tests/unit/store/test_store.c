/*
 * test_store.c - unit tests for the durable store (src/store/store.c): schema and
 * file mode, version refusal, enqueue dedupe, claim order and leases,
 * finish outcomes, batch claims and finishes, release of unattempted jobs,
 * operator actions, the delivery log, concurrent claims
 * from two connections, durability across kill -9 of a writer,
 * retention pruning (what goes, what stays, chunked transactions), the
 * migration of a version 2 store (with and without the channel_health
 * table an older dispatcher made) and of versions 3 and 6, channel health
 * rows, and deferral of a job over its channel's rate.
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
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lib/buf.h"
#include "event/event.h"
#include "store/prefsdb.h"
#include "store/store.h"
#include "store/store_int.h"   /* the connection, for checks and hooks */

struct fixture {
	char dir[64];
	char path[128];
	struct ab_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[512];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/ab_store_XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
	f->s = ab_store_open(f->path, err, sizeof err);
	if (!f->s) {
		fprintf(stderr, "%s\n", err);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* The store's own connection (hooks, direct checks). */
static sqlite3 *store_conn(struct ab_store *s)
{
	return s->db;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };

	ab_store_close(f->s);
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A 32-hex event id from a number. */
static void make_id(char *out, size_t outsz, unsigned n)
{
	snprintf(out, outsz, "%032x", n);
}

static int enqueue_n(struct ab_store *s, unsigned n, const char *const *ch, size_t nch,
	int64_t now)
{
	struct ab_event *ev = ab_event_new();
	int added = -1, rc;

	assert_non_null(ev);
	make_id(ev->id, sizeof ev->id, n);
	ab_event_set_str(ev, &ev->title, "test event");
	rc = ab_store_enqueue(s, ev, ch, nch, now, &added);
	ab_event_free(ev);
	return rc < 0 ? -1 : added;
}

/* Lifecycle (schema 6): the first delivery of a fingerprint on a channel
 * is kept with the service's reference (replaced only by a delivery that
 * reports a new one); a later event's job comes with it; failed sends and
 * other channels add nothing; retention prunes it. */
static void test_threads(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "slack", "mail" };
	struct ab_event *ev;
	struct ab_result ok, fail;
	struct ab_store_thread th;
	struct ab_prune_counts pc;
	struct ab_job job;
	char first[AB_ID_LEN + 1];

	ab_result_set(&ok, AB_OK, 200, NULL);
	snprintf(ok.ref, sizeof ok.ref, "C0SEC:1712345678.000100");
	ab_result_set(&fail, AB_RETRY, 503, "later");
	for (int i = 1; i <= 3; i++) {
		assert_non_null(ev = ab_event_new());
		make_id(ev->id, sizeof ev->id, (unsigned)i);
		ab_event_set_str(ev, &ev->title, "finding");
		ab_event_set_str(ev, &ev->fingerprint, i < 3 ? "fp-1" : "");
		assert_int_equal(ab_store_enqueue(f->s, ev, ch, i == 1 ? 2 : 1, 1000 * i, NULL), 0);
		ab_event_free(ev);
	}
	/* event 1: slack fails once, then delivered with a reference; mail too */
	assert_int_equal(ab_store_claim(f->s, 1500, 60000, &job), 1);
	assert_string_equal(job.fp, "fp-1");
	assert_null(job.thread_event);
	snprintf(first, sizeof first, "%s", job.event_id);
	assert_int_equal(ab_store_finish(f->s, &job, &fail, 1, 1501, 1502, false), 0);
	assert_int_equal(ab_store_thread(f->s, job.channel, "", "fp-1", &th), 0);
	ab_job_clear(&job);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(ab_store_claim(f->s, 1600, 60000, &job), 1);
		assert_string_equal(job.event_id, first);
		assert_int_equal(ab_store_finish(f->s, &job, &ok, 1, 1600 + k, 0, false), 0);
		ab_job_clear(&job);
	}
	assert_int_equal(ab_store_thread(f->s, "slack", "", "fp-1", &th), 1);
	assert_string_equal(th.event_id, first);
	assert_string_equal(th.ref, "C0SEC:1712345678.000100");
	assert_int_equal(th.count, 1);
	/* event 2, same fingerprint: its job names the first delivery */
	assert_int_equal(ab_store_claim(f->s, 2500, 60000, &job), 1);
	assert_string_equal(job.channel, "slack");
	assert_non_null(job.thread_event);
	assert_string_equal(job.thread_event, first);
	assert_string_equal(job.thread_ref, "C0SEC:1712345678.000100");
	assert_int_equal(job.thread_count, 1);
	ok.ref[0] = '\0';   /* an update in place reports no reference: the first's stays */
	assert_int_equal(ab_store_finish(f->s, &job, &ok, 1, 2600, 0, false), 0);
	assert_int_equal(ab_store_thread(f->s, "slack", "", "fp-1", &th), 1);
	assert_string_equal(th.ref, "C0SEC:1712345678.000100");
	assert_int_equal(th.count, 2);
	/* a delivery that reports one posted a new message: it is followed from now */
	snprintf(ok.ref, sizeof ok.ref, "C0SEC:1712345999.000200");
	assert_int_equal(ab_store_finish(f->s, &job, &ok, 1, 2600, 0, false), 0);
	ab_job_clear(&job);
	assert_int_equal(ab_store_thread(f->s, "slack", "", "fp-1", &th), 1);
	assert_string_equal(th.ref, "C0SEC:1712345999.000200");
	assert_string_equal(th.event_id, first);
	assert_int_equal(th.count, 3);
	assert_int_equal(th.last_at, 2600);
	/* event 3 has no fingerprint: nothing */
	assert_int_equal(ab_store_claim(f->s, 3500, 60000, &job), 1);
	assert_null(job.fp);
	assert_null(job.thread_event);
	ab_job_clear(&job);
	/* retention: threads last delivered before the cutoff go */
	assert_true(ab_store_prune(f->s, 2000, 100, &pc) >= 0);
	assert_int_equal(pc.threads, 1);                       /* mail's, last at 1601 */
	assert_int_equal(ab_store_thread(f->s, "mail", "", "fp-1", &th), 0);
	assert_int_equal(ab_store_thread(f->s, "slack", "", "fp-1", &th), 1);
}

static void test_open_mode_and_version(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	sqlite3 *db;
	sqlite3_stmt *q;

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 7);   /* 7: jobs by the event's rowid */
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct ab_store *s2;
	sqlite3 *db;
	char err[512] = "";

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	s2 = ab_store_open(f->path, err, sizeof err);
	assert_null(s2);
	assert_non_null(strstr(err, "schema version 99 is newer"));
	assert_non_null(strstr(err, f->path));
}

/* Another connection holds the write lock for a while (a worker's or the
 * mover's transaction): a writer waits for it in short sleeps (db.c's busy
 * handler) and then writes, it does not fail with SQLITE_BUSY. */
struct holder {
	struct ab_store *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool locked;
	int rc;
};

static void *hold_lock(void *arg)
{
	struct holder *h = arg;
	struct timespec ts = { 0, 60 * 1000000L };
	int rc = ab_store_begin(h->s);

	if (rc == 0)
		rc = enqueue_n(h->s, 1, (const char *const[]){ "a" }, 1, 1000) == 1 ? 0 : -1;
	pthread_mutex_lock(&h->mu);
	h->locked = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	nanosleep(&ts, NULL);              /* the other writer waits meanwhile */
	if (rc == 0)
		rc = ab_store_commit(h->s);
	h->rc = rc;
	return NULL;
}

static void test_writer_waits_for_lock(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "a" };
	struct holder h = { .s = f->s, .mu = PTHREAD_MUTEX_INITIALIZER,
		.cv = PTHREAD_COND_INITIALIZER };
	char err[512];
	struct ab_store *s2 = ab_store_open(f->path, err, sizeof err);
	pthread_t th;

	assert_non_null(s2);
	assert_int_equal(pthread_create(&th, NULL, hold_lock, &h), 0);
	pthread_mutex_lock(&h.mu);
	while (!h.locked)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	assert_int_equal(enqueue_n(s2, 2, ch, 1, 1000), 1);   /* waited, then wrote */
	pthread_join(th, NULL);
	assert_int_equal(h.rc, 0);
	assert_int_equal(ab_store_count(s2, AB_JOB_QUEUED), 2);
	ab_store_close(s2);
}

static void test_enqueue_dedupe(void **state)
{
	struct fixture *f = *state;
	static const char *const ab[] = { "a", "b" };
	static const char *const abc[] = { "a", "b", "c" };
	static const struct {
		const char *const *ch;
		size_t n;
		int added;
		int64_t queued;
	} steps[] = {
		{ ab, 2, 2, 2 },
		{ ab, 2, 0, 2 },     /* same event, same channels: nothing new */
		{ abc, 3, 1, 3 },    /* only c is new */
		{ abc, 1, 0, 3 },
	};
	char *json;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		assert_int_equal(enqueue_n(f->s, 7, steps[i].ch, steps[i].n, 1000), steps[i].added);
		assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), steps[i].queued);
	}
	json = ab_store_event_json(f->s, "00000000000000000000000000000007");
	assert_non_null(json);
	assert_non_null(strstr(json, "\"title\":\"test event\""));
	free(json);
	assert_null(ab_store_event_json(f->s, "ffffffffffffffffffffffffffffffff"));
}

static void test_dedupe_after_done(void **state)
{
	struct fixture *f = *state;
	static const char *const a[] = { "a" };
	struct ab_job job;
	struct ab_result ok;

	ab_result_set(&ok, AB_OK, 200, NULL);
	assert_int_equal(enqueue_n(f->s, 1, a, 1, 1000), 1);
	assert_int_equal(ab_store_claim(f->s, 1000, 60000, &job), 1);
	assert_int_equal(ab_store_finish(f->s, &job, &ok, 5, 1001, 0, false), 0);
	ab_job_clear(&job);
	assert_int_equal(ab_store_count(f->s, AB_JOB_DONE), 1);
	/* The same event sent again later is not queued a second time. */
	assert_int_equal(enqueue_n(f->s, 1, a, 1, 5000), 0);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 0);
	assert_int_equal(ab_store_claim(f->s, 9000, 60000, &job), 0);
}

static void test_enqueue_bad_input(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "a", "" };
	static const char *const a[] = { "a" };
	int added = 5;

	assert_int_equal(ab_store_enqueue_payload(f->s, "", 1, "{}", NULL, a, 1, 1, &added), -1);
	assert_int_equal(added, 0);
	assert_int_equal(ab_store_enqueue_payload(f->s, "000000000000000000000000000000001",
		1, "{}", NULL, a, 1, 1, NULL), -1);  /* 33 characters */
	assert_int_equal(ab_store_enqueue_payload(f->s, "g1", 1, "{}", NULL, bad, 2, 1, NULL), -1);
	assert_non_null(strstr(ab_store_errmsg(f->s), "channel"));
	assert_int_equal(ab_store_enqueue_payload(f->s, "g1", 1, NULL, NULL, a, 1, 1, NULL), -1);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 0);
}

static void test_payload_job(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "slack" }, *const mail[] = { "mail" };
	struct ab_job job;
	char id[AB_ID_LEN + 1];
	int added;

	assert_int_equal(ab_store_enqueue_payload(f->s, "group1", AB_MSG_GROUP,
		"{\"group\":{\"title\":\"x\"},\"items\":[]}", NULL, ch, 1, 10, &added), 0);
	assert_int_equal(added, 1);
	assert_int_equal(ab_store_claim(f->s, 10, 1000, &job), 1);
	assert_int_equal(job.kind, AB_MSG_GROUP);
	assert_string_equal(job.event_id, "group1");
	assert_string_equal(job.channel, "slack");
	assert_string_equal(job.payload, "{\"group\":{\"title\":\"x\"},\"items\":[]}");
	assert_int_equal(job.attempts, 1);
	assert_int_equal(job.state, AB_JOB_RUNNING);
	ab_job_clear(&job);
	assert_null(ab_store_event_json(f->s, "group1"));
	/* a message with no event row is queued once per channel, as an event */
	assert_int_equal(ab_store_enqueue_payload(f->s, "group1", AB_MSG_GROUP, "{}", NULL, ch,
		1, 20, &added), 0);
	assert_int_equal(added, 0);
	/* one for a stored event (a throttle's summary) is one of its jobs */
	assert_int_equal(enqueue_n(f->s, 7, ch, 1, 30), 1);
	make_id(id, sizeof id, 7);
	assert_int_equal(ab_store_enqueue_payload(f->s, id, AB_MSG_EVENT, "{}", NULL, ch, 1, 40,
		&added), 0);
	assert_int_equal(added, 0);
	assert_int_equal(ab_store_enqueue_payload(f->s, id, AB_MSG_EVENT, "{}", NULL, mail, 1, 40,
		&added), 0);
	assert_int_equal(added, 1);
}

static void test_claim_order(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "c" };
	/* event number, enqueue time (= next_at) */
	static const struct { unsigned n; int64_t at; } in[] = {
		{ 1, 300 }, { 2, 100 }, { 3, 200 }, { 4, 100 },
	};
	static const unsigned order[] = { 2, 4, 3, 1 };
	char id[40];
	struct ab_job job;

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(enqueue_n(f->s, in[i].n, ch, 1, in[i].at), 1);
	assert_int_equal(ab_store_next_due(f->s), 100);
	assert_int_equal(ab_store_claim(f->s, 99, 1000, &job), 0);   /* nothing due */
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ab_store_claim(f->s, 1000, 1000, &job), 1);
		make_id(id, sizeof id, order[i]);
		assert_string_equal(job.event_id, id);
		assert_non_null(strstr(job.payload, "\"id\":\""));
		ab_job_clear(&job);
	}
	assert_int_equal(ab_store_claim(f->s, 1000, 1000, &job), 0);
	assert_int_equal(ab_store_next_due(f->s), -1);
	assert_int_equal(ab_store_count(f->s, AB_JOB_RUNNING), 4);
}

/* Batch claims: oldest first, staggered leases, one batch of finishes,
 * release of jobs that were not attempted, the bounded due count. */
static void test_claim_batch(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "c" };
	struct ab_job jobs[4], job;
	struct ab_result ok, retry;
	struct ab_finish fin[2];
	char id[40];

	for (unsigned i = 1; i <= 5; i++)
		assert_int_equal(enqueue_n(f->s, i, ch, 1, 100 + i), 1);
	assert_int_equal(ab_store_count_due(f->s, 103, 100), 3);
	assert_int_equal(ab_store_count_due(f->s, 1000, 2), 2);    /* bounded */
	assert_int_equal(ab_store_claim_batch(f->s, 1000, 500, jobs, 0), 0);
	assert_int_equal(ab_store_claim_batch(f->s, 50, 500, jobs, 4), 0);   /* none due */
	assert_int_equal(ab_store_claim_batch(f->s, 1000, 500, jobs, 4), 4);
	for (unsigned i = 0; i < 4; i++) {
		make_id(id, sizeof id, i + 1);
		assert_string_equal(jobs[i].event_id, id);
		assert_int_equal(jobs[i].state, AB_JOB_RUNNING);
		assert_int_equal(jobs[i].attempts, 1);
	}
	assert_int_equal(ab_store_count(f->s, AB_JOB_RUNNING), 4);
	/* leases until 2000, 2500, 3000, 3000 (each outcome but the last may wait
	 * for one more attempt): none has expired at 1999, only the first at 2499 */
	assert_int_equal(ab_store_requeue_running(f->s, 1999, false), 0);
	assert_int_equal(ab_store_requeue_running(f->s, 2499, false), 1);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 2);
	/* jobs[1] ok, jobs[2] retry later: one transaction */
	ab_result_set(&ok, AB_OK, 200, NULL);
	ab_result_set(&retry, AB_RETRY, 503, "busy");
	fin[0] = (struct ab_finish){ &jobs[1], &ok, 5, 1100, 0, false };
	fin[1] = (struct ab_finish){ &jobs[2], &retry, 5, 1100, 9000, false };
	assert_int_equal(ab_store_finish_batch(f->s, fin, 2), 0);
	assert_int_equal(ab_store_count(f->s, AB_JOB_DONE), 1);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 3);
	/* jobs[3] was not attempted: back to the queue with attempts 0 */
	assert_int_equal(ab_store_release(f->s, &jobs[3], 1, 1200), 0);
	assert_int_equal(ab_store_count(f->s, AB_JOB_RUNNING), 0);
	assert_int_equal(ab_store_claim(f->s, 1300, 500, &job), 1);
	make_id(id, sizeof id, 1);                  /* the requeued first one */
	assert_string_equal(job.event_id, id);
	assert_int_equal(job.attempts, 2);
	ab_job_clear(&job);
	assert_int_equal(ab_store_claim(f->s, 1300, 500, &job), 1);
	make_id(id, sizeof id, 4);
	assert_string_equal(job.event_id, id);
	assert_int_equal(job.attempts, 1);          /* the release gave it back */
	ab_job_clear(&job);
	for (unsigned i = 0; i < 4; i++)
		ab_job_clear(&jobs[i]);
	/* a finish batch with a bad entry records nothing */
	fin[0] = (struct ab_finish){ NULL, &ok, 0, 0, 0, false };
	assert_int_equal(ab_store_finish_batch(f->s, fin, 1), -1);
	assert_int_equal(ab_store_finish_batch(f->s, fin, 0), 0);
}

static void test_lease_expiry(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "c" };
	struct ab_job job;
	int64_t first;

	assert_int_equal(enqueue_n(f->s, 1, ch, 1, 100), 1);
	assert_int_equal(ab_store_claim(f->s, 1000, 500, &job), 1);   /* lease until 1500 */
	first = job.id;
	ab_job_clear(&job);
	assert_int_equal(ab_store_requeue_running(f->s, 1499, false), 0);
	assert_int_equal(ab_store_claim(f->s, 1499, 500, &job), 0);
	assert_int_equal(ab_store_requeue_running(f->s, 1500, false), 1);
	assert_int_equal(ab_store_claim(f->s, 1600, 500, &job), 1);
	assert_int_equal(job.id, first);
	assert_int_equal(job.attempts, 2);
	ab_job_clear(&job);
}

static void test_requeue_all(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "a", "b", "c" };
	struct ab_job job;

	assert_int_equal(enqueue_n(f->s, 1, ch, 3, 100), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ab_store_claim(f->s, 100, 1000000, &job), 1);
		ab_job_clear(&job);
	}
	assert_int_equal(ab_store_requeue_running(f->s, 200, false), 0);
	assert_int_equal(ab_store_requeue_running(f->s, 200, true), 3);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 3);
	assert_int_equal(ab_store_count(f->s, AB_JOB_RUNNING), 0);
}

struct found {
	int n;
	struct ab_job jobs[8];
};

static int collect_job(const struct ab_job *job, void *arg)
{
	struct found *fd = arg;

	if (fd->n < 8) {
		fd->jobs[fd->n] = *job;
		fd->jobs[fd->n].channel = ab_strdup0(job->channel);
		fd->jobs[fd->n].payload = ab_strdup0(job->payload);
		fd->jobs[fd->n].last_error = ab_strdup0(job->last_error);
		fd->jobs[fd->n].recipient = ab_strdup0(job->recipient);
		fd->jobs[fd->n].recipients = ab_strdup0(job->recipients);
	}
	fd->n++;
	return 0;
}

static void found_clear(struct found *fd)
{
	for (int i = 0; i < fd->n && i < 8; i++)
		ab_job_clear(&fd->jobs[i]);
	fd->n = 0;
}

static void test_finish_outcomes(void **state)
{
	struct fixture *f = *state;
	static const struct {
		enum ab_status status;
		bool dead;
		const char *msg;
		enum ab_job_state want;
		int64_t want_next;
		const char *want_err;
	} cases[] = {
		{ AB_OK, false, "", AB_JOB_DONE, 2000, NULL },
		{ AB_RETRY, false, "HTTP 503", AB_JOB_QUEUED, 9000, "HTTP 503" },
		{ AB_RETRY, true, "HTTP 503", AB_JOB_DEAD, 2000, "HTTP 503" },
		{ AB_PERMANENT, false, "HTTP 404", AB_JOB_DEAD, 2000, "HTTP 404" },
		{ AB_PERMANENT, false, "", AB_JOB_DEAD, 2000, "permanent" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *ch[] = { "x" };
		struct ab_job job;
		struct ab_result r;
		struct found fd = { 0 };

		assert_int_equal(enqueue_n(f->s, 100 + (unsigned)i, ch, 1, 1000), 1);
		assert_int_equal(ab_store_claim(f->s, 1000, 60000, &job), 1);
		ab_result_set(&r, cases[i].status, 503, cases[i].msg);
		assert_int_equal(ab_store_finish(f->s, &job, &r, 12, 2000, 9000, cases[i].dead), 0);
		assert_int_equal(ab_store_list_jobs(f->s, 1u << cases[i].want, collect_job, &fd), 0);
		assert_int_equal(fd.n, 1);
		assert_int_equal(fd.jobs[0].id, job.id);
		assert_int_equal(fd.jobs[0].state, cases[i].want);
		assert_int_equal(fd.jobs[0].next_at, cases[i].want_next);
		assert_int_equal(fd.jobs[0].attempts, 1);
		if (cases[i].want_err)
			assert_string_equal(fd.jobs[0].last_error, cases[i].want_err);
		else
			assert_null(fd.jobs[0].last_error);
		found_clear(&fd);
		/* Move it out of the way so the next case sees only its own job. */
		if (cases[i].want != AB_JOB_DONE)
			assert_int_equal(ab_store_drop(f->s, job.id), 1);
		ab_job_clear(&job);
	}
}

/* Jobs for people: one per (event, channel, recipient), beside the
 * channel's own; claimed with their recipients; logged with the recipient. */
static int log_recipient(const struct ab_log_entry *e, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 64, "%s/%s;", e->channel, e->recipient);
	return 0;
}

static void test_people_jobs(void **state)
{
	struct fixture *f = *state;
	static const char *const inbox[] = { "inbox" };
	char id[40], seen[256] = "";
	struct ab_job job;
	struct ab_result ok;
	int added = -1;

	make_id(id, sizeof id, 7);
	assert_int_equal(enqueue_n(f->s, 7, inbox, 1, 1000), 1);
	assert_int_equal(ab_store_enqueue_people(f->s, id, "inbox", "alice",
		"[{\"name\":\"alice\"}]", 1000, &added), 0);
	assert_int_equal(added, 1);
	assert_int_equal(ab_store_enqueue_people(f->s, id, "inbox", "bob",
		"[{\"name\":\"bob\"}]", 1000, &added), 0);
	assert_int_equal(added, 1);
	assert_int_equal(ab_store_enqueue_people(f->s, id, "inbox", "alice",
		"[{\"name\":\"alice\"}]", 2000, &added), 0);
	assert_int_equal(added, 0);   /* the same person again: nothing new */
	assert_int_equal(ab_store_enqueue_people(f->s, id, "inbox", "", "[]", 1000, &added), -1);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 3);
	ab_result_set(&ok, AB_OK, 0, NULL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ab_store_claim(f->s, 5000, 60000, &job), 1);
		assert_non_null(job.recipient);
		if (i == 0) {
			assert_string_equal(job.recipient, "");
			assert_null(job.recipients);
		} else {
			assert_string_equal(job.recipient, i == 1 ? "alice" : "bob");
			assert_non_null(strstr(job.recipients, job.recipient));
			assert_non_null(strstr(job.payload, "test event"));   /* the event */
		}
		assert_int_equal(ab_store_finish(f->s, &job, &ok, 1, 5001, 0, false), 0);
		ab_job_clear(&job);
	}
	assert_int_equal(ab_store_list_log(f->s, NULL, 10, log_recipient, seen), 0);
	assert_string_equal(seen, "inbox/bob;inbox/alice;inbox/;");
}

/* A version 3 store (jobs UNIQUE(event_id, channel), no people) becomes
 * version 4 when opened: jobs, their ids, the id sequence and the delivery
 * log's links to them all kept. */
static void test_migrate_v3(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "a", "b" };
	struct ab_store *s2;
	sqlite3 *db;
	sqlite3_stmt *q;
	char err[512] = "", id[40];
	struct ab_job job;
	struct ab_result ok;
	int added = -1;

	ab_result_set(&ok, AB_OK, 0, NULL);
	assert_int_equal(enqueue_n(f->s, 1, ch, 2, 1000), 2);
	assert_int_equal(enqueue_n(f->s, 2, ch, 1, 1000), 1);
	assert_int_equal(ab_store_claim(f->s, 2000, 60000, &job), 1);
	assert_int_equal(ab_store_finish(f->s, &job, &ok, 1, 2001, 0, false), 0);
	ab_job_clear(&job);
	assert_int_equal(ab_store_drop(f->s, 3), 1);   /* the highest id is gone */
	ab_store_close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys=OFF; BEGIN;"
		" DROP TABLE prefs; DROP TABLE prefs_gen; DROP TABLE logins; DROP TABLE threads;"
		" ALTER TABLE delivery_log DROP COLUMN recipient;"
		" CREATE TABLE j3 (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,"
		" channel TEXT NOT NULL, kind INTEGER NOT NULL DEFAULT 0, payload TEXT,"
		" state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
		" created_at INTEGER NOT NULL, next_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
		" lease_until INTEGER, last_error TEXT, UNIQUE(event_id, channel));"
		" INSERT INTO j3 SELECT id, event_id, channel, kind, payload, state, attempts,"
		" created_at, next_at, updated_at, lease_until, last_error FROM jobs;"
		" DELETE FROM sqlite_sequence WHERE name = 'j3';"
		" UPDATE sqlite_sequence SET name = 'j3' WHERE name = 'jobs';"
		" DROP TABLE jobs; ALTER TABLE j3 RENAME TO jobs;"
		" CREATE INDEX jobs_due ON jobs(state, next_at);"
		" PRAGMA user_version = 3; COMMIT;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_non_null(s2 = ab_store_open(f->path, err, sizeof err));
	f->s = s2;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT group_concat(id) FROM (SELECT id FROM jobs ORDER BY id)),"
		" (SELECT job_id FROM delivery_log), (SELECT seq FROM sqlite_sequence WHERE"
		" name = 'jobs')", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "1,2");
	assert_int_equal(sqlite3_column_int(q, 1), 1);   /* the log still points at job 1 */
	assert_int_equal(sqlite3_column_int(q, 2), 3);   /* the sequence did not go back */
	sqlite3_finalize(q);
	sqlite3_close(db);
	/* and it takes people now */
	make_id(id, sizeof id, 1);
	assert_int_equal(ab_store_enqueue_people(s2, id, "a", "alice", "[]", 3000, &added), 0);
	assert_int_equal(added, 1);
	assert_int_equal(ab_store_claim(s2, 9000, 60000, &job), 1);
	assert_true(job.id == 2 || job.id == 4);
	ab_job_clear(&job);
}

/* One value of SQL on a plain connection (no ab_id_key), as text. */
static void sql_is(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *q;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(q) != SQLITE_ROW)
		fail_msg("%s: no row: %s", sql, sqlite3_errmsg(db));
	assert_string_equal((const char *)sqlite3_column_text(q, 0), want);
	sqlite3_finalize(q);
}

/* A version 6 store (events keyed by their id text, jobs UNIQUE(event_id,
 * channel, recipient)) becomes version 7 when opened: every row, rowid,
 * job id and the id sequence kept, each job pointing at its event's rowid
 * (events' rowids made sparse here, so that only a lookup by id finds
 * them), a message with no event row at none; and what was queued or done
 * before stays the dedup record. */
static void test_migrate_v6(void **state)
{
	struct fixture *f = *state;
	static const char *const ab[] = { "a", "b" }, *const a[] = { "a" }, *const c[] = { "c" };
	struct ab_store *s2;
	struct ab_job job;
	struct ab_result ok;
	sqlite3 *db;
	char err[512] = "", id1[AB_ID_LEN + 1], id2[AB_ID_LEN + 1], *json;
	char logp[200], logtxt[4096];
	FILE *lf;
	int added = -1, n, fd, saved;

	ab_result_set(&ok, AB_OK, 0, NULL);
	make_id(id1, sizeof id1, 1);
	make_id(id2, sizeof id2, 2);
	assert_int_equal(enqueue_n(f->s, 1, ab, 2, 1000), 2);                 /* jobs 1, 2 */
	assert_int_equal(ab_store_claim(f->s, 2000, 60000, &job), 1);
	assert_int_equal(job.id, 1);
	assert_int_equal(ab_store_finish(f->s, &job, &ok, 1, 2001, 0, false), 0);
	ab_job_clear(&job);
	assert_int_equal(enqueue_n(f->s, 2, a, 1, 1000), 1);                  /* job 3 */
	assert_int_equal(ab_store_enqueue_payload(f->s, "group1", AB_MSG_GROUP, "{\"g\":1}",
		NULL, a, 1, 1000, &added), 0);                                 /* job 4 */
	assert_int_equal(ab_store_enqueue_people(f->s, id2, "inbox", "alice", "[]", 1000,
		&added), 0);                                                   /* job 5 */
	assert_int_equal(ab_store_enqueue_payload(f->s, "group2", AB_MSG_GROUP, "{}", NULL, a,
		1, 1000, &added), 0);
	assert_int_equal(ab_store_drop(f->s, 6), 1);   /* the highest id is gone */
	ab_store_close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys=OFF; BEGIN;"
		" CREATE TABLE e6 (id TEXT PRIMARY KEY, json TEXT NOT NULL, received_at INTEGER);"
		" INSERT INTO e6(rowid, id, json, received_at) SELECT rowid * 3, id, json,"
		" received_at FROM events;"
		" DROP TABLE events; ALTER TABLE e6 RENAME TO events;"
		" CREATE TABLE j6 (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,"
		" channel TEXT NOT NULL, kind INTEGER NOT NULL DEFAULT 0, payload TEXT,"
		" state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
		" created_at INTEGER NOT NULL, next_at INTEGER NOT NULL,"
		" updated_at INTEGER NOT NULL, lease_until INTEGER, last_error TEXT,"
		" recipient TEXT NOT NULL DEFAULT '',"
		" recipients TEXT, fp TEXT, UNIQUE(event_id, channel, recipient));"
		" INSERT INTO j6 SELECT id, event_id, channel, kind, payload, state, attempts,"
		" created_at, next_at, updated_at, lease_until, last_error, recipient, recipients,"
		" fp FROM jobs;"
		" DELETE FROM sqlite_sequence WHERE name = 'j6';"
		" UPDATE sqlite_sequence SET name = 'j6' WHERE name = 'jobs';"
		" DROP TABLE jobs; ALTER TABLE j6 RENAME TO jobs;"
		" CREATE INDEX jobs_due ON jobs(state, next_at);"
		" CREATE INDEX jobs_fp ON jobs(fp) WHERE fp IS NOT NULL;"
		" PRAGMA user_version = 6; COMMIT;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	/* the daemon's log says why it takes a while */
	snprintf(logp, sizeof logp, "%s/open.log", f->dir);
	fflush(stderr);
	assert_true((saved = dup(2)) >= 0);
	assert_true((fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	s2 = ab_store_open(f->path, err, sizeof err);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	if (!s2)
		fail_msg("%s", err);
	f->s = s2;
	assert_non_null(lf = fopen(logp, "r"));
	logtxt[fread(logtxt, 1, sizeof logtxt - 1, lf)] = '\0';
	fclose(lf);
	unlink(logp);
	assert_non_null(strstr(logtxt, "updating the schema from version 6 to 7"));
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sql_is(db, "PRAGMA user_version", "7");
	sql_is(db, "SELECT group_concat(id || ':' || COALESCE(event_row, '-')) FROM"
		" (SELECT id, event_row FROM jobs ORDER BY id)", "1:3,2:3,3:6,4:-,5:6");
	sql_is(db, "SELECT group_concat(rowid) FROM (SELECT rowid FROM events ORDER BY rowid)",
		"3,6");
	sql_is(db, "SELECT COUNT(*) FROM events WHERE key IS NULL", "0");
	sql_is(db, "SELECT (SELECT job_id FROM delivery_log) || ',' || (SELECT seq FROM"
		" sqlite_sequence WHERE name = 'jobs')", "1,6");
	sql_is(db, "PRAGMA integrity_check", "ok");
	sqlite3_close(db);
	/* the dedup record holds: done, queued, a message of its own, people */
	assert_int_equal(enqueue_n(s2, 1, ab, 2, 3000), 0);
	assert_int_equal(enqueue_n(s2, 2, a, 1, 3000), 0);
	assert_int_equal(ab_store_enqueue_payload(s2, "group1", AB_MSG_GROUP, "{}", NULL, a, 1,
		3000, &added), 0);
	assert_int_equal(added, 0);
	assert_int_equal(ab_store_enqueue_people(s2, id2, "inbox", "alice", "[]", 3000, &added),
		0);
	assert_int_equal(added, 0);
	assert_int_equal(ab_store_event_exists(s2, id1), 1);
	assert_int_equal(ab_store_event_exists(s2, "ffffffffffffffffffffffffffffffff"), 0);
	assert_non_null(json = ab_store_event_json(s2, id2));
	assert_non_null(strstr(json, "test event"));
	free(json);
	/* new rows follow the old ones; every job finds its event's JSON */
	assert_int_equal(enqueue_n(s2, 1, c, 1, 3000), 1);
	assert_int_equal(enqueue_n(s2, 3, a, 1, 3000), 1);
	sql_is(store_conn(s2), "SELECT group_concat(event_row) FROM (SELECT event_row FROM jobs"
		" WHERE id > 6 ORDER BY id)", "3,7");
	for (n = 0; ab_store_claim(s2, 9000, 60000, &job) == 1; n++) {
		if (job.id == 4)
			assert_string_equal(job.payload, "{\"g\":1}");
		else
			assert_non_null(strstr(job.payload, "test event"));
		ab_job_clear(&job);
	}
	assert_int_equal(n, 6);   /* 2, 3, 4, 5 and the two new ones */
}

/* Preferences: set, replace, unset; the snapshot is read again only when
 * the table changed, also by another connection. */
static void test_prefs(void **state)
{
	struct fixture *f = *state;
	const struct ab_prefs *p, *p2;
	struct ab_store *other;
	char err[256];

	assert_non_null(p = ab_prefs_current(f->s));
	assert_int_equal(p->n, 0);
	assert_int_equal(ab_prefs_set(f->s, "bob", "finding.*", "email", false, 1000), 0);
	assert_int_equal(ab_prefs_set(f->s, "alice", "scan.*", "*", true, 1000), 0);
	assert_int_equal(ab_prefs_set(f->s, "bob", "finding.*", "email", true, 2000), 0);
	assert_non_null(p = ab_prefs_current(f->s));
	assert_int_equal(p->n, 2);
	assert_string_equal(p->rows[0].user, "alice");   /* sorted by user */
	assert_string_equal(p->rows[1].user, "bob");
	assert_true(p->rows[1].on);                      /* replaced */
	assert_int_equal(p->rows[1].set_at, 2000);
	assert_ptr_equal(ab_prefs_current(f->s), p);     /* unchanged: the same snapshot */
	assert_non_null(other = ab_store_open(f->path, err, sizeof err));
	assert_int_equal(ab_prefs_unset(other, "bob", "finding.*", NULL), 1);
	assert_int_equal(ab_prefs_unset(other, "bob", NULL, NULL), 0);
	ab_store_close(other);
	assert_non_null(p2 = ab_prefs_current(f->s));
	assert_int_equal(p2->n, 1);
	assert_int_equal(ab_prefs_unset(f->s, "alice", "scan.*", "*"), 1);
	assert_int_equal(ab_prefs_current(f->s)->n, 0);
}

static void test_retry_and_drop(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "a", "b", "c" };
	struct ab_job job;
	struct ab_result perm, ok;
	int64_t ids[3];

	ab_result_set(&perm, AB_PERMANENT, 400, "bad request");
	ab_result_set(&ok, AB_OK, 200, "");
	assert_int_equal(enqueue_n(f->s, 1, ch, 3, 100), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ab_store_claim(f->s, 100, 1000, &job), 1);
		ids[i] = job.id;
		assert_int_equal(ab_store_finish(f->s, &job, i == 2 ? &ok : &perm, 1, 110, 0,
			false), 0);
		ab_job_clear(&job);
	}
	assert_int_equal(ab_store_count(f->s, AB_JOB_DEAD), 2);
	/* retry of a done job changes nothing; of a dead job makes it due now */
	assert_int_equal(ab_store_retry(f->s, ids[2], 500), 0);
	assert_int_equal(ab_store_retry(f->s, ids[0], 500), 1);
	assert_int_equal(ab_store_next_due(f->s), 500);
	assert_int_equal(ab_store_claim(f->s, 500, 1000, &job), 1);
	assert_int_equal(job.id, ids[0]);
	assert_int_equal(job.attempts, 1);   /* counter was reset */
	/* a running job cannot be dropped */
	assert_int_equal(ab_store_drop(f->s, ids[0]), -1);
	assert_non_null(strstr(ab_store_errmsg(f->s), "being delivered"));
	assert_int_equal(ab_store_finish(f->s, &job, &perm, 1, 510, 0, false), 0);
	ab_job_clear(&job);
	assert_int_equal(ab_store_retry_dead(f->s, 600), 2);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 2);
	assert_int_equal(ab_store_count(f->s, AB_JOB_DEAD), 0);
	assert_int_equal(ab_store_drop(f->s, ids[1]), 1);
	assert_int_equal(ab_store_drop(f->s, ids[1]), 0);
	assert_int_equal(ab_store_drop(f->s, 999999), 0);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 1);
}

struct logs {
	int n;
	int64_t job_id[16];
	char channel[16][8];
	int status[16];
	int attempt[16];
};

static int collect_log(const struct ab_log_entry *e, void *arg)
{
	struct logs *l = arg;

	if (l->n < 16) {
		l->job_id[l->n] = e->job_id;
		ab_strlcpy(l->channel[l->n], e->channel, sizeof l->channel[0]);
		l->status[l->n] = e->status;
		l->attempt[l->n] = e->attempt;
	}
	l->n++;
	return 0;
}

static int stop_at_first(const struct ab_log_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 1;
}

static void test_log_listing(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "a", "b" };
	struct ab_job job;
	struct ab_result retry;
	struct logs l = { 0 };
	int calls = 0;

	ab_result_set(&retry, AB_RETRY, 500, "server error");
	assert_int_equal(enqueue_n(f->s, 1, ch, 2, 100), 2);
	/* three rounds of retries on both jobs: 6 log rows, 3 per channel */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 2; i++) {
			assert_int_equal(ab_store_claim(f->s, 100 + round * 10, 1000, &job), 1);
			assert_int_equal(ab_store_finish(f->s, &job, &retry, 3, 101 + round * 10,
				110 + round * 10, false), 0);
			ab_job_clear(&job);
		}
	}
	assert_int_equal(ab_store_list_log(f->s, "a", 0, collect_log, &l), 0);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(l.channel[i], "a");
		assert_int_equal(l.status[i], AB_RETRY);
		assert_int_equal(l.attempt[i], 3 - i);   /* newest first */
	}
	memset(&l, 0, sizeof l);
	assert_int_equal(ab_store_list_log(f->s, NULL, 4, collect_log, &l), 0);
	assert_int_equal(l.n, 4);
	memset(&l, 0, sizeof l);
	assert_int_equal(ab_store_list_log(f->s, "nosuch", 0, collect_log, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(ab_store_list_log(f->s, NULL, 0, stop_at_first, &calls), 0);
	assert_int_equal(calls, 1);
	/* the log survives dropping its job (job_id becomes 0) */
	memset(&l, 0, sizeof l);
	assert_int_equal(ab_store_list_log(f->s, "b", 1, collect_log, &l), 0);
	assert_int_equal(ab_store_drop(f->s, l.job_id[0]), 1);
	memset(&l, 0, sizeof l);
	assert_int_equal(ab_store_list_log(f->s, "b", 0, collect_log, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.job_id[0], 0);
}

static void test_stale_finish_after_requeue(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "a" };
	struct ab_job old, fresh;
	struct ab_result ok;

	ab_result_set(&ok, AB_OK, 200, "");
	assert_int_equal(enqueue_n(f->s, 1, ch, 1, 100), 1);
	assert_int_equal(ab_store_claim(f->s, 100, 10, &old), 1);
	assert_int_equal(ab_store_requeue_running(f->s, 200, false), 1);
	assert_int_equal(ab_store_claim(f->s, 200, 1000, &fresh), 1);
	/* the worker whose lease expired reports late: logged, job untouched */
	assert_int_equal(ab_store_finish(f->s, &old, &ok, 1, 210, 0, false), 0);
	assert_int_equal(ab_store_count(f->s, AB_JOB_RUNNING), 1);
	assert_int_equal(ab_store_finish(f->s, &fresh, &ok, 1, 220, 0, false), 0);
	assert_int_equal(ab_store_count(f->s, AB_JOB_DONE), 1);
	ab_job_clear(&old);
	ab_job_clear(&fresh);
}

#define CONC_JOBS 120

struct claimer {
	const char *path;
	int64_t ids[CONC_JOBS];
	int n;
	int errors;
};

static void *claim_thread(void *arg)
{
	struct claimer *c = arg;
	char err[512];
	struct ab_store *s = ab_store_open(c->path, err, sizeof err);
	struct ab_job job;
	struct ab_result ok;
	int rc;

	if (!s) {
		c->errors++;
		return NULL;
	}
	ab_result_set(&ok, AB_OK, 200, "");
	for (int guard = 0; guard < 10 * CONC_JOBS; guard++) {
		rc = ab_store_claim(s, 1000, 60000, &job);
		if (rc == 0)
			break;
		if (rc < 0) {
			c->errors++;
			continue;
		}
		if (c->n < CONC_JOBS)
			c->ids[c->n] = job.id;
		c->n++;
		if (ab_store_finish(s, &job, &ok, 1, 1001, 0, false) < 0)
			c->errors++;
		ab_job_clear(&job);
	}
	ab_store_close(s);
	return NULL;
}

static void test_concurrent_claims(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "a", "b", "c" };
	struct claimer c[2] = { { .path = f->path }, { .path = f->path } };
	pthread_t t[2];
	static char seen[CONC_JOBS + 1];

	memset(seen, 0, sizeof seen);
	for (unsigned i = 0; i < CONC_JOBS / 3; i++)
		assert_int_equal(enqueue_n(f->s, i, ch, 3, 100), 3);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, claim_thread, &c[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(c[0].errors + c[1].errors, 0);
	assert_int_equal(c[0].n + c[1].n, CONC_JOBS);
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < c[i].n; k++) {
			int64_t id = c[i].ids[k];

			assert_true(id >= 1 && id <= CONC_JOBS);
			assert_int_equal(seen[id], 0);   /* never handed out twice */
			seen[id] = 1;
		}
	}
	assert_int_equal(ab_store_count(f->s, AB_JOB_DONE), CONC_JOBS);
}

#define DUR_EVENTS 400
#define DUR_KILL_AFTER 25

/* Child: enqueue events, report each committed number on the pipe.  The
 * parent kills it with SIGKILL while it is still writing. */
static void durability_child(const char *path, int wfd)
{
	static const char *const ch[] = { "file", "inbox" };
	char err[512];
	struct ab_store *s = ab_store_open(path, err, sizeof err);

	if (!s)
		_exit(2);
	for (unsigned i = 1; i <= DUR_EVENTS; i++) {
		if (enqueue_n(s, 1000 + i, ch, 2, 100) != 2)
			_exit(3);
		if (write(wfd, &i, sizeof i) != (ssize_t)sizeof i)
			_exit(4);
	}
	_exit(0);
}

static void test_durability_kill9(void **state)
{
	struct fixture *f = *state;
	unsigned got = 0, v;
	int fds[2], status;
	pid_t pid;
	char err[512], id[40], *json;
	struct ab_store *s;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		durability_child(f->path, fds[1]);
	}
	close(fds[1]);
	while (got < DUR_KILL_AFTER && read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
		got = v;
	kill(pid, SIGKILL);
	/* Commits reported after the kill decision count too. */
	while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
		got = v;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(got >= DUR_KILL_AFTER);
	s = ab_store_open(f->path, err, sizeof err);
	assert_non_null(s);
	for (unsigned i = 1; i <= got; i++) {
		make_id(id, sizeof id, 1000 + i);
		json = ab_store_event_json(s, id);
		assert_non_null(json);
		free(json);
	}
	assert_true(ab_store_count(s, AB_JOB_QUEUED) >= 2 * (int64_t)got);
	/* every event present has both its jobs: a transaction is all or nothing */
	assert_int_equal(ab_store_count(s, AB_JOB_QUEUED) % 2, 0);
	ab_store_close(s);
}

/*
 * Cross-process visibility with two connections open in one process (as
 * in the daemon) and a writer in another process (as `alertbridge send`):
 * every commit is visible to the others at once.  The lost-locks bug that
 * once hid the daemon's commits (open()+close() of the db file drops this
 * process's POSIX locks) is caught by tests/integration/daemon_e2e.sh.
 */
static int count_in_child(const char *path, enum ab_job_state state)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		char err[512];
		struct ab_store *o = ab_store_open(path, err, sizeof err);
		int64_t n;
		if (o && state == AB_JOB_QUEUED) {   /* write, like `alertbridge send` */
			const char *ch[] = { "other" };
			if (enqueue_n(o, 1000 + (unsigned)getpid(), ch, 1, 500) != 1)
				_exit(254);
		}
		n = o ? ab_store_count(o, state) : -1;
		ab_store_close(o);   /* as the last connection of its process */
		_exit(n < 0 || n > 200 ? 255 : (int)n);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_second_connection_keeps_locks(void **state)
{
	struct fixture *f = *state;
	const char *ch[] = { "file" };
	struct ab_store *second;
	struct ab_job job;
	struct ab_result r;
	char err[512];

	assert_int_equal(enqueue_n(f->s, 1, ch, 1, 1000), 1);
	second = ab_store_open(f->path, err, sizeof err);
	assert_non_null(second);
	assert_int_equal(count_in_child(f->path, AB_JOB_QUEUED), 2);
	assert_int_equal(ab_store_count(second, AB_JOB_QUEUED), 2);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 2);
	/* The second connection delivers; another process must see it at once. */
	assert_int_equal(ab_store_claim(second, 2000, 30000, &job), 1);
	ab_result_set(&r, AB_OK, 200, "ok");
	assert_int_equal(ab_store_finish(second, &job, &r, 1, 2001, 0, false), 0);
	ab_job_clear(&job);
	assert_int_equal(count_in_child(f->path, AB_JOB_DONE), 1);
	assert_int_equal(enqueue_n(f->s, 2, ch, 1, 3000), 1);
	assert_int_equal(count_in_child(f->path, AB_JOB_QUEUED), 3);
	assert_int_equal(count_in_child(f->path, AB_JOB_DONE), 1);
	ab_store_close(second);
}

/* ------------------------------------------------------------ retention */

#define OLD 1000000LL        /* rows written then are older than the cutoff */
#define CUTOFF 5000000LL
#define RECENT 10000000LL

/* enqueue_n with the event received at now (ab_event_new stamps the real
 * clock). */
static int enqueue_at(struct ab_store *s, unsigned n, const char *const *ch, int64_t now)
{
	struct ab_event *ev = ab_event_new();
	int added = -1, rc;

	assert_non_null(ev);
	make_id(ev->id, sizeof ev->id, n);
	ev->received_at = now;
	rc = ab_store_enqueue(s, ev, ch, 1, now, &added);
	ab_event_free(ev);
	return rc < 0 ? -1 : added;
}

static int64_t count_sql(struct ab_store *s, const char *sql)
{
	sqlite3_stmt *q;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(store_conn(s), sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

static bool event_there(struct ab_store *s, unsigned n)
{
	char id[AB_ID_LEN + 1];
	int rc;

	make_id(id, sizeof id, n);
	rc = ab_store_event_exists(s, id);
	assert_true(rc >= 0);
	return rc == 1;
}

/* Old done jobs, their log rows and unreferenced events go; queued,
 * running and dead jobs, recent rows, and events that a remaining job or
 * a reminder references stay.  An event seen again after pruning is new. */
static void test_prune_retention(void **state)
{
	struct fixture *f = *state;
	static const char *const a[] = { "a" };
	struct ab_prune_counts d;
	struct ab_result ok, perm;
	struct ab_job job;
	char sql[256], id[AB_ID_LEN + 1];
	unsigned i;

	ab_result_set(&ok, AB_OK, 200, NULL);
	ab_result_set(&perm, AB_PERMANENT, 400, "bad");
	/* 1-5 done, 6 dead, 7 done + reminder, 8 done recently, 9 running,
	 * 10 queued: all created long ago. */
	for (i = 1; i <= 10; i++)
		assert_int_equal(enqueue_at(f->s, i, a, OLD), 1);
	for (i = 1; i <= 9; i++) {
		assert_int_equal(ab_store_claim(f->s, OLD, 60000, &job), 1);
		make_id(id, sizeof id, i);
		assert_string_equal(job.event_id, id);
		if (i <= 5 || i == 7)
			assert_int_equal(ab_store_finish(f->s, &job, &ok, 1, OLD + 1, 0, false), 0);
		else if (i == 6)
			assert_int_equal(ab_store_finish(f->s, &job, &perm, 1, OLD + 1, 0, false), 0);
		else if (i == 8)
			assert_int_equal(ab_store_finish(f->s, &job, &ok, 1, RECENT, 0, false), 0);
		ab_job_clear(&job);
	}
	make_id(id, sizeof id, 7);
	snprintf(sql, sizeof sql, "INSERT INTO reminders(event_id, rule, offset_ms, fire_at, "
		"channels, json) VALUES('%s', 'r', 0, %lld, '[\"a\"]', '{}')", id, RECENT);
	assert_int_equal(sqlite3_exec(store_conn(f->s), sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(count_sql(f->s, "SELECT COUNT(*) FROM delivery_log"), 8);

	/* Retention 0 (no cutoff) prunes nothing. */
	assert_int_equal(ab_store_prune(f->s, 0, 1000, &d), 0);
	assert_int_equal(d.events + d.jobs + d.log, 0);
	assert_int_equal(count_sql(f->s, "SELECT COUNT(*) FROM jobs"), 10);

	/* Two rows per transaction: several chunks per table. */
	assert_int_equal(ab_store_prune(f->s, CUTOFF, 2, &d), 7 + 6 + 5);
	assert_int_equal(d.log, 7);      /* 1-7 at OLD + 1; 8's row is recent */
	assert_int_equal(d.jobs, 6);     /* 1-5 and 7 */
	assert_int_equal(d.events, 5);   /* 1-5; 7 is a reminder's */
	assert_false(d.more);
	assert_int_equal(ab_store_count(f->s, AB_JOB_DONE), 1);
	assert_int_equal(ab_store_count(f->s, AB_JOB_DEAD), 1);
	assert_int_equal(ab_store_count(f->s, AB_JOB_RUNNING), 1);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 1);
	assert_int_equal(count_sql(f->s, "SELECT COUNT(*) FROM delivery_log"), 1);
	assert_int_equal(count_sql(f->s, "SELECT COUNT(*) FROM reminders"), 1);
	for (i = 1; i <= 10; i++)
		assert_int_equal(event_there(f->s, i), i > 5);
	/* Nothing more to do. */
	assert_int_equal(ab_store_prune(f->s, CUTOFF, 2, &d), 0);
	assert_false(d.more);
	/* The dedup record is the retention window: event 1 is new again. */
	assert_int_equal(enqueue_at(f->s, 1, a, RECENT), 1);
	assert_int_equal(enqueue_at(f->s, 6, a, RECENT), 0);  /* dead job still there */
}

static int commits, deletes, max_per_commit;

static int on_commit(void *arg)
{
	(void)arg;
	commits++;
	if (deletes > max_per_commit)
		max_per_commit = deletes;
	deletes = 0;
	return 0;
}

static void on_update(void *arg, int op, const char *db, const char *tbl, sqlite3_int64 row)
{
	(void)arg;
	(void)db;
	(void)tbl;
	(void)row;
	if (op == SQLITE_DELETE)
		deletes++;
}

/* No transaction deletes more than max_rows rows, and a call stops after a
 * bounded number of transactions (more set), the next call going on. */
static void test_prune_chunks(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_conn(f->s);
	struct ab_prune_counts d;
	int64_t n, total = 0;
	int calls = 0;

	assert_int_equal(sqlite3_exec(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
		"SELECT x + 1 FROM c WHERE x < 1000) INSERT INTO delivery_log(job_id, event_id, "
		"channel, at, attempt, status) SELECT NULL, printf('%032x', x), 'a', "
		"CASE WHEN x <= 995 THEN 1000 ELSE 9000000 END, 1, 0 FROM c", NULL, NULL, NULL),
		SQLITE_OK);
	commits = deletes = max_per_commit = 0;
	sqlite3_commit_hook(db, on_commit, NULL);
	sqlite3_update_hook(db, on_update, NULL);
	n = ab_store_prune(f->s, CUTOFF, 7, &d);
	assert_true(n > 0 && n < 995);   /* the pass budget stopped it */
	assert_true(d.more);
	assert_int_equal(n % 7, 0);
	total = n;
	calls = 1;
	while (d.more && calls < 1000) {
		n = ab_store_prune(f->s, CUTOFF, 7, &d);
		assert_true(n >= 0);
		total += n;
		calls++;
	}
	sqlite3_commit_hook(db, NULL, NULL);
	sqlite3_update_hook(db, NULL, NULL);
	assert_false(d.more);
	assert_int_equal(total, 995);
	assert_true(calls > 1);
	assert_int_equal(max_per_commit, 7);
	assert_true(commits >= 995 / 7 + 1);
	assert_int_equal(count_sql(f->s, "SELECT COUNT(*) FROM delivery_log"), 5);
}

/* A group commit on the connection: prune refuses rather than join it. */
static void test_prune_in_batch(void **state)
{
	struct fixture *f = *state;
	struct ab_prune_counts d;

	assert_int_equal(ab_store_begin(f->s), 0);
	assert_int_equal(ab_store_prune(f->s, CUTOFF, 10, &d), -1);
	assert_non_null(strstr(ab_store_errmsg(f->s), "prune"));
	assert_int_equal(ab_store_commit(f->s), 0);
	assert_int_equal(ab_store_prune(f->s, CUTOFF, 10, NULL), 0);
}

/* ------------------------------------------------------------ schema version 3 */

/* The schema of a version 2 store as alertbridge wrote it before channel
 * health joined the versioned schema (store.c at schema version 2). */
static const char v2_schema[] =
	"CREATE TABLE events (id TEXT PRIMARY KEY, json TEXT NOT NULL, received_at INTEGER);"
	"CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,"
	" channel TEXT NOT NULL, kind INTEGER NOT NULL DEFAULT 0, payload TEXT,"
	" state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL, next_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	" lease_until INTEGER, last_error TEXT, UNIQUE(event_id, channel));"
	"CREATE INDEX jobs_due ON jobs(state, next_at);"
	"CREATE TABLE delivery_log (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL, event_id TEXT NOT NULL,"
	" channel TEXT NOT NULL, at INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" status INTEGER NOT NULL, code INTEGER NOT NULL DEFAULT 0,"
	" latency_ms INTEGER NOT NULL DEFAULT 0, error TEXT);"
	"CREATE INDEX delivery_log_channel ON delivery_log(channel, id);"
	"CREATE INDEX delivery_log_job ON delivery_log(job_id);"
	"CREATE TABLE throttle (rule TEXT NOT NULL, key TEXT NOT NULL,"
	" window_end INTEGER NOT NULL, suppressed INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(rule, key));"
	"CREATE TABLE groups (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" rule TEXT NOT NULL, key TEXT NOT NULL, group_by TEXT NOT NULL, channels TEXT NOT NULL,"
	" first_at INTEGER, last_at INTEGER, due_at INTEGER, last_flush INTEGER NOT NULL DEFAULT 0,"
	" count INTEGER NOT NULL DEFAULT 0, UNIQUE(rule, key));"
	"CREATE INDEX groups_due ON groups(due_at);"
	"CREATE TABLE items (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" scope TEXT NOT NULL, severity INTEGER NOT NULL, at INTEGER NOT NULL, json TEXT NOT NULL);"
	"CREATE INDEX items_scope ON items(scope, severity, seq);"
	"CREATE TABLE counts (scope TEXT NOT NULL, dim TEXT NOT NULL,"
	" name TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(scope, dim, name));"
	"CREATE TABLE digests (rule TEXT PRIMARY KEY,"
	" period_start INTEGER NOT NULL, next_at INTEGER NOT NULL);"
	"CREATE TABLE reminders (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" event_id TEXT NOT NULL, rule TEXT NOT NULL, offset_ms INTEGER NOT NULL,"
	" fire_at INTEGER NOT NULL, channels TEXT NOT NULL, json TEXT NOT NULL,"
	" done INTEGER NOT NULL DEFAULT 0, UNIQUE(event_id, rule, offset_ms));"
	"CREATE INDEX reminders_due ON reminders(done, fire_at);"
	"INSERT INTO events VALUES('" "0000000000000000000000000000000a" "', '{}', 1000);"
	"INSERT INTO jobs(event_id, channel, created_at, next_at, updated_at) VALUES("
	"'0000000000000000000000000000000a', 'a', 1000, 1000, 1000);"
	"PRAGMA user_version = 2;";

/* The table and row an older dispatcher (deliver/health.c) made on its own
 * connection, outside the versioned schema. */
static const char v2_health[] =
	"CREATE TABLE IF NOT EXISTS channel_health (channel TEXT PRIMARY KEY,"
	" state INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, reason TEXT,"
	" since INTEGER NOT NULL DEFAULT 0, last_ok INTEGER NOT NULL DEFAULT 0,"
	" last_fail INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO channel_health VALUES('slack', 1, 4, 'HTTP 404', 5000, 100, 5000);";

struct health_seen {
	int n;
	char names[4][16], reasons[4][32];
	struct ab_health_row rows[4];
};

static int health_cb(const struct ab_health_row *r, void *arg)
{
	struct health_seen *h = arg;

	if (h->n < 4) {
		snprintf(h->names[h->n], sizeof h->names[0], "%s", r->channel);
		snprintf(h->reasons[h->n], sizeof h->reasons[0], "%s", r->reason);
		h->rows[h->n] = *r;
		h->n++;
	}
	return 0;
}

/* A version 2 store file opens as version 5: its queue is untouched, the
 * channel_health table is created - or, made by an older dispatcher, kept
 * with its rows. */
static void test_migrate_v2(void **state)
{
	struct fixture *f = *state;

	for (int with_health = 0; with_health < 2; with_health++) {
		char path[160], err[512];
		struct ab_store *s;
		struct ab_health_row row;
		struct health_seen h;
		struct ab_job job;
		sqlite3 *db;

		snprintf(path, sizeof path, "%s/v2-%d.db", f->dir, with_health);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, v2_schema, NULL, NULL, NULL), SQLITE_OK);
		if (with_health)
			assert_int_equal(sqlite3_exec(db, v2_health, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);

		s = ab_store_open(path, err, sizeof err);
		if (!s)
			fail_msg("%s", err);
		assert_int_equal(count_sql(s, "PRAGMA user_version"), 7);
		assert_int_equal(ab_store_count(s, AB_JOB_QUEUED), 1);
		assert_int_equal(ab_store_claim(s, 2000, 1000, &job), 1);
		assert_string_equal(job.channel, "a");
		ab_job_clear(&job);
		memset(&h, 0, sizeof h);
		assert_int_equal(ab_store_health_list(s, health_cb, &h), 0);
		assert_int_equal(h.n, with_health);
		assert_int_equal(ab_store_health_get(s, "slack", &row), with_health);
		if (with_health) {
			assert_int_equal(row.state, AB_HEALTH_FAILING);
			assert_int_equal(row.failures, 4);
			assert_int_equal(row.since, 5000);
			assert_int_equal(row.last_ok, 100);
			assert_string_equal(h.reasons[0], "HTTP 404");
		}
		assert_int_equal(ab_store_health_put(s, "slack", AB_HEALTH_HEALTHY, 0, 9000, true,
			NULL, 9000), 0);
		assert_int_equal(ab_store_health_get(s, "slack", &row), 1);
		assert_int_equal(row.last_ok, 9000);
		ab_store_close(s);
		/* opened again: nothing left to migrate */
		s = ab_store_open(path, err, sizeof err);
		assert_non_null(s);
		assert_int_equal(ab_store_health_get(s, "slack", &row), 1);
		ab_store_close(s);
		for (int k = 0; k < 3; k++) {
			char p[170];

			snprintf(p, sizeof p, "%s%s", path, k == 0 ? "" : k == 1 ? "-wal" : "-shm");
			unlink(p);
		}
	}
}

/* Health rows: a failure keeps last_ok and sets reason and last_fail, a
 * success keeps reason and last_fail and sets last_ok; listed by name. */
static void test_health_rows(void **state)
{
	struct fixture *f = *state;
	struct ab_health_row row;
	struct health_seen h;

	assert_int_equal(ab_store_health_get(f->s, "b", &row), 0);
	assert_int_equal(row.state, AB_HEALTH_HEALTHY);
	assert_int_equal(row.failures, 0);
	assert_string_equal(row.channel, "b");
	assert_null(row.reason);
	assert_int_equal(ab_store_health_put(f->s, "b", AB_HEALTH_HEALTHY, 0, 0, true, NULL, 100),
		0);
	assert_int_equal(ab_store_health_put(f->s, "b", AB_HEALTH_HEALTHY, 1, 0, false,
		"timeout", 200), 0);
	assert_int_equal(ab_store_health_get(f->s, "b", &row), 1);
	assert_int_equal(row.failures, 1);
	assert_int_equal(row.last_ok, 100);
	assert_int_equal(row.last_fail, 200);
	assert_int_equal(ab_store_health_put(f->s, "b", AB_HEALTH_FAILING, 2, 300, false,
		"HTTP 500", 300), 0);
	assert_int_equal(ab_store_health_put(f->s, "a", AB_HEALTH_FAILING, 1, 350, false,
		"HTTP 404", 350), 0);
	assert_int_equal(ab_store_health_put(f->s, "b", AB_HEALTH_HEALTHY, 0, 400, true, "ignored",
		400), 0);
	memset(&h, 0, sizeof h);
	assert_int_equal(ab_store_health_list(f->s, health_cb, &h), 0);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.names[0], "a");
	assert_string_equal(h.reasons[0], "HTTP 404");
	assert_int_equal(h.rows[0].state, AB_HEALTH_FAILING);
	assert_int_equal(h.rows[0].last_ok, 0);
	assert_string_equal(h.names[1], "b");
	assert_string_equal(h.reasons[1], "HTTP 500");   /* the last failure's */
	assert_int_equal(h.rows[1].state, AB_HEALTH_HEALTHY);
	assert_int_equal(h.rows[1].failures, 0);
	assert_int_equal(h.rows[1].since, 400);
	assert_int_equal(h.rows[1].last_ok, 400);
	assert_int_equal(h.rows[1].last_fail, 300);
	/* inside a batch the write joins it: rolled back with it */
	assert_int_equal(ab_store_begin(f->s), 0);
	assert_int_equal(ab_store_health_put(f->s, "a", AB_HEALTH_HEALTHY, 0, 500, true, NULL, 500),
		0);
	ab_store_rollback(f->s);
	assert_int_equal(ab_store_health_get(f->s, "a", &row), 1);
	assert_int_equal(row.state, AB_HEALTH_FAILING);
	assert_int_equal(ab_store_health_put(f->s, "", AB_HEALTH_HEALTHY, 0, 0, true, NULL, 1), -1);
	assert_int_equal(ab_store_health_get(f->s, NULL, &row), -1);
}

/* A claimed job over its channel's rate goes back: queued, due at next_at,
 * its attempt not counted; a job that is not this claim's is left alone. */
static void test_defer(void **state)
{
	struct fixture *f = *state;
	static const char *const a[] = { "a" };
	struct ab_job job, again;

	assert_int_equal(enqueue_n(f->s, 1, a, 1, 1000), 1);
	assert_int_equal(ab_store_claim(f->s, 1000, 60000, &job), 1);
	assert_int_equal(job.attempts, 1);
	assert_int_equal(ab_store_defer(f->s, &job, 1500, 1001), 1);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), 1);
	assert_int_equal(ab_store_next_due(f->s), 1500);
	assert_int_equal(ab_store_claim(f->s, 1499, 60000, &again), 0);
	assert_int_equal(ab_store_defer(f->s, &job, 3000, 1002), 0);   /* queued: not ours */
	assert_int_equal(ab_store_next_due(f->s), 1500);
	assert_int_equal(ab_store_claim(f->s, 1500, 60000, &again), 1);
	assert_int_equal(again.attempts, 1);                           /* not counted */
	job.attempts = 2;                       /* a claim the job no longer matches */
	assert_int_equal(ab_store_defer(f->s, &job, 3000, 1501), 0);
	assert_int_equal(ab_store_count(f->s, AB_JOB_RUNNING), 1);
	ab_job_clear(&again);
	ab_job_clear(&job);
}

/* The write-ahead log's size in pages (its high-water mark: a log that
 * starts again is written over from its beginning, not cut). */
static long wal_pages(const char *path)
{
	char p[160];
	struct stat sb;

	snprintf(p, sizeof p, "%s-wal", path);
	return stat(p, &sb) == 0 ? (long)(sb.st_size / (4096 + 24)) : 0;
}

struct wal_reader {
	const char *path;
	int offset_us;
	volatile int stop;
	long reads;
};

/* Read transactions one after another, each held a millisecond: with two
 * of these a reader of some snapshot is almost always there, as the
 * daemon's threads are. */
static void *wal_reader(void *arg)
{
	struct wal_reader *r = arg;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(r->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_busy_timeout(db, 5000);
	usleep((useconds_t)r->offset_us);
	while (!r->stop) {
		if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM jobs;", NULL, NULL, NULL) ==
		    SQLITE_OK)
			r->reads++;
		usleep(1000);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return NULL;
}

/* Under readers that never all stop, PASSIVE checkpoints cannot let the
 * log start again, so it grew without end (2.6 GB in a syslog burst of
 * 600,000 lines); a commit that finds it past the restart mark waits for
 * them and starts it again: the log stays within a few marks however much
 * is written, and nothing is lost. */
static void test_wal_bounded_under_readers(void **state)
{
	struct fixture *f = *state;
	static const char *const ch[] = { "a", "b" };
	struct wal_reader r[2] = { { f->path, 0, 0, 0 }, { f->path, 500, 0, 0 } };
	pthread_t th[2];
	unsigned n = 0;
	long most = 0;

	ab_store_set_wal_marks(f->s, 16, 128);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, wal_reader, &r[i]), 0);
	for (int b = 0; b < 300; b++) {
		assert_int_equal(ab_store_begin(f->s), 0);
		for (int i = 0; i < 20; i++)
			assert_int_equal(enqueue_n(f->s, n++, ch, 2, 1000), 2);
		assert_int_equal(ab_store_commit(f->s), 0);
		if (wal_pages(f->path) > most)
			most = wal_pages(f->path);
	}
	for (int i = 0; i < 2; i++) {
		r[i].stop = 1;
		pthread_join(th[i], NULL);
		assert_true(r[i].reads > 10);
	}
	assert_true(most < 128 * 3);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), (int64_t)n * 2);
}

/* Write b batches of 40 jobs on s, pause_us apart; the most pages the
 * log of path held after a batch. */
static long write_batches(struct ab_store *s, const char *path, int b, unsigned *n,
	int pause_us)
{
	static const char *const ch[] = { "a", "b" };
	long most = 0;

	while (b-- > 0) {
		assert_int_equal(ab_store_begin(s), 0);
		for (int i = 0; i < 20; i++)
			assert_int_equal(enqueue_n(s, (*n)++, ch, 2, 1000), 2);
		assert_int_equal(ab_store_commit(s), 0);
		if (wal_pages(path) > most)
			most = wal_pages(path);
		if (pause_us)
			usleep((useconds_t)pause_us);
	}
	return most;
}

/* The daemon's checkpointer runs the bulk writer's PASSIVE checkpoints on
 * its own thread: with that connection's own marks out of reach (it never
 * checkpoints), the log stays bounded only because the checkpointer copies
 * it (and a writer that pauses starts it again).  Under readers that never
 * all stop, the connection's RESTART checkpoint bounds it, from the
 * checkpointer's lower mark (32 pages; a RESTART that finds the thread's
 * checkpoint running is tried again 8 pages later).  The bounds allow for
 * a loaded machine: the log's peak is some 50-70 pages alone and reached
 * 260-290 with 4 copies of this test and 3 busy loops on 2 cores, against
 * 3,100 (no hand-over) and 4,500 pages (no lower mark).  A connection that does not hand its
 * checkpoints over runs its own (with its marks out of reach the log
 * grows), and so does the bulk writer once the checkpointer stops.  A
 * second start is refused, and a file that cannot be opened is named. */
static void test_checkpointer(void **state)
{
	struct fixture *f = *state;
	struct wal_reader r[2] = { { f->path, 0, 0, 0 }, { f->path, 500, 0, 0 } };
	char err[512];
	struct ab_store *plain;
	pthread_t th[2];
	unsigned n = 0;
	long before;

	assert_int_equal(ab_store_set_bulk(f->s), 0);
	ab_store_set_wal_marks(f->s, 1 << 30, 1 << 30);
	assert_int_equal(ab_store_checkpointer_start(f->path, 16, 1 << 30, err, sizeof err), 0);
	assert_int_equal(ab_store_checkpointer_start(f->path, 16, 32, err, sizeof err), -1);
	assert_non_null(strstr(err, "already running"));
	assert_true(write_batches(f->s, f->path, 200, &n, 2000) < 128 * 6);
	assert_true(ab_store_checkpointer_stop() > 0);

	assert_int_equal(ab_store_checkpointer_start(f->path, 16, 32, err, sizeof err), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, wal_reader, &r[i]), 0);
	assert_true(write_batches(f->s, f->path, 300, &n, 0) < 128 * 6);
	for (int i = 0; i < 2; i++) {
		r[i].stop = 1;
		pthread_join(th[i], NULL);
	}

	plain = ab_store_open(f->path, err, sizeof err);
	assert_non_null(plain);
	ab_store_set_wal_marks(plain, 1 << 30, 1 << 30);
	before = wal_pages(f->path);
	write_batches(plain, f->path, 100, &n, 0);
	assert_true(wal_pages(f->path) > before + 128);
	ab_store_close(plain);

	assert_true(ab_store_checkpointer_stop() > 0);
	assert_int_equal(ab_store_checkpointer_stop(), 0);   /* none runs */
	ab_store_set_wal_marks(f->s, 1 << 30, 1 << 30);
	write_batches(f->s, f->path, 1, &n, 0);   /* the log starts again (plain's close copied it) */
	before = wal_pages(f->path);
	write_batches(f->s, f->path, 100, &n, 0);
	assert_true(wal_pages(f->path) > before + 128);
	assert_int_equal(ab_store_count(f->s, AB_JOB_QUEUED), (int64_t)n * 2);
	assert_int_equal(ab_store_checkpointer_start("/nonexistent/dir/store.db", 0, 0, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/dir/store.db"));
}

static void test_names(void **state)
{
	static const struct { int v; const char *job, *status; } t[] = {
		{ 0, "queued", "ok" }, { 1, "running", "retry" }, { 2, "done", "permanent" },
		{ 3, "dead", "unknown" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_string_equal(ab_job_state_name((enum ab_job_state)t[i].v), t[i].job);
		assert_string_equal(ab_status_name(t[i].v), t[i].status);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_mode_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_waits_for_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedupe_after_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requeue_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_and_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_people_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_finish_after_requeue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_connection_keeps_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durability_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_in_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_bounded_under_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpointer, setup, teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
