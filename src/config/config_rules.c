/*
 * config_rules.c - the "rules" and "teams" sections of alertbridge.conf:
 * the rule language (matchers, time windows, throttle, grouping, digests,
 * reminders) and team blocks.
 *
 * Public (config_rules.h): ab_conf_rules, ab_conf_teams (section handlers of
 * config.c's table), ab_conf_rules_free, ab_conf_teams_free.
 *
 * Diagnostics, all "FILE:LINE: rule 'NAME': ...": unknown or misspelt
 * settings, bad globs, severities, categories, regexes (with the PCRE2
 * message and offset), durations, days, times and time zones, digest
 * schedules that do not parse, a rule with no channels or more than
 * AB_RULE_MAX_CHANNELS, an impossible severity range (severities and
 * min_severity that can never both hold), grouping settings without
 * group_by, group_by together with a digest or a throttle, duplicate rule
 * or team names, a team rule or team default sending to a channel owned
 * by another team, a channel owned by two teams, "not" nested too deeply.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_rules.h"
#include "config/config_schema.h"
#include "config/config_users.h"
#include "event/event.h"
#include "lib/regex.h"
#include "lib/timewin.h"
#include "lib/util.h"

#define MAX_RULES 4096
#define MAX_TEAMS 256
#define MAX_LIST 1024
#define MAX_FIELDS 64
#define MAX_WINDOWS 32
#define MAX_NOT_DEPTH 4
#define MAX_REMIND 16
#define SHOW 96
#define MS_DAY (24LL * 3600 * 1000)

#define AT(dst, off, type) ((type *)(void *)((char *)(dst) + (off)))
#define ROFF(m) offsetof(struct ab_rule_conf, m)

static _Thread_local int not_depth;  /* nesting of "not" while parsing */

/* ------------------------------------------------------------------ matchers */

static int severity_exact(const char *v, enum ab_severity *sev)
{
	if (ab_severity_parse(v, sev) != 0 || strcasecmp(v, ab_severity_name(*sev)) != 0)
		return -1;
	return 0;
}

static void bad_severity(struct ab_conf_ctx *c, const config_setting_t *s, const char *v)
{
	char sh[SHOW];

	ab_conf_err(c, s, "%sunknown severity '%s' (use critical, high, medium, low, info)",
		c->prefix, ab_conf_show(v, sh, sizeof sh));
}

static void h_severities(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	unsigned mask = 0;
	int i, n = config_setting_length(s);

	for (i = 0; i < n && i < MAX_LIST; i++) {
		const char *v = config_setting_get_string_elem(s, (unsigned)i);
		enum ab_severity sev;

		if (severity_exact(v, &sev) != 0) {
			bad_severity(c, config_setting_get_elem(s, (unsigned)i), v);
			continue;
		}
		mask |= 1u << sev;
	}
	*AT(dst, f->off, unsigned) = mask;
}

static void h_min_severity(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	enum ab_severity sev;

	if (severity_exact(v, &sev) != 0) {
		bad_severity(c, s, v);
		return;
	}
	*AT(dst, f->off, int) = (int)sev;
}

static void h_categories(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	char sh[SHOW];
	unsigned mask = 0;
	int i, n = config_setting_length(s);

	for (i = 0; i < n && i < MAX_LIST; i++) {
		const char *v = config_setting_get_string_elem(s, (unsigned)i);
		enum ab_category cat;

		if (ab_category_parse(v, &cat) != 0 || strcasecmp(v, ab_category_name(cat)) != 0) {
			ab_conf_err(c, config_setting_get_elem(s, (unsigned)i),
				"%sunknown category '%s' (use security, system, error)", c->prefix,
				ab_conf_show(v, sh, sizeof sh));
			continue;
		}
		mask |= 1u << cat;
	}
	*AT(dst, f->off, unsigned) = mask;
}

static void h_rule_name(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[SHOW];

	(void)dst;
	(void)f;
	if (!ab_conf_text_ok(v, AB_CONF_RULE_NAME_MAX) || strchr(v, '/'))
		ab_conf_err(c, s, "rule name '%s' must be 1 to %d characters without '/' or "
			"control characters", ab_conf_show(v, sh, sizeof sh), AB_CONF_RULE_NAME_MAX);
	/* the name itself was taken in do_rule() */
}

static void h_statuses(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	int i, n = config_setting_length(s);
	char sh[SHOW];

	for (i = 0; i < n && i < MAX_LIST; i++) {
		const char *v = config_setting_get_string_elem(s, (unsigned)i);

		if (!ab_conf_text_ok(v, 64)) {
			ab_conf_err(c, config_setting_get_elem(s, (unsigned)i), "%sbad status '%s' "
				"(1 to 64 characters)", c->prefix, ab_conf_show(v, sh, sizeof sh));
			return;
		}
	}
	ab_conf_h_strings(c, s, f, dst);
}

static void h_fields(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_rule_conf *r = dst;
	int i, n = config_setting_length(s);
	char sh[SHOW];

	(void)f;
	if (n > MAX_FIELDS) {
		ab_conf_err(c, s, "%s'fields' has %d entries (at most %d)", c->prefix, n,
			MAX_FIELDS);
		return;
	}
	r->fields = ab_conf_calloc(c, (size_t)n, sizeof *r->fields);
	if (!r->fields)
		return;
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *pat = config_setting_get_string(e);
		struct ab_field_match *fm = &r->fields[r->n_fields];
		char msg[256];
		size_t off = 0;

		if (config_setting_type(e) != CONFIG_TYPE_STRING || !pat) {
			ab_conf_err(c, e, "%sfields: '%s' must be a regular expression string",
				c->prefix, config_setting_name(e));
			continue;
		}
		fm->re = ab_regex_compile(pat, 0, &off, msg, sizeof msg);
		if (!fm->re) {
			ab_conf_err(c, e, "%sfields: '%s': bad regular expression '%s' at offset "
				"%zu: %s", c->prefix, config_setting_name(e),
				ab_conf_show(pat, sh, sizeof sh), off, msg);
			continue;
		}
		fm->name = ab_conf_strdup(c, config_setting_name(e));
		fm->pattern = ab_conf_strdup(c, pat);
		fm->member = ab_event_member_find(fm->name, AB_EVF_ROUTE);
		fm->key = fm->name && !strncmp(fm->name, "fields.", 7) ? fm->name + 7 : fm->name;
		r->n_fields++;
	}
}

/* ------------------------------------------------------------------ windows */

struct wparse {
	struct ab_window w;
	bool ok;
};

static void h_win_days(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct wparse *wp = dst;
	int i, n = config_setting_length(s);
	char sh[SHOW];

	(void)f;
	wp->w.days = 0;
	for (i = 0; i < n && i < 14; i++) {
		const char *v = config_setting_get_string_elem(s, (unsigned)i);

		if (ab_days_parse(v, &wp->w.days) < 0) {
			ab_conf_err(c, config_setting_get_elem(s, (unsigned)i), "%sbad day '%s' (use "
				"mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri)",
				c->prefix, ab_conf_show(v, sh, sizeof sh));
			wp->ok = false;
		}
	}
	if (n == 0) {
		ab_conf_err(c, s, "%sdays: empty list (leave days out for every day)", c->prefix);
		wp->ok = false;
	}
}

static void h_win_time(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[SHOW];
	int m;

	if (ab_hhmm_parse(v, &m) < 0) {
		ab_conf_err(c, s, "%s%s: bad time '%s' (use HH:MM, 00:00 to 24:00)", c->prefix,
			f->name, ab_conf_show(v, sh, sizeof sh));
		((struct wparse *)dst)->ok = false;
		return;
	}
	*AT(dst, f->off, int) = m;
}

static void h_win_tz(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct wparse *wp = dst;
	const char *v = config_setting_get_string(s);
	char sh[SHOW];

	(void)f;
	if (!ab_tz_valid(v)) {
		ab_conf_err(c, s, "%stime_zone: unknown time zone '%s' (use an IANA name such as "
			"Europe/Berlin or UTC)", c->prefix, ab_conf_show(v, sh, sizeof sh));
		wp->ok = false;
		return;
	}
	ab_strlcpy(wp->w.tz, v, sizeof wp->w.tz);
}

#define WOFF(m) offsetof(struct wparse, w) + offsetof(struct ab_window, m)
static const struct ab_conf_field window_fields[] = {
	{ "days", AB_CONF_T_STRINGS, false, h_win_days, 0, 0, 0, 0 },
	{ "from", AB_CONF_T_STRING, false, h_win_time, WOFF(from_min), 0, 0, 0 },
	{ "to", AB_CONF_T_STRING, false, h_win_time, WOFF(to_min), 0, 0, 0 },
	{ "time_zone", AB_CONF_T_STRING, false, h_win_tz, 0, 0, 0, 0 },
};

struct wlist {
	struct ab_window *arr;
	size_t *cnt;
	const char *name;    /* "active" or "mute" */
};

static void do_window(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
	const char *label, void *arg)
{
	struct wlist *wl = arg;
	struct wparse wp;

	(void)idx;
	(void)label;
	memset(&wp, 0, sizeof wp);
	wp.ok = true;
	wp.w.days = 0x7f;
	wp.w.to_min = 1440;
	ab_strlcpy(wp.w.tz, "UTC", sizeof wp.w.tz);
	ab_conf_check_group(c, g, window_fields, sizeof window_fields / sizeof window_fields[0],
		wl->name, &wp, NULL);
	if (wp.ok)
		wl->arr[(*wl->cnt)++] = wp.w;
}

static void h_windows(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_window **arr = AT(dst, f->off, struct ab_window *);
	struct wlist wl = { NULL, AT(dst, f->off_n, size_t), f->name };
	char what[sizeof c->prefix + 32];
	struct ab_conf_list list = { what, "{ days = [\"mon-fri\"]; from = \"08:00\"; "
		"to = \"18:00\"; time_zone = \"UTC\"; }", NULL, NULL };
	int n = config_setting_length(s);

	if (n > MAX_WINDOWS || n == 0) {
		ab_conf_err(c, s, "%s'%s' needs 1 to %d windows", c->prefix, f->name, MAX_WINDOWS);
		return;
	}
	*arr = ab_conf_calloc(c, (size_t)n, sizeof **arr);
	if (!*arr)
		return;
	wl.arr = *arr;
	snprintf(what, sizeof what, "%s%s", c->prefix, f->name);
	ab_conf_each_group(c, s, &list, do_window, &wl);
}

/* ------------------------------------------------------------------ actions */

static bool field_name_ok(const char *v)
{
	size_t i;

	if (!v || !*v || strlen(v) > 64)
		return false;
	for (i = 0; v[i]; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '_' || v[i] == '.' || v[i] == '-'))
			return false;
	return true;
}

static void h_field_names(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	int i, n = config_setting_length(s);
	char sh[SHOW];

	if (n == 0 || n > 16) {
		ab_conf_err(c, s, "%s'%s' needs 1 to 16 field names", c->prefix, f->name);
		return;
	}
	for (i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(s, (unsigned)i);

		if (!field_name_ok(v)) {
			ab_conf_err(c, config_setting_get_elem(s, (unsigned)i), "%s%s: bad field name "
				"'%s' (an event member such as tool or asset, or fields.NAME)",
				c->prefix, f->name, ab_conf_show(v, sh, sizeof sh));
			return;
		}
	}
	ab_conf_h_strings(c, s, f, dst);
}

static void h_remind(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_rule_conf *r = dst;
	int i, n = config_setting_length(s);
	char sh[SHOW];

	(void)f;
	if (n == 0 || n > MAX_REMIND) {
		ab_conf_err(c, s, "%sremind needs 1 to %d offsets such as \"7d\"", c->prefix,
			MAX_REMIND);
		return;
	}
	r->remind_ms = ab_conf_calloc(c, (size_t)n, sizeof *r->remind_ms);
	if (!r->remind_ms)
		return;
	for (i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(s, (unsigned)i);
		int64_t ms;

		if (ab_duration_parse(v, &ms) < 0 || ms > 366 * MS_DAY) {
			ab_conf_err(c, config_setting_get_elem(s, (unsigned)i), "%sremind: bad offset "
				"'%s' (a duration before expiry such as \"7d\" or \"0d\", at most "
				"366d)", c->prefix, ab_conf_show(v, sh, sizeof sh));
			continue;
		}
		r->remind_ms[r->n_remind++] = ms;
	}
}

struct dparse {
	struct ab_rule_conf *r;
	struct ab_schedule sched;
	bool have;
};

static void h_dg_schedule(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct dparse *dp = dst;
	const char *v = config_setting_get_string(s);
	char why[160], sh[SHOW];

	(void)f;
	if (ab_schedule_parse(v, &dp->sched, why, sizeof why) < 0) {
		ab_conf_err(c, s, "%sdigest: schedule '%s' does not parse: %s", c->prefix,
			ab_conf_show(v, sh, sizeof sh), why);
		return;
	}
	dp->have = true;
}

static void h_dg_bool(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)c;
	(void)f;
	((struct dparse *)dst)->r->digest_send_empty = config_setting_get_bool(s) != 0;
}

static void h_dg_max(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	ab_conf_h_int(c, s, f, ((struct dparse *)dst)->r);
}

static const struct ab_conf_field digest_fields[] = {
	{ "schedule", AB_CONF_T_STRING, true, h_dg_schedule, 0, 0, 0, 0 },
	{ "send_empty", AB_CONF_T_BOOL, false, h_dg_bool, 0, 0, 0, 0 },
	{ "max_items", AB_CONF_T_INT, false, h_dg_max, ROFF(digest_max_items), 0, 1, 100 },
};

static void h_digest(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct dparse dp = { .r = dst };

	(void)f;
	ab_conf_check_group(c, s, digest_fields, sizeof digest_fields / sizeof digest_fields[0],
		"digest", &dp, NULL);
	if (!dp.have)
		return;
	dp.r->digest = ab_conf_calloc(c, 1, sizeof *dp.r->digest);
	if (dp.r->digest)
		*dp.r->digest = dp.sched;
}

/* ------------------------------------------------------------------ rules */

static void h_not(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);

static const struct ab_conf_field matcher_fields[] = {
	{ "events", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(events), ROFF(n_events), 0, 0 },
	{ "categories", AB_CONF_T_STRINGS, false, h_categories, ROFF(categories), 0, 0, 0 },
	{ "severities", AB_CONF_T_STRINGS, false, h_severities, ROFF(severities), 0, 0, 0 },
	{ "min_severity", AB_CONF_T_STRING, false, h_min_severity, ROFF(min_severity), 0, 0, 0 },
	{ "sources", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(sources), ROFF(n_sources),
	  0, 0 },
	{ "tools", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(tools), ROFF(n_tools), 0, 0 },
	{ "statuses", AB_CONF_T_STRINGS, false, h_statuses, ROFF(statuses), ROFF(n_statuses),
	  0, 0 },
	{ "min_priority", AB_CONF_T_INT, false, ab_conf_h_int, ROFF(min_priority), 0, 1, 100 },
	{ "assets", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(assets), ROFF(n_assets), 0, 0 },
	{ "teams", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(teams), ROFF(n_teams), 0, 0 },
	{ "fields", AB_CONF_T_GROUP, false, h_fields, 0, 0, 0, 0 },
	{ "not", AB_CONF_T_GROUP, false, h_not, 0, 0, 0, 0 },
};

static const struct ab_conf_field rule_fields[] = {
	{ "name", AB_CONF_T_STRING, false, h_rule_name, ROFF(name), 0, 0, 0 },
	{ "events", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(events), ROFF(n_events), 0, 0 },
	{ "categories", AB_CONF_T_STRINGS, false, h_categories, ROFF(categories), 0, 0, 0 },
	{ "severities", AB_CONF_T_STRINGS, false, h_severities, ROFF(severities), 0, 0, 0 },
	{ "min_severity", AB_CONF_T_STRING, false, h_min_severity, ROFF(min_severity), 0, 0, 0 },
	{ "sources", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(sources), ROFF(n_sources),
	  0, 0 },
	{ "tools", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(tools), ROFF(n_tools), 0, 0 },
	{ "statuses", AB_CONF_T_STRINGS, false, h_statuses, ROFF(statuses), ROFF(n_statuses),
	  0, 0 },
	{ "min_priority", AB_CONF_T_INT, false, ab_conf_h_int, ROFF(min_priority), 0, 1, 100 },
	{ "assets", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(assets), ROFF(n_assets), 0, 0 },
	{ "teams", AB_CONF_T_STRINGS, false, ab_conf_h_globs, ROFF(teams), ROFF(n_teams), 0, 0 },
	{ "fields", AB_CONF_T_GROUP, false, h_fields, 0, 0, 0, 0 },
	{ "not", AB_CONF_T_GROUP, false, h_not, 0, 0, 0, 0 },
	{ "active", AB_CONF_T_LIST, false, h_windows, ROFF(active), ROFF(n_active), 0, 0 },
	{ "mute", AB_CONF_T_LIST, false, h_windows, ROFF(mute), ROFF(n_mute), 0, 0 },
	{ "mute_critical", AB_CONF_T_BOOL, false, ab_conf_h_bool, ROFF(mute_critical), 0, 0, 0 },
	{ "channels", AB_CONF_T_STRINGS, false, ab_conf_h_chanrefs, ROFF(channels),
	  ROFF(n_channels), 0, 0 },
	{ "final", AB_CONF_T_BOOL, false, ab_conf_h_bool, ROFF(final), 0, 0, 0 },
	{ "send_resolved", AB_CONF_T_BOOL, false, ab_conf_h_bool, ROFF(send_resolved), 0, 0, 0 },
	{ "throttle", AB_CONF_T_DURATION, false, ab_conf_h_duration, ROFF(throttle_ms), 0,
	  1000, 30 * MS_DAY },
	{ "throttle_key", AB_CONF_T_STRINGS, false, h_field_names, ROFF(throttle_key),
	  ROFF(n_throttle_key), 0, 0 },
	{ "group_by", AB_CONF_T_STRINGS, false, h_field_names, ROFF(group_by), ROFF(n_group_by),
	  0, 0 },
	{ "group_wait", AB_CONF_T_DURATION, false, ab_conf_h_duration, ROFF(group_wait_ms), 0,
	  0, MS_DAY },
	{ "group_interval", AB_CONF_T_DURATION, false, ab_conf_h_duration, ROFF(group_interval_ms),
	  0, 0, 7 * MS_DAY },
	{ "max_group_size", AB_CONF_T_INT, false, ab_conf_h_int, ROFF(max_group_size), 0, 1, 100 },
	{ "digest", AB_CONF_T_GROUP, false, h_digest, 0, 0, 0, 0 },
	{ "remind", AB_CONF_T_STRINGS, false, h_remind, 0, 0, 0, 0 },
	{ "recipients", AB_CONF_T_GROUP, false, ab_conf_recipients, ROFF(recipients), 0, 0, 0 },
};

static void free_rule(struct ab_rule_conf *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->key);
	free(r->file);
	ab_conf_strv_free(r->events, r->n_events);
	ab_conf_strv_free(r->sources, r->n_sources);
	ab_conf_strv_free(r->channels, r->n_channels);
	free(r->chan_refs);
	ab_conf_strv_free(r->tools, r->n_tools);
	ab_conf_strv_free(r->assets, r->n_assets);
	ab_conf_strv_free(r->teams, r->n_teams);
	ab_conf_strv_free(r->statuses, r->n_statuses);
	ab_conf_strv_free(r->throttle_key, r->n_throttle_key);
	ab_conf_strv_free(r->group_by, r->n_group_by);
	for (size_t i = 0; i < r->n_fields; i++) {
		free(r->fields[i].name);
		free(r->fields[i].pattern);
		ab_regex_free(r->fields[i].re);
	}
	free(r->fields);
	if (r->not) {
		free_rule(r->not);
		free(r->not);
	}
	free(r->active);
	free(r->mute);
	free(r->digest);
	free(r->remind_ms);
	ab_conf_recipients_free(r->recipients);
	memset(r, 0, sizeof *r);
}

static void h_not(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_rule_conf *r = dst, *n;

	(void)f;
	if (not_depth >= MAX_NOT_DEPTH) {
		ab_conf_err(c, s, "%s'not' nested more than %d deep", c->prefix, MAX_NOT_DEPTH);
		return;
	}
	n = ab_conf_calloc(c, 1, sizeof *n);
	if (!n)
		return;
	n->min_severity = -1;
	n->is_not = true;
	not_depth++;
	ab_conf_check_group(c, s, matcher_fields, sizeof matcher_fields / sizeof matcher_fields[0],
		"not { ... } (matchers only)", n, NULL);
	not_depth--;
	r->not = n;
}

/* Contradictions a rule carries in itself. */
static void rule_checks(struct ab_conf_ctx *c, const config_setting_t *g, struct ab_rule_conf *r)
{
	if (r->n_channels > AB_RULE_MAX_CHANNELS)
		ab_conf_err(c, g, "%s%zu channels (at most %d)", c->prefix, r->n_channels,
			AB_RULE_MAX_CHANNELS);
	if (r->min_severity >= 0 && r->severities) {
		unsigned ok = 0;

		for (int sv = r->min_severity; sv < AB_SEV_COUNT; sv++)
			ok |= r->severities & (1u << sv);
		if (!ok)
			ab_conf_err(c, g, "%simpossible severity range: no severity in 'severities' "
				"is at least min_severity %s; the rule can never match", c->prefix,
				ab_severity_name((enum ab_severity)r->min_severity));
	}
	if (!r->n_group_by && (config_setting_get_member(g, "group_wait") ||
	    config_setting_get_member(g, "group_interval") ||
	    config_setting_get_member(g, "max_group_size")))
		ab_conf_err(c, g, "%sgroup_wait, group_interval and max_group_size need group_by",
			c->prefix);
	if (r->n_group_by && r->digest)
		ab_conf_err(c, g, "%sa rule either groups (group_by) or collects a digest, not "
			"both", c->prefix);
	if (r->throttle_ms && (r->n_group_by || r->digest))
		ab_conf_err(c, g, "%sthrottle cannot be combined with group_by or digest (they "
			"already send one message for many events)", c->prefix);
	if (r->recipients && (r->n_group_by || r->digest))
		ab_conf_err(c, g, "%srecipients cannot be combined with group_by or digest yet "
			"(people get each event; send groups and digests to channels)", c->prefix);
	if (r->n_throttle_key && !r->throttle_ms)
		ab_conf_err(c, g, "%sthrottle_key needs throttle", c->prefix);
}

struct rlist {
	struct ab_rule_conf *rules;
	size_t *n_rules;
	const config_setting_t **defs;    /* where each rule is defined */
	bool *named;                      /* the rule has a name of its own */
	const struct ab_team_conf *team;  /* NULL: the global rules */
};

static void do_rule(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
	const char *label, void *arg)
{
	struct rlist *rl = arg;
	struct ab_rule_conf *rules = rl->rules, *r = &rules[*rl->n_rules];
	size_t *n_rules = rl->n_rules;
	const config_setting_t **defs = rl->defs;
	bool *named = rl->named;
	const struct ab_team_conf *team = rl->team;
	const config_setting_t *ns = config_setting_get_member(g, "name");
	const config_setting_t *chs = config_setting_get_member(g, "channels");
	const char *nm = NULL;
	char buf[AB_CONF_RULE_NAME_MAX + 16], what[AB_CONF_RULE_NAME_MAX + 96], file[PATH_MAX];
	char key[AB_CONF_RULE_NAME_MAX * 2 + 16];

	(void)label;
	if (ns && config_setting_type(ns) == CONFIG_TYPE_STRING &&
	    ab_conf_text_ok(config_setting_get_string(ns), AB_CONF_RULE_NAME_MAX))
		nm = config_setting_get_string(ns);
	if (!nm)
		snprintf(buf, sizeof buf, "rule %d", idx + 1);
	r->name = ab_conf_strdup(c, nm ? nm : buf);
	snprintf(key, sizeof key, "%s%s%s", team ? team->name : "", team ? "/" : "",
		nm ? nm : buf);
	r->key = ab_conf_strdup(c, key);
	ab_conf_src_file(c, config_setting_source_file(g), file, sizeof file);
	r->file = ab_conf_strdup(c, file);
	r->line = config_setting_source_line(g);
	r->min_severity = -1;
	r->send_resolved = true;
	r->max_group_size = 10;
	r->digest_max_items = 20;
	r->team = team;
	if (!r->name || !r->file || !r->key) {
		free_rule(r);
		return;
	}
	if (team)
		snprintf(what, sizeof what, "team '%s': rule '%s'", team->name, r->name);
	else
		snprintf(what, sizeof what, "rule '%s'", r->name);
	snprintf(c->prefix, sizeof c->prefix, "%.*s: ", (int)sizeof c->prefix - 3, what);
	ab_conf_check_group(c, g, rule_fields, sizeof rule_fields / sizeof rule_fields[0], what,
		r, NULL);
	if ((!chs || (config_setting_is_aggregate(chs) && config_setting_length(chs) == 0)) &&
	    !config_setting_get_member(g, "recipients"))
		ab_conf_err(c, g, "%sno channels and no recipients (add channels = [\"inbox\"] "
			"or another channel, or recipients = { ... })", c->prefix);
	rule_checks(c, g, r);
	c->prefix[0] = '\0';
	if (nm) {
		for (size_t i = 0; i < *n_rules; i++) {
			if (named[i] && !strcmp(rules[i].name, r->name)) {
				char first[PATH_MAX + 16], sh[SHOW];

				ab_conf_place(c, defs[i], first, sizeof first);
				ab_conf_err(c, g, "duplicate rule name '%s' (first defined at %s)",
					ab_conf_show(r->name, sh, sizeof sh), first);
				break;
			}
		}
	}
	defs[*n_rules] = g;
	named[*n_rules] = nm != NULL;
	(*n_rules)++;
}

static void parse_rules(struct ab_conf_ctx *c, const config_setting_t *s,
	struct ab_rule_conf **rules, size_t *n_rules, const struct ab_team_conf *team)
{
	static const struct ab_conf_list list = {
		"rules", "{ name = \"...\"; channels = [...]; }", NULL, NULL,
	};
	struct rlist rl = { NULL, n_rules, NULL, NULL, team };
	int n = config_setting_length(s);

	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		ab_conf_err(c, s, "%ssetting 'rules' must be a list ( { ... }, ... )", c->prefix);
		return;
	}
	if (n > MAX_RULES) {
		ab_conf_err(c, s, "setting 'rules' has %d rules (at most %d)", n, MAX_RULES);
		return;
	}
	*rules = ab_conf_calloc(c, (size_t)n, sizeof **rules);
	rl.defs = ab_conf_calloc(c, (size_t)n, sizeof *rl.defs);
	rl.named = ab_conf_calloc(c, (size_t)n, sizeof *rl.named);
	rl.rules = *rules;
	if (*rules && rl.defs && rl.named)
		ab_conf_each_group(c, s, &list, do_rule, &rl);
	free(rl.defs);
	free(rl.named);
}

void ab_conf_rules(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	parse_rules(c, s, AT(dst, f->off, struct ab_rule_conf *), AT(dst, f->off_n, size_t),
		NULL);
}

/* ------------------------------------------------------------------ teams */

struct tparse {
	struct ab_team_conf *t;
	const config_setting_t *rules;
};

static void h_team_name(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)c;
	(void)s;
	(void)f;
	(void)dst;  /* taken in do_team() */
}

static void h_team_chans(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct tparse *tp = dst;

	ab_conf_h_chanrefs(c, s, f, tp->t);
	if (!strcmp(f->name, "default"))
		tp->t->has_default = true;
}

static void h_team_rules(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)c;
	(void)f;
	((struct tparse *)dst)->rules = s;  /* parsed after the team's own settings */
}

#define TOFF(m) offsetof(struct ab_team_conf, m)
static const struct ab_conf_field team_fields[] = {
	{ "name", AB_CONF_T_STRING, true, h_team_name, 0, 0, 0, 0 },
	{ "channels", AB_CONF_T_STRINGS, true, h_team_chans, TOFF(channels), TOFF(n_channels),
	  0, 0 },
	{ "default", AB_CONF_T_STRINGS, false, h_team_chans, TOFF(default_channels),
	  TOFF(n_default), 0, 0 },
	{ "rules", AB_CONF_T_LIST, false, h_team_rules, 0, 0, 0, 0 },
};

static bool owns(const struct ab_team_conf *t, const char *ch)
{
	for (size_t i = 0; i < t->n_channels; i++)
		if (!strcmp(t->channels[i], ch))
			return true;
	return false;
}

/* A channel list of team t (rules or default) naming a channel of another team. */
static void check_foreign(struct ab_conf_ctx *c, const config_setting_t *g,
	const struct ab_team_conf *teams, size_t n_teams, const struct ab_team_conf *t,
	char *const *chans, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n_teams; k++)
			if (&teams[k] != t && owns(&teams[k], chans[i]))
				ab_conf_err(c, g, "team '%s': %s sends to channel '%s', which belongs "
					"to team '%s' and only ever gets that team's events", t->name,
					what, chans[i], teams[k].name);
}

struct tlist {
	struct ab_team_conf *teams;
	size_t *n;
	const config_setting_t **defs;    /* where each team is defined */
	const config_setting_t **rules;   /* its rules, parsed once every team is known */
};

static void do_team(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
	const char *label, void *arg)
{
	struct tlist *tl = arg;
	struct ab_team_conf *t = &tl->teams[*tl->n];
	struct tparse tp = { .t = t };
	const char *nm = NULL;
	char file[PATH_MAX], what[96], sh[SHOW];

	(void)label;
	if (!config_setting_lookup_string(g, "name", &nm) || !ab_conf_text_ok(nm, 64) ||
	    strchr(nm, '/')) {
		ab_conf_err(c, g, "teams: entry %d needs name = \"...\" (1 to 64 characters, "
			"no '/')", idx + 1);
		return;
	}
	for (size_t k = 0; k < *tl->n; k++) {
		if (!strcmp(tl->teams[k].name, nm)) {
			char first[PATH_MAX + 16];

			ab_conf_place(c, tl->defs[k], first, sizeof first);
			ab_conf_err(c, g, "duplicate team name '%s' (first defined at %s)",
				ab_conf_show(nm, sh, sizeof sh), first);
			return;
		}
	}
	t->name = ab_conf_strdup(c, nm);
	ab_conf_src_file(c, config_setting_source_file(g), file, sizeof file);
	t->file = ab_conf_strdup(c, file);
	t->line = config_setting_source_line(g);
	snprintf(what, sizeof what, "team '%s'", nm);
	snprintf(c->prefix, sizeof c->prefix, "%s: ", what);
	ab_conf_check_group(c, g, team_fields, sizeof team_fields / sizeof team_fields[0], what,
		&tp, NULL);
	c->prefix[0] = '\0';
	tl->defs[*tl->n] = g;
	tl->rules[*tl->n] = tp.rules;
	(*tl->n)++;
}

void ab_conf_teams(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	static const struct ab_conf_list list = {
		"teams", "{ name = \"...\"; channels = [...]; rules = ( ... ); }", NULL, NULL,
	};
	struct ab_team_conf **teams = AT(dst, f->off, struct ab_team_conf *);
	size_t *n_teams = AT(dst, f->off_n, size_t);
	struct tlist tl = { NULL, n_teams, NULL, NULL };
	int n = config_setting_length(s);

	if (n > MAX_TEAMS) {
		ab_conf_err(c, s, "setting 'teams' has %d teams (at most %d)", n, MAX_TEAMS);
		return;
	}
	*teams = ab_conf_calloc(c, (size_t)n, sizeof **teams);
	tl.defs = ab_conf_calloc(c, (size_t)n, sizeof *tl.defs);
	tl.rules = ab_conf_calloc(c, (size_t)n, sizeof *tl.rules);
	if (!*teams || !tl.defs || !tl.rules)
		goto out;
	tl.teams = *teams;
	ab_conf_each_group(c, s, &list, do_team, &tl);
	/* Rules after every team is known (their rule->team pointers are stable now). */
	for (size_t k = 0; k < *n_teams; k++) {
		struct ab_team_conf *t = &tl.teams[k];

		if (tl.rules[k])
			parse_rules(c, tl.rules[k], &t->rules, &t->n_rules, t);
		for (size_t j = 0; j < t->n_channels; j++)
			for (size_t o = 0; o < k; o++)
				if (owns(&tl.teams[o], t->channels[j]))
					ab_conf_err(c, tl.defs[k], "team '%s': channel '%s' "
						"already belongs to team '%s' (a channel has at "
						"most one team)", t->name, t->channels[j],
						tl.teams[o].name);
	}
	for (size_t k = 0; k < *n_teams; k++) {
		struct ab_team_conf *t = &tl.teams[k];

		check_foreign(c, tl.defs[k], tl.teams, *n_teams, t, t->default_channels,
			t->n_default, "default");
		for (size_t j = 0; j < t->n_rules; j++) {
			char w[AB_CONF_RULE_NAME_MAX + 16];

			snprintf(w, sizeof w, "rule '%s'", t->rules[j].name);
			check_foreign(c, tl.defs[k], tl.teams, *n_teams, t, t->rules[j].channels,
				t->rules[j].n_channels, w);
		}
	}
out:
	free(tl.defs);
	free(tl.rules);
}

void ab_conf_rules_free(struct ab_rule_conf *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_rule(&rules[i]);
	free(rules);
}

void ab_conf_teams_free(struct ab_team_conf *teams, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct ab_team_conf *t = &teams[k];

		ab_conf_rules_free(t->rules, t->n_rules);
		free(t->name);
		free(t->file);
		ab_conf_strv_free(t->channels, t->n_channels);
		ab_conf_strv_free(t->default_channels, t->n_default);
		free(t->default_refs);
	}
	free(teams);
}
