/*
 * route.c - routing: which channels an event goes to.
 *
 * Public: ab_rule_match, ab_route.
 * Rules run in order; every matching rule fires; a matching rule marked
 * final stops evaluation; with no match the default channels get the
 * event; a channel appears at most once per event.  The explain trace
 * gives, per rule, "match" or the first reason it did not match.
 */
#include <stdio.h>
#include <string.h>

#include "route.h"
#include "util.h"

static bool any_glob(char *const *globs, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (ab_glob_match(globs[i], s ? s : ""))
			return true;
	return false;
}

bool ab_rule_match(const struct ab_rule_conf *r, const struct ab_event *ev, char *why,
	size_t whysz)
{
	char dummy[8];

	if (!why) {
		why = dummy;
		whysz = sizeof dummy;
	}
	why[0] = '\0';
	if (r->n_events && !any_glob(r->events, r->n_events, ev->type)) {
		snprintf(why, whysz, "type '%s' matches none of events", ev->type);
		return false;
	}
	if (r->categories && !(r->categories & (1u << ev->category))) {
		snprintf(why, whysz, "category %s not in categories", ab_category_name(ev->category));
		return false;
	}
	if (r->severities && !(r->severities & (1u << ev->severity))) {
		snprintf(why, whysz, "severity %s not in severities", ab_severity_name(ev->severity));
		return false;
	}
	if (r->min_severity >= 0 && (int)ev->severity < r->min_severity) {
		snprintf(why, whysz, "severity %s < min_severity %s", ab_severity_name(ev->severity),
			ab_severity_name((enum ab_severity)r->min_severity));
		return false;
	}
	if (r->n_sources && !any_glob(r->sources, r->n_sources, ev->source)) {
		snprintf(why, whysz, "source '%s' matches none of sources",
			ev->source ? ev->source : "");
		return false;
	}
	return true;
}

static void add_channel(struct ab_route_result *out, const char *name)
{
	for (size_t i = 0; i < out->n; i++)
		if (strcmp(out->channels[i], name) == 0)
			return;
	if (out->n < AB_ROUTE_MAX_CHANNELS)
		out->channels[out->n++] = name;
}

void ab_route(const struct ab_config *cfg, const struct ab_event *ev,
	struct ab_route_result *out, struct ab_buf *explain)
{
	char why[256];

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct ab_rule_conf *r = &cfg->rules[i];
		bool m = ab_rule_match(r, ev, why, sizeof why);

		if (explain) {
			ab_buf_printf(explain, "rule '%s' (%s:%d): %s%s%s\n", r->name, r->file,
				r->line, m ? "match" : "no match: ", m ? "" : why,
				m && r->final ? " (final: stop)" : "");
		}
		if (!m)
			continue;
		out->n_matched++;
		for (size_t c = 0; c < r->n_channels; c++)
			add_channel(out, r->channels[c]);
		if (r->final)
			break;
	}
	if (out->n_matched == 0) {
		out->used_default = true;
		for (size_t c = 0; c < cfg->n_default; c++)
			add_channel(out, cfg->default_channels[c]);
		if (explain)
			ab_buf_printf(explain, "no rule matched: default channels\n");
	}
	if (explain) {
		ab_buf_puts(explain, "deliveries:");
		if (!out->n)
			ab_buf_puts(explain, " (none)");
		for (size_t c = 0; c < out->n; c++)
			ab_buf_printf(explain, " %s", out->channels[c]);
		ab_buf_puts(explain, "\n");
	}
}
