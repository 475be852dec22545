/*
 * dispatch.c - delivery worker threads.
 *
 * Public: ab_dispatch_start, ab_dispatch_set_runtime, ab_dispatch_wake,
 *         ab_dispatch_stop, ab_backoff_ms, ab_retry_at.
 * Diagnostics: one log line per failed attempt (warning) and per dead
 *         letter (error), with the channel, job, attempt and the plugin's
 *         short message; never the payload or a secret.
 *
 * Each worker owns a store connection.  It claims the oldest due job (a
 * lease protects it from other workers; expired leases are requeued, and
 * at start every RUNNING job is requeued, so a kill -9 loses nothing),
 * takes a reference on the current runtime snapshot, calls the channel's
 * plugin and records the outcome.  The core owns retry: exponential
 * backoff with full jitter, never sooner than the plugin's retry-after,
 * dead-lettered after max_age.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dispatch.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "health.h"   /* issue 5: rate limit + channel health */

struct ab_dispatcher {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ab_runtime *rt;      /* current snapshot (one reference held) */
	bool stopping;
	unsigned wakeups;
	char *store_path;
	pthread_t *threads;
	int n_threads;
};

int64_t ab_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, uint64_t rnd)
{
	int64_t ceiling = base_ms > 0 ? base_ms : 1;

	if (attempt < 1)
		attempt = 1;
	for (unsigned i = 1; i < attempt && ceiling < cap_ms; i++)
		ceiling = ceiling > INT64_MAX / 2 ? INT64_MAX : ceiling * 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	if (ceiling <= 0)
		return 0;
	return (int64_t)(rnd % ((uint64_t)ceiling + 1));
}

int64_t ab_retry_at(int64_t now, unsigned attempt, int retry_after_s, int64_t base_ms,
	int64_t cap_ms, uint64_t rnd)
{
	int64_t delay = ab_backoff_ms(attempt, base_ms, cap_ms, rnd);
	int64_t peer = retry_after_s > 0 ? (int64_t)retry_after_s * 1000 : 0;

	return now + (delay > peer ? delay : peer);
}

static uint64_t random64(void)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (uint64_t)ab_mono_ms() * 6364136223846793005ULL + 1442695040888963407ULL;
	return r;
}

static struct ab_runtime *current(struct ab_dispatcher *d)
{
	struct ab_runtime *rt;

	pthread_mutex_lock(&d->mu);
	rt = ab_runtime_ref(d->rt);
	pthread_mutex_unlock(&d->mu);
	return rt;
}

static void deliver(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	struct ab_job *job)
{
	const struct ab_dispatch_conf *dc = &rt->cfg->dispatch;
	struct ab_channel_rt *ch = ab_runtime_channel(rt, job->channel);
	struct ab_result res;
	struct ab_message msg;
	json_error_t jerr;
	json_t *payload = NULL;
	int64_t t0, now, latency, next_at = 0;
	bool dead = false;

	(void)d;
	memset(&res, 0, sizeof res);
	/* --- channels (issue 5): over its rate -> back in the queue, not an attempt */
	if (ch && ab_chanctl_admit(rt, job, ab_now_ms()) > 0)
		return;
	t0 = ab_mono_ms();
	if (!ch) {
		ab_result_set(&res, AB_PERMANENT, 0, "channel is not configured (any more): add it "
			"back and run 'alertbridge queue retry'");
	} else if (!(payload = json_loads(job->payload ? job->payload : "null", 0, &jerr)) ||
		   !json_is_object(payload)) {
		ab_result_set(&res, AB_PERMANENT, 0, "stored payload is not a JSON object");
	} else {
		msg.kind = (enum ab_msg_kind)job->kind;
		msg.id = job->event_id;
		msg.attempt = (unsigned)job->attempts;
		msg.payload = payload;
		ab_result_set(&res, AB_RETRY, 0, "plugin returned no result");
		ch->plugin.api->send(ch->inst, &msg, &res);
		res.message[sizeof res.message - 1] = '\0';
	}
	json_decref(payload);
	now = ab_now_ms();
	latency = ab_mono_ms() - t0;

	switch (res.status) {
	case AB_OK:
		ab_log(AB_LOG_DEBUG, "job %lld: delivered to %s (attempt %d, %lld ms)",
			(long long)job->id, job->channel, job->attempts, (long long)latency);
		break;
	case AB_RETRY:
		if (now - job->created_at >= dc->max_age_ms) {
			dead = true;
			ab_log(AB_LOG_ERR, "job %lld: channel %s still failing after %d attempts "
				"(older than max_age): dead letter: %s", (long long)job->id,
				job->channel, job->attempts, res.message);
		} else {
			next_at = ab_retry_at(now, (unsigned)job->attempts, res.retry_after,
				dc->backoff_base_ms, dc->backoff_cap_ms, random64());
			ab_log(AB_LOG_WARNING, "job %lld: channel %s attempt %d failed (%s), retry in "
				"%lld ms", (long long)job->id, job->channel, job->attempts,
				res.message, (long long)(next_at - now));
		}
		break;
	default:
		res.status = AB_PERMANENT;
		dead = true;
		ab_log(AB_LOG_ERR, "job %lld: channel %s refused permanently: dead letter: %s",
			(long long)job->id, job->channel, res.message);
		break;
	}
	if (ab_store_finish(st, job, &res, latency, now, next_at, dead) < 0)
		ab_log(AB_LOG_ERR, "job %lld: could not record the result: %s (the job will be "
			"retried when its lease expires)", (long long)job->id, ab_store_errmsg(st));
	else if (ch)
		ab_chanctl_result(st, rt, job, &res, now);   /* issue 5: channel health */
}

static void *worker(void *arg)
{
	struct ab_dispatcher *d = arg;
	char err[512];
	struct ab_store *st = ab_store_open(d->store_path, err, sizeof err);
	int64_t last_requeue = 0;

	if (!st) {
		ab_log(AB_LOG_ERR, "dispatcher: %s", err);
		return NULL;
	}
	for (;;) {
		struct ab_runtime *rt;
		struct ab_job job;
		int64_t now, poll_ms, next;
		unsigned seen;
		int r;

		pthread_mutex_lock(&d->mu);
		if (d->stopping) {
			pthread_mutex_unlock(&d->mu);
			break;
		}
		seen = d->wakeups;
		pthread_mutex_unlock(&d->mu);

		rt = current(d);
		now = ab_now_ms();
		poll_ms = rt->cfg->dispatch.poll_ms;
		if (now - last_requeue >= poll_ms) {
			ab_store_requeue_running(st, now, false);
			last_requeue = now;
		}
		memset(&job, 0, sizeof job);
		r = ab_store_claim(st, now, rt->cfg->dispatch.timeout_ms, &job);
		if (r == 1) {
			deliver(d, st, rt, &job);
			ab_job_clear(&job);
			ab_runtime_unref(rt);
			continue;
		}
		if (r < 0)
			ab_log(AB_LOG_ERR, "dispatcher: cannot read the queue: %s", ab_store_errmsg(st));
		ab_runtime_unref(rt);

		/* Sleep until woken, the next job is due, or the poll interval. */
		next = r == 0 ? ab_store_next_due(st) : -1;
		if (next >= 0 && next - now < poll_ms)
			poll_ms = next - now > 0 ? next - now : 1;
		pthread_mutex_lock(&d->mu);
		if (!d->stopping && d->wakeups == seen) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += poll_ms / 1000;
			ts.tv_nsec += (poll_ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
		}
		pthread_mutex_unlock(&d->mu);
	}
	ab_store_close(st);
	return NULL;
}

struct ab_dispatcher *ab_dispatch_start(const char *store_path, struct ab_runtime *rt,
	char *err, size_t errsz)
{
	struct ab_dispatcher *d = calloc(1, sizeof *d);
	int n = rt->cfg->dispatch.workers > 0 ? rt->cfg->dispatch.workers : 1;

	if (!d || !(d->store_path = strdup(store_path)) ||
	    !(d->threads = calloc((size_t)n, sizeof *d->threads))) {
		snprintf(err, errsz, "out of memory");
		if (d)
			free(d->store_path);
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->rt = ab_runtime_ref(rt);
	for (int i = 0; i < n; i++) {
		int e = pthread_create(&d->threads[i], NULL, worker, d);
		if (e) {
			snprintf(err, errsz, "cannot start dispatcher thread: %s", strerror(e));
			d->n_threads = i;
			ab_dispatch_stop(d);
			return NULL;
		}
	}
	d->n_threads = n;
	return d;
}

void ab_dispatch_set_runtime(struct ab_dispatcher *d, struct ab_runtime *rt)
{
	struct ab_runtime *old;

	pthread_mutex_lock(&d->mu);
	old = d->rt;
	d->rt = ab_runtime_ref(rt);
	d->wakeups++;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	ab_runtime_unref(old);
}

void ab_dispatch_wake(struct ab_dispatcher *d)
{
	pthread_mutex_lock(&d->mu);
	d->wakeups++;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void ab_dispatch_stop(struct ab_dispatcher *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	for (int i = 0; i < d->n_threads; i++)
		pthread_join(d->threads[i], NULL);
	ab_runtime_unref(d->rt);
	ab_chanctl_shutdown();   /* issue 5 */
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d->threads);
	free(d->store_path);
	free(d);
}
