/*
 * noise.c - throttle, grouping, digests and expiry reminders, with their
 * state in the store (tables of schema version 2, read and written
 * through store/noisedb.h; this file has no SQL).
 *
 * Public: ab_noise_ingest, ab_noise_flush, ab_noise_next_due.
 *
 * Throttle: key = rule + the values of throttle_key (default type and
 * fingerprint).  The first event of a key goes out and opens a window of
 * `throttle`; events inside it are counted, not sent; the first one after
 * the window goes out with fields.throttle_suppressed = count.  Windows
 * are absolute times, so day boundaries and restarts do not matter.
 * Grouping: key = rule + values of group_by.  The first event opens a
 * group due after group_wait; events join it until it is flushed; after a
 * flush the next batch of the same key waits at least group_interval
 * after the previous flush.  A group message lists the max_group_size most
 * severe events (only those are kept) with counts per severity and type.
 * Digests: events are collected per rule and sent at each schedule time;
 * an empty digest only with send_empty.  Reminders: an event with
 * fields.expires_at (RFC 3339 or epoch seconds) matched by a rule with
 * remind = ["7d", "0d"] schedules risk_acceptance.expiring events at
 * those offsets before expiry (offsets already past are skipped).
 *
 * Diagnostics: store errors as "noise: WHAT: MESSAGE" in err (the store's
 * message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/noise.h"
#include "route/people.h"
#include "lib/timewin.h"
#include "lib/util.h"
#include "store/noisedb.h"

#define MAX_LIST_ITEMS 100
#define FLUSH_BATCH 100
#define SCOPE_MAX 300            /* "d:" + team/rule key */

/* The store and where its errors go. */
struct nz {
	struct ab_store *st;
	char *err;
	size_t errsz;
};

/* A store call failed: its message into err; -1. */
static int fail(struct nz *z)
{
	snprintf(z->err, z->errsz, "%s", ab_store_errmsg(z->st));
	return -1;
}

/* A store call's result: 0 for ok, -1 (err set) for a failure. */
static int chk(struct nz *z, int rc)
{
	return rc < 0 ? fail(z) : 0;
}

static void fmt_time(int64_t ms, char *out, size_t outsz)
{
	ab_time_format_rfc3339(ms, out, outsz);
}

static void fmt_offset(int64_t ms, char *out, size_t outsz)
{
	if (ms % (24LL * 3600000) == 0)
		snprintf(out, outsz, "%lldd", (long long)(ms / (24LL * 3600000)));
	else if (ms % 3600000 == 0)
		snprintf(out, outsz, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(out, outsz, "%lldm", (long long)(ms / 60000));
	else
		snprintf(out, outsz, "%llds", (long long)(ms / 1000));
}

static uint64_t fnv64(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* A key as a JSON array of the values of names (unset -> null); the
 * object form goes to *obj when obj is not NULL.  Caller frees. */
static char *key_of(const struct ab_event *ev, char *const *names, size_t n, json_t **obj)
{
	json_t *arr = json_array();
	char buf[64], *s;

	if (obj)
		*obj = json_object();
	if (!arr || (obj && !*obj)) {
		json_decref(arr);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *v = ab_event_member(ev, names[i], buf, sizeof buf);

		json_array_append_new(arr, v ? json_string(v) : json_null());
		if (obj)
			json_object_set_new(*obj, names[i], v ? json_string(v) : json_null());
	}
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/* Channels of a rule that may get events of the rule's scope (a channel
 * of another team never does). */
static size_t allowed_channels(const struct ab_config *cfg, const struct ab_rule_conf *r,
	const struct ab_team_conf *team, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_channels && n < max; i++) {
		const struct ab_team_conf *o = ab_route_channel_team(cfg, r->channels[i]);

		if (!o || o == team)
			out[n++] = r->channels[i];
	}
	return n;
}

static char *chan_json(const char *const *ch, size_t n)
{
	json_t *a = json_array();
	char *s;

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(ch[i]));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* ------------------------------------------------------------------ shared items/counts */

static int count_inc(struct nz *z, const char *scope, const char *dim, const char *name)
{
	return chk(z, ab_noisedb_count_inc(z->st, scope, dim, name));
}

/* Keep at most cap items per scope: the most severe, earliest first. */
static int item_add(struct nz *z, const char *scope, const struct ab_event *ev, int64_t now,
	int cap)
{
	char *json = ab_event_dumps(ev);
	int rc;

	if (!json) {
		snprintf(z->err, z->errsz, "noise: out of memory");
		return -1;
	}
	rc = ab_noisedb_item_add(z->st, scope, (int)ev->severity, now, json, cap);
	free(json);
	return chk(z, rc);
}

struct counts_acc {
	json_t *counts, *by_type;
	int64_t total;
};

static int count_row(const char *dim, const char *name, int64_t n, void *arg)
{
	struct counts_acc *a = arg;

	if (!strcmp(dim, "severity")) {
		json_object_set_new(a->counts, name, json_integer(n));
		a->total += n;
	} else {
		json_object_set_new(a->by_type, name, json_integer(n));
	}
	return 0;
}

/* counts and by_type objects and the total for a scope. */
static int scope_counts(struct nz *z, const char *scope, json_t *counts, json_t *by_type,
	int64_t *total)
{
	struct counts_acc a = { counts, by_type, 0 };

	*total = 0;
	for (int s = AB_SEV_CRITICAL; s >= AB_SEV_INFO; s--)
		json_object_set_new(counts, ab_severity_name((enum ab_severity)s), json_integer(0));
	if (ab_noisedb_scope_counts(z->st, scope, count_row, &a) < 0)
		return fail(z);
	*total = a.total;
	return 0;
}

static int item_row(const char *json, void *arg)
{
	json_t *j = json_loads(json, 0, NULL);

	if (j)
		json_array_append_new(arg, j);
	return 0;
}

static json_t *scope_items(struct nz *z, const char *scope, int limit)
{
	json_t *arr = json_array();

	if (!arr) {
		snprintf(z->err, z->errsz, "noise: out of memory");
		return NULL;
	}
	if (ab_noisedb_scope_items(z->st, scope, limit, item_row, arr) < 0) {
		json_decref(arr);
		fail(z);
		return NULL;
	}
	return arr;
}

static int scope_clear(struct nz *z, const char *scope)
{
	return chk(z, ab_noisedb_scope_clear(z->st, scope));
}

/* ------------------------------------------------------------------ ingest side */

static int throttle(struct nz *z, const struct ab_rule_conf *r, const struct ab_event *ev,
	int64_t now, int64_t *suppressed_before, struct ab_buf *ex)
{
	static char *const defkey[] = { "type", "fingerprint" };
	char *key = key_of(ev, r->n_throttle_key ? r->throttle_key : defkey,
		r->n_throttle_key ? r->n_throttle_key : 2, NULL);
	int64_t wend = -1, sup = 0;
	char t[40];
	int rc = -1;

	if (!key) {
		snprintf(z->err, z->errsz, "noise: out of memory");
		return -1;
	}
	if (ab_noisedb_throttle_get(z->st, r->key, key, &wend, &sup) < 0) {
		fail(z);
		goto out;
	}
	if (wend >= 0 && now < wend) {
		fmt_time(wend, t, sizeof t);
		if (ex)
			ab_buf_printf(ex, "throttle %s: suppressed (window until %s; %lld suppressed "
				"before this one)", key, t, (long long)sup);
		rc = chk(z, ab_noisedb_throttle_suppress(z->st, r->key, key));
		goto out;
	}
	fmt_time(now + r->throttle_ms, t, sizeof t);
	if (ex)
		ab_buf_printf(ex, "throttle %s: sent%s, new window until %s", key,
			wend < 0 ? " (first of its key)" : sup ? " with the suppressed count" :
			" (window over)", t);
	*suppressed_before = sup;
	if (chk(z, ab_noisedb_throttle_open(z->st, r->key, key, now + r->throttle_ms)) < 0)
		goto out;
	rc = 1;
out:
	free(key);
	return rc;
}

static int group_add(struct nz *z, const struct ab_rule_conf *r, const struct ab_event *ev,
	const char *chans, int64_t now, struct ab_buf *ex)
{
	json_t *gb = NULL;
	char *key = key_of(ev, r->group_by, r->n_group_by, &gb), *gbs = NULL, scope[32], t[40];
	struct ab_noise_group g;
	int64_t id, due, count;
	bool have_due;
	int rc = -1;

	if (!key || !(gbs = json_dumps(gb, JSON_COMPACT | JSON_SORT_KEYS))) {
		snprintf(z->err, z->errsz, "noise: out of memory");
		goto out;
	}
	if (ab_noisedb_group_find(z->st, r->key, key, &g) < 0) {
		fail(z);
		goto out;
	}
	id = g.id;
	have_due = g.has_due;
	due = g.due_at;
	count = g.count;
	if (id < 0) {
		due = now + r->group_wait_ms;
		id = ab_noisedb_group_new(z->st, r->key, key, gbs, chans, now, due);
		if (id < 0) {
			fail(z);
			goto out;
		}
	} else if (!have_due) {
		due = now + r->group_wait_ms;
		if (g.last_flush + r->group_interval_ms > due)
			due = g.last_flush + r->group_interval_ms;
		if (chk(z, ab_noisedb_group_reopen(z->st, id, due, now)) < 0)
			goto out;
	}
	if (chk(z, ab_noisedb_group_join(z->st, id, now, chans)) < 0)
		goto out;
	snprintf(scope, sizeof scope, "g:%lld", (long long)id);
	if (item_add(z, scope, ev, now, r->max_group_size) < 0 ||
	    count_inc(z, scope, "severity", ab_severity_name(ev->severity)) < 0 ||
	    count_inc(z, scope, "type", ev->type) < 0)
		goto out;
	fmt_time(due, t, sizeof t);
	if (ex)
		ab_buf_printf(ex, "group %s: %s (%lld event(s) before this one), sent at %s", gbs,
			have_due || count ? "joins the open group" : "opens a new group",
			(long long)count, t);
	rc = 0;
out:
	json_decref(gb);
	free(gbs);
	free(key);
	return rc;
}

static int digest_add(struct nz *z, const struct ab_rule_conf *r, const struct ab_event *ev,
	int64_t now, struct ab_buf *ex)
{
	char scope[SCOPE_MAX], t[40];
	int64_t start, next = -1;
	int found = ab_noisedb_digest_get(z->st, r->key, &start, &next);

	if (found < 0)
		return fail(z);
	if (!found) {
		next = ab_schedule_next(r->digest, now);
		if (chk(z, ab_noisedb_digest_new(z->st, r->key, now, next)) < 0)
			return -1;
	}
	snprintf(scope, sizeof scope, "d:%s", r->key);
	if (item_add(z, scope, ev, now, r->digest_max_items) < 0 ||
	    count_inc(z, scope, "severity", ab_severity_name(ev->severity)) < 0 ||
	    count_inc(z, scope, "type", ev->type) < 0)
		return -1;
	fmt_time(next, t, sizeof t);
	if (ex)
		ab_buf_printf(ex, "digest '%s': collected, sent at %s", r->digest->text, t);
	return 0;
}

static int expires_at(const struct ab_event *ev, int64_t *ms)
{
	const json_t *v = json_object_get(ev->fields, "expires_at");

	if (json_is_string(v))
		return ab_time_parse_rfc3339(json_string_value(v), ms);
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		int64_t x = json_integer_value(v);

		*ms = x < 100000000000LL ? x * 1000 : x;   /* seconds or ms */
		return 0;
	}
	return -1;
}

static int remind_add(struct nz *z, const struct ab_config *cfg, const struct ab_rule_conf *r,
	const struct ab_event *ev, int64_t now, struct ab_buf *ex)
{
	const char *chans[AB_ROUTE_MAX_CHANNELS];
	size_t n = allowed_channels(cfg, r, r->team, chans, AB_ROUTE_MAX_CHANNELS);
	char *cj, *json, t[40], off[24];
	int64_t exp;
	int rc = 0;

	if (!strcmp(ev->type, AB_NOISE_REMIND_TYPE))
		return 0;  /* a reminder does not schedule reminders */
	if (expires_at(ev, &exp) < 0) {
		if (ex)
			ab_buf_printf(ex, "\n      remind: no usable fields.expires_at");
		return 0;
	}
	cj = chan_json(chans, n);
	json = ab_event_dumps(ev);
	if (!cj || !json) {
		snprintf(z->err, z->errsz, "noise: out of memory");
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < r->n_remind; i++) {
		int64_t at = exp - r->remind_ms[i];

		fmt_offset(r->remind_ms[i], off, sizeof off);
		fmt_time(at, t, sizeof t);
		if (at < now) {
			if (ex)
				ab_buf_printf(ex, "\n      remind %s before expiry: %s is past, skipped",
					off, t);
			continue;
		}
		if (ex)
			ab_buf_printf(ex, "\n      remind %s before expiry: %s at %s", off,
				AB_NOISE_REMIND_TYPE, t);
		rc = chk(z, ab_noisedb_reminder_add(z->st, ev->id, r->key, r->remind_ms[i], at,
			cj, json));
	}
	free(cj);
	free(json);
	return rc;
}

/* Whether any hit's rule keeps noise state (then a duplicate is handled
 * differently from a new event; plain deliveries are idempotent anyway). */
static bool dup_matters(const struct ab_route_result *rr)
{
	for (size_t h = 0; h < rr->n_hits; h++) {
		const struct ab_rule_conf *r = rr->hits[h].rule;

		if (r && (r->throttle_ms || r->n_group_by || r->digest || r->n_remind))
			return true;
	}
	return false;
}

/* The store's cached statement: this runs for every ingested event whose
 * rules keep noise state, or when explaining. */
static int is_dup(struct nz *z, const char *id)
{
	int rc = ab_store_event_exists(z->st, id);

	if (rc < 0)
		snprintf(z->err, z->errsz, "noise: %s", ab_store_errmsg(z->st));
	return rc;
}

static void list_print(struct ab_buf *ex, const char *what, const char *const *ch, size_t n)
{
	if (!n)
		return;
	ab_buf_printf(ex, " %s:", what);
	for (size_t i = 0; i < n; i++)
		ab_buf_printf(ex, " %s", ch[i]);
	ab_buf_puts(ex, ";");
}

/* What ingesting one event decided, channel by channel. */
struct plan {
	const char *direct[AB_ROUTE_MAX_CHANNELS];    /* a job now */
	const char *counted[AB_ROUTE_MAX_CHANNELS];   /* now, with throttle_suppressed */
	const char *grouped[AB_ROUTE_MAX_CHANNELS];   /* into a group message */
	const char *digested[AB_ROUTE_MAX_CHANNELS];  /* into a digest */
	const char *dropped[AB_ROUTE_MAX_CHANNELS];   /* suppressed by a throttle */
	size_t nd, nc, ng, ndg, ns;
	int64_t counted_n;                            /* the suppressed count to report */
	const struct ab_rule_conf *people[AB_ROUTE_MAX_HITS];  /* rules whose recipients get it */
	size_t np;
};

/* The channels a hit claims (a channel claimed by an earlier rule is not). */
static size_t hit_channels(const struct ab_route_hit *hit, const char **mine)
{
	size_t nm = 0;

	for (size_t c = 0; c < hit->n_chans && c < AB_ROUTE_MAX_CHANNELS; c++)
		if (hit->claim & (1ull << c))
			mine[nm++] = hit->chans[c];
	return nm;
}

/* Is ev a resolved status taken only to follow its finding up (route.c,
 * ab_route_follows_up) by this rule (one without statuses)? */
static bool follow_up(const struct ab_rule_conf *r, const struct ab_event *ev)
{
	return !(r && r->n_statuses) && ab_route_follows_up(ev);
}

/* One rule's (or the default's) channels: now, or through its throttle,
 * group or digest; then its reminders.  0 or -1 (err set). */
static int apply_hit(struct nz *z, const struct ab_config *cfg, const struct ab_route_hit *hit,
	const struct ab_event *ev, int dup, int64_t now, struct plan *pl, struct ab_buf *ex)
{
	const struct ab_rule_conf *r = hit->rule;
	const char *mine[AB_ROUTE_MAX_CHANNELS];
	size_t nm = hit_channels(hit, mine);
	bool noisy = r && (r->throttle_ms || r->n_group_by || r->digest);
	bool people = r && r->recipients && !hit->muted;   /* its recipients get it now */
	int64_t sup = 0;
	bool follow_only = false;
	char *cj;
	int rc = 0;

	if (ex) {
		ab_buf_printf(ex, "  %s%s%s:", r ? "rule '" : "default", r ? r->key : "",
			r ? "'" : "");
		if (hit->muted)
			ab_buf_puts(ex, " muted, nothing sent");
		for (size_t c = 0; c < nm; c++)
			ab_buf_printf(ex, " %s", mine[c]);
		if (!nm && !hit->muted)
			ab_buf_puts(ex, people ? " (people only)" : " (no channel left)");
	}
	if (!hit->muted && follow_up(r, ev)) {
		/* a resolution goes only where the finding went; not to people
		 * and no reminder when none of the rule's channels had it */
		size_t kept = 0;

		for (size_t c = 0; c < nm; c++) {
			int k = ab_store_knows(z->st, mine[c], ev->fingerprint);

			if (k < 0) {
				snprintf(z->err, z->errsz, "%s", ab_store_errmsg(z->st));
				return -1;
			}
			if (k)
				mine[kept++] = mine[c];
			else if (ex)
				ab_buf_printf(ex, " (%s: never had fingerprint '%s', nothing to "
					"resolve there)", mine[c], ev->fingerprint);
		}
		nm = kept;
		people = people && kept > 0;
		follow_only = true;
	}
	if (hit->muted || (!nm && !people)) {
		/* nothing to send */
	} else if (noisy && dup) {
		people = false;
		if (ex)
			ab_buf_puts(ex, " -> nothing (duplicate: handled already)");
	} else if (!noisy || dup) {
		if (ex)
			ab_buf_puts(ex, " -> now");
		for (size_t c = 0; c < nm; c++)
			pl->direct[pl->nd++] = mine[c];
	} else if (r->n_group_by) {
		if (ex)
			ab_buf_puts(ex, " -> ");
		if (!(cj = chan_json(mine, nm))) {
			snprintf(z->err, z->errsz, "noise: out of memory");
			return -1;
		}
		rc = group_add(z, r, ev, cj, now, ex);
		free(cj);
		for (size_t c = 0; c < nm; c++)
			pl->grouped[pl->ng++] = mine[c];
	} else if (r->digest) {
		if (ex)
			ab_buf_puts(ex, " -> ");
		rc = digest_add(z, r, ev, now, ex);
		for (size_t c = 0; c < nm; c++)
			pl->digested[pl->ndg++] = mine[c];
	} else {
		if (ex)
			ab_buf_puts(ex, " -> ");
		rc = throttle(z, r, ev, now, &sup, ex);
		if (rc == 0)
			people = false;
		for (size_t c = 0; rc >= 0 && c < nm; c++) {
			if (rc == 0)
				pl->dropped[pl->ns++] = mine[c];
			else if (sup > 0)
				pl->counted[pl->nc++] = mine[c];
			else
				pl->direct[pl->nd++] = mine[c];
		}
		if (sup > pl->counted_n)
			pl->counted_n = sup;
	}
	if (rc >= 0 && people && pl->np < AB_ROUTE_MAX_HITS)
		pl->people[pl->np++] = r;
	if (rc >= 0 && r && r->n_remind && !hit->muted && !dup && !follow_only)
		rc = remind_add(z, cfg, r, ev, now, ex);
	if (ex)
		ab_buf_puts(ex, "\n");
	return rc < 0 ? -1 : 0;
}

/* The jobs of the plan: the event with its plain jobs, and the throttled
 * channels' copy that says how many were suppressed.  *added gets the
 * number of new jobs.  0 or -1 (err set). */
static int store_plan(struct nz *z, const struct ab_event *ev, const struct plan *pl,
	int64_t now, int *added)
{
	json_t *j;
	char *p;
	int a1 = 0, a2 = 0;

	if (ab_store_enqueue(z->st, ev, pl->direct, pl->nd, now, &a1) < 0) {
		snprintf(z->err, z->errsz, "%s", ab_store_errmsg(z->st));
		return -1;
	}
	*added = a1;
	if (!pl->nc)
		return 0;
	j = ab_event_to_json(ev);
	if (!j || json_object_set_new(json_object_get(j, "fields"), "throttle_suppressed",
		json_integer(pl->counted_n)) < 0 || !(p = json_dumps(j, JSON_COMPACT |
		JSON_SORT_KEYS))) {
		json_decref(j);
		snprintf(z->err, z->errsz, "noise: out of memory");
		return -1;
	}
	json_decref(j);
	if (ab_store_enqueue_payload(z->st, ev->id, AB_MSG_EVENT, p, ev->fingerprint, pl->counted,
		pl->nc, now,
		&a2) < 0) {
		free(p);
		snprintf(z->err, z->errsz, "%s", ab_store_errmsg(z->st));
		return -1;
	}
	free(p);
	*added += a2;
	return 0;
}

/* explain's last line: where the event goes. */
static void explain_plan(struct ab_buf *ex, const struct plan *pl)
{
	ab_buf_puts(ex, "deliveries:");
	if (!pl->nd && !pl->nc && !pl->ng && !pl->ndg)
		ab_buf_puts(ex, " (none)");
	list_print(ex, "now", pl->direct, pl->nd);
	if (pl->nc)
		ab_buf_printf(ex, " now with throttle_suppressed=%lld:", (long long)pl->counted_n);
	for (size_t c = 0; c < pl->nc; c++)
		ab_buf_printf(ex, " %s", pl->counted[c]);
	list_print(ex, "in a group message", pl->grouped, pl->ng);
	list_print(ex, "in a digest", pl->digested, pl->ndg);
	list_print(ex, "suppressed by throttle", pl->dropped, pl->ns);
	ab_buf_puts(ex, "\n");
}

/* explain: the channels that had this finding (fingerprint) before, and
 * how this event will follow it up. */
static void explain_threads(struct ab_store *st, const struct ab_event *ev,
	const struct plan *pl, struct ab_buf *ex)
{
	for (size_t c = 0; ev->fingerprint && *ev->fingerprint && c < pl->nd; c++) {
		struct ab_store_thread th;
		char when[AB_RFC3339_MAX];

		if (ab_store_thread(st, pl->direct[c], "", ev->fingerprint, &th) != 1)
			continue;
		if (!ab_time_format_rfc3339(th.first_at, when, sizeof when))
			snprintf(when, sizeof when, "?");
		if (strcmp(th.event_id, ev->id) == 0) {
			ab_buf_printf(ex, "  %s: this event was delivered there first, %s\n",
				pl->direct[c], when);
			continue;
		}
		ab_buf_printf(ex, "  %s: follows up event %s of fingerprint '%s', first "
			"delivered %s%s%s%s (%d deliveries so far)\n", pl->direct[c], th.event_id,
			ev->fingerprint, when, th.ref[0] ? " as " : "", th.ref,
			ab_resolved(ev->type, ev->status) ? "; this one resolves it" : "", th.count);
	}
}

int ab_noise_ingest(struct ab_store *st, const struct ab_config *cfg,
	const struct ab_event *ev, const struct ab_route_result *rr, int64_t now,
	struct ab_ingest_outcome *out, struct ab_buf *ex, char *err, size_t errsz)
{
	struct nz z = { st, err, errsz };
	struct plan pl;
	int dup, added = 0, padded = 0;

	memset(&pl, 0, sizeof pl);
	if (out)
		memset(out, 0, sizeof *out);
	dup = ex || out || dup_matters(rr) ? is_dup(&z, ev->id) : 0;
	if (dup < 0)
		return -1;
	if (ex && dup)
		ab_buf_puts(ex, "event id already stored: a duplicate (noise state untouched)\n");
	for (size_t h = 0; h < rr->n_hits; h++)
		if (apply_hit(&z, cfg, &rr->hits[h], ev, dup, now, &pl, ex) < 0)
			return -1;
	if (store_plan(&z, ev, &pl, now, &added) < 0)
		return -1;
	if (ex) {
		explain_plan(ex, &pl);
		explain_threads(st, ev, &pl, ex);
	}
	if (ab_people_ingest(st, cfg, ev, pl.people, pl.np, now, &padded, ex, err, errsz) < 0)
		return -1;
	if (out) {
		out->added = added + padded;
		out->people = padded;
		out->duplicate = dup > 0;
		out->grouped = (int)pl.ng;
		out->digested = (int)pl.ndg;
		out->suppressed = (int)pl.ns;
	}
	return 0;
}

/* ------------------------------------------------------------------ flush side */

static int tx_start(struct ab_store *st, struct nz *z)
{
	if (ab_store_begin(st) < 0) {
		snprintf(z->err, z->errsz, "%s", ab_store_errmsg(st));
		return -1;
	}
	return 0;
}

static int tx_end(struct ab_store *st, struct nz *z, int rc)
{
	if (rc < 0) {
		ab_store_rollback(st);
		return -1;
	}
	if (ab_store_commit(st) < 0) {
		snprintf(z->err, z->errsz, "%s", ab_store_errmsg(st));
		return -1;
	}
	return 0;
}

static size_t parse_chans(const char *js, json_t **holder, const char **out, size_t max)
{
	size_t n = 0, i;
	json_t *v;

	*holder = js ? json_loads(js, 0, NULL) : NULL;
	json_array_foreach(*holder, i, v)
		if (json_is_string(v) && n < max)
			out[n++] = json_string_value(v);
	return n;
}

static int enqueue_msg(struct ab_store *st, struct nz *z, const char *id, int kind,
	json_t *payload, const char *const *chans, size_t n, int64_t now, int *queued)
{
	char *p = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
	int added = 0, rc;

	if (!p) {
		snprintf(z->err, z->errsz, "noise: out of memory");
		return -1;
	}
	rc = ab_store_enqueue_payload(st, id, kind, p, NULL, chans, n, now, &added);
	free(p);
	if (rc < 0) {
		snprintf(z->err, z->errsz, "%s", ab_store_errmsg(st));
		return -1;
	}
	*queued += added;
	return 0;
}

static int flush_group(struct ab_store *st, struct nz *z, int64_t gid, int64_t now,
	int *queued)
{
	struct ab_noise_group q;
	int found = ab_noisedb_group_get(st, gid, &q);
	json_t *pl = NULL, *g, *counts = json_object(), *by_type = json_object(), *items = NULL;
	json_t *gb = NULL, *holder = NULL;
	const char *chans[AB_ROUTE_MAX_CHANNELS];
	char scope[32], id[40], t1[40], t2[40], title[512];
	int64_t total = 0, count;
	size_t nch, n_items;
	int rc = -1;

	if (found <= 0 || !counts || !by_type) {
		if (found < 0)
			fail(z);
		else if (found == 0)
			snprintf(z->err, z->errsz, "noise: group %lld vanished", (long long)gid);
		else
			snprintf(z->err, z->errsz, "noise: out of memory");
		goto out;
	}
	snprintf(scope, sizeof scope, "g:%lld", (long long)gid);
	count = q.count;
	gb = q.group_by ? json_loads(q.group_by, 0, NULL) : NULL;
	nch = parse_chans(q.channels, &holder, chans, AB_ROUTE_MAX_CHANNELS);
	fmt_time(q.first_at, t1, sizeof t1);
	fmt_time(q.last_at, t2, sizeof t2);
	if (scope_counts(z, scope, counts, by_type, &total) < 0 ||
	    !(items = scope_items(z, scope, MAX_LIST_ITEMS)))
		goto out;
	{
		struct ab_buf tb = AB_BUF_INIT(sizeof title);
		const char *k;
		json_t *v;
		bool first = true;

		ab_buf_printf(&tb, "%lld events", (long long)count);
		json_object_foreach(gb, k, v) {
			ab_buf_printf(&tb, "%s%s=%s", first ? ": " : ", ", k,
				json_is_string(v) ? json_string_value(v) : "-");
			first = false;
		}
		ab_strlcpy(title, ab_buf_cstr(&tb), sizeof title);
		ab_buf_free(&tb);
	}
	n_items = json_array_size(items);
	g = json_pack("{s:s, s:s, s:s, s:I, s:O, s:O, s:O, s:s, s:s}",
		"key", q.key, "rule", q.rule, "title", title,
		"count", (json_int_t)count, "counts", counts, "by_type", by_type,
		"group_by", gb ? gb : json_null(), "first_at", t1, "last_at", t2);
	pl = g ? json_pack("{s:o, s:O, s:I}", "group", g, "items", items, "omitted",
		(json_int_t)(count - (int64_t)n_items)) : NULL;
	if (!pl) {
		snprintf(z->err, z->errsz, "noise: out of memory");
		goto out;
	}
	snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long)gid,
		(unsigned long long)now);
	if (count > 0 && enqueue_msg(st, z, id, AB_MSG_GROUP, pl, chans, nch, now, queued) < 0)
		goto out;
	if (scope_clear(z, scope) < 0 || chk(z, ab_noisedb_group_flushed(st, gid, now)) < 0)
		goto out;
	rc = 0;
out:
	ab_noisedb_group_clear(&q);
	json_decref(pl);
	json_decref(items);
	json_decref(counts);
	json_decref(by_type);
	json_decref(gb);
	json_decref(holder);
	return rc;
}

static int flush_digest(struct ab_store *st, struct nz *z, const struct ab_config *cfg,
	const struct ab_rule_conf *r, int64_t now, int *queued)
{
	int64_t start = 0, next = 0;
	int found = ab_noisedb_digest_get(st, r->key, &start, &next);
	json_t *counts = json_object(), *by_type = json_object(), *items = NULL, *pl = NULL;
	const char *chans[AB_ROUTE_MAX_CHANNELS];
	char scope[SCOPE_MAX], id[40], t1[40], t2[40], title[160];
	int64_t total = 0;
	size_t nch;
	int rc = -1;

	if (found < 0) {
		fail(z);
		goto out;
	}
	if (!counts || !by_type) {
		snprintf(z->err, z->errsz, "noise: out of memory");
		goto out;
	}
	if (!found) {
		rc = chk(z, ab_noisedb_digest_new(st, r->key, now,
			ab_schedule_next(r->digest, now)));
		goto out;
	}
	if (next > now) {
		rc = 0;
		goto out;
	}
	snprintf(scope, sizeof scope, "d:%s", r->key);
	if (scope_counts(z, scope, counts, by_type, &total) < 0 ||
	    !(items = scope_items(z, scope, MAX_LIST_ITEMS)))
		goto out;
	fmt_time(start, t1, sizeof t1);
	fmt_time(next, t2, sizeof t2);
	snprintf(title, sizeof title, "%s digest: %lld event(s)",
		r->digest->kind == AB_SCHED_WEEKLY ? "Weekly" : "Daily", (long long)total);
	pl = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:I, s:O, s:O}, s:O, s:I}",
		"digest", "rule", r->key, "title", title, "schedule", r->digest->text,
		"period_start", t1, "period_end", t2, "count", (json_int_t)total,
		"counts", counts, "by_type", by_type, "items", items,
		"omitted", (json_int_t)(total - (int64_t)json_array_size(items)));
	if (!pl) {
		snprintf(z->err, z->errsz, "noise: out of memory");
		goto out;
	}
	nch = allowed_channels(cfg, r, r->team, chans, AB_ROUTE_MAX_CHANNELS);
	snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long)fnv64(r->key),
		(unsigned long long)next);
	if ((total > 0 || r->digest_send_empty) &&
	    enqueue_msg(st, z, id, AB_MSG_DIGEST, pl, chans, nch, now, queued) < 0)
		goto out;
	if (scope_clear(z, scope) < 0 ||
	    chk(z, ab_noisedb_digest_advance(st, r->key, next,
		ab_schedule_next(r->digest, now))) < 0)
		goto out;
	rc = 0;
out:
	json_decref(pl);
	json_decref(items);
	json_decref(counts);
	json_decref(by_type);
	return rc;
}

static int fire_reminder(struct ab_store *st, struct nz *z, const struct ab_noise_reminder *row,
	int64_t now, int *queued)
{
	int64_t rid = row->id, off = row->offset_ms;
	const char *orig = row->event_id, *rule = row->rule;
	const char *chans[AB_ROUTE_MAX_CHANNELS];
	json_t *holder = NULL, *j = row->json ? json_loads(row->json, 0, NULL) : NULL;
	size_t nch = parse_chans(row->channels, &holder, chans, AB_ROUTE_MAX_CHANNELS);
	struct ab_event *ev = NULL;
	char e2[256], ofs[24], title[1024], key[256];
	int added = 0, rc = -1;

	if (j)
		json_object_del(j, "id");
	ev = j ? ab_event_from_json(j, e2, sizeof e2) : NULL;
	if (!ev) {
		/* unusable stored event: mark it done rather than retry forever */
		rc = chk(z, ab_noisedb_reminder_done(st, rid, 2));
		goto out;
	}
	fmt_offset(off, ofs, sizeof ofs);
	if (off == 0)
		snprintf(title, sizeof title, "Expires now: %s", ev->title ? ev->title : ev->type);
	else
		snprintf(title, sizeof title, "Expires in %s: %s", ofs,
			ev->title ? ev->title : ev->type);
	json_object_set_new(ev->fields, "remind_offset", json_string(ofs));
	json_object_set_new(ev->fields, "reminder_of", json_string(orig ? orig : ""));
	json_object_set_new(ev->fields, "reminder_rule", json_string(rule ? rule : ""));
	json_object_set_new(ev->fields, "original_type", json_string(ev->type));
	ab_event_set_str(ev, &ev->type, AB_NOISE_REMIND_TYPE);
	ab_event_set_str(ev, &ev->title, title);
	ev->received_at = now;
	snprintf(key, sizeof key, "remind:%s:%s:%lld", orig ? orig : "", rule ? rule : "",
		(long long)off);
	ab_event_compute_id(ev, key, strlen(key));
	if (ab_store_enqueue(st, ev, chans, nch, now, &added) < 0) {
		snprintf(z->err, z->errsz, "%s", ab_store_errmsg(st));
		goto out;
	}
	*queued += added;
	rc = chk(z, ab_noisedb_reminder_done(st, rid, 1));
out:
	ab_event_free(ev);
	json_decref(j);
	json_decref(holder);
	return rc;
}

static int flush_digests(struct ab_store *st, struct nz *z, const struct ab_config *cfg,
	const struct ab_rule_conf *rules, size_t n, int64_t now, int *queued)
{
	for (size_t i = 0; i < n; i++) {
		if (!rules[i].digest)
			continue;
		if (tx_start(st, z) < 0 ||
		    tx_end(st, z, flush_digest(st, z, cfg, &rules[i], now, queued)) < 0)
			return -1;
	}
	return 0;
}

int ab_noise_flush(struct ab_store *st, const struct ab_config *cfg, int64_t now,
	int *queued, char *err, size_t errsz)
{
	struct nz z = { st, err, errsz };
	struct ab_noise_reminder due[FLUSH_BATCH];
	int64_t ids[FLUSH_BATCH];
	int n, more = 1;

	*queued = 0;
	while (more) {
		if ((n = ab_noisedb_groups_due(st, now, ids, FLUSH_BATCH)) < 0)
			return fail(&z);
		more = n == FLUSH_BATCH;
		for (int i = 0; i < n; i++)
			if (tx_start(st, &z) < 0 ||
			    tx_end(st, &z, flush_group(st, &z, ids[i], now, queued)) < 0)
				return -1;
	}
	if (flush_digests(st, &z, cfg, cfg->rules, cfg->n_rules, now, queued) < 0)
		return -1;
	for (size_t k = 0; k < cfg->n_teams; k++)
		if (flush_digests(st, &z, cfg, cfg->teams[k].rules, cfg->teams[k].n_rules, now,
			queued) < 0)
			return -1;
	for (more = 1; more;) {
		int rc = 0;

		if (tx_start(st, &z) < 0)
			return -1;
		n = ab_noisedb_reminders_due(st, now, due, FLUSH_BATCH);
		if (n < 0)
			rc = fail(&z);
		for (int i = 0; i < n; i++) {
			if (rc == 0)
				rc = fire_reminder(st, &z, &due[i], now, queued);
			ab_noisedb_reminder_clear(&due[i]);
		}
		if (tx_end(st, &z, rc) < 0)
			return -1;
		more = n == FLUSH_BATCH;
	}
	/* groups idle for 30 days are forgotten */
	return chk(&z, ab_noisedb_groups_prune(st, now - 30LL * 24 * 3600000));
}

int64_t ab_noise_next_due(struct ab_store *st)
{
	return ab_noisedb_next_due(st);
}
