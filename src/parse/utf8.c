/*
 * utf8.c - UTF-8 validation and cleaning for text taken from outside.
 *
 * Public: ab_utf8_clean, ab_utf8_valid.
 * Diagnostics: none; ab_utf8_clean returns -1 when its output was cut (the
 *         buffer's overflow flag set) or on ENOMEM.
 *
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF, the same rules jansson applies, so every cleaned string is a
 * valid JSON string.
 */
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "parse/utf8.h"

static const char REPLACEMENT[] = "\xef\xbf\xbd";   /* U+FFFD */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	size_t avail = (size_t)(end - p);
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return avail >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return avail >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
			(p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
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
	if (!out->overflow)
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
