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
 * any 2xx is success (Workflows answers 202).  The card: a title coloured
 * by severity, the summary, labelled rows (severity, type, source, asset,
 * team, status, tool, time) and an Action.OpenUrl to the finding; groups
 * and digests list the top items.  The body is kept under 24 KB by
 * shortening the summary and the item list.  Text from outside goes only
 * into TextRuns of RichTextBlocks, which no client runs through Markdown:
 * it shows as it is, with no escapes, and cannot make links or formatting.
 * Markdown-capable TextBlocks hold only our own words; times use the
 * card's {{DATE()}} / {{TIME()}} functions (each reader's own zone).
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
#include "tmpl.h"

#define TEAMS_BODY_MAX (24 * 1024 - 512)   /* keep well under Teams' 28 KB */
#define TEAMS_TITLE_MAX 200

/* A run of text from outside: a TextRun never goes through Markdown, so
 * the text shows as it is, with no escapes (Teams clients treat backslash
 * escapes in a TextBlock differently on desktop and mobile). */
static json_t *run(const char *text, size_t max)
{
	return json_pack("{s:s,s:o}", "type", "TextRun", "text", rd_jstr(text, RD_ESC_NONE, max));
}

static json_t *rich(json_t *inlines)
{
	return json_pack("{s:s,s:o,s:s}", "type", "RichTextBlock", "inlines", inlines,
		"spacing", "Small");
}

/* "2026-12-04T16:50:47.857Z" -> "2026-12-04T16:50:47Z" (what the card's
 * DATE/TIME functions take: no fraction, Z or +hh:mm); false when t is not
 * such a time. */
static bool card_time(const char *t, char *out, size_t outsz)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i = 0, n;
	const char *z;

	for (; shape[i]; i++)
		if (shape[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != shape[i])
			return false;
	z = t + i;
	if (*z == '.')
		for (z++; *z >= '0' && *z <= '9'; z++)
			;
	n = strlen(z);
	if (!(n == 1 && *z == 'Z') && !(n == 6 && (*z == '+' || *z == '-') && z[3] == ':'))
		return false;
	return snprintf(out, outsz, "%.*s%s", (int)i, t, z) < (int)outsz;
}

/* One labelled row: our label as a TextBlock, the value from outside as a
 * TextRun (a FactSet's values are Markdown in Teams), or for times the
 * card's DATE and TIME functions, so each reader sees their own zone. */
static void fact(json_t *body, const char *label, const char *value, bool time)
{
	char t[40], text[128];
	json_t *val, *lab;

	if (!*value)
		return;
	if (time && card_time(value, t, sizeof t)) {
		snprintf(text, sizeof text, "{{DATE(%s, SHORT)}} {{TIME(%s)}}", t, t);
		val = json_pack("{s:s,s:s,s:b,s:s}", "type", "TextBlock", "text", text, "wrap", 1,
			"spacing", "None");
	} else {
		val = json_pack("{s:s,s:[o],s:s}", "type", "RichTextBlock", "inlines",
			run(value, 300), "spacing", "None");
	}
	lab = run(label, 60);
	json_object_set_new(lab, "weight", json_string("Bolder"));
	json_object_set_new(lab, "isSubtle", json_true());
	json_array_append_new(body, json_pack("{s:s,s:s,s:[{s:s,s:s,s:[{s:s,s:[o],s:s}]},"
		"{s:s,s:s,s:[o]}]}", "type", "ColumnSet", "spacing", "None", "columns",
		"type", "Column", "width", "110px", "items", "type", "RichTextBlock", "inlines", lab,
		"spacing", "None",
		"type", "Column", "width", "stretch", "items", val));
}

/* template.facts: one row per line "Label: value" (a line without ": " is a
 * row without a label); values came escaped for a header, so no newline
 * of theirs splits a row. */
static void template_facts(json_t *body, const char *facts)
{
	char line[1024];
	const char *p = facts;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char *sep;

		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
		p += n + (p[n] == '\n');
		if (!*line)
			continue;
		if ((sep = strstr(line, ": "))) {
			*sep = '\0';
			fact(body, line, sep + 2, false);
		} else {
			fact(body, "", line, false);
		}
	}
}

static json_t *card(const struct rd_view *v, const char *facts, size_t summary_max,
	size_t items_max)
{
	struct ab_buf b = AB_BUF_INIT(256);
	json_t *body = json_array(), *actions = json_array(), *c, *label, *title;

	if (v->test)
		ab_buf_puts(&b, "[TEST] ");
	ab_buf_printf(&b, "[%s] ", rd_view_label(v));
	label = run(ab_buf_cstr(&b), 0);
	title = run(v->title, TEAMS_TITLE_MAX);
	ab_buf_free(&b);
	json_object_set_new(label, "size", json_string("Large"));
	json_object_set_new(label, "weight", json_string("Bolder"));
	json_object_set_new(label, "color", json_string(v->resolved ? "good" :
		rd_sev_teams(v->severity)));
	json_object_set_new(title, "size", json_string("Large"));
	json_object_set_new(title, "weight", json_string("Bolder"));
	if (v->resolved)
		json_object_set_new(title, "strikethrough", json_true());
	json_array_append_new(body, rich(json_pack("[o,o]", label, title)));
	if (v->followup) {
		/* our own words and a time: a TextBlock, so DATE/TIME apply */
		char t[40], text[256];

		if (card_time(v->first_when, t, sizeof t))
			snprintf(text, sizeof text, "%s the alert first sent {{DATE(%s, SHORT)}} "
				"{{TIME(%s)}}%s", v->resolved ? "Resolves" : "Follows up", t, t,
				v->earlier > 1 ? " (updated since)" : "");
		else
			snprintf(text, sizeof text, "%s an earlier alert about this finding",
				v->resolved ? "Resolves" : "Follows up");
		json_array_append_new(body, json_pack("{s:s,s:s,s:b,s:b,s:s}", "type",
			"TextBlock", "text", text, "isSubtle", 1, "wrap", 1, "spacing", "None"));
	}
	if (!v->is_group) {
		if (*v->summary)
			json_array_append_new(body, rich(json_pack("[o]", run(v->summary,
				summary_max))));
		if (facts) {
			template_facts(body, facts);
		} else {
			fact(body, "Severity", rd_sev_label(v->severity), false);
			fact(body, "Type", v->type, false);
			fact(body, "Source", v->source, false);
			fact(body, "Asset", v->asset, false);
			fact(body, "Team", v->team, false);
			fact(body, "Status", v->status, false);
			fact(body, "Tool", v->tool, false);
			fact(body, "Time", v->when, true);
		}
		if (v->suppressed > 0) {
			char s[64];
			snprintf(s, sizeof s, "%lld", v->suppressed);
			fact(body, "Suppressed", s, false);
		}
	} else {
		size_t n = v->items ? json_array_size(v->items) : 0, i;
		char cnt[64];
		long long more;

		snprintf(cnt, sizeof cnt, "%lld", v->count);
		fact(body, "Alerts", cnt, false);
		fact(body, "By severity", v->counts, false);
		fact(body, "Rule", v->source, false);
		fact(body, "Last", v->when, true);
		for (i = 0; i < n && i < items_max; i++) {
			const json_t *it = json_array_get(v->items, i);
			const char *t = *rd_str(it, "title") ? rd_str(it, "title") : rd_str(it, "type");
			json_t *inl = json_array(), *sev = run(rd_sev_label(rd_str(it, "severity")), 0);
			json_t *item;

			json_object_set_new(sev, "weight", json_string("Bolder"));
			json_object_set_new(sev, "color",
				json_string(rd_sev_teams(rd_str(it, "severity"))));
			json_array_append_new(inl, sev);
			json_array_append_new(inl, run(" ", 0));
			json_array_append_new(inl, run(t, 200));
			if (*rd_str(it, "asset")) {
				json_array_append_new(inl, run(" - ", 0));
				json_array_append_new(inl, run(rd_str(it, "asset"), 100));
			}
			item = rich(inl);
			json_object_set_new(item, "separator", json_boolean(i == 0));
			json_array_append_new(body, item);
		}
		more = v->omitted + (long long)(n > items_max ? n - items_max : 0);
		if (more > 0) {
			char s[64];
			snprintf(s, sizeof s, "...and %lld more", more);
			json_array_append_new(body, json_pack("{s:s,s:s,s:b,s:b}", "type",
				"TextBlock", "text", s, "isSubtle", 1, "wrap", 1));
		}
	}
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

/* The card of v, shortened until it fits; NULL with err. */
static char *render_view(const struct rd_view *v, const char *facts, size_t summary_max,
	size_t items_max, size_t *len, char *err, size_t errsz)
{
	for (int round = 0; round < 12; round++) {
		json_t *root = card(v, facts, summary_max, items_max);
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

struct tm_conf {
	struct tmpl_set tpl;          /* template.title, template.body, template.facts */
	const struct ab_host *host;
};

static const char *const tm_parts[] = { "title", "body", "facts", NULL };

static int tm_parse(const struct ab_host *h, json_t *cfg, void **priv, char *err, size_t errsz)
{
	struct tm_conf *c = calloc(1, sizeof *c);

	if (!(*priv = c)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	c->host = h;
	return tmpl_set_parse(cfg, tm_parts, &c->tpl, err, errsz);
}

static void tm_free(void *p)
{
	struct tm_conf *c = p;

	tmpl_set_free(&c->tpl);
	free(c);
}

static char *render(const void *priv, const struct ab_message *msg, size_t *len, char *err,
	size_t errsz)
{
	const struct tm_conf *c = priv;
	struct rd_view v;
	size_t summary_max = 8000, items_max = 40;
	char *own[2] = { NULL, NULL }, *out, *facts;

	if (rd_view_init(&v, msg, err, errsz) < 0)
		return NULL;
	/* the template's parts go into TextRuns as any outside text; facts
	 * first, from the event as it is */
	facts = tmpl_apply(&c->tpl, "facts", c->host, NULL, &v, msg->payload, TMPL_ESC_RD,
		RD_ESC_HEADER, 8192);
	tmpl_view(&c->tpl, c->host, msg->payload, &v, own);
	out = render_view(&v, facts, summary_max, items_max, len, err, errsz);
	free(facts);
	free(own[0]);
	free(own[1]);
	return out;
}

const struct hc_desc hc_plugin_desc = {
	.plugin = HC_PLUGIN("teams", "Microsoft Teams Workflows webhook (Adaptive Card 1.4)",
		1.0),
	.parse = tm_parse,
	.destroy = tm_free,
	.render = render,
};
