/*
 * mattermost.c - the "mattermost" channel plugin: Mattermost incoming
 * webhooks with Slack-compatible message attachments.
 *
 * Settings:
 *   url            (string, required, secret) the incoming-webhook URL
 *   channel, username, icon_url, icon_emoji   (strings, optional) overrides
 *                  the webhook allows ("channel" is the channel's handle)
 *   allow_http, allow_networks, timeout, ca_file   see render.h (rd_http)
 *
 * Body: {"text": one-line summary, "attachments": [{"fallback", "color",
 * "title", "title_link", "text", "fields": [{"short", "title", "value"}],
 * "footer"}], "props": {"card": full details in Markdown}}.  Every text
 * from outside is Markdown-escaped and @mentions are broken with a
 * zero-width space, so "@channel" in a title cannot notify anyone.
 *
 * Public: alertbridge_plugin() (the only exported symbol).
 * Diagnostics: create() errors start with the setting name; send results
 * carry the HTTP helper's redacted message with Mattermost's error text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alertbridge/plugin.h>

#include "buf.h"
#include "render.h"

#define MM_TEXT_MAX 4000
#define MM_CARD_MAX 16000
#define MM_ITEMS_MAX 40
#define MM_OPT_MAX 256

struct mm_inst {
	const struct ab_host *host;
	char *channel;
	struct rd_http http;
	char *opt[4];               /* channel, username, icon_url, icon_emoji */
};

static const char *const opt_names[4] = { "channel", "username", "icon_url", "icon_emoji" };

static void field(json_t *fields, const char *title, const char *value, bool shrt)
{
	if (*value)
		json_array_append_new(fields, json_pack("{s:b,s:s,s:o}", "short", shrt, "title",
			title, "value", rd_jstr(value, RD_ESC_MARKDOWN, 500)));
}

static void card_line(struct ab_buf *b, const char *name, const char *value)
{
	if (!*value)
		return;
	ab_buf_printf(b, "| %s | ", name);
	rd_put(b, value, RD_ESC_MARKDOWN, 500);
	ab_buf_puts(b, " |\n");
}

static char *render(const struct mm_inst *in, const struct ab_message *msg, size_t *len,
	char *err, size_t errsz)
{
	struct rd_view v;
	struct ab_buf text = AB_BUF_INIT(MM_TEXT_MAX * 8), cb = AB_BUF_INIT(MM_CARD_MAX * 8);
	json_t *fields, *att, *root;
	char *one, *out;

	if (rd_view_init(&v, msg, err, errsz) < 0)
		return NULL;
	fields = json_array();
	ab_buf_printf(&cb, "#### %s%s ", v.test ? "[TEST] " : "", rd_sev_label(v.severity));
	rd_put(&cb, v.title, RD_ESC_MARKDOWN, 300);
	ab_buf_puts(&cb, "\n\n| | |\n|:--|:--|\n");
	if (!v.is_group) {
		rd_put(&text, v.summary, RD_ESC_MARKDOWN, MM_TEXT_MAX);
		field(fields, "Severity", rd_sev_label(v.severity), true);
		field(fields, "Type", v.type, true);
		field(fields, "Source", v.source, true);
		field(fields, "Asset", v.asset, true);
		field(fields, "Team", v.team, true);
		field(fields, "Status", v.status, true);
		card_line(&cb, "Severity", rd_sev_label(v.severity));
		card_line(&cb, "Type", v.type);
		card_line(&cb, "Category", v.category);
		card_line(&cb, "Source", v.source);
		card_line(&cb, "Tool", v.tool);
		card_line(&cb, "Asset", v.asset);
		card_line(&cb, "Team", v.team);
		card_line(&cb, "Status", v.status);
		card_line(&cb, "Time", v.when);
		card_line(&cb, "Event id", v.id);
		ab_buf_puts(&cb, "\n");
		rd_put(&cb, v.summary, RD_ESC_MARKDOWN, MM_CARD_MAX / 2);
	} else {
		size_t n = v.items ? json_array_size(v.items) : 0, i;
		char c[32];

		snprintf(c, sizeof c, "%lld", v.count);
		field(fields, "Alerts", c, true);
		field(fields, "By severity", v.counts, true);
		card_line(&cb, "Alerts", c);
		card_line(&cb, "By severity", v.counts);
		card_line(&cb, "Rule", v.source);
		card_line(&cb, "Last", v.when);
		ab_buf_puts(&cb, "\n");
		for (i = 0; i < n && i < MM_ITEMS_MAX; i++) {
			const json_t *it = json_array_get(v.items, i);
			const char *t = *rd_str(it, "title") ? rd_str(it, "title") : rd_str(it, "type");
			ab_buf_printf(&text, "- **%s** ", rd_sev_label(rd_str(it, "severity")));
			rd_put(&text, t, RD_ESC_MARKDOWN, 200);
			ab_buf_puts(&text, "\n");
			ab_buf_printf(&cb, "- **%s** ", rd_sev_label(rd_str(it, "severity")));
			rd_put(&cb, t, RD_ESC_MARKDOWN, 300);
			if (*rd_str(it, "asset")) {
				ab_buf_puts(&cb, " - ");
				rd_put(&cb, rd_str(it, "asset"), RD_ESC_MARKDOWN, 100);
			}
			ab_buf_puts(&cb, "\n");
		}
		if (v.omitted + (long long)(n > MM_ITEMS_MAX ? n - MM_ITEMS_MAX : 0) > 0)
			ab_buf_printf(&text, "...and %lld more\n",
				v.omitted + (long long)(n > MM_ITEMS_MAX ? n - MM_ITEMS_MAX : 0));
	}
	one = rd_oneline(&v, 300);
	att = json_pack("{s:o,s:s,s:o,s:s,s:o,s:s}", "fallback", rd_jstr(one ? one : "",
		RD_ESC_MARKDOWN, 300), "color", rd_sev_color(v.severity), "title",
		rd_jstr(v.title, RD_ESC_MARKDOWN, 250), "text", ab_buf_cstr(&text), "fields", fields,
		"footer", "alertbridge");
	if (att && rd_url_ok(v.url))
		json_object_set_new(att, "title_link", json_string(v.url));
	root = json_pack("{s:o,s:[o],s:{s:s}}", "text", rd_jstr(one ? one : "", RD_ESC_MARKDOWN,
		300), "attachments", att, "props", "card", ab_buf_cstr(&cb));
	free(one);
	ab_buf_free(&text);
	ab_buf_free(&cb);
	for (int i = 0; root && i < 4; i++)
		if (in->opt[i])
			json_object_set_new(root, opt_names[i], json_string(in->opt[i]));
	out = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!out) {
		snprintf(err, errsz, "out of memory rendering the message");
		return NULL;
	}
	*len = strlen(out);
	return out;
}

static void mm_free(struct mm_inst *in)
{
	rd_http_free(&in->http);
	for (int i = 0; i < 4; i++)
		free(in->opt[i]);
	free(in->channel);
	free(in);
}

static void *mm_create(const struct ab_host *host, const char *channel, const json_t *config,
	char *err, size_t errsz)
{
	struct mm_inst *in = calloc(1, sizeof *in);
	json_t *cfg = json_deep_copy(config);

	if (!in || !cfg || !(in->channel = strdup(channel))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	in->host = host;
	if (rd_http_parse(host, cfg, &in->http, true, err, errsz) < 0)
		goto fail;
	for (int i = 0; i < 4; i++) {
		json_t *v = json_object_get(cfg, opt_names[i]);
		const char *s = json_string_value(v);
		if (!v)
			continue;
		if (!s || !*s || strlen(s) > MM_OPT_MAX || strpbrk(s, "\r\n")) {
			snprintf(err, errsz, "setting '%s': must be a non-empty one-line string of "
				"at most %d bytes", opt_names[i], MM_OPT_MAX);
			goto fail;
		}
		if (!(in->opt[i] = strdup(s))) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
		json_object_del(cfg, opt_names[i]);
	}
	if (rd_no_extra(cfg, "mattermost", err, errsz) < 0)
		goto fail;
	json_decref(cfg);
	return in;
fail:
	json_decref(cfg);
	if (in)
		mm_free(in);
	return NULL;
}

static void mm_send(void *p, const struct ab_message *msg, struct ab_result *res)
{
	struct mm_inst *in = p;
	char err[200];
	size_t len = 0;
	char *body = render(in, msg, &len, err, sizeof err);

	if (!body) {
		ab_result_set(res, AB_PERMANENT, 0, err);
		return;
	}
	rd_http_post(in->host, &in->http, NULL, body, len, "application/json", res);
	free(body);
}

static void mm_test(void *p, struct ab_result *res)
{
	struct mm_inst *in = p;
	json_t *ev = rd_test_event(in->host, in->channel);
	struct ab_message m = { AB_MSG_TEST, "00000000000000000000000000000000", 1, ev };

	if (!ev) {
		ab_result_set(res, AB_RETRY, 0, "out of memory");
		return;
	}
	mm_send(in, &m, res);
	json_decref(ev);
}

static void mm_destroy(void *p)
{
	if (p)
		mm_free(p);
}

static const struct ab_plugin mm_plugin = {
	.abi = AB_PLUGIN_ABI,
	.size = sizeof(struct ab_plugin),
	.name = "mattermost",
	.description = "Mattermost incoming webhook (attachments + props.card)",
	.create = mm_create,
	.send = mm_send,
	.test = mm_test,
	.flush = NULL,
	.destroy = mm_destroy,
};

const struct ab_plugin *alertbridge_plugin(void);
const struct ab_plugin *alertbridge_plugin(void)
{
	return &mm_plugin;
}
