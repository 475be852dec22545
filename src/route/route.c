/*
 * route.c - routing: which channels an event goes to, and through which
 * rule.
 *
 * Public: ab_rule_match, ab_rule_window, ab_route_at, ab_route,
 * ab_route_channel_team, ab_event_member, ab_route_reads_fields, ab_route_members.
 * Matchers (all optional; each one that is set must hold): events (type
 * globs), categories, severities, min_severity, sources, tools (globs),
 * statuses (when unset: the active ones - open, affected, in review, new,
 * reopened - or no status at all), min_priority (1 is highest: priority
 * must be set and <= it), assets and teams (globs), fields (name -> PCRE2
 * regex, lib/regex.h's match budget; a budget hit is no match), not { matchers } (excludes).  Time
 * windows: with active windows the rule only fires inside one; inside a
 * mute window it matches but delivers nothing, except for critical events
 * unless mute_critical is set.  The default channels take what no rule
 * matched only when its status is active too (or unset).  A resolved
 * status (ab_resolved: resolved, closed, fixed, ...) of an event with a
 * fingerprint is taken as well (ab_route_follows_up): it goes only to the
 * channels that had the finding (noise.c).  Scopes, final,
 * default fallback, team
 * channel ownership, channel claiming and disabled channels (left out;
 * the default channels when nothing else is left) are described in
 * route.h.  The explain trace gives, per rule, "match" or the first reason
 * it did not match, what each channel got ("(disabled)" for a disabled
 * one, and where the event goes instead) and the final deliveries.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "route/route.h"
#include "lib/regex.h"
#include "lib/timewin.h"
#include "lib/util.h"

static const char *const active_statuses[] = { "open", "affected", "in review", "new",
	"reopened" };

static bool any_glob(char *const *globs, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (ab_glob_match(globs[i], s ? s : ""))
			return true;
	return false;
}

/* Case-insensitive, '_' and '-' equal to ' ' ("in_review" = "In Review"). */
static char status_norm(char c)
{
	if (c == '_' || c == '-')
		return ' ';
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool status_eq(const char *a, const char *b)
{
	while (*a && *b && status_norm(*a) == status_norm(*b)) {
		a++;
		b++;
	}
	return !*a && !*b;
}

/* A key of fields as text (ab_event_member). */
static const char *field_text(const struct ab_event *ev, const char *name, char *buf,
	size_t bufsz)
{
	const json_t *v = ev->fields ? json_object_get(ev->fields, name) : NULL;

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, bufsz, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, bufsz, "%g", json_real_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

const char *ab_event_member(const struct ab_event *ev, const char *name, char *buf,
	size_t bufsz)
{
	int m = ab_event_member_find(name, AB_EVF_ROUTE);   /* event/event_members.h */

	if (m >= 0)
		return ab_event_member_text(ev, (enum ab_event_member_id)m, buf, bufsz);
	return field_text(ev, !strncmp(name, "fields.", 7) ? name + 7 : name, buf, bufsz);
}

/* What a fields matcher reads: as ab_event_member, with the name resolved
 * when the configuration was read (fm->key set), else looked up. */
static const char *match_text(const struct ab_event *ev, const struct ab_field_match *fm,
	char *buf, size_t bufsz)
{
	if (!fm->key)
		return ab_event_member(ev, fm->name, buf, bufsz);
	if (fm->member >= 0)
		return ab_event_member_text(ev, (enum ab_event_member_id)fm->member, buf, bufsz);
	return field_text(ev, fm->key, buf, bufsz);
}

static bool re_match(const struct ab_field_match *fm, const char *s)
{
	return ab_regex_match(fm->re, s, strlen(s)) == AB_REGEX_MATCH;
}

static bool status_active(const char *st)
{
	for (size_t i = 0; i < sizeof active_statuses / sizeof active_statuses[0]; i++)
		if (status_eq(active_statuses[i], st))
			return true;
	return false;
}

/* The reason for no match, only when the caller asked for one (routing
 * without explain does not: a printf per rule was half its cost). */
#define WHY(...) ((void)(why && snprintf(why, whysz, __VA_ARGS__)))

static bool status_match(const struct ab_rule_conf *r, const struct ab_event *ev, char *why,
	size_t whysz)
{
	const char *st = ev->status && *ev->status ? ev->status : NULL;

	if (r->n_statuses) {
		for (size_t i = 0; i < r->n_statuses; i++)
			if (!strcmp(r->statuses[i], "*") || (st && status_eq(r->statuses[i], st)))
				return true;
		WHY("status '%s' not in statuses", st ? st : "");
		return false;
	}
	if (r->is_not || !st || status_active(st) || ab_route_follows_up(ev))
		return true;
	WHY("status '%s' is not an active one (set statuses to take it)", st);
	return false;
}

bool ab_route_follows_up(const struct ab_event *ev)
{
	return ev->fingerprint && *ev->fingerprint && ev->status && *ev->status &&
		!status_active(ev->status) && ab_resolved(NULL, ev->status);
}

bool ab_rule_match(const struct ab_rule_conf *r, const struct ab_event *ev, char *why,
	size_t whysz)
{
	char vb[64];

	if (why && whysz)
		why[0] = '\0';
	else
		why = NULL;
	if (r->n_events && !any_glob(r->events, r->n_events, ev->type)) {
		WHY("type '%s' matches none of events", ev->type);
		return false;
	}
	if (r->categories && !(r->categories & (1u << ev->category))) {
		WHY("category %s not in categories", ab_category_name(ev->category));
		return false;
	}
	if (r->severities && !(r->severities & (1u << ev->severity))) {
		WHY("severity %s not in severities", ab_severity_name(ev->severity));
		return false;
	}
	if (r->min_severity >= 0 && (int)ev->severity < r->min_severity) {
		WHY("severity %s < min_severity %s", ab_severity_name(ev->severity),
			ab_severity_name((enum ab_severity)r->min_severity));
		return false;
	}
	if (r->n_sources && !any_glob(r->sources, r->n_sources, ev->source)) {
		WHY("source '%s' matches none of sources",
			ev->source ? ev->source : "");
		return false;
	}
	if (r->n_tools && !any_glob(r->tools, r->n_tools, ev->tool)) {
		WHY("tool '%s' matches none of tools", ev->tool ? ev->tool : "");
		return false;
	}
	if (!status_match(r, ev, why, whysz))
		return false;
	if (r->min_priority > 0 && (ev->priority <= 0 || ev->priority > r->min_priority)) {
		if (ev->priority <= 0)
			WHY("priority unset (min_priority %d)", r->min_priority);
		else
			WHY("priority %d is lower than min_priority %d", ev->priority,
				r->min_priority);
		return false;
	}
	if (r->n_assets && !any_glob(r->assets, r->n_assets, ev->asset)) {
		WHY("asset '%s' matches none of assets", ev->asset ? ev->asset : "");
		return false;
	}
	if (r->n_teams && !any_glob(r->teams, r->n_teams, ev->team)) {
		WHY("team '%s' matches none of teams", ev->team ? ev->team : "");
		return false;
	}
	for (size_t i = 0; i < r->n_fields; i++) {
		const char *v = match_text(ev, &r->fields[i], vb, sizeof vb);

		if (!v) {
			WHY("field '%s' is not set", r->fields[i].name);
			return false;
		}
		if (!re_match(&r->fields[i], v)) {
			WHY("field '%s' does not match /%s/", r->fields[i].name,
				r->fields[i].pattern);
			return false;
		}
	}
	if (r->not && ab_rule_match(r->not, ev, NULL, 0)) {
		WHY("excluded by not { ... }");
		return false;
	}
	return true;
}

/* Does r (or its not { }) look at a key of fields that is ... ? */
static bool rule_reads_fields(const struct ab_rule_conf *r, bool (*which)(const char *key))
{
	for (; r; r = r->not)
		for (size_t i = 0; i < r->n_fields; i++) {
			const struct ab_field_match *fm = &r->fields[i];

			if (fm->member < 0 && (!which || !fm->key || which(fm->key)))
				return true;
		}
	return false;
}

bool ab_route_reads_fields(const struct ab_config *cfg, bool (*which)(const char *key))
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (rule_reads_fields(&cfg->rules[i], which))
			return true;
	for (size_t k = 0; k < cfg->n_teams; k++)
		for (size_t i = 0; i < cfg->teams[k].n_rules; i++)
			if (rule_reads_fields(&cfg->teams[k].rules[i], which))
				return true;
	return false;
}

_Static_assert(AB_EVM_COUNT <= 64, "ab_route_members: one bit per member");

static uint64_t rule_members(const struct ab_rule_conf *r)
{
	uint64_t m = 0;

	for (; r; r = r->not)
		for (size_t i = 0; i < r->n_fields; i++)
			if (r->fields[i].member >= 0)
				m |= 1ull << r->fields[i].member;
	return m;
}

uint64_t ab_route_members(const struct ab_config *cfg)
{
	/* what ab_rule_match, status_match, ab_route_follows_up, the team
	 * scope and the default channels read */
	uint64_t m = 1ull << AB_EVM_TYPE | 1ull << AB_EVM_CATEGORY | 1ull << AB_EVM_SEVERITY |
		1ull << AB_EVM_SOURCE | 1ull << AB_EVM_TOOL | 1ull << AB_EVM_STATUS |
		1ull << AB_EVM_PRIORITY | 1ull << AB_EVM_ASSET | 1ull << AB_EVM_TEAM |
		1ull << AB_EVM_FINGERPRINT;

	if (ab_route_reads_fields(cfg, NULL))
		return 0;
	for (size_t i = 0; i < cfg->n_rules; i++)
		m |= rule_members(&cfg->rules[i]);
	for (size_t k = 0; k < cfg->n_teams; k++)
		for (size_t i = 0; i < cfg->teams[k].n_rules; i++)
			m |= rule_members(&cfg->teams[k].rules[i]);
	return m;
}

static void window_text(const struct ab_window *w, char *out, size_t outsz)
{
	snprintf(out, outsz, "%02d:%02d-%02d:%02d %s days=0x%02x", w->from_min / 60,
		w->from_min % 60, w->to_min / 60, w->to_min % 60, w->tz, w->days);
}

int ab_rule_window(const struct ab_rule_conf *r, const struct ab_event *ev, int64_t now,
	char *why, size_t whysz)
{
	char wt[160] = "";
	size_t i;

	if (r->n_active) {
		for (i = 0; i < r->n_active; i++)
			if (ab_window_contains(&r->active[i], now))
				break;
		if (i == r->n_active) {
			WHY("outside its active windows");
			return 0;
		}
	}
	for (i = 0; i < r->n_mute; i++) {
		if (!ab_window_contains(&r->mute[i], now))
			continue;
		if (why)
			window_text(&r->mute[i], wt, sizeof wt);
		if (ev->severity == AB_SEV_CRITICAL && !r->mute_critical) {
			WHY("mute window %s ignored: critical (set mute_critical "
				"to silence critical too)", wt);
			return 1;
		}
		WHY("muted by window %s", wt);
		return 2;
	}
	return 1;
}

const struct ab_team_conf *ab_route_channel_team(const struct ab_config *cfg, const char *ch)
{
	for (size_t k = 0; k < cfg->n_teams; k++)
		for (size_t i = 0; i < cfg->teams[k].n_channels; i++)
			if (!strcmp(cfg->teams[k].channels[i], ch))
				return &cfg->teams[k];
	return NULL;
}

static bool claimed(const struct ab_route_result *out, const char *name)
{
	for (size_t i = 0; i < out->n; i++)
		if (strcmp(out->channels[i], name) == 0)
			return true;
	return false;
}

/* Remember a disabled channel once (for explain, the log and the fallback). */
static void note_disabled(struct ab_route_result *out, const char *name)
{
	for (size_t i = 0; i < out->n_disabled; i++)
		if (!strcmp(out->disabled[i], name))
			return;
	if (out->n_disabled < AB_ROUTE_MAX_CHANNELS)
		out->disabled[out->n_disabled++] = name;
}

/* Claim the channels of a hit that nobody has yet and that may get this
 * event; refs (NULL: look the names up) are the channels' owners and
 * disabled flags, resolved when the configuration was read. */
static void claim(const struct ab_config *cfg, const struct ab_event *ev,
	struct ab_route_result *out, struct ab_route_hit *h, const struct ab_chan_ref *refs,
	struct ab_buf *explain)
{
	for (size_t c = 0; c < h->n_chans && c < AB_ROUTE_MAX_CHANNELS; c++) {
		const char *ch = h->chans[c];
		const struct ab_team_conf *owner = refs ? refs[c].owner :
			ab_route_channel_team(cfg, ch);

		if (owner && owner != out->team) {
			if (explain)
				ab_buf_printf(explain, "    %s: skipped: channel of team '%s', event "
					"team is '%s'\n", ch, owner->name, ev->team ? ev->team : "");
			continue;
		}
		if (claimed(out, ch)) {
			if (explain)
				ab_buf_printf(explain, "    %s: already taken by an earlier rule\n", ch);
			continue;
		}
		if (refs ? refs[c].disabled : ab_channel_disabled(cfg, ch)) {
			note_disabled(out, ch);
			if (explain)
				ab_buf_printf(explain, "    %s: (disabled) left out: enabled = "
					"false in the configuration\n", ch);
			continue;
		}
		if (out->n >= AB_ROUTE_MAX_CHANNELS)
			break;
		out->channels[out->n++] = ch;
		h->claim |= 1ull << c;
	}
}

static void eval_scope(const struct ab_config *cfg, const struct ab_event *ev, int64_t now,
	const struct ab_rule_conf *rules, size_t n, struct ab_route_result *out,
	struct ab_buf *explain)
{
	char whybuf[512], *why = explain ? whybuf : NULL;   /* reasons for explain only */

	whybuf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct ab_rule_conf *r = &rules[i];
		bool m = ab_rule_match(r, ev, why, sizeof whybuf);
		int w = 1;
		struct ab_route_hit *h;

		if (m) {
			whybuf[0] = '\0';
			if (r->n_active || r->n_mute)
				w = ab_rule_window(r, ev, now, why, sizeof whybuf);
			m = w != 0;
		}
		if (explain) {
			ab_buf_printf(explain, "rule '%s' (%s:%d): %s%s%s%s\n", r->key, r->file,
				r->line, m ? "match" : "no match: ", m && whybuf[0] ? " (" : "",
				whybuf, m && whybuf[0] ? ")" : "");
		}
		if (!m)
			continue;
		out->n_matched++;
		if (out->n_hits < AB_ROUTE_MAX_HITS) {
			h = &out->hits[out->n_hits++];
			memset(h, 0, sizeof *h);
			h->rule = r;
			h->chans = r->channels;
			h->n_chans = r->n_channels;
			h->muted = w == 2;
			if (!h->muted && !r->send_resolved && ab_resolved(ev->type, ev->status)) {
				/* matched, so no default; nothing goes out by this rule */
				h->muted = true;
				if (explain)
					ab_buf_puts(explain, "    send_resolved = false: a resolved event "
						"goes nowhere by this rule\n");
			}
			if (!h->muted)
				claim(cfg, ev, out, h, r->chan_refs, explain);
		}
		if (r->final) {
			if (explain)
				ab_buf_puts(explain, "    final: later rules of this scope are skipped\n");
			break;
		}
	}
}

/* The default channels (the team's when it has them) as one more hit. */
static void use_default(const struct ab_config *cfg, const struct ab_event *ev,
	struct ab_route_result *out, struct ab_buf *explain, const char *why)
{
	struct ab_route_hit *h;
	const struct ab_chan_ref *refs;
	bool team_def = out->team && out->team->has_default;

	if (out->n_hits >= AB_ROUTE_MAX_HITS)
		return;
	if (out->n_matched == 0 && ev->status && *ev->status && !status_active(ev->status) &&
	    !ab_route_follows_up(ev)) {
		/* the statuses default holds for the default route too */
		if (explain)
			ab_buf_printf(explain, "%s: status '%s' is not an active one, so the "
				"default channels do not take it (a rule with statuses can)\n",
				why, ev->status);
		return;
	}
	h = &out->hits[out->n_hits++];
	memset(h, 0, sizeof *h);
	out->used_default = true;
	out->disabled_fallback = out->n_matched > 0;
	h->chans = team_def ? out->team->default_channels : cfg->default_channels;
	h->n_chans = team_def ? out->team->n_default : cfg->n_default;
	refs = team_def ? out->team->default_refs : cfg->default_refs;
	if (explain)
		ab_buf_printf(explain, "%s: %s default channels%s\n", why,
			team_def ? "the team's" : "the",
			out->disabled_fallback ? " instead (so the alert is not dropped)" : "");
	claim(cfg, ev, out, h, refs, explain);
}

void ab_route_at(const struct ab_config *cfg, const struct ab_event *ev, int64_t now,
	struct ab_route_result *out, struct ab_buf *explain)
{
	/* the counts and flags only: the arrays are read up to their counts
	 * (zeroing all of them was 3 KB per event) */
	out->n = out->n_matched = out->n_hits = out->n_disabled = 0;
	out->used_default = out->disabled_fallback = false;
	out->team = NULL;
	for (size_t k = 0; ev->team && k < cfg->n_teams; k++)
		if (!strcmp(cfg->teams[k].name, ev->team))
			out->team = &cfg->teams[k];
	if (out->team) {
		if (explain)
			ab_buf_printf(explain, "team '%s' (%s:%d): its rules first\n", out->team->name,
				out->team->file, out->team->line);
		eval_scope(cfg, ev, now, out->team->rules, out->team->n_rules, out, explain);
		if (explain && cfg->n_rules)
			ab_buf_puts(explain, "global rules:\n");
	}
	eval_scope(cfg, ev, now, cfg->rules, cfg->n_rules, out, explain);
	if (out->n_matched == 0)
		use_default(cfg, ev, out, explain, "no rule matched");
	else if (out->n == 0 && out->n_disabled > 0)
		use_default(cfg, ev, out, explain, "every channel of the matching rules is "
			"disabled");
	if (explain) {
		ab_buf_puts(explain, "channels:");
		if (!out->n)
			ab_buf_puts(explain, " (none)");
		for (size_t c = 0; c < out->n; c++)
			ab_buf_printf(explain, " %s", out->channels[c]);
		for (size_t c = 0; c < out->n_disabled; c++)
			ab_buf_printf(explain, "%s%s (disabled)", c ? ", " : "; left out: ",
				out->disabled[c]);
		ab_buf_puts(explain, "\n");
		if (!out->n && out->n_disabled)
			ab_buf_puts(explain, "nothing left to deliver to: the event is stored, not "
				"sent (enable a channel or set an enabled default channel)\n");
	}
}

void ab_route(const struct ab_config *cfg, const struct ab_event *ev,
	struct ab_route_result *out, struct ab_buf *explain)
{
	ab_route_at(cfg, ev, ab_now_ms(), out, explain);
}
