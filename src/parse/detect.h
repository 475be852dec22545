/*
 * detect.h - which profile recognizes a mail or a syslog event that no
 * source pins to a profile.
 *
 * Every profile's detect alternatives (struct ab_detect_alt in profile.h)
 * are put once per configuration snapshot into two ordered lists, one for
 * mail and one for syslog: higher profile priority first, then more
 * conditions first (more specific), then profile name, then position.  The
 * first alternative whose conditions all hold wins.  See doc/profiles.md.
 */
#ifndef AB_PARSE_DETECT_H
#define AB_PARSE_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "event/event.h"
#include "parse/profile.h"

struct ab_mail;
struct ab_detect;

/* One entry of an order: the profile and its alternative (index in
 * profile->detect is alt - profile->detect). */
struct ab_detect_entry {
	const struct ab_profile *profile;
	const struct ab_detect_alt *alt;
	unsigned payloads;           /* syslog: alt's payload list as a set (0: any) */
	bool later;                  /* syslog: a field condition names a key the parser
				      * may leave for later (ab_syslog_later_key) */
};

/* Build the orders over profiles[0..n) (borrowed: they must outlive it).
 * NULL only when memory ran out. */
struct ab_detect *ab_detect_build(struct ab_profile *const *profiles, size_t n);
void ab_detect_free(struct ab_detect *d);

/* The recognizing entry for a parsed mail / a parsed syslog event, or NULL
 * when no alternative holds (d may be NULL). */
const struct ab_detect_entry *ab_detect_mail(const struct ab_detect *d, const struct ab_mail *m);
const struct ab_detect_entry *ab_detect_syslog_line(const struct ab_detect *d,
	const struct ab_event *ev);
/* The same for an event whose payload fields the parser left for later
 * (AB_SYSLOG_FIELDS_LATER): an alternative whose field conditions name
 * one of them (ab_syslog_later_key) that ev lacks has them made first, by
 * later->make(later->arg) (0, or -1 when memory ran out: then NULL is
 * returned and *failed set), at most once: later->make is cleared; unless
 * later->field gives its text from the line.  Other
 * alternatives read the members, syslog.appname and syslog.payload: from
 * later->app and later->payload when header is set (the header's fields
 * were left out too: app NULL when the line has none, payload "cef",
 * "leef" or NULL for none), else from the fields, which are there.  later
 * NULL: ab_detect_syslog_line. */
struct ab_detect_later {
	int (*make)(void *arg);
	void *arg;
	bool header;
	const char *app, *payload;
	/* optional, while make is set: a left-out field's text without making
	 * them (as ab_syslog_view_field: 1, 0 absent, -1 make them to know) */
	int (*field)(void *arg, const char *key, char *buf, size_t bufsz, const char **out);
};
const struct ab_detect_entry *ab_detect_syslog_line_later(const struct ab_detect *d,
	const struct ab_event *ev, struct ab_detect_later *later, bool *failed);

/* Does a syslog alternative's field condition name a header key
 * (syslog.appname, .facility, ...: ab_syslog_later_key)? */
bool ab_detect_reads_header(const struct ab_detect *d);

/* The order itself, for `alertbridge profiles`. */
size_t ab_detect_count(const struct ab_detect *d, bool syslog);
const struct ab_detect_entry *ab_detect_at(const struct ab_detect *d, bool syslog, size_t i);

/* "#K: subject /.../, from [a, b]" for explain, parse and profiles. */
void ab_detect_describe(const struct ab_detect_entry *e, struct ab_buf *out);

#endif
