/*
 * recorder.c - one thread that records the delivery workers' results in
 * group commits (see recorder.h).
 *
 * Public: ab_recorder_start, ab_recorder_put, ab_recorder_stop.
 * Diagnostics: when the store refuses results (a full disk), one error line
 * (ab_complain: then one a minute with the count, and one when it is
 * over); the results are kept and written again every RECORD_RETRY_MS, and
 * puts are refused meanwhile, so the workers send no more.  At stop, one
 * error line with the count of results the store would not take (their
 * jobs are queued again at the next start).
 *
 * Why: each worker committed its own results in small transactions (every
 * few answers, so that a crash re-sends little).  Each transaction wrote
 * the same job, log and index pages again and read the channel's health:
 * about 30 us of the 80 us a delivered alert cost (route_deliver burst).
 * Here the results of every worker that arrive while a commit runs go in
 * the next one, up to COMMIT_MAX at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/health.h"
#include "deliver/recorder.h"
#include "lib/log.h"
#include "lib/util.h"

#define COMMIT_MAX 1024        /* results in one transaction */
#define QUEUE_MAX 4096         /* results handed and not committed: put waits above */
#define RECORD_RETRY_MS 1000   /* refused results: tried again this often */
#define COMPLAIN_EVERY_MS 60000

static struct ab_complaint refused_log = AB_COMPLAINT_INIT;

/* One result: the job's fields the store reads (store.c finish_one), its
 * strings in the item's own allocation. */
struct item {
	struct ab_job job;
	struct ab_result res;
	int64_t latency_ms, now, next_at;
	bool dead;
};

/* What one put handed: n results made with the snapshot rt. */
struct chunk {
	struct chunk *next;
	struct ab_runtime *rt;
	size_t n;
	struct item items[];
};

struct ab_recorder {
	pthread_mutex_t mu;
	pthread_cond_t work, room;
	struct chunk *head, *tail;   /* handed, in order */
	size_t queued;               /* results in them */
	bool stopping, refused;
	char why[512];               /* the store's last refusal */
	struct ab_store *st;
	pthread_t th;
	void (*requeued)(void *arg);
	void *arg;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void chunk_free(struct chunk *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].job.channel);
		free(c->items[i].job.recipient);
		free(c->items[i].job.fp);
	}
	ab_runtime_unref(c->rt);
	free(c);
}

static struct chunk *chunk_new(struct ab_runtime *rt, const struct ab_finish *f, size_t n)
{
	struct chunk *c = calloc(1, sizeof *c + n * sizeof c->items[0]);

	if (!c)
		return NULL;
	c->rt = ab_runtime_ref(rt);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &c->items[i];
		const struct ab_job *j = f[i].job;

		c->n = i + 1;
		it->job.id = j->id;
		memcpy(it->job.event_id, j->event_id, sizeof it->job.event_id);
		it->job.attempts = j->attempts;
		it->job.channel = strdup(j->channel);
		it->job.recipient = dup_or_null(j->recipient);
		it->job.fp = dup_or_null(j->fp);
		if (!it->job.channel || (j->recipient && !it->job.recipient) ||
		    (j->fp && !it->job.fp)) {
			chunk_free(c);
			return NULL;
		}
		it->res = *f[i].res;
		it->latency_ms = f[i].latency_ms;
		it->now = f[i].now;
		it->next_at = f[i].next_at;
		it->dead = f[i].dead;
	}
	return c;
}

/* Channel health after the commit, in the results' order; a success that a
 * later success of the same channel follows with no failure between says
 * nothing the later one does not (healthy, no failures, last_ok), so health
 * is read once per run of successes, not once per result.  Walked from the
 * end: later[] holds, per channel, the status of its next result. */
#define HEALTH_CHANNELS 64
static void health(struct ab_store *st, struct chunk **cs, size_t nc, size_t n)
{
	struct { const char *ch; bool ok; } later[HEALTH_CHANNELS];
	const struct item **its = malloc(n * sizeof *its);
	struct ab_runtime **rts = malloc(n * sizeof *rts);
	size_t k = 0, nl = 0;
	bool *skip;

	skip = calloc(n ? n : 1, sizeof *skip);
	if (!its || !rts || !skip) {
		free(its);
		free(rts);
		free(skip);
		return;
	}
	for (size_t c = 0; c < nc; c++)
		for (size_t i = 0; i < cs[c]->n; i++) {
			its[k] = &cs[c]->items[i];
			rts[k++] = cs[c]->rt;
		}
	for (size_t i = n; i-- > 0;) {
		const char *ch = its[i]->job.channel;
		size_t l = 0;

		while (l < nl && strcmp(later[l].ch, ch) != 0)
			l++;
		if (l < nl)
			skip[i] = its[i]->res.status == AB_OK && later[l].ok;
		else if (nl < HEALTH_CHANNELS)
			later[nl++].ch = ch;
		else
			l = HEALTH_CHANNELS;   /* table full: record it, never skip */
		if (l < HEALTH_CHANNELS)
			later[l].ok = its[i]->res.status == AB_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (!skip[i] && ab_runtime_channel(rts[i], its[i]->job.channel))
			ab_health_record(st, rts[i], &its[i]->job, &its[i]->res, its[i]->now);
	free(its);
	free(rts);
	free(skip);
}

/* Commit the results of chunks cs[0..nc-1] (n in all) in one transaction,
 * then their channels' health.  0, or -1 when the store refused them. */
static int commit(struct ab_recorder *r, struct chunk **cs, size_t nc, size_t n, bool *retried)
{
	struct ab_finish *f = calloc(n, sizeof *f);
	size_t k = 0;
	int rc;

	if (!f) {
		snprintf(r->why, sizeof r->why, "out of memory");
		return -1;
	}
	for (size_t c = 0; c < nc; c++)
		for (size_t i = 0; i < cs[c]->n; i++) {
			const struct item *it = &cs[c]->items[i];

			f[k++] = (struct ab_finish){ &it->job, &it->res, it->latency_ms, it->now,
				it->next_at, it->dead };
			if (it->res.status == AB_RETRY && !it->dead)
				*retried = true;
		}
	rc = ab_store_finish_batch(r->st, f, n);
	free(f);
	if (rc < 0) {
		snprintf(r->why, sizeof r->why, "%s", ab_store_errmsg(r->st));
		return -1;
	}
	health(r->st, cs, nc, n);
	return 0;
}

static void *run(void *arg)
{
	struct ab_recorder *r = arg;
	struct chunk *cs[COMMIT_MAX];

	pthread_mutex_lock(&r->mu);
	for (;;) {
		size_t nc = 0, n = 0;
		bool retried = false;
		int rc;

		while (!r->head && !r->stopping)
			pthread_cond_wait(&r->work, &r->mu);
		if (!r->head)
			break;   /* stopping, everything recorded */
		/* everything handed so far, whole chunks, up to COMMIT_MAX results
		 * (a first chunk alone may hold more: a put is at most a batch) */
		while (r->head && nc < COMMIT_MAX && (nc == 0 || n + r->head->n <= COMMIT_MAX)) {
			cs[nc] = r->head;
			n += r->head->n;
			r->head = r->head->next;
			cs[nc++]->next = NULL;
		}
		if (!r->head)
			r->tail = NULL;
		pthread_mutex_unlock(&r->mu);
		rc = commit(r, cs, nc, n, &retried);
		pthread_mutex_lock(&r->mu);
		if (rc == 0) {
			for (size_t c = 0; c < nc; c++)
				chunk_free(cs[c]);
			r->queued -= n;
			if (r->refused)
				ab_complain_clear(&refused_log, AB_LOG_NOTICE, "dispatcher: delivery "
					"results are recorded again");
			r->refused = false;
			pthread_cond_broadcast(&r->room);
			if (retried && r->requeued) {
				pthread_mutex_unlock(&r->mu);
				r->requeued(r->arg);
				pthread_mutex_lock(&r->mu);
			}
			continue;
		}
		/* refused: back at the head, in order; puts are refused meanwhile */
		for (size_t c = nc; c-- > 0;) {
			cs[c]->next = r->head;
			r->head = cs[c];
			if (!r->tail)
				r->tail = cs[c];
		}
		r->refused = true;
		pthread_cond_broadcast(&r->room);   /* waiting puts: refused now */
		ab_complain(&refused_log, COMPLAIN_EVERY_MS, AB_LOG_ERR, "dispatcher: cannot "
			"record the results of %zu delivered job(s): %s (kept in memory, tried "
			"again every %d ms)", r->queued, r->why, RECORD_RETRY_MS);
		if (r->stopping) {
			ab_log(AB_LOG_ERR, "dispatcher: stopping with the results of %zu job(s) not "
				"recorded: they are queued again at the next start", r->queued);
			break;
		}
		{
			struct timespec ts;

			ab_deadline(&ts, CLOCK_REALTIME, RECORD_RETRY_MS);
			pthread_cond_timedwait(&r->work, &r->mu, &ts);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct ab_recorder *ab_recorder_start(const char *store_path, void (*requeued)(void *arg),
	void *arg, char *err, size_t errsz)
{
	struct ab_recorder *r = calloc(1, sizeof *r);
	int e;

	if (!r) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (!(r->st = ab_store_open(store_path, err, errsz))) {
		free(r);
		return NULL;
	}
	/* not fsynced: see ab_store_set_relaxed (a power loss may undo the last
	 * results: sent again, never lost); on failure FULL, slower only */
	if (ab_store_set_relaxed(r->st) < 0)
		ab_log(AB_LOG_WARNING, "dispatcher: %s", ab_store_errmsg(r->st));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->room, NULL);
	r->requeued = requeued;
	r->arg = arg;
	if ((e = pthread_create(&r->th, NULL, run, r)) != 0) {
		snprintf(err, errsz, "cannot start the result recorder: %s", strerror(e));
		ab_store_close(r->st);
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->work);
		pthread_cond_destroy(&r->room);
		free(r);
		return NULL;
	}
	pthread_setname_np(r->th, "ab-recorder");
	return r;
}

int ab_recorder_put(struct ab_recorder *r, struct ab_runtime *rt, const struct ab_finish *f,
	size_t n, char *err, size_t errsz)
{
	struct chunk *c;

	if (n == 0)
		return 0;
	if (!(c = chunk_new(rt, f, n))) {
		snprintf(err, errsz, "dispatcher: results: out of memory");
		return -1;
	}
	pthread_mutex_lock(&r->mu);
	while (!r->refused && !r->stopping && r->queued > 0 && r->queued + n > QUEUE_MAX)
		pthread_cond_wait(&r->room, &r->mu);
	if (r->refused) {
		snprintf(err, errsz, "%s", r->why);
		pthread_mutex_unlock(&r->mu);
		chunk_free(c);
		return -1;
	}
	if (r->tail)
		r->tail->next = c;
	else
		r->head = c;
	r->tail = c;
	r->queued += n;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

void ab_recorder_stop(struct ab_recorder *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_broadcast(&r->work);
	pthread_cond_broadcast(&r->room);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	while (r->head) {   /* refused at the end: not recorded (logged) */
		struct chunk *c = r->head;

		r->head = c->next;
		chunk_free(c);
	}
	ab_store_close(r->st);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->room);
	free(r);
}
