/*
 * mattermost.c - the "mattermost" channel plugin: Mattermost incoming
 * webhooks with Slack-compatible message attachments.
 *
 * Settings:
 *   url            (string, required, secret) the incoming-webhook URL
 *   channel, username, icon_url, icon_emoji   (strings, optional) overrides
 *                  the webhook allows ("channel" is the channel's handle)
 *   allow_http, allow_networks, timeout, ca_file   see render.h (rd_http)
 * Rate: 1 message per second unless the channel sets rate (default_rate;
 * like Slack's webhooks).
 *
 * Body: {"text": one-line summary, "attachments": [{"fallback", "color",
 * "title", "title_link", "text", "fields": [{"short", "title", "value"}],
 * "footer"}], "props": {"card": full details in Markdown}}.  Every text
 * from outside is Markdown-escaped and @mentions are broken with a
 * zero-width space, so "@channel" in a title cannot notify anyone.
 *
 * Public: hc_plugin_desc, turned by httpchan.c into alertbridge_plugin()
 * (the only exported symbol).
 * Diagnostics: create() errors start with the setting name; send results
 * carry the HTTP helper's redacted message with Mattermost's error text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"
#include "httpchan.h"
#include "render.h"
#include "tmpl.h"

#define MM_TEXT_MAX 4000
#define MM_CARD_MAX 16000
#define MM_ITEMS_MAX 40
#define MM_OPT_MAX 256

struct mm_opts {
	char *opt[4];               /* channel, username, icon_url, icon_emoji */
	struct tmpl_set tpl;        /* template.title, template.body */
	const struct ab_host *host;
};

static const char *const mm_parts[] = { "title", "body", NULL };

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

static char *render(const void *priv, const struct ab_message *msg, size_t *len, char *err,
	size_t errsz)
{
	const struct mm_opts *o = priv;
	struct rd_view v;
	struct ab_buf text = AB_BUF_INIT(MM_TEXT_MAX * 8), cb = AB_BUF_INIT(MM_CARD_MAX * 8);
	json_t *fields, *att, *root;
	char *one, *out, *own[2];

	if (rd_view_init(&v, msg, err, errsz) < 0)
		return NULL;
	tmpl_view(&o->tpl, o->host, msg->payload, &v, own);   /* escaped below as any text */
	fields = json_array();
	ab_buf_printf(&cb, "#### %s%s ", v.test ? "[TEST] " : "", rd_view_label(&v));
	rd_put(&cb, v.title, RD_ESC_MARKDOWN, 300);
	if (v.followup) {
		/* our own words: no escaping needed */
		ab_buf_puts(&cb, "\n\n_");
		rd_followup(&v, &cb);
		ab_buf_puts(&cb, "_");
		ab_buf_puts(&text, "_");
		rd_followup(&v, &text);
		ab_buf_puts(&text, "_\n\n");
	}
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
		RD_ESC_MARKDOWN, 300), "color", rd_view_color(&v), "title",
		rd_jstr(v.title, RD_ESC_MARKDOWN, 250), "text", ab_buf_cstr(&text), "fields", fields,
		"footer", "alertbridge");
	if (att && rd_url_ok(v.url))
		json_object_set_new(att, "title_link", json_string(v.url));
	root = json_pack("{s:o,s:[o],s:{s:s}}", "text", rd_jstr(one ? one : "", RD_ESC_MARKDOWN,
		300), "attachments", att, "props", "card", ab_buf_cstr(&cb));
	free(one);
	free(own[0]);
	free(own[1]);
	ab_buf_free(&text);
	ab_buf_free(&cb);
	for (int i = 0; root && i < 4; i++)
		if (o->opt[i])
			json_object_set_new(root, opt_names[i], json_string(o->opt[i]));
	out = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!out) {
		snprintf(err, errsz, "out of memory rendering the message");
		return NULL;
	}
	*len = strlen(out);
	return out;
}

static void mm_free(void *priv)
{
	struct mm_opts *o = priv;

	for (int i = 0; i < 4; i++)
		free(o->opt[i]);
	tmpl_set_free(&o->tpl);
	free(o);
}

static int mm_parse(const struct ab_host *host, json_t *cfg, void **priv, char *err,
	size_t errsz)
{
	struct mm_opts *o = calloc(1, sizeof *o);

	if (!(*priv = o)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	o->host = host;
	if (tmpl_set_parse(cfg, mm_parts, &o->tpl, err, errsz) < 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		json_t *v = json_object_get(cfg, opt_names[i]);
		const char *s = json_string_value(v);
		if (!v)
			continue;
		if (!s || !*s || strlen(s) > MM_OPT_MAX || strpbrk(s, "\r\n")) {
			snprintf(err, errsz, "setting '%s': must be a non-empty one-line string of "
				"at most %d bytes", opt_names[i], MM_OPT_MAX);
			return -1;
		}
		if (!(o->opt[i] = strdup(s))) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		json_object_del(cfg, opt_names[i]);
	}
	return 0;
}

const struct hc_desc hc_plugin_desc = {
	.plugin = HC_PLUGIN("mattermost", "Mattermost incoming webhook (attachments + props.card)",
		1.0),
	.parse = mm_parse,
	.render = render,
	.destroy = mm_free,
};
