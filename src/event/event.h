/*
 * event.h - the alertbridge event: one struct, one canonical JSON form,
 * both from the one member table in event/event_members.h.
 *
 * Severity and category names and every tool scale (syslog PRI severity,
 * CEF 0-10, Wazuh rule levels, Nagios states, common words) map through
 * the one table in event.c.
 */
#ifndef AB_EVENT_H
#define AB_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "event/event_members.h"

enum ab_severity {
	AB_SEV_INFO = 0,
	AB_SEV_LOW = 1,
	AB_SEV_MEDIUM = 2,
	AB_SEV_HIGH = 3,
	AB_SEV_CRITICAL = 4,
};
#define AB_SEV_COUNT 5

enum ab_category {
	AB_CAT_SECURITY = 0,
	AB_CAT_SYSTEM = 1,
	AB_CAT_ERROR = 2,
};
#define AB_CAT_COUNT 3

/* Numeric scales that tools publish; see ab_severity_from_scale() and the
 * table in event.c (documented in doc/profiles.md). */
enum ab_sev_scale {
	AB_SCALE_SYSLOG = 0,  /* PRI severity 0 (emerg) .. 7 (debug); ModSecurity, Cisco ASA */
	AB_SCALE_CEF = 1,     /* 0..10 */
	AB_SCALE_WAZUH = 2,   /* rule level 0..16, the Wazuh dashboard's bands */
	AB_SCALE_NAGIOS = 3,  /* 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN */
	AB_SCALE_SURICATA = 4,/* alert severity / Snort priority 1 (high) .. 4 */
	AB_SCALE_LEEF = 5,    /* LEEF sev 1..10 */
	AB_SCALE_GUARDDUTY = 6,/* AWS GuardDuty 1.0..10.0 */
	AB_SCALE_CVSS = 7,    /* CVSS v3 base score 0.0..10.0 (GVM, Nessus) */
	AB_SCALE_ZAP = 8,     /* OWASP ZAP riskcode 0 (informational) .. 3 (high) */
};
#define AB_SCALE_COUNT 9

#define AB_ID_LEN 32  /* hex characters */

/* Longest string members ab_event_from_json() accepts, in bytes; producers
 * (profiles, mail) cut their values to these on a character boundary. */
#define AB_EVENT_STR_MAX 2048      /* source, tool, asset, team, status, ... */
#define AB_EVENT_TITLE_MAX 1024
#define AB_EVENT_SUMMARY_MAX 65536
#define AB_EVENT_URL_MAX 4096
/* Bytes of string members an event holds in its own allocation (the whole
 * event then stays within 1 KiB, one of malloc's per-thread cache sizes). */
#define AB_EVENT_SCRATCH 824

/* The members come from the one table in event/event_members.h; the
 * order there is the canonical order. */
#define AB_X(NAME, name, kind, max, dflt, flags) AB_EVK_DECL_##kind(name);
struct ab_origin {
	AB_ORIGIN_MEMBERS(AB_X)     /* kind "mail", "syslog", "cli"; never NULL */
};

struct ab_event {
	/* In table order: char id[AB_ID_LEN + 1]; char *type (dotted, e.g.
	 * "finding.created"; never NULL); category; severity; char *source,
	 * *tool, *title, *summary, *url, *asset, *team, *status; int priority
	 * (1 = highest; 0 = unset); char *fingerprint; int64_t occurred_at,
	 * received_at (ms since epoch; 0 = unset); struct ab_origin origin;
	 * json_t *fields (an object, owned; never NULL). */
	AB_EVENT_MEMBERS(AB_X)
	/* Private to event.c: string members set with ab_event_set_str(n)
	 * (the syslog parser, profiles) and the defaults of a renewed event
	 * are kept here, in the event's own allocation, while they fit: a line
	 * that routes nowhere costs no allocation of its own for them (the
	 * bytes of a replaced one are reused only when the event is renewed;
	 * what no longer fits goes to the heap).  So a string member is
	 * replaced or cleared only through ab_event_set_str, _strn or
	 * _take_str, never freed directly. */
	uint32_t scratch_used;
	char scratch[AB_EVENT_SCRATCH];
};
#undef AB_X

/* Row indexes of the tables: AB_EVM_TYPE, ..., AB_ORM_KIND, ... */
#define AB_X(NAME, name, kind, max, dflt, flags) AB_EVM_##NAME,
enum ab_event_member_id { AB_EVENT_MEMBERS(AB_X) AB_EVM_COUNT };
#undef AB_X
#define AB_X(NAME, name, kind, max, dflt, flags) AB_ORM_##NAME,
enum ab_origin_member_id { AB_ORIGIN_MEMBERS(AB_X) AB_ORM_COUNT };
#undef AB_X

/* One row of the table, as data (event.c fills the arrays). */
struct ab_event_member_def {
	const char *key;            /* JSON key = C member name */
	enum ab_ev_kind kind;
	size_t off;                 /* offsetof in struct ab_event / struct ab_origin */
	size_t max;
	const char *dflt;
	unsigned flags;             /* AB_EVF_ */
};
extern const struct ab_event_member_def ab_event_member_defs[AB_EVM_COUNT];
extern const struct ab_event_member_def ab_origin_member_defs[AB_ORM_COUNT];

/* The top-level row named key that has all of flags (0: any), or -1. */
int ab_event_member_find(const char *key, unsigned flags);
/* A STR member's slot (for ab_event_set_str), NULL for other kinds. */
char **ab_event_str_member(struct ab_event *ev, enum ab_event_member_id m);
/* A scalar member as text: a string as it is (NULL when unset), the id
 * ("" when unset), category and severity names, priority in decimal and
 * times in RFC 3339 (into buf; NULL when 0), NULL for origin and fields. */
const char *ab_event_member_text(const struct ab_event *ev, enum ab_event_member_id m,
	char *buf, size_t bufsz);
/* dst's member m made src's (a string copied, as ab_event_set_str does);
 * origin and fields are not copied.  0, or -1 when memory ran out (a
 * string member is then cleared). */
int ab_event_copy_member(struct ab_event *dst, const struct ab_event *src,
	enum ab_event_member_id m);

struct ab_event *ab_event_new(void);
/* The same, received at received_at (ms) instead of now: no clock read, for
 * a caller that has the time already (the syslog listener, per line). */
struct ab_event *ab_event_new_at(int64_t received_at);
/* ev made new again, as ab_event_new_at(received_at) would, keeping its
 * allocation and its emptied fields object (a listener's next line reuses
 * the event of a line that went nowhere).  0, or -1 when memory ran out:
 * then ev is freed. */
int ab_event_renew_at(struct ab_event *ev, int64_t received_at);
void ab_event_free(struct ab_event *ev);
/* Replace ev's string member (one of ev's own slots): with a copy of value
 * (NULL clears; on ENOMEM the member is cleared too); _strn with a copy of
 * the n bytes at p (no NUL needed), 0 or -1 when memory ran out (cleared);
 * copies are kept in the event's own block while they fit.  _take_str:
 * with value itself, a malloc'd string the event now owns (NULL clears). */
void ab_event_set_str(struct ab_event *ev, char **member, const char *value);
int ab_event_set_strn(struct ab_event *ev, char **member, const char *p, size_t n);
void ab_event_take_str(struct ab_event *ev, char **member, char *value);

/* Canonical JSON.  to_json() omits unset optional members.  from_json()
 * validates types and enum names; it fills defaults (type "event.generic",
 * category security, severity info, origin.kind "cli") and returns NULL with
 * a message in err on bad input.  Unknown top-level keys are an error. */
json_t *ab_event_to_json(const struct ab_event *ev);
struct ab_event *ab_event_from_json(const json_t *j, char *err, size_t errsz);
/* The same, taking the caller's reference to j (released, also on error):
 * the event keeps j's fields object instead of a copy, so j must be the
 * caller's alone (just loaded) and nobody may change those fields through
 * it. */
struct ab_event *ab_event_from_json_take(json_t *j, char *err, size_t errsz);
/* What from_json takes in fields: nesting and values. */
#define AB_FIELDS_MAX_DEPTH 8
#define AB_FIELDS_MAX_NODES 10000

/* The compact binary form (event_bin.c: the syslog journal's records): all
 * members and fields as they are, read back in a fraction of the time
 * canonical JSON takes.  write_bin appends it to b (0, or -1 with b as it
 * was); read_bin makes the event again from exactly n bytes, strict and
 * bounded as from_json (NULL with a message in err). */
struct ab_buf;
int ab_event_write_bin(const struct ab_event *ev, struct ab_buf *b);
struct ab_event *ab_event_read_bin(const void *data, size_t n, char *err, size_t errsz);
/* Compact JSON with sorted keys; caller frees.  Written directly (no
 * jansson tree), the same text json_dumps(ab_event_to_json(ev),
 * JSON_COMPACT | JSON_SORT_KEYS) gives; at most AB_EVENT_JSON_MAX bytes. */
char *ab_event_dumps(const struct ab_event *ev);
#define AB_EVENT_JSON_MAX (64u * 1024 * 1024)
struct ab_buf;
/* The same text appended to b (a store's reused buffer); 0, or -1 with b
 * as it was (b's cap, out of memory, a time out of range). */
int ab_event_write_json(const struct ab_event *ev, struct ab_buf *b);
/* ab_event_ensure_id() and then ab_event_write_json(), for one writing of
 * the text instead of two: an event without an id gets the id of the text
 * without id and received_at (the bytes ensure_id hashes), then those two
 * rows go into their places.  The id and the text are exactly those of the
 * two calls; 0, or -1 as ab_event_write_json (the id set all the same). */
int ab_event_write_json_id(struct ab_event *ev, struct ab_buf *b);

/* Stable id: the first 128 bits of SHA-256 over "ab1", origin kind and
 * key, as 32 lowercase hex characters. */
void ab_event_compute_id(struct ab_event *ev, const void *key, size_t keylen);
/* The same id for a key given in n parts (the key is their concatenation),
 * so that a caller need not copy them into one buffer. */
void ab_event_compute_idv(struct ab_event *ev, const void *const *parts, const size_t *lens,
	size_t n);
/* id for an event without one: key = canonical JSON without id and
 * received_at (so the same input yields the same id). */
void ab_event_ensure_id(struct ab_event *ev);
bool ab_event_id_valid(const char *id);

/* Severity: case-insensitive words ("crit", "Critical", "warning", "sev1",
 * "p1", "emerg", "moderate", "informational", ...) and, for bare numbers,
 * the CEF scale.  Returns 0 or -1. */
int ab_severity_parse(const char *s, enum ab_severity *out);
enum ab_severity ab_severity_from_scale(enum ab_sev_scale scale, int value);
/* The same for a number that may have a fraction (GuardDuty 7.5, CVSS 9.8);
 * out-of-range values clamp to the scale's ends.  -1 for NaN/infinity. */
int ab_severity_from_number(enum ab_sev_scale scale, double value, enum ab_severity *out);
/* A number written as text on a scale ("8", "7.5", " 12 "; for the nagios
 * scale also OK/WARNING/CRITICAL/UNKNOWN/UP/DOWN/UNREACHABLE).  The text
 * must be a plain decimal of at most 32 characters: a 90-digit number,
 * "1e999", "nan" or trailing junk is refused (-1), never cast. */
int ab_severity_from_text(enum ab_sev_scale scale, const char *s, enum ab_severity *out);
/* "syslog", "cef", "leef", "wazuh", "nagios", "suricata", "snort",
 * "guardduty", "cvss", "zap", "asa", "modsecurity" -> scale; 0 or -1. */
int ab_sev_scale_parse(const char *name, enum ab_sev_scale *out);
const char *ab_severity_name(enum ab_severity s);
int ab_category_parse(const char *s, enum ab_category *out);
const char *ab_category_name(enum ab_category c);

#endif
