/*
 * admin.c - the web console's page for admins (users with the role
 * admin): each channel's health (state, last success, last error,
 * consecutive failures) and queue, a "Send test" per channel with its
 * result, the queue depth, the dead letters with "Replay", and the
 * delivery log with filters (channel, result).
 *
 * Public (console_int.h): ab_ui_admin_get, ab_ui_admin_post.
 * Security: as the rest of the console (console.c): a session, the CSRF
 * token on every POST; and the role admin, else 403.  Everything shown is
 * escaped; the plugins' messages never hold a secret (plugin.h).
 * Diagnostics: a replay and a test are logged at info with the admin's name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/console_int.h"
#include "lib/log.h"
#include "lib/util.h"
#include "deliver/runtime.h"
#include "store/store.h"

#define LOG_ROWS 100
#define DEAD_ROWS 200

static void when(struct ab_buf *b, int64_t ms)
{
	char t[AB_RFC3339_MAX];

	if (ms <= 0) {
		ab_buf_puts(b, "never");
		return;
	}
	ab_time_format_rfc3339(ms, t, sizeof t);
	ab_buf_printf(b, "<time datetime=\"%s\">%s</time>", t, t);
}

/* ---- what the store says, per channel */

struct chan_row {
	const char *name;
	struct ab_health_row h;
	char reason[300];
	bool has_health;
	int64_t queued, running, dead, oldest;
};

struct chans {
	struct chan_row *v;
	size_t n;
	int64_t queued, running, dead;
};

static struct chan_row *row_of(struct chans *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

static int on_stats(const char *channel, enum ab_job_state state, int64_t count,
	int64_t oldest, void *arg)
{
	struct chans *c = arg;
	struct chan_row *r = row_of(c, channel);

	if (state == AB_JOB_QUEUED)
		c->queued += count;
	else if (state == AB_JOB_RUNNING)
		c->running += count;
	else if (state == AB_JOB_DEAD)
		c->dead += count;
	if (!r)
		return 0;   /* a channel no longer configured: in the totals only */
	if (state == AB_JOB_QUEUED) {
		r->queued = count;
		r->oldest = oldest;
	} else if (state == AB_JOB_RUNNING) {
		r->running = count;
	} else if (state == AB_JOB_DEAD) {
		r->dead = count;
	}
	return 0;
}

static int on_health(const struct ab_health_row *h, void *arg)
{
	struct chan_row *r = row_of(arg, h->channel);

	if (r) {
		r->h = *h;
		ab_strlcpy(r->reason, h->reason ? h->reason : "", sizeof r->reason);
		r->h.reason = r->reason;
		r->has_health = true;
	}
	return 0;
}

static const char *state_text(const struct ab_channel_conf *cc, const struct chan_row *r)
{
	if (!cc->enabled)
		return "disabled";
	if (r->has_health && r->h.state == AB_HEALTH_FAILING)
		return "failing";
	return "healthy";
}

static void channels_table(const struct ab_config *cfg, struct chans *c,
	const struct ab_session *s, struct ab_buf *b)
{
	int64_t now = ab_now_ms();

	ab_buf_printf(b, "<h2>Channels</h2><p class=\"count\" id=\"queue-depth\">Queue: %lld "
		"queued, %lld running, %lld dead</p>\n", (long long)c->queued,
		(long long)c->running, (long long)c->dead);
	ab_buf_puts(b, "<div class=\"scroll\"><table class=\"event\" id=\"channels\"><thead><tr>"
		"<th scope=\"col\">Channel</th><th scope=\"col\">State</th><th scope=\"col\">"
		"Last success</th><th scope=\"col\">Failures</th><th scope=\"col\">Last error"
		"</th><th scope=\"col\">Queued</th><th scope=\"col\">Test</th></tr></thead>"
		"<tbody>\n");
	for (size_t i = 0; i < cfg->n_channels; i++) {
		const struct ab_channel_conf *cc = &cfg->channels[i];
		const struct chan_row *r = &c->v[i];
		const char *st = state_text(cc, r);

		ab_buf_puts(b, "<tr><th scope=\"row\">");
		ab_buf_put_html(b, cc->name);
		ab_buf_puts(b, " <small>");
		ab_buf_put_html(b, cc->type);
		ab_buf_printf(b, "</small></th><td class=\"state-%s\">%s</td><td>", st, st);
		when(b, r->has_health ? r->h.last_ok : 0);
		ab_buf_printf(b, "</td><td>%d</td><td>", r->has_health ? r->h.failures : 0);
		if (r->has_health && r->reason[0]) {
			ab_buf_put_html(b, r->reason);
			ab_buf_puts(b, " (");
			when(b, r->h.last_fail);
			ab_buf_puts(b, ")");
		}
		ab_buf_printf(b, "</td><td>%lld", (long long)r->queued);
		if (r->queued && r->oldest)
			ab_buf_printf(b, " (oldest %llds)", (long long)((now - r->oldest) / 1000));
		ab_buf_printf(b, "</td><td><form method=\"post\" action=\"/ui/admin/test\">"
			"<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
			"<input type=\"hidden\" name=\"channel\" value=\"", s->csrf);
		ab_buf_put_html(b, cc->name);
		ab_buf_puts(b, "\"><button type=\"submit\" aria-label=\"Send a test to ");
		ab_buf_put_html(b, cc->name);
		ab_buf_puts(b, "\">Send test</button></form></td></tr>\n");
	}
	ab_buf_puts(b, "</tbody></table></div>\n");
}

/* ---- dead letters */

struct dead_ctx {
	struct ab_buf *b;
	const char *csrf;
	int n;
};

static int on_dead(const struct ab_job *j, void *arg)
{
	struct dead_ctx *d = arg;
	struct ab_buf *b = d->b;

	if (d->n++ >= DEAD_ROWS)
		return 1;
	ab_buf_printf(b, "<tr><td>%lld</td><td>", (long long)j->id);
	ab_buf_put_html(b, j->channel);
	if (j->recipient && *j->recipient) {
		ab_buf_puts(b, " to ");
		ab_buf_put_html(b, j->recipient);
	}
	ab_buf_printf(b, "</td><td><code>%s</code></td><td>%d</td><td>", j->event_id,
		j->attempts);
	ab_buf_put_html(b, j->last_error ? j->last_error : "");
	ab_buf_printf(b, "</td><td><form method=\"post\" action=\"/ui/admin/replay\">"
		"<input type=\"hidden\" name=\"csrf\" value=\"%s\"><input type=\"hidden\" "
		"name=\"job\" value=\"%lld\"><button type=\"submit\" aria-label=\"Replay job %lld\">"
		"Replay</button></form></td></tr>\n", d->csrf, (long long)j->id, (long long)j->id);
	return 0;
}

/* ---- the delivery log */

struct log_ctx {
	struct ab_buf *b;
	int want;          /* -1 any, else enum ab_status */
	int n;
};

static int on_log(const struct ab_log_entry *e, void *arg)
{
	struct log_ctx *l = arg;
	struct ab_buf *b = l->b;

	if (l->want >= 0 && e->status != l->want)
		return 0;
	if (l->n++ >= LOG_ROWS)
		return 1;
	ab_buf_puts(b, "<tr><td>");
	when(b, e->at);
	ab_buf_puts(b, "</td><td>");
	ab_buf_put_html(b, e->channel);
	if (e->recipient && *e->recipient) {
		ab_buf_puts(b, " to ");
		ab_buf_put_html(b, e->recipient);
	}
	ab_buf_printf(b, "</td><td>%lld</td><td>%d</td><td class=\"result-%s\">%s</td>"
		"<td>%d</td><td>%lld ms</td><td>", (long long)e->job_id, e->attempt,
		ab_status_name(e->status), ab_status_name(e->status), e->code,
		(long long)e->latency_ms);
	ab_buf_put_html(b, e->error ? e->error : "");
	ab_buf_puts(b, "</td></tr>\n");
	return 0;
}

static void log_section(struct ab_store *st, const struct ab_config *cfg,
	const struct ab_http_req *rq, struct ab_buf *b)
{
	const char *ch = ab_http_arg(rq, "channel"), *res = ab_http_arg(rq, "result");
	static const char *const results[] = { "ok", "retry", "permanent" };
	struct log_ctx l = { b, -1, 0 };

	if (ch && (!*ch || !ab_config_channel(cfg, ch)))
		ch = NULL;
	for (int i = 0; res && i < 3; i++)
		if (!strcmp(res, results[i]))
			l.want = i;
	ab_buf_puts(b, "<h2>Delivery log</h2><form method=\"get\" action=\"/ui/admin\" "
		"class=\"filters\"><label for=\"f-channel\">Channel</label> <select id=\"f-channel\" "
		"name=\"channel\"><option value=\"\">all</option>");
	for (size_t i = 0; i < cfg->n_channels; i++) {
		ab_buf_puts(b, "<option value=\"");
		ab_buf_put_html(b, cfg->channels[i].name);
		ab_buf_printf(b, "\"%s>", ch && !strcmp(ch, cfg->channels[i].name) ? " selected" : "");
		ab_buf_put_html(b, cfg->channels[i].name);
		ab_buf_puts(b, "</option>");
	}
	ab_buf_puts(b, "</select> <label for=\"f-result\">Result</label> <select id=\"f-result\" "
		"name=\"result\"><option value=\"\">all</option>");
	for (int i = 0; i < 3; i++)
		ab_buf_printf(b, "<option value=\"%s\"%s>%s</option>", results[i],
			l.want == i ? " selected" : "", results[i]);
	ab_buf_puts(b, "</select> <button type=\"submit\">Filter</button></form>\n"
		"<div class=\"scroll\"><table class=\"event\" id=\"log\"><thead><tr>"
		"<th scope=\"col\">At</th><th scope=\"col\">Channel</th><th scope=\"col\">Job</th>"
		"<th scope=\"col\">Attempt</th><th scope=\"col\">Result</th><th scope=\"col\">Code"
		"</th><th scope=\"col\">Latency</th><th scope=\"col\">Error</th></tr></thead>"
		"<tbody>\n");
	if (ab_store_list_log(st, ch, l.want < 0 ? LOG_ROWS : 20 * LOG_ROWS, on_log, &l) < 0)
		ab_buf_puts(b, "<tr><td colspan=\"8\">The log cannot be read now.</td></tr>\n");
	else if (!l.n)
		ab_buf_puts(b, "<tr><td colspan=\"8\">No deliveries.</td></tr>\n");
	ab_buf_puts(b, "</tbody></table></div>\n");
}

static void admin_page(struct ab_http_app *app, const struct ab_session *s,
	const struct ab_http_req *rq, struct ab_http_resp *rs, const char *note)
{
	struct ab_runtime *rt = ab_http_app_runtime(app);
	struct chans c = { NULL, 0, 0, 0, 0 };
	struct dead_ctx d;
	struct ab_store *st = NULL;
	struct ab_buf *b = &rs->body;
	char err[512];

	if (!rt || !(st = ab_store_open(app->store_path, err, sizeof err))) {
		ab_ui_message(rs, 503, "Admin", rt ? err : "the daemon is reloading", s);
		goto done;
	}
	c.v = calloc(rt->cfg->n_channels + 1, sizeof *c.v);
	if (!c.v) {
		ab_ui_message(rs, 503, "Admin", "out of memory", s);
		goto done;
	}
	c.n = rt->cfg->n_channels;
	for (size_t i = 0; i < c.n; i++)
		c.v[i].name = rt->cfg->channels[i].name;
	ab_store_job_stats(st, on_stats, &c);
	ab_store_health_list(st, on_health, &c);
	ab_ui_page_begin(rs, 200, "Admin", s, ab_ui_unread(app, s->user));
	if (note) {
		ab_buf_puts(b, "<p class=\"saved\" role=\"status\" id=\"note\">");
		ab_buf_put_html(b, note);
		ab_buf_puts(b, "</p>\n");
	}
	channels_table(rt->cfg, &c, s, b);
	ab_buf_puts(b, "<h2>Dead letters</h2><div class=\"scroll\"><table class=\"event\" "
		"id=\"dead\"><thead><tr><th scope=\"col\">Job</th><th scope=\"col\">Channel</th>"
		"<th scope=\"col\">Event</th><th scope=\"col\">Attempts</th><th scope=\"col\">"
		"Last error</th><th scope=\"col\">Replay</th></tr></thead><tbody>\n");
	d.b = b;
	d.csrf = s->csrf;
	d.n = 0;
	if (ab_store_list_jobs(st, 1u << AB_JOB_DEAD, on_dead, &d) < 0)
		ab_buf_puts(b, "<tr><td colspan=\"6\">The queue cannot be read now.</td></tr>\n");
	else if (!d.n)
		ab_buf_puts(b, "<tr><td colspan=\"6\">No dead letters.</td></tr>\n");
	ab_buf_puts(b, "</tbody></table></div>\n");
	log_section(st, rt->cfg, rq, b);
	ab_ui_page_end(rs);
done:
	free(c.v);
	ab_store_close(st);
	ab_runtime_unref(rt);
}

void ab_ui_admin_get(struct ab_http_app *app, const struct ab_session *s,
	const struct ab_http_req *rq, struct ab_http_resp *rs)
{
	if (!s->admin) {   /* signed_in() read the role from the running configuration */
		ab_ui_message(rs, 403, "Not allowed", "This page is for admins.", s);
		return;
	}
	admin_page(app, s, rq, rs, NULL);
}

static void do_test(struct ab_http_app *app, const struct ab_session *s, const char *name,
	char *note, size_t notesz)
{
	struct ab_runtime *rt = ab_http_app_runtime(app);
	struct ab_channel_rt *ch = rt ? ab_runtime_channel(rt, name) : NULL;
	struct ab_result res;
	int64_t t0;

	if (!ch) {
		snprintf(note, notesz, "Test of %.64s: not sent: the channel is not running "
			"(disabled or not configured)", name);
	} else {
		t0 = ab_mono_ms();
		ab_channel_test(ch, "the web console", &res);
		snprintf(note, notesz, "Test of %.64s: %s%s%s, code %d, %lld ms%s%.200s", name,
			ab_status_name(res.status), res.status == AB_OK ? " (delivered)" : "",
			res.status == AB_RETRY && res.retry_after ? " (retry later)" : "", res.code,
			(long long)(ab_mono_ms() - t0), res.message[0] ? ": " : "", res.message);
		ab_log(AB_LOG_INFO, "console: '%s' sent a test to channel %s: %s", s->user, name,
			ab_status_name(res.status));
	}
	ab_runtime_unref(rt);
}

static void do_replay(struct ab_http_app *app, const struct ab_session *s, const char *job,
	char *note, size_t notesz)
{
	char err[512], *end;
	long long id = strtoll(job, &end, 10);
	struct ab_store *st;
	int n;

	if (*end || id <= 0) {
		snprintf(note, notesz, "Replay: '%.32s' is not a job id", job);
		return;
	}
	if (!(st = ab_store_open(app->store_path, err, sizeof err))) {
		snprintf(note, notesz, "Replay: %.300s", err);
		return;
	}
	n = ab_store_retry(st, id, ab_now_ms());
	ab_store_close(st);
	if (n == 1) {
		if (app->wake)
			app->wake(app->wake_arg);
		snprintf(note, notesz, "Job %lld replayed: queued again, due now", id);
		ab_log(AB_LOG_INFO, "console: '%s' replayed job %lld", s->user, id);
	} else {
		snprintf(note, notesz, "Job %lld: %s", id, n < 0 ? "the queue cannot be changed "
			"now" : "not a dead letter (any more)");
	}
}

void ab_ui_admin_post(struct ab_http_app *app, const struct ab_session *s, const char *action,
	const struct ab_http_req *rq, struct ab_http_resp *rs)
{
	char v[300], note[600];

	if (!s->admin) {   /* signed_in() read the role from the running configuration */
		ab_ui_message(rs, 403, "Not allowed", "This page is for admins.", s);
		return;
	}
	if (!strcmp(action, "test") && ab_ui_form_get(rq->body, "channel", 0, v, sizeof v) == 1)
		do_test(app, s, v, note, sizeof note);
	else if (!strcmp(action, "replay") && ab_ui_form_get(rq->body, "job", 0, v, sizeof v) == 1)
		do_replay(app, s, v, note, sizeof note);
	else
		snprintf(note, sizeof note, "Unknown action");
	admin_page(app, s, rq, rs, note);
}
