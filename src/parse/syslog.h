/*
 * syslog.h - one syslog line -> a view of its parts -> one alertbridge event.
 *
 * RFC 5424 first, then RFC 3164 and its real-world variants; then the MSG
 * part is examined for CEF, LEEF 1.0/2.0, "@cee:" JSON and plain JSON
 * (Wazuh/OSSEC alerts, Suricata EVE, Falco).  Pure functions, no I/O.
 * How RFC 3164 variants are read and how CEF/LEEF header and extension
 * fields are named (cef.name vs cef.ext.name): the header of syslog.c.
 *
 * Two steps.  ab_syslog_scan() reads a line into a struct ab_syslog_view:
 * slices (pointer and length into the line) and small scalars, nothing
 * allocated, nothing copied, nothing unescaped or decoded (syslog_scan.c).
 * ab_syslog_view_event() materializes the event from the view (syslog.c):
 * fields, unescaping, UTF-8 repair, JSON decoding, titles and severities.
 * ab_syslog_parse() is the two in one.
 */
#ifndef AB_PARSE_SYSLOG_H
#define AB_PARSE_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"

/* Longest line parsed; longer input is truncated and the event carries
 * fields."syslog.truncated" = true. */
#define AB_SYSLOG_MAX_LINE (64 * 1024)
/* Longest title (bytes, cut on a UTF-8 boundary). */
#define AB_SYSLOG_MAX_TITLE 256
/* Most key=value pairs taken from one CEF/LEEF extension or JSON object
 * (with RFC 5424 SD params: the event's variable fields together). */
#define AB_SYSLOG_MAX_FIELDS 128

/* How a slice's text is unescaped (ab_syslog_unescape); a slice is marked
 * only when it holds a backslash. */
enum ab_syslog_esc {
	AB_SYSLOG_ESC_NONE = 0,
	AB_SYSLOG_ESC_CEF,       /* CEF extension value: \\ \= \| \: and \n \r */
	AB_SYSLOG_ESC_HDR,       /* CEF/LEEF header field: \| \\ */
	AB_SYSLOG_ESC_SD,        /* RFC 5424 SD-PARAM value: \" \\ \] */
};

/* Bytes [p, p + n) of the scanned line, raw; p is NULL when the part is
 * absent (a part that is present may be empty).  esc says whether and how
 * the text is unescaped before use. */
struct ab_syslog_slice {
	const char *p;
	uint32_t n;
	uint32_t esc;            /* enum ab_syslog_esc */
};

enum ab_syslog_format {
	AB_SYSLOG_RFC3164 = 0,   /* also everything that is not RFC 5424 */
	AB_SYSLOG_RFC5424,
};

/* What the MSG carries.  CEE and JSON are candidates: MSG opens with
 * "@cee:" or '{'; the text is decoded only by ab_syslog_view_event(), and
 * a text that is no JSON object makes a plain message there. */
enum ab_syslog_payload {
	AB_SYSLOG_PLAIN = 0,
	AB_SYSLOG_CEF,
	AB_SYSLOG_LEEF,
	AB_SYSLOG_CEE,
	AB_SYSLOG_JSON,
};

/* flags of a view */
#define AB_SYSLOG_V_TRUNCATED  0x01u  /* the line was cut to AB_SYSLOG_MAX_LINE */
#define AB_SYSLOG_V_HIGH       0x02u  /* it has bytes >= 0x80 (valid UTF-8 or not) */
#define AB_SYSLOG_V_NUL        0x04u  /* it has NUL bytes */
#define AB_SYSLOG_V_NO_PRI     0x08u  /* no PRI: pri is 13 (user.notice, RFC 3164 4.3.3) */
#define AB_SYSLOG_V_SD_INVALID 0x10u  /* RFC 5424 with unreadable SD (kept in MSG) */
#define AB_SYSLOG_V_KV_MORE    0x20u  /* more pairs than kv[] holds (the rest dropped) */
#define AB_SYSLOG_V_LABELS     0x40u  /* a CEF extension with "Label=" (cs1Label=...) */

/* One CEF extension / LEEF attribute; the key is never escaped. */
struct ab_syslog_kv {
	struct ab_syslog_slice key, value;
};

/*
 * A scanned line.  Slices point into the line given to ab_syslog_scan(),
 * which must outlive the view.  Text is raw: a line with AB_SYSLOG_V_HIGH
 * or AB_SYSLOG_V_NUL may hold invalid UTF-8 or NUL bytes in its slices.
 * ab_syslog_view_event() validates only such a line; when it is not valid
 * UTF-8 without NUL, it repairs a copy (U+FFFD for each bad byte and NUL)
 * and scans that again, so the event is built from valid text as before.
 * Clean ASCII (neither flag) is materialized without any UTF-8 check.
 * Reading a view costs nothing: routing can look at the slices and build
 * the event only for lines that go somewhere.
 */
struct ab_syslog_view {
	const char *line;        /* the line as scanned: cut to AB_SYSLOG_MAX_LINE,
				  * trailing CR, LF and NUL bytes dropped */
	size_t len;
	int64_t now_ms;          /* receive time given to the scan */
	unsigned flags;          /* AB_SYSLOG_V_ */
	const char *listener;    /* set by the caller after the scan (NULL: none): its
				  * name becomes fields "syslog.listener", a header field */
	int pri;                 /* 0..191 (facility pri / 8, severity pri % 8) */
	enum ab_syslog_format format;
	enum ab_syslog_payload payload;
	int64_t ts;              /* header TIMESTAMP, ms since the epoch; 0 = none */
	int64_t payload_ts;      /* CEF rt= / LEEF devTime=, ms; 0 = none */
	/* header: TAG (app, "[pid]" procid) for RFC 3164 */
	struct ab_syslog_slice host, app, procid, msgid;
	/* RFC 5424 STRUCTURED-DATA, validated, "[...]..." (NULL for "-" and when
	 * unreadable); its params through ab_syslog_sd_next() */
	struct ab_syslog_slice sd;
	/* MSG: after the RFC 5424 BOM, after the RFC 3164 TAG; a CEF/LEEF
	 * payload glued to the header ("hostCEF:0|") starts here at "CEF:" */
	struct ab_syslog_slice msg;
	/* the payload text: from "CEF:" / "LEEF:"; the JSON text (after "@cee:") */
	struct ab_syslog_slice body;
	/* CEF: Version, Device Vendor, Device Product, Device Version,
	 * Signature ID, Name, Severity.  LEEF: Version, Vendor, Product,
	 * Version, EventID (hdr[5], hdr[6] absent).  Version without leading
	 * blanks. */
	struct ab_syslog_slice hdr[7];
	/* extension values read on the way, also beyond kv[]'s capacity: the
	 * last msg= (else the first message=), the last sev= (else the first
	 * severity=), the last dhost= and dst= */
	struct ab_syslog_slice kv_msg, kv_sev, kv_asset, kv_asset2;
	int nkv;
	struct ab_syslog_kv kv[AB_SYSLOG_MAX_FIELDS];   /* in line order */
};

/*
 * Scan len bytes at line (no terminator needed) into v.  now_ms is the
 * receive time: it picks the year of an RFC 3164 timestamp (the one
 * nearest to now) and becomes the event's received_at.  Never allocates;
 * touches only the first v->nkv entries of v->kv.  Every line scans: what
 * is not RFC 5424 is RFC 3164 (with or without a header).
 * Returns 0, or -1 when line or v is NULL.
 */
int ab_syslog_scan(const char *line, size_t len, int64_t now_ms, struct ab_syslog_view *v);
/* How much of line (len bytes) the scan reads: at most AB_SYSLOG_MAX_LINE
 * bytes, without a trailing CR, LF or NUL. */
size_t ab_syslog_line_len(const char *line, size_t len);

/* Flags of ab_syslog_view_event and ab_syslog_parse_ex. */
#define AB_SYSLOG_ID_LATER 1u   /* leave ev->id empty: the caller sets it with
				   ab_syslog_event_id (the same id) if it keeps the
				   event, and saves the hash for lines it drops */
#define AB_SYSLOG_FIELDS_LATER 2u /* leave out the fields of the line's structured
				   parts (RFC 5424 SD params, CEF/LEEF header and
				   extension fields): a caller that may drop the line
				   on its members alone (routing) adds them with
				   ab_syslog_view_fields only if it keeps it */
#define AB_SYSLOG_HEADER_LATER 4u /* with AB_SYSLOG_FIELDS_LATER: the header's fields
				   too (syslog.facility, .severity, .format, .appname,
				   .procid, .msgid, .payload), for a caller that reads
				   none of them before it keeps the line */

/*
 * The event of a scanned line into ev (created with ab_event_new()).
 * peer_host (may be NULL) is used for origin.host when the line names no
 * host, and goes into the id (with the raw line).  Returns 0, or -1 with a
 * message in err when memory runs out or an argument is NULL.
 */
int ab_syslog_view_event(const struct ab_syslog_view *v, const char *peer_host,
			 unsigned flags, struct ab_event *ev, char *err, size_t errsz);
/*
 * With AB_SYSLOG_FIELDS_LATER, ab_syslog_view_event returns 1 when it left
 * those fields out (0: the event is whole: a JSON payload, whose decoding
 * makes members and fields together, or a line read from a repaired copy).
 * The members are complete either way.  ab_syslog_view_fields(v, ev) adds
 * them, with the same view (its line still alive): ev->fields then holds
 * the same keys and values as without the flag (in another order, which
 * the canonical JSON does not show: it sorts them), and the fields set on
 * the event in between are kept.  Returns 0, or -1 when memory runs out
 * (some may have been added: the caller drops the event).
 */
int ab_syslog_view_fields(const struct ab_syslog_view *v, struct ab_event *ev);
/*
 * One payload field of a view that ab_syslog_view_fields would make, read
 * from the view without making any: "cef.*" or "leef.*" of a CEF or LEEF
 * line (v as ab_syslog_view_event left its fields out: valid UTF-8, no
 * NUL).  1: *out is its text, NUL-terminated (in buf when it had to be
 * unescaped or terminated); 0: the fields would not have the key; -1: the
 * view cannot tell (another key, "cef.label.*" of a line with labels, an
 * RFC 5424 line with structured data, a value longer than bufsz - 1): make
 * the fields to know.
 */
int ab_syslog_view_field(const struct ab_syslog_view *v, const char *key, char *buf,
	size_t bufsz, const char **out);
/* May ab_syslog_view_field give key ("cef.*", "leef.*")? */
bool ab_syslog_view_gives(const char *key);
/* Is key (a name in fields) one that AB_SYSLOG_FIELDS_LATER (with
 * AB_SYSLOG_HEADER_LATER) may leave out: "sd.*", "cef.*", "leef.*",
 * "syslog.sd_invalid" and the header's syslog.* fields? */
bool ab_syslog_later_key(const char *key);

/* The id of the event of line (len bytes, as given to ab_syslog_parse) from
 * peer_host (may be NULL): what ab_syslog_parse gives it. */
void ab_syslog_event_id(struct ab_event *ev, const char *line, size_t len,
	const char *peer_host);

/*
 * Fill ev (created by the caller with ab_event_new()) from one line of
 * len bytes (no terminator needed; a trailing CR/LF is ignored): scan and
 * materialize.  peer_host and now_ms as above.
 *
 * Every line becomes an event: malformed input falls back to a plain
 * "syslog.message".  Invalid UTF-8 and NUL bytes are replaced by U+FFFD.
 * Returns 0, or -1 with a message in err only when memory runs out or an
 * argument is NULL.
 */
int ab_syslog_parse(const char *line, size_t len, const char *peer_host, int64_t now_ms,
		    struct ab_event *ev, char *err, size_t errsz);
/* The same with flags (AB_SYSLOG_ID_LATER). */
int ab_syslog_parse_ex(const char *line, size_t len, const char *peer_host, int64_t now_ms,
		       unsigned flags, struct ab_event *ev, char *err, size_t errsz);

/* The text of s, unescaped as s.esc says, into out (room for s.n bytes;
 * the result is never longer).  Returns its length. */
size_t ab_syslog_unescape(struct ab_syslog_slice s, char *out);

/* The SD-PARAMs of v->sd in order: start with it zeroed, then each call
 * gives the next SD-ID, PARAM-NAME and value (value.esc AB_SYSLOG_ESC_SD
 * when it holds a backslash); false at the end. */
struct ab_syslog_sd_iter {
	const char *p, *end;
	struct ab_syslog_slice id;
};
bool ab_syslog_sd_next(const struct ab_syslog_view *v, struct ab_syslog_sd_iter *it,
		       struct ab_syslog_slice *id, struct ab_syslog_slice *name,
		       struct ab_syslog_slice *value);

#endif
