/*
 * people.h - alerts to people: which users an event reaches, by which
 * delivery kind (e-mail, inbox, chat), and why (people.c).
 *
 * System-wide and personal combine as a union: a user gets an event by a
 * kind when a rule that delivers it names them in its recipients (by
 * team, role or name) and their preferences do not turn that kind off for
 * the event's type - unless the type is in people.system_override - or
 * when they subscribed to the type for that kind themselves.  Either way
 * only when they may see the event (their teams; admins all).  Defaults
 * avoid noise: with no preference a user gets what the rules send them.
 *
 * A preference is a row (user, event type glob, kind or "*", on/off) in
 * the store (store/prefsdb.h); of the rows that match an event the most
 * specific decides: an exact type before a glob, a longer glob before a
 * shorter one, an exact kind before "*", and off before on when still
 * tied.
 */
#ifndef AB_PEOPLE_H
#define AB_PEOPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "config/config.h"
#include "event/event.h"
#include "store/prefsdb.h"
#include "store/store.h"

/* Why a user receives (or not) an event by one kind. */
enum ab_person_why {
	AB_PW_RULE,         /* a rule's recipients */
	AB_PW_OVERRIDE,     /* a rule's, kept on by system_override against their preference */
	AB_PW_SUBSCRIBED,   /* their own "on" preference, no rule */
	AB_PW_OFF,          /* a rule's, turned off by their preference */
	AB_PW_NO_ACCESS,    /* a rule's or subscribed, but not their team's event */
	AB_PW_NO_ADDRESS,   /* e-mail, but the user has no address */
};

struct ab_person_decision {
	const struct ab_user_conf *user;
	enum ab_via via;
	enum ab_person_why why;
	const struct ab_rule_conf *rule;  /* the rule that sends it (RULE, OVERRIDE, OFF) */
	const struct ab_pref *pref;       /* the preference that decided (OVERRIDE,
					   * SUBSCRIBED, OFF), borrowed from the snapshot */
};

/* Does a decision mean a delivery? */
bool ab_person_delivers(enum ab_person_why why);
const char *ab_person_why_text(enum ab_person_why why);

/* The most specific preference of user for type and kind, or NULL. */
const struct ab_pref *ab_people_pref(const struct ab_prefs *prefs, const char *user,
	const char *type, enum ab_via via);
/* Does a rule's recipients reach user for ev (by name, team and role),
 * access not considered?  by (may be NULL) gets how: "named", "role
 * 'lead' on team 'secops'", ... */
bool ab_people_reaches(const struct ab_recipients_conf *rc, const struct ab_user_conf *u,
	const struct ab_event *ev, char *by, size_t bysz);

/* Decide for every user and kind: rules[0..n) are the rules that deliver
 * ev now (matched, not muted, not suppressed); prefs the snapshot (NULL:
 * none).  Calls fn for every decision (deliveries and refusals; users the
 * event concerns in no way are not reported).  explain (may be NULL) gets
 * the roles that reach nobody.  Returns the number of deliveries. */
typedef void (*ab_person_fn)(const struct ab_person_decision *d, void *arg);
size_t ab_people_decide(const struct ab_config *cfg, const struct ab_event *ev,
	const struct ab_rule_conf *const *rules, size_t n, const struct ab_prefs *prefs,
	ab_person_fn fn, void *arg, struct ab_buf *explain);

/* Inside the ingest batch, after the event is stored: decide as above
 * (reading the preferences from st) and queue the jobs - per person, or
 * for e-mail with people.email_mode "together" one job to all.  *added
 * gets the jobs queued; explain (may be NULL) a line per person.  0, or
 * -1 with err. */
int ab_people_ingest(struct ab_store *st, const struct ab_config *cfg,
	const struct ab_event *ev, const struct ab_rule_conf *const *rules, size_t n,
	int64_t now, int *added, struct ab_buf *explain, char *err, size_t errsz);

#endif
