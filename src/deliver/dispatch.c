/*
 * dispatch.c - delivery worker threads.
 *
 * Public: ab_dispatch_start, ab_dispatch_set_runtime, ab_dispatch_wake,
 *         ab_dispatch_stop, ab_dispatch_paused, ab_backoff_ms, ab_retry_at.
 * Diagnostics: one log line per failed attempt (warning) and per dead
 *         letter (error), with the channel, job, attempt and the plugin's
 *         short message; never the payload or a secret.  Store errors
 *         that repeat (a queue that cannot be read, results that cannot
 *         be recorded) go through ab_complain: one line, then one a minute
 *         with the count, and one when it is over.
 *
 * Each worker owns a store connection.  It claims the oldest due jobs (a
 * lease protects them from other workers; expired leases are requeued, and
 * at start every RUNNING job is requeued, so a kill -9 loses nothing),
 * takes a reference on the current runtime snapshot, calls the channel's
 * plugin for each and records the outcomes.  The jobs of channels whose
 * plugin splits send() into http_prepare and http_result (ABI 1.3: the
 * HTTP channels) go out concurrently in a sliding window: each plugin
 * prepares its request when a place is free, ab_http_stream performs them
 * on the worker's curl multi handle (connections kept alive,
 * dispatch.in_flight to one host at most), each plugin turns its
 * answer into the result as it arrives, and the results are handed to the
 * recorder in small batches while the network works (so a kill -9 re-sends
 * what was in flight and the last few answers, not a batch already
 * answered); the other jobs call send() one after the other.  Rate limits,
 * results, backoff, dead letters, logs and health are the same either way.
 * Claims go in batches (up to DISPATCH_BATCH jobs per transaction); the
 * outcomes of every worker are committed by one recorder thread
 * (recorder.c: what was handed while its last commit ran goes in the next,
 * then channel health), handed at least every FINISH_MAX_MS; with several
 * workers each takes its share of what is due.  When the store refuses to
 * record outcomes (a full disk), the recorder keeps those it has and
 * refuses more; the worker sends no more of that batch, keeps its
 * outcomes in memory and tries to hand them (and to release the unsent
 * jobs) every RECORD_RETRY_MS: they are recorded within a second of the
 * store taking writes again, not when the batch's leases expire.  The
 * workers' and the recorder's commits are not fsynced
 * (ab_store_set_relaxed): a process crash loses none of them; a kill -9
 * loses the outcomes handed and not committed yet, and a power loss may
 * undo the last claims and outcomes, so a job is delivered again
 * (at-least-once; receivers dedupe by event id), never lost.  The core owns retry: exponential
 * backoff with full jitter, never sooner than the plugin's retry-after,
 * dead-lettered after max_age.  Jobs of a disabled channel (enabled =
 * false) are held: the worker's store connection skips them (not claimed,
 * not attempted, not dead-lettered) until a reload or restart enables the
 * channel again, and then they go like any due job.  That covers jobs
 * queued before it was disabled and the group, digest and reminder jobs
 * the scheduler queues for it meanwhile (routing itself queues none).
 * Rate limits: the dispatcher keeps one token bucket per channel
 * (ratelimit.c), shared by its workers; a job over its channel's rate goes
 * back to the queue through the worker's store connection (ab_store_defer),
 * due when a token is free, its attempt not counted.  After each recorded
 * attempt the channel's health is updated (health.c, by the recorder).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "deliver/breaker.h"
#include "deliver/dispatch.h"
#include "deliver/plugin.h"
#include "deliver/recorder.h"
#include "lib/log.h"
#include "net/http.h"
#include "store/store.h"
#include "lib/util.h"
#include "deliver/ratelimit.h"
#include "lib/metrics.h"

/* metrics: every attempt's outcome and its latency, by channel */
static AB_METRIC_COUNTER(m_deliveries, "alertbridge_deliveries_total", "Delivery attempts by "
	"channel and result (ok, retry, permanent, expired: retried past max_age).", "channel",
	"result");
static AB_METRIC_HISTOGRAM(m_delivery_seconds, "alertbridge_delivery_duration_seconds",
	"Time a delivery attempt took (render and send), by channel.", "channel", NULL,
	ab_metric_latency_bounds);

#define DISPATCH_BATCH 32     /* jobs claimed, and finished, in one transaction */
#define FINISH_MAX_MS 200     /* outcomes wait at most this long for their commit */
#define LEASE_MARGIN_MS 1000  /* slack kept between an attempt's end and a lease's end */
#define SEND_REQUESTS_MAX 4   /* requests one send may make (graphmail: token, 401, token, mail) */
#define COMPLAIN_EVERY_MS 60000 /* a repeated store error: one log line a minute */
#define RECORD_RETRY_MS 1000  /* results the store refused: tried again this often */

static struct ab_complaint queue_unreadable = AB_COMPLAINT_INIT;
static struct ab_complaint result_unwritten = AB_COMPLAINT_INIT;
static struct ab_complaint defer_failed = AB_COMPLAINT_INIT;
static struct ab_complaint hold_failed = AB_COMPLAINT_INIT;

struct ab_dispatcher {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t stop_cv;     /* broadcast at stop only (pause_ms) */
	struct ab_runtime *rt;      /* current snapshot (one reference held) */
	unsigned gen;               /* bumped with every new snapshot */
	bool stopping;
	unsigned wakeups;
	char *store_path;
	pthread_t *threads;
	int n_threads;
	int n_workers;              /* configured, set before the threads start */
	struct ab_ratelimit *rl;    /* per-channel token buckets of all the workers */
	struct ab_breaker *br;      /* per-channel circuit breakers of all the workers */
	struct ab_recorder *rec;    /* records every worker's results (recorder.h) */
};

int64_t ab_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, uint64_t rnd)
{
	int64_t ceiling = ab_breaker_pause_ms(attempt, base_ms, cap_ms);

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

static struct ab_runtime *current(struct ab_dispatcher *d, unsigned *gen)
{
	struct ab_runtime *rt;

	pthread_mutex_lock(&d->mu);
	rt = ab_runtime_ref(d->rt);
	*gen = d->gen;
	pthread_mutex_unlock(&d->mu);
	return rt;
}

/* Jobs of disabled channels (enabled = false) are held: this worker's
 * connection skips them until a snapshot enables the channel again; so
 * are those of the channels the breaker pauses (their probe is claimed on
 * its own, ab_store_claim_probe).  *bgen: the breaker generation seen. */
static int hold(struct ab_store *st, const struct ab_config *cfg, struct ab_breaker *br,
	unsigned *bgen)
{
	char **paused = NULL;
	int n_paused = ab_breaker_paused(br, &paused, bgen);
	const char **names;
	size_t n = 0;
	int rc;

	if (n_paused < 0)
		return -1;
	names = calloc(cfg->n_channels + (size_t)n_paused + 1, sizeof *names);
	if (names) {
		for (size_t i = 0; i < cfg->n_channels; i++)
			if (!cfg->channels[i].enabled)
				names[n++] = cfg->channels[i].name;
		for (int i = 0; i < n_paused; i++)
			names[n++] = paused[i];
	}
	rc = names ? ab_store_set_held(st, names, n) : -1;
	free(names);
	for (int i = 0; i < n_paused; i++)
		free(paused[i]);
	free(paused);
	return rc;
}

/* One delivery attempt's outcome, recorded later with its batch. */
struct outcome {
	struct ab_result res;
	int64_t latency, now, next_at;
	bool dead;
	bool attempted;           /* false: held or over its rate, nothing to record */
	bool done;                /* the job was dealt with (attempted or not) */
	bool recorded;            /* its outcome is in the store */
	bool probe;               /* the send was its paused channel's probe */
	bool unsent;              /* the result is not an answer of the channel's */
	struct ab_thread thread;  /* msg.thread: the fingerprint's first delivery */
};

/* Before a send: take a rate-limit token for the job's channel.  Returns 0
 * to go ahead; 1 when the job was put back (due when a token is free, its
 * attempt not counted). */
static int admit(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	const struct ab_job *job, int64_t now)
{
	const struct ab_channel_conf *ch = ab_config_channel(rt->cfg, job->channel);
	double rate;
	int burst, r;
	int64_t wait;

	if (!ch)
		return 0;
	ab_ratelimit_conf(ch, ab_runtime_default_rate(rt, job->channel), &rate, &burst);
	if (rate <= 0)
		return 0;
	wait = ab_ratelimit_take(d->rl, job->channel, rate, burst, now);
	if (wait <= 0)
		return 0;
	r = ab_store_defer(st, job, now + wait, now);
	if (r <= 0) {
		ab_complain(&defer_failed, COMPLAIN_EVERY_MS, AB_LOG_WARNING,
			"rate limit: cannot put job %lld back: %s",
			(long long)job->id, r < 0 ? ab_store_errmsg(st) : "its lease expired");
		return 0;
	}
	ab_log(AB_LOG_DEBUG, "job %lld: channel %s over its rate (%.3g/s, burst %d): "
		"due again in %lld ms", (long long)job->id, job->channel, rate, burst,
		(long long)wait);
	return 1;
}

/* The payload's "recipients": the job's people, or none at all (so that
 * nothing from an event can name a recipient; plugin.h).  0 or -1. */
static int set_recipients(json_t *payload, const struct ab_job *job)
{
	json_t *r;

	if (!job->recipients || !*job->recipients) {
		json_object_del(payload, "recipients");
		return 0;
	}
	r = json_loads(job->recipients, 0, NULL);
	if (!json_is_array(r)) {
		json_decref(r);
		return -1;
	}
	return json_object_set_new(payload, "recipients", r);
}

/* May the job's payload go to the plugin as the stored text, unparsed
 * (ABI 1.5)?  When the plugin takes text and the host has nothing to
 * change in it: no recipients to set, and no "recipients" member to take
 * out (the host's writers never put one there; the test is cheap and
 * errs on the side of parsing).  Every stored payload is compact with
 * sorted keys (event.c's writer, noise.c's json_dumps). */
static bool as_text(const struct ab_channel_rt *ch, const struct ab_job *job)
{
	size_t n;

	if (!ch || !ab_plugin_takes_text(ch->plugin.api) || !job->payload ||
	    (job->recipients && *job->recipients))
		return false;
	n = strlen(job->payload);
	return n >= 2 && job->payload[0] == '{' && job->payload[n - 1] == '}' &&
		!strstr(job->payload, "\"recipients\"");
}

/* What comes before the plugin for one claimed job.  Returns 0 when the
 * plugin is to be called with *msg (its payload parsed into *payload, the
 * caller decrefs it, or for a plugin that takes text the stored text with
 * *payload NULL); 1 when there is nothing to record (held, or over its
 * rate: o->done is set); 2 when res holds the result already (the channel
 * is gone, the payload is bad). */
static int begin(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	struct ab_job *job, struct ab_channel_rt *ch, struct ab_message *msg, json_t **payload,
	struct ab_result *res, struct outcome *o)
{
	json_error_t jerr;

	memset(o, 0, sizeof *o);
	memset(res, 0, sizeof *res);
	*payload = NULL;
	if (!ch && ab_channel_disabled(rt->cfg, job->channel)) {
		/* Claimed before a reload disabled its channel, or the held list
		 * could not be set: no attempt; back in the queue, unattempted, due
		 * again in a second (no spin while the held list cannot be set).
		 * On a store error it stays claimed: released with the batch. */
		int64_t now = ab_now_ms();

		ab_log(AB_LOG_DEBUG, "job %lld: channel %s is disabled: held", (long long)job->id,
			job->channel);
		o->done = ab_store_defer(st, job, now + 1000, now) >= 0;
		return 1;
	}
	/* --- channels: paused by its breaker, or over its rate -> back in the
	 * queue, not an attempt */
	if (ch) {
		int64_t now = ab_now_ms(), until = 0;
		enum ab_breaker_verdict v = ab_breaker_admit(d->br, job->channel, now, &until);

		if (v == AB_BREAKER_WAIT) {
			/* on a store error the job stays claimed, not done: released
			 * with the batch's rest */
			o->done = ab_store_defer(st, job, until, now) >= 0;
			ab_log(AB_LOG_DEBUG, "job %lld: channel %s is paused: due again in %lld ms",
				(long long)job->id, job->channel, (long long)(until - now));
			return 1;
		}
		o->probe = v == AB_BREAKER_PROBE;
		if (admit(d, st, rt, job, now) > 0) {
			if (o->probe)
				ab_breaker_unprobe(d->br, job->channel);
			o->done = true;
			return 1;
		}
	}
	if (!ch) {
		ab_result_set(res, AB_PERMANENT, 0, "channel is not configured (any more): add it "
			"back and run 'alertbridge queue retry'");
		o->unsent = true;
		return 2;
	}
	memset(msg, 0, sizeof *msg);
	msg->kind = (enum ab_msg_kind)job->kind;
	msg->id = job->event_id;
	msg->attempt = (unsigned)job->attempts;
	if (job->thread_event && strcmp(job->thread_event, job->event_id) != 0) {
		/* a later event about a finding this channel was told of */
		o->thread.event_id = job->thread_event;
		o->thread.ref = job->thread_ref ? job->thread_ref : "";
		o->thread.first_at = job->thread_at;
		o->thread.count = job->thread_count > 0 ? (unsigned)job->thread_count : 0;
		msg->thread = &o->thread;
	}
	if (as_text(ch, job)) {
		msg->payload_text = job->payload;
		msg->payload_len = strlen(job->payload);
		ab_result_set(res, AB_RETRY, 0, "plugin returned no result");
		return 0;
	}
	if (!(*payload = json_loads(job->payload ? job->payload : "null", 0, &jerr)) ||
	    !json_is_object(*payload)) {
		json_decref(*payload);
		*payload = NULL;
		ab_result_set(res, AB_PERMANENT, 0, "stored payload is not a JSON object");
		if (o->probe)   /* not sent: the probe is still to come */
			ab_breaker_unprobe(d->br, job->channel);
		o->probe = false;
		o->unsent = true;
		return 2;
	}
	if (set_recipients(*payload, job) < 0) {
		json_decref(*payload);
		*payload = NULL;
		ab_result_set(res, AB_PERMANENT, 0, "stored recipients are not a JSON array");
		if (o->probe)
			ab_breaker_unprobe(d->br, job->channel);
		o->probe = false;
		o->unsent = true;
		return 2;
	}
	msg->payload = *payload;
	ab_result_set(res, AB_RETRY, 0, "plugin returned no result");
	return 0;
}

/* What comes after: log the result, choose retry or dead letter, and keep
 * it in *o for the batch's record. */
/* The channel's breaker after a send: pause it on a failure worth
 * retrying; on a success after a pause, make its queue due again. */
static void trip(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	const struct ab_job *job, const struct ab_result *res, bool probe, int64_t now)
{
	const struct ab_channel_conf *ch = ab_config_channel(rt->cfg, job->channel);
	int64_t pause = 0;
	int r, moved;

	if (!ch)
		return;
	r = ab_breaker_result(d->br, job->channel, res->status == AB_RETRY, res->retry_after,
		ch->pause_base_ms, ch->pause_cap_ms, now, &pause);
	if (r < 0) {
		ab_log(AB_LOG_WARNING, "channel %s paused for %lld ms after a failed %s (%s): "
			"one probe then", job->channel, (long long)pause, probe ? "probe" :
			"delivery", res->message);
	} else if (r > 0) {
		moved = ab_store_resume_channel(st, job->channel);
		if (moved < 0)
			ab_log(AB_LOG_ERR, "channel %s works again, but its queue stays as it was "
				"(jobs go at their own retry times): %s", job->channel,
				ab_store_errmsg(st));
		else
			ab_log(AB_LOG_NOTICE, "channel %s works again: resumed, %d queued job(s) due "
				"now, oldest first", job->channel, moved);
		ab_dispatch_wake(d);
	}
}

static void conclude(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	struct ab_job *job, struct ab_result *res, int64_t latency, struct outcome *o)
{
	const struct ab_dispatch_conf *dc = &rt->cfg->dispatch;
	int64_t now = ab_now_ms(), next_at = 0;
	bool dead = false;

	res->message[sizeof res->message - 1] = '\0';
	switch (res->status) {
	case AB_OK:
		ab_log(AB_LOG_DEBUG, "job %lld: delivered to %s (attempt %d, %lld ms)",
			(long long)job->id, job->channel, job->attempts, (long long)latency);
		break;
	case AB_RETRY:
		if (now - job->created_at >= dc->max_age_ms) {
			dead = true;
			ab_log(AB_LOG_ERR, "job %lld: channel %s still failing after %d attempts "
				"(older than max_age): dead letter: %s", (long long)job->id,
				job->channel, job->attempts, res->message);
		} else {
			next_at = ab_retry_at(now, (unsigned)job->attempts, res->retry_after,
				dc->backoff_base_ms, dc->backoff_cap_ms, random64());
			ab_log(AB_LOG_WARNING, "job %lld: channel %s attempt %d failed (%s), retry in "
				"%lld ms", (long long)job->id, job->channel, job->attempts,
				res->message, (long long)(next_at - now));
		}
		break;
	default:
		res->status = AB_PERMANENT;
		dead = true;
		ab_log(AB_LOG_ERR, "job %lld: channel %s refused permanently: dead letter: %s",
			(long long)job->id, job->channel, res->message);
		break;
	}
	if (!o->unsent) {
		trip(d, st, rt, job, res, o->probe, now);
		/* metrics */
		ab_metric_inc(&m_deliveries, job->channel, res->status == AB_RETRY && dead ?
			"expired" : ab_status_name(res->status));
		ab_metric_observe(&m_delivery_seconds, job->channel, NULL, (double)latency / 1000.0);
	}
	o->res = *res;
	o->latency = latency;
	o->now = now;
	o->next_at = next_at;
	o->dead = dead;
	o->attempted = true;
	o->done = true;
}

/* Call the plugin's send() for one claimed job; the outcome goes to *o. */
static void attempt(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	struct ab_job *job, struct outcome *o)
{
	struct ab_channel_rt *ch = ab_runtime_channel(rt, job->channel);
	struct ab_result res;
	struct ab_message msg;
	json_t *payload;
	int64_t t0 = ab_mono_ms();
	int r = begin(d, st, rt, job, ch, &msg, &payload, &res, o);

	if (r == 1)
		return;
	if (r == 0)
		ch->plugin.api->send(ch->inst, &msg, &res);
	json_decref(payload);
	conclude(d, st, rt, job, &res, ab_mono_ms() - t0, o);
}

static int record(struct ab_dispatcher *d, struct ab_runtime *rt, struct ab_job *jobs,
	struct outcome *o, size_t n, char *err, size_t errsz);
static bool stopping(struct ab_dispatcher *d);

/* Does the job's channel split send() (ABI 1.3), so that it can go out
 * with others at once? */
static bool http_split(struct ab_runtime *rt, const struct ab_job *job)
{
	struct ab_channel_rt *ch = ab_runtime_channel(rt, job->channel);

	return ch && ab_plugin_http_split(ch->plugin.api);
}

/* The split jobs of one claimed batch on their way (attempt_http). */
struct http_round {
	struct ab_dispatcher *d;
	struct ab_store *st;
	struct ab_runtime *rt;
	struct ab_job *jobs;
	struct outcome *o;
	int next, n;                /* the next job to look at, the batch's size */
	bool refused;               /* the store refused a record: send no more */
	struct ab_http_request reqs[DISPATCH_BATCH];
	struct ab_http_response resps[DISPATCH_BATCH];
	struct ab_channel_rt *chs[DISPATCH_BATCH];
	void *states[DISPATCH_BATCH];
	int64_t t_prep[DISPATCH_BATCH];
	int idx[DISPATCH_BATCH];
};

/* ab_http_feed.more: the next split job not done yet, its request prepared
 * by its plugin into reqs[k] (1), or 0 when there is none (or the store
 * refuses records, or the worker stops).  Jobs held, over their rate or
 * refused before a request are concluded on the way. */
static size_t round_more(void *ctx, size_t k)
{
	struct http_round *r = ctx;

	while (r->next < r->n && !r->refused && !stopping(r->d)) {
		int i = r->next++;
		struct ab_job *job = &r->jobs[i];
		struct ab_channel_rt *ch;
		struct ab_result res;
		struct ab_message msg;
		json_t *payload;
		int64_t t0;
		int b;

		if (r->o[i].done || !http_split(r->rt, job))
			continue;
		t0 = ab_mono_ms();
		ch = ab_runtime_channel(r->rt, job->channel);
		b = begin(r->d, r->st, r->rt, job, ch, &msg, &payload, &res, &r->o[i]);
		if (b == 1)
			continue;
		memset(&r->reqs[k], 0, sizeof r->reqs[k]);
		r->states[k] = NULL;
		if (b == 0 && ch->plugin.api->http_prepare(ch->inst, &msg, &r->reqs[k],
					&r->states[k], &res) == 1) {
			json_decref(payload);
			r->chs[k] = ch;
			r->idx[k] = i;
			r->t_prep[k] = ab_mono_ms() - t0;
			return 1;
		}
		json_decref(payload);
		conclude(r->d, r->st, r->rt, job, &res, ab_mono_ms() - t0, &r->o[i]);
	}
	return 0;
}

/* ab_http_feed.done: request k's answer, turned into its job's result by
 * its plugin. */
static void round_done(void *ctx, size_t k)
{
	struct http_round *r = ctx;
	struct ab_result res;
	int i = r->idx[k];

	memset(&res, 0, sizeof res);
	ab_result_set(&res, AB_RETRY, 0, "plugin returned no result");
	r->chs[k]->plugin.api->http_result(r->chs[k]->inst, r->states[k], &r->resps[k], &res);
	ab_http_free(&r->resps[k]);
	conclude(r->d, r->st, r->rt, &r->jobs[i], &res, r->t_prep[k] + r->resps[k].latency_ms,
		&r->o[i]);
}

/* ab_http_feed.settle: the answers so far recorded in one relaxed commit
 * while the network works, so that a crash re-sends only what was in
 * flight and the last few answers, not a whole batch already answered. */
static void round_settle(void *ctx)
{
	struct http_round *r = ctx;

	char err[512];

	if (record(r->d, r->rt, r->jobs, r->o, (size_t)r->n, err, sizeof err) < 0)
		r->refused = true;
}

/* Jobs jobs[from..n-1] not done yet whose channels split send() (ABI
 * 1.3): each request prepared by its plugin just before a place is free,
 * dispatch.in_flight to one host at most (ab_http_stream, a sliding
 * window), each answer turned into its result as it arrives and the
 * results recorded in small batches meanwhile.  Returns -1 when the store
 * refused to record them (no more sends: persist() waits), else 0. */
static int attempt_http(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	struct ab_job *jobs, struct outcome *o, int from, int n)
{
	struct http_round *r = malloc(sizeof *r);   /* set whole below */
	struct ab_http_feed feed = { round_more, round_done, round_settle, NULL };
	int rc;

	if (!r) {
		ab_log(AB_LOG_ERR, "dispatcher: out of memory");
		return -1;
	}
	*r = (struct http_round){ .d = d, .st = st, .rt = rt, .jobs = jobs, .o = o, .next = from,
		.n = n };
	feed.ctx = r;
	ab_http_stream(r->reqs, r->resps, 0, DISPATCH_BATCH, (unsigned)rt->cfg->dispatch.in_flight,
		&feed);
	rc = r->refused ? -1 : 0;
	free(r);
	return rc;
}

/* Hand the outcomes attempted and not handed yet among jobs[0..n-1] to
 * the recorder, which commits them with the other workers' (and then
 * channel health).  0, or -1 when the store refuses results now (they stay
 * unrecorded here, for another try; err says why). */
static int record(struct ab_dispatcher *d, struct ab_runtime *rt, struct ab_job *jobs,
	struct outcome *o, size_t n, char *err, size_t errsz)
{
	struct ab_finish f[DISPATCH_BATCH];
	size_t k = 0, i;

	memset(f, 0, sizeof f);
	for (i = 0; i < n && k < DISPATCH_BATCH; i++) {
		if (!o[i].attempted || o[i].recorded)
			continue;
		f[k].job = &jobs[i];
		f[k].res = &o[i].res;
		f[k].latency_ms = o[i].latency;
		f[k].now = o[i].now;
		f[k].next_at = o[i].next_at;
		f[k].dead = o[i].dead;
		k++;
	}
	if (k == 0)
		return 0;
	if (ab_recorder_put(d->rec, rt, f, k, err, errsz) < 0)
		return -1;
	for (i = 0; i < k; i++)
		o[f[i].job - jobs].recorded = true;
	return 0;
}

/* The claimed jobs that were not dealt with (the worker stops, or the store
 * refused a result) go back to the queue, attempts as before.  0 or -1. */
static int release_rest(struct ab_store *st, struct ab_job *jobs, struct outcome *o, int n)
{
	struct ab_job rest[DISPATCH_BATCH];
	int n_rest = 0;

	for (int k = 0; k < n; k++)
		if (!o[k].done)
			rest[n_rest++] = jobs[k];   /* shallow: jobs[k] still owns its strings */
	if (n_rest == 0 || ab_store_release(st, rest, (size_t)n_rest, ab_now_ms()) < 0)
		return n_rest == 0 ? 0 : -1;
	for (int k = 0; k < n; k++)
		o[k].done = true;
	return 0;
}

static bool stopping(struct ab_dispatcher *d)
{
	bool s;

	pthread_mutex_lock(&d->mu);
	s = d->stopping;
	pthread_mutex_unlock(&d->mu);
	return s;
}

/* Wait up to ms, or until the dispatcher stops. */
static void pause_ms(struct ab_dispatcher *d, int64_t ms)
{
	struct timespec ts;

	ab_deadline(&ts, CLOCK_REALTIME, ms);
	pthread_mutex_lock(&d->mu);
	while (!d->stopping && pthread_cond_timedwait(&d->stop_cv, &d->mu, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&d->mu);
}

/* The end of a batch: its outcomes recorded and the jobs not attempted
 * released.  When the store refuses (a full disk, a lock held too long),
 * the outcomes stay in memory and the worker tries again every
 * RECORD_RETRY_MS until the store takes them, so they are in the store
 * within RECORD_RETRY_MS of its recovery, whatever the jobs' leases say;
 * only a stop gives up (the jobs stay running and the next start queues
 * them again: delivered twice at worst). */
static void persist(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	struct ab_job *jobs, struct outcome *o, int n)
{
	bool failed = false;
	char err[512];

	for (;;) {
		int r = record(d, rt, jobs, o, (size_t)n, err, sizeof err);

		if (r == 0 && (r = release_rest(st, jobs, o, n)) < 0)
			snprintf(err, sizeof err, "%s", ab_store_errmsg(st));
		if (r == 0) {
			if (failed)
				ab_complain_clear(&result_unwritten, AB_LOG_NOTICE, "dispatcher: "
					"delivery results are recorded again");
			return;
		}
		failed = true;
		ab_complain(&result_unwritten, COMPLAIN_EVERY_MS, AB_LOG_ERR, "dispatcher: cannot "
			"record the results of %d claimed job(s): %s (kept in memory, tried again "
			"every %d ms)", n, err, RECORD_RETRY_MS);
		if (stopping(d)) {
			ab_log(AB_LOG_ERR, "dispatcher: stopping with the results of %d job(s) not "
				"recorded: they are queued again at the next start", n);
			return;
		}
		pause_ms(d, RECORD_RETRY_MS);
	}
}

/* How many due jobs this worker takes at once: all (up to DISPATCH_BATCH)
 * when it is alone, else its share of what is due, so that the other
 * workers are not left idle while one works through a long list; 0 when
 * nothing is due (no claim then).  *more: jobs are left for another
 * worker. */
static int batch_size(struct ab_dispatcher *d, struct ab_store *st, int64_t now, bool *more)
{
	int64_t due, share;

	*more = false;
	if (d->n_workers <= 1)
		return DISPATCH_BATCH;
	due = ab_store_count_due(st, now, (int64_t)DISPATCH_BATCH * d->n_workers);
	if (due == 0)
		return 0;
	if (due < 0)
		return 1;   /* unreadable: the claim says why */
	share = due <= d->n_workers ? 1 : (due + d->n_workers - 1) / d->n_workers;
	if (share > DISPATCH_BATCH)
		share = DISPATCH_BATCH;
	*more = due > share;
	return (int)share;
}

/* Should the outcomes not recorded yet be recorded before the next
 * attempt?  On stop, every FINISH_MAX_MS, and before an attempt that could
 * outlast the lease of the oldest of them (job k's lease is claim time +
 * (k + 2) x SEND_REQUESTS_MAX timeouts; see store.c). */
static bool record_due(struct ab_dispatcher *d, struct ab_runtime *rt, const struct outcome *o,
	int n, int64_t claimed, int64_t since)
{
	int oldest = -1;

	for (int k = 0; k < n && oldest < 0; k++)
		if (o[k].attempted && !o[k].recorded)
			oldest = k;
	if (oldest < 0)
		return false;
	return stopping(d) || ab_mono_ms() - since >= FINISH_MAX_MS ||
		ab_now_ms() - claimed + LEASE_MARGIN_MS >
		rt->cfg->dispatch.timeout_ms * SEND_REQUESTS_MAX * (int64_t)(oldest + 1);
}

/* Attempt each of the claimed jobs[0..n-1]: the jobs of channels that
 * split send() (ABI 1.3) concurrently (attempt_http, which records as the
 * answers come), the others in turn; record the outcomes every
 * FINISH_MAX_MS and at the end.  On stop, the jobs not
 * attempted yet go back to the queue untouched.  Frees the jobs. */
static void run_claimed(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	struct ab_job *jobs, int n, int64_t claimed)
{
	struct outcome o[DISPATCH_BATCH];
	int64_t t0 = ab_mono_ms();

	memset(o, 0, sizeof o);
	for (int i = 0; i < n; i++) {
		if (o[i].done)
			continue;
		if (record_due(d, rt, o, n, claimed, t0)) {
			char err[512];

			if (record(d, rt, jobs, o, (size_t)n, err, sizeof err) < 0)
				break;   /* the store refuses: no more sends; persist() waits */
			t0 = ab_mono_ms();
		}
		if (stopping(d))
			break;
		if (http_split(rt, &jobs[i])) {
			/* every split job of the batch; their results are recorded
			 * as they come (a crash re-sends what was in flight and the
			 * last few answers, no more) */
			if (attempt_http(d, st, rt, jobs, o, i, n) < 0)
				break;
			t0 = ab_mono_ms();
		} else {
			attempt(d, st, rt, &jobs[i], &o[i]);
		}
	}
	persist(d, st, rt, jobs, o, n);
	for (int k = 0; k < n; k++)
		ab_job_clear(&jobs[k]);
}

/* Claim a batch and attempt it (run_claimed).  Returns the number
 * claimed, or -1. */
static int run_batch(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt,
	int64_t now)
{
	struct ab_job jobs[DISPATCH_BATCH];
	bool more;
	int want = batch_size(d, st, now, &more);
	/* a send may make several requests (a token, a retry after 401, Slack's
	 * update and reply): the leases allow SEND_REQUESTS_MAX per job */
	int n = want > 0 ? ab_store_claim_batch(st, now, rt->cfg->dispatch.timeout_ms *
		SEND_REQUESTS_MAX, jobs,
		want) : 0;

	if (n <= 0)
		return n;
	if (more)   /* a wake reaches one worker: pass it on for the rest */
		ab_dispatch_wake(d);
	run_claimed(d, st, rt, jobs, n, now);
	return n;
}

/* The probes of the paused channels whose pause is over: each one's oldest
 * queued job, sent alone (at most a few channels per call, so that the
 * others' queues are not kept waiting).  A channel with no queued job is
 * closed (nothing to probe with).  Returns the number of probes sent. */
static int run_probes(struct ab_dispatcher *d, struct ab_store *st, struct ab_runtime *rt)
{
	char name[256];
	int sent = 0;

	for (int k = 0; k < 8; k++) {
		struct ab_job job;
		int64_t now = ab_now_ms();
		int r;

		if (!ab_breaker_probe_due(d->br, now, name, sizeof name))
			break;
		if (!ab_runtime_channel(rt, name)) {
			/* disabled or removed since it paused: nothing to probe; its
			 * jobs are held, and its next failure pauses it again */
			ab_breaker_idle(d->br, name);
			continue;
		}
		r = ab_store_claim_probe(st, name, now, rt->cfg->dispatch.timeout_ms *
			SEND_REQUESTS_MAX, &job);
		if (r < 0) {
			ab_complain(&queue_unreadable, COMPLAIN_EVERY_MS, AB_LOG_ERR,
				"dispatcher: cannot read the queue: %s", ab_store_errmsg(st));
			break;
		}
		if (r == 0) {
			ab_breaker_idle(d->br, name);
			continue;
		}
		run_claimed(d, st, rt, &job, 1, now);
		sent++;
	}
	return sent;
}

static void *worker(void *arg)
{
	struct ab_dispatcher *d = arg;
	char err[512];
	struct ab_store *st = ab_store_open(d->store_path, err, sizeof err);
	int64_t last_requeue = 0;
	unsigned held_gen = 0, held_bgen = 0;
	bool held_set = false;

	if (!st) {
		ab_log(AB_LOG_ERR, "dispatcher: %s", err);
		return NULL;
	}
	/* Claims and outcomes are not fsynced (see ab_store_set_relaxed): a
	 * power loss can only cause a duplicate delivery.  On failure the
	 * connection keeps synchronous=FULL: slower, not wrong. */
	if (ab_store_set_relaxed(st) < 0)
		ab_log(AB_LOG_WARNING, "dispatcher: %s", ab_store_errmsg(st));
	for (;;) {
		struct ab_runtime *rt;
		int64_t now, poll_ms, next;
		unsigned seen, gen;
		int r;

		pthread_mutex_lock(&d->mu);
		if (d->stopping) {
			pthread_mutex_unlock(&d->mu);
			break;
		}
		seen = d->wakeups;
		pthread_mutex_unlock(&d->mu);

		rt = current(d, &gen);
		if (!held_set || gen != held_gen || ab_breaker_gen(d->br) != held_bgen) {
			if (hold(st, rt->cfg, d->br, &held_bgen) == 0) {
				held_gen = gen;
				held_set = true;
			} else {
				ab_complain(&hold_failed, COMPLAIN_EVERY_MS, AB_LOG_ERR,
					"dispatcher: cannot hold the jobs of disabled or paused "
					"channels: %s", ab_store_errmsg(st));
			}
		}
		now = ab_now_ms();
		poll_ms = rt->cfg->dispatch.poll_ms;
		if (now - last_requeue >= poll_ms) {
			ab_store_requeue_running(st, now, false);
			last_requeue = now;
		}
		r = run_probes(d, st, rt);
		if (r == 0)
			r = run_batch(d, st, rt, now);
		if (r > 0) {
			ab_runtime_unref(rt);
			continue;
		}
		if (r < 0)
			ab_complain(&queue_unreadable, COMPLAIN_EVERY_MS, AB_LOG_ERR,
				    "dispatcher: cannot read the queue: %s", ab_store_errmsg(st));
		else
			ab_complain_clear(&queue_unreadable, AB_LOG_NOTICE,
					  "dispatcher: the queue can be read again");
		ab_runtime_unref(rt);

		/* Sleep until woken, the next job is due, or the poll interval. */
		next = r == 0 ? ab_store_next_due(st) : -1;
		if (next >= 0 && next - now < poll_ms)
			poll_ms = next - now > 0 ? next - now : 1;
		next = ab_breaker_next_probe(d->br);    /* a paused channel's probe (one due
							   now and not sent: the store failed) */
		if (next > now && next - now < poll_ms)
			poll_ms = next - now;
		pthread_mutex_lock(&d->mu);
		if (!d->stopping && d->wakeups == seen) {
			struct timespec ts;
			ab_deadline(&ts, CLOCK_REALTIME, poll_ms);
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
		}
		pthread_mutex_unlock(&d->mu);
	}
	ab_store_close(st);
	return NULL;
}

/* The recorder put jobs back in the queue (retries): a worker looks. */
static void wake_all(void *arg)
{
	ab_dispatch_wake(arg);
}

struct ab_dispatcher *ab_dispatch_start(const char *store_path, struct ab_runtime *rt,
	char *err, size_t errsz)
{
	struct ab_dispatcher *d = calloc(1, sizeof *d);
	int n = rt->cfg->dispatch.workers > 0 ? rt->cfg->dispatch.workers : 1;

	if (!d || !(d->store_path = strdup(store_path)) ||
	    !(d->threads = calloc((size_t)n, sizeof *d->threads)) ||
	    !(d->rl = ab_ratelimit_new()) || !(d->br = ab_breaker_new())) {
		snprintf(err, errsz, "out of memory");
		if (d) {
			free(d->store_path);
			free(d->threads);
			ab_ratelimit_free(d->rl);
		}
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	pthread_cond_init(&d->stop_cv, NULL);
	d->rt = ab_runtime_ref(rt);
	d->n_workers = n;
	if (!(d->rec = ab_recorder_start(store_path, wake_all, d, err, errsz))) {
		ab_dispatch_stop(d);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		char name[32];
		int e = pthread_create(&d->threads[i], NULL, worker, d);
		if (e) {
			snprintf(err, errsz, "cannot start dispatcher thread: %s", strerror(e));
			d->n_threads = i;
			ab_dispatch_stop(d);
			return NULL;
		}
		snprintf(name, sizeof name, "ab-worker-%d", i + 1);
		name[15] = '\0';    /* the kernel's limit */
		pthread_setname_np(d->threads[i], name);
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
	d->gen++;
	d->wakeups++;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	ab_runtime_unref(old);
}

/* One sleeping worker, not all: on a steady stream each commit brings a
 * job or two, and waking every worker cost each of them its queue reads
 * (and a wait for the write lock) for nothing.  A worker that leaves due
 * jobs behind wakes the next (run_batch); one not asleep sees the count
 * change and looks again before it sleeps. */
void ab_dispatch_wake(struct ab_dispatcher *d)
{
	pthread_mutex_lock(&d->mu);
	d->wakeups++;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void ab_dispatch_stop(struct ab_dispatcher *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_broadcast(&d->cv);
	pthread_cond_broadcast(&d->stop_cv);
	pthread_mutex_unlock(&d->mu);
	for (int i = 0; i < d->n_threads; i++)
		pthread_join(d->threads[i], NULL);
	ab_recorder_stop(d->rec);   /* after the workers: it records their last results */
	ab_runtime_unref(d->rt);
	ab_ratelimit_free(d->rl);
	ab_breaker_free(d->br);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	pthread_cond_destroy(&d->stop_cv);
	free(d->threads);
	free(d->store_path);
	free(d);
}

int ab_dispatch_paused(struct ab_dispatcher *d, char ***names)
{
	unsigned gen;

	*names = NULL;
	return d ? ab_breaker_paused(d->br, names, &gen) : 0;
}
