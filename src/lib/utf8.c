/*
 * utf8.c - UTF-8 validation and cleaning for text taken from outside.
 *
 * Public: ab_utf8_seq, ab_utf8_clean, ab_utf8_repair, ab_utf8_valid,
 *         ab_utf8_count, ab_utf8_plausible, ab_utf8_from_cp1252.
 * Diagnostics: none; ab_utf8_clean and ab_utf8_from_cp1252 return -1 when
 *         their output was cut (the buffer's overflow flag set) or on ENOMEM
 *         (its oom flag set too).
 *
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF, the same rules jansson applies, so every cleaned string is a
 * valid JSON string.
 */
#include <stdbool.h>
#include <string.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/utf8.h"

static const char REPLACEMENT[] = "\xef\xbf\xbd";   /* U+FFFD */

size_t ab_utf8_seq(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned c;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
			(p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	return ab_utf8_seq((const char *)p, (size_t)(end - p));
}

/* Append valid UTF-8 s[0..n); if it does not all fit, as much as fits on a
 * character boundary.  Returns 0 or -1 (cut). */
static int put_valid(struct ab_buf *out, const unsigned char *s, size_t n)
{
	size_t room;

	if (n == 0)
		return 0;
	if (ab_buf_append(out, s, n) == 0)
		return 0;
	if (out->oom || !out->overflow)
		return -1;                  /* ENOMEM */
	room = out->max > out->len ? out->max - out->len : 0;
	if (room >= n)
		return -1;
	while (room > 0 && (s[room] & 0xc0) == 0x80)
		room--;
	if (room)
		(void)ab_buf_append(out, s, room);
	out->overflow = true;
	return -1;
}

int ab_utf8_clean(struct ab_buf *out, const char *in, size_t len, bool single_line)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + len, *run = p;

	while (p < end) {
		unsigned c = *p;
		size_t n;

		if (c >= 0x20 && c < 0x7f) {
			p++;
			continue;
		}
		if (c >= 0x80) {
			n = utf8_seq(p, end);
			if (n) {
				p += n;
				continue;
			}
		}
		/* flush the clean run, then substitute */
		if (put_valid(out, run, (size_t)(p - run)) < 0)
			return -1;
		if (c >= 0x80) {
			if (put_valid(out, (const unsigned char *)REPLACEMENT, 3) < 0)
				return -1;
		} else if (c == 0) {
			/* dropped */
		} else if (single_line) {
			if (put_valid(out, (const unsigned char *)" ", 1) < 0)
				return -1;
		} else if (c == '\r' || c == '\n' || c == '\t') {
			if (c == '\r' && p + 1 < end && p[1] == '\n')
				p++;
			if (put_valid(out, (const unsigned char *)(c == '\t' ? "\t" : "\n"), 1) < 0)
				return -1;
		}
		p++;
		run = p;
	}
	return put_valid(out, run, (size_t)(p - run));
}

size_t ab_utf8_repair(const char *s, size_t n, char *out, bool nul_too)
{
	size_t i = 0, o = 0, k;

	while (i < n) {
		k = s[i] || !nul_too ? ab_utf8_seq(s + i, n - i) : 0;
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

bool ab_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n;

		if (*p == 0)
			return false;
		n = utf8_seq(p, end);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

void ab_utf8_count(const char *s, size_t len, size_t *multi, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	*multi = *bad = 0;
	while (p < end) {
		size_t n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		n = utf8_seq(p, end);
		if (n) {
			(*multi)++;
			p += n;
		} else {
			(*bad)++;
			p++;
		}
	}
}

bool ab_utf8_plausible(const char *s, size_t len)
{
	size_t multi, bad;

	ab_utf8_count(s, len, &multi, &bad);
	return bad == 0 || multi > 0;
}

/* windows-1252 0x80..0x9f; 0 where the charset defines nothing */
static const unsigned short cp1252_c1[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

int ab_utf8_from_cp1252(struct ab_buf *out, const char *in, size_t len, bool single_line)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + len, *run = p;

	while (p < end) {
		unsigned cp = *p;
		unsigned char u[3];
		size_t n;

		if (cp < 0x80) {
			p++;
			continue;
		}
		if (ab_utf8_clean(out, (const char *)run, (size_t)(p - run), single_line) < 0)
			return -1;
		if (cp < 0xa0)
			cp = cp1252_c1[cp - 0x80] ? cp1252_c1[cp - 0x80] : 0xfffd;
		if (cp < 0x800) {
			u[0] = (unsigned char)(0xc0 | (cp >> 6));
			u[1] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 2;
		} else {
			u[0] = (unsigned char)(0xe0 | (cp >> 12));
			u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			u[2] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 3;
		}
		if (put_valid(out, u, n) < 0)
			return -1;
		p++;
		run = p;
	}
	return ab_utf8_clean(out, (const char *)run, (size_t)(p - run), single_line);
}
