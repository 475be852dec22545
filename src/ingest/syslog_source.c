/*
 * syslog_source.c - parse one syslog line and pick its syslog source.
 *
 * Public: ab_syslog_select, ab_syslog_process.
 * Matching, per source, all given criteria must hold: listener name in
 * 'listeners', origin.host matches one 'hosts' glob, the app-name / tag
 * (fields "syslog.appname") one 'apps' glob, the facility is in
 * 'facilities', and 'regex' (PCRE2, lib/regex.h's budget) finds a match in the
 * line as received (invalid UTF-8 allowed).  The chosen source names the
 * event's source (unless the payload named a more specific one than the
 * generic "syslog") and is recorded in fields
 * "syslog.source"; without a match the source is "syslog".  The profile
 * (forced, the source's, or detected: parse/detect.h) then runs over the
 * MSG text and the parser's fields.
 * Diagnostics: none logged; "out of memory" in err.
 */
#include <stdio.h>
#include <string.h>

#include "config/config_mail.h"
#include "parse/detect.h"
#include "parse/profile.h"
#include "parse/syslog.h"
#include "ingest/syslog_source.h"
#include "lib/regex.h"
#include "lib/util.h"
#include "ingest/ingest.h"   /* the profile counters */

static bool any_glob(char *const *globs, size_t n, const char *s)
{
	if (n == 0)
		return true;
	if (!s)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ab_glob_match(globs[i], s))
			return true;
	return false;
}

static bool regex_match(const struct ab_regex *re, const char *line, size_t len)
{
	return ab_regex_match(re, line, len) == AB_REGEX_MATCH;
}

const struct ab_syslog_source_conf *ab_syslog_select(const struct ab_syslog_conf *sc,
	const char *listener, const struct ab_event *ev, const char *line, size_t len)
{
	json_t *app, *fac;

	if (!sc || !sc->n_sources)
		return NULL;
	app = json_object_get(ev->fields, "syslog.appname");
	fac = json_object_get(ev->fields, "syslog.facility");
	for (size_t i = 0; i < sc->n_sources; i++) {
		const struct ab_syslog_source_conf *s = &sc->sources[i];
		bool ok = true;

		if (s->n_listeners) {
			ok = false;
			for (size_t k = 0; listener && k < s->n_listeners && !ok; k++)
				ok = strcmp(s->listeners[k], listener) == 0;
		}
		if (!ok || !any_glob(s->hosts, s->n_hosts, ev->origin.host) ||
		    !any_glob(s->apps, s->n_apps, json_string_value(app)))
			continue;
		if (s->facilities && (!json_is_integer(fac) || json_integer_value(fac) < 0 ||
		    json_integer_value(fac) > 23 ||
		    !(s->facilities & (1u << json_integer_value(fac)))))
			continue;
		if (s->re && !regex_match(s->re, line, len))
			continue;
		return s;
	}
	return NULL;
}

/* An event whose payload fields may still be missing, and its view. */
struct pending {
	const struct ab_syslog_view *v;
	struct ab_event *ev;
	bool later;                  /* they are missing */
};

/* The payload's fields that ab_syslog_view_event left out, now. */
static int fields_now(void *arg)
{
	struct pending *pd = arg;

	if (!pd->later)
		return 0;
	pd->later = false;
	return ab_syslog_view_fields(pd->v, pd->ev);
}

/* A payload field that ab_syslog_view_event left out, read from the view
 * (ab_syslog_view_field), while it is left out. */
static int field_later(void *arg, const char *key, char *buf, size_t bufsz, const char **out)
{
	struct pending *pd = arg;

	return pd->later ? ab_syslog_view_field(pd->v, key, buf, bufsz, out) : -1;
}

int ab_syslog_process(const struct ab_syslog_conf *sc, const struct ab_mail_conf *mc,
	const struct ab_profile *force, const char *listener,
	const char *peer_host, const char *line, size_t len, bool truncated, int64_t now_ms,
	unsigned flags, struct ab_event *ev, const struct ab_syslog_source_conf **matched,
	const struct ab_detect_entry **detected, struct ab_syslog_view *view, char *err,
	size_t errsz)
{
	return ab_syslog_process_gated(sc, mc, force, listener, peer_host, line, len, truncated,
		now_ms, flags, ev, matched, detected, view, NULL, err, errsz);
}

/* Does the event that p would make of ev route anywhere (the gate's
 * question, asked of the members routing reads alone)?  When that cannot
 * be worked out (memory, or a field left for later that the scan cannot
 * give), the answer is yes: the whole event is made. */
static bool gate_passes(struct ab_syslog_gate *g, const struct ab_profile *p,
	const struct ab_event *ev, const struct pending *pd)
{
	if (ab_event_renew_at(g->view, ev->received_at) < 0) {
		g->view = NULL;
		return true;
	}
	if (ab_profile_syslog_members(p, ev, pd->later ? pd->v : NULL, g->members, g->view) < 0)
		return true;
	return g->goes(g->view, g->arg);
}

int ab_syslog_process_gated(const struct ab_syslog_conf *sc, const struct ab_mail_conf *mc,
	const struct ab_profile *force, const char *listener,
	const char *peer_host, const char *line, size_t len, bool truncated, int64_t now_ms,
	unsigned flags, struct ab_event *ev, const struct ab_syslog_source_conf **matched,
	const struct ab_detect_entry **detected, struct ab_syslog_view *view,
	struct ab_syslog_gate *gate, char *err, size_t errsz)
{
	const struct ab_syslog_source_conf *src;
	const struct ab_profile *p = force;
	struct ab_syslog_view own;
	struct ab_syslog_view *v = view ? view : &own;
	struct pending pd = { v, ev, false };
	int bad = 0, rc;

	if (matched)
		*matched = NULL;
	if (detected)
		*detected = NULL;
	if (!view)
		flags &= ~AB_SYSLOG_FIELDS_LATER;   /* nothing to add them from */
	/* the header's fields wait too unless sources read them (syslog.appname,
	 * .facility) or a detect condition names one; detection reads the app
	 * and the payload from the view */
	if ((flags & AB_SYSLOG_FIELDS_LATER) && !force && !(sc && sc->n_sources) &&
	    !(mc && ab_detect_reads_header(mc->detect)))
		flags |= AB_SYSLOG_HEADER_LATER;
	else
		flags &= ~AB_SYSLOG_HEADER_LATER;
	if (!line || !ev) {
		snprintf(err, errsz, "syslog parse: bad argument");
		return -1;
	}
	ab_syslog_scan(line, len, now_ms, v);
	v->listener = listener;      /* a header field (later with the header's) */
	rc = ab_syslog_view_event(v, peer_host, flags, ev, err, errsz);
	if (rc < 0)
		return -1;
	pd.later = rc == 1;
	ev->received_at = now_ms;
	if (truncated)
		bad |= json_object_set_new(ev->fields, "syslog.truncated", json_true());
	src = ab_syslog_select(sc, listener, ev, line, len);
	if (matched)
		*matched = src;
	if (src) {
		bad |= json_object_set_new(ev->fields, "syslog.source", json_string(src->name));
		if (src->drop)
			return 0;
		if (!ev->source || strcmp(ev->source, "syslog") == 0)
			ab_event_set_str(ev, &ev->source, src->name);
	} else if (!ev->source) {
		ab_event_set_str(ev, &ev->source, "syslog");
	}
	if (!p && src && src->profile) {
		p = ab_mail_profile(mc, src->profile);
	} else if (!p && mc) {
		/* an alternative that looks at a payload field reads it from the
		 * scan (field_later) or has them made */
		struct ab_detect_later dl = { fields_now, &pd, false, NULL, NULL, field_later };
		const struct ab_detect_entry *e;
		char app[256];
		bool failed;

		if (pd.later && (flags & AB_SYSLOG_HEADER_LATER)) {
			/* no header fields: what they would say, from the view (valid
			 * UTF-8 without NUL, as only such a view leaves them out) */
			if (v->app.n < sizeof app) {
				dl.header = true;
				dl.app = v->app.n ? memcpy(app, v->app.p, v->app.n) : NULL;
				app[v->app.n] = '\0';
				dl.payload = v->payload == AB_SYSLOG_CEF ? "cef" :
					     v->payload == AB_SYSLOG_LEEF ? "leef" : NULL;
			} else {
				bad |= fields_now(&pd) < 0;
			}
		}
		e = ab_detect_syslog_line_later(mc->detect, ev, &dl, &failed);
		bad |= failed;
		if (e)
			p = e->profile;
		if (detected)
			*detected = e;
	}
	if (p) {
		/* a profile reads the fields and may change any member; the
		 * gate's part of it may need none of those left for later */
		bool gated = gate && gate->members && gate->view;

		if (!gated || (pd.later && ab_profile_syslog_reads_unscanned(p, gate->members)))
			bad |= fields_now(&pd) < 0;
		if (gated && !bad && !gate_passes(gate, p, ev, &pd)) {
			ab_metric_inc(&ab_m_events_by_profile, "syslog", p->name);
			return 3;
		}
		bad |= fields_now(&pd) < 0;   /* if they still wait */
		bad |= json_object_set_new(ev->fields, "syslog.profile", json_string(p->name));
		bad |= ab_profile_apply_syslog(p, ev, NULL) < 0;
	}
	/* metrics */
	ab_metric_inc(&ab_m_events_by_profile, "syslog", p ? p->name : "none");
	if (!p)
		ab_metric_inc(&ab_m_parse_fallbacks, "syslog", NULL);
	if (bad || !ev->source) {
		snprintf(err, errsz, "syslog: out of memory");
		return -1;
	}
	return pd.later ? 2 : 1;
}
