/*
 * syslog_source.h - one received syslog line -> one routed-ready event:
 * parse (parse/syslog.h), select the syslog source from config
 * (listener, host glob, app-name glob, facility, PCRE2 regex; first match
 * wins), mark truncation, apply the source's profile or, when no source
 * pins one, the profile whose detect block recognizes the line.
 * Shared by the listeners (syslog_in.c) and `alertbridge parse --syslog`.
 */
#ifndef AB_SYSLOG_SOURCE_H
#define AB_SYSLOG_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "config/config_mail.h"
#include "config/config_syslog.h"

/* The first source that takes the parsed event, or NULL.  listener may be
 * NULL (the CLI): then sources restricted to listeners do not match. */
const struct ab_syslog_source_conf *ab_syslog_select(const struct ab_syslog_conf *sc,
	const char *listener, const struct ab_event *ev, const char *line, size_t len);

/*
 * Parse line into ev (from ab_event_new()) and apply sources (sc may be
 * NULL) and profiles (mc may be NULL: none).  The profile is force when
 * set, else the matched source's, else the first detect alternative that
 * holds (fields "syslog.profile" names it); without one the parser's event
 * stays as it is.  truncated: the transport cut the message (fields
 * "syslog.truncated" = true).  Returns 1 when the event is to be ingested,
 * 0 when its source says drop, -1 on out-of-memory (message in err).
 * *matched (may be NULL) gets the source or NULL; *detected (may be NULL)
 * the detect entry that chose the profile, or NULL.  flags: the parser's
 * (AB_SYSLOG_ID_LATER: no id yet; the caller sets it with
 * ab_syslog_event_id(ev, line, len, peer_host) if it keeps the event).
 *
 * view: NULL, or where the line's scan is kept (it points into line).
 * With a view and AB_SYSLOG_FIELDS_LATER, the payload's fields (SD params,
 * CEF/LEEF fields) are left out while nothing needs them, and the header's
 * (syslog.facility, .appname, ...) too when there are no sources and no
 * detect condition names one (AB_SYSLOG_HEADER_LATER is set here, not by
 * the caller; detection takes the app and the payload kind from the scan):
 * returns 2 when the event still lacks them, its members final (no profile
 * applied; one that applies has them made first, and a detect condition
 * on one reads a CEF/LEEF field from the scan, ab_syslog_view_field, or
 * has them made).  A caller that keeps such an event adds them with
 * ab_syslog_view_fields(view, ev) while line is alive.
 */
struct ab_detect_entry;
struct ab_profile;
struct ab_syslog_view;
int ab_syslog_process(const struct ab_syslog_conf *sc, const struct ab_mail_conf *mc,
	const struct ab_profile *force, const char *listener,
	const char *peer_host, const char *line, size_t len, bool truncated, int64_t now_ms,
	unsigned flags, struct ab_event *ev, const struct ab_syslog_source_conf **matched,
	const struct ab_detect_entry **detected, struct ab_syslog_view *view, char *err,
	size_t errsz);

/*
 * ab_syslog_process with a gate (the listener's): when a profile is to be
 * applied, the members routing reads (members, from ab_route_members) are
 * worked out first into view, a spare event of the caller's
 * (ab_profile_syslog_members), and goes(view, arg) says whether that event
 * routes anywhere.  When it does not, the profile is not applied and 3 is
 * returned: ev is half made (not to be ingested; renew or free it).
 * Otherwise as ab_syslog_process.  members 0 or view NULL: no gate.  If
 * view cannot be renewed (memory), it was freed and is set to NULL.
 */
struct ab_syslog_gate {
	uint64_t members;
	struct ab_event *view;
	bool (*goes)(const struct ab_event *view, void *arg);
	void *arg;
};
int ab_syslog_process_gated(const struct ab_syslog_conf *sc, const struct ab_mail_conf *mc,
	const struct ab_profile *force, const char *listener,
	const char *peer_host, const char *line, size_t len, bool truncated, int64_t now_ms,
	unsigned flags, struct ab_event *ev, const struct ab_syslog_source_conf **matched,
	const struct ab_detect_entry **detected, struct ab_syslog_view *view,
	struct ab_syslog_gate *gate, char *err, size_t errsz);

#endif
