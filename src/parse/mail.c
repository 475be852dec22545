/*
 * mail.c - parse a raw RFC 5322 message (GMime 3) into struct ab_mail.
 *
 * Public: ab_mail_parse, ab_mail_free, ab_mail_header, ab_mail_limits_default,
 *         ab_mail_limit_name.
 * Diagnostics: ab_mail_parse writes into err: why it failed ("mail: empty
 *         message", "mail: not a mail message"), or which limit was hit and
 *         what was kept ("mail: MIME nesting deeper than max_depth 20; deeper
 *         parts skipped").  It never logs by itself.
 *
 * The message is untrusted.  Only the first max_message bytes are parsed;
 * each header value is cut at max_header; the MIME tree is walked with a
 * depth cap (max_depth) and an entity count cap (max_parts); decoded content
 * (text, html, attachment bodies) is read in chunks through GMime's decoding
 * filters, converted to UTF-8 (see "charsets" below) and kept up to
 * max_decoded bytes in total, body parts first.  Header values are decoded
 * here (see "RFC 2047" below), not by GMime.  Every string handed out is
 * valid UTF-8 without NUL bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "lib/buf.h"
#include "parse/html.h"
#include "parse/mail.h"
#include "lib/utf8.h"

#define DEPTH_HARD_MAX 512          /* whatever the configuration says */
#define READ_CHUNK 8192

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_init(void)
{
	g_mime_init();
}

struct ctx {
	struct ab_mail_limits lim;
	struct ab_mail *m;
	size_t budget;              /* decoded bytes still allowed */
	GMimeObject **leaves;       /* borrowed from the message */
	size_t n_leaves, cap_leaves;
	bool stop;                  /* max_parts hit: walk no further */
	char sniff[64];             /* charset found in an XML declaration */
	bool nomem;
	char *err;
	size_t errsz;
};

void ab_mail_limits_default(struct ab_mail_limits *lim)
{
	lim->max_message = AB_MAIL_DEF_MAX_MESSAGE;
	lim->max_header = AB_MAIL_DEF_MAX_HEADER;
	lim->max_depth = AB_MAIL_DEF_MAX_DEPTH;
	lim->max_parts = AB_MAIL_DEF_MAX_PARTS;
	lim->max_decoded = AB_MAIL_DEF_MAX_DECODED;
}

const char *ab_mail_limit_name(enum ab_mail_limit l)
{
	switch (l) {
	case AB_MAIL_LIMIT_NONE: return "none";
	case AB_MAIL_LIMIT_MESSAGE: return "max_message";
	case AB_MAIL_LIMIT_HEADER: return "max_header";
	case AB_MAIL_LIMIT_DEPTH: return "max_depth";
	case AB_MAIL_LIMIT_PARTS: return "max_parts";
	case AB_MAIL_LIMIT_DECODED: return "max_decoded";
	}
	return "unknown";
}

static void seterr(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* Record a limit; the first one hit names the reason and the message. */
static void hit(struct ctx *c, enum ab_mail_limit l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void hit(struct ctx *c, enum ab_mail_limit l, const char *fmt, ...)
{
	va_list ap;

	c->m->truncated = true;
	if (c->m->limit != AB_MAIL_LIMIT_NONE)
		return;
	c->m->limit = l;
	if (c->err && c->errsz) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errsz, fmt, ap);
		va_end(ap);
	}
}

/* Cleaned, malloc'd copy of s (at most max bytes); NULL for NULL or ENOMEM
 * (c->nomem set).  *cut tells whether it was shortened. */
static char *clean_dup(struct ctx *c, const char *s, size_t max, bool single_line, bool *cut)
{
	struct ab_buf b = AB_BUF_INIT(max);
	char *r;

	if (cut)
		*cut = false;
	if (!s)
		return NULL;
	if (!ab_utf8_valid(s, strlen(s)))
		c->m->n_bad_utf8++;
	if (ab_utf8_clean(&b, s, strlen(s), single_line) < 0) {
		if (b.oom || !b.overflow) {
			ab_buf_free(&b);
			c->nomem = true;
			return NULL;
		}
		if (cut)
			*cut = true;
	}
	r = ab_buf_steal(&b);
	if (!r)
		c->nomem = true;
	return r;
}

/* ------------------------------------------------------------ charsets */

static bool ieq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

static bool in_names(const char *cs, const char *const *names)
{
	for (; *names; names++)
		if (ieq(cs, *names))
			return true;
	return false;
}

/* Labels whose text is read as UTF-8 (ASCII is a subset; a label that says
 * nothing is no better than none). */
static bool is_utf8_charset(const char *cs)
{
	static const char *const names[] = {
		"utf-8", "utf8", "unicode-1-1-utf-8", "us-ascii", "ascii", "ansi_x3.4-1968",
		"iso646-us", "us", "cp367", "x-unknown", "unknown", "unknown-8bit", "default",
		"x-user-defined", NULL
	};

	return in_names(cs, names);
}

/* Labels read as windows-1252 (the WHATWG Encoding Standard's reading). */
static bool is_latin1_charset(const char *cs)
{
	static const char *const names[] = {
		"iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "iso-ir-100",
		"latin1", "latin-1", "l1", "ibm819", "cp819", "csisolatin1", "windows-1252",
		"cp1252", "x-cp1252", "cp-1252", "win-1252", NULL
	};

	return in_names(cs, names);
}

/* UTF-16/32 text is not checked for a UTF-8 mislabel (its bytes never are). */
static bool is_wide_charset(const char *cs)
{
	return strncasecmp(cs, "utf-16", 6) == 0 || strncasecmp(cs, "utf16", 5) == 0 ||
		strncasecmp(cs, "utf-32", 6) == 0 || strncasecmp(cs, "utf32", 5) == 0 ||
		strncasecmp(cs, "ucs-", 4) == 0 || strncasecmp(cs, "ucs2", 4) == 0 ||
		strncasecmp(cs, "ucs4", 4) == 0 || ieq(cs, "unicode");
}

static bool has_bom16(const char *in, size_t len)
{
	return len >= 2 && (memcmp(in, "\xff\xfe", 2) == 0 || memcmp(in, "\xfe\xff", 2) == 0);
}

static bool has_bom32(const char *in, size_t len)
{
	return len >= 4 && (memcmp(in, "\xff\xfe\0\0", 4) == 0 ||
			    memcmp(in, "\0\0\xfe\xff", 4) == 0);
}

static int put_fffd(struct ab_buf *out)
{
	return ab_utf8_clean(out, "\xef\xbf\xbd", 3, false);
}

/*
 * in[0..len) through iconv cd, appended to out as clean UTF-8; a byte iconv
 * cannot convert, and an incomplete sequence at the end, become U+FFFD
 * (counted in *nbad).  A CR at a chunk's end waits for the next chunk so
 * that CR LF stays one line end.
 */
static int iconv_append(struct ab_buf *out, iconv_t cd, const char *in, size_t len,
			bool single_line, size_t *nbad)
{
	char chunk[4096];
	char *ip = (char *)in;     /* iconv's prototype; the input is not written */
	size_t il = len, keep = 0;
	bool done = false;

	(void)iconv(cd, NULL, NULL, NULL, NULL);
	while (!done) {
		char *op = chunk + keep, *ip0 = ip;
		size_t ol = sizeof(chunk) - keep, r, n, k0 = keep;
		int e = 0;

		if (il > 0) {
			r = iconv(cd, &ip, &il, &op, &ol);
			e = r == (size_t)-1 ? errno : 0;
		} else {
			(void)iconv(cd, NULL, NULL, &op, &ol);   /* back to the initial state */
			done = true;
		}
		n = (size_t)(op - chunk);
		keep = !done && (e == 0 || e == E2BIG) && n > 0 && chunk[n - 1] == '\r' ? 1 : 0;
		if (ab_utf8_clean(out, chunk, n - keep, single_line) < 0)
			return -1;
		if (keep)
			chunk[0] = '\r';
		if (e == E2BIG && (n > k0 || ip > ip0))
			continue;
		if (e) {
			/* EILSEQ, EINVAL (cut at the end) or anything else: skip a byte */
			if (put_fffd(out) < 0)
				return -1;
			(*nbad)++;
			if (il > 0) {
				ip++;
				il--;
			}
		}
	}
	return 0;
}

/*
 * Append text in charset cs (NULL when none was given) to out as clean
 * UTF-8 (see ab_utf8_clean for single_line, the cap and the return value).
 *  - A byte order mark wins over the label (UTF-8 BOM dropped; UTF-16 BOM
 *    with no label or a UTF-8/ASCII one: UTF-16); UTF-16 and UTF-32
 *    without one are big-endian (RFC 2781).
 *  - No label, a UTF-8 or ASCII one, or one iconv does not know: UTF-8 when
 *    the text reads as UTF-8 (bad bytes then become U+FFFD), else
 *    windows-1252, so 8-bit text in a legacy charset is never lost.
 *  - Any other 8-bit label: text that is valid UTF-8 with at least one
 *    multibyte character is UTF-8 mislabeled (legacy text almost never is
 *    valid UTF-8); else ISO-8859-1 and windows-1252 are read as
 *    windows-1252, the rest through iconv (bytes it cannot convert become
 *    U+FFFD).
 * *nbad counts the bytes that became U+FFFD.
 */
/* Does the text hold a continuation byte (0x80-0xBF) right after another
 * high byte, as damaged UTF-8 does and Latin-1 text seldom does? */
static bool utf8_like_damage(const char *in, size_t len)
{
	size_t i;

	for (i = 1; i < len; i++)
		if (((unsigned char)in[i] & 0xc0) == 0x80 && (unsigned char)in[i - 1] >= 0x80)
			return true;
	return false;
}

static int to_utf8(struct ab_buf *out, const char *in, size_t len, const char *cs,
		   bool single_line, size_t *nbad)
{
	size_t multi, bad;
	iconv_t cd;
	int r;

	*nbad = 0;
	if (cs && !*cs)
		cs = NULL;
	if (len >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0 && (!cs || !is_wide_charset(cs))) {
		in += 3;
		len -= 3;
		cs = "UTF-8";
	} else if (has_bom16(in, len) && (!cs || is_utf8_charset(cs))) {
		cs = "UTF-16";
	}
	if (cs && (ieq(cs, "utf-16") || ieq(cs, "utf16")) && !has_bom16(in, len))
		cs = "UTF-16BE";        /* RFC 2781 4.3 (iconv would take the host's order) */
	else if (cs && (ieq(cs, "utf-32") || ieq(cs, "utf32")) && !has_bom32(in, len))
		cs = "UTF-32BE";
	if (cs && !is_utf8_charset(cs) && !is_wide_charset(cs)) {
		ab_utf8_count(in, len, &multi, &bad);
		if (multi > 0 && bad == 0)
			cs = NULL;
	}
	if (cs && is_latin1_charset(cs))
		return ab_utf8_from_cp1252(out, in, len, single_line);
	if (cs && !is_utf8_charset(cs)) {
		cd = g_mime_iconv_open("UTF-8", cs);
		if (cd != (iconv_t)-1) {
			size_t start = out->len;

			r = iconv_append(out, cd, in, len, single_line, nbad);
			g_mime_iconv_close(cd);
			/* a BOM the charset did not consume (UTF-16LE, ...) */
			if (out->len >= start + 3 &&
			    memcmp(out->data + start, "\xef\xbb\xbf", 3) == 0) {
				memmove(out->data + start, out->data + start + 3,
					out->len - start - 3 + 1);
				out->len -= 3;
			}
			return r;
		}
	}
	ab_utf8_count(in, len, &multi, &bad);
	/* 8-bit text with not one valid multibyte sequence: windows-1252 when
	 * there is no label (or us-ascii, unknown), or when a UTF-8 label is
	 * on text whose high bytes stand alone as Latin-1 letters do ("d\xe9j\xe0
	 * vu").  Broken UTF-8 (a lead byte with continuation bytes: overlong
	 * forms, surrogates) under a UTF-8 label stays UTF-8, its bad bytes
	 * replaced and counted, so the milter logs it. */
	if (bad > 0 && multi == 0 &&
	    (!(cs && (ieq(cs, "utf-8") || ieq(cs, "utf8"))) || !utf8_like_damage(in, len)))
		return ab_utf8_from_cp1252(out, in, len, single_line);
	*nbad = bad;
	return ab_utf8_clean(out, in, len, single_line);
}

/* ------------------------------------------------------------ RFC 2047 */

/*
 * Header values are decoded here, not by GMime: GMime 3.2 before 3.2.14
 * decodes a run of base64 encoded words of one charset as one base64
 * stream and stops at the first word's "=" padding, so everything after a
 * padded word was lost ("=?UTF-8?B?...=?= =?UTF-8?B?...?=" kept only the
 * first word, and a character split between the words became "?").  Its
 * '?' for bytes that do not convert also hid damage that we show as U+FFFD.
 *
 * What is decoded (RFC 2047, read the way mailers write it):
 *  - "=?charset[*lang]?B|Q?text?=" anywhere, also without white space
 *    around it; B and Q in either case;
 *  - the white space between two encoded words is dropped;
 *  - adjacent words of one charset are decoded into one byte string before
 *    the charset conversion, so a character split between them survives; a
 *    base64 word that ends mid-quantum and a Q "=XX" cut between words are
 *    joined with the next word;
 *  - a word whose text is not base64 / Q is kept as it is written;
 *  - unencoded 8-bit bytes are UTF-8 when they read as UTF-8, else
 *    windows-1252.
 * Linear time: the searches for "?=" and for the first character invalid in
 * an encoded text remember their answer (the scan only moves forward).
 */

#define EW_MAX_CHARSET 64

struct ew {
	size_t start, end;          /* "=?" .. past "?=" */
	size_t cs, cs_len;          /* charset (without "*lang") */
	char enc;                   /* 'B' or 'Q' */
	size_t text, text_len;
};

struct hscan {
	const char *s;
	size_t n;
	bool qe_ok;
	size_t qe_from, qe;         /* first "?=" at or after qe_from (n: none) */
	bool bad_ok[2];
	size_t bad_from[2], bad[2]; /* first char invalid in B [0] / Q [1] text */
};

static bool b64_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		ch == '+' || ch == '/' || ch == '=' || ch == ' ' || ch == '\t';
}

static bool q_char(unsigned char ch)
{
	return (ch >= 0x20 && ch < 0x7f) || ch == '\t';
}

static size_t find_qe(struct hscan *h, size_t from)
{
	size_t i;

	if (h->qe_ok && from >= h->qe_from && from <= h->qe)
		return h->qe;
	for (i = from; i + 1 < h->n; i++)
		if (h->s[i] == '?' && h->s[i + 1] == '=')
			break;
	if (i + 1 >= h->n)
		i = h->n;
	h->qe_ok = true;
	h->qe_from = from;
	h->qe = i;
	return i;
}

static size_t find_bad(struct hscan *h, int k, size_t from)
{
	size_t i;

	if (h->bad_ok[k] && from >= h->bad_from[k] && from <= h->bad[k])
		return h->bad[k];
	for (i = from; i < h->n; i++)
		if (!(k == 0 ? b64_char((unsigned char)h->s[i]) : q_char((unsigned char)h->s[i])))
			break;
	h->bad_ok[k] = true;
	h->bad_from[k] = from;
	h->bad[k] = i;
	return i;
}

/* An encoded word at pos ("=?" there)? */
static bool parse_ew(struct hscan *h, size_t pos, struct ew *w)
{
	const char *s = h->s;
	size_t i = pos + 2, qe;
	char enc;

	while (i < h->n && s[i] != '?' && i - (pos + 2) < EW_MAX_CHARSET &&
	       (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f)
		i++;
	if (i + 2 >= h->n || s[i] != '?' || s[i + 2] != '?')
		return false;
	enc = s[i + 1];
	if (enc == 'b' || enc == 'q')
		enc = (char)(enc - 'a' + 'A');
	if (enc != 'B' && enc != 'Q')
		return false;
	w->start = pos;
	w->cs = pos + 2;
	w->cs_len = i - (pos + 2);
	w->enc = enc;
	w->text = i + 3;
	qe = find_qe(h, w->text);
	if (qe >= h->n || find_bad(h, enc == 'B' ? 0 : 1, w->text) < qe)
		return false;
	w->text_len = qe - w->text;
	w->end = qe + 2;
	for (i = 0; i < w->cs_len; i++)     /* RFC 2231 language suffix */
		if (s[w->cs + i] == '*') {
			w->cs_len = i;
			break;
		}
	return true;
}

/* Decoded bytes of a run of encoded words in one charset. */
struct ew_run {
	struct ab_buf bytes;
	char cs[EW_MAX_CHARSET + 1];
	unsigned long bits;         /* base64 sextets not yet written */
	int nsext;
	char qcarry[3];             /* "=" or "=X" at the end of a Q word */
	size_t nq;
};

static int run_b64_flush(struct ew_run *r)
{
	unsigned char o[2];
	int n = 0;

	if (r->nsext == 2) {
		o[0] = (unsigned char)(r->bits >> 4);
		n = 1;
	} else if (r->nsext == 3) {
		o[0] = (unsigned char)(r->bits >> 10);
		o[1] = (unsigned char)(r->bits >> 2);
		n = 2;
	}
	r->bits = 0;
	r->nsext = 0;
	return n ? ab_buf_append_trunc(&r->bytes, o, (size_t)n) : 0;
}

static int run_q_flush(struct ew_run *r)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < r->nq && rc == 0; i++)
		rc = ab_buf_putc(&r->bytes, r->qcarry[i] == '_' ? ' ' : r->qcarry[i]);
	r->nq = 0;
	return rc;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int run_add_b64(struct ew_run *r, const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t[i];
		int v;

		if (ch == '=') {
			/* padding ends this quantum; the next word starts afresh */
			if (run_b64_flush(r) < 0)
				return -1;
			continue;
		}
		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else
			continue;           /* white space */
		r->bits = (r->bits << 6) | (unsigned long)v;
		if (++r->nsext == 4) {
			unsigned char o[3];

			o[0] = (unsigned char)(r->bits >> 16);
			o[1] = (unsigned char)(r->bits >> 8);
			o[2] = (unsigned char)r->bits;
			r->bits = 0;
			r->nsext = 0;
			if (ab_buf_append_trunc(&r->bytes, o, 3) < 0)
				return -1;
		}
	}
	return 0;
}

static int run_add_q(struct ew_run *r, const char *t, size_t n)
{
	size_t i = 0;

	while (r->nq > 0 && r->nq < 3 && i < n)
		r->qcarry[r->nq++] = t[i++];
	if (r->nq == 3) {
		int hi = hexval(r->qcarry[1]), lo = hexval(r->qcarry[2]);

		if (hi >= 0 && lo >= 0) {
			r->nq = 0;
			if (ab_buf_putc(&r->bytes, (char)(hi << 4 | lo)) < 0)
				return -1;
		} else if (run_q_flush(r) < 0) {
			return -1;
		}
	}
	while (i < n) {
		char ch = t[i];

		if (ch == '=' && n - i < 3) {
			/* "=" or "=X" at the end: may go on in the next word */
			while (i < n)
				r->qcarry[r->nq++] = t[i++];
			break;
		}
		if (ch == '=' && hexval(t[i + 1]) >= 0 && hexval(t[i + 2]) >= 0) {
			ch = (char)(hexval(t[i + 1]) << 4 | hexval(t[i + 2]));
			i += 2;
		} else if (ch == '_') {
			ch = ' ';
		}
		i++;
		if (ab_buf_putc(&r->bytes, ch) < 0)
			return -1;
	}
	return 0;
}

static int run_add(struct ew_run *r, const struct hscan *h, const struct ew *w)
{
	int rc;

	if (w->enc == 'B') {
		if (r->nq && run_q_flush(r) < 0)
			return -1;
		rc = run_add_b64(r, h->s + w->text, w->text_len);
	} else {
		if (r->nsext && run_b64_flush(r) < 0)
			return -1;
		rc = run_add_q(r, h->s + w->text, w->text_len);
	}
	return rc;
}

/* Convert the run to UTF-8 onto out and empty it. */
static int run_end(struct ew_run *r, struct ab_buf *out, size_t *nbad)
{
	size_t bad = 0;
	int rc = 0;

	(void)run_b64_flush(r);
	(void)run_q_flush(r);
	if (r->bytes.len)
		rc = to_utf8(out, r->bytes.data, r->bytes.len, r->cs[0] ? r->cs : NULL, true, &bad);
	*nbad += bad;
	ab_buf_reset(&r->bytes);
	r->cs[0] = '\0';
	return rc;
}

static int plain_text(struct ab_buf *out, const char *s, size_t n, size_t *nbad)
{
	size_t bad = 0;
	int rc = n ? to_utf8(out, s, n, NULL, true, &bad) : 0;

	*nbad += bad;
	return rc;
}

static bool all_space(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/*
 * Unfold raw[0..rawlen) (CR and LF dropped, the white space after them
 * kept, leading and trailing white space trimmed) and decode it onto out as
 * one clean line.  *nbad counts bytes that became U+FFFD.  Returns 0, or -1
 * when out was cut (overflow set) or memory ran out.
 */
static int decode_header_value(struct ab_buf *out, const char *raw, size_t rawlen, size_t *nbad)
{
	/* encoded text takes at most 3 bytes (Q) per byte it stands for */
	size_t cap = out->max < SIZE_MAX / 4 ? out->max * 3 + 64 : SIZE_MAX / 4;
	struct ab_buf u = AB_BUF_INIT(cap);
	struct ew_run r;
	struct hscan h;
	struct ew w;
	size_t i, p = 0, lit = 0;
	bool in_run = false, cut = false;
	int rc = 0;

	*nbad = 0;
	for (i = 0; i < rawlen; i++) {
		const char *q = raw + i;
		size_t k = i;

		while (k < rawlen && raw[k] != '\r' && raw[k] != '\n')
			k++;
		if (k > i && ab_buf_append_trunc(&u, q, k - i) < 0) {
			if (u.oom || !u.overflow) {
				ab_buf_free(&u);
				return -1;
			}
			cut = true;
			break;
		}
		i = k;
	}
	while (u.len && (u.data[u.len - 1] == ' ' || u.data[u.len - 1] == '\t'))
		u.len--;
	while (lit < u.len && (u.data[lit] == ' ' || u.data[lit] == '\t'))
		lit++;
	memset(&h, 0, sizeof(h));
	h.s = u.data;
	h.n = u.len;
	memset(&r, 0, sizeof(r));
	ab_buf_init(&r.bytes, cap);
	for (p = lit; p + 1 < h.n && rc == 0; ) {
		const char *q = memchr(h.s + p, '=', h.n - p);

		if (!q || (size_t)(q - h.s) + 1 >= h.n)
			break;
		p = (size_t)(q - h.s);
		if (h.s[p + 1] != '?' || !parse_ew(&h, p, &w)) {
			p++;
			continue;
		}
		if (in_run && all_space(h.s + lit, p - lit) && w.cs_len == strlen(r.cs) &&
		    strncasecmp(r.cs, h.s + w.cs, w.cs_len) == 0) {
			/* same charset: decoded together */
		} else {
			bool ws = in_run && all_space(h.s + lit, p - lit);

			if (in_run)
				rc = run_end(&r, out, nbad);
			if (rc == 0 && !ws)
				rc = plain_text(out, h.s + lit, p - lit, nbad);
			memcpy(r.cs, h.s + w.cs, w.cs_len);
			r.cs[w.cs_len] = '\0';
			in_run = true;
		}
		if (rc == 0 && run_add(&r, &h, &w) < 0) {
			if (r.bytes.overflow && !r.bytes.oom)
				cut = true;     /* what fits is still converted */
			else
				rc = -1;
		}
		p = lit = w.end;
	}
	if (in_run && rc == 0)
		rc = run_end(&r, out, nbad);
	if (rc == 0 && lit < h.n)
		rc = plain_text(out, h.s + lit, h.n - lit, nbad);
	ab_buf_free(&r.bytes);
	ab_buf_free(&u);
	if (rc == 0 && cut) {
		out->overflow = true;
		rc = -1;
	}
	return rc;
}

/* ------------------------------------------------------------ lists */

/* A header field's value: raw (folded, maybe encoded) when GMime kept it,
 * else GMime's decoded value.  Decoded, cleaned, malloc'd, at most
 * max_header bytes; NULL on ENOMEM (c->nomem set). */
static char *header_dup(struct ctx *c, GMimeHeader *h, bool *cut)
{
	const char *raw = g_mime_header_get_raw_value(h);
	struct ab_buf b = AB_BUF_INIT(c->lim.max_header);
	size_t nbad = 0;
	char *r;

	*cut = false;
	if (!raw)
		return clean_dup(c, g_mime_header_get_value(h) ? g_mime_header_get_value(h) : "",
				 c->lim.max_header, true, cut);
	if (decode_header_value(&b, raw, strlen(raw), &nbad) < 0) {
		if (b.oom || !b.overflow) {
			ab_buf_free(&b);
			c->nomem = true;
			return NULL;
		}
		*cut = true;
	}
	if (nbad)
		c->m->n_bad_utf8++;
	r = ab_buf_steal(&b);
	if (!r)
		c->nomem = true;
	return r;
}


static int push_str(char ***arr, size_t *n, char *s)
{
	char **na;

	if (!s)
		return -1;
	na = realloc(*arr, (*n + 1) * sizeof(*na));
	if (!na) {
		free(s);
		return -1;
	}
	*arr = na;
	na[(*n)++] = s;
	return 0;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------ headers */

struct hdr_ref {
	GMimeHeader *h;
	gint64 offset;
	size_t seq;
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr_ref *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * GMime 3 keeps the top-level Content-* fields on the MIME part, the rest on
 * the message; put them back together in their order in the message.
 */
static struct hdr_ref *collect_headers(struct ctx *c, GMimeMessage *msg, size_t *count)
{
	GMimeHeaderList *lists[2];
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	struct hdr_ref *refs;
	size_t total = 0, n = 0, l;
	int i, k;

	lists[0] = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	lists[1] = body ? g_mime_object_get_header_list(body) : NULL;
	for (l = 0; l < 2; l++) {
		k = lists[l] ? g_mime_header_list_get_count(lists[l]) : 0;
		total += k > 0 ? (size_t)k : 0;
	}
	*count = 0;
	if (total == 0)
		return NULL;
	refs = calloc(total, sizeof(*refs));
	if (!refs) {
		c->nomem = true;
		return NULL;
	}
	for (l = 0; l < 2; l++) {
		k = lists[l] ? g_mime_header_list_get_count(lists[l]) : 0;
		for (i = 0; i < k; i++) {
			GMimeHeader *h = g_mime_header_list_get_header_at(lists[l], i);

			if (!h || !g_mime_header_get_name(h))
				continue;
			refs[n].h = h;
			refs[n].offset = g_mime_header_get_offset(h);
			refs[n].seq = n;
			n++;
		}
	}
	qsort(refs, n, sizeof(*refs), hdr_cmp);
	*count = n;
	return refs;
}

static void take_headers(struct ctx *c, GMimeMessage *msg)
{
	struct ab_mail *m = c->m;
	struct hdr_ref *refs;
	size_t i, count;

	refs = collect_headers(c, msg, &count);
	if (!refs)
		return;
	if (count > AB_MAIL_MAX_HEADERS) {
		hit(c, AB_MAIL_LIMIT_HEADER, "mail: %zu header fields, only the first %d kept",
		    count, AB_MAIL_MAX_HEADERS);
		count = AB_MAIL_MAX_HEADERS;
	}
	m->headers = calloc(count, sizeof(*m->headers));
	if (!m->headers) {
		free(refs);
		c->nomem = true;
		return;
	}
	for (i = 0; i < count && !c->nomem; i++) {
		GMimeHeader *h = refs[i].h;
		const char *rawv = g_mime_header_get_raw_value(h);
		struct ab_mail_header *mh = &m->headers[m->n_headers];
		bool cut = false;

		mh->name = clean_dup(c, g_mime_header_get_name(h), c->lim.max_header, true, NULL);
		mh->value = header_dup(c, h, &cut);
		if (!mh->name || !mh->value) {
			free(mh->name);
			free(mh->value);
			mh->name = mh->value = NULL;
			c->nomem = true;
			break;
		}
		m->n_headers++;
		if (cut || (rawv && strlen(rawv) > c->lim.max_header))
			hit(c, AB_MAIL_LIMIT_HEADER,
			    "mail: header '%.64s' longer than max_header %zu; value cut",
			    mh->name, c->lim.max_header);
		if (strcasecmp(mh->name, "Authentication-Results") == 0 &&
		    m->n_auth_results < AB_MAIL_MAX_AUTH) {
			if (push_str(&m->auth_results, &m->n_auth_results, strdup(mh->value)) < 0)
				c->nomem = true;
		}
	}
	free(refs);
}

static void add_addresses(struct ctx *c, InternetAddressList *list, char ***arr, size_t *n,
			  size_t max, int level)
{
	int i, count;

	if (!list || level > 1)     /* groups do not nest; ignore if they claim to */
		return;
	count = internet_address_list_length(list);
	for (i = 0; i < count && *n < max && !c->nomem; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			char *a = addr && *addr ? clean_dup(c, addr, c->lim.max_header, true, NULL) :
				  NULL;

			if (a && strlen(a) > AB_MAIL_MAX_ADDR)
				free(a);
			else if (a && push_str(arr, n, a) < 0)
				c->nomem = true;
		} else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			add_addresses(c, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
				      arr, n, max, level + 1);
		}
	}
}

static void take_envelope(struct ctx *c, GMimeMessage *msg)
{
	struct ab_mail *m = c->m;
	const char *s;
	GMimeHeader *hs;
	char **from = NULL;
	size_t n_from = 0;
	GDateTime *dt;
	bool cut = false;

	hs = g_mime_header_list_get_header(g_mime_object_get_header_list(GMIME_OBJECT(msg)),
					   "Subject");
	if (hs) {
		m->subject = header_dup(c, hs, &cut);
		if (cut)
			hit(c, AB_MAIL_LIMIT_HEADER, "mail: Subject longer than max_header %zu; cut",
			    c->lim.max_header);
	}
	add_addresses(c, g_mime_message_get_from(msg), &from, &n_from, 1, 0);
	if (n_from) {
		m->from = from[0];
		from[0] = NULL;
	}
	free_strv(from, n_from);
	add_addresses(c, g_mime_message_get_to(msg), &m->to, &m->n_to, AB_MAIL_MAX_RCPT, 0);

	dt = g_mime_message_get_date(msg);
	if (dt) {
		gint64 secs = g_date_time_to_unix(dt);

		/* 1970 .. 9999 only; anything else counts as no date */
		if (secs > 0 && secs < INT64_C(253402300800))
			m->date = (int64_t)secs * 1000 + g_date_time_get_microsecond(dt) / 1000;
	}
	s = g_mime_message_get_message_id(msg);
	if (s && *s)
		m->message_id = clean_dup(c, s, c->lim.max_header, true, NULL);
	if (m->message_id && strlen(m->message_id) > AB_MAIL_MAX_ADDR) {
		free(m->message_id);   /* not a valid one: as if absent */
		m->message_id = NULL;
	}
}

/* ------------------------------------------------------------ MIME walk */

static void add_leaf(struct ctx *c, GMimeObject *obj)
{
	if (c->n_leaves == c->cap_leaves) {
		size_t ncap = c->cap_leaves ? c->cap_leaves * 2 : 8;
		GMimeObject **nl = realloc(c->leaves, ncap * sizeof(*nl));

		if (!nl) {
			c->nomem = true;
			return;
		}
		c->leaves = nl;
		c->cap_leaves = ncap;
	}
	c->leaves[c->n_leaves++] = obj;
}

/* Recursion depth is bounded by lim.max_depth (<= DEPTH_HARD_MAX). */
static void walk(struct ctx *c, GMimeObject *obj, size_t depth)
{
	if (!obj || c->stop || c->nomem)
		return;
	if (c->m->n_parts >= c->lim.max_parts) {
		hit(c, AB_MAIL_LIMIT_PARTS, "mail: more than max_parts %zu MIME parts; the rest skipped",
		    c->lim.max_parts);
		c->stop = true;
		return;
	}
	c->m->n_parts++;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int i, n = g_mime_multipart_get_count(mp);

		if (n > 0 && depth >= c->lim.max_depth) {
			hit(c, AB_MAIL_LIMIT_DEPTH,
			    "mail: MIME nesting deeper than max_depth %zu; deeper parts skipped",
			    c->lim.max_depth);
			return;
		}
		for (i = 0; i < n && !c->stop && !c->nomem; i++)
			walk(c, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	add_leaf(c, obj);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t l = s ? strlen(s) : 0, k = strlen(suffix);

	return l > k && strcasecmp(s + l - k, suffix) == 0;
}

static bool text_like(const char *type, const char *sub)
{
	static const char *const app[] = {
		"json", "xml", "x-json", "x-ndjson", "ndjson", "jsonl", "x-xml", NULL
	};

	if (!type || !sub)
		return false;
	if (ieq(type, "text"))
		return true;
	if (ieq(type, "application") && in_names(sub, app))
		return true;
	return ends_with(sub, "+xml") || ends_with(sub, "+json");
}

/*
 * The type a part really has when its Content-Type says nothing (a generic
 * binary type) but its file name does: "application/json" for *.json, ...;
 * NULL otherwise.
 */
static const char *type_from_name(const char *type, const char *sub, const char *filename)
{
	static const char *const generic[] = {
		"octet-stream", "x-octet-stream", "download", "x-download", "force-download",
		"binary", "x-binary", "unknown", "x-unknown", NULL
	};
	static const struct {
		const char *ext, *type;
	} ext[] = {
		{ ".json", "application/json" }, { ".ndjson", "application/json" },
		{ ".jsonl", "application/json" }, { ".xml", "application/xml" },
		{ ".nessus", "application/xml" },
		{ ".txt", "text/plain" }, { ".log", "text/plain" }, { ".csv", "text/csv" },
	};
	size_t i;

	if (!filename || !type || !sub)
		return NULL;
	if (!(ieq(type, "application") && in_names(sub, generic)) && !ieq(type, "binary"))
		return NULL;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (ends_with(filename, ext[i].ext))
			return ext[i].type;
	return NULL;
}

/*
 * Decode a leaf part's content (its transfer encoding only) in chunks.  Up
 * to dst->max bytes go to dst (dst may be NULL to only count); *size gets
 * the full decoded size.
 */
static void read_content(GMimePart *part, struct ab_buf *dst, size_t *size)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *src, *fs;
	GMimeContentEncoding enc;
	char chunk[READ_CHUNK];
	ssize_t n;

	*size = 0;
	if (!dw || !(src = g_mime_data_wrapper_get_stream(dw)))
		return;
	if (g_mime_stream_reset(src) < 0)
		return;
	fs = g_mime_stream_filter_new(src);
	enc = g_mime_data_wrapper_get_encoding(dw);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	while ((n = g_mime_stream_read(fs, chunk, sizeof(chunk))) > 0) {
		*size += (size_t)n;
		if (dst && !dst->overflow)
			(void)ab_buf_append_trunc(dst, chunk, (size_t)n);
	}
	g_object_unref(fs);
}

static bool is_xml(GMimeContentType *ct)
{
	const char *type = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;

	return type && sub && (ieq(sub, "xml") || ieq(sub, "x-xml") || ends_with(sub, "+xml"));
}

static bool is_html(GMimeContentType *ct)
{
	return ct && g_mime_content_type_is_type(ct, "text", "html");
}

/*
 * Find name = "value" (or 'value', or a bare value) in s[0..n) after key,
 * case-insensitive; copy the value into out[64].  True when found.
 */
static bool sniff_attr(const char *s, size_t n, const char *key, char out[64])
{
	const char *end = s + n, *p = s, *v;
	size_t kl = strlen(key), vl;

	while (p + kl < end) {
		if (strncasecmp(p, key, kl) != 0) {
			p++;
			continue;
		}
		p += kl;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p >= end || *p != '=')
			continue;
		p++;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
				   *p == '"' || *p == '\''))
			p++;
		v = p;
		while (p < end && (isalnum((unsigned char)*p) || *p == '-' || *p == '_' ||
				   *p == '.' || *p == ':'))
			p++;
		vl = (size_t)(p - v);
		if (vl == 0 || vl >= 64)
			continue;
		memcpy(out, v, vl);
		out[vl] = '\0';
		return true;
	}
	return false;
}

/*
 * The charset of a part's decoded bytes: the Content-Type parameter, else
 * for XML the encoding in its declaration, for HTML the charset of a <meta>
 * element in the first 2 KiB (copied into sniff); NULL when none says.
 */
static const char *part_charset(GMimePart *part, const char *data, size_t len, char sniff[64])
{
	const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	const char *p, *end;

	if (cs && *cs)
		return cs;
	if (!data || !len)
		return NULL;
	if (len > 2048)
		len = 2048;
	if (is_xml(ct)) {
		p = data;
		if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;
		if ((size_t)(p - data) + 5 > len || strncmp(p, "<?xml", 5) != 0)
			return NULL;
		end = memmem(p, len - (size_t)(p - data), "?>", 2);
		return end && sniff_attr(p + 5, (size_t)(end - p - 5), "encoding", sniff) ?
			sniff : NULL;
	}
	if (is_html(ct)) {
		p = data;
		while (p < data + len) {
			const char *m = NULL, *q;

			for (q = p; q + 5 <= data + len; q++)
				if (strncasecmp(q, "<meta", 5) == 0) {
					m = q;
					break;
				}
			if (!m)
				break;
			end = memchr(m, '>', len - (size_t)(m - data));
			if (!end)
				end = data + len;
			if (sniff_attr(m + 5, (size_t)(end - m - 5), "charset", sniff))
				return sniff;
			p = end;
		}
	}
	return NULL;
}

/* Decode part and convert it to clean UTF-8 in a malloc'd string within
 * the budget. */
static char *take_text(struct ctx *c, GMimePart *part, size_t *outlen, size_t *size,
		       bool *cut, const char *what)
{
	/* the bytes of a charset may take more room than their UTF-8 (UTF-16) */
	size_t rawmax = c->budget < SIZE_MAX / 4 ? c->budget * 2 + 64 : SIZE_MAX / 2;
	struct ab_buf raw = AB_BUF_INIT(rawmax), clean = AB_BUF_INIT(c->budget);
	size_t nbad = 0;
	char *r;

	*cut = false;
	read_content(part, &raw, size);
	if (raw.overflow)
		*cut = true;
	if (to_utf8(&clean, raw.data ? raw.data : "", raw.len,
		    part_charset(part, raw.data, raw.len, c->sniff), false, &nbad) < 0 || raw.oom) {
		if (raw.oom || clean.oom || !clean.overflow) {
			c->nomem = true;
			ab_buf_free(&raw);
			ab_buf_free(&clean);
			return NULL;
		}
		*cut = true;
	}
	if (nbad)
		c->m->n_bad_utf8++;
	ab_buf_free(&raw);
	if (*cut)
		hit(c, AB_MAIL_LIMIT_DECODED, "mail: decoded content over max_decoded %zu; %s cut",
		    c->lim.max_decoded, what);
	*outlen = clean.len;
	c->budget -= clean.len <= c->budget ? clean.len : c->budget;
	r = ab_buf_steal(&clean);
	if (!r)
		c->nomem = true;
	return r;
}

static void take_attachment(struct ctx *c, GMimeObject *obj)
{
	struct ab_mail *m = c->m;
	struct ab_mail_attachment *a, *na;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *type = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	const char *named;
	struct ab_buf tb = AB_BUF_INIT(256);

	na = realloc(m->attachments, (m->n_attachments + 1) * sizeof(*na));
	if (!na) {
		c->nomem = true;
		return;
	}
	m->attachments = na;
	a = &na[m->n_attachments++];
	memset(a, 0, sizeof(*a));

	named = GMIME_IS_PART(obj) ?
		type_from_name(type, sub, g_mime_part_get_filename(GMIME_PART(obj))) : NULL;
	if (named)
		(void)ab_buf_puts(&tb, named);
	else
		(void)ab_buf_printf(&tb, "%.100s/%.100s", type ? type : "application",
				    sub ? sub : "octet-stream");
	a->content_type = clean_dup(c, ab_buf_cstr(&tb), 256, true, NULL);
	ab_buf_free(&tb);
	if (a->content_type) {
		char *p;

		for (p = a->content_type; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
	if (!GMIME_IS_PART(obj))      /* message/rfc822 and the like: type only */
		return;
	a->filename = clean_dup(c, g_mime_part_get_filename(GMIME_PART(obj)),
				AB_MAIL_MAX_FILENAME, true, NULL);
	if ((named || text_like(type, sub)) && !c->nomem)
		a->content = take_text(c, GMIME_PART(obj), &a->content_len, &a->size,
				       &a->truncated, "attachment");
	else
		read_content(GMIME_PART(obj), NULL, &a->size);
}

/* Is this leaf the message body (inline, no file name, text/plain or html)? */
static int body_kind(GMimeObject *obj)
{
	GMimeContentDisposition *cd;

	if (!GMIME_IS_PART(obj))
		return 0;
	cd = g_mime_object_get_content_disposition(obj);
	if (cd && g_mime_content_disposition_is_attachment(cd))
		return 0;
	if (g_mime_part_get_filename(GMIME_PART(obj)))
		return 0;
	if (g_mime_content_type_is_type(g_mime_object_get_content_type(obj), "text", "plain"))
		return 1;
	if (g_mime_content_type_is_type(g_mime_object_get_content_type(obj), "text", "html"))
		return 2;
	return 0;
}

/* ------------------------------------------------------------ links */

static bool has_link(const struct ab_mail *m, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < m->n_links; i++)
		if (strlen(m->links[i]) == n && memcmp(m->links[i], s, n) == 0)
			return true;
	return false;
}

static void add_link(struct ctx *c, const char *s, size_t n)
{
	char *d;

	if (n == 0 || n > AB_HTML_MAX_LINK || c->m->n_links >= AB_MAIL_MAX_LINKS ||
	    has_link(c->m, s, n))
		return;
	d = strndup(s, n);
	if (push_str(&c->m->links, &c->m->n_links, d) < 0)
		c->nomem = true;
}

static bool url_end(unsigned char ch)
{
	return ch <= 0x20 || ch == 0x7f || ch == '<' || ch == '>' || ch == '"' || ch == '\'' ||
		ch == '`' || ch == '{' || ch == '}' || ch == '|' || ch == '\\' || ch == '^';
}

/* Bare http(s) URLs in text. */
static void scan_links(struct ctx *c, const char *text)
{
	const char *p = text;

	while ((p = strcasestr(p, "http")) != NULL && c->m->n_links < AB_MAIL_MAX_LINKS &&
	       !c->nomem) {
		const char *q;
		size_t skip;

		if (strncasecmp(p, "http://", 7) == 0)
			skip = 7;
		else if (strncasecmp(p, "https://", 8) == 0)
			skip = 8;
		else {
			p += 4;
			continue;
		}
		q = p + skip;
		while (*q && !url_end((unsigned char)*q))
			q++;
		while (q > p + skip && strchr(".,;:!?)]*", q[-1]))
			q--;
		if (q > p + skip)
			add_link(c, p, (size_t)(q - p));
		p = q > p + skip ? q : p + skip;
	}
}

/* ------------------------------------------------------------ body */

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return false;
	return true;
}

static void take_body(struct ctx *c)
{
	struct ab_mail *m = c->m;
	GMimePart *text = NULL, *html = NULL;
	bool *is_body;
	size_t i, size;
	bool cut;

	is_body = calloc(c->n_leaves ? c->n_leaves : 1, sizeof(*is_body));
	if (!is_body) {
		c->nomem = true;
		return;
	}
	for (i = 0; i < c->n_leaves; i++) {
		int k = body_kind(c->leaves[i]);

		if (k == 1 && !text) {
			text = GMIME_PART(c->leaves[i]);
			is_body[i] = true;
		} else if (k == 2 && !html) {
			html = GMIME_PART(c->leaves[i]);
			is_body[i] = true;
		}
	}
	if (text)
		m->text = take_text(c, text, &m->text_len, &size, &cut, "text body");
	if (html && !c->nomem)
		m->html = take_text(c, html, &m->html_len, &size, &cut, "html body");
	if (m->html && m->text && blank(m->text)) {
		/* an empty text/plain alternative: the HTML is the body */
		free(m->text);
		m->text = NULL;
		m->text_len = 0;
		text = NULL;
	}
	if (m->html && !c->nomem) {
		/* links always; the text too when there is no text/plain part */
		struct ab_buf hb = AB_BUF_INIT(text ? m->html_len + 1 : c->budget);
		char **links = NULL;
		size_t n_links = 0, j;
		int r = ab_html_to_text(m->html, m->html_len, &hb, &links, &n_links,
					AB_MAIL_MAX_LINKS);

		for (j = 0; j < n_links; j++)
			add_link(c, links[j], strlen(links[j]));
		ab_html_links_free(links, n_links);
		if (!text && r >= 0) {
			struct ab_buf tb = AB_BUF_INIT(c->budget);

			if (r == 1)
				hit(c, AB_MAIL_LIMIT_DECODED,
				    "mail: decoded content over max_decoded %zu; text of html cut",
				    c->lim.max_decoded);
			if (ab_utf8_clean(&tb, ab_buf_cstr(&hb), hb.len, false) < 0 && (tb.oom || !tb.overflow))
				c->nomem = true;
			m->text_len = tb.len;
			m->text = ab_buf_steal(&tb);
			m->text_from_html = true;
			c->budget -= m->text_len <= c->budget ? m->text_len : c->budget;
		}
		ab_buf_free(&hb);
	}
	if (!m->text && !c->nomem) {
		m->text = strdup("");
		m->text_len = 0;
	}
	if (!m->text)
		c->nomem = true;
	else
		scan_links(c, m->text);
	for (i = 0; i < m->n_links; i++) {
		if (strncasecmp(m->links[i], "http", 4) == 0) {
			m->url = m->links[i];
			break;
		}
	}
	for (i = 0; i < c->n_leaves && !c->nomem; i++)
		if (!is_body[i])
			take_attachment(c, c->leaves[i]);
	free(is_body);
}

/* ------------------------------------------------------------ API */

void ab_mail_free(struct ab_mail *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_headers; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	free(m->subject);
	free(m->from);
	free_strv(m->to, m->n_to);
	free(m->message_id);
	free_strv(m->auth_results, m->n_auth_results);
	free(m->text);
	free(m->html);
	free_strv(m->links, m->n_links);
	for (i = 0; i < m->n_attachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].content_type);
		free(m->attachments[i].content);
	}
	free(m->attachments);
	free(m);
}

const char *ab_mail_header(const struct ab_mail *m, const char *name)
{
	size_t i;

	if (!m || !name)
		return NULL;
	for (i = 0; i < m->n_headers; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}

static GMimeMessage *construct(const char *raw, size_t len, GMimeParserOptions *opts,
			       bool close_headers)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	if (close_headers) {
		g_mime_stream_seek(stream, 0, GMIME_STREAM_SEEK_END);
		g_mime_stream_write(stream, "\n\n", 2);
		g_mime_stream_reset(stream);
	}
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	msg = g_mime_parser_construct_message(parser, opts);
	g_object_unref(parser);
	return msg;
}

int ab_mail_parse(const char *raw, size_t len, const struct ab_mail_limits *lim,
		  struct ab_mail **out, char *err, size_t errsz)
{
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };
	struct ctx c;
	GMimeParserOptions *opts;
	GMimeMessage *msg;

	if (err && errsz)
		err[0] = '\0';
	if (!out)
		return -1;
	*out = NULL;
	if (!raw || len == 0) {
		seterr(err, errsz, "mail: empty message");
		return -1;
	}
	memset(&c, 0, sizeof(c));
	ab_mail_limits_default(&c.lim);
	if (lim) {
		if (lim->max_message)
			c.lim.max_message = lim->max_message;
		if (lim->max_header)
			c.lim.max_header = lim->max_header;
		if (lim->max_depth)
			c.lim.max_depth = lim->max_depth;
		if (lim->max_parts)
			c.lim.max_parts = lim->max_parts;
		if (lim->max_decoded)
			c.lim.max_decoded = lim->max_decoded;
	}
	if (c.lim.max_depth > DEPTH_HARD_MAX)
		c.lim.max_depth = DEPTH_HARD_MAX;
	c.budget = c.lim.max_decoded;
	c.err = err;
	c.errsz = errsz;
	c.m = calloc(1, sizeof(*c.m));
	if (!c.m) {
		seterr(err, errsz, "mail: out of memory");
		return -1;
	}
	if (len > c.lim.max_message) {
		hit(&c, AB_MAIL_LIMIT_MESSAGE,
		    "mail: message of %zu bytes over max_message %zu; only the start parsed",
		    len, c.lim.max_message);
		len = c.lim.max_message;
	}

	pthread_once(&gmime_once, gmime_init);
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	msg = construct(raw, len, opts, false);
	if (!msg)   /* cut inside the header block (or no end of it): close it */
		msg = construct(raw, len, opts, true);
	if (!msg) {
		g_mime_parser_options_free(opts);
		ab_mail_free(c.m);
		seterr(err, errsz, "mail: not a mail message (no header block found)");
		return -1;
	}

	take_headers(&c, msg);
	if (!c.nomem)
		take_envelope(&c, msg);
	if (!c.nomem)
		walk(&c, g_mime_message_get_mime_part(msg), 0);
	if (!c.nomem)
		take_body(&c);

	free(c.leaves);
	g_object_unref(msg);
	g_mime_parser_options_free(opts);
	if (c.nomem) {
		ab_mail_free(c.m);
		seterr(err, errsz, "mail: out of memory");
		return -1;
	}
	*out = c.m;
	return c.m->limit != AB_MAIL_LIMIT_NONE ? 1 : 0;
}
