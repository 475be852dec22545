/*
 * syslog_scan.c - the syslog scanner: one line -> struct ab_syslog_view
 * (syslog.h), slices into the line and small scalars.  Nothing is
 * allocated, copied, unescaped or decoded here; syslog.c builds the event.
 *
 * Order: PRI; RFC 5424 (VERSION 1, TIMESTAMP or "-", NILVALUEs, structured
 * data validated and kept whole, BOM skipped before MSG); else RFC 3164 and
 * its real-world variants (below).  Then the MSG part: CEF, LEEF 1.0/2.0
 * (header split, extension pairs listed), "@cee:" JSON and plain JSON
 * (found, not decoded).  Anything else is a plain message.
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
 * the payload.  Header fields split on unescaped '|'.  Extension keys are
 * a letter, digit or '_' first, then also '.', ',', '-', '[', ']'.
 * Extension values run to the SP before the next key: they keep spaces,
 * '|' and unescaped '=' (decode_cef drops such a value; we keep it);
 * spaces before the separating SP are kept, trailing white space of the
 * last value is not; a tab is no separator.  CEF values and header fields
 * that hold a backslash are marked for unescaping (ab_syslog_unescape).
 * CEF rt and LEEF devTime (epoch ms, or "Mmm dd yyyy hh:mm:ss") give the
 * payload time.
 *
 * Numbers taken from the line are range-checked before use: PRI 0-191 (at
 * most 3 digits), dates field by field, epoch times at most 14 digits,
 * LEEF delimiters 1-4 hex digits.  No regex, no printf, no allocation.
 *
 * Public: ab_syslog_scan, ab_syslog_unescape, ab_syslog_sd_next (syslog.h);
 *         ab_syslog_scan_text, ab_syslog_iso_time (syslog_int.h, for syslog.c).
 * Diagnostics: none.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parse/syslog.h"
#include "parse/syslog_int.h"
#include "lib/util.h"

#define KV_KEY_MAX 128           /* longest CEF/LEEF extension key */
#define HDR_FIELD_MAX 255        /* longest RFC 5424 header field */
#define TAG_MAX 64               /* longest TAG ended by ':' or "[pid]" */
#define TAG_SP_MAX 32            /* longest TAG ended by SP (RFC 3164 4.1.3) */
#define PID_MAX 128
#define FUTURE_SLACK_MS (31 * 86400000LL)   /* a yearless time may be this far ahead */
#define TIME_TEXT_MAX 256        /* longer (unescaped) text is no device time */

struct span {
	const char *p;
	size_t n;
};

struct scan {
	struct ab_syslog_view *v;
	struct span rest;            /* RFC 3164: the text after the PRI, then
				      * after the timestamp (CEF search) */
};

/* ------------------------------------------------------------ small helpers */

static struct ab_syslog_slice sl(const char *p, size_t n)
{
	return (struct ab_syslog_slice){ p, (uint32_t)n, AB_SYSLOG_ESC_NONE };
}

/* A slice marked for unescaping as esc when it holds a backslash. */
static struct ab_syslog_slice sl_esc(const char *p, size_t n, enum ab_syslog_esc esc)
{
	struct ab_syslog_slice s = sl(p, n);

	if (esc != AB_SYSLOG_ESC_NONE && n && memchr(p, '\\', n))
		s.esc = esc;
	return s;
}

static bool starts(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && memcmp(p, lit, k) == 0;
}

static void skip_sp(const char **p, size_t *n)
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

/* AB_SYSLOG_V_HIGH / _NUL for n bytes at p, eight bytes at a time. */
static unsigned byte_flags(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t hi = 0, zero = 0, w;
	size_t i = 0;
	unsigned f = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		hi |= w;
		zero |= (w - ones) & ~w;     /* a zero byte sets its top bit */
	}
	if (hi & highs)
		f |= AB_SYSLOG_V_HIGH;
	if (zero & highs)
		f |= AB_SYSLOG_V_NUL;
	for (; i < n; i++) {
		if ((unsigned char)p[i] >= 0x80)
			f |= AB_SYSLOG_V_HIGH;
		else if (!p[i])
			f |= AB_SYSLOG_V_NUL;
	}
	return f;
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

size_t ab_syslog_iso_time(const char *p, size_t n, bool need_zone, int64_t *out)
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
		if ((p[0] | 0x20) == months[k][0] && (p[1] | 0x20) == months[k][1] &&
		    (p[2] | 0x20) == months[k][2]) {
			mo = k + 1;
			break;
		}
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
static bool token(const char **p, size_t *n, struct span *out)
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

/* End of the quoted SD-PARAM value that starts at p[i] (the offset of its
 * closing '"'), or n. */
static size_t sd_value_end(const char *p, size_t i, size_t n)
{
	while (i < n && p[i] != '"') {
		if (p[i] == '\\' && i + 1 < n)
			i++;
		i++;
	}
	return i;
}

/* The length of the SD-ELEMENTs at p, 0 if they are not valid. */
static size_t sd_valid(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0 || p[0] != '[')
		return 0;
	while (i < n && p[i] == '[') {
		size_t idn = sd_name(p + i + 1, n - i - 1);

		if (!idn)
			return 0;
		i += 1 + idn;
		while (i < n && p[i] == ' ') {
			size_t nn = sd_name(p + i + 1, n - i - 1);

			if (!nn)
				return 0;
			i += 1 + nn;
			if (i + 1 >= n || p[i] != '=' || p[i + 1] != '"')
				return 0;
			i = sd_value_end(p, i + 2, n);
			if (i >= n)
				return 0;
			i++;    /* closing quote */
		}
		if (i >= n || p[i] != ']')
			return 0;
		i++;
	}
	return i;
}

bool ab_syslog_sd_next(const struct ab_syslog_view *v, struct ab_syslog_sd_iter *it,
		       struct ab_syslog_slice *id, struct ab_syslog_slice *name,
		       struct ab_syslog_slice *value)
{
	const char *p;
	size_t n, nn, e;

	if (!it->p) {
		if (!v->sd.p)
			return false;
		it->p = v->sd.p;
		it->end = v->sd.p + v->sd.n;
	}
	/* v->sd is valid (sd_valid): '[' ID (' ' NAME '="' VALUE '"')* ']' ...,
	 * so an ID ends at ' ' or ']' and a NAME at '=' */
	for (p = it->p; p < it->end; ) {
		n = (size_t)(it->end - p);
		if (*p == '[') {
			for (nn = 1; p[nn] != ' ' && p[nn] != ']'; nn++)
				;
			it->id = sl(p + 1, nn - 1);
			p += nn;
		} else if (*p == ' ') {
			for (nn = 0; p[1 + nn] != '='; nn++)
				;
			*name = sl(p + 1, nn);
			e = sd_value_end(p, 1 + nn + 2, n);
			*value = sl_esc(p + 1 + nn + 2, e - (1 + nn + 2), AB_SYSLOG_ESC_SD);
			*id = it->id;
			it->p = p + e + 1;
			return true;
		} else {
			p++;    /* ']' */
		}
	}
	it->p = it->end;
	return false;
}

static bool nil(struct span s)
{
	return s.n == 1 && s.p[0] == '-';
}

static bool scan_5424(struct scan *sc, const char *p, size_t n)
{
	struct ab_syslog_view *v = sc->v;
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
	if (!nil(ts) && ab_syslog_iso_time(ts.p, ts.n, true, &t) != ts.n)
		return false;
	/* structured data: "-" or elements, then SP MSG or the end */
	if (n >= 1 && p[0] == '-' && (n == 1 || p[1] == ' ')) {
		sdlen = 1;
	} else {
		sdlen = sd_valid(p, n);
		if (!sdlen || (sdlen < n && p[sdlen] != ' ')) {
			v->flags |= AB_SYSLOG_V_SD_INVALID;
			sdlen = 0;
		} else {
			v->sd = sl(p, sdlen);
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
	v->format = AB_SYSLOG_RFC5424;
	v->ts = t;
	if (!nil(host))
		v->host = sl(host.p, host.n);
	if (!nil(app))
		v->app = sl(app.p, app.n);
	if (!nil(procid))
		v->procid = sl(procid.p, procid.n);
	if (!nil(msgid))
		v->msgid = sl(msgid.p, msgid.n);
	v->msg = sl(p, n);
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

		if (ab_sl_alnum(ch) || ch == '.' || ch == '-' || ch == '_')
			continue;
		if (ch != ':')
			return 0;
		colons++;
	}
	if (i == 0 || i > HDR_FIELD_MAX || !ab_sl_alnum(p[i - 1]))
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

	if (n == 0 || n > TAG_SP_MAX || !(ab_sl_alpha(p[0]) || p[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!ab_sl_alnum(p[i]) && p[i] != '_' && p[i] != '.' && p[i] != '-' &&
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
	pid->p = p + 1;
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
static size_t parse_tag(struct ab_syslog_view *v, const char *p, size_t n, bool after_hdr)
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
	v->app = sl(p, i);
	if (pid.n)
		v->procid = sl(pid.p, pid.n);
	if (j < n && p[j] == ' ')
		j++;
	return j;
}

/*
 * RFC 3164 and its variants, read as rsyslog's pmrfc3164 reads them unless
 * the header comment says otherwise.
 */
static void scan_3164(struct scan *sc, const char *p, size_t n)
{
	struct ab_syslog_view *v = sc->v;
	size_t used, i;
	int64_t t = 0;
	const char *q = p;
	size_t qn = n;

	v->format = AB_SYSLOG_RFC3164;
	while (qn > 0 && (*q == ' ' || *q == '\t'))
		q++, qn--;
	sc->rest = (struct span){ q, qn };
	/* rsyslog: text that opens with '{' or '[' has no header */
	if (qn > 0 && (*q == '{' || *q == '[')) {
		v->msg = sl(q, qn);
		return;
	}
	used = ab_syslog_iso_time(q, qn, false, &t);
	if (!used || (used < qn && q[used] != ' '))
		used = parse_bsd(q, qn, v->now_ms, &t);
	if (!used || (used < qn && q[used] != ' ')) {
		/* no timestamp: no header to read a HOSTNAME from; only a
		 * "tag:" / "tag[pid]:" (local /dev/log style) */
		if (!payload_start(q, qn)) {
			used = parse_tag(v, q, qn, false);
			q += used;
			qn -= used;
		}
		v->msg = sl(q, qn);
		return;
	}
	v->ts = t;
	q += used;
	qn -= used;
	skip_sp(&q, &qn);
	sc->rest = (struct span){ q, qn };
	if (!payload_start(q, qn)) {
		i = host_at(q, qn);
		if (i) {
			v->host = sl(q, i);
			q += i;
			qn -= i;
			skip_sp(&q, &qn);
		}
	}
	if (!payload_start(q, qn)) {
		used = parse_tag(v, q, qn, true);
		q += used;
		qn -= used;
	}
	v->msg = sl(q, qn);
}

/* ------------------------------------------------------------ key=value lists */

/* Extension keys as the common CEF decoders take them (Elastic's
 * decode_cef: a letter, digit or '_' first, then also '.', ',', '[', ']');
 * '-' is taken too (seen in the wild). */
static bool key_start(char ch)
{
	return ab_sl_alnum(ch) || ch == '_';
}

static bool key_char(char ch)
{
	return ab_sl_alnum(ch) || ch == '_' || (ch >= ',' && ch <= '.') ||  /* , - . */
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
 * the others belong to the value, as in decode_cef), and that key's
 * length in *kn; or n (and 0). */
static size_t next_key(const char *p, size_t n, size_t *kn)
{
	const char *q = p, *end = p + n;

	while ((q = memchr(q, ' ', (size_t)(end - q))) != NULL) {
		q++;
		if (q < end && key_start(*q) && (*kn = key_at(q, (size_t)(end - q))) != 0)
			return (size_t)(q - 1 - p);
	}
	*kn = 0;
	return n;
}

/* A device time: epoch milliseconds (12-13 digits) or seconds (10), or
 * "Mmm dd [yyyy] hh:mm:ss[.fff]" optionally followed by " UTC" / " GMT" /
 * " Z" (CEF rt, LEEF devTime), read unescaped.  Other zones are not
 * guessed. */
static bool kv_time(const struct ab_syslog_view *v, struct ab_syslog_slice s, int64_t *out)
{
	char tmp[TIME_TEXT_MAX];
	const char *p = s.p;
	size_t i, used, vn = s.n;
	int64_t t = 0;

	if (s.esc) {
		if (vn > sizeof tmp)
			return false;
		vn = ab_syslog_unescape(s, tmp);
		p = tmp;
	}
	for (i = 0; i < vn && i < 14 && p[i] >= '0' && p[i] <= '9'; i++)
		t = t * 10 + (p[i] - '0');      /* at most 14 digits: no overflow */
	if (i == vn) {
		if (vn == 10)
			t *= 1000;
		else if (vn != 12 && vn != 13)
			return false;
		*out = t;
		return true;
	}
	used = parse_bsd(p, vn, v->now_ms, &t);
	if (!used)
		return false;
	if (used < vn && !((vn - used == 4 && (!memcmp(p + used, " UTC", 4) ||
					       !memcmp(p + used, " GMT", 4))) ||
			   (vn - used == 2 && !memcmp(p + used, " Z", 2))))
		return false;
	*out = t;
	return true;
}

/* The keys read on the way (the view's kv_msg, kv_sev, kv_asset,
 * kv_asset2 and payload_ts), for every pair, also beyond kv[]. */
static void kv_special(struct ab_syslog_view *v, const char *k, size_t kn,
		       struct ab_syslog_slice s)
{
	int64_t t;

	switch (kn) {
	case 2:
		if (!memcmp(k, "rt", 2) && kv_time(v, s, &t))
			v->payload_ts = t;
		break;
	case 3:
		if (!memcmp(k, "msg", 3))
			v->kv_msg = s;
		else if (!memcmp(k, "sev", 3))
			v->kv_sev = s;
		else if (!memcmp(k, "dst", 3))
			v->kv_asset2 = s;
		break;
	case 5:
		if (!memcmp(k, "dhost", 5))
			v->kv_asset = s;
		break;
	case 7:
		if (!memcmp(k, "message", 7) && !v->kv_msg.p)
			v->kv_msg = s;
		else if (!memcmp(k, "devTime", 7) && kv_time(v, s, &t))
			v->payload_ts = t;
		break;
	case 8:
		if (!memcmp(k, "severity", 8) && !v->kv_sev.p)
			v->kv_sev = s;
		break;
	default:
		break;
	}
}

static void kv_put(struct ab_syslog_view *v, const char *k, size_t kn, const char *val,
		   size_t vn, enum ab_syslog_esc esc)
{
	struct ab_syslog_slice s = sl_esc(val, vn, esc);

	kv_special(v, k, kn, s);
	if (v->nkv >= AB_SYSLOG_MAX_FIELDS) {
		v->flags |= AB_SYSLOG_V_KV_MORE;
		return;
	}
	v->kv[v->nkv].key = sl(k, kn);
	v->kv[v->nkv].value = s;
	v->nkv++;
}

/*
 * "k1=v1 k2=multi word value k3=v3" (CEF extension rules, as decode_cef):
 * a key starts after a SP; a value runs to the SP before the next key, so
 * it may hold spaces, '|' and unescaped '=' (kept, where decode_cef drops
 * the value); spaces before that SP are kept, trailing white space of the
 * last value is not; "k=" is an empty value.  Text before the first key is
 * skipped.  Values with a backslash are marked esc.
 */
static void kv_spaced(struct ab_syslog_view *v, const char *p, size_t n, enum ab_syslog_esc esc)
{
	size_t kn, nkn, vend, vn;
	const char *val;

	skip_sp(&p, &n);
	kn = key_at(p, n);
	while (n > 0) {
		if (!kn) {               /* junk: resume at the next key */
			vend = next_key(p, n, &kn);
			if (vend >= n)
				break;
			p += vend + 1;
			n -= vend + 1;
			continue;
		}
		val = p + kn + 1;
		n -= kn + 1;
		vend = next_key(val, n, &nkn);
		vn = vend;
		if (vend == n)
			while (vn > 0 && ab_sl_ws(val[vn - 1]))
				vn--;
		kv_put(v, p, kn, val, vn, esc);
		if (vend >= n)
			break;
		p = val + vend + 1;
		n -= vend + 1;
		kn = nkn;               /* the key next_key found there */
	}
}

/* "k1=v1<d>k2=v2" with a single-byte delimiter (LEEF); keys and values
 * are trimmed of spaces and tabs. */
static void kv_delim(struct ab_syslog_view *v, const char *p, size_t n, char delim)
{
	while (n > 0) {
		const char *e = memchr(p, delim, n), *eq;
		size_t len = e ? (size_t)(e - p) : n, kn, vn;

		eq = memchr(p, '=', len);
		if (eq) {
			const char *k = p;

			kn = (size_t)(eq - p);
			while (kn > 0 && (*k == ' ' || *k == '\t'))
				k++, kn--;
			while (kn > 0 && (k[kn - 1] == ' ' || k[kn - 1] == '\t'))
				kn--;
			vn = len - (size_t)(eq + 1 - p);
			while (vn > 0 && ab_sl_ws(eq[vn]))
				vn--;
			if (kn > 0 && kn <= KV_KEY_MAX)
				kv_put(v, k, kn, eq + 1, vn, AB_SYSLOG_ESC_NONE);
		}
		if (!e)
			break;
		p += len + 1;
		n -= len + 1;
	}
}

size_t ab_syslog_unescape(struct ab_syslog_slice s, char *out)
{
	const char *p = s.p;
	size_t i, o = 0, n = s.n;

	switch (s.esc) {
	case AB_SYSLOG_ESC_CEF:
		/* \\ \= \n \r, and \| and \: (not in the spec, but sent:
		 * Microsoft Defender for Identity writes https\://); any other
		 * backslash stays */
		for (i = 0; i < n; i++) {
			if (p[i] == '\\' && i + 1 < n) {
				char e = p[i + 1];

				if (e == '\\' || e == '=' || e == '|' || e == ':') {
					out[o++] = e;
					i++;
					continue;
				}
				if (e == 'n' || e == 'r') {
					out[o++] = e == 'n' ? '\n' : '\r';
					i++;
					continue;
				}
			}
			out[o++] = p[i];
		}
		return o;
	case AB_SYSLOG_ESC_HDR:
		for (i = 0; i < n; i++) {
			if (p[i] == '\\' && i + 1 < n && (p[i + 1] == '|' || p[i + 1] == '\\'))
				i++;
			out[o++] = p[i];
		}
		return o;
	case AB_SYSLOG_ESC_SD:
		for (i = 0; i < n; i++) {
			if (p[i] == '\\' && i + 1 < n &&
			    (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']'))
				i++;
			out[o++] = p[i];
		}
		return o;
	default:
		if (n)
			memcpy(out, p, n);
		return n;
	}
}

/* ------------------------------------------------------------ CEF / LEEF */

/* Split n header fields on unescaped '|'; returns bytes used or 0. */
static size_t split_pipes(const char *p, size_t n, struct span *out, int count)
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

/* 1..maxd digits, with '.' too when dots (a CEF / LEEF version). */
static bool version_ok(struct span s, size_t maxd, bool dots)
{
	size_t i;

	while (s.n > 0 && s.p[0] == ' ')   /* "CEF: 0|": FortiOS writes a blank */
		s.p++, s.n--;
	if (s.n == 0 || s.n > maxd || !ab_sl_digit(s.p[0]))
		return false;
	for (i = 1; i < s.n; i++)
		if (!ab_sl_digit(s.p[i]) && !(dots && s.p[i] == '.'))
			return false;
	return true;
}

/* "CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|
 * Name|Severity|Extension" at p. */
static bool scan_cef(struct ab_syslog_view *v, const char *p, size_t n)
{
	struct span h[7];
	size_t used, i;

	if (n < 4)
		return false;
	used = split_pipes(p + 4, n - 4, h, 7);
	while (used && h[0].n > 0 && h[0].p[0] == ' ')
		h[0].p++, h[0].n--;
	if (!used || !version_ok(h[0], 4, false))
		return false;
	v->payload = AB_SYSLOG_CEF;
	v->body = sl(p, n);
	for (i = 0; i < 7; i++)
		v->hdr[i] = sl_esc(h[i].p, h[i].n, AB_SYSLOG_ESC_HDR);
	if (memmem(p + 4 + used, n - 4 - used, "Label=", 6))     /* most: none */
		v->flags |= AB_SYSLOG_V_LABELS;
	kv_spaced(v, p + 4 + used, n - 4 - used, AB_SYSLOG_ESC_CEF);
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
		int ch = (unsigned char)s.p[off] | 0x20;

		if (s.p[off] >= '0' && s.p[off] <= '9')
			v = v * 16 + s.p[off] - '0';
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
 * sender that separates by spaces is read with the CEF rules (values not
 * unescaped). */
static bool scan_leef(struct ab_syslog_view *v, const char *p, size_t n)
{
	struct span h[5];
	size_t used, rest, i;
	const char *attrs;
	int delim = '\t';

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
	v->payload = AB_SYSLOG_LEEF;
	v->body = sl(p, n);
	for (i = 0; i < 5; i++)
		v->hdr[i] = sl_esc(h[i].p, h[i].n, AB_SYSLOG_ESC_HDR);
	attrs = p + 5 + used;
	rest = n - 5 - used;
	if (h[0].p[0] == '2') {
		const char *bar = memchr(attrs, '|', rest);

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
		kv_delim(v, attrs, rest, (char)delim);
	else
		kv_spaced(v, attrs, rest, AB_SYSLOG_ESC_NONE);
	return true;
}

/* ------------------------------------------------------------ payload */

/*
 * The first "CEF:<digits>|" or "LEEF:<digits/dots>|" in n bytes at p, also
 * right after other text ("host CEF:0|", "hostCEF:0|"), as the common CEF
 * decoders ignore whatever precedes "CEF:".  NULL if none; *leef says
 * which.  One memchr pass over the colons.
 */
static const char *find_marker(const char *p, size_t n, bool *leef)
{
	const char *q = p, *end = p + n;

	while ((q = memchr(q, ':', (size_t)(end - q))) != NULL) {
		const char *s = NULL, *d = q + 1;

		if (q - p >= 4 && !memcmp(q - 4, "LEEF", 4))
			s = q - 4, *leef = true;
		else if (q - p >= 3 && !memcmp(q - 3, "CEF", 3))
			s = q - 3, *leef = false;
		q++;
		while (s && d < end && d - q < 2 && *d == ' ')   /* "CEF: 0|" (FortiOS) */
			d++;
		if (!s || d >= end || !ab_sl_digit(*d))
			continue;
		while (d < end && d - q < 8 && (ab_sl_digit(*d) || (*leef && *d == '.')))
			d++;
		if (d < end && *d == '|')
			return s;
	}
	return NULL;
}

static void scan_payload(struct scan *sc)
{
	struct ab_syslog_view *v = sc->v;
	const char *p = v->msg.p, *m;
	size_t n = v->msg.n;
	struct span area;
	bool leef = false, ok;

	skip_sp(&p, &n);
	if (starts(p, n, "CEF:") && scan_cef(v, p, n))
		return;
	if (starts(p, n, "LEEF:") && scan_leef(v, p, n))
		return;
	if (starts(p, n, "@cee:")) {
		p += 5;
		n -= 5;
		skip_sp(&p, &n);
		v->payload = AB_SYSLOG_CEE;
		v->body = sl(p, n);
		return;
	}
	if (n > 0 && p[0] == '{') {
		v->payload = AB_SYSLOG_JSON;
		v->body = sl(p, n);
		return;
	}
	/* "CEF:" / "LEEF:" after other text; for RFC 3164 also inside what
	 * was read as the header (no space before it: "hostCEF:0|...") */
	area = sc->rest.p && sc->rest.p <= p ? sc->rest : (struct span){ p, n };
	if (area.p + area.n < p + n)
		area.n = (size_t)(p + n - area.p);
	m = find_marker(area.p, area.n, &leef);
	if (!m)
		return;
	ok = leef ? scan_leef(v, m, (size_t)(p + n - m)) : scan_cef(v, m, (size_t)(p + n - m));
	if (!ok)
		return;
	if (m < p) {    /* the header took part of the payload: drop that part */
		if (v->app.p && v->app.p < m) {
			size_t hl = host_at(v->app.p, (size_t)(m - v->app.p));

			if (!v->host.n && hl == (size_t)(m - v->app.p))
				v->host = sl(v->app.p, hl);
		}
		if (v->host.p && v->host.p + v->host.n > m)
			v->host = sl(NULL, 0);
		if (v->app.p && v->app.p + v->app.n > m)
			v->app = v->procid = sl(NULL, 0);
		v->msg = sl(m, (size_t)(p + n - m));
	}
}

/* ------------------------------------------------------------ the entry */

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

void ab_syslog_scan_text(const char *p, size_t n, int64_t now_ms, unsigned flags,
			 struct ab_syslog_view *v)
{
	struct scan sc = { v, { NULL, 0 } };
	size_t used = 0;
	int pri;

	memset(v, 0, offsetof(struct ab_syslog_view, kv));   /* kv[]: up to nkv */
	v->line = p;
	v->len = n;
	v->now_ms = now_ms;
	v->flags = flags;
	pri = parse_pri(p, n, &used);
	if (pri >= 0) {
		p += used;
		n -= used;
	}
	if (pri < 0 || !scan_5424(&sc, p, n))
		scan_3164(&sc, p, n);
	if (pri < 0) {
		pri = 13;       /* RFC 3164 4.3.3: user.notice when PRI is missing */
		v->flags |= AB_SYSLOG_V_NO_PRI;
	}
	v->pri = pri;
	scan_payload(&sc);
}

size_t ab_syslog_line_len(const char *line, size_t len)
{
	if (len > AB_SYSLOG_MAX_LINE)
		len = AB_SYSLOG_MAX_LINE;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == '\0'))
		len--;
	return len;
}

int ab_syslog_scan(const char *line, size_t len, int64_t now_ms, struct ab_syslog_view *v)
{
	unsigned flags = 0;

	if (!line || !v)
		return -1;
	if (len > AB_SYSLOG_MAX_LINE)
		flags |= AB_SYSLOG_V_TRUNCATED;
	len = ab_syslog_line_len(line, len);
	ab_syslog_scan_text(line, len, now_ms, flags | byte_flags(line, len), v);
	return 0;
}
