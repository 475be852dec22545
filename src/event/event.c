/*
 * event.c - the alertbridge event: lifecycle, canonical JSON, stable ids,
 * and the one severity/category table every parser and tool scale maps
 * through.
 *
 * Public: ab_event_new, ab_event_new_at, ab_event_free, ab_event_set_str, ab_event_set_strn,
 *         ab_event_take_str, ab_event_to_json,
 * ab_event_from_json, ab_event_from_json_take, ab_event_dumps, ab_event_write_json,
 * ab_event_write_json_id, ab_event_compute_id, ab_event_compute_idv,
 * ab_event_ensure_id, ab_event_id_valid, ab_event_member_find, ab_event_str_member, ab_event_member_text, ab_event_member_defs,
 * ab_origin_member_defs, ab_severity_parse, ab_severity_from_scale,
 * ab_severity_name, ab_category_parse, ab_category_name (see event.h).
 *
 * Canonical JSON (doc/DESIGN.md "The event"): the members of the one table
 * in event_members.h, in its order: id, type, category, severity, source,
 * tool, title, summary, url, asset, team, status, priority, fingerprint,
 * occurred_at, received_at (RFC 3339 strings), origin {kind, message_id,
 * from, host}, fields {object}.  Every function here is driven by that
 * table, one case per kind.  to_json() leaves out unset optional members
 * (NULL strings, empty id, priority 0, occurred_at 0); type, category,
 * severity, received_at, origin.kind and fields are always written.
 * Strings that are not valid UTF-8 are repaired (bad bytes become U+FFFD)
 * rather than dropped.
 *
 * from_json() is strict: the top level and origin must be objects without
 * unknown keys, every member has one JSON type (a JSON null counts as
 * "absent"), strings may not hold NUL and have byte caps (title 1 KiB,
 * summary 64 KiB, url 4 KiB, others 2 KiB), priority is 0..999, times are
 * RFC 3339, an id must be 32 lowercase hex characters, fields must be an
 * object nested at most AB_FIELDS_MAX_DEPTH deep with at most
 * AB_FIELDS_MAX_NODES values.  Defaults: type "event.generic", category
 * security, severity info, origin.kind "cli", received_at now.
 *
 * Diagnostics: from_json() writes "member 'NAME': what is wrong" (or
 * "unknown member 'NAME'") into err.  Nothing is logged here.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "lib/buf.h"
#include "event/event.h"
#include "lib/utf8.h"
#include "lib/util.h"

/* ------------------------------------------------------------ the table */

/*
 * Severity words, case-insensitive; '-' and '_' compare equal to ' '
 * ("very-high", "very_high").  Decision: "unknown" maps to medium, the same
 * as the Nagios UNKNOWN state below - a check or tool that cannot tell is
 * worth a look, and it must not be silently dropped by an info filter.
 */
static const struct {
	const char *word;
	enum ab_severity sev;
} sev_words[] = {
	{ "critical", AB_SEV_CRITICAL },
	{ "crit", AB_SEV_CRITICAL },
	{ "emerg", AB_SEV_CRITICAL },
	{ "emergency", AB_SEV_CRITICAL },
	{ "alert", AB_SEV_CRITICAL },
	{ "fatal", AB_SEV_CRITICAL },
	{ "sev1", AB_SEV_CRITICAL },
	{ "p1", AB_SEV_CRITICAL },
	{ "blocker", AB_SEV_CRITICAL },
	{ "very high", AB_SEV_CRITICAL },

	{ "high", AB_SEV_HIGH },
	{ "error", AB_SEV_HIGH },
	{ "err", AB_SEV_HIGH },
	{ "major", AB_SEV_HIGH },
	{ "severe", AB_SEV_HIGH },
	{ "sev2", AB_SEV_HIGH },
	{ "p2", AB_SEV_HIGH },
	{ "important", AB_SEV_HIGH },

	{ "medium", AB_SEV_MEDIUM },
	{ "moderate", AB_SEV_MEDIUM },
	{ "warning", AB_SEV_MEDIUM },
	{ "warn", AB_SEV_MEDIUM },
	{ "sev3", AB_SEV_MEDIUM },
	{ "p3", AB_SEV_MEDIUM },
	{ "average", AB_SEV_MEDIUM },
	{ "unknown", AB_SEV_MEDIUM },

	{ "low", AB_SEV_LOW },
	{ "minor", AB_SEV_LOW },
	{ "notice", AB_SEV_LOW },
	{ "sev4", AB_SEV_LOW },
	{ "p4", AB_SEV_LOW },

	{ "info", AB_SEV_INFO },
	{ "informational", AB_SEV_INFO },
	{ "information", AB_SEV_INFO },
	{ "debug", AB_SEV_INFO },
	{ "none", AB_SEV_INFO },
	{ "note", AB_SEV_INFO },
	{ "ok", AB_SEV_INFO },
	{ "sev5", AB_SEV_INFO },
	{ "p5", AB_SEV_INFO },
};

/* Canonical names, indexed by enum ab_severity. */
static const char *const sev_names[AB_SEV_COUNT] = {
	"info", "low", "medium", "high", "critical",
};

static const char *const cat_names[AB_CAT_COUNT] = {
	"security", "system", "error",
};

/* Tool scales: rows in ascending order of their lower bound; a value
 * belongs to the last row whose lo it reaches.  A value below the first
 * row's lo clamps to it, a value above the last row's hi to the last row. */
struct scale_row {
	double lo;
	enum ab_severity sev;
};

static const struct scale_row scale_syslog[] = {
	{ 0, AB_SEV_CRITICAL },      /* emerg, alert, crit */
	{ 3, AB_SEV_HIGH },          /* err */
	{ 4, AB_SEV_MEDIUM },        /* warning */
	{ 5, AB_SEV_LOW },           /* notice */
	{ 6, AB_SEV_INFO },          /* info, debug */
};

/* ArcSight: 0-3 Low, 4-6 Medium, 7-8 High, 9-10 Very-High. */
static const struct scale_row scale_cef[] = {
	{ 0, AB_SEV_LOW },
	{ 4, AB_SEV_MEDIUM },
	{ 7, AB_SEV_HIGH },
	{ 9, AB_SEV_CRITICAL },
};

/* Wazuh dashboard: 0-6 Low, 7-11 Medium, 12-14 High, 15+ Critical. */
static const struct scale_row scale_wazuh[] = {
	{ 0, AB_SEV_LOW },
	{ 7, AB_SEV_MEDIUM },
	{ 12, AB_SEV_HIGH },
	{ 15, AB_SEV_CRITICAL },
};

static const struct scale_row scale_nagios[] = {
	{ 0, AB_SEV_INFO },          /* OK */
	{ 1, AB_SEV_MEDIUM },        /* WARNING */
	{ 2, AB_SEV_CRITICAL },      /* CRITICAL */
	{ 3, AB_SEV_MEDIUM },        /* UNKNOWN */
};

static const struct scale_row scale_suricata[] = {
	{ 0, AB_SEV_HIGH },          /* 1 */
	{ 2, AB_SEV_MEDIUM },
	{ 3, AB_SEV_LOW },
	{ 4, AB_SEV_INFO },          /* and above */
};

/* QRadar LEEF sev 1-10, read as CEF's bands. */
static const struct scale_row scale_leef[] = {
	{ 1, AB_SEV_LOW },
	{ 4, AB_SEV_MEDIUM },
	{ 7, AB_SEV_HIGH },
	{ 9, AB_SEV_CRITICAL },
};

/* GuardDuty: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0. */
static const struct scale_row scale_guardduty[] = {
	{ 1, AB_SEV_LOW },
	{ 4, AB_SEV_MEDIUM },
	{ 7, AB_SEV_HIGH },
	{ 9, AB_SEV_CRITICAL },
};

/* CVSS v3 qualitative: None 0.0, Low 0.1-3.9, Medium 4.0-6.9, High 7.0-8.9,
 * Critical 9.0-10.0. */
static const struct scale_row scale_cvss[] = {
	{ 0, AB_SEV_INFO },
	{ 0.1, AB_SEV_LOW },
	{ 4, AB_SEV_MEDIUM },
	{ 7, AB_SEV_HIGH },
	{ 9, AB_SEV_CRITICAL },
};

/* OWASP ZAP riskcode: 0 Informational, 1 Low, 2 Medium, 3 High. */
static const struct scale_row scale_zap[] = {
	{ 0, AB_SEV_INFO },
	{ 1, AB_SEV_LOW },
	{ 2, AB_SEV_MEDIUM },
	{ 3, AB_SEV_HIGH },
};

#define ROWS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	const struct scale_row *rows;
	size_t n;
} scales[AB_SCALE_COUNT] = {
	[AB_SCALE_SYSLOG] = { "syslog", scale_syslog, ROWS(scale_syslog) },
	[AB_SCALE_CEF] = { "cef", scale_cef, ROWS(scale_cef) },
	[AB_SCALE_WAZUH] = { "wazuh", scale_wazuh, ROWS(scale_wazuh) },
	[AB_SCALE_NAGIOS] = { "nagios", scale_nagios, ROWS(scale_nagios) },
	[AB_SCALE_SURICATA] = { "suricata", scale_suricata, ROWS(scale_suricata) },
	[AB_SCALE_LEEF] = { "leef", scale_leef, ROWS(scale_leef) },
	[AB_SCALE_GUARDDUTY] = { "guardduty", scale_guardduty, ROWS(scale_guardduty) },
	[AB_SCALE_CVSS] = { "cvss", scale_cvss, ROWS(scale_cvss) },
	[AB_SCALE_ZAP] = { "zap", scale_zap, ROWS(scale_zap) },
};

/* Other names tools use for the same scales. */
static const struct {
	const char *name;
	enum ab_sev_scale scale;
} scale_aliases[] = {
	{ "asa", AB_SCALE_SYSLOG },
	{ "modsecurity", AB_SCALE_SYSLOG },
	{ "snort", AB_SCALE_SURICATA },
};

int ab_sev_scale_parse(const char *name, enum ab_sev_scale *out)
{
	size_t i;

	for (i = 0; name && i < ROWS(scales); i++)
		if (!strcmp(name, scales[i].name)) {
			*out = (enum ab_sev_scale)i;
			return 0;
		}
	for (i = 0; name && i < ROWS(scale_aliases); i++)
		if (!strcmp(name, scale_aliases[i].name)) {
			*out = scale_aliases[i].scale;
			return 0;
		}
	return -1;
}

int ab_severity_from_number(enum ab_sev_scale scale, double value, enum ab_severity *out)
{
	const struct scale_row *rows;
	size_t i, n;

	if (!isfinite(value))
		return -1;
	if ((unsigned)scale >= ROWS(scales)) {
		*out = AB_SEV_MEDIUM;
		return 0;
	}
	rows = scales[scale].rows;
	n = scales[scale].n;
	*out = rows[0].sev;
	for (i = 0; i < n; i++)
		if (value >= rows[i].lo)
			*out = rows[i].sev;
	return 0;
}

enum ab_severity ab_severity_from_scale(enum ab_sev_scale scale, int value)
{
	enum ab_severity s = AB_SEV_MEDIUM;

	ab_severity_from_number(scale, (double)value, &s);
	return s;
}

static int nagios_state(const char *s)
{
	static const struct { const char *w; int v; } st[] = {
		{ "ok", 0 }, { "up", 0 }, { "recovery", 0 }, { "warning", 1 },
		{ "critical", 2 }, { "down", 2 }, { "unreachable", 2 }, { "unknown", 3 },
	};
	size_t i;

	for (i = 0; i < ROWS(st); i++)
		if (!strcasecmp(s, st[i].w))
			return st[i].v;
	return -1;
}

int ab_severity_from_text(enum ab_sev_scale scale, const char *s, enum ab_severity *out)
{
	char tmp[40], *end;
	size_t n, i;
	double v;

	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strnlen(s, sizeof tmp);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n > 32)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (scale == AB_SCALE_NAGIOS && nagios_state(tmp) >= 0)
		return ab_severity_from_number(scale, nagios_state(tmp), out);
	/* a plain decimal: optional sign, digits, optional fraction; nothing
	 * that strtod would read as hex, an exponent, inf or nan */
	bool frac = false;

	for (i = (tmp[0] == '-' || tmp[0] == '+'); i < n; i++) {
		if (tmp[i] == '.')
			frac = true;
		else if (!isdigit((unsigned char)tmp[i]))
			return -1;
	}
	if (!frac && n <= 9 && isdigit((unsigned char)tmp[n - 1])) {
		/* most are a few digits: read as strtod would, without it */
		long iv = 0;

		for (i = (tmp[0] == '-' || tmp[0] == '+'); i < n; i++)
			iv = iv * 10 + (tmp[i] - '0');
		return ab_severity_from_number(scale, tmp[0] == '-' ? -(double)iv : (double)iv,
					       out);
	}
	errno = 0;
	v = strtod(tmp, &end);
	if (end == tmp || *end || errno == ERANGE)
		return -1;
	return ab_severity_from_number(scale, v, out);
}

/* Case-insensitive compare where ' ', '-' and '_' are the same. */
static bool word_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++, b++) {
		char x = (char)tolower((unsigned char)a[i]), y = *b;

		if (!y)
			return false;
		if (x == '-' || x == '_')
			x = ' ';
		if (x != y)
			return false;
	}
	return *b == '\0';
}

int ab_severity_parse(const char *s, enum ab_severity *out)
{
	size_t len, i;
	const char *p;

	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	len = strnlen(s, 64);
	if (len >= 64)
		return -1;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return -1;
	for (i = 0; i < ROWS(sev_words); i++) {
		/* the words' first letters differ most: test that one first */
		if (tolower((unsigned char)s[0]) == sev_words[i].word[0] &&
		    word_eq(s, len, sev_words[i].word)) {
			*out = sev_words[i].sev;
			return 0;
		}
	}
	/* bare integer, optionally negative: CEF scale, clamped */
	p = s[0] == '-' ? s + 1 : s;
	if (p == s + len)
		return -1;
	for (; p < s + len; p++)
		if (*p < '0' || *p > '9')
			return -1;
	{
		int v = 0;

		p = s[0] == '-' ? s + 1 : s;
		for (; p < s + len; p++)
			if (v < 1000)
				v = v * 10 + (*p - '0');
		*out = ab_severity_from_scale(AB_SCALE_CEF, s[0] == '-' ? -v : v);
	}
	return 0;
}

const char *ab_severity_name(enum ab_severity s)
{
	return (unsigned)s < AB_SEV_COUNT ? sev_names[s] : "info";
}

int ab_category_parse(const char *s, enum ab_category *out)
{
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < AB_CAT_COUNT; i++) {
		if (strcasecmp(s, cat_names[i]) == 0) {
			*out = (enum ab_category)i;
			return 0;
		}
	}
	return -1;
}

const char *ab_category_name(enum ab_category c)
{
	return (unsigned)c < AB_CAT_COUNT ? cat_names[c] : "security";
}

/* ------------------------------------------------------------ the member table */

#define AB_X(NAME, name, kind, max, dflt, flags) \
	[AB_EVM_##NAME] = { #name, AB_EVK_##kind, offsetof(struct ab_event, name), (max), (dflt), \
			    (flags) },
const struct ab_event_member_def ab_event_member_defs[AB_EVM_COUNT] = { AB_EVENT_MEMBERS(AB_X) };
#undef AB_X
#define AB_X(NAME, name, kind, max, dflt, flags) \
	[AB_ORM_##NAME] = { #name, AB_EVK_##kind, offsetof(struct ab_origin, name), (max), \
			    (dflt), (flags) },
const struct ab_event_member_def ab_origin_member_defs[AB_ORM_COUNT] = {
	AB_ORIGIN_MEMBERS(AB_X)
};
#undef AB_X

/* What the code below assumes of the table: origin holds strings, the
 * sort orders fit an unsigned char. */
#define AB_X(NAME, name, kind, max, dflt, flags) \
	_Static_assert(AB_EVK_##kind == AB_EVK_STR, "origin." #name ": origin holds strings");
AB_ORIGIN_MEMBERS(AB_X)
#undef AB_X
_Static_assert(AB_EVM_COUNT <= 255 && AB_ORM_COUNT <= 255, "too many members");

static void *slot(const void *base, const struct ab_event_member_def *d)
{
	return (char *)(uintptr_t)base + d->off;
}

static int row_find(const struct ab_event_member_def *defs, size_t n, const char *key,
		    unsigned flags)
{
	size_t i;

	for (i = 0; i < n; i++)   /* the first byte rules out most rows */
		if (key[0] == defs[i].key[0] && strcmp(key, defs[i].key) == 0 &&
		    (defs[i].flags & flags) == flags)
			return (int)i;
	return -1;
}

int ab_event_member_find(const char *key, unsigned flags)
{
	return key ? row_find(ab_event_member_defs, AB_EVM_COUNT, key, flags) : -1;
}

char **ab_event_str_member(struct ab_event *ev, enum ab_event_member_id m)
{
	if (!ev || (unsigned)m >= AB_EVM_COUNT || ab_event_member_defs[m].kind != AB_EVK_STR)
		return NULL;
	return slot(ev, &ab_event_member_defs[m]);
}

const char *ab_event_member_text(const struct ab_event *ev, enum ab_event_member_id m,
	char *buf, size_t bufsz)
{
	const struct ab_event_member_def *d;
	const void *p;

	if (!ev || (unsigned)m >= AB_EVM_COUNT)
		return NULL;
	d = &ab_event_member_defs[m];
	p = slot(ev, d);
	switch (d->kind) {
	case AB_EVK_ID:
		return p;
	case AB_EVK_STR:
		return *(char *const *)p;
	case AB_EVK_CATEGORY:
		return ab_category_name(*(const enum ab_category *)p);
	case AB_EVK_SEVERITY:
		return ab_severity_name(*(const enum ab_severity *)p);
	case AB_EVK_INT:
		if (!*(const int *)p || !buf || !bufsz)
			return NULL;
		snprintf(buf, bufsz, "%d", *(const int *)p);
		return buf;
	case AB_EVK_TIME:
		if (!*(const int64_t *)p || !buf || !bufsz)
			return NULL;
		ab_time_format_rfc3339(*(const int64_t *)p, buf, bufsz);
		return buf[0] ? buf : NULL;
	case AB_EVK_ORIGIN:
	case AB_EVK_FIELDS:
		break;
	}
	return NULL;
}

int ab_event_copy_member(struct ab_event *dst, const struct ab_event *src,
	enum ab_event_member_id m)
{
	const struct ab_event_member_def *d;
	const void *from;

	if (!dst || !src || (unsigned)m >= AB_EVM_COUNT)
		return 0;
	d = &ab_event_member_defs[m];
	from = slot(src, d);
	switch (d->kind) {
	case AB_EVK_ID:
		memcpy(slot(dst, d), from, sizeof dst->id);
		return 0;
	case AB_EVK_STR: {
		const char *v = *(char *const *)from;

		return v ? ab_event_set_strn(dst, slot(dst, d), v, strlen(v)) :
			   (ab_event_set_str(dst, slot(dst, d), NULL), 0);
	}
	case AB_EVK_CATEGORY:
		memcpy(slot(dst, d), from, sizeof(enum ab_category));
		return 0;
	case AB_EVK_SEVERITY:
		memcpy(slot(dst, d), from, sizeof(enum ab_severity));
		return 0;
	case AB_EVK_INT:
		memcpy(slot(dst, d), from, sizeof(int));
		return 0;
	case AB_EVK_TIME:
		memcpy(slot(dst, d), from, sizeof(int64_t));
		return 0;
	case AB_EVK_ORIGIN:
	case AB_EVK_FIELDS:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

/* String members in ev's own block (see event.h): s is one of them, not
 * freed on its own. */
static inline bool in_scratch(const struct ab_event *ev, const char *s)
{
	return (uintptr_t)s - (uintptr_t)ev->scratch < sizeof ev->scratch;
}

static inline void str_drop(const struct ab_event *ev, char *s)
{
	if (!in_scratch(ev, s))
		free(s);
}

/* A copy of the n bytes at p and a NUL: in ev's block while it fits, else
 * malloc'd.  NULL when memory ran out. */
static char *str_copy(struct ab_event *ev, const char *p, size_t n)
{
	char *s;

	if (n < sizeof ev->scratch - ev->scratch_used) {
		s = ev->scratch + ev->scratch_used;
		ev->scratch_used += (uint32_t)n + 1;
	} else if (!(s = malloc(n + 1))) {
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/*
 * new and free run for every received line, so they expand the table at
 * compile time: one statement per row, by kind (a loop over the rows cost
 * about 700 instructions per event more, 1.4% of a syslog line).
 * Defaults: the rows' strings, an empty fields object, category security,
 * severity info, a time written always (received_at) is now.
 */

/* A default: malloc'd (heap), or in ev's block (scratch: a renewed event,
 * only ever the listener's, whose members are replaced through the
 * ab_event_set_str family). */
static inline int str_init(struct ab_event *ev, char **m, const char *dflt, bool scratch)
{
	if (!dflt)
		return 0;
	*m = scratch ? str_copy(ev, dflt, strlen(dflt)) : strdup(dflt);
	return *m ? 0 : -1;
}

#define EV_INIT_ID(m, dflt, flags) 0
#define EV_INIT_STR(m, dflt, flags) str_init(ev, &(m), (dflt), scratch)
#define EV_INIT_CATEGORY(m, dflt, flags) ((m) = AB_CAT_SECURITY, 0)
#define EV_INIT_SEVERITY(m, dflt, flags) ((m) = AB_SEV_INFO, 0)
#define EV_INIT_INT(m, dflt, flags) 0
#define EV_INIT_TIME(m, dflt, flags) ((m) = ((flags) & AB_EVF_ALWAYS) ? (at ? *at : ab_now_ms()) : 0, 0)
#define EV_INIT_ORIGIN(m, dflt, flags) origin_init(ev, &(m), scratch)
#define EV_INIT_FIELDS(m, dflt, flags) (((m) = keep ? keep : json_object()) ? 0 : -1)

#define EV_FREE_ID(m)
#define EV_FREE_STR(m) str_drop(ev, m);
#define EV_FREE_CATEGORY(m)
#define EV_FREE_SEVERITY(m)
#define EV_FREE_INT(m)
#define EV_FREE_TIME(m)
#define EV_FREE_ORIGIN(m) origin_free(ev, &(m));
#define EV_FREE_FIELDS(m) json_decref(m);

static int origin_init(struct ab_event *ev, struct ab_origin *o, bool scratch)
{
	int bad = 0;

#define AB_X(NAME, name, kind, max, dflt, flags) bad |= EV_INIT_##kind(o->name, dflt, flags);
	AB_ORIGIN_MEMBERS(AB_X)
#undef AB_X
	return bad;
}

static void origin_free(const struct ab_event *ev, struct ab_origin *o)
{
#define AB_X(NAME, name, kind, max, dflt, flags) EV_FREE_##kind(o->name)
	AB_ORIGIN_MEMBERS(AB_X)
#undef AB_X
}

/* Every member of a zeroed ev to its default; at: the time for
 * received_at, or NULL for now; the fields object keep (an empty one) or a
 * new one; scratch: the default strings in ev's own block.  -1 when memory
 * ran out. */
static int event_init(struct ab_event *ev, const int64_t *at, json_t *keep, bool scratch)
{
	int bad = 0;

#define AB_X(NAME, name, kind, max, dflt, flags) bad |= EV_INIT_##kind(ev->name, dflt, flags);
	AB_EVENT_MEMBERS(AB_X)
#undef AB_X
	return bad;
}

static struct ab_event *event_new(const int64_t *at)
{
	struct ab_event *ev = malloc(sizeof *ev);

	if (!ev)
		return NULL;
	memset(ev, 0, offsetof(struct ab_event, scratch));   /* the block needs no zeroing */
	if (event_init(ev, at, NULL, false)) {
		ab_event_free(ev);
		return NULL;
	}
	return ev;
}

struct ab_event *ab_event_new(void)
{
	return event_new(NULL);
}

struct ab_event *ab_event_new_at(int64_t received_at)
{
	return event_new(&received_at);
}

int ab_event_renew_at(struct ab_event *ev, int64_t received_at)
{
	json_t *keep = ev->fields;

	/* an object that only this event holds (jansson's public refcount) is
	 * emptied and kept; a shared one is left to its other holders */
	if (keep && keep->refcount == 1 && json_object_clear(keep) == 0)
		ev->fields = NULL;
	else
		keep = NULL;
#define AB_X(NAME, name, kind, max, dflt, flags) EV_FREE_##kind(ev->name)
	AB_EVENT_MEMBERS(AB_X)
#undef AB_X
	memset(ev, 0, offsetof(struct ab_event, scratch));
	if (event_init(ev, &received_at, keep, true)) {
		ab_event_free(ev);
		return -1;
	}
	return 0;
}

void ab_event_free(struct ab_event *ev)
{
	if (!ev)
		return;
#define AB_X(NAME, name, kind, max, dflt, flags) EV_FREE_##kind(ev->name)
	AB_EVENT_MEMBERS(AB_X)
#undef AB_X
	free(ev);
}

void ab_event_set_str(struct ab_event *ev, char **member, const char *value)
{
	if (value)
		ab_event_set_strn(ev, member, value, strlen(value));   /* NULL on ENOMEM */
	else
		ab_event_take_str(ev, member, NULL);
}

int ab_event_set_strn(struct ab_event *ev, char **member, const char *p, size_t n)
{
	char *s = str_copy(ev, p, n);   /* before the old value goes: p may be in it */

	ab_event_take_str(ev, member, s);
	return s ? 0 : -1;
}

void ab_event_take_str(struct ab_event *ev, char **member, char *value)
{
	str_drop(ev, *member);
	*member = value;
}

/* ------------------------------------------------------------ to_json */

/* json_string(), but invalid UTF-8 bytes become U+FFFD instead of failing. */
static json_t *json_string_repair(const char *s)
{
	json_t *j = json_string(s);
	size_t n;
	char *buf;

	if (j)
		return j;
	n = strlen(s);
	if (n > SIZE_MAX / 3 - 1 || !(buf = malloc(3 * n + 1)))
		return NULL;
	j = json_stringn(buf, ab_utf8_repair(s, n, buf, false));
	free(buf);
	return j;
}

static int set_str(json_t *obj, const char *key, const char *value)
{
	json_t *v;

	if (!value)
		return 0;
	v = json_string_repair(value);
	if (!v)
		return -1;
	return json_object_set_new(obj, key, v);
}

static int set_time(json_t *obj, const char *key, int64_t ms)
{
	char tbuf[AB_EVENT_TIME_TEXT_MAX];

	ab_time_format_rfc3339(ms, tbuf, sizeof tbuf);
	if (!tbuf[0])
		return -1;
	return json_object_set_new(obj, key, json_string(tbuf));
}

/* One row into obj, unless it is unset (leaves obj as it was). */
static int row_to_json(json_t *obj, const void *base, const struct ab_event_member_def *d)
{
	const void *p = slot(base, d);

	switch (d->kind) {
	case AB_EVK_ID:
		return ((const char *)p)[0] ? set_str(obj, d->key, p) : 0;
	case AB_EVK_STR: {
		const char *v = *(char *const *)p;

		return set_str(obj, d->key, v ? v : d->dflt);
	}
	case AB_EVK_CATEGORY:
		return set_str(obj, d->key, ab_category_name(*(const enum ab_category *)p));
	case AB_EVK_SEVERITY:
		return set_str(obj, d->key, ab_severity_name(*(const enum ab_severity *)p));
	case AB_EVK_INT: {
		int v = *(const int *)p;

		return v ? json_object_set_new(obj, d->key, json_integer(v)) : 0;
	}
	case AB_EVK_TIME: {
		int64_t ms = *(const int64_t *)p;

		return ms || (d->flags & AB_EVF_ALWAYS) ? set_time(obj, d->key, ms) : 0;
	}
	case AB_EVK_ORIGIN: {
		json_t *o = json_object();

		if (!o)
			return -1;
		for (size_t i = 0; i < AB_ORM_COUNT; i++) {
			if (row_to_json(o, p, &ab_origin_member_defs[i]) < 0) {
				json_decref(o);
				return -1;
			}
		}
		return json_object_set_new(obj, d->key, o);
	}
	case AB_EVK_FIELDS: {
		const json_t *f = *(json_t *const *)p;
		json_t *copy = f && json_is_object(f) ? json_deep_copy(f) : json_object();

		return copy ? json_object_set_new(obj, d->key, copy) : -1;
	}
	}
	return -1;
}

json_t *ab_event_to_json(const struct ab_event *ev)
{
	json_t *j;

	if (!ev || !(j = json_object()))
		return NULL;
	for (size_t i = 0; i < AB_EVM_COUNT; i++) {
		if (row_to_json(j, ev, &ab_event_member_defs[i]) < 0) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

/* ------------------------------------------------------------ direct JSON text */

/*
 * The canonical form written straight into a capped buffer, byte for byte
 * what json_dumps(ab_event_to_json(ev), JSON_COMPACT | JSON_SORT_KEYS)
 * gives (jansson's escapes: \" \\ \b \f \n \r \t, other controls as
 * \u00XX, everything else raw UTF-8), without building a jansson tree or
 * deep-copying fields on the hot path (every stored event goes through
 * here).  Reals and values nested deeper than JW_DEPTH_MAX go through
 * jansson itself.  The members come from the table (jw_row, one case per
 * kind), in key order; tests/unit/event/test_event.c holds it to
 * jansson's text (random events, every row) and pins the text and ids.
 *
 * Why it is kept (bench/event_json_bench, 2-core VM, 2026-12-05): an 870-byte
 * event from a CEF line and a 1.3 KB mail finding take 1.7 and 1.0 us here
 * (into the store's reused buffer: no allocation), 10.4 and 21.9 us
 * through to_json + json_dumps (a tree and a deep copy of fields: 125
 * allocations for the CEF event); valgrind counts 18.4k instructions per
 * event here against 146k (7.9x).  Every received line is written twice (the stable id's key,
 * the store), so jansson would add about 20 us to a line that costs 6 us
 * to parse (bench/syslog_parse_bench, CEF) and about 42 us end to end
 * (bench/syslog_tcp.sh, 23.9k lines/s).  Driving it from the member table
 * cost nothing measurable: 18,457 -> 18,424 instructions per event.
 */
#define JW_DEPTH_MAX 32
#define JW_SORT_STACK 64

/* ab_buf_append with the common case (room left) inline. */
static inline int jw_raw(struct ab_buf *b, const char *s, size_t n)
{
	if (b->data && n < b->cap - b->len && n <= b->max - b->len) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return ab_buf_append(b, s, n);
}

static inline int jw_c(struct ab_buf *b, char c)
{
	return jw_raw(b, &c, 1);
}

/* How many leading bytes need no escape and are ASCII: 8 at a time. */
static size_t plain_run(const unsigned char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, q, bs;

		memcpy(&w, s + i, 8);
		q = w ^ (ones * '"');
		bs = w ^ (ones * '\\');
		/* a byte >= 0x80, < 0x20, '"' or '\\' */
		if ((w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & high)
			break;
	}
	if (i < n && i + 8 > n && n >= 8) {  /* the tail: the last 8 bytes, some seen */
		uint64_t w, q, bs;

		memcpy(&w, s + n - 8, 8);
		q = w ^ (ones * '"');
		bs = w ^ (ones * '\\');
		if (!((w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & high))
			return n;
	}
	while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
		i++;
	return i;
}

/*
 * A JSON string from n bytes: jansson's escapes, valid UTF-8 copied raw,
 * each byte of an invalid sequence as U+FFFD (what json_string_repair()
 * stores; field strings are valid already, so they come out as jansson
 * dumps them).  NULs allowed (escaped).
 */
static int jw_str(struct ab_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, from = 0, k;
	char e[6];

	if (jw_c(b, '"') < 0)
		return -1;
	while (i < n) {
		i += plain_run(u + i, n - i);
		if (i >= n)
			break;
		if (u[i] >= 0x80) {
			if ((k = ab_utf8_seq(s + i, n - i))) {
				i += k;
				continue;
			}
			if (jw_raw(b, s + from, i - from) < 0 || jw_raw(b, "\xef\xbf\xbd", 3) < 0)
				return -1;
			from = ++i;
			continue;
		}
		e[0] = '\\';
		e[2] = e[3] = '0';
		k = 2;
		switch (u[i]) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		default:
			e[1] = 'u';
			e[4] = hex[u[i] >> 4];
			e[5] = hex[u[i] & 15];
			k = 6;
			break;
		}
		if (jw_raw(b, s + from, i - from) < 0 || jw_raw(b, e, k) < 0)
			return -1;
		from = ++i;
	}
	if (jw_raw(b, s + from, n - from) < 0)
		return -1;
	return jw_c(b, '"');
}

/* A member string as json_string_repair() would hold it. */
static int jw_member(struct ab_buf *b, const char *s)
{
	return jw_str(b, s, strlen(s));
}

static int jw_int(struct ab_buf *b, long long v)
{
	char t[24];
	size_t i = sizeof t;
	unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		t[--i] = (char)('0' + m % 10);
		m /= 10;
	} while (m);
	if (v < 0)
		t[--i] = '-';
	return jw_raw(b, t + i, sizeof t - i);
}

/* A member of an object being written: its key as a C string (what strcmp
 * and strlen see), the key's first 8 bytes big-endian and zero-padded (so
 * that most comparisons are one integer compare, in strcmp's order). */
struct jw_kv {
	const char *k;
	size_t kn;
	uint64_t pre;
	json_t *v;
};

/* strcmp's sign for two keys, from their prefixes first. */
static inline int jw_kv_order(const struct jw_kv *a, const struct jw_kv *b)
{
	if (a->pre != b->pre)
		return a->pre < b->pre ? -1 : 1;
	if (a->kn < 8 || b->kn < 8)     /* equal up to a NUL both have */
		return 0;
	return strcmp(a->k + 8, b->k + 8);
}

static int jw_kv_cmp(const void *a, const void *b)
{
	return jw_kv_order(a, b);
}

static int jw_value(struct ab_buf *b, json_t *v, int depth);

static int jw_object(struct ab_buf *b, json_t *o, int depth)
{
	struct jw_kv stackv[JW_SORT_STACK], *kv = stackv;
	size_t n = json_object_size(o), i = 0;
	void *it;
	int rc = 0;

	if (n > JW_SORT_STACK && !(kv = malloc(n * sizeof *kv)))
		return -1;
	for (it = json_object_iter(o); it && i < n; it = json_object_iter_next(o, it)) {
		const char *k = json_object_iter_key(it);
		unsigned char pb[8] = { 0 };
		size_t kn = strlen(k);

		memcpy(pb, k, kn < 8 ? kn : 8);
		kv[i].k = k;
		kv[i].kn = kn;
		kv[i].pre = (uint64_t)pb[0] << 56 | (uint64_t)pb[1] << 48 | (uint64_t)pb[2] << 40 |
			    (uint64_t)pb[3] << 32 | (uint64_t)pb[4] << 24 | (uint64_t)pb[5] << 16 |
			    (uint64_t)pb[6] << 8 | pb[7];
		kv[i++].v = json_object_iter_value(it);
	}
	if (i > 24) {
		qsort(kv, i, sizeof *kv, jw_kv_cmp);
	} else {      /* few keys, mostly in order already */
		for (size_t x = 1; x < i; x++) {
			struct jw_kv t = kv[x];
			size_t y = x;

			for (; y > 0 && jw_kv_order(&kv[y - 1], &t) > 0; y--)
				kv[y] = kv[y - 1];
			kv[y] = t;
		}
	}
	rc = jw_c(b, '{');
	for (size_t x = 0; rc == 0 && x < i; x++)
		rc = ((x && jw_c(b, ',') < 0) || jw_str(b, kv[x].k, kv[x].kn) < 0 ||
			jw_c(b, ':') < 0 || jw_value(b, kv[x].v, depth + 1) < 0) ? -1 : 0;
	if (rc == 0)
		rc = jw_c(b, '}');
	if (kv != stackv)
		free(kv);
	return rc;
}

static int jw_value(struct ab_buf *b, json_t *v, int depth)
{
	char *s;
	int rc;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return jw_str(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return jw_int(b, (long long)json_integer_value(v));
	case JSON_TRUE:
		return jw_raw(b, "true", 4);
	case JSON_FALSE:
		return jw_raw(b, "false", 5);
	case JSON_NULL:
		return jw_raw(b, "null", 4);
	case JSON_OBJECT:
		if (depth < JW_DEPTH_MAX)
			return jw_object(b, v, depth);
		break;
	case JSON_ARRAY:
		if (depth < JW_DEPTH_MAX) {
			size_t i, n = json_array_size(v);

			rc = jw_c(b, '[');
			for (i = 0; rc == 0 && i < n; i++)
				rc = ((i && jw_c(b, ',') < 0) ||
					jw_value(b, json_array_get(v, i), depth + 1) < 0) ? -1 : 0;
			return rc == 0 ? jw_c(b, ']') : -1;
		}
		break;
	default:
		break;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!s)
		return -1;
	rc = ab_buf_puts(b, s);
	free(s);
	return rc;
}

/* Each row's key as the text writes it after another member: ,"key": */
struct jw_keytext {
	const char *t;
	size_t n;
};
#define AB_X(NAME, name, kind, max, dflt, flags) \
	[AB_EVM_##NAME] = { ",\"" #name "\":", sizeof(",\"" #name "\":") - 1 },
static const struct jw_keytext ev_keys[AB_EVM_COUNT] = { AB_EVENT_MEMBERS(AB_X) };
#undef AB_X
#define AB_X(NAME, name, kind, max, dflt, flags) \
	[AB_ORM_##NAME] = { ",\"" #name "\":", sizeof(",\"" #name "\":") - 1 },
static const struct jw_keytext or_keys[AB_ORM_COUNT] = { AB_ORIGIN_MEMBERS(AB_X) };
#undef AB_X

/* ,"key": (the first member of an object without the comma) */
static int jw_key(struct ab_buf *b, bool *first, const struct jw_keytext *k)
{
	size_t skip = *first;

	*first = false;
	return jw_raw(b, k->t + skip, k->n - skip);
}

static int jw_opt(struct ab_buf *b, bool *first, const struct jw_keytext *key,
		  const char *value)
{
	if (!value)
		return 0;
	return jw_key(b, first, key) < 0 || jw_member(b, value) < 0 ? -1 : 0;
}

static int jw_time(struct ab_buf *b, bool *first, const struct jw_keytext *key, int64_t ms,
		   bool write)
{
	char tbuf[AB_RFC3339_MAX + 2];
	size_t n = ab_time_format_rfc3339(ms, tbuf + 1, sizeof tbuf - 2);   /* no printf */

	if (!n || n >= sizeof tbuf - 2)
		return -1;
	if (!write)
		return 0;
	tbuf[0] = '"';
	tbuf[n + 1] = '"';
	return jw_key(b, first, key) < 0 || jw_raw(b, tbuf, n + 2) < 0 ? -1 : 0;
}

/* The rows in key order (the text sorts its keys), sorted once. */
static unsigned char ev_order[AB_EVM_COUNT], or_order[AB_ORM_COUNT];
static pthread_once_t order_once = PTHREAD_ONCE_INIT;

static void sort_rows(const struct ab_event_member_def *defs, unsigned char *order, size_t n)
{
	for (size_t x = 0; x < n; x++) {
		size_t y = x;

		for (; y > 0 && strcmp(defs[order[y - 1]].key, defs[x].key) > 0; y--)
			order[y] = order[y - 1];
		order[y] = (unsigned char)x;
	}
}

static void order_init(void)
{
	sort_rows(ab_event_member_defs, ev_order, AB_EVM_COUNT);
	sort_rows(ab_origin_member_defs, or_order, AB_ORM_COUNT);
}

/* Where the key text left out its AB_EVF_NOT_IN_KEY rows: each row, the
 * offset in the buffer where the full text has it, and whether it would
 * have been its object's first member (ab_event_write_json_id). */
#define JW_MARKS_MAX 8
struct jw_marks {
	size_t n;
	struct {
		const void *base;
		const struct ab_event_member_def *d;
		const struct jw_keytext *k;
		size_t off;
		bool first;
	} at[JW_MARKS_MAX];
	bool overflow;
};

/* One row as ,"key":value, or nothing when it is unset.  for_id: the
 * stable id's key, without the AB_EVF_NOT_IN_KEY rows (a time is still
 * checked, so that a time out of range fails the key as it fails the
 * text); mk (may be NULL) records where they were left out. */
static int jw_row(struct ab_buf *b, bool *first, const void *base,
		  const struct ab_event_member_def *d, const struct jw_keytext *k, bool for_id,
		  struct jw_marks *mk)
{
	const void *p = slot(base, d);
	bool out = !(for_id && (d->flags & AB_EVF_NOT_IN_KEY));

	if (!out && mk) {
		if (mk->n < JW_MARKS_MAX) {
			mk->at[mk->n].base = base;
			mk->at[mk->n].d = d;
			mk->at[mk->n].k = k;
			mk->at[mk->n].off = b->len;
			mk->at[mk->n++].first = *first;
		} else {
			mk->overflow = true;
		}
	}

	switch (d->kind) {
	case AB_EVK_ID:
		return out && ((const char *)p)[0] ? jw_opt(b, first, k, p) : 0;
	case AB_EVK_STR: {
		const char *v = *(char *const *)p;

		return out ? jw_opt(b, first, k, v ? v : d->dflt) : 0;
	}
	case AB_EVK_CATEGORY:
		return out ? jw_opt(b, first, k,
				    ab_category_name(*(const enum ab_category *)p)) : 0;
	case AB_EVK_SEVERITY:
		return out ? jw_opt(b, first, k,
				    ab_severity_name(*(const enum ab_severity *)p)) : 0;
	case AB_EVK_INT: {
		int v = *(const int *)p;

		return out && v ? jw_key(b, first, k) | jw_int(b, v) : 0;
	}
	case AB_EVK_TIME: {
		int64_t ms = *(const int64_t *)p;

		return ms || (d->flags & AB_EVF_ALWAYS) ? jw_time(b, first, k, ms, out) : 0;
	}
	case AB_EVK_ORIGIN: {
		bool of = true;
		int bad;

		if (!out)
			return 0;
		bad = jw_key(b, first, k) | jw_c(b, '{');
		for (size_t i = 0; i < AB_ORM_COUNT; i++)
			bad |= jw_row(b, &of, p, &ab_origin_member_defs[or_order[i]],
				      &or_keys[or_order[i]], for_id, mk);
		return bad | jw_c(b, '}');
	}
	case AB_EVK_FIELDS: {
		json_t *f = *(json_t *const *)p;

		if (!out)
			return 0;
		if (jw_key(b, first, k) < 0)
			return -1;
		return f && json_is_object(f) ? jw_object(b, f, 1) : jw_raw(b, "{}", 2);
	}
	}
	return -1;
}

/* for_id: without id and received_at (the stable id's key). */
static int write_json(const struct ab_event *ev, struct ab_buf *b, bool for_id,
		      struct jw_marks *mk)
{
	bool first = true;
	int bad;

	pthread_once(&order_once, order_init);
	bad = jw_c(b, '{');
	for (size_t i = 0; i < AB_EVM_COUNT; i++)
		bad |= jw_row(b, &first, ev, &ab_event_member_defs[ev_order[i]], &ev_keys[ev_order[i]],
			      for_id, mk);
	bad |= jw_c(b, '}');
	return bad ? -1 : 0;
}

int ab_event_write_json(const struct ab_event *ev, struct ab_buf *b)
{
	size_t mark = b->len;

	if (!ev)
		return -1;
	if (write_json(ev, b, false, NULL) < 0) {
		b->len = mark;
		if (b->data)
			b->data[mark] = '\0';
		return -1;
	}
	return 0;
}

/* Back to mark after a failure, as ab_event_write_json leaves b. */
static int jw_undo(struct ab_buf *b, size_t mark)
{
	b->len = mark;
	if (b->data)
		b->data[mark] = '\0';
	return -1;
}

/*
 * The key text is the full text without the rows mk recorded: write those
 * rows (the id now set) and move each into its place, back to front.  -1
 * when it cannot be done this way (a row that would be first in its
 * object, too much text): the caller writes the text again.
 */
static int jw_insert_marked(struct ab_buf *b, const struct jw_marks *mk)
{
	char rows[JW_MARKS_MAX * 96];
	size_t keyend = b->len, pos[JW_MARKS_MAX + 1], total, end, shift;

	if (mk->overflow)
		return -1;
	for (size_t i = 0; i < mk->n; i++) {
		bool first = false;

		if (mk->at[i].first)
			return -1;
		pos[i] = b->len - keyend;
		if (jw_row(b, &first, mk->at[i].base, mk->at[i].d, mk->at[i].k, false, NULL) < 0)
			return -1;
	}
	total = b->len - keyend;
	pos[mk->n] = total;
	if (total > sizeof rows)
		return -1;
	memcpy(rows, b->data + keyend, total);
	end = keyend;
	shift = total;
	for (size_t i = mk->n; i-- > 0;) {
		size_t len = pos[i + 1] - pos[i], off = mk->at[i].off;

		memmove(b->data + off + shift, b->data + off, end - off);
		shift -= len;
		memcpy(b->data + off + shift, rows + pos[i], len);
		end = off;
	}
	return 0;
}

int ab_event_write_json_id(struct ab_event *ev, struct ab_buf *b)
{
	struct jw_marks mk = { 0 };
	size_t mark = b->len;

	if (!ev)
		return -1;
	if (ev->id[0])
		return ab_event_write_json(ev, b);
	if (write_json(ev, b, true, &mk) < 0) {
		jw_undo(b, mark);
		ab_event_ensure_id(ev);         /* its fallback key, as before */
		return ab_event_write_json(ev, b);
	}
	ab_event_compute_id(ev, b->data + mark, b->len - mark);
	if (jw_insert_marked(b, &mk) == 0)
		return 0;
	jw_undo(b, mark);
	return ab_event_write_json(ev, b);
}

char *ab_event_dumps(const struct ab_event *ev)
{
	struct ab_buf b = AB_BUF_INIT(AB_EVENT_JSON_MAX);

	if (!ev || write_json(ev, &b, false, NULL) < 0) {
		ab_buf_free(&b);
		return NULL;
	}
	return ab_buf_steal(&b);
}

/* ------------------------------------------------------------ from_json */

static void seterr(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* A string member: type, NUL and length checks; *out is a new copy.
 * Returns 0, 1 when absent/null (out untouched), -1 on error. */
static int get_str(const json_t *obj, const char *key, const char *where, size_t max,
		   char **out, char *err, size_t errsz)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len;
	char *copy;

	if (!v || json_is_null(v))
		return 1;
	if (!json_is_string(v)) {
		seterr(err, errsz, "member '%s%s': must be a string", where, key);
		return -1;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len) {
		seterr(err, errsz, "member '%s%s': contains a NUL character", where, key);
		return -1;
	}
	if (len > max) {
		seterr(err, errsz, "member '%s%s': longer than %zu bytes", where, key, max);
		return -1;
	}
	copy = strdup(s);
	if (!copy) {
		seterr(err, errsz, "member '%s%s': out of memory", where, key);
		return -1;
	}
	free(*out);
	*out = copy;
	return 0;
}

/* Depth and size of a fields value; containers count one level each. */
static int check_fields(const json_t *v, int depth, size_t *nodes)
{
	const char *k;
	json_t *child;
	size_t i;

	if (++*nodes > AB_FIELDS_MAX_NODES)
		return -1;
	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (depth > AB_FIELDS_MAX_DEPTH)
		return -1;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, k, child)
			if (check_fields(child, depth + 1, nodes) < 0)
				return -1;
	} else {
		json_array_foreach(v, i, child)
			if (check_fields(child, depth + 1, nodes) < 0)
				return -1;
	}
	return 0;
}

/* AB_EVF_TOKEN (origin.kind): a short lowercase word, "mail", "syslog",
 * "cli", ... */
static bool token_valid(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return n > 0 && n <= 32;
}

static int get_time(const json_t *j, const char *key, const char *where, size_t max,
		    int64_t *out, char *err, size_t errsz)
{
	char *s = NULL;
	int r = get_str(j, key, where, max, &s, err, errsz);

	if (r != 0)
		return r;
	r = ab_time_parse_rfc3339(s, out);
	if (r < 0)
		seterr(err, errsz, "member '%s%s': not an RFC 3339 time", where, key);
	free(s);
	return r;
}

/* A member's text (id, category, severity): 0 with *s set, 1 when absent,
 * -1 on error. */
static int get_text(const json_t *obj, const struct ab_event_member_def *d, const char *where,
		    char **s, char *err, size_t errsz)
{
	return get_str(obj, d->key, where, d->max, s, err, errsz);
}

/* One row from obj into base (struct ab_event or struct ab_origin); an
 * absent or null member keeps its default. */
static int row_from_json(const json_t *obj, void *base, const struct ab_event_member_def *d,
			 const char *where, bool take, char *err, size_t errsz)
{
	void *p = slot(base, d);
	const json_t *v;
	const char *k;
	json_t *child;
	char *s = NULL;
	int r = 0;

	switch (d->kind) {
	case AB_EVK_ID:
		r = get_text(obj, d, where, &s, err, errsz);
		if (r == 0 && !ab_event_id_valid(s)) {
			seterr(err, errsz, "member '%s%s': must be %d lowercase hex characters",
			       where, d->key, AB_ID_LEN);
			r = -1;
		} else if (r == 0) {
			ab_strlcpy(p, s, AB_ID_LEN + 1);
		}
		break;
	case AB_EVK_STR:
		r = get_str(obj, d->key, where, d->max, p, err, errsz);
		if (r == 0 && (d->flags & AB_EVF_NONEMPTY) && !**(char **)p) {
			seterr(err, errsz, "member '%s%s': must not be empty", where, d->key);
			r = -1;
		} else if (r == 0 && (d->flags & AB_EVF_TOKEN) && !token_valid(*(char **)p)) {
			seterr(err, errsz, "member '%s%s': must be a lowercase word such as mail,"
			       " syslog or cli", where, d->key);
			r = -1;
		}
		break;
	case AB_EVK_CATEGORY:
		r = get_text(obj, d, where, &s, err, errsz);
		if (r == 0 && ab_category_parse(s, p) < 0) {
			seterr(err, errsz, "member '%s%s': unknown category '%.64s'"
			       " (use security, system or error)", where, d->key, s);
			r = -1;
		}
		break;
	case AB_EVK_SEVERITY:
		r = get_text(obj, d, where, &s, err, errsz);
		if (r == 0 && ab_severity_parse(s, p) < 0) {
			seterr(err, errsz, "member '%s%s': unknown severity '%.64s'"
			       " (use critical, high, medium, low or info)", where, d->key, s);
			r = -1;
		}
		break;
	case AB_EVK_INT:
		v = json_object_get(obj, d->key);
		if (!v || json_is_null(v))
			break;
		if (!json_is_integer(v)) {
			seterr(err, errsz, "member '%s%s': must be an integer", where, d->key);
			r = -1;
		} else if (json_integer_value(v) < 0 || (uintmax_t)json_integer_value(v) > d->max) {
			seterr(err, errsz, "member '%s%s': must be 0..%zu", where, d->key, d->max);
			r = -1;
		} else {
			*(int *)p = (int)json_integer_value(v);
		}
		break;
	case AB_EVK_TIME:
		r = get_time(obj, d->key, where, d->max, p, err, errsz);
		break;
	case AB_EVK_ORIGIN:
		v = json_object_get(obj, d->key);
		if (!v || json_is_null(v))
			break;
		if (!json_is_object(v)) {
			seterr(err, errsz, "member '%s%s': must be an object", where, d->key);
			return -1;
		}
		json_object_foreach((json_t *)(uintptr_t)v, k, child) {
			if (row_find(ab_origin_member_defs, AB_ORM_COUNT, k, 0) < 0) {
				seterr(err, errsz, "unknown member '%s%s.%.64s'", where, d->key, k);
				return -1;
			}
		}
		{
			char sub[32];

			snprintf(sub, sizeof sub, "%s%s.", where, d->key);
			for (size_t i = 0; i < AB_ORM_COUNT && r == 0; i++)
				r = row_from_json(v, p, &ab_origin_member_defs[i], sub, false, err,
						  errsz);
		}
		break;
	case AB_EVK_FIELDS:
		v = json_object_get(obj, d->key);
		if (!v || json_is_null(v))
			break;
		if (!json_is_object(v)) {
			seterr(err, errsz, "member '%s%s': must be an object", where, d->key);
			return -1;
		} else {
			size_t nodes = 0;
			json_t *copy;

			if (check_fields(v, 1, &nodes) < 0) {
				seterr(err, errsz, "member '%s%s': nested deeper than %d or more than"
				       " %d values", where, d->key, AB_FIELDS_MAX_DEPTH,
				       AB_FIELDS_MAX_NODES);
				return -1;
			}
			/* taken: the caller's tree goes, its fields stay */
			copy = take ? json_incref((json_t *)(uintptr_t)v) : json_deep_copy(v);
			if (!copy) {
				seterr(err, errsz, "member '%s%s': out of memory", where, d->key);
				return -1;
			}
			json_decref(*(json_t **)p);
			*(json_t **)p = copy;
		}
		break;
	}
	free(s);
	return r < 0 ? -1 : 0;
}

static struct ab_event *from_json(const json_t *j, bool take, char *err, size_t errsz)
{
	struct ab_event *ev;
	const char *k;
	json_t *child;

	if (err && errsz)
		err[0] = '\0';
	if (!json_is_object(j)) {
		seterr(err, errsz, "event: must be a JSON object");
		return NULL;
	}
	json_object_foreach((json_t *)(uintptr_t)j, k, child) {
		if (ab_event_member_find(k, 0) < 0) {
			seterr(err, errsz, "unknown member '%.64s'", k);
			return NULL;
		}
	}
	ev = ab_event_new();
	if (!ev) {
		seterr(err, errsz, "event: out of memory");
		return NULL;
	}
	for (size_t i = 0; i < AB_EVM_COUNT; i++) {
		if (row_from_json(j, ev, &ab_event_member_defs[i], "", take, err, errsz) < 0) {
			ab_event_free(ev);
			return NULL;
		}
	}
	return ev;
}

struct ab_event *ab_event_from_json(const json_t *j, char *err, size_t errsz)
{
	return from_json(j, false, err, errsz);
}

struct ab_event *ab_event_from_json_take(json_t *j, char *err, size_t errsz)
{
	struct ab_event *ev = from_json(j, true, err, errsz);

	json_decref(j);
	return ev;
}

/* ------------------------------------------------------------ ids */

bool ab_event_id_valid(const char *id)
{
	size_t i;

	if (!id)
		return false;
	for (i = 0; i < AB_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return id[AB_ID_LEN] == '\0';
}

/* SHA-256 fetched once (OpenSSL 3 otherwise looks the algorithm up again
 * in every EVP_DigestInit_ex: a cost on each received syslog line), and per
 * thread one digest context and one buffer for ensure_id's key, kept for
 * the thread's life (a new context per id allocated twice and freed twice:
 * 9% of a syslog line's parse; a new key buffer grew through 4 reallocs). */
#define ID_KEEP_MAX (64u * 1024)     /* a key buffer grown past this is not kept */

struct id_tls {
	EVP_MD_CTX *ctx;
	struct ab_buf key;
};

static EVP_MD *sha256_md;
static pthread_key_t id_tls_key;
static bool id_tls_ok;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void id_tls_free(void *p)
{
	struct id_tls *t = p;

	EVP_MD_CTX_free(t->ctx);
	ab_buf_free(&t->key);
	free(t);
}

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	id_tls_ok = pthread_key_create(&id_tls_key, id_tls_free) == 0;
}

/* This thread's context and key buffer, or NULL (out of memory). */
static struct id_tls *id_tls(void)
{
	struct id_tls *t;

	pthread_once(&sha256_once, sha256_fetch);
	if (!id_tls_ok)
		return NULL;
	t = pthread_getspecific(id_tls_key);
	if (t)
		return t;
	t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	ab_buf_init(&t->key, AB_EVENT_JSON_MAX);
	if (pthread_setspecific(id_tls_key, t) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void ab_event_compute_idv(struct ab_event *ev, const void *const *parts, const size_t *lens,
	size_t n)
{
	static const char prefix[] = "ab1";   /* hashed with its NUL */
	const char *kind = ev->origin.kind ? ev->origin.kind : "";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct id_tls *t = id_tls();
	EVP_MD_CTX *ctx = t ? t->ctx : NULL;
	bool own = false;
	int ok;

	if (!ctx) {     /* the first id of this thread, or no thread storage */
		ctx = EVP_MD_CTX_new();
		if (t)
			t->ctx = ctx;
		else
			own = true;
	}
	ok = ctx && EVP_DigestInit_ex(ctx, sha256_md ? sha256_md : EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, prefix, sizeof prefix) &&
	     EVP_DigestUpdate(ctx, kind, strlen(kind) + 1);
	for (size_t i = 0; ok && i < n; i++)
		ok = lens[i] == 0 || EVP_DigestUpdate(ctx, parts[i], lens[i]);
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= AB_ID_LEN / 2;
	if (own)
		EVP_MD_CTX_free(ctx);
	if (ok)
		ab_hex(md, AB_ID_LEN / 2, ev->id);
	else
		ev->id[0] = '\0';   /* OpenSSL failure (ENOMEM): no id */
}

void ab_event_compute_id(struct ab_event *ev, const void *key, size_t keylen)
{
	ab_event_compute_idv(ev, &key, &keylen, 1);
}

void ab_event_ensure_id(struct ab_event *ev)
{
	struct ab_buf own = AB_BUF_INIT(AB_EVENT_JSON_MAX), *b = &own;
	struct id_tls *t;

	if (!ev || ev->id[0])
		return;
	t = id_tls();
	if (t) {                        /* the thread's buffer, reused */
		b = &t->key;
		ab_buf_reset(b);
	}
	if (write_json(ev, b, true, NULL) == 0)
		ab_event_compute_id(ev, ab_buf_cstr(b), b->len);
	else    /* out of memory: fall back to a key that needs no allocation */
		ab_event_compute_id(ev, ev->title ? ev->title : "",
			ev->title ? strlen(ev->title) : 0);
	if (b == &own || b->cap > ID_KEEP_MAX || b->oom)
		ab_buf_free(b);
}
