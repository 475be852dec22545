/*
 * route.h - routing: which channels an event goes to, and through which
 * rule (so that ingest can apply the rule's throttle, grouping, digest and
 * reminders, see noise.h).
 *
 * Rules are evaluated in order; every matching rule fires; a matching rule
 * with final = true stops evaluation in its scope.  Scopes: the rules of
 * the event's team (teams block) first, then the global rules.  When no
 * rule matched, the team's default (if it has one) or the global default
 * channels get the event.  A channel owned by a team only ever gets events
 * of that team.  Each channel is claimed by the first rule that sends to
 * it, and appears once in the result.
 *
 * Disabled channels (enabled = false) are left out of every result and
 * listed in disabled[].  When that leaves a matched event with no channel
 * at all, it goes to the default channels (the team's or the global ones,
 * as for an event no rule matched; disabled ones left out again):
 * disabled_fallback says so.  If still nothing is left (n == 0 and
 * n_disabled > 0) the event is stored but delivered nowhere; ab_ingest
 * logs that as a warning.
 */
#ifndef AB_ROUTE_H
#define AB_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "config/config.h"
#include "event/event.h"

#define AB_ROUTE_MAX_CHANNELS AB_RULE_MAX_CHANNELS   /* config.h */
#define AB_ROUTE_MAX_HITS 64

/* One rule that fired (rule NULL: the default channels). */
struct ab_route_hit {
	const struct ab_rule_conf *rule;
	char *const *chans;       /* the rule's (or default) channel list */
	size_t n_chans;
	uint64_t claim;           /* bit i: chans[i] is this hit's to deliver */
	bool muted;               /* matched inside a mute window: delivers nothing */
};

struct ab_route_result {
	const char *channels[AB_ROUTE_MAX_CHANNELS]; /* every channel claimed, borrowed */
	size_t n;
	bool used_default;
	size_t n_matched;
	struct ab_route_hit hits[AB_ROUTE_MAX_HITS];
	size_t n_hits;
	const struct ab_team_conf *team;  /* the event's team block, or NULL */
	const char *disabled[AB_ROUTE_MAX_CHANNELS]; /* disabled channels left out, borrowed */
	size_t n_disabled;
	bool disabled_fallback;   /* default channels used because of disabled ones */
};

/* Do the matchers of one rule match (time windows not included)?  On no
 * match, *why (may be NULL) gets the first reason, e.g. "severity low <
 * min_severity high". */
/* Is ev a resolved status (ab_resolved) of a finding with a fingerprint,
 * which rules without statuses take only to follow it up where it went
 * before (the noise layer drops it for channels that never had it)? */
bool ab_route_follows_up(const struct ab_event *ev);
bool ab_rule_match(const struct ab_rule_conf *r, const struct ab_event *ev,
	char *why, size_t whysz);
/* Time windows at now: 1 active, 0 outside its active windows, 2 muted
 * (why gets which window). */
int ab_rule_window(const struct ab_rule_conf *r, const struct ab_event *ev, int64_t now,
	char *why, size_t whysz);
/* Route at time now (ms); if explain is non-NULL a human-readable trace is
 * appended.  ab_route() is ab_route_at() at the current time.  out's
 * arrays hold what their counts say; entries past the counts are not
 * cleared.  Reasons for rules that do not match are written only for
 * explain. */
void ab_route_at(const struct ab_config *cfg, const struct ab_event *ev, int64_t now,
	struct ab_route_result *out, struct ab_buf *explain);
void ab_route(const struct ab_config *cfg, const struct ab_event *ev,
	struct ab_route_result *out, struct ab_buf *explain);
/* Does any rule (a team's too, or a not { }) match on a key of fields
 * for which which(key) holds (which NULL: any key)?  Without, routing
 * reads only the event's members and the other keys. */
bool ab_route_reads_fields(const struct ab_config *cfg, bool (*which)(const char *key));
/* The members ab_route_at may read (bits 1 << AB_EVM_...: type, category,
 * severity, source, tool, status, priority, asset, team, fingerprint, and
 * every member a rule's fields matcher names), for a caller that works
 * out those members alone before deciding whether to build the rest.
 * Returns 0 when routing also reads keys of fields (ab_route_reads_fields). */
uint64_t ab_route_members(const struct ab_config *cfg);
/* The team that owns a channel, or NULL. */
const struct ab_team_conf *ab_route_channel_team(const struct ab_config *cfg, const char *ch);
/* An event member by name for group_by / throttle_key / fields: a member
 * the table marks AB_EVF_ROUTE (event/event_members.h: id, type, category,
 * severity, source, tool, title, summary, url, asset, team, status,
 * priority, fingerprint), else a key of fields ("fields.x" or "x").
 * Scalars are converted to text; returns NULL when unset. */
const char *ab_event_member(const struct ab_event *ev, const char *name, char *buf,
	size_t bufsz);

#endif
