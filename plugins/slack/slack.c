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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"
#include "httpchan.h"
#include "render.h"

#define SLACK_HEADER_MAX 150
#define SLACK_SECTION_MAX 3000
#define SLACK_FIELD_MAX 2000
#define SLACK_BLOCKS_MAX 50
#define SLACK_ITEMS_MAX 40        /* item sections in a group message */
#define SLACK_TEXT_MAX 1000       /* top-level fallback text */
#define SLACK_BODY_MAX (256 * 1024)

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

/* The whole message; NULL with err on failure. */
static char *render(const void *priv, const struct ab_message *msg, size_t *len, char *err,
	size_t errsz)
{
	struct rd_view v;
	json_t *blocks, *root;
	char *text, *out;

	(void)priv;
	if (rd_view_init(&v, msg, err, errsz) < 0)
		return NULL;
	blocks = json_array();
	if (!blocks)
		goto oom;
	if (v.is_group)
		group_blocks(&v, blocks);
	else
		event_blocks(&v, blocks);
	while (json_array_size(blocks) > SLACK_BLOCKS_MAX)
		json_array_remove(blocks, json_array_size(blocks) - 1);
	text = rd_oneline(&v, SLACK_TEXT_MAX);
	root = json_pack("{s:o,s:[{s:s,s:o,s:o}]}", "text",
		rd_jstr(text ? text : "alert", RD_ESC_SLACK, SLACK_TEXT_MAX), "attachments",
		"color", rd_view_color(&v), "blocks", blocks, "fallback",
		rd_jstr(text ? text : "alert", RD_ESC_SLACK, SLACK_TEXT_MAX));
	free(text);
	if (!root)
		goto oom;
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!out)
		goto oom;
	*len = strlen(out);
	if (*len > SLACK_BODY_MAX) {
		snprintf(err, errsz, "rendered message is %zu bytes (limit %d)", *len,
			SLACK_BODY_MAX);
		free(out);
		return NULL;
	}
	return out;
oom:
	snprintf(err, errsz, "out of memory rendering the message");
	return NULL;
}

const struct hc_desc hc_plugin_desc = {
	.plugin = HC_PLUGIN("slack", "Slack incoming webhook (Block Kit)", 1.0),
	.render = render,
};
