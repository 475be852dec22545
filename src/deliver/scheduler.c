/*
 * scheduler.c - the scheduler thread of alertbridged: every pass flushes what
 * is due (ab_noise_flush: groups, digests, reminders; each one its own
 * durable transaction) and wakes the dispatcher when jobs were queued.  It
 * sleeps until the next due time, at most AB_SCHED_MAX_SLEEP_MS, so that
 * digests of rules added by a reload get their first schedule soon.
 * Retention: at start and at most once a minute after, rows older than the
 * `retention` setting are pruned (ab_store_prune, chunks of
 * AB_SCHED_PRUNE_ROWS rows per transaction so other writers are never held
 * up long); when a call stops early, the next pass continues.
 *
 * Public: ab_sched_start, ab_sched_set_runtime, ab_sched_kick,
 * ab_sched_passes, ab_sched_queued, ab_sched_stop.
 * Diagnostics: "scheduler: ..." at warning level when a flush fails (it
 * is retried on the next pass; nothing due is lost) or pruning fails;
 * "store: pruned N events, N jobs, N delivery log rows older than 30d" at
 * info level when rows were pruned.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "route/noise.h"
#include "deliver/scheduler.h"
#include "store/store.h"
#include "lib/util.h"

#define AB_SCHED_MAX_SLEEP_MS 1000
#define AB_SCHED_MIN_SLEEP_MS 10
#define AB_SCHED_PRUNE_EVERY_MS 60000
#define AB_SCHED_PRUNE_ROWS 1000
#define AB_SCHED_COMPLAIN_MS 60000   /* a flush that keeps failing: a line a minute */

static struct ab_complaint flush_failed = AB_COMPLAINT_INIT;

struct ab_sched {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kick;
	struct ab_store *st;
	struct ab_runtime *rt;
	struct ab_dispatcher *disp;
	ab_sched_clock_fn clock;
	void *clock_arg;
	uint64_t passes, queued;
	int64_t next_prune;   /* scheduler clock; 0 = at the first pass */
};

static int64_t now_of(struct ab_sched *s)
{
	return s->clock ? s->clock(s->clock_arg) : ab_now_ms();
}

/* "30d", "36h", "90m": a retention (at least an hour) for the log line. */
static void fmt_retention(int64_t ms, char *out, size_t outsz)
{
	if (ms % (24 * 3600 * 1000LL) == 0)
		snprintf(out, outsz, "%lldd", (long long)(ms / (24 * 3600 * 1000LL)));
	else if (ms % (3600 * 1000LL) == 0)
		snprintf(out, outsz, "%lldh", (long long)(ms / (3600 * 1000LL)));
	else if (ms % 60000 == 0)
		snprintf(out, outsz, "%lldm", (long long)(ms / 60000));
	else
		snprintf(out, outsz, "%llds", (long long)(ms / 1000));
}

/* Retention pass when one is due: at start, then at most once a minute,
 * or on the next pass when the last call stopped early. */
static void prune(struct ab_sched *s, int64_t retention_ms, int64_t now)
{
	struct ab_prune_counts d;
	char ret[32];
	int64_t n;

	if (retention_ms <= 0 || now < s->next_prune || now - retention_ms <= 0)
		return;
	n = ab_store_prune(s->st, now - retention_ms, AB_SCHED_PRUNE_ROWS, &d);
	s->next_prune = n >= 0 && d.more ? now : now + AB_SCHED_PRUNE_EVERY_MS;
	if (n < 0)
		ab_log(AB_LOG_WARNING, "scheduler: %s (pruning again in a minute)",
			ab_store_errmsg(s->st));
	if (n > 0 || (n < 0 && d.events + d.jobs + d.log > 0)) {
		fmt_retention(retention_ms, ret, sizeof ret);
		ab_log(AB_LOG_INFO, "store: pruned %lld events, %lld jobs, %lld delivery log rows "
			"older than %s", (long long)d.events, (long long)d.jobs, (long long)d.log, ret);
	}
}

static void *run(void *arg)
{
	struct ab_sched *s = arg;
	char err[512];

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct ab_runtime *rt = ab_runtime_ref(s->rt);
		int64_t now, next, wait_ms, retention_ms;
		int queued = 0;
		struct timespec ts;

		s->kick = false;
		pthread_mutex_unlock(&s->mu);
		now = now_of(s);
		if (ab_noise_flush(s->st, rt->cfg, now, &queued, err, sizeof err) < 0)
			ab_complain(&flush_failed, AB_SCHED_COMPLAIN_MS, AB_LOG_WARNING,
				    "scheduler: %s (retrying on the next pass)", err);
		else
			ab_complain_clear(&flush_failed, AB_LOG_NOTICE, "scheduler: flushing again");
		retention_ms = rt->cfg->retention_ms;
		ab_runtime_unref(rt);
		if (queued > 0 && s->disp)
			ab_dispatch_wake(s->disp);
		prune(s, retention_ms, now);   /* after the wake: deliveries go first */
		next = ab_noise_next_due(s->st);
		wait_ms = AB_SCHED_MAX_SLEEP_MS;
		if (next >= 0 && next - now_of(s) < wait_ms)
			wait_ms = next - now_of(s);
		if (wait_ms < AB_SCHED_MIN_SLEEP_MS)
			wait_ms = AB_SCHED_MIN_SLEEP_MS;
		pthread_mutex_lock(&s->mu);
		s->passes++;
		s->queued += (uint64_t)queued;
		pthread_cond_broadcast(&s->cv);
		ab_deadline(&ts, CLOCK_REALTIME, wait_ms);
		while (!s->stop && !s->kick)
			if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct ab_sched *ab_sched_start(const char *store_path, struct ab_runtime *rt,
	struct ab_dispatcher *disp, ab_sched_clock_fn clock, void *clock_arg,
	char *err, size_t errsz)
{
	struct ab_sched *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, errsz, "scheduler: out of memory");
		return NULL;
	}
	s->st = ab_store_open(store_path, err, errsz);
	if (!s->st) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->rt = ab_runtime_ref(rt);
	s->disp = disp;
	s->clock = clock;
	s->clock_arg = clock_arg;
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		snprintf(err, errsz, "scheduler: cannot start a thread");
		ab_runtime_unref(s->rt);
		ab_store_close(s->st);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return NULL;
	}
	pthread_setname_np(s->thread, "ab-scheduler");
	return s;
}

void ab_sched_set_runtime(struct ab_sched *s, struct ab_runtime *rt)
{
	struct ab_runtime *old;

	pthread_mutex_lock(&s->mu);
	old = s->rt;
	s->rt = ab_runtime_ref(rt);
	s->kick = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	ab_runtime_unref(old);
}

void ab_sched_kick(struct ab_sched *s)
{
	pthread_mutex_lock(&s->mu);
	s->kick = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

uint64_t ab_sched_passes(struct ab_sched *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->mu);
	n = s->passes;
	pthread_mutex_unlock(&s->mu);
	return n;
}

uint64_t ab_sched_queued(struct ab_sched *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->mu);
	n = s->queued;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void ab_sched_stop(struct ab_sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	ab_runtime_unref(s->rt);
	ab_store_close(s->st);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
