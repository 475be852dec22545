/*
 * teams.c - the "teams" channel plugin: Microsoft Teams Workflows webhooks
 * ("Post to a channel when a webhook request is received") with an
 * Adaptive Card 1.4.
 *
 * Settings:
 *   url            (string, required, secret) the Workflows webhook URL
 *   allow_http, allow_networks, timeout, ca_file   see render.h (rd_http)
 * Rate: 1 message per second unless the channel sets rate (default_rate;
 * like the other chat services).
 *
 * Body: {"type":"message","attachments":[{"contentType":
 * "application/vnd.microsoft.card.adaptive","contentUrl":null,"content":
 * {AdaptiveCard 1.4, msteams.width = "Full"}}]} sent as application/json;
 * any 2xx is success (Workflows answers 202).  The card: a title
 * TextBlock coloured by severity, the summary, a FactSet (severity, type,
 * source, asset, team, tool, time) and an Action.OpenUrl to the finding;
 * groups and digests list the top items.  The body is kept under 24 KB by
 * shortening the summary and the item list.  Text from outside has the
 * Markdown specials of TextBlock backslash-escaped.
 *
 * Public: hc_plugin_desc, turned by httpchan.c into alertbridge_plugin()
 * (the only exported symbol).
 * Diagnostics: create() errors start with the setting name; send results
 * carry the HTTP helper's redacted message with the service's error text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"
#include "httpchan.h"
#include "render.h"

#define TEAMS_BODY_MAX (24 * 1024 - 512)   /* keep well under Teams' 28 KB */
#define TEAMS_TITLE_MAX 200

static json_t *text_block(const char *text, size_t max, bool escape)
{
	return json_pack("{s:s,s:o,s:b}", "type", "TextBlock", "text",
		rd_jstr(text, escape ? RD_ESC_CARD : RD_ESC_NONE, max), "wrap", 1);
}

static void fact(json_t *facts, const char *title, const char *value)
{
	if (*value)
		json_array_append_new(facts, json_pack("{s:s,s:o}", "title", title, "value",
			rd_jstr(value, RD_ESC_CARD, 300)));
}

static json_t *card(const struct rd_view *v, size_t summary_max, size_t items_max)
{
	struct ab_buf b = AB_BUF_INIT(4096);
	json_t *body = json_array(), *facts = json_array(), *actions = json_array(), *c;

	if (v->test)
		ab_buf_puts(&b, "[TEST] ");
	ab_buf_printf(&b, "[%s] ", rd_sev_label(v->severity));
	rd_put(&b, v->title, RD_ESC_CARD, TEAMS_TITLE_MAX);
	json_array_append_new(body, json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "type",
		"TextBlock", "text", ab_buf_cstr(&b), "size", "Large", "weight", "Bolder",
		"color", rd_sev_teams(v->severity), "wrap", 1));
	ab_buf_free(&b);
	if (!v->is_group) {
		if (*v->summary)
			json_array_append_new(body, text_block(v->summary, summary_max, true));
		fact(facts, "Severity", rd_sev_label(v->severity));
		fact(facts, "Type", v->type);
		fact(facts, "Source", v->source);
		fact(facts, "Asset", v->asset);
		fact(facts, "Team", v->team);
		fact(facts, "Status", v->status);
		fact(facts, "Tool", v->tool);
		fact(facts, "Time", v->when);
		if (v->suppressed > 0) {
			char s[64];
			snprintf(s, sizeof s, "%lld", v->suppressed);
			fact(facts, "Suppressed", s);
		}
	} else {
		size_t n = v->items ? json_array_size(v->items) : 0, i;
		char cnt[64];
		long long more;

		snprintf(cnt, sizeof cnt, "%lld", v->count);
		fact(facts, "Alerts", cnt);
		fact(facts, "By severity", v->counts);
		fact(facts, "Rule", v->source);
		fact(facts, "Last", v->when);
		for (i = 0; i < n && i < items_max; i++) {
			const json_t *it = json_array_get(v->items, i);
			struct ab_buf t = AB_BUF_INIT(2048);
			const char *title = *rd_str(it, "title") ? rd_str(it, "title")
				: rd_str(it, "type");
			ab_buf_printf(&t, "**%s** ", rd_sev_label(rd_str(it, "severity")));
			rd_put(&t, title, RD_ESC_CARD, 200);
			if (*rd_str(it, "asset")) {
				ab_buf_puts(&t, " - ");
				rd_put(&t, rd_str(it, "asset"), RD_ESC_CARD, 100);
			}
			json_array_append_new(body, json_pack("{s:s,s:s,s:b,s:s,s:b}", "type",
				"TextBlock", "text", ab_buf_cstr(&t), "wrap", 1, "spacing",
				"Small", "separator", i == 0));
			ab_buf_free(&t);
		}
		more = v->omitted + (long long)(n > items_max ? n - items_max : 0);
		if (more > 0) {
			char s[64];
			snprintf(s, sizeof s, "...and %lld more", more);
			json_array_append_new(body, json_pack("{s:s,s:s,s:b,s:b}", "type",
				"TextBlock", "text", s, "isSubtle", 1, "wrap", 1));
		}
	}
	if (json_array_size(facts))
		json_array_append_new(body, json_pack("{s:s,s:o}", "type", "FactSet", "facts", facts));
	else
		json_decref(facts);
	if (rd_url_ok(v->url))
		json_array_append_new(actions, json_pack("{s:s,s:s,s:s}", "type", "Action.OpenUrl",
			"title", v->is_group ? "View all" : "View finding", "url", v->url));
	c = json_pack("{s:s,s:s,s:s,s:{s:s},s:o,s:o}",
		"$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
		"type", "AdaptiveCard", "version", "1.4", "msteams", "width", "Full",
		"body", body, "actions", actions);
	return json_pack("{s:s,s:[{s:s,s:n,s:o}]}", "type", "message", "attachments",
		"contentType", "application/vnd.microsoft.card.adaptive", "contentUrl",
		"content", c);
}

static char *render(const void *priv, const struct ab_message *msg, size_t *len, char *err,
	size_t errsz)
{
	struct rd_view v;
	size_t summary_max = 8000, items_max = 40;

	(void)priv;
	if (rd_view_init(&v, msg, err, errsz) < 0)
		return NULL;
	for (int round = 0; round < 12; round++) {
		json_t *root = card(&v, summary_max, items_max);
		char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;

		json_decref(root);
		if (!out) {
			snprintf(err, errsz, "out of memory rendering the card");
			return NULL;
		}
		*len = strlen(out);
		if (*len <= TEAMS_BODY_MAX)
			return out;
		free(out);
		/* Too big: halve what can be shortened, the list first. */
		if (items_max > 5)
			items_max /= 2;
		else
			summary_max = summary_max > 200 ? summary_max / 2 : 100;
	}
	snprintf(err, errsz, "card stays above %d bytes even shortened", TEAMS_BODY_MAX);
	return NULL;
}

const struct hc_desc hc_plugin_desc = {
	.plugin = HC_PLUGIN("teams", "Microsoft Teams Workflows webhook (Adaptive Card 1.4)",
		1.0),
	.render = render,
};
