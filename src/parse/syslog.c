/*
 * syslog.c - the syslog parser chain: one line -> one alertbridge event.
 *
 * Order: PRI; RFC 5424 (VERSION 1, TIMESTAMP or "-", NILVALUEs, structured
 * data -> fields "sd.ID.param", BOM stripped from MSG); else RFC 3164 and
 * its real-world variants (below).  Then the MSG part: CEF, LEEF 1.0/2.0,
 * "@cee:" JSON, plain JSON (Wazuh/OSSEC alerts, Suricata EVE, Falco,
 * anything else as "json.*" fields).  Anything else is a plain
 * "syslog.message".
 *
 * RFC 3164 is read as rsyslog's pmrfc3164 (with its default options)
 * reads it:
 *  - blanks after the PRI are skipped ("<167> Mar  7 ..."; rsyslog skips
 *    one, for HP ProCurve); text that opens with '{' or '[' has no header;
 *  - TIMESTAMP: RFC 3339, else "Mmm dd hh:mm:ss" with a space-padded or
 *    one-digit day, ".fff", a year before the month ("2023 Mar  7",
 *    Brocade) or between day and time ("Mar  7 2023 19:06:53", Cisco), a
 *    ':' after it (Cisco).  Without a year: the latest year that puts it
 *    at most 31 days after now (a log line is from the past, give or take
 *    the sender's clock).  A day past the end of its month is no
 *    timestamp.  Zone-less times are UTC;
 *  - HOSTNAME: the word after the timestamp, when it is letters, digits,
 *    '.', '_', '-', ends in a letter or digit and is followed by SP or the
 *    end of the line: so a lone word after the timestamp is a host;
 *  - TAG: up to ':' or SP; "tag[pid]" gives the procid; the ':' and one SP
 *    after the TAG are not part of MSG.
 * Where we differ, on purpose:
 *  - an IPv6 address is a HOSTNAME too (rsyslog stops at its first ':');
 *  - after the timestamp, rsyslog takes the next word as the TAG whatever
 *    it is.  We take a word ended by SP only when it is a program name (a
 *    letter or '_', then letters, digits, "_.-/", at most 32, RFC 3164's
 *    limit), and never a word with '=' (FortiGate / auditd key=value
 *    lines), a Cisco "%FAC-SEV-MNEMONIC:" (its message ID: kept in MSG,
 *    the same with or without a device-id host "asa01 : %ASA-..."), or a
 *    PAN-OS "1,2024/03/07 ..." CSV record: those lines have no TAG, and
 *    taking a piece of the record as a TAG cuts the alert text that
 *    profiles and titles read.  "name   [pid]:" (fail2ban) is one TAG;
 *  - with no timestamp there is no header to read a HOSTNAME from, so we
 *    take only a "tag:" or "tag[pid]:" TAG (rsyslog would read the first
 *    two words of "<13>disk 3 failed" as host and TAG).
 *
 * CEF and LEEF (as Elastic's decode_cef and the common CEF decoders read
 * them): "CEF:" / "LEEF:" followed by a version and '|' is found anywhere
 * in MSG, also right after other text or glued to the header ("host
 * CEF:0|", "hostCEF:0|", "<134>CEF:0|"); what precedes it is not part of
 * the payload.  Header fields are cef.version, cef.vendor, cef.product,
 * cef.device_version, cef.signature_id, cef.name, cef.severity (LEEF:
 * leef.version, leef.vendor, leef.product, leef.product_version,
 * leef.event_id).  Extension keys (a letter, digit or '_' first, then
 * also '.', ',', '-', '[', ']') become "cef.KEY" / "leef.KEY", except a KEY
 * named like a header field or beginning with "ext.": "cef.ext.KEY".  So
 * an extension never overwrites the header, and title and severity come
 * from the header (CEF Name and Severity, LEEF EventID and sev on the LEEF
 * scale).  Extension values run to the SP before the next key: they keep
 * spaces, '|' and unescaped '=' (decode_cef drops such a value; we keep
 * it), unescape \= \\ \n \r (and \| \:); spaces before the separating SP
 * are kept, trailing white space of the last value is not; a tab is no
 * separator.  CEF rt and LEEF devTime (epoch ms, or "Mmm dd yyyy
 * hh:mm:ss") give occurred_at.
 *
 * Numbers taken from the line are range-checked before use: PRI 0-191 (at
 * most 3 digits), dates field by field, epoch times at most 14 digits,
 * LEEF delimiters 1-4 hex digits, severities through
 * ab_severity_from_text (a 90-digit number is refused, never cast), JSON
 * integers clamped.
 *
 * The line is copied once into a work buffer (invalid UTF-8 and NUL bytes
 * become U+FFFD there, lines over AB_SYSLOG_MAX_LINE are cut first); the
 * parsers walk it with (pointer, length) spans and unescape in place, so
 * nothing is allocated per field except what goes into the event.  No
 * regex, no printf on the hot path.  Severities map through the tables in
 * event.c.
 *
 * Public: ab_syslog_parse (see syslog.h).
 * Diagnostics: none logged; "out of memory" or "bad argument" in err.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "lib/buf.h"
#include "event/event.h"
#include "parse/syslog.h"
#include "lib/utf8.h"
#include "lib/util.h"

#define MEMBER_MAX 2047          /* event.c caps most string members at 2 KiB */
#define SUMMARY_MAX (64 * 1024 - 1)
#define KEY_MAX 64               /* longest JSON key taken */
#define KV_KEY_MAX 128           /* longest CEF/LEEF extension key */
#define HDR_FIELD_MAX 255        /* longest RFC 5424 header field */
#define TAG_MAX 64               /* longest TAG ended by ':' or "[pid]" */
#define TAG_SP_MAX 32            /* longest TAG ended by SP (RFC 3164 4.1.3) */
#define PID_MAX 128
#define FUTURE_SLACK_MS (31 * 86400000LL)   /* a yearless time may be this far ahead */

struct span {
	char *p;
	size_t n;
};

struct ctx {
	struct ab_event *ev;
	int64_t now_ms;
	int nfields;                 /* variable fields added (capped) */
	bool fail;                   /* allocation failed */
	/* header */
	int pri;                     /* -1 = none */
	const char *format;          /* "rfc5424" / "rfc3164" */
	int64_t ts;                  /* 0 = none */
	struct span host, app, procid, msgid, msg;
	struct span rest;            /* RFC 3164: the text after the PRI, then
				      * after the timestamp (CEF search) */
	/* payload */
	const char *payload;         /* "cef", "leef", "cee", "json", or NULL */
	int64_t payload_ts;
	struct span k_msg, k_sev, k_asset, k_asset2;   /* from key=value lists */
};

/* ------------------------------------------------------------ small helpers */

static bool starts(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && memcmp(p, lit, k) == 0;
}

/* Length of the longest prefix of n bytes that ends on a UTF-8 boundary. */
static size_t utf8_cut(const char *p, size_t n, size_t max)
{
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static int set_span(struct ctx *c, char **member, const char *p, size_t n, size_t max)
{
	char *s;

	n = utf8_cut(p, n, max);
	s = malloc(n + 1);
	if (!s) {
		c->fail = true;
		return -1;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	free(*member);
	*member = s;
	return 0;
}

static int set_lower(struct ctx *c, char **member, const char *p, size_t n)
{
	size_t i;

	if (set_span(c, member, p, n, MEMBER_MAX) < 0)
		return -1;
	for (i = 0; (*member)[i]; i++)
		(*member)[i] = (char)tolower((unsigned char)(*member)[i]);
	return 0;
}

static void set_lit(struct ctx *c, char **member, const char *s)
{
	ab_event_set_str(member, s);
	if (!*member)
		c->fail = true;
}

static void field_set(struct ctx *c, const char *key, json_t *v)
{
	if (!v || json_object_set_new(c->ev->fields, key, v) < 0)
		c->fail = true;
}

static void field_str(struct ctx *c, const char *key, const char *p, size_t n)
{
	field_set(c, key, json_stringn(p, n));
}

/* A field whose count depends on the input: capped. */
static bool field_room(struct ctx *c)
{
	if (c->nfields >= AB_SYSLOG_MAX_FIELDS)
		return false;
	c->nfields++;
	return true;
}

/* a + b + c (spans) into out, truncated to fit, NUL-terminated; no printf
 * on the hot path. */
static void mkkey3(char *out, size_t outsz, const char *a, size_t an, const char *b, size_t bn,
		   const char *c3, size_t cn)
{
	size_t o = 0;

	if (an > outsz - 1)
		an = outsz - 1;
	memcpy(out, a, an);
	o = an;
	if (bn > outsz - 1 - o)
		bn = outsz - 1 - o;
	memcpy(out + o, b, bn);
	o += bn;
	if (cn > outsz - 1 - o)
		cn = outsz - 1 - o;
	memcpy(out + o, c3, cn);
	o += cn;
	out[o] = '\0';
}

/* ASCII classes without the locale tables (hot loops; the work buffer is
 * UTF-8, whose non-ASCII bytes are never letters here). */
static bool a_digit(char ch)
{
	return (unsigned)((unsigned char)ch - '0') < 10;
}

static bool a_alpha(char ch)
{
	return (unsigned)(((unsigned char)ch | 0x20) - 'a') < 26;
}

static bool a_alnum(char ch)
{
	return a_digit(ch) || a_alpha(ch);
}

static void skip_sp(char **p, size_t *n)
{
	while (*n > 0 && **p == ' ') {
		(*p)++;
		(*n)--;
	}
}

/* Parse up to maxd digits as a non-negative int; -1 if none. */
static int num(const char *p, size_t n, size_t maxd, size_t *used)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n && i < maxd && p[i] >= '0' && p[i] <= '9'; i++)
		v = v * 10 + (p[i] - '0');
	*used = i;
	return i ? v : -1;
}

/* Exactly k digits at p (p has >= k bytes) or -1. */
static int digits(const char *p, size_t k)
{
	size_t i;
	int v = 0;

	for (i = 0; i < k; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* ------------------------------------------------------------ UTF-8 */

/* True when all n bytes are valid UTF-8 without NUL. */
static bool utf8_clean(const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (s[i] >= 0x01 && s[i] < 0x80) {
			i++;
			continue;
		}
		k = s[i] ? ab_utf8_seq((const char *)s + i, n - i) : 0;
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* Copy with bad bytes and NUL replaced by U+FFFD; out has room for 3n. */
static size_t utf8_repair(const unsigned char *s, size_t n, char *out)
{
	size_t i = 0, o = 0, k;

	while (i < n) {
		k = s[i] ? ab_utf8_seq((const char *)s + i, n - i) : 0;
		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	return o;
}

/* ------------------------------------------------------------ time */

/* Every field in range, the day in its month (no Feb 30 rolled into March). */
static bool valid_tm(int y, int mo, int d, int h, int mi, int s)
{
	return y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 &&
	       d <= ab_time_days_in_month(y, mo) &&
	       h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 60;
}

/* Fraction ".ddd..." (1..9 digits) -> ms; returns bytes used (0 if none). */
static size_t frac_ms(const char *p, size_t n, int *ms)
{
	size_t i;
	int v = 0;

	*ms = 0;
	if (n < 2 || p[0] != '.' || p[1] < '0' || p[1] > '9')
		return 0;
	for (i = 1; i < n && i <= 9 && p[i] >= '0' && p[i] <= '9'; i++)
		if (i <= 3)
			v = v * 10 + (p[i] - '0');
	for (size_t k = i; k <= 3; k++)
		v *= 10;
	*ms = v;
	return i;
}

/*
 * An RFC 3339 time at p (lib/util.h's parser), as senders write it: also
 * "+hhmm", and without a zone (UTC) unless need_zone.  A year before 1970
 * is no log time.  Returns bytes used, 0 if not a timestamp.
 */
static size_t parse_iso(const char *p, size_t n, bool need_zone, int64_t *out)
{
	size_t used = ab_time_scan_rfc3339(p, n, AB_TIME_OFFSET_COMPACT |
					   (need_zone ? 0 : AB_TIME_ZONE_OPTIONAL), out);

	return used && memcmp(p, "1970", 4) >= 0 ? used : 0;
}

static const char months[12][4] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};

/*
 * BSD timestamp "Mmm dd hh:mm:ss" with variants: day space-padded or one
 * digit, a year before the month (y0 >= 0, Brocade), between the day and
 * the time (Cisco) or after the time, ".fff", a Cisco-style ':' after.
 * Without a year, the latest year at most FUTURE_SLACK_MS ahead (see the
 * top).  Returns bytes used or 0.
 */
static size_t bsd_at(const char *p, size_t n, int64_t now_ms, int y0, int64_t *out)
{
	int mo = -1, d, y = y0, h, mi, s, ms = 0, k, best_y;
	size_t i, used;
	int64_t best = 0, bestdiff = -1;

	if (n < 14)
		return 0;
	for (k = 0; k < 12; k++)
		if (tolower((unsigned char)p[0]) == months[k][0] &&
		    tolower((unsigned char)p[1]) == months[k][1] &&
		    tolower((unsigned char)p[2]) == months[k][2])
			mo = k + 1;
	if (mo < 0 || p[3] != ' ')
		return 0;
	i = 4;
	if (p[i] == ' ')
		i++;
	d = num(p + i, n - i, 2, &used);
	i += used;
	if (d < 1 || d > 31 || i >= n || p[i] != ' ')
		return 0;
	i++;
	if (y < 0 && n - i >= 5 && p[i + 4] == ' ' && (y = digits(p + i, 4)) >= 0)
		i += 5;
	if (n - i < 8 || p[i + 2] != ':' || p[i + 5] != ':')
		return 0;
	h = digits(p + i, 2);
	mi = digits(p + i + 3, 2);
	s = digits(p + i + 6, 2);
	i += 8;
	i += frac_ms(p + i, n - i, &ms);
	if (y < 0 && n - i >= 5 && p[i] == ' ' && (i + 5 == n || p[i + 5] == ' ') &&
	    (k = digits(p + i + 1, 4)) >= 1970 && k <= 2100)
		y = k, i += 5;
	if (i < n && p[i] == ':' && (i + 1 == n || p[i + 1] == ' '))
		i++;
	if (y >= 0) {
		if (!valid_tm(y, mo, d, h, mi, s))
			return 0;
		*out = ab_time_from_civil(y, mo, d, h, mi, s, ms);
		return i;
	}
	if (!valid_tm(2000, mo, d, h, mi, s))   /* 2000: a leap year, Feb 29 passes */
		return 0;
	/* a log line is from the past, give or take a sender's clock: the
	 * latest year that puts it at most FUTURE_SLACK_MS ahead of now ("Mar  7"
	 * read in December is this March, "Oct 11" read in January last
	 * October, "Jan  2" read on Dec 30 next year's) */
	best_y = ab_time_year(now_ms);
	for (k = best_y + 1; k >= best_y - 1 && bestdiff < 0; k--) {
		int64_t t;

		if (d > ab_time_days_in_month(k, mo))
			continue;
		t = ab_time_from_civil(k, mo, d, h, mi, s, ms);
		if (t <= now_ms + FUTURE_SLACK_MS) {
			best = t;
			bestdiff = 0;
		}
	}
	if (bestdiff < 0)
		return 0;
	*out = best;
	return i;
}

/* bsd_at() after an optional leading "yyyy " (1970..2100, as rsyslog). */
static size_t parse_bsd(const char *p, size_t n, int64_t now_ms, int64_t *out)
{
	int y;
	size_t used;

	if (n >= 5 && p[4] == ' ' && (y = digits(p, 4)) >= 0) {
		if (y < 1970 || y > 2100)
			return 0;
		used = bsd_at(p + 5, n - 5, now_ms, y, out);
		return used ? used + 5 : 0;
	}
	return bsd_at(p, n, now_ms, -1, out);
}

/* ------------------------------------------------------------ RFC 5424 */

static bool printusascii(char ch)
{
	return ch >= 33 && ch <= 126;
}

static bool sdname_char(char ch)
{
	return printusascii(ch) && ch != '=' && ch != ']' && ch != '"';
}

/* Next space-delimited header token; requires a following SP. */
static bool token(char **p, size_t *n, struct span *out)
{
	size_t i;

	for (i = 0; i < *n && (*p)[i] != ' '; i++)
		if (!printusascii((*p)[i]) || i >= HDR_FIELD_MAX)
			return false;
	if (i == 0 || i >= *n)
		return false;
	out->p = *p;
	out->n = i;
	*p += i + 1;
	*n -= i + 1;
	return true;
}

static size_t sd_name(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 32 && sdname_char(p[i]); i++)
		;
	return i < n && sdname_char(p[i]) ? 0 : i;   /* longer than 32: invalid */
}

/*
 * Walk SD-ELEMENTs.  With extract false only validate and return the length
 * (0 = invalid); with extract true also unescape values in place and add
 * the "sd.ID.param" fields.
 */
static size_t sd_walk(struct ctx *c, char *p, size_t n, bool extract)
{
	size_t i = 0, k;

	if (n == 0 || p[0] != '[')
		return 0;
	while (i < n && p[i] == '[') {
		char *id = p + i + 1;
		size_t idn = sd_name(id, n - i - 1);

		if (!idn)
			return 0;
		i += 1 + idn;
		while (i < n && p[i] == ' ') {
			char *name = p + i + 1, *val, *w;
			size_t nn = sd_name(name, n - i - 1), vstart;
			char key[128];

			if (!nn)
				return 0;
			i += 1 + nn;
			if (i + 1 >= n || p[i] != '=' || p[i + 1] != '"')
				return 0;
			i += 2;
			vstart = i;
			while (i < n && p[i] != '"') {
				if (p[i] == '\\' && i + 1 < n)
					i++;
				i++;
			}
			if (i >= n)
				return 0;
			if (extract && field_room(c)) {
				val = p + vstart;
				w = val;
				for (k = vstart; k < i; k++) {
					if (p[k] == '\\' && k + 1 < i &&
					    (p[k + 1] == '"' || p[k + 1] == '\\' || p[k + 1] == ']'))
						k++;
					*w++ = p[k];
				}
				mkkey3(key, sizeof key, "sd.", 3, id, idn, ".", 1);
				mkkey3(key + 3 + idn + 1, sizeof key - 3 - idn - 1, name, nn,
				       "", 0, "", 0);
				field_str(c, key, val, (size_t)(w - val));
			}
			i++;    /* closing quote */
		}
		if (i >= n || p[i] != ']')
			return 0;
		i++;
	}
	return i;
}

static bool nil(struct span s)
{
	return s.n == 1 && s.p[0] == '-';
}

static bool parse_5424(struct ctx *c, char *p, size_t n)
{
	struct span ts, host, app, procid, msgid;
	size_t sdlen;
	int64_t t = 0;

	if (n < 2 || p[0] != '1' || p[1] != ' ')
		return false;
	p += 2;
	n -= 2;
	if (!token(&p, &n, &ts) || !token(&p, &n, &host) || !token(&p, &n, &app) ||
	    !token(&p, &n, &procid) || !token(&p, &n, &msgid))
		return false;
	if (!nil(ts) && parse_iso(ts.p, ts.n, true, &t) != ts.n)
		return false;
	/* structured data: "-" or elements, then SP MSG or the end */
	if (n >= 1 && p[0] == '-' && (n == 1 || p[1] == ' ')) {
		sdlen = 1;
	} else {
		sdlen = sd_walk(c, p, n, false);
		if (!sdlen || (sdlen < n && p[sdlen] != ' ')) {
			field_set(c, "syslog.sd_invalid", json_true());
			sdlen = 0;
		} else {
			sd_walk(c, p, sdlen, true);
		}
	}
	p += sdlen;
	n -= sdlen;
	if (sdlen && n > 0) {    /* the SP before MSG */
		p++;
		n--;
	}
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		p += 3;
		n -= 3;
	}
	c->format = "rfc5424";
	c->ts = t;
	if (!nil(host))
		c->host = host;
	if (!nil(app))
		c->app = app;
	if (!nil(procid))
		c->procid = procid;
	if (!nil(msgid))
		c->msgid = msgid;
	c->msg.p = p;
	c->msg.n = n;
	return true;
}

/* ------------------------------------------------------------ RFC 3164 */

static bool payload_start(const char *p, size_t n)
{
	return starts(p, n, "CEF:") || starts(p, n, "LEEF:") || starts(p, n, "@cee:") ||
	       (n > 0 && p[0] == '{');
}

static bool hexdig(char ch)
{
	return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f');
}

/*
 * Length of a HOSTNAME at p: letters, digits, '.', '_', '-' (rsyslog's set),
 * or an IPv6 address (hex digits, '.', two or more ':'), ending in a letter
 * or digit, followed by SP or the end of the line.  0 if none.
 */
static size_t host_at(const char *p, size_t n)
{
	size_t i, k, colons = 0;

	if (n > HDR_FIELD_MAX + 1)
		n = HDR_FIELD_MAX + 1;
	for (i = 0; i < n && p[i] != ' '; i++) {
		char ch = p[i];

		if (a_alnum(ch) || ch == '.' || ch == '-' || ch == '_')
			continue;
		if (ch != ':')
			return 0;
		colons++;
	}
	if (i == 0 || i > HDR_FIELD_MAX || !a_alnum(p[i - 1]))
		return 0;
	if (colons) {           /* IPv6: hex digits, '.', two or more ':' */
		if (colons < 2)
			return 0;
		for (k = 0; k < i; k++)
			if (!hexdig(p[k]) && p[k] != ':' && p[k] != '.')
				return 0;
	}
	return i;
}

/* A program name, the only thing taken as a TAG that a space ends: a
 * letter or '_' first, then letters, digits, '_', '.', '-', '/'. */
static bool prog_name(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > TAG_SP_MAX || !(a_alpha(p[0]) || p[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!a_alnum(p[i]) && p[i] != '_' && p[i] != '.' && p[i] != '-' &&
		    p[i] != '/')
			return false;
	return true;
}

/* "[pid]" at p: returns the bytes up to and with ']' (pid in *pid), or 0. */
static size_t pid_at(const char *p, size_t n, struct span *pid)
{
	size_t j;

	if (n < 3 || p[0] != '[')
		return 0;
	for (j = 1; j < n && j <= PID_MAX && printusascii(p[j]) && p[j] != ']' && p[j] != '['; j++)
		;
	if (j >= n || p[j] != ']' || j == 1)
		return 0;
	pid->p = (char *)p + 1;
	pid->n = j - 1;
	return j + 1;
}

/*
 * The TAG at p (see the header comment): "tag[pid]:", "tag[pid]", "tag:",
 * and with after_hdr also "tag " (a program name ended by SP, or by the
 * end of the line), "tag   [pid]:" (fail2ban) and an empty tag before ':'
 * (Cisco "host : %ASA-..."). Fills app/procid; returns the bytes to skip
 * to the MSG (one SP after the tag included), 0 if there is no tag.
 */
static size_t parse_tag(struct ctx *c, char *p, size_t n, bool after_hdr)
{
	size_t i, j, k;
	struct span pid = { NULL, 0 };

	for (i = 0; i < n && i <= TAG_MAX && printusascii(p[i]) && p[i] != '[' && p[i] != ':'; i++)
		;
	if (i > TAG_MAX)
		return 0;
	if (i == 0) {
		if (after_hdr && n > 0 && p[0] == ':')      /* "host : msg" */
			return n > 1 && p[1] == ' ' ? 2 : 1;
		return 0;
	}
	/* never a tag: a Cisco "%FAC-SEV-MNEMONIC", key=value text, quotes */
	if (p[0] == '%' || p[0] == '"' || p[0] == '\'' || memchr(p, '=', i))
		return 0;
	if (i < n && p[i] == '[') {
		j = pid_at(p + i, n - i, &pid);
		if (!j)
			return 0;
		j += i;
		if (j < n && p[j] == ':')
			j++;
		else if (j < n && p[j] != ' ')
			return 0;
	} else if (i < n && p[i] == ':') {
		j = i + 1;
	} else {                    /* ended by SP or by the end of the line */
		if (!after_hdr || !prog_name(p, i))
			return 0;
		j = i;
		for (k = i; k < n && p[k] == ' '; k++)
			;
		if (k > i && k < n && p[k] == '[') {     /* "name   [pid]:" */
			size_t m = pid_at(p + k, n - k, &pid);

			if (m && k + m < n && p[k + m] == ':')
				j = k + m + 1;
			else
				pid.n = 0;
		}
	}
	c->app = (struct span){ p, i };
	if (pid.n)
		c->procid = pid;
	if (j < n && p[j] == ' ')
		j++;
	return j;
}

/*
 * RFC 3164 and its variants, read as rsyslog's pmrfc3164 reads them unless
 * the header comment says otherwise.
 */
static void parse_3164(struct ctx *c, char *p, size_t n)
{
	size_t used, i;
	int64_t t = 0;
	char *q = p;
	size_t qn = n;

	c->format = "rfc3164";
	while (qn > 0 && (*q == ' ' || *q == '\t'))
		q++, qn--;
	c->rest = (struct span){ q, qn };
	/* rsyslog: text that opens with '{' or '[' has no header */
	if (qn > 0 && (*q == '{' || *q == '[')) {
		c->msg = c->rest;
		return;
	}
	used = parse_iso(q, qn, false, &t);
	if (!used || (used < qn && q[used] != ' '))
		used = parse_bsd(q, qn, c->now_ms, &t);
	if (!used || (used < qn && q[used] != ' ')) {
		/* no timestamp: no header to read a HOSTNAME from; only a
		 * "tag:" / "tag[pid]:" (local /dev/log style) */
		if (!payload_start(q, qn)) {
			used = parse_tag(c, q, qn, false);
			q += used;
			qn -= used;
		}
		c->msg = (struct span){ q, qn };
		return;
	}
	c->ts = t;
	q += used;
	qn -= used;
	skip_sp(&q, &qn);
	c->rest = (struct span){ q, qn };
	if (!payload_start(q, qn)) {
		i = host_at(q, qn);
		if (i) {
			c->host = (struct span){ q, i };
			q += i;
			qn -= i;
			skip_sp(&q, &qn);
		}
	}
	if (!payload_start(q, qn)) {
		used = parse_tag(c, q, qn, true);
		q += used;
		qn -= used;
	}
	c->msg = (struct span){ q, qn };
}

/* ------------------------------------------------------------ key=value lists */

/* Extension keys as the common CEF decoders take them (Elastic's
 * decode_cef: a letter, digit or '_' first, then also '.', ',', '[', ']');
 * '-' is taken too (seen in the wild). */
static bool key_start(char ch)
{
	return a_alnum(ch) || ch == '_';
}

static bool key_char(char ch)
{
	return a_alnum(ch) || ch == '_' || ch == '.' || ch == ',' || ch == '-' ||
	       ch == '[' || ch == ']';
}

/* Length of a key ending in '=' at p, or 0. */
static size_t key_at(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || !key_start(p[0]))
		return 0;
	for (i = 1; i < n && i <= KV_KEY_MAX && key_char(p[i]); i++)
		;
	return i <= KV_KEY_MAX && i < n && p[i] == '=' ? i : 0;
}

/* Offset of the SP right before the next "key=" (the last SP of a run:
 * the others belong to the value, as in decode_cef), or n. */
static size_t next_key(const char *p, size_t n)
{
	const char *q = p, *end = p + n;

	while ((q = memchr(q, ' ', (size_t)(end - q))) != NULL) {
		q++;
		if (q < end && key_start(*q) && key_at(q, (size_t)(end - q)))
			return (size_t)(q - 1 - p);
	}
	return n;
}

/* CEF extension unescaping in place: \\ \= \n \r, and \| and \: (not in
 * the spec, but sent: Microsoft Defender for Identity writes https\://);
 * any other backslash stays.  Returns the new length. */
static size_t cef_unescape(char *p, size_t n)
{
	size_t i, o;
	char *b = memchr(p, '\\', n);

	if (!b)
		return n;
	for (i = o = (size_t)(b - p); i < n; i++) {
		if (p[i] == '\\' && i + 1 < n) {
			char e = p[i + 1];

			if (e == '\\' || e == '=' || e == '|' || e == ':') {
				p[o++] = e;
				i++;
				continue;
			}
			if (e == 'n' || e == 'r') {
				p[o++] = e == 'n' ? '\n' : '\r';
				i++;
				continue;
			}
		}
		p[o++] = p[i];
	}
	return o;
}

/* A device time: epoch milliseconds (12-13 digits) or seconds (10), or
 * "Mmm dd [yyyy] hh:mm:ss[.fff]" optionally followed by " UTC" / " GMT" /
 * " Z" (CEF rt, LEEF devTime).  Other zones are not guessed. */
static bool kv_time(struct ctx *c, const char *v, size_t vn, int64_t *out)
{
	size_t i, used;
	int64_t t = 0;

	for (i = 0; i < vn && i < 14 && v[i] >= '0' && v[i] <= '9'; i++)
		t = t * 10 + (v[i] - '0');      /* at most 14 digits: no overflow */
	if (i == vn) {
		if (vn == 10)
			t *= 1000;
		else if (vn != 12 && vn != 13)
			return false;
		*out = t;
		return true;
	}
	used = parse_bsd(v, vn, c->now_ms, &t);
	if (!used)
		return false;
	if (used < vn && !((vn - used == 4 && (!memcmp(v + used, " UTC", 4) ||
					       !memcmp(v + used, " GMT", 4))) ||
			   (vn - used == 2 && !memcmp(v + used, " Z", 2))))
		return false;
	*out = t;
	return true;
}

static void kv_special(struct ctx *c, const char *k, size_t kn, char *v, size_t vn)
{
	struct span s = { v, vn };
	int64_t t;

	switch (kn) {
	case 2:
		if (!memcmp(k, "rt", 2) && kv_time(c, v, vn, &t))
			c->payload_ts = t;
		break;
	case 3:
		if (!memcmp(k, "msg", 3))
			c->k_msg = s;
		else if (!memcmp(k, "sev", 3))
			c->k_sev = s;
		else if (!memcmp(k, "dst", 3))
			c->k_asset2 = s;
		break;
	case 5:
		if (!memcmp(k, "dhost", 5))
			c->k_asset = s;
		break;
	case 7:
		if (!memcmp(k, "message", 7) && !c->k_msg.p)
			c->k_msg = s;
		else if (!memcmp(k, "devTime", 7) && kv_time(c, v, vn, &t))
			c->payload_ts = t;
		break;
	case 8:
		if (!memcmp(k, "severity", 8) && !c->k_sev.p)
			c->k_sev = s;
		break;
	default:
		break;
	}
}

/*
 * Where the extension fields of one payload go: "<prefix>KEY", except that
 * a KEY that is one of the header field names, or that begins with "ext.",
 * goes to "<prefix>ext.KEY".  So an extension never overwrites a header
 * field (cef.name stays the header's Name; "name=" lands in cef.ext.name)
 * and no two different keys share a field name.
 */
struct kvname {
	const char *s;
	size_t n;
};

struct kvset {
	const char *prefix;
	size_t plen;
	const struct kvname *hdr;    /* header names without prefix, {NULL} ends */
};

#define KVN(lit) { lit, sizeof(lit) - 1 }
static const struct kvname cef_hdr[] = {
	KVN("version"), KVN("vendor"), KVN("product"), KVN("device_version"),
	KVN("signature_id"), KVN("name"), KVN("severity"), { NULL, 0 },
};
static const struct kvname leef_hdr[] = {
	KVN("version"), KVN("vendor"), KVN("product"), KVN("product_version"),
	KVN("event_id"), { NULL, 0 },
};
static const struct kvset cef_set = { "cef.", 4, cef_hdr };
static const struct kvset leef_set = { "leef.", 5, leef_hdr };

static bool kv_reserved(const struct kvset *set, const char *k, size_t kn)
{
	const struct kvname *h;

	if (kn >= 4 && !memcmp(k, "ext.", 4))
		return true;
	for (h = set->hdr; h->s; h++)
		if (h->n == kn && k[0] == h->s[0] && !memcmp(h->s, k, kn))
			return true;
	return false;
}

static void kv_add(struct ctx *c, const struct kvset *set, const char *k, size_t kn, char *v,
		   size_t vn)
{
	char key[KV_KEY_MAX + 16];

	kv_special(c, k, kn, v, vn);
	if (!field_room(c))
		return;
	if (kn > KV_KEY_MAX)
		kn = KV_KEY_MAX;
	if (kv_reserved(set, k, kn))
		mkkey3(key, sizeof key, set->prefix, set->plen, "ext.", 4, k, kn);
	else
		mkkey3(key, sizeof key, set->prefix, set->plen, k, kn, "", 0);
	field_str(c, key, v, vn);
}

static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * "k1=v1 k2=multi word value k3=v3" (CEF extension rules, as decode_cef):
 * a key starts after a SP; a value runs to the SP before the next key, so
 * it may hold spaces, '|' and unescaped '=' (kept, where decode_cef drops
 * the value); spaces before that SP are kept, trailing white space of the
 * last value is not; "k=" is an empty value.  Text before the first key is
 * skipped.
 */
static void kv_spaced(struct ctx *c, const struct kvset *set, char *p, size_t n, bool unescape)
{
	size_t kn, vend, vn;
	char *v;

	skip_sp(&p, &n);
	while (n > 0) {
		kn = key_at(p, n);
		if (!kn) {               /* junk: resume at the next key */
			vend = next_key(p, n);
			if (vend >= n)
				break;
			p += vend + 1;
			n -= vend + 1;
			continue;
		}
		v = p + kn + 1;
		n -= kn + 1;
		vend = next_key(v, n);
		vn = vend;
		if (vend == n)
			while (vn > 0 && is_ws(v[vn - 1]))
				vn--;
		if (unescape)
			vn = cef_unescape(v, vn);
		kv_add(c, set, p, kn, v, vn);
		if (vend >= n)
			break;
		p = v + vend + 1;
		n -= vend + 1;
	}
}

/* "k1=v1<d>k2=v2" with a single-byte delimiter (LEEF); keys and values
 * are trimmed of spaces and tabs. */
static void kv_delim(struct ctx *c, const struct kvset *set, char *p, size_t n, char delim)
{
	while (n > 0) {
		char *e = memchr(p, delim, n), *eq;
		size_t len = e ? (size_t)(e - p) : n, kn, vn;

		eq = memchr(p, '=', len);
		if (eq) {
			char *k = p;

			kn = (size_t)(eq - p);
			while (kn > 0 && (*k == ' ' || *k == '\t'))
				k++, kn--;
			while (kn > 0 && (k[kn - 1] == ' ' || k[kn - 1] == '\t'))
				kn--;
			vn = len - (size_t)(eq + 1 - p);
			while (vn > 0 && is_ws(eq[vn]))
				vn--;
			if (kn > 0 && kn <= KV_KEY_MAX)
				kv_add(c, set, k, kn, eq + 1, vn);
		}
		if (!e)
			break;
		p += len + 1;
		n -= len + 1;
	}
}

/* ------------------------------------------------------------ CEF / LEEF */

/* Split n header fields on unescaped '|'; returns bytes used or 0. */
static size_t split_pipes(char *p, size_t n, struct span *out, int count)
{
	size_t i = 0;
	int f;

	for (f = 0; f < count; f++) {
		size_t start = i;

		while (i < n && p[i] != '|')
			i += p[i] == '\\' && i + 1 < n ? 2 : 1;
		if (i >= n)
			return 0;
		out[f].p = p + start;
		out[f].n = i - start;
		i++;
	}
	return i;
}

/* Header unescaping in place: \| and \\ ; others kept. */
static void hdr_unescape(struct span *s)
{
	size_t i, o = 0;

	if (!memchr(s->p, '\\', s->n))
		return;
	for (i = 0; i < s->n; i++) {
		if (s->p[i] == '\\' && i + 1 < s->n && (s->p[i + 1] == '|' || s->p[i + 1] == '\\'))
			i++;
		s->p[o++] = s->p[i];
	}
	s->n = o;
}

static const struct {
	const char *needle;
	const char *source;
} source_hints[] = {
	{ "web application firewall", "waf" },
	{ "waf", "waf" },
	{ "modsecurity", "waf" },
	{ "imperva", "waf" },
	{ "ossec", "hids" },
	{ "wazuh", "hids" },
	{ "hids", "hids" },
	{ "suricata", "ids" },
	{ "snort", "ids" },
	{ "intrusion", "ids" },
	{ "firewall", "firewall" },
	{ "fortigate", "firewall" },
	{ "pan-os", "firewall" },
	{ "palo alto", "firewall" },
	{ "check point", "firewall" },
	{ "vpn-1", "firewall" },
	{ "iptables", "firewall" },
	{ "falco", "runtime" },
};

static const char *source_guess(struct span vendor, struct span product)
{
	char both[256];
	size_t i, vn = vendor.n > 120 ? 120 : vendor.n, pn = product.n > 120 ? 120 : product.n;

	/* "vendor product", ASCII-lowercased once (the needles are lowercase):
	 * strstr per hint, no printf and no per-hint case folding (every CEF
	 * and LEEF line comes here) */
	if (vn)
		memcpy(both, vendor.p, vn);
	both[vn] = ' ';
	if (pn)
		memcpy(both + vn + 1, product.p, pn);
	both[vn + 1 + pn] = '\0';
	for (i = 0; i < vn + 1 + pn; i++)
		if (both[i] >= 'A' && both[i] <= 'Z')
			both[i] = (char)(both[i] - 'A' + 'a');
	for (i = 0; i < sizeof source_hints / sizeof source_hints[0]; i++)
		if (strstr(both, source_hints[i].needle))
			return source_hints[i].source;
	return "syslog";
}

/* Severity text on a scale ("7", "7.5"), else a word ("High", "Very-High");
 * numbers are range-checked by ab_severity_from_text (never cast). */
static void sev_from_span(struct ctx *c, struct span s, enum ab_sev_scale scale)
{
	char tmp[64];
	enum ab_severity sev;

	while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t'))
		s.p++, s.n--;
	while (s.n > 0 && is_ws(s.p[s.n - 1]))
		s.n--;
	if (s.n == 0 || s.n >= sizeof tmp)
		return;
	memcpy(tmp, s.p, s.n);
	tmp[s.n] = '\0';
	if (ab_severity_from_text(scale, tmp, &sev) == 0 ||
	    (isalpha((unsigned char)tmp[0]) && ab_severity_parse(tmp, &sev) == 0))
		c->ev->severity = sev;
}

/* s without trailing white space, and up to its first line end. */
static struct span first_line(struct span s)
{
	const char *nl = memchr(s.p, '\n', s.n);

	if (nl)
		s.n = (size_t)(nl - s.p);
	while (s.n > 0 && is_ws(s.p[s.n - 1]))
		s.n--;
	return s;
}

static void alert_common(struct ctx *c, struct span vendor, struct span product,
			 struct span title)
{
	struct ab_event *ev = c->ev;
	struct span m = c->k_msg;

	set_lit(c, &ev->type, "finding.created");
	ev->category = AB_CAT_SECURITY;
	set_lower(c, &ev->tool, vendor.p, vendor.n);
	set_lit(c, &ev->source, source_guess(vendor, product));
	while (m.n > 0 && is_ws(m.p[m.n - 1]))
		m.n--;
	if (!title.n && m.n)
		title = first_line(m);
	if (title.n)
		set_span(c, &ev->title, title.p, title.n, AB_SYSLOG_MAX_TITLE);
	if (m.n)
		set_span(c, &ev->summary, m.p, m.n, SUMMARY_MAX);
	if (c->k_asset.n)
		set_span(c, &ev->asset, c->k_asset.p, c->k_asset.n, MEMBER_MAX);
	else if (c->k_asset2.n)
		set_span(c, &ev->asset, c->k_asset2.p, c->k_asset2.n, MEMBER_MAX);
}

/* 1..maxd digits, with '.' too when dots (a CEF / LEEF version). */
static bool version_ok(struct span s, size_t maxd, bool dots)
{
	size_t i;

	while (s.n > 0 && s.p[0] == ' ')   /* "CEF: 0|": FortiOS writes a blank */
		s.p++, s.n--;
	if (s.n == 0 || s.n > maxd || !a_digit(s.p[0]))
		return false;
	for (i = 1; i < s.n; i++)
		if (!a_digit(s.p[i]) && !(dots && s.p[i] == '.'))
			return false;
	return true;
}

/* CEF custom fields carry their meaning in a label ("cs1Label=url
 * cs1=https://..."): each labelled one is also "cef.label.<label>" (the
 * label cut to 64 characters of [A-Za-z0-9_.-], others as '_'), so that a
 * profile can ask for the url or the rule name whichever csN holds it. */
static void cef_labels(struct ctx *c)
{
	static const struct { const char *base; int n; } custom[] = {
		{ "cs", 6 }, { "cn", 3 }, { "cfp", 4 }, { "c6a", 4 }, { "flexString", 2 },
		{ "flexNumber", 2 }, { "deviceCustomDate", 2 },
	};
	char key[96], lkey[96];
	size_t i;
	int k;

	for (i = 0; i < sizeof custom / sizeof custom[0]; i++)
		for (k = 1; k <= custom[i].n; k++) {
			const char *label;
			json_t *v;
			size_t j, o;

			snprintf(key, sizeof key, "cef.%s%dLabel", custom[i].base, k);
			label = json_string_value(json_object_get(c->ev->fields, key));
			snprintf(key, sizeof key, "cef.%s%d", custom[i].base, k);
			v = json_object_get(c->ev->fields, key);
			if (!label || !*label || !v)
				continue;
			memcpy(lkey, "cef.label.", 10);
			for (j = 0, o = 10; label[j] && o < 10 + 64; j++, o++) {
				char ch = label[j];

				lkey[o] = (a_digit(ch) || (ch >= 'a' && ch <= 'z') ||
					   (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '.' ||
					   ch == '-') ? ch : '_';
			}
			lkey[o] = '\0';
			if (!json_object_get(c->ev->fields, lkey) && field_room(c))
				field_set(c, lkey, json_incref(v));
		}
}

/* "CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|
 * Name|Severity|Extension" at p.  Header fields -> cef.version, cef.vendor,
 * cef.product, cef.device_version, cef.signature_id, cef.name,
 * cef.severity; extension "k=v" -> cef.k (cef.ext.k for a k named like a
 * header field, see struct kvset).  Title = Name (else msg, else the
 * Signature ID), severity = Severity (0-10 on the CEF scale or a word);
 * an extension's own "name=" or "severity=" never changes them. */
static bool parse_cef(struct ctx *c, char *p, size_t n)
{
	static const char *const names[7] = {
		"cef.version", "cef.vendor", "cef.product", "cef.device_version",
		"cef.signature_id", "cef.name", "cef.severity",
	};
	struct span h[7], title;
	size_t used;
	bool labels;
	int i;

	if (n < 4)
		return false;
	used = split_pipes(p + 4, n - 4, h, 7);
	while (used && h[0].n > 0 && h[0].p[0] == ' ')
		h[0].p++, h[0].n--;
	if (!used || !version_ok(h[0], 4, false))
		return false;
	c->payload = "cef";
	for (i = 0; i < 7; i++) {
		hdr_unescape(&h[i]);
		field_str(c, names[i], h[i].p, h[i].n);
	}
	labels = memmem(p + 4 + used, n - 4 - used, "Label=", 6) != NULL;   /* most: none */
	kv_spaced(c, &cef_set, p + 4 + used, n - 4 - used, true);
	if (labels)
		cef_labels(c);
	title = h[5];
	while (title.n > 0 && is_ws(title.p[title.n - 1]))
		title.n--;
	if (!title.n && !c->k_msg.n)
		title = h[4];
	alert_common(c, h[1], h[2], title);
	sev_from_span(c, h[6], AB_SCALE_CEF);
	return true;
}

/* LEEF 2.0 delimiter field: "^", "\t", "x5E", "0x5e" (1-4 hex digits,
 * an ASCII character); -1 if not one. */
static int leef_delim(struct span s)
{
	size_t off;
	int v = 0;

	if (s.n == 1 && s.p[0] != '=' && (unsigned char)s.p[0] < 0x80)
		return (unsigned char)s.p[0];
	if (s.n == 2 && s.p[0] == '\\' && s.p[1] == 't')
		return '\t';
	off = s.n >= 2 && (s.p[0] == 'x' || s.p[0] == 'X') ? 1 :
	      s.n >= 3 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X') ? 2 : 0;
	if (!off || s.n - off < 1 || s.n - off > 4)
		return -1;
	for (; off < s.n; off++) {
		int ch = tolower((unsigned char)s.p[off]);

		if (ch >= '0' && ch <= '9')
			v = v * 16 + ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = v * 16 + ch - 'a' + 10;
		else
			return -1;
	}
	return v > 0 && v < 0x80 && v != '=' ? v : -1;
}

/* "LEEF:Version|Vendor|Product|Version|EventID|[Delimiter|]attributes"
 * at p.  LEEF 1.0: attributes separated by tabs.  LEEF 2.0: the optional
 * delimiter field (a character, "xHH", "0xHH" or "\t") is taken when the
 * text before the next '|' is one; else (no delimiter field) tabs.  A
 * sender that separates by spaces is read with the CEF rules.  Header ->
 * leef.version, leef.vendor, leef.product, leef.product_version,
 * leef.event_id; attributes -> leef.k (leef.ext.k for a k named like a
 * header field).  Title = EventID, severity = sev (1-10, LEEF scale). */
static bool parse_leef(struct ctx *c, char *p, size_t n)
{
	static const char *const names[5] = {
		"leef.version", "leef.vendor", "leef.product", "leef.product_version",
		"leef.event_id",
	};
	struct span h[5];
	size_t used, rest;
	char *attrs;
	int i, delim = '\t';

	if (n < 5)
		return false;
	used = split_pipes(p + 5, n - 5, h, 5);
	if (!used) {
		/* header only, without the '|' after the EventID */
		used = split_pipes(p + 5, n - 5, h, 4);
		if (!used || memchr(p + 5 + used, '=', n - 5 - used) ||
		    memchr(p + 5 + used, '|', n - 5 - used))
			return false;
		h[4] = (struct span){ p + 5 + used, n - 5 - used };
		used = n - 5;
	}
	while (h[0].n > 0 && h[0].p[0] == ' ')
		h[0].p++, h[0].n--;
	if (!version_ok(h[0], 8, true))
		return false;
	c->payload = "leef";
	for (i = 0; i < 5; i++) {
		hdr_unescape(&h[i]);
		field_str(c, names[i], h[i].p, h[i].n);
	}
	attrs = p + 5 + used;
	rest = n - 5 - used;
	if (h[0].p[0] == '2') {
		char *bar = memchr(attrs, '|', rest);

		if (bar) {
			struct span d = { attrs, (size_t)(bar - attrs) };
			int dv = d.n == 0 ? '\t' : leef_delim(d);

			if (dv > 0) {
				delim = dv;
				rest -= d.n + 1;
				attrs = bar + 1;
			}
		}
	}
	if (memchr(attrs, delim, rest) || !memchr(attrs, ' ', rest))
		kv_delim(c, &leef_set, attrs, rest, (char)delim);
	else
		kv_spaced(c, &leef_set, attrs, rest, false);
	alert_common(c, h[1], h[2], h[4]);
	if (c->k_sev.n)
		sev_from_span(c, c->k_sev, AB_SCALE_LEEF);
	return true;
}

/* ------------------------------------------------------------ JSON */

static json_t *jget(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	return b ? json_object_get(v, b) : v;
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
	return json_string_value(jget(o, a, b));
}

/* An integer member clamped to lo..hi (a huge level never reaches a cast). */
static int jint(json_t *v, int lo, int hi)
{
	json_int_t x = json_integer_value(v);

	return x < lo ? lo : x > hi ? hi : (int)x;
}

static void jset(struct ctx *c, char **member, const char *s, size_t max)
{
	if (s)
		set_span(c, member, s, strlen(s), max);
}

/* Copy selected members (scalars and arrays of scalars) into fields. */
struct jsel {
	const char *a, *b, *key;
};

static void jcopy(struct ctx *c, json_t *root, const struct jsel *sel, size_t nsel)
{
	size_t i;

	for (i = 0; i < nsel; i++) {
		json_t *v = jget(root, sel[i].a, sel[i].b);

		if (!v || json_is_object(v))
			continue;
		if (json_is_array(v) && json_array_size(v) > AB_SYSLOG_MAX_FIELDS)
			continue;
		field_set(c, sel[i].key, json_incref(v));
	}
}

static void json_time(struct ctx *c, const char *s)
{
	int64_t t;

	if (s && parse_iso(s, strlen(s), false, &t) == strlen(s))
		c->payload_ts = t;
}

static const struct jsel wazuh_sel[] = {
	{ "rule", "id", "wazuh.rule.id" },
	{ "rule", "level", "wazuh.rule.level" },
	{ "rule", "description", "wazuh.rule.description" },
	{ "rule", "groups", "wazuh.rule.groups" },
	{ "agent", "id", "wazuh.agent.id" },
	{ "agent", "name", "wazuh.agent.name" },
	{ "agent", "ip", "wazuh.agent.ip" },
	{ "manager", "name", "wazuh.manager.name" },
	{ "decoder", "name", "wazuh.decoder.name" },
	{ "data", "srcip", "wazuh.data.srcip" },
	{ "data", "srcuser", "wazuh.data.srcuser" },
	{ "data", "dstuser", "wazuh.data.dstuser" },
	{ "location", NULL, "wazuh.location" },
	{ "id", NULL, "wazuh.id" },
};

static const struct jsel suricata_sel[] = {
	{ "event_type", NULL, "suricata.event_type" },
	{ "src_ip", NULL, "suricata.src_ip" },
	{ "src_port", NULL, "suricata.src_port" },
	{ "dest_ip", NULL, "suricata.dest_ip" },
	{ "dest_port", NULL, "suricata.dest_port" },
	{ "proto", NULL, "suricata.proto" },
	{ "in_iface", NULL, "suricata.in_iface" },
	{ "flow_id", NULL, "suricata.flow_id" },
	{ "alert", "action", "suricata.alert.action" },
	{ "alert", "signature_id", "suricata.alert.signature_id" },
	{ "alert", "signature", "suricata.alert.signature" },
	{ "alert", "category", "suricata.alert.category" },
	{ "alert", "severity", "suricata.alert.severity" },
};

static const struct jsel falco_sel[] = {
	{ "rule", NULL, "falco.rule" },
	{ "priority", NULL, "falco.priority" },
	{ "hostname", NULL, "falco.hostname" },
	{ "source", NULL, "falco.source" },
	{ "tags", NULL, "falco.tags" },
};

#define NSEL(a) (sizeof(a) / sizeof((a)[0]))

static void json_alert(struct ctx *c, const char *tool, const char *source)
{
	set_lit(c, &c->ev->type, "finding.created");
	c->ev->category = AB_CAT_SECURITY;
	set_lit(c, &c->ev->tool, tool);
	set_lit(c, &c->ev->source, source);
}

static bool json_wazuh(struct ctx *c, json_t *root)
{
	json_t *level = jget(root, "rule", "level");
	const char *desc = jstr(root, "rule", "description");

	if (!json_is_integer(level))
		return false;
	if (!desc)
		desc = jstr(root, "rule", "comment");     /* OSSEC */
	json_alert(c, jget(root, "rule", "sidid") ? "ossec" : "wazuh", "hids");
	c->ev->severity = ab_severity_from_scale(AB_SCALE_WAZUH,
						 jint(level, -1, 1000));
	jset(c, &c->ev->title, desc, AB_SYSLOG_MAX_TITLE);
	jset(c, &c->ev->summary, jstr(root, "full_log", NULL) ? jstr(root, "full_log", NULL) : desc,
	     SUMMARY_MAX);
	jset(c, &c->ev->asset, jstr(root, "agent", "name"), MEMBER_MAX);
	jcopy(c, root, wazuh_sel, NSEL(wazuh_sel));
	json_time(c, jstr(root, "timestamp", NULL));
	return true;
}

static bool json_suricata(struct ctx *c, json_t *root)
{
	const char *et = jstr(root, "event_type", NULL);
	json_t *sev = jget(root, "alert", "severity");
	char sum[1024];

	if (!et || !jget(root, "src_ip", NULL))
		return false;
	if (strcmp(et, "alert") == 0) {
		json_alert(c, "suricata", "ids");
		if (json_is_integer(sev))
			c->ev->severity = ab_severity_from_scale(AB_SCALE_SURICATA,
								 jint(sev, 0, 1000));
		jset(c, &c->ev->title, jstr(root, "alert", "signature"), AB_SYSLOG_MAX_TITLE);
		snprintf(sum, sizeof sum, "%.400s: %.64s:%lld -> %.64s:%lld (%.200s)",
			 jstr(root, "alert", "signature") ? jstr(root, "alert", "signature") : "alert",
			 jstr(root, "src_ip", NULL) ? jstr(root, "src_ip", NULL) : "?",
			 (long long)json_integer_value(jget(root, "src_port", NULL)),
			 jstr(root, "dest_ip", NULL) ? jstr(root, "dest_ip", NULL) : "?",
			 (long long)json_integer_value(jget(root, "dest_port", NULL)),
			 jstr(root, "alert", "category") ? jstr(root, "alert", "category") : "");
		set_span(c, &c->ev->summary, sum, strlen(sum), SUMMARY_MAX);
		jset(c, &c->ev->asset, jstr(root, "dest_ip", NULL), MEMBER_MAX);
	} else {
		set_lit(c, &c->ev->tool, "suricata");
		set_lit(c, &c->ev->source, "ids");
	}
	jcopy(c, root, suricata_sel, NSEL(suricata_sel));
	json_time(c, jstr(root, "timestamp", NULL));
	return true;
}

static bool json_falco(struct ctx *c, json_t *root)
{
	const char *rule = jstr(root, "rule", NULL), *prio = jstr(root, "priority", NULL);
	const char *out = jstr(root, "output", NULL);
	enum ab_severity sev;

	if (!rule || !prio || !out)
		return false;
	json_alert(c, "falco", "runtime");
	if (ab_severity_parse(prio, &sev) == 0)
		c->ev->severity = sev;
	jset(c, &c->ev->title, rule, AB_SYSLOG_MAX_TITLE);
	jset(c, &c->ev->summary, out, SUMMARY_MAX);
	jset(c, &c->ev->asset, jstr(root, "hostname", NULL), MEMBER_MAX);
	jcopy(c, root, falco_sel, NSEL(falco_sel));
	json_time(c, jstr(root, "time", NULL));
	return true;
}

/* Any other object: top-level scalars as "<prefix>key". */
/* An array holding an object or an array is not a field. */
static bool array_has_containers(json_t *a)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
		if (json_is_object(e) || json_is_array(e))
			return true;
	return false;
}

#define JSON_FLAT_DEPTH 4      /* nesting levels flattened into dotted names */
#define JSON_FLAT_KEY 192      /* longest dotted name kept */

/* Members of o as "<prefix>a.b.c" fields: scalars and arrays of scalars,
 * nested objects down to JSON_FLAT_DEPTH (Winlogbeat's winlog.event_id,
 * ECS's log.level), while there is room for fields. */
static void json_flatten(struct ctx *c, json_t *o, char *key, size_t klen, int depth)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		size_t n = strlen(k);

		if (n > KEY_MAX || klen + n + 2 > JSON_FLAT_KEY)
			continue;
		memcpy(key + klen, k, n + 1);
		if (json_is_object(v)) {
			if (depth + 1 < JSON_FLAT_DEPTH) {
				key[klen + n] = '.';
				key[klen + n + 1] = '\0';
				json_flatten(c, v, key, klen + n + 1, depth + 1);
			}
		} else if (!json_is_array(v) || (json_array_size(v) <= AB_SYSLOG_MAX_FIELDS &&
						  !array_has_containers(v))) {
			if (!field_room(c))
				return;
			field_set(c, key, json_incref(v));
		}
		key[klen] = '\0';
	}
}

static void json_generic(struct ctx *c, json_t *root, const char *prefix)
{
	static const char *const msgkeys[] = { "msg", "message", "title", "description" };
	static const char *const sevkeys[] = { "severity", "level", "priority" };
	const char *s;
	char key[JSON_FLAT_KEY + 8];
	size_t i, pl = strlen(prefix);
	enum ab_severity sev;

	memcpy(key, prefix, pl + 1);
	json_flatten(c, root, key, pl, 0);
	for (i = 0; i < NSEL(msgkeys); i++) {
		if ((s = jstr(root, msgkeys[i], NULL)) != NULL) {
			set_span(c, &c->ev->summary, s, strlen(s), SUMMARY_MAX);
			set_span(c, &c->ev->title, s, strcspn(s, "\r\n"), AB_SYSLOG_MAX_TITLE);
			break;
		}
	}
	for (i = 0; i < NSEL(sevkeys); i++)
		if ((s = jstr(root, sevkeys[i], NULL)) && ab_severity_parse(s, &sev) == 0) {
			c->ev->severity = sev;
			break;
		}
	json_time(c, jstr(root, "timestamp", NULL) ? jstr(root, "timestamp", NULL) :
		  jstr(root, "@timestamp", NULL) ? jstr(root, "@timestamp", NULL) :
		  jstr(root, "time", NULL));
}

static bool parse_json(struct ctx *c, const char *p, size_t n, bool cee)
{
	json_error_t jerr;
	json_t *root = json_loadb(p, n, 0, &jerr);

	if (!root)
		return false;
	if (!json_is_object(root)) {
		json_decref(root);
		return false;
	}
	c->payload = cee ? "cee" : "json";
	if (!json_wazuh(c, root) && !json_suricata(c, root) && !json_falco(c, root))
		json_generic(c, root, cee ? "cee." : "json.");
	json_decref(root);
	return true;
}

/* ------------------------------------------------------------ payload */

/*
 * The first "CEF:<digits>|" or "LEEF:<digits/dots>|" in n bytes at p, also
 * right after other text ("host CEF:0|", "hostCEF:0|"), as the common CEF
 * decoders ignore whatever precedes "CEF:".  NULL if none; *leef says
 * which.  One memchr pass over the colons.
 */
static char *find_marker(char *p, size_t n, bool *leef)
{
	char *q = p, *end = p + n;

	while ((q = memchr(q, ':', (size_t)(end - q))) != NULL) {
		char *s = NULL, *d = q + 1;

		if (q - p >= 4 && !memcmp(q - 4, "LEEF", 4))
			s = q - 4, *leef = true;
		else if (q - p >= 3 && !memcmp(q - 3, "CEF", 3))
			s = q - 3, *leef = false;
		q++;
		while (s && d < end && d - q < 2 && *d == ' ')   /* "CEF: 0|" (FortiOS) */
			d++;
		if (!s || d >= end || !a_digit(*d))
			continue;
		while (d < end && d - q < 8 && (a_digit(*d) || (*leef && *d == '.')))
			d++;
		if (d < end && *d == '|')
			return s;
	}
	return NULL;
}

static void parse_payload(struct ctx *c)
{
	char *p = c->msg.p, *m;
	size_t n = c->msg.n;
	struct span area;
	bool leef = false;

	skip_sp(&p, &n);
	if (starts(p, n, "CEF:") && parse_cef(c, p, n))
		return;
	if (starts(p, n, "LEEF:") && parse_leef(c, p, n))
		return;
	if (starts(p, n, "@cee:")) {
		p += 5;
		n -= 5;
		skip_sp(&p, &n);
		parse_json(c, p, n, true);
		return;
	}
	if (n > 0 && p[0] == '{') {
		parse_json(c, p, n, false);
		return;
	}
	/* "CEF:" / "LEEF:" after other text; for RFC 3164 also inside what
	 * was read as the header (no space before it: "hostCEF:0|...") */
	area = c->rest.p && c->rest.p <= p ? c->rest : (struct span){ p, n };
	if (area.p + area.n < p + n)
		area.n = (size_t)(p + n - area.p);
	m = find_marker(area.p, area.n, &leef);
	if (!m)
		return;
	if (!(leef ? parse_leef(c, m, (size_t)(p + n - m)) : parse_cef(c, m, (size_t)(p + n - m))))
		return;
	if (m < p) {    /* the header took part of the payload: drop that part */
		if (c->app.p && c->app.p < m) {
			size_t hl = host_at(c->app.p, (size_t)(m - c->app.p));

			if (!c->host.n && hl == (size_t)(m - c->app.p))
				c->host = (struct span){ c->app.p, hl };
		}
		if (c->host.p && c->host.p + c->host.n > m)
			c->host = (struct span){ NULL, 0 };
		if (c->app.p && c->app.p + c->app.n > m)
			c->app = c->procid = (struct span){ NULL, 0 };
		c->msg = (struct span){ m, (size_t)(p + n - m) };
	}
}

/* ------------------------------------------------------------ the entry */

static void fill_common(struct ctx *c, const char *peer_host)
{
	struct ab_event *ev = c->ev;
	const char *mp = c->msg.p;
	size_t mn = c->msg.n;

	if (c->pri >= 0) {
		field_set(c, "syslog.facility", json_integer(c->pri / 8));
		field_set(c, "syslog.severity", json_integer(c->pri % 8));
	}
	field_set(c, "syslog.format", json_string(c->format));
	if (c->app.n)
		field_str(c, "syslog.appname", c->app.p, c->app.n);
	if (c->procid.n)
		field_str(c, "syslog.procid", c->procid.p, c->procid.n);
	if (c->msgid.n)
		field_str(c, "syslog.msgid", c->msgid.p, c->msgid.n);
	if (c->payload)
		field_set(c, "syslog.payload", json_string(c->payload));
	if (c->host.n)
		set_span(c, &ev->origin.host, c->host.p, c->host.n, MEMBER_MAX);
	else if (peer_host)
		set_span(c, &ev->origin.host, peer_host, strlen(peer_host), MEMBER_MAX);
	ev->received_at = c->now_ms;
	ev->occurred_at = c->payload_ts ? c->payload_ts : c->ts;
	if (!ev->tool && c->app.n)
		set_span(c, &ev->tool, c->app.p, c->app.n, MEMBER_MAX);
	if (!ev->source)
		set_lit(c, &ev->source, "syslog");
	while (mn > 0 && (mp[mn - 1] == ' ' || mp[mn - 1] == '\t'))
		mn--;
	if (!ev->summary && mn)
		set_span(c, &ev->summary, mp, mn, SUMMARY_MAX);
	if (!ev->title) {
		while (mn > 0 && *mp == ' ')
			mp++, mn--;
		if (mn) {
			const char *nl = memchr(mp, '\n', mn);

			set_span(c, &ev->title, mp, nl ? (size_t)(nl - mp) : mn, AB_SYSLOG_MAX_TITLE);
		} else {
			set_lit(c, &ev->title, "(empty syslog message)");
		}
	}
}

static int parse_pri(const char *p, size_t n, size_t *used)
{
	size_t i;
	int v;

	if (n < 3 || p[0] != '<')
		return -1;
	v = num(p + 1, n - 1, 4, &i);
	if (v < 0 || i > 3 || 1 + i >= n || p[1 + i] != '>' || v > 191)
		return -1;
	*used = i + 2;
	return v;
}

int ab_syslog_parse(const char *line, size_t len, const char *peer_host, int64_t now_ms,
		    struct ab_event *ev, char *err, size_t errsz)
{
	struct ctx c;
	bool truncated = false, clean;
	size_t hostlen = peer_host ? strlen(peer_host) : 0, need, used = 0;
	char *buf, *p;
	size_t n;

	if (!line || !ev) {
		if (err && errsz)
			snprintf(err, errsz, "syslog parse: bad argument");
		return -1;
	}
	if (len > AB_SYSLOG_MAX_LINE) {
		len = AB_SYSLOG_MAX_LINE;
		truncated = true;
	}
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == '\0'))
		len--;
	if (hostlen > MEMBER_MAX)
		hostlen = MEMBER_MAX;
	clean = utf8_clean((const unsigned char *)line, len);
	need = (clean ? len : 3 * len) + 1;
	if (need < len + hostlen + 2)
		need = len + hostlen + 2;
	buf = malloc(need);
	if (!buf) {
		if (err && errsz)
			snprintf(err, errsz, "syslog parse: out of memory");
		return -1;
	}
	/* the id: raw line, NUL, peer host */
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (hostlen)
		memcpy(buf + len + 1, peer_host, hostlen);
	memset(&c, 0, sizeof c);
	c.ev = ev;
	c.now_ms = now_ms;
	c.pri = -1;
	set_lit(&c, &ev->origin.kind, "syslog");
	ab_event_compute_id(ev, buf, len + (hostlen ? hostlen + 1 : 0));
	if (clean) {
		n = len;
	} else {
		n = utf8_repair((const unsigned char *)line, len, buf);
	}
	buf[n] = '\0';

	p = buf;
	c.pri = parse_pri(p, n, &used);
	if (c.pri >= 0) {
		p += used;
		n -= used;
	}
	if (c.pri < 0 || !parse_5424(&c, p, n)) {
		c.host = c.app = c.procid = c.msgid = (struct span){ NULL, 0 };
		parse_3164(&c, p, n);
	}
	if (c.pri < 0)
		c.pri = 13;     /* RFC 3164 4.3.3: user.notice when PRI is missing */
	set_lit(&c, &ev->type, "syslog.message");
	ev->category = AB_CAT_SYSTEM;
	ev->severity = ab_severity_from_scale(AB_SCALE_SYSLOG, c.pri % 8);
	parse_payload(&c);
	fill_common(&c, peer_host);
	if (truncated)
		field_set(&c, "syslog.truncated", json_true());
	free(buf);
	if (c.fail) {
		if (err && errsz)
			snprintf(err, errsz, "syslog parse: out of memory");
		return -1;
	}
	return 0;
}
