/*
 * event_members.h - the one table of the event's members (an X-macro).
 *
 * Everything that knows the members reads them from here: event.h
 * declares struct ab_event and struct ab_origin from it; event.c writes
 * (to_json, the canonical text, the stable id's key), reads (from_json,
 * with its checks and caps), creates and frees events from it; routing
 * looks members up by name through ab_event_member_find() (route.c,
 * AB_EVF_ROUTE) and profiles take their targets from it (parse/profile.c,
 * AB_EVF_PROFILE).  A new member is one row here; a new kind is one
 * AB_EVK_ value, its C declaration below and its cases in event.c.
 *
 * X(NAME, name, kind, max, dflt, flags), in canonical order (doc/DESIGN.md,
 * the key order of ab_event_to_json(); the canonical text sorts its keys
 * by itself):
 *   NAME   the row's index AB_EVM_NAME (AB_ORM_NAME for origin's rows)
 *   name   the C member, which is also the JSON key
 *   kind   AB_EVK_...: the C type and the JSON form (see below)
 *   max    what from_json() takes at most: bytes of a string (ID, STR,
 *          CATEGORY, SEVERITY, TIME text), the largest value of an INT
 *   dflt   a STR member's default (never unset, always written), or NULL
 *   flags  AB_EVF_...
 */
#ifndef AB_EVENT_MEMBERS_H
#define AB_EVENT_MEMBERS_H

#define AB_EVENT_PRIORITY_MAX 999  /* priority 1 (highest) .. 999; 0 = unset */
#define AB_EVENT_TIME_TEXT_MAX 64  /* bytes of an RFC 3339 time in JSON */

/* The kinds: the C declaration of a member of each (AB_EVK_DECL_kind) and,
 * in event.c, one case each in to_json, the canonical text and from_json. */
enum ab_ev_kind {
	AB_EVK_ID,        /* char[AB_ID_LEN + 1]: 32 lowercase hex, "" = unset */
	AB_EVK_STR,       /* char *, NULL = unset; invalid UTF-8 written as U+FFFD */
	AB_EVK_CATEGORY,  /* enum ab_category, written as its name */
	AB_EVK_SEVERITY,  /* enum ab_severity, written as its name */
	AB_EVK_INT,       /* int, 0 = unset; 0..max */
	AB_EVK_TIME,      /* int64_t ms since epoch, 0 = unset; RFC 3339 text */
	AB_EVK_ORIGIN,    /* struct ab_origin: an object of AB_ORIGIN_MEMBERS */
	AB_EVK_FIELDS,    /* json_t * object, owned, never NULL */
};
#define AB_EVK_DECL_ID(n) char n[AB_ID_LEN + 1]
#define AB_EVK_DECL_STR(n) char *n
#define AB_EVK_DECL_CATEGORY(n) enum ab_category n
#define AB_EVK_DECL_SEVERITY(n) enum ab_severity n
#define AB_EVK_DECL_INT(n) int n
#define AB_EVK_DECL_TIME(n) int64_t n
#define AB_EVK_DECL_ORIGIN(n) struct ab_origin n
#define AB_EVK_DECL_FIELDS(n) json_t *n

#define AB_EVF_ALWAYS     0x01u  /* written even when unset (a TIME: received_at) */
#define AB_EVF_NOT_IN_KEY 0x02u  /* left out of the stable id's key (ab_event_ensure_id) */
#define AB_EVF_NONEMPTY   0x04u  /* from_json refuses "" */
#define AB_EVF_TOKEN      0x08u  /* from_json takes a lowercase word of 1..32 [a-z0-9_-] */
#define AB_EVF_ROUTE      0x10u  /* rules, group_by, throttle_key may name it */
#define AB_EVF_PROFILE    0x20u  /* a profile extractor or value map may set it */

#define AB_EVF_RP (AB_EVF_ROUTE | AB_EVF_PROFILE)

/* clang-format off */
#define AB_EVENT_MEMBERS(X) \
	X(ID,          id,          ID,       256,                  NULL,   AB_EVF_NOT_IN_KEY | AB_EVF_ROUTE) \
	X(TYPE,        type,        STR,      AB_EVENT_STR_MAX,     "event.generic", \
								      AB_EVF_NONEMPTY | AB_EVF_RP) \
	X(CATEGORY,    category,    CATEGORY, 64,                   NULL,   AB_EVF_RP) \
	X(SEVERITY,    severity,    SEVERITY, 64,                   NULL,   AB_EVF_RP) \
	X(SOURCE,      source,      STR,      AB_EVENT_STR_MAX,     NULL,   AB_EVF_RP) \
	X(TOOL,        tool,        STR,      AB_EVENT_STR_MAX,     NULL,   AB_EVF_RP) \
	X(TITLE,       title,       STR,      AB_EVENT_TITLE_MAX,   NULL,   AB_EVF_RP) \
	X(SUMMARY,     summary,     STR,      AB_EVENT_SUMMARY_MAX, NULL,   AB_EVF_RP) \
	X(URL,         url,         STR,      AB_EVENT_URL_MAX,     NULL,   AB_EVF_RP) \
	X(ASSET,       asset,       STR,      AB_EVENT_STR_MAX,     NULL,   AB_EVF_RP) \
	X(TEAM,        team,        STR,      AB_EVENT_STR_MAX,     NULL,   AB_EVF_RP) \
	X(STATUS,      status,      STR,      AB_EVENT_STR_MAX,     NULL,   AB_EVF_RP) \
	X(PRIORITY,    priority,    INT,      AB_EVENT_PRIORITY_MAX, NULL,  AB_EVF_RP) \
	X(FINGERPRINT, fingerprint, STR,      AB_EVENT_STR_MAX,     NULL,   AB_EVF_RP) \
	X(OCCURRED_AT, occurred_at, TIME,     AB_EVENT_TIME_TEXT_MAX, NULL, AB_EVF_PROFILE) \
	X(RECEIVED_AT, received_at, TIME,     AB_EVENT_TIME_TEXT_MAX, NULL, \
								      AB_EVF_ALWAYS | AB_EVF_NOT_IN_KEY) \
	X(ORIGIN,      origin,      ORIGIN,   0,                    NULL,   0) \
	X(FIELDS,      fields,      FIELDS,   0,                    NULL,   0)

/* The members of origin: where the event came from (STR rows only). */
#define AB_ORIGIN_MEMBERS(X) \
	X(KIND,        kind,        STR,      AB_EVENT_STR_MAX,     "cli",  AB_EVF_TOKEN) \
	X(MESSAGE_ID,  message_id,  STR,      AB_EVENT_STR_MAX,     NULL,   0) \
	X(FROM,        from,        STR,      AB_EVENT_STR_MAX,     NULL,   0) \
	X(HOST,        host,        STR,      AB_EVENT_STR_MAX,     NULL,   0)
/* clang-format on */

#endif
