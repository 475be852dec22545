/*
 * mail_event.c - mail source selection, sender trust and mail -> event.
 *
 * Public: ab_mail_addr_clean, ab_mail_source_env_ok, ab_mail_source_rcpt,
 *   ab_mail_source_match, ab_mail_source_select, ab_mail_route_channel,
 *   ab_mail_trusted, ab_mail_pick_profile, ab_mail_profile_reason, ab_mail_event,
 *   ab_mail_mark_unverified,
 *   ab_mail_accept (the one acceptance path of the milter and the CLI).
 *
 * A source matches when every condition it sets holds: client network,
 * envelope sender glob, at least one envelope recipient glob (without an
 * envelope, e.g. `alertbridge parse`, the To: addresses stand in), and
 * every "Name: regex" header condition (lib/regex.h's match budget: a
 * header that exhausts it does not match).  Sources are tried in order.
 *
 * Trust: a source with neither trusted_networks nor authserv_id trusts
 * everyone.  Otherwise the client address must be in trusted_networks, or
 * an Authentication-Results header whose authserv-id equals authserv_id
 * must say METHOD=pass for one of auth_methods.  (The MTA must remove
 * Authentication-Results headers with its own authserv-id from incoming
 * mail, as OpenDKIM/OpenDMARC deployments do.)
 *
 * Diagnostics: none logged here; reasons are returned to the caller.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/cidr.h"
#include "ingest/mail_event.h"
#include "parse/detect.h"
#include "parse/profile.h"
#include "lib/regex.h"
#include "lib/util.h"
#include "ingest/ingest.h"   /* the profile counters */

void ab_mail_addr_clean(const char *in, char *out, size_t outsz)
{
	const char *p = in ? in : "", *e;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '<') {
		p++;
		e = strchr(p, '>');
		if (!e)
			e = p + strlen(p);
	} else {
		e = p;
		while (*e && *e != ' ' && *e != '\t')
			e++;
	}
	n = (size_t)(e - p);
	if (outsz == 0)
		return;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

bool ab_mail_source_rcpt(const struct ab_mail_source *src, const char *rcpt)
{
	size_t i;

	for (i = 0; rcpt && i < src->n_rcpt; i++)
		if (ab_glob_match(src->rcpt[i], rcpt))
			return true;
	return false;
}

static bool sender_ok(const struct ab_mail_source *src, const char *sender)
{
	size_t i;

	if (!src->n_senders)
		return true;
	for (i = 0; sender && i < src->n_senders; i++)
		if (ab_glob_match(src->senders[i], sender))
			return true;
	return false;
}

bool ab_mail_source_env_ok(const struct ab_mail_source *src, const struct ab_mail_env *env)
{
	size_t i;

	if (src->n_networks && !ab_cidr_match_addr(src->networks, src->n_networks, env->client))
		return false;
	if (!sender_ok(src, env->sender))
		return false;
	if (!src->n_rcpt)
		return true;
	for (i = 0; i < env->n_rcpts; i++)
		if (ab_mail_source_rcpt(src, env->rcpts[i]))
			return true;
	return false;
}

static bool headers_ok(const struct ab_mail_source *src, const struct ab_mail *m)
{
	size_t i, k;

	for (i = 0; i < src->n_headers; i++) {
		bool hit = false;

		if (!m)
			return false;
		for (k = 0; k < m->n_headers && !hit; k++) {
			const char *v = m->headers[k].value;

			if (strcasecmp(m->headers[k].name, src->headers[i].name))
				continue;
			/* untrusted text: bounded (a budget hit is no match) */
			hit = v && ab_regex_match(src->headers[i].re, v, strlen(v)) == AB_REGEX_MATCH;
		}
		if (!hit)
			return false;
	}
	return true;
}

bool ab_mail_source_match(const struct ab_mail_source *src, const struct ab_mail_env *env,
	const struct ab_mail *m)
{
	struct ab_mail_env e = *env;

	/* Without an envelope (CLI) the To: addresses stand in for RCPT TO. */
	if (!e.n_rcpts && !e.sender && !e.client && m) {
		e.rcpts = m->to;
		e.n_rcpts = m->n_to;
		e.sender = m->from;
	}
	return ab_mail_source_env_ok(src, &e) && headers_ok(src, m);
}

const struct ab_mail_source *ab_mail_source_select(const struct ab_mail_conf *mc,
	const struct ab_mail_env *env, const struct ab_mail *m)
{
	size_t i;

	for (i = 0; mc && i < mc->n_sources; i++)
		if (ab_mail_source_match(&mc->sources[i], env, m))
			return &mc->sources[i];
	return NULL;
}

bool ab_mail_route_channel(const struct ab_mail_conf *mc, const char *rcpt, char *chan,
	size_t chansz)
{
	const char *prefix = mc && mc->route_prefix ? mc->route_prefix : "route";
	size_t pl = strlen(prefix), n;
	const char *at;

	if (!rcpt || strncasecmp(rcpt, prefix, pl) || rcpt[pl] != '+')
		return false;
	at = strchr(rcpt + pl + 1, '@');
	n = at ? (size_t)(at - rcpt - pl - 1) : strlen(rcpt + pl + 1);
	if (n == 0 || n >= chansz)
		return false;
	memcpy(chan, rcpt + pl + 1, n);
	chan[n] = '\0';
	for (n = 0; chan[n]; n++)
		chan[n] = (char)tolower((unsigned char)chan[n]);
	return true;
}

/* Does one Authentication-Results value from authserv_id say a method passed? */
static bool ar_pass(const char *ar, const char *authserv, char *const *methods, size_t nm,
		    char *hit, size_t hitsz)
{
	const char *p = ar, *semi;
	size_t al = strlen(authserv), i;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, authserv, al) || (p[al] && p[al] != ';' && p[al] != ' ' &&
					     p[al] != '\t'))
		return false;
	semi = strchr(p, ';');
	while (semi) {
		const char *q = semi + 1;

		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		for (i = 0; i < nm; i++) {
			size_t ml = strlen(methods[i]);

			if (!strncasecmp(q, methods[i], ml) && !strncasecmp(q + ml, "=pass", 5) &&
			    (!q[ml + 5] || strchr(" \t;\r\n", q[ml + 5]))) {
				snprintf(hit, hitsz, "%s=pass from %s", methods[i], authserv);
				return true;
			}
		}
		semi = strchr(q, ';');
	}
	return false;
}

bool ab_mail_trusted(const struct ab_mail_source *src, const struct ab_mail_env *env,
	const struct ab_mail *m, char *why, size_t whysz)
{
	size_t i;

	if (!src->n_trusted && !src->authserv_id) {
		snprintf(why, whysz, "source trusts every sender");
		return true;
	}
	if (src->n_trusted && ab_cidr_match_addr(src->trusted, src->n_trusted, env->client)) {
		snprintf(why, whysz, "client %s is in trusted_networks",
			 env->client_host ? env->client_host : "?");
		return true;
	}
	if (src->authserv_id && m)
		for (i = 0; i < m->n_auth_results; i++)
			if (ar_pass(m->auth_results[i], src->authserv_id, src->auth_methods,
				    src->n_auth_methods, why, whysz))
				return true;
	snprintf(why, whysz, "client %s not in trusted_networks and no %s pass from "
		 "authserv-id %s", env->client_host ? env->client_host : "(unknown)",
		 src->n_auth_methods ? src->auth_methods[0] : "auth",
		 src->authserv_id ? src->authserv_id : "(none configured)");
	return false;
}

void ab_mail_mark_unverified(struct ab_event *ev, enum ab_severity max, const char *why)
{
	static const char prefix[] = "[unverified sender] ";
	const char *t = ev->title ? ev->title : "";
	char title[AB_EVENT_TITLE_MAX];
	size_t k = strlen(t);

	if (ev->severity > max)
		ev->severity = max;
	if (k > sizeof title - sizeof prefix) {
		k = sizeof title - sizeof prefix;
		while (k > 0 && ((unsigned char)t[k] & 0xc0) == 0x80)
			k--;    /* cut on a character boundary */
	}
	snprintf(title, sizeof title, "%s%.*s", prefix, (int)k, t);
	ab_event_set_str(ev, &ev->title, title);
	json_object_set_new(ev->fields, "unverified_sender", json_true());
	if (why)
		json_object_set_new(ev->fields, "trust", json_string(why));
}

const struct ab_profile *ab_mail_pick_profile(const struct ab_mail_conf *mc,
	const struct ab_mail_source *src, const struct ab_mail *m, const struct ab_profile *force,
	const struct ab_detect_entry **hit)
{
	const struct ab_detect_entry *e = NULL;
	const struct ab_profile *p = force;

	if (!p && src && src->profile)
		p = src->profile;
	if (!p && mc && (e = ab_detect_mail(mc->detect, m)) != NULL)
		p = e->profile;
	if (!p)
		p = ab_mail_profile(mc, "generic");
	if (hit)
		*hit = e;
	/* metrics */
	ab_metric_inc(&ab_m_events_by_profile, "mail", p ? p->name : "none");
	if (!e && !force && !(src && src->profile))
		ab_metric_inc(&ab_m_parse_fallbacks, "mail", NULL);
	return p;
}

void ab_mail_profile_reason(const struct ab_mail_source *src, const struct ab_profile *force,
	const struct ab_detect_entry *hit, struct ab_buf *out)
{
	if (force)
		ab_buf_printf(out, "forced with --profile");
	else if (src && src->profile)
		ab_buf_printf(out, "pinned by mail source %s", src->name);
	else if (hit)
		ab_detect_describe(hit, out);
	else
		ab_buf_printf(out, "no profile's detect block holds");
}

struct ab_event *ab_mail_event(const struct ab_mail_conf *mc, const struct ab_mail_source *src,
	const struct ab_mail *m, const struct ab_mail_env *env, const char *kind,
	const struct ab_profile *force, struct ab_buf *trace)
{
	const struct ab_detect_entry *hit = NULL;
	const struct ab_profile *p = ab_mail_pick_profile(mc, src, m, force, &hit);
	struct ab_event *ev = ab_event_new();

	if (!ev)
		return NULL;
	if (trace) {
		ab_buf_printf(trace, "mail source: %s\n", src ? src->name : "(none matched)");
		ab_buf_printf(trace, "profile: %s (", p ? p->name : "built-in defaults");
		ab_mail_profile_reason(src, force, hit, trace);
		ab_buf_printf(trace, ")\n");
	}
	if (ab_profile_apply_mail(p, m, ev, trace) < 0) {
		ab_event_free(ev);
		return NULL;
	}
	if (p && json_object_set_new(ev->fields, "profile", json_string(p->name)) < 0) {
		ab_event_free(ev);
		return NULL;
	}
	ab_event_set_str(ev, &ev->origin.kind, kind);
	ab_event_set_str(ev, &ev->origin.message_id, m->message_id);
	ab_event_set_str(ev, &ev->origin.from, env && env->sender && *env->sender ? env->sender :
			 m->from);
	if (env && env->client_host)
		ab_event_set_str(ev, &ev->origin.host, env->client_host);
	if (!ev->source)
		ab_event_set_str(ev, &ev->source, src && src->event_source ? src->event_source :
				 "mail");
	if (src)
		json_object_set_new(ev->fields, "mail_source", json_string(src->name));
	if (m->truncated)
		json_object_set_new(ev->fields, "mail_truncated", json_true());
	/* Same mail -> same id (retries, duplicates through two MTAs). */
	if (m->message_id)
		ab_event_compute_id(ev, m->message_id, strlen(m->message_id));
	return ev;
}

/* The route+CHANNEL recipients: enabled channels into out->direct, a note
 * for each one naming a disabled or an undefined channel. */
static void direct_channels(const struct ab_config *cfg, char *const *rcpts, size_t n,
			    struct ab_buf *notes, struct ab_mail_accept *out)
{
	for (size_t i = 0; i < n && out->n_direct < AB_RULE_MAX_CHANNELS; i++) {
		const struct ab_channel_conf *cc;
		char ch[80];
		size_t k;

		if (!ab_mail_route_channel(cfg->mail, rcpts[i], ch, sizeof ch))
			continue;
		cc = ab_config_channel(cfg, ch);
		if (!cc) {
			if (notes)
				ab_buf_printf(notes, "recipient %s names channel '%s', which is not "
					      "defined: using the rules\n", rcpts[i], ch);
			continue;
		}
		if (!cc->enabled) {   /* enabled = false: left out like in routes */
			if (notes)
				ab_buf_printf(notes, "recipient %s names channel '%s', which is "
					      "disabled: left out (the rules take the mail if no "
					      "channel is left)\n", rcpts[i], ch);
			continue;
		}
		for (k = 0; k < out->n_direct && strcmp(out->direct[k], cc->name); k++)
			;
		if (k == out->n_direct)
			out->direct[out->n_direct++] = cc->name;
	}
}

void ab_mail_accept(const struct ab_config *cfg, const struct ab_mail_source *src,
	const struct ab_mail_env *env, const struct ab_mail *m, const char *kind,
	const struct ab_profile *force, struct ab_buf *trace, unsigned flags,
	struct ab_buf *notes, struct ab_mail_accept *out)
{
	const struct ab_mail_conf *mc = cfg->mail;

	memset(out, 0, sizeof *out);
	out->src = src ? src : ab_mail_source_select(mc, env, m);
	if (!out->src) {
		out->verdict = AB_MAIL_IGNORED;
		snprintf(out->why, sizeof out->why, "no mail source takes this mail");
	} else {
		out->trusted = ab_mail_trusted(out->src, env, m, out->why, sizeof out->why);
		out->verdict = out->trusted || out->src->untrusted == AB_UNTRUSTED_MARK ?
			AB_MAIL_ACCEPTED : out->src->untrusted == AB_UNTRUSTED_REJECT ?
			AB_MAIL_REJECTED : AB_MAIL_PASSED;
	}
	if (out->verdict != AB_MAIL_ACCEPTED && !(flags & AB_MAIL_ALWAYS_EVENT))
		return;
	out->ev = ab_mail_event(mc, out->src, m, env, kind, force, trace);
	if (!out->ev) {
		out->verdict = AB_MAIL_NOMEM;
		return;
	}
	if (out->src && !out->trusted)
		ab_mail_mark_unverified(out->ev, out->src->untrusted_max, out->why);
	/* The envelope's recipients name the channels.  The To: addresses stand
	 * in only without any envelope (`alertbridge parse mail.eml`): with one,
	 * a header must never pick a channel past the rules. */
	if (env && (env->n_rcpts || env->sender || env->client))
		direct_channels(cfg, env->rcpts, env->n_rcpts, notes, out);
	else
		direct_channels(cfg, m->to, m->n_to, notes, out);
}
