/*
 * committer.c - group commit for callers that each wait for their own
 * event (the milter's end-of-message).
 *
 * Public: ab_committer_new, ab_committer_free, ab_committer_submit,
 *   ab_committer_submit_many, ab_committer_stats (committer.h).
 *
 * Leader and followers, no thread of its own: a submission joins the
 * queue; a submitter that finds nobody committing takes the whole queue
 * (its own request and every one that arrived meanwhile), routes and
 * stores them in one transaction (one fsync), marks them done and wakes
 * the others.  Submissions that arrive while a batch commits wait for it
 * and then form the next batch, so a caller waits for at most the batch
 * in progress plus its own.  A batch either commits whole or not at all:
 * a failure rolls it back and every request in it gets a message (the
 * others' says whose failure it was; the MTA retries them all), and the
 * store connection is reopened on the next batch.  Failures are store or
 * memory faults, which hit the batch's neighbours too, so the batch is not
 * retried one by one.
 *
 * Diagnostics: none logged here; callers log the message they get.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/store.h"
#include "ingest/ingest.h"
#include "ingest/committer.h"

struct request {
	const struct ab_config *cfg;
	struct ab_event *ev;
	const char *const *direct;
	size_t n_direct;
	struct ab_route_result *rr;
	int rc;
	bool done;
	char err[512];
	struct request *next;
};

struct ab_committer {
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* a batch finished */
	char *store_path;
	struct ab_store *st;          /* used by the leader only */
	struct request *head, **tail; /* the next batch */
	bool leading;                 /* a batch is being committed */
	struct ab_committer_stats stats;
};

struct ab_committer *ab_committer_new(const char *store_path)
{
	struct ab_committer *c = calloc(1, sizeof *c);

	if (!c || !(c->store_path = strdup(store_path))) {
		free(c);
		return NULL;
	}
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->store_path);
		free(c);
		return NULL;
	}
	if (pthread_cond_init(&c->cv, NULL) != 0) {
		pthread_mutex_destroy(&c->mu);
		free(c->store_path);
		free(c);
		return NULL;
	}
	c->tail = &c->head;
	return c;
}

void ab_committer_free(struct ab_committer *c)
{
	if (!c)
		return;
	ab_store_close(c->st);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->store_path);
	free(c);
}

/* Every request of the batch gets rc and msg. */
static void finish_all(struct request *batch, int rc, const char *msg)
{
	for (struct request *r = batch; r; r = r->next) {
		r->rc = rc;
		if (rc < 0 && !r->err[0])
			snprintf(r->err, sizeof r->err, "%s", msg);
	}
}

/* The leader, without the lock: one transaction for the whole batch. */
static int commit_batch(struct ab_committer *c, struct request *batch)
{
	int64_t now = ab_now_ms();
	char err[512];

	if (!c->st && !(c->st = ab_store_open(c->store_path, err, sizeof err))) {
		finish_all(batch, -1, err);
		return -1;
	}
	if (batch->cfg)
		ab_store_set_min_free(c->st, (uint64_t)batch->cfg->min_free_mb << 20);
	if (ab_store_room(c->st) < 0) {   /* below min_free_mb: nothing is tried */
		finish_all(batch, -2, ab_store_errmsg(c->st));
		return -1;
	}
	if (ab_store_begin(c->st) < 0) {
		snprintf(err, sizeof err, "%s", ab_store_errmsg(c->st));
		goto fail;
	}
	for (struct request *r = batch; r; r = r->next) {
		int rc = r->n_direct ?
			ab_ingest_direct(c->st, r->ev, r->direct, r->n_direct, now, r->rr, NULL,
					 r->err, sizeof r->err) :
			ab_ingest(c->st, r->cfg, r->ev, now, r->rr, NULL, r->err, sizeof r->err);

		if (rc < 0) {   /* the others: say whose failure took them down */
			snprintf(err, sizeof err, "not stored: the group commit it was in failed "
				 "(%.400s)", r->err);
			ab_store_rollback(c->st);
			for (struct request *q = batch; q; q = q->next)
				if (q != r)
					snprintf(q->err, sizeof q->err, "%s", err);
			finish_all(batch, -1, err);
			goto reopen;
		}
	}
	if (ab_store_commit(c->st) < 0) {
		snprintf(err, sizeof err, "%s", ab_store_errmsg(c->st));
		goto fail;
	}
	finish_all(batch, 0, NULL);
	return 0;
fail:
	for (struct request *r = batch; r; r = r->next)
		r->err[0] = '\0';   /* one message for all: the batch's */
	finish_all(batch, -1, err);
reopen:
	ab_store_close(c->st);   /* reopen next time: the fault may be the connection's */
	c->st = NULL;
	return -1;
}

/* Queue reqs[0..n) together (one lock: no leader can take part of them,
 * so they land in one batch) and wait until the batch that has them is
 * done.  The first failed request's rc and message. */
static int submit(struct ab_committer *c, struct request *reqs, size_t n, char *err,
	size_t errsz)
{
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < n; i++) {
		*c->tail = &reqs[i];
		c->tail = &reqs[i].next;
	}
	c->stats.submitted += n;
	c->stats.waiting += n;
	while (!reqs[n - 1].done) {
		struct request *batch;
		int brc;

		if (c->leading) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		batch = c->head;     /* ours and everything queued since */
		c->head = NULL;
		c->tail = &c->head;
		c->stats.waiting = 0;
		c->leading = true;
		c->stats.batches++;
		pthread_mutex_unlock(&c->mu);
		brc = commit_batch(c, batch);
		pthread_mutex_lock(&c->mu);
		if (brc < 0)
			c->stats.failed++;
		for (struct request *q = batch; q; q = q->next)
			q->done = true;
		c->leading = false;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (reqs[i].rc < 0) {
			rc = reqs[i].rc;
			snprintf(err, errsz, "%s", reqs[i].err);
		}
	return rc;
}

int ab_committer_submit(struct ab_committer *c, const struct ab_config *cfg, struct ab_event *ev,
	const char *const *direct, size_t n_direct, struct ab_route_result *rr, char *err,
	size_t errsz)
{
	struct ab_route_result local;
	struct request r = { .cfg = cfg, .ev = ev, .direct = direct, .n_direct = n_direct,
			     .rr = rr ? rr : &local };

	return submit(c, &r, 1, err, errsz);
}

int ab_committer_submit_many(struct ab_committer *c, const struct ab_config *cfg,
	struct ab_event *const *evs, size_t n, char *err, size_t errsz)
{
	struct ab_route_result *rr;
	struct request *reqs;
	int rc;

	if (n == 0)
		return 0;
	reqs = calloc(n, sizeof *reqs);
	rr = calloc(n, sizeof *rr);
	if (!reqs || !rr) {
		free(reqs);
		free(rr);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		reqs[i].cfg = cfg;
		reqs[i].ev = evs[i];
		reqs[i].rr = &rr[i];
	}
	rc = submit(c, reqs, n, err, errsz);
	free(reqs);
	free(rr);
	return rc;
}

void ab_committer_stats(struct ab_committer *c, struct ab_committer_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->stats;
	pthread_mutex_unlock(&c->mu);
}
