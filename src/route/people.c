/*
 * people.c - alerts to people: for an event and the rules that deliver it,
 * which users get it by which kind and why (rule recipients, preferences,
 * system_override, access), and the jobs that carry it to them.  The
 * semantics are in people.h.
 *
 * Public: ab_person_delivers, ab_person_why_text, ab_people_pref,
 * ab_people_reaches, ab_people_decide, ab_people_ingest.
 * Diagnostics: ab_people_ingest's err ("people: ..."); explain lines.
 *
 * Cost: nothing at all without a users section and a people section; else
 * one read of the preferences' change counter per event, and a walk over
 * the users only when a delivering rule has recipients or someone
 * subscribed to something.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "route/people.h"

bool ab_person_delivers(enum ab_person_why why)
{
	return why == AB_PW_RULE || why == AB_PW_OVERRIDE || why == AB_PW_SUBSCRIBED;
}

const char *ab_person_why_text(enum ab_person_why why)
{
	switch (why) {
	case AB_PW_RULE: return "rule";
	case AB_PW_OVERRIDE: return "system override";
	case AB_PW_SUBSCRIBED: return "subscribed";
	case AB_PW_OFF: return "off by preference";
	case AB_PW_NO_ACCESS: return "no access";
	case AB_PW_NO_ADDRESS: return "no e-mail address";
	}
	return "?";
}

static bool has_wildcard(const char *p)
{
	return strpbrk(p, "*?[") != NULL;
}

/* Higher is more specific (people.h); ties: off first. */
static long pref_score(const struct ab_pref *p)
{
	return (has_wildcard(p->pattern) ? 0 : 1000000L) + (long)strlen(p->pattern) * 4 +
		(strcmp(p->kind, "*") ? 2 : 0) + (p->on ? 0 : 1);
}

const struct ab_pref *ab_people_pref(const struct ab_prefs *prefs, const char *user,
	const char *type, enum ab_via via)
{
	const struct ab_pref *best = NULL;
	const char *kind = ab_via_name(via);
	size_t lo = 0, hi;
	long bs = -1;

	if (!prefs || !prefs->n)
		return NULL;
	hi = prefs->n;
	while (lo < hi) {          /* the user's first row: rows are sorted by user */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(prefs->rows[mid].user, user) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < prefs->n && !strcmp(prefs->rows[i].user, user); i++) {
		const struct ab_pref *p = &prefs->rows[i];
		long sc;

		if ((strcmp(p->kind, "*") && strcmp(p->kind, kind)) ||
		    !ab_glob_match(p->pattern, type ? type : ""))
			continue;
		sc = pref_score(p);
		if (sc > bs) {
			bs = sc;
			best = p;
		}
	}
	return best;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* The user's role that rc takes, or NULL. */
static const char *role_of(const struct ab_recipients_conf *rc, const struct ab_user_conf *u)
{
	for (size_t i = 0; i < rc->n_roles; i++)
		if (strcasecmp(rc->roles[i], "all") && ab_user_has_role(u, rc->roles[i]))
			return rc->roles[i];
	return NULL;
}

/* The team through which rc reaches u for ev, or NULL. */
static const char *team_of(const struct ab_recipients_conf *rc, const struct ab_user_conf *u,
	const struct ab_event *ev)
{
	if (!rc->n_teams)
		return ev->team && *ev->team && ab_user_in_team(u, ev->team) ? ev->team : NULL;
	for (size_t i = 0; i < rc->n_teams; i++)
		if (ab_user_in_team(u, rc->teams[i]))
			return rc->teams[i];
	return NULL;
}

bool ab_people_reaches(const struct ab_recipients_conf *rc, const struct ab_user_conf *u,
	const struct ab_event *ev, char *by, size_t bysz)
{
	const char *team, *role = NULL;

	if (in_list(rc->users, rc->n_users, u->name)) {
		if (by)
			snprintf(by, bysz, "named");
		return true;
	}
	if (!rc->n_teams && !rc->n_roles && rc->n_users)
		return false;   /* named users only */
	if (!(team = team_of(rc, u, ev)))
		return false;
	if (!rc->all_roles && !(role = role_of(rc, u)))
		return false;
	if (by)
		snprintf(by, bysz, "%s%s%s on team '%s'", role ? "role '" : "every member",
			role ? role : "", role ? "'" : "", team);
	return true;
}

static bool overridden(const struct ab_people_conf *pc, const char *type)
{
	for (size_t i = 0; i < pc->n_override; i++)
		if (ab_glob_match(pc->system_override[i], type ? type : ""))
			return true;
	return false;
}

/* explain: the roles of a rule that reach nobody (on the teams it asks). */
static void explain_empty_roles(const struct ab_config *cfg, const struct ab_rule_conf *r,
	const struct ab_event *ev, struct ab_buf *ex)
{
	const struct ab_recipients_conf *rc = r->recipients;

	if (!rc->n_teams && !(ev->team && *ev->team)) {
		if (!rc->n_users || !rc->all_roles)
			ab_buf_printf(ex, "  rule '%s': the event has no team, so its recipients' "
				"teams and roles reach nobody (name teams or users in "
				"recipients)\n", r->key);
		return;
	}
	for (size_t k = 0; k < rc->n_roles; k++) {
		bool any = false;

		if (!strcasecmp(rc->roles[k], "all"))
			continue;
		for (size_t i = 0; !any && i < cfg->n_users; i++)
			any = team_of(rc, &cfg->users[i], ev) &&
				ab_user_has_role(&cfg->users[i], rc->roles[k]);
		if (!any)
			ab_buf_printf(ex, "  rule '%s': role '%s' has no member on team '%s': "
				"nobody gets it by that role\n", r->key, rc->roles[k],
				rc->n_teams ? rc->teams[0] : ev->team);
	}
}

size_t ab_people_decide(const struct ab_config *cfg, const struct ab_event *ev,
	const struct ab_rule_conf *const *rules, size_t n, const struct ab_prefs *prefs,
	ab_person_fn fn, void *arg, struct ab_buf *explain)
{
	const struct ab_people_conf *pc = cfg->people;
	bool any_rule = false, any_on = false;
	size_t delivered = 0;

	if (!cfg->n_users || !pc)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (rules[i]->recipients) {
			any_rule = true;
			if (explain)
				explain_empty_roles(cfg, rules[i], ev, explain);
		}
	for (size_t i = 0; prefs && !any_on && i < prefs->n; i++)
		any_on = prefs->rows[i].on;
	if (!any_rule && !any_on)
		return 0;
	for (size_t ui = 0; ui < cfg->n_users; ui++) {
		const struct ab_user_conf *u = &cfg->users[ui];

		for (int k = 0; k < AB_VIA_COUNT; k++) {
			struct ab_person_decision d = { u, (enum ab_via)k, AB_PW_RULE, NULL, NULL };

			if (!pc->channel[k])
				continue;
			for (size_t i = 0; !d.rule && i < n; i++) {
				const struct ab_recipients_conf *rc = rules[i]->recipients;

				if (rc && (rc->via & (1u << k)) && ab_people_reaches(rc, u, ev, NULL, 0))
					d.rule = rules[i];
			}
			d.pref = ab_people_pref(prefs, u->name, ev->type, (enum ab_via)k);
			if (!d.rule && !(d.pref && d.pref->on))
				continue;
			if (!ab_user_sees(u, ev->team))
				d.why = AB_PW_NO_ACCESS;
			else if (d.rule && d.pref && !d.pref->on)
				d.why = overridden(pc, ev->type) ? AB_PW_OVERRIDE : AB_PW_OFF;
			else if (!d.rule)
				d.why = AB_PW_SUBSCRIBED;
			if (ab_person_delivers(d.why) && k == AB_VIA_EMAIL && !u->email)
				d.why = AB_PW_NO_ADDRESS;
			if (ab_person_delivers(d.why))
				delivered++;
			fn(&d, arg);
		}
	}
	return delivered;
}

/* ------------------------------------------------------------------ ingest */

struct collect {
	struct ab_person_decision *v;
	size_t n, cap;
	bool oom;
};

static void collect(const struct ab_person_decision *d, void *arg)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct ab_person_decision *nv = realloc(c->v, nc * sizeof *nv);

		if (!nv) {
			c->oom = true;
			return;
		}
		c->v = nv;
		c->cap = nc;
	}
	c->v[c->n++] = *d;
}

/* One recipient for the payload: who, and why they get it ("rule": the
 * rule's key, or absent for a subscription; "reason": how, in words). */
static json_t *person_json(const struct ab_person_decision *d, const struct ab_event *ev)
{
	const struct ab_user_conf *u = d->user;
	char why[256], by[160] = "";

	if (d->rule) {
		ab_people_reaches(d->rule->recipients, u, ev, by, sizeof by);
		snprintf(why, sizeof why, "rule '%s': %s%s", d->rule->key, by,
			d->why == AB_PW_OVERRIDE ? " (kept on by the system override)" : "");
	} else if (d->pref) {
		snprintf(why, sizeof why, "your preference: %s by %s on", d->pref->pattern,
			d->pref->kind);
	} else {
		why[0] = '\0';
	}
	return json_pack("{s:s, s:s?, s:s, s:s?, s:s?}", "name", u->name, "email", u->email,
		"display_name", u->display_name ? u->display_name : u->name, "rule",
		d->rule ? d->rule->key : NULL, "reason", why[0] ? why : NULL);
}

/* One job of channel to the people in list (recipient: the key). */
static int enqueue(struct ab_store *st, const struct ab_event *ev, const char *channel,
	const char *recipient, json_t *list, int64_t now, int *added, char *err, size_t errsz)
{
	char *js = json_dumps(list, JSON_COMPACT);
	int a = 0, rc;

	if (!js) {
		snprintf(err, errsz, "people: out of memory");
		return -1;
	}
	rc = ab_store_enqueue_people(st, ev->id, channel, recipient, js, now, &a);
	free(js);
	if (rc < 0) {
		snprintf(err, errsz, "%s", ab_store_errmsg(st));
		return -1;
	}
	*added += a;
	return 0;
}

static void explain_one(struct ab_buf *ex, const struct ab_config *cfg,
	const struct ab_person_decision *d, const struct ab_event *ev)
{
	char by[160] = "";

	ab_buf_printf(ex, "  %s: %s", d->user->name, ab_via_name(d->via));
	if (ab_person_delivers(d->why))
		ab_buf_printf(ex, " -> %s", cfg->people->channel[d->via]);
	else
		ab_buf_printf(ex, " not sent: %s", ab_person_why_text(d->why));
	if (d->rule) {
		ab_people_reaches(d->rule->recipients, d->user, ev, by, sizeof by);
		ab_buf_printf(ex, " (rule '%s': %s)", d->rule->key, by);
	}
	if (d->pref)
		ab_buf_printf(ex, " (preference '%s' %s %s%s)", d->pref->pattern, d->pref->kind,
			d->pref->on ? "on" : "off", d->why == AB_PW_OVERRIDE ?
			", kept on by people.system_override" : "");
	if (d->why == AB_PW_NO_ACCESS)
		ab_buf_printf(ex, " (the event's team '%s' is not theirs)",
			ev->team ? ev->team : "");
	if (d->why == AB_PW_NO_ADDRESS)
		ab_buf_puts(ex, " (set email in the users section)");
	ab_buf_puts(ex, "\n");
}

int ab_people_ingest(struct ab_store *st, const struct ab_config *cfg,
	const struct ab_event *ev, const struct ab_rule_conf *const *rules, size_t n,
	int64_t now, int *added, struct ab_buf *explain, char *err, size_t errsz)
{
	const struct ab_prefs *prefs;
	struct collect c = { NULL, 0, 0, false };
	json_t *together = NULL;
	int rc = 0;

	*added = 0;
	if (!cfg->n_users || !cfg->people)
		return 0;
	if (!(prefs = ab_prefs_current(st))) {
		snprintf(err, errsz, "%s", ab_store_errmsg(st));
		return -1;
	}
	ab_people_decide(cfg, ev, rules, n, prefs, collect, &c, explain);
	if (c.oom) {
		free(c.v);
		snprintf(err, errsz, "people: out of memory");
		return -1;
	}
	if (explain && c.n)
		ab_buf_puts(explain, "people:\n");
	for (size_t i = 0; rc == 0 && i < c.n; i++) {
		const struct ab_person_decision *d = &c.v[i];
		json_t *list;

		if (explain)
			explain_one(explain, cfg, d, ev);
		if (!ab_person_delivers(d->why))
			continue;
		if (d->via == AB_VIA_EMAIL && cfg->people->together) {
			if (!together)
				together = json_array();
			if (!together || json_array_append_new(together, person_json(d, ev)) < 0)
				rc = -1;
			continue;
		}
		list = json_array();
		if (!list || json_array_append_new(list, person_json(d, ev)) < 0) {
			json_decref(list);
			rc = -1;
			break;
		}
		rc = enqueue(st, ev, cfg->people->channel[d->via], d->user->name, list, now, added,
			err, errsz);
		json_decref(list);
		if (rc < 0)
			goto done;
	}
	if (rc == 0 && together)
		rc = enqueue(st, ev, cfg->people->channel[AB_VIA_EMAIL], "@all", together, now,
			added, err, errsz);
	else if (rc < 0)
		snprintf(err, errsz, "people: out of memory");
done:
	json_decref(together);
	free(c.v);
	return rc;
}
