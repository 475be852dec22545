/*
 * profile.h - parser profiles: an ordered list of extractors that turn a
 * parsed mail (or a syslog message text) into event fields.
 *
 * A profile is data (conf/profiles.d/NAME.conf, built by config_mail.c).
 * Extractors run in order; the FIRST extractor that yields a value for a
 * target wins, so put the most trusted source first (X-Alert-* headers).
 * Then value maps rewrite the raw values (tool words -> our severity),
 * then "fallback" constants fill targets still unset, then the built-in
 * defaults (subject -> title, text -> summary, Date -> occurred_at,
 * severity words in the subject, first link -> url).
 *
 * Targets: type category severity source tool title summary url asset team
 * status priority fingerprint occurred_at, and "fields.NAME" for extra
 * key/values.  "severity@SCALE" reads a number (or Nagios state word) on
 * a tool's scale (ab_sev_scale_parse: syslog, cef, leef, wazuh, nagios,
 * suricata, guardduty, cvss, ...).
 *
 * An extractor with "all" offers every match (regex) or every element of
 * a "[*]" path (json): the highest severity among them wins (a report takes
 * its worst result); other targets keep the first value.
 *
 * Detection (detect.h) picks a profile for input that no source pins; its
 * alternatives live here, compiled with the profile.
 */
#ifndef AB_PARSE_PROFILE_H
#define AB_PARSE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/regex.h"
#include "event/event.h"

struct ab_mail;

#define AB_PROFILE_MAX_VALUE  4096    /* bytes kept of one extracted value */
#define AB_PROFILE_MAX_SUMMARY 2000   /* bytes of text used as the default summary */
#define AB_PROFILE_MAX_JSON_DEPTH 32  /* jansson decode depth */
#define AB_PROFILE_MAX_XML   (4u * 1024 * 1024)  /* XML document bytes parsed */
#define AB_PROFILE_MAX_FIELDS 64      /* fields.* targets per event */

enum ab_ext_kind {
	AB_EXT_HEADERS = 0,  /* X-Alert-<Target> headers (prefix configurable) */
	AB_EXT_JSON,         /* JSON body or attachment: path -> target */
	AB_EXT_XML,          /* XML body or attachment: XPath -> target */
	AB_EXT_KV,           /* "Key: value" lines of the text: key -> target */
	AB_EXT_REGEX,        /* PCRE2 named groups over subject or text */
	AB_EXT_HEADER_MAP,   /* any header: header name -> target */
	AB_EXT_FIELDS,       /* syslog: event field set by the parser -> target */
};

/* Where a JSON/XML/regex extractor looks. */
enum ab_ext_where {
	AB_WHERE_ANY = 0,     /* JSON/XML: body, then attachments; regex: subject then text */
	AB_WHERE_BODY,
	AB_WHERE_ATTACHMENT,
	AB_WHERE_SUBJECT,
	AB_WHERE_TEXT,
	AB_WHERE_LINKS,       /* regex: each link of the mail (HTML first) until one matches */
	AB_WHERE_FIELD,       /* regex, syslog: the text of one event field (x->field) */
};

/* A target as read once, when the profile is prepared (ab_profile_prepare),
 * instead of for every value offered. */
struct ab_target {
	const char *name;   /* its text: "severity@cef", "fields.src_ip" */
	int member;         /* AB_EVM_..., AB_EVM_COUNT for fields.NAME, -1: no target */
	int scale;          /* severity@SCALE: enum ab_sev_scale; -1: words */
	const char *field;  /* fields.NAME: NAME, inside name */
};

struct ab_ext_map {
	char *from;     /* JSON path (a.b[0].c), XPath, key, header name */
	char *target;   /* see the targets above */
	struct ab_target tg;   /* target, read */
	bool unscanned; /* a "fields" map's key that a syslog line's scan cannot give
			   when its fields are left for later (ab_profile_prepare) */
};

/* A named group of an extractor's regex and the target it offers to
 * ("fields_X" -> fields.X, "severity_wazuh" -> severity@wazuh). */
struct ab_re_group {
	unsigned g;              /* group number */
	char text[96];           /* the target's text */
	struct ab_target tg;
};

struct ab_extractor {
	enum ab_ext_kind kind;
	enum ab_ext_where where;
	char *attachment;            /* filename glob for attachments (NULL = any) */
	char *field;                 /* regex over this event field (syslog) */
	bool field_unscanned;        /* the same for field (ab_profile_prepare) */
	char *prefix;                /* headers: default "X-Alert-" */
	char *separator;             /* kv: default ":" */
	struct ab_ext_map *maps;
	size_t n_maps;
	char **ns;                   /* xml: "prefix=uri" namespace bindings */
	size_t n_ns;
	struct ab_regex *re;         /* regex (compiled) */
	struct ab_re_group *groups;  /* its named groups, in name order */
	unsigned n_groups;
	char *pattern;
	bool all;                    /* every match / every [*] element */
};

/* "Name: regex" condition (header or event field); re NULL = present. */
struct ab_detect_kv {
	char *name;
	struct ab_regex *re;
	char *pattern;
};

/* One detect alternative: every condition set must hold. */
struct ab_detect_alt {
	bool syslog;                 /* syslog conditions (else mail) */
	int score;                   /* number of conditions */
	int file_line;               /* where it is written */
	/* mail */
	char **from;                 /* globs on the From address */
	size_t n_from;
	struct ab_regex *subject, *body;
	char *subject_pat, *body_pat;
	struct ab_detect_kv *header;
	size_t n_header;
	char **attachment;           /* globs on content type or file name */
	size_t n_attachment;
	/* syslog */
	char **app;                  /* globs on APP-NAME / tag */
	size_t n_app;
	struct ab_regex *message;
	char *message_pat;
	char **payload;              /* cef, leef, json, cee, none */
	size_t n_payload;
	struct ab_detect_kv *field;
	size_t n_field;
};

/* A value map: when target's raw value matches one of match[] (globs,
 * case-insensitive), it becomes value. */
struct ab_value_map {
	char *target;
	char **match;
	size_t n_match;
	char *value;
	struct ab_target tg;         /* target, read */
};

struct ab_profile {
	char *name;
	char *file;                  /* where it is defined (for explain) */
	int line;
	struct ab_extractor *ext;
	size_t n_ext;
	struct ab_value_map *maps;
	size_t n_maps;
	struct ab_ext_map *fallback; /* target -> constant (from = the constant) */
	size_t n_fallback;
	bool defaults;               /* run the built-in defaults (default true) */
	bool fallback_fields;        /* a fallback's template reads {fields.NAME}
				      * (ab_profile_prepare) */
	char *description;           /* one line for `alertbridge profiles` */
	char *reference;             /* where the tool's format was read */
	int priority;                /* detection order: higher first */
	char **ignore_links;         /* globs: links the default url skips ("*": none) */
	size_t n_ignore_links;
	struct ab_detect_alt *detect;
	size_t n_detect;
};

/* Is name a valid target?  (see above) */
bool ab_profile_target_ok(const char *name);

/* Read the targets of p's extractor maps, value maps and fallbacks once
 * (struct ab_target); the loader calls it when p is complete, before any
 * ab_profile_apply_*.  Targets were checked when loaded: one that does not
 * read is skipped when applied. */
void ab_profile_prepare(struct ab_profile *p);

/* Compile a PCRE2 pattern for an extractor: named groups must be targets
 * ("fields_NAME" groups go to fields.NAME).  0, or -1 with err set. */
int ab_profile_compile_regex(struct ab_extractor *x, const char *pattern, char *err, size_t errsz);

/* Compile a pattern of a profile or a detect block: lib/regex.h's standard
 * options plus multiline.  Returns a struct ab_regex * (match it with
 * ab_regex_match, free it with ab_regex_free), or NULL with "bad regex at
 * offset N: ..." in err. */
struct ab_regex *ab_profile_regex(const char *pattern, char *err, size_t errsz);

void ab_profile_free(struct ab_profile *p);   /* members and p itself */

/*
 * Apply profile p (NULL = the built-in defaults only) to a parsed mail,
 * filling ev (created by the caller; origin.kind etc. are left to it).
 * trace (may be NULL) gets one line per extractor and per value taken,
 * for `alertbridge explain`.  Returns 0, or -1 when memory ran out.
 * Bad JSON/XML in the mail is not an error: that extractor yields nothing
 * and the trace says why.
 */
int ab_profile_apply_mail(const struct ab_profile *p, const struct ab_mail *m,
	struct ab_event *ev, struct ab_buf *trace);

/*
 * The same over a plain message (syslog MSG, a line of text): subject may
 * be NULL; text is UTF-8.  Header extractors see nothing; JSON/XML
 * extractors look at the text as a body.  Only targets the profile yields
 * are changed (defaults: title from subject when set, summary from text).
 */
int ab_profile_apply_text(const struct ab_profile *p, const char *subject, const char *text,
	struct ab_event *ev, struct ab_buf *trace);

/* A syslog event's MSG text through profile p: ab_profile_apply_text over
 * ev->summary, with "fields" extractors reading ev->fields. */
int ab_profile_apply_syslog(const struct ab_profile *p, struct ab_event *ev, struct ab_buf *trace);

/* For routing before the profile is applied (the syslog listener): the
 * members in `members` (bits 1 << AB_EVM_...) as ab_profile_apply_syslog
 * would leave them, into out (a new or renewed event), ev unchanged.  out
 * gets ev's values of those members, then the profile's: its extractors,
 * value maps, fallbacks and defaults run as in a whole application but
 * take only those targets (and fields.NAME when a fallback's template
 * reads one), so each comes out the same.  out's fields are left alone.
 * later: NULL, or the line's scan when ev's payload fields were left out
 * (AB_SYSLOG_FIELDS_LATER): those read are taken from it
 * (ab_syslog_view_field).  0, or -1 when memory ran out or a field left
 * out could not be read from the line (then make the fields and apply the
 * profile whole). */
struct ab_syslog_view;
int ab_profile_syslog_members(const struct ab_profile *p, const struct ab_event *ev,
	const struct ab_syslog_view *later, uint64_t members, struct ab_event *out);
/* Does working out `members` that way read a key of the event's fields
 * that AB_SYSLOG_FIELDS_LATER may leave out and the line's scan cannot give
 * (ab_syslog_view_field: it gives "cef.*" and "leef.*"), so that the
 * fields must be made first? */
bool ab_profile_syslog_reads_unscanned(const struct ab_profile *p, uint64_t members);

#endif
