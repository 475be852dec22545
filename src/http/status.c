/*
 * status.c - GET /metrics, /healthz and /readyz (status.h).
 *
 * /metrics writes the registry (lib/metrics.h: what the inputs, the
 * store, the dispatcher and the daemon counted) after setting the gauges
 * that are read at scrape time: jobs per channel and state and the age of
 * the oldest queued job (store/store.h ab_store_job_stats), channel
 * health (the store's channel_health rows), free disk space against the
 * min_free_mb watermark (lib/diskroom.h, as `alertbridge status` shows
 * it), the channels loaded, start time and version.  Scrapes are
 * serialized (app->mu), the gauges they set are the app's own.
 *
 * /healthz: 200 {"alive":true,...} whenever the listener runs.
 * /readyz: 200 when the store opens and is writable, its disk is above
 *   min_free_mb, every enabled channel's plugin is loaded and the syslog
 *   input is not paused at its high-water mark; else 503 naming each
 *   check that failed.
 *
 * Public: ab_http_get_metrics, ab_http_get_healthz, ab_http_get_readyz.
 * Diagnostics: none logged; a store that cannot be read is a 503.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/diskroom.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "http/status.h"

static AB_METRIC_GAUGE(m_jobs, "alertbridge_jobs", "Delivery jobs in the store by channel and "
	"state (queued, running, dead).", "channel", "state");
static AB_METRIC_GAUGE(m_oldest, "alertbridge_queue_oldest_job_age_seconds", "Age of the "
	"oldest queued job of a channel (0 when none is queued).", "channel", NULL);
static AB_METRIC_GAUGE(m_up, "alertbridge_channel_up", "1 when the channel is healthy, 0 "
	"while it is marked failing.", "channel", NULL);
static AB_METRIC_GAUGE(m_fails, "alertbridge_channel_consecutive_failures", "Failed "
	"deliveries in a row on the channel.", "channel", NULL);
static AB_METRIC_GAUGE(m_free, "alertbridge_store_free_bytes", "Bytes available on the "
	"filesystem of the store.", NULL, NULL);
static AB_METRIC_GAUGE(m_min_free, "alertbridge_store_min_free_bytes", "The min_free_mb "
	"watermark in bytes: below it inputs refuse new alerts (0 = off).", NULL, NULL);
static AB_METRIC_GAUGE(m_low, "alertbridge_store_below_min_free", "1 while the store's disk "
	"is below the min_free_mb watermark (inputs refuse new alerts).", NULL, NULL);
static AB_METRIC_GAUGE(m_channels, "alertbridge_channels_loaded", "Channels whose plugin is "
	"loaded and instance created.", NULL, NULL);
static AB_METRIC_GAUGE(m_start, "alertbridge_start_time_seconds", "When the daemon started, "
	"seconds since the epoch.", NULL, NULL);
static AB_METRIC_GAUGE(m_info, "alertbridge_build_info", "The version running (always 1).",
	"version", NULL);
static AB_METRIC_COUNTER(m_scrape_errors, "alertbridge_scrape_store_errors_total", "Scrapes "
	"that could not read the store (queue and health figures are then stale).", NULL, NULL);

/* app->mu held: the app's own store connection, opened on first use. */
static struct ab_store *store_locked(struct ab_http_app *app, char *err, size_t errsz)
{
	if (!app->st)
		app->st = ab_store_open(app->store_path, err, errsz);
	return app->st;
}

static void store_failed_locked(struct ab_http_app *app)
{
	ab_store_close(app->st);   /* reopened next time: the fault may be the connection's */
	app->st = NULL;
}

struct stats_ctx {
	int64_t now;
};

static int on_stats(const char *channel, enum ab_job_state state, int64_t count,
	int64_t oldest_ms, void *arg)
{
	const struct stats_ctx *sc = arg;

	ab_metric_set(&m_jobs, channel, ab_job_state_name(state), (double)count);
	if (state == AB_JOB_QUEUED && count > 0 && oldest_ms > 0)
		ab_metric_set(&m_oldest, channel, NULL, sc->now > oldest_ms ?
			(double)(sc->now - oldest_ms) / 1000.0 : 0);
	return 0;
}

/* app->mu held. */
static void refresh_locked(struct ab_http_app *app, const struct ab_runtime *rt)
{
	struct stats_ctx sc = { ab_now_ms() };
	struct ab_store *st;
	char err[512];
	int64_t avail;

	ab_metric_zero(&m_jobs);
	ab_metric_zero(&m_oldest);
	ab_metric_set(&m_start, NULL, NULL, (double)app->started_ms / 1000.0);
	ab_metric_set(&m_info, PACKAGE_VERSION, NULL, 1);
	ab_metric_set(&m_channels, NULL, NULL, rt ? (double)rt->n_channels : 0);
	for (size_t i = 0; rt && i < rt->n_channels; i++) {
		static const enum ab_job_state states[] = { AB_JOB_QUEUED, AB_JOB_RUNNING,
							    AB_JOB_DEAD };
		for (size_t k = 0; k < 3; k++)
			ab_metric_set(&m_jobs, rt->channels[i].name, ab_job_state_name(states[k]),
				0);
		ab_metric_set(&m_oldest, rt->channels[i].name, NULL, 0);
	}
	if (!(st = store_locked(app, err, sizeof err))) {
		ab_metric_inc(&m_scrape_errors, NULL, NULL);
		return;
	}
	if (ab_store_job_stats(st, on_stats, &sc) < 0) {
		ab_metric_inc(&m_scrape_errors, NULL, NULL);
		store_failed_locked(app);
		return;
	}
	for (size_t i = 0; rt && i < rt->n_channels; i++) {
		struct ab_health_row row;

		if (ab_store_health_get(st, rt->channels[i].name, &row) < 0) {
			ab_metric_inc(&m_scrape_errors, NULL, NULL);
			store_failed_locked(app);
			return;
		}
		ab_metric_set(&m_up, rt->channels[i].name, NULL,
			row.state == AB_HEALTH_FAILING ? 0 : 1);
		ab_metric_set(&m_fails, rt->channels[i].name, NULL, row.failures);
	}
	if (rt) {
		uint64_t min_free = (uint64_t)rt->cfg->min_free_mb << 20;

		avail = ab_disk_avail(app->store_path);
		ab_metric_set(&m_min_free, NULL, NULL, (double)min_free);
		if (avail >= 0) {
			ab_metric_set(&m_free, NULL, NULL, (double)avail);
			ab_metric_set(&m_low, NULL, NULL, min_free && (uint64_t)avail < min_free);
		}
	}
}

void ab_http_get_metrics(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs)
{
	struct ab_runtime *rt = ab_http_app_runtime(app);
	int rc;

	(void)rq;
	pthread_mutex_lock(&app->mu);
	refresh_locked(app, rt);
	ab_buf_reset(&rs->body);
	rc = ab_metrics_write(&rs->body);
	pthread_mutex_unlock(&app->mu);
	if (rt)
		ab_runtime_unref(rt);
	if (rc < 0) {
		ab_http_error(rs, 500, NULL, "the metrics do not fit the answer (out of memory?)");
		return;
	}
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

void ab_http_get_healthz(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs)
{
	(void)rq;
	ab_http_json(rs, 200, json_pack("{s:b,s:I}", "alive", 1, "uptime_seconds",
		(json_int_t)((ab_now_ms() - app->started_ms) / 1000)));
}

/* One check's outcome into checks and, when it failed, into why. */
static void check(json_t *checks, struct ab_buf *why, const char *name, bool ok,
	const char *msg)
{
	json_object_set_new(checks, name, json_string(ok ? "ok" : msg));
	if (!ok)
		ab_buf_printf(why, "%s%s: %s", why->len ? "; " : "", name, msg);
}

void ab_http_get_readyz(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs)
{
	struct ab_runtime *rt = ab_http_app_runtime(app);
	struct ab_buf why = AB_BUF_INIT(4096);
	json_t *checks = json_object();
	char err[512], msg[640];
	struct ab_store *st;
	size_t enabled = 0;
	bool ok;

	(void)rq;
	/* store: it opens, its file is writable, its disk above the watermark */
	pthread_mutex_lock(&app->mu);
	st = store_locked(app, err, sizeof err);
	pthread_mutex_unlock(&app->mu);
	if (!st)
		check(checks, &why, "store", false, err);
	else if (access(app->store_path, W_OK) < 0)
		check(checks, &why, "store", false, "the store file is not writable");
	else
		check(checks, &why, "store", true, NULL);
	if (rt) {
		uint64_t min_free = (uint64_t)rt->cfg->min_free_mb << 20;
		int64_t avail = ab_disk_avail(app->store_path);

		ok = !min_free || avail < 0 || (uint64_t)avail >= min_free;
		snprintf(msg, sizeof msg, "%lld MiB free, below min_free_mb %d: inputs refuse new "
			"alerts", (long long)(avail >> 20), rt->cfg->min_free_mb);
		check(checks, &why, "disk", ok, msg);
		for (size_t i = 0; i < rt->cfg->n_channels; i++)
			enabled += rt->cfg->channels[i].enabled;
		snprintf(msg, sizeof msg, "%zu of %zu enabled channels loaded", rt->n_channels,
			enabled);
		check(checks, &why, "plugins", rt->n_channels >= enabled, msg);
	} else {
		check(checks, &why, "plugins", false, "no configuration running yet");
	}
	ok = ab_metrics_lookup("alertbridge_syslog_paused", NULL, NULL) == 0;
	check(checks, &why, "input", ok, "syslog input paused: the store holds more queued jobs "
		"than syslog.high_water");
	if (rt)
		ab_runtime_unref(rt);
	if (why.len) {
		json_t *j = json_pack("{s:s,s:i,s:b,s:o}", "error", ab_buf_cstr(&why), "status",
			503, "ready", 0, "checks", checks);
		ab_http_json(rs, 503, j);
	} else {
		ab_http_json(rs, 200, json_pack("{s:b,s:o}", "ready", 1, "checks", checks));
	}
	ab_buf_free(&why);
}
