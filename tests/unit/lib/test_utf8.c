/*
 * test_utf8.c - unit tests for ab_utf8_seq (src/lib/utf8.c), the one UTF-8
 * sequence decoder behind lib/utf8, the syslog parser and the event's JSON
 * writer: the boundaries of each length, overlong forms, surrogates, code
 * points above U+10FFFF, sequences cut by the end, and every 1- to 3-byte
 * input (and the 4-byte lead bytes) against a reference decoder; and that
 * ab_utf8_valid agrees with it.  (The cleaning functions are tested with
 * the mail parser, tests/unit/parse/test_mail.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/utf8.h"

static const struct {
	const char *s;
	size_t n;
	size_t want;
} cases[] = {
	{ "a", 1, 1 },
	{ "", 1, 1 },                          /* NUL is a 1-byte sequence */
	{ "\x7f", 1, 1 },
	{ "\xc2\x80", 2, 2 },                  /* U+0080 */
	{ "\xdf\xbf", 2, 2 },                  /* U+07FF */
	{ "\xe0\xa0\x80", 3, 3 },              /* U+0800 */
	{ "\xed\x9f\xbf", 3, 3 },              /* U+D7FF */
	{ "\xee\x80\x80", 3, 3 },              /* U+E000 */
	{ "\xef\xbf\xbf", 3, 3 },              /* U+FFFF */
	{ "\xf0\x90\x80\x80", 4, 4 },          /* U+10000 */
	{ "\xf4\x8f\xbf\xbf", 4, 4 },          /* U+10FFFF */
	{ "\xc3\xa9xyz", 5, 2 },               /* only the sequence at s */
	{ "\xc0\x80", 2, 0 },                  /* overlong NUL */
	{ "\xc1\xbf", 2, 0 },                  /* overlong */
	{ "\xe0\x9f\xbf", 3, 0 },              /* overlong */
	{ "\xf0\x8f\xbf\xbf", 4, 0 },          /* overlong */
	{ "\xed\xa0\x80", 3, 0 },              /* surrogate U+D800 */
	{ "\xed\xbf\xbf", 3, 0 },              /* surrogate U+DFFF */
	{ "\xf4\x90\x80\x80", 4, 0 },          /* U+110000 */
	{ "\xf5\x80\x80\x80", 4, 0 },
	{ "\xff", 1, 0 },
	{ "\x80", 1, 0 },                      /* lone continuation byte */
	{ "\xc3", 1, 0 },                      /* cut by the end */
	{ "\xc3\xa9", 1, 0 },                  /* cut by n, not by the bytes */
	{ "\xe2\x82\xac", 2, 0 },
	{ "\xf0\x9f\x98\x80", 3, 0 },
	{ "\xc3(", 2, 0 },                     /* bad continuation */
	{ "\xe2\x28\xa1", 3, 0 },
	{ "\xf0\x9f\x98(", 4, 0 },
	{ "a", 0, 0 },                         /* nothing to read */
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (ab_utf8_seq(cases[i].s, cases[i].n) != cases[i].want)
			fail_msg("case %zu: got %zu want %zu", i, ab_utf8_seq(cases[i].s, cases[i].n),
				 cases[i].want);
}

/* The reference: decode the code point and check its range. */
static size_t ref_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp;
	size_t len;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		len = 2, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		len = 3, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static void test_against_reference(void **state)
{
	static const unsigned char tails[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
					       0xbf, 0xc0, 0xff };
	unsigned char s[4];

	(void)state;
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (unsigned c = 0; c < 256; c++) {
				s[0] = (unsigned char)a;
				s[1] = (unsigned char)b;
				s[2] = (unsigned char)c;
				for (size_t n = 1; n <= 3; n++)
					if (ab_utf8_seq((const char *)s, n) != ref_seq(s, n))
						fail_msg("%02x %02x %02x n=%zu", a, b, c, n);
			}
	for (unsigned a = 0xf0; a < 0x100; a++)
		for (unsigned b = 0; b < 256; b++)
			for (size_t i = 0; i < sizeof tails; i++)
				for (size_t k = 0; k < sizeof tails; k++) {
					s[0] = (unsigned char)a;
					s[1] = (unsigned char)b;
					s[2] = tails[i];
					s[3] = tails[k];
					if (ab_utf8_seq((const char *)s, 4) != ref_seq(s, 4))
						fail_msg("%02x %02x %02x %02x", a, b, s[2], s[3]);
				}
}

/* repair: each bad byte (and NUL, when asked) one U+FFFD, the rest as is */
static void test_repair(void **state)
{
	static const char in[] = "a\xff\xc3\xa9\0b\xe2\x82";
	char out[3 * sizeof in];
	size_t n;

	(void)state;
	n = ab_utf8_repair(in, sizeof in - 1, out, false);
	assert_int_equal(n, 14);
	assert_memory_equal(out, "a\xEF\xBF\xBD\xc3\xa9\0b\xEF\xBF\xBD\xEF\xBF\xBD", n);
	n = ab_utf8_repair(in, sizeof in - 1, out, true);
	assert_int_equal(n, 16);
	assert_memory_equal(out, "a\xEF\xBF\xBD\xc3\xa9\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD", n);
	assert_true(ab_utf8_valid(out, n));
	assert_int_equal(ab_utf8_repair("", 0, out, true), 0);
}

static void test_valid_agrees(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *s = cases[i].s;
		size_t n = cases[i].n, o = 0, k = 1;
		bool ok;

		while (o < n && s[o] != '\0' && (k = ab_utf8_seq(s + o, n - o)) > 0)
			o += k;
		ok = o == n;              /* every byte in a sequence, no NUL */
		if (ab_utf8_valid(s, n) != ok)
			fail_msg("case %zu: ab_utf8_valid disagrees", i);
	}
	assert_false(ab_utf8_valid("a\0b", 3));    /* valid sequences, but a NUL */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_valid_agrees),
		cmocka_unit_test(test_repair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
