/*
 * slack.c - the "slack" channel plugin: Slack incoming webhooks with Block
 * Kit messages.
 *
 * Settings:
 *   url            (string, required, secret) the incoming-webhook URL
 *   allow_http, allow_networks, timeout, ca_file   see render.h (rd_http)
 * Rate: 1 message per second unless the channel sets rate (default_rate;
 * Slack's documented limit per incoming webhook).
 *
 * Message: {"text": fallback, "attachments": [{"color": severity colour,
 * "blocks": [...]}]}.  Blocks: header (severity emoji + title, <= 150
 * chars), section with the summary (<= 3000 chars, cut with a "view full"
 * link), section fields (severity, type, source, asset, team), context
 * (tool, time, id) and a button to the finding.  Groups and digests list
 * the top items (one section each) with counts per severity; at most 50
 * blocks.  Every text from outside has & < > escaped, so "<!channel>" in a
 * title is shown, never executed.
 *
 * Public: hc_plugin_desc, turned by httpchan.c into alertbridge_plugin()
 * (the only exported symbol).
 * Diagnostics: create() errors start with the setting name; send results
 * carry the HTTP helper's redacted message with Slack's error text
 * (e.g. "HTTP 400: invalid_blocks", "HTTP 404: no_service").
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"
#include "httpchan.h"
#include "render.h"
#include "tmpl.h"

#define SLACK_HEADER_MAX 150
#define SLACK_SECTION_MAX 3000
#define SLACK_FIELD_MAX 2000
#define SLACK_BLOCKS_MAX 50
#define SLACK_ITEMS_MAX 40        /* item sections in a group message */
#define SLACK_TEXT_MAX 1000       /* top-level fallback text */
#define SLACK_BODY_MAX (256 * 1024)
#define SLACK_USERS_MAX 256       /* e-mail -> user id kept */
#define SLACK_USER_TTL_MS (3600 * 1000)

static json_t *plain(const char *s, size_t max)
{
	return json_pack("{s:s,s:o,s:b}", "type", "plain_text", "text",
		rd_jstr(s, RD_ESC_SLACK, max), "emoji", 1);
}

static json_t *mrkdwn_o(json_t *text)
{
	return json_pack("{s:s,s:o}", "type", "mrkdwn", "text", text);
}

static json_t *header_block(const struct rd_view *v)
{
	struct ab_buf b = AB_BUF_INIT(4096);
	json_t *j;

	ab_buf_printf(&b, "%s ", v->test ? ":test_tube:" : v->resolved ? ":white_check_mark:" :
		rd_sev_emoji(v->severity));
	if (v->test)
		ab_buf_puts(&b, "[TEST] ");
	if (v->resolved)
		ab_buf_puts(&b, "[RESOLVED] ");
	/* The emoji code counts against the 150 characters. */
	rd_put(&b, v->title, RD_ESC_SLACK, SLACK_HEADER_MAX - rd_utf8_chars(ab_buf_cstr(&b)));
	j = json_pack("{s:s,s:{s:s,s:s,s:b}}", "type", "header", "text", "type", "plain_text",
		"text", ab_buf_cstr(&b), "emoji", 1);
	ab_buf_free(&b);
	return j;
}

/* "<url|text>" with the text escaped; url must pass rd_url_ok. */
static void link(struct ab_buf *b, const char *url, const char *text, size_t max)
{
	ab_buf_printf(b, "<%s|", url);
	rd_put(b, text, RD_ESC_SLACK, max);
	ab_buf_putc(b, '>');
}

static json_t *summary_block(const struct rd_view *v, const char *summary)
{
	struct ab_buf b = AB_BUF_INIT(SLACK_SECTION_MAX * 8);
	bool url = rd_url_ok(v->url);
	size_t room = SLACK_SECTION_MAX - (url ? strlen(v->url) + 16 : 0);
	json_t *j;

	if (rd_put(&b, summary, RD_ESC_SLACK, room) && url)
		ab_buf_printf(&b, " <%s|view full>", v->url);
	j = json_pack("{s:s,s:o}", "type", "section", "text",
		mrkdwn_o(json_string(ab_buf_cstr(&b))));
	ab_buf_free(&b);
	return j;
}

static void add_field(json_t *fields, const char *name, const char *value)
{
	struct ab_buf b = AB_BUF_INIT(SLACK_FIELD_MAX * 8);

	if (!*value)
		return;
	ab_buf_printf(&b, "*%s*\n", name);
	rd_put(&b, value, RD_ESC_SLACK, SLACK_FIELD_MAX - strlen(name) - 3);
	json_array_append_new(fields, mrkdwn_o(json_string(ab_buf_cstr(&b))));
	ab_buf_free(&b);
}

static json_t *context_block(const struct rd_view *v)
{
	struct ab_buf b = AB_BUF_INIT(8192);
	json_t *j;

	if (*v->tool) {
		ab_buf_puts(&b, "Tool: ");
		rd_put(&b, v->tool, RD_ESC_SLACK, 200);
		ab_buf_puts(&b, " | ");
	}
	if (v->when[0]) {
		ab_buf_puts(&b, "Time: ");
		rd_put(&b, v->when, RD_ESC_SLACK, 64);
		ab_buf_puts(&b, " | ");
	}
	ab_buf_puts(&b, "alertbridge");
	if (v->followup) {
		ab_buf_puts(&b, " | ");
		rd_followup(v, &b);
	}
	if (v->suppressed > 0)
		ab_buf_printf(&b, " | %lld similar event%s suppressed", v->suppressed,
			v->suppressed == 1 ? "" : "s");
	j = json_pack("{s:s,s:[o]}", "type", "context", "elements",
		mrkdwn_o(json_string(ab_buf_cstr(&b))));
	ab_buf_free(&b);
	return j;
}

static json_t *button_block(const char *url, const char *label)
{
	return json_pack("{s:s,s:[{s:s,s:o,s:s,s:s}]}", "type", "actions", "elements",
		"type", "button", "text", plain(label, 75), "url", url, "action_id", "open");
}

static void event_blocks(const struct rd_view *v, json_t *blocks)
{
	json_t *fields = json_array();

	json_array_append_new(blocks, header_block(v));
	if (*v->summary)
		json_array_append_new(blocks, summary_block(v, v->summary));
	add_field(fields, "Severity", rd_sev_label(v->severity));
	add_field(fields, "Type", v->type);
	add_field(fields, "Source", v->source);
	add_field(fields, "Asset", v->asset);
	add_field(fields, "Team", v->team);
	if (*v->status)
		add_field(fields, "Status", v->status);
	json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "fields", fields));
	json_array_append_new(blocks, context_block(v));
	if (rd_url_ok(v->url))
		json_array_append_new(blocks, button_block(v->url, "View finding"));
}

static void group_blocks(const struct rd_view *v, json_t *blocks)
{
	struct ab_buf b = AB_BUF_INIT(16384);
	size_t n = v->items ? json_array_size(v->items) : 0, shown = 0;

	json_array_append_new(blocks, header_block(v));
	ab_buf_printf(&b, "*%lld alert%s*", v->count, v->count == 1 ? "" : "s");
	if (v->counts[0])
		ab_buf_printf(&b, ": %s", v->counts);
	json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "text",
		mrkdwn_o(json_string(ab_buf_cstr(&b)))));
	for (size_t i = 0; i < n && shown < SLACK_ITEMS_MAX; i++, shown++) {
		const json_t *it = json_array_get(v->items, i);
		const char *url = rd_str(it, "url"), *asset = rd_str(it, "asset");
		const char *title = *rd_str(it, "title") ? rd_str(it, "title") : rd_str(it, "type");

		ab_buf_reset(&b);
		ab_buf_printf(&b, "%s *%s* ", rd_sev_emoji(rd_str(it, "severity")),
			rd_sev_label(rd_str(it, "severity")));
		if (rd_url_ok(url))
			link(&b, url, title, 300);
		else
			rd_put(&b, title, RD_ESC_SLACK, 300);
		if (*asset) {
			ab_buf_puts(&b, " - ");
			rd_put(&b, asset, RD_ESC_SLACK, 200);
		}
		json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "text",
			mrkdwn_o(json_string(ab_buf_cstr(&b)))));
	}
	ab_buf_reset(&b);
	if (v->omitted + (long long)(n - shown) > 0)
		ab_buf_printf(&b, "…and %lld more. ", v->omitted + (long long)(n - shown));
	if (v->when[0]) {
		ab_buf_puts(&b, "Last: ");
		rd_put(&b, v->when, RD_ESC_SLACK, 64);
		ab_buf_puts(&b, " | ");
	}
	ab_buf_printf(&b, "alertbridge %s", v->kind == AB_MSG_DIGEST ? "digest" : "group");
	json_array_append_new(blocks, json_pack("{s:s,s:[o]}", "type", "context", "elements",
		mrkdwn_o(json_string(ab_buf_cstr(&b)))));
	if (rd_url_ok(v->url))
		json_array_append_new(blocks, button_block(v->url, "View all"));
	ab_buf_free(&b);
}

/* The message object {text, attachments: [{color, blocks, fallback}]} of v;
 * NULL on ENOMEM. */
static json_t *message(const struct rd_view *v, const char *tmpl_text)
{
	json_t *blocks = json_array(), *root;
	char *text;

	if (!blocks)
		return NULL;
	if (v->is_group)
		group_blocks(v, blocks);
	else
		event_blocks(v, blocks);
	while (json_array_size(blocks) > SLACK_BLOCKS_MAX)
		json_array_remove(blocks, json_array_size(blocks) - 1);
	text = tmpl_text ? strdup(tmpl_text) : rd_oneline(v, SLACK_TEXT_MAX);
	root = json_pack("{s:o,s:[{s:s,s:o,s:o}]}", "text",
		rd_jstr(text ? text : "alert", RD_ESC_SLACK, SLACK_TEXT_MAX), "attachments",
		"color", rd_view_color(v), "blocks", blocks, "fallback",
		rd_jstr(text ? text : "alert", RD_ESC_SLACK, SLACK_TEXT_MAX));
	free(text);
	return root;
}

/* JSON text of root within Slack's size; NULL with err. */
static char *dump(json_t *root, size_t *len, char *err, size_t errsz)
{
	char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;

	if (!out) {
		snprintf(err, errsz, "out of memory rendering the message");
		return NULL;
	}
	*len = strlen(out);
	if (*len > SLACK_BODY_MAX) {
		snprintf(err, errsz, "rendered message is %zu bytes (limit %d)", *len,
			SLACK_BODY_MAX);
		free(out);
		return NULL;
	}
	return out;
}

/* ------------------------------------------------------------ Slack app */

struct sl_user {
	char *email, *id;
	int64_t at;
};

struct sl_conf {
	char *token;                  /* a bot token (secret): the app mode */
	char *channel;                /* its channel (id or name), or NULL: people only */
	char *api_url;                /* "https://slack.com/api" */
	pthread_mutex_t mu;           /* users */
	struct sl_user users[SLACK_USERS_MAX];   /* e-mail -> user id */
	size_t n_users;
	struct tmpl_set tpl;          /* template.title, template.body, template.text */
	const struct ab_host *host;
};

static const char *const sl_parts[] = { "title", "body", "text", NULL };

/* The message of msg (templates applied): a new object, or NULL with err. */
static json_t *build(const struct sl_conf *c, const struct ab_message *msg, char *err,
	size_t errsz)
{
	struct rd_view v;
	char *own[2], *text;
	json_t *root;

	if (rd_view_init(&v, msg, err, errsz) < 0)
		return NULL;
	/* every part sees the event as it is: the text before the title changes */
	text = tmpl_apply(&c->tpl, "text", c->host, NULL, &v, msg->payload, TMPL_ESC_RD,
		RD_ESC_NONE, SLACK_TEXT_MAX * 4);
	tmpl_view(&c->tpl, c->host, msg->payload, &v, own);
	root = message(&v, text);
	free(text);
	free(own[0]);
	free(own[1]);
	if (!root)
		snprintf(err, errsz, "out of memory rendering the message");
	return root;
}

/* The whole message (incoming webhook); NULL with err on failure. */
static char *render(const void *priv, const struct ab_message *msg, size_t *len, char *err,
	size_t errsz)
{
	json_t *root;
	char *out;

	if (json_object_get(msg->payload, "recipients")) {
		snprintf(err, errsz, "an incoming webhook cannot send direct messages: give the "
			"channel a token (a Slack app) to message people");
		return NULL;
	}
	if (!(root = build(priv, msg, err, errsz)))
		return NULL;
	out = dump(root, len, err, errsz);
	json_decref(root);
	return out;
}

static void sl_free(void *p)
{
	struct sl_conf *c = p;

	if (!c)
		return;
	if (c->token) {
		OPENSSL_cleanse(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->channel);
	free(c->api_url);
	tmpl_set_free(&c->tpl);
	for (size_t i = 0; i < c->n_users; i++) {
		free(c->users[i].email);
		free(c->users[i].id);
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* token, channel, api_url: the app mode when token is there. */
static int sl_parse(const struct ab_host *h, json_t *cfg, void **priv, char *err, size_t errsz)
{
	struct sl_conf *c = calloc(1, sizeof *c);
	static const char *const keys[] = { "token", "channel", "api_url" };
	const char *val[3] = { NULL, NULL, NULL };

	if (!c) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	pthread_mutex_init(&c->mu, NULL);
	*priv = c;
	c->host = h;
	if (tmpl_set_parse(cfg, sl_parts, &c->tpl, err, errsz) < 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(cfg, keys[i]);

		if (!v)
			continue;
		if (!json_is_string(v) || !*json_string_value(v) ||
		    strlen(json_string_value(v)) > 1024 || strpbrk(json_string_value(v), "\r\n")) {
			snprintf(err, errsz, "setting '%s': must be a one-line string", keys[i]);
			return -1;
		}
		val[i] = json_string_value(v);
	}
	if (val[0] && !(c->token = rd_secret(h, "token", val[0], err, errsz)))
		return -1;
	if ((val[1] || val[2]) && !c->token) {
		snprintf(err, errsz, "setting '%s': only with token (a Slack app)", val[1] ?
			"channel" : "api_url");
		return -1;
	}
	if (c->token && strncmp(c->token, "xox", 3) != 0) {
		snprintf(err, errsz, "setting 'token': a Slack bot token (xoxb-...)");
		return -1;
	}
	if ((val[1] && !(c->channel = strdup(val[1][0] == '#' ? val[1] + 1 : val[1]))) ||
	    (c->token && !(c->api_url = strdup(val[2] ? val[2] : "https://slack.com/api")))) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (char *u = c->api_url; u && *u && u[strlen(u) - 1] == '/'; )
		u[strlen(u) - 1] = '\0';
	for (int i = 0; i < 3; i++)
		json_object_del(cfg, keys[i]);
	return 0;
}

static const char *sl_url_rule(const void *priv, bool has_url)
{
	const struct sl_conf *c = priv;

	if (c->token && has_url)
		return "setting 'url': give either url (an incoming webhook) or token (a Slack "
			"app), not both";
	if (!c->token && !has_url)
		return "setting 'url': missing: the incoming-webhook URL (or token for a Slack app)";
	return NULL;
}

/* Slack's ok:false errors that pass: a retry may work. */
static bool transient(const char *e)
{
	static const char *const retry[] = { "ratelimited", "internal_error", "fatal_error",
		"service_unavailable", "request_timeout", "team_added_to_org" };

	for (size_t i = 0; i < sizeof retry / sizeof retry[0]; i++)
		if (strcmp(e, retry[i]) == 0)
			return true;
	return false;
}

/* POST api_url/method as the app: body JSON, or a form when form is set.
 * 0 with *out (the answer, ok:true), or -1 with res: ok:false errors are
 * PERMANENT (channel_not_found, invalid_auth, not_in_channel, ...) unless
 * transient(); HTTP failures as the host maps them (429 and 5xx RETRY,
 * Retry-After kept).  *err_code gets Slack's error when there was one. */
static int api(const struct ab_host *h, const struct rd_http *hs, const struct sl_conf *c,
	const char *method, const char *body, bool form, json_t **out, char *err_code,
	size_t err_codesz, struct ab_result *res)
{
	struct ab_buf url = AB_BUF_INIT(2048), auth = AB_BUF_INIT(4096);
	struct rd_http as = *hs;
	struct ab_http_request rq;
	struct ab_http_response rs;
	const char *hdrs[2];
	const char *e;
	json_t *j;
	int rc = -1;

	*out = NULL;
	if (err_code && err_codesz)
		err_code[0] = '\0';
	ab_buf_printf(&url, "%s/%s", c->api_url, method);
	ab_buf_printf(&auth, "Authorization: Bearer %s", c->token);
	if (url.overflow || auth.overflow) {
		ab_result_set(res, AB_RETRY, 0, "out of memory");
		goto done;
	}
	hdrs[0] = ab_buf_cstr(&auth);
	hdrs[1] = NULL;
	as.url = (char *)ab_buf_cstr(&url);
	rd_http_request(&as, hdrs, body, strlen(body), form ? "application/x-www-form-urlencoded" :
		"application/json; charset=utf-8", &rq);
	rq.max_response = 65536;
	memset(&rs, 0, sizeof rs);
	h->http(h, &rq, &rs);
	if (rs.outcome != AB_OK) {
		char m[AB_RESULT_MSG_MAX];

		snprintf(m, sizeof m, "slack %s: %.200s", method, rs.error[0] ? rs.error :
			"request failed");
		ab_result_set(res, rs.outcome, rs.status, m);
		res->retry_after = rs.retry_after;
	} else if (!(j = json_loadb(rs.body ? rs.body : "", rs.body_len, 0, NULL)) ||
		   !json_is_boolean(json_object_get(j, "ok"))) {
		json_decref(j);
		ab_result_set(res, AB_RETRY, rs.status, "slack: the answer is not Slack's JSON");
	} else if (!json_is_true(json_object_get(j, "ok"))) {
		char m[AB_RESULT_MSG_MAX];

		e = json_string_value(json_object_get(j, "error"));
		e = e ? e : "unknown_error";
		snprintf(m, sizeof m, "slack %s: %.100s", method, e);
		if (err_code)
			snprintf(err_code, err_codesz, "%s", e);
		ab_result_set(res, transient(e) ? AB_RETRY : AB_PERMANENT, rs.status, m);
		res->retry_after = rs.retry_after;
		json_decref(j);
	} else {
		*out = j;
		rc = 0;
	}
	if (h->http_free && h->size >= sizeof(struct ab_host))
		h->http_free(h, &rs);
	else
		free(rs.body);
done:
	if (auth.data)
		OPENSSL_cleanse(auth.data, auth.len);   /* it holds the token */
	ab_buf_free(&auth);
	ab_buf_free(&url);
	return rc;
}

/* The Slack user id of an e-mail address (users.lookupByEmail), kept for
 * SLACK_USER_TTL_MS.  0 with id, or -1 with res. */
static int user_id(const struct ab_host *h, const struct rd_http *hs, struct sl_conf *c,
	const char *email, char *id, size_t idsz, struct ab_result *res)
{
	int64_t now = h->now_ms(h);
	struct ab_buf form = AB_BUF_INIT(1024);
	const char *uid;
	json_t *j;
	size_t slot;
	bool too_long;
	int rc;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n_users; i++) {
		if (strcmp(c->users[i].email, email) == 0 &&
		    now - c->users[i].at < SLACK_USER_TTL_MS) {
			snprintf(id, idsz, "%s", c->users[i].id);
			pthread_mutex_unlock(&c->mu);
			return 0;
		}
	}
	pthread_mutex_unlock(&c->mu);
	ab_buf_puts(&form, "email=");
	rd_put_pct(&form, email);
	too_long = form.overflow;
	rc = too_long ? -1 : api(h, hs, c, "users.lookupByEmail", ab_buf_cstr(&form), true,
		&j, NULL, 0, res);
	ab_buf_free(&form);
	if (rc < 0) {
		if (too_long)
			ab_result_set(res, AB_PERMANENT, 0, "e-mail address too long");
		return -1;
	}
	uid = json_string_value(json_object_get(json_object_get(j, "user"), "id"));
	if (!uid || !*uid || strlen(uid) >= idsz) {
		json_decref(j);
		ab_result_set(res, AB_RETRY, 0, "slack users.lookupByEmail: no user id in the answer");
		return -1;
	}
	snprintf(id, idsz, "%s", uid);
	json_decref(j);
	pthread_mutex_lock(&c->mu);
	slot = c->n_users < SLACK_USERS_MAX ? c->n_users++ : (size_t)(now % SLACK_USERS_MAX);
	free(c->users[slot].email);
	free(c->users[slot].id);
	c->users[slot].email = strdup(email);
	c->users[slot].id = strdup(id);
	c->users[slot].at = now;
	if (!c->users[slot].email || !c->users[slot].id) {   /* not kept: looked up again */
		free(c->users[slot].email);
		free(c->users[slot].id);
		c->users[slot] = c->users[--c->n_users];
		memset(&c->users[c->n_users], 0, sizeof c->users[0]);
	}
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* Where msg goes: the person's direct messages (people) or the channel.
 * 0 with to, or -1 with res. */
static int target(const struct ab_host *h, const struct rd_http *hs, struct sl_conf *c,
	const struct ab_message *msg, char *to, size_t tosz, struct ab_result *res)
{
	const json_t *people = json_object_get(msg->payload, "recipients");
	const json_t *p = json_array_get(people, 0);
	const char *email = json_string_value(json_object_get(p, "email"));

	if (people) {
		if (!email || !*email) {
			ab_result_set(res, AB_PERMANENT, 0, "no e-mail address to find the person in "
				"Slack by (set email in the users section)");
			return -1;
		}
		return user_id(h, hs, c, email, to, tosz, res);
	}
	if (!c->channel) {
		ab_result_set(res, AB_PERMANENT, 0, "the channel has no 'channel' (it only "
			"messages people) and the message names no people");
		return -1;
	}
	snprintf(to, tosz, "%s", c->channel);
	return 0;
}

/* The thread reply that says what changed (our words, the title escaped). */
static char *reply_text(const struct rd_view *v)
{
	struct ab_buf b = AB_BUF_INIT(4096);

	if (v->resolved) {
		ab_buf_puts(&b, ":white_check_mark: *Resolved*: ");
	} else {
		ab_buf_printf(&b, "%s *Update* (%s", rd_sev_emoji(v->severity),
			rd_sev_label(v->severity));
		if (*v->status) {
			ab_buf_puts(&b, ", status ");
			rd_put(&b, v->status, RD_ESC_SLACK, 60);
		}
		ab_buf_puts(&b, "): ");
	}
	rd_put(&b, v->title, RD_ESC_SLACK, 300);
	if (b.oom) {
		ab_buf_free(&b);
		return NULL;
	}
	return ab_buf_steal(&b);
}

/* Post (or update) one message: args get channel (and ts); on ok the
 * answer's "channel:ts" goes to ref.  0, or -1 with res (and code). */
static int post(const struct ab_host *h, const struct rd_http *hs, const struct sl_conf *c,
	const char *method, json_t *args, char *ref, size_t refsz, char *code, size_t codesz,
	struct ab_result *res)
{
	char err[200];
	size_t len;
	char *body = dump(args, &len, err, sizeof err);
	json_t *ans;
	int rc;

	if (code && codesz)
		code[0] = '\0';
	if (!body) {
		ab_result_set(res, AB_PERMANENT, 0, err);
		return -1;
	}
	rc = api(h, hs, c, method, body, false, &ans, code, codesz, res);
	free(body);
	if (rc < 0)
		return -1;
	snprintf(ref, refsz, "%s:%s", json_string_value(json_object_get(ans, "channel")) ?
		json_string_value(json_object_get(ans, "channel")) : "",
		json_string_value(json_object_get(ans, "ts")) ?
		json_string_value(json_object_get(ans, "ts")) : "");
	json_decref(ans);
	return 0;
}

/* The app mode (token): a new finding is posted (chat.postMessage) and its
 * "channel:ts" kept by the host; a later event about it updates that
 * message in place (chat.update: resolved shows green, marked RESOLVED)
 * and replies in its thread with what changed.  A message Slack no longer
 * has is posted anew.  People get direct messages (users.lookupByEmail). */
static bool app_send(const struct ab_host *h, const struct rd_http *hs, void *priv,
	const struct ab_message *msg, struct ab_result *res)
{
	struct sl_conf *c = priv;
	char to[128], ref[AB_RESULT_REF_MAX], code[64] = "", err[200], tch[64], tts[64];
	const char *colon;
	struct rd_view v;
	json_t *root;

	if (!c || !c->token)
		return false;
	if (rd_view_init(&v, msg, err, sizeof err) < 0) {
		ab_result_set(res, AB_PERMANENT, 0, err);
		return true;
	}
	if (target(h, hs, c, msg, to, sizeof to, res) < 0)
		return true;
	if (!(root = build(c, msg, err, sizeof err))) {
		ab_result_set(res, AB_RETRY, 0, err);
		return true;
	}
	json_object_set_new(root, "unfurl_links", json_false());
	json_object_set_new(root, "unfurl_media", json_false());
	colon = msg->thread ? strchr(msg->thread->ref, ':') : NULL;
	if (colon && (size_t)(colon - msg->thread->ref) < sizeof tch && strlen(colon + 1) &&
	    strlen(colon + 1) < sizeof tts) {
		json_t *reply;
		char *rt;

		snprintf(tch, sizeof tch, "%.*s", (int)(colon - msg->thread->ref), msg->thread->ref);
		snprintf(tts, sizeof tts, "%s", colon + 1);
		json_object_set_new(root, "channel", json_string(tch));
		json_object_set_new(root, "ts", json_string(tts));
		if (post(h, hs, c, "chat.update", root, ref, sizeof ref, code, sizeof code,
				res) == 0) {
			rt = reply_text(&v);
			reply = json_pack("{s:s,s:s,s:s?,s:b}", "channel", tch, "thread_ts", tts,
				"text", rt, "unfurl_links", 0);
			free(rt);
			if (post(h, hs, c, "chat.postMessage", reply, ref, sizeof ref, code,
					sizeof code, res) == 0) {
				snprintf(err, sizeof err, "slack: updated %.60s:%.40s and replied in its "
					"thread", tch, tts);
				ab_result_set(res, AB_OK, 200, err);
			}
			json_decref(reply);
			json_decref(root);
			return true;
		}
		if (strcmp(code, "message_not_found") && strcmp(code, "cant_update_message") &&
		    strcmp(code, "edit_window_closed") && strcmp(code, "channel_not_found")) {
			json_decref(root);
			return true;   /* res says why */
		}
		json_object_del(root, "ts");   /* gone from Slack: a new message */
	}
	json_object_set_new(root, "channel", json_string(to));
	if (post(h, hs, c, "chat.postMessage", root, ref, sizeof ref, code, sizeof code,
			res) == 0) {
		snprintf(err, sizeof err, "slack: posted %.100s", ref);
		ab_result_set(res, AB_OK, 200, err);
		rd_set_ref(h, res, ref);
	}
	json_decref(root);
	return true;
}

static const char *const sl_check_urls[] = { "api_url", NULL };

const struct hc_desc hc_plugin_desc = {
	.plugin = HC_PLUGIN_FLAGS("slack", "Slack incoming webhook or app (Block Kit)", 1.0,
		AB_PLUGIN_F_RECIPIENTS),
	.render = render,
	.parse = sl_parse,
	.destroy = sl_free,
	.url_rule = sl_url_rule,
	.send = app_send,
	.check_urls = sl_check_urls,
};
