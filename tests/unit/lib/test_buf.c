/*
 * test_buf.c - unit tests for src/lib/buf.c: the cap is enforced, the overflow
 * flag is set, append_trunc keeps what fits, printf past the cap fails and
 * leaves the content intact, steal hands over the data, ab_strlcpy bounds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"

static void test_empty(void **state)
{
	struct ab_buf b = AB_BUF_INIT(16);

	(void)state;
	assert_string_equal(ab_buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	assert_false(b.overflow);
	ab_buf_free(&b);
}

static void test_append_within_cap(void **state)
{
	struct ab_buf b;

	(void)state;
	ab_buf_init(&b, 8);
	assert_int_equal(ab_buf_puts(&b, "abc"), 0);
	assert_int_equal(ab_buf_putc(&b, 'd'), 0);
	assert_int_equal(ab_buf_append(&b, "efgh", 4), 0);   /* exactly max */
	assert_string_equal(ab_buf_cstr(&b), "abcdefgh");
	assert_int_equal(b.len, 8);
	assert_false(b.overflow);
	ab_buf_free(&b);
}

static void test_cap_enforced(void **state)
{
	struct ab_buf b;

	(void)state;
	ab_buf_init(&b, 8);
	assert_int_equal(ab_buf_puts(&b, "abcdef"), 0);
	errno = 0;
	assert_int_equal(ab_buf_puts(&b, "xyz"), -1);      /* 9 > 8: nothing appended */
	assert_true(b.overflow);
	assert_int_equal(errno, EMSGSIZE);
	assert_string_equal(ab_buf_cstr(&b), "abcdef");
	assert_int_equal(b.len, 6);
	assert_int_equal(ab_buf_putc(&b, 'g'), 0);         /* still usable below the cap */
	assert_string_equal(ab_buf_cstr(&b), "abcdefg");
	assert_true(b.cap <= b.max + 1);
	ab_buf_free(&b);
}

static void test_huge_append_refused(void **state)
{
	struct ab_buf b;

	(void)state;
	ab_buf_init(&b, 8);
	assert_int_equal(ab_buf_append(&b, "x", SIZE_MAX), -1);
	assert_true(b.overflow);
	assert_int_equal(b.len, 0);
	ab_buf_free(&b);
}

static void test_reset_clears_overflow(void **state)
{
	struct ab_buf b;

	(void)state;
	ab_buf_init(&b, 4);
	assert_int_equal(ab_buf_puts(&b, "toolong"), -1);
	assert_true(b.overflow);
	ab_buf_reset(&b);
	assert_false(b.overflow);
	assert_int_equal(ab_buf_puts(&b, "ok"), 0);
	assert_string_equal(ab_buf_cstr(&b), "ok");
	ab_buf_reset(&b);
	assert_string_equal(ab_buf_cstr(&b), "");
	ab_buf_free(&b);
}

static const struct {
	size_t max;
	const char *before;
	const char *add;
	int ret;
	const char *after;
} trunc_cases[] = {
	{ 8, "", "abc", 0, "abc" },
	{ 8, "abc", "defgh", 0, "abcdefgh" },     /* fits exactly */
	{ 8, "abc", "defghij", -1, "abcdefgh" },  /* cut */
	{ 8, "abcdefgh", "x", -1, "abcdefgh" },   /* no room at all */
	{ 0, "", "x", -1, "" },
};

static void test_append_trunc(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof trunc_cases / sizeof trunc_cases[0]; i++) {
		struct ab_buf b;

		ab_buf_init(&b, trunc_cases[i].max);
		assert_int_equal(ab_buf_puts(&b, trunc_cases[i].before), 0);
		assert_int_equal(ab_buf_append_trunc(&b, trunc_cases[i].add,
						     strlen(trunc_cases[i].add)),
				 trunc_cases[i].ret);
		assert_string_equal(ab_buf_cstr(&b), trunc_cases[i].after);
		assert_int_equal(b.overflow, trunc_cases[i].ret != 0);
		ab_buf_free(&b);
	}
}

static void test_printf(void **state)
{
	struct ab_buf b;

	(void)state;
	ab_buf_init(&b, 16);
	assert_int_equal(ab_buf_printf(&b, "%s=%d", "n", 42), 0);
	assert_string_equal(ab_buf_cstr(&b), "n=42");
	assert_int_equal(ab_buf_printf(&b, ";%s", "0123456789"), 0);   /* 15 bytes */
	assert_string_equal(ab_buf_cstr(&b), "n=42;0123456789");
	/* past the cap: fails, content untouched */
	assert_int_equal(ab_buf_printf(&b, "%s", "ab"), -1);
	assert_true(b.overflow);
	assert_string_equal(ab_buf_cstr(&b), "n=42;0123456789");
	assert_int_equal(b.len, 15);
	ab_buf_free(&b);
}

static void test_printf_grows(void **state)
{
	struct ab_buf b;
	size_t i;

	(void)state;
	ab_buf_init(&b, 10000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(ab_buf_printf(&b, "%03zu,", i % 1000), 0);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "999,", 4);
	assert_int_equal(b.data[b.len], '\0');
	ab_buf_free(&b);
}

static void test_steal(void **state)
{
	struct ab_buf b;
	char *s;

	(void)state;
	ab_buf_init(&b, 32);
	assert_int_equal(ab_buf_puts(&b, "hello"), 0);
	s = ab_buf_steal(&b);
	assert_non_null(s);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 32);           /* cap survives: buffer reusable */
	assert_int_equal(ab_buf_puts(&b, "again"), 0);
	assert_string_equal(ab_buf_cstr(&b), "again");
	free(s);
	ab_buf_free(&b);

	ab_buf_init(&b, 32);                   /* stealing an empty buffer gives "" */
	s = ab_buf_steal(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static const struct {
	const char *src;
	size_t size;
	const char *want;
} lcpy_cases[] = {
	{ "hello", 16, "hello" },
	{ "hello", 6, "hello" },
	{ "hello", 5, "hell" },
	{ "hello", 1, "" },
	{ "", 4, "" },
};

static void test_strlcpy(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof lcpy_cases / sizeof lcpy_cases[0]; i++) {
		char dst[16];

		memset(dst, 'X', sizeof dst);
		assert_int_equal(ab_strlcpy(dst, lcpy_cases[i].src, lcpy_cases[i].size),
				 strlen(lcpy_cases[i].src));
		assert_string_equal(dst, lcpy_cases[i].want);
	}
	{
		char dst[2] = { 'X', 'Y' };

		assert_int_equal(ab_strlcpy(dst, "abc", 0), 3);   /* size 0: untouched */
		assert_int_equal(dst[0], 'X');
	}
}

static void test_strdup0(void **state)
{
	char *s;

	(void)state;
	assert_null(ab_strdup0(NULL));
	s = ab_strdup0("x");
	assert_non_null(s);
	assert_string_equal(s, "x");
	free(s);
}

/* Out of memory is sticky: once an allocation failed, no later (smaller)
 * append succeeds, so the text is never missing a middle part. */
static void test_oom_sticky(void **state)
{
	struct ab_buf b = AB_BUF_INIT(1024);

	(void)state;
	assert_int_equal(ab_buf_puts(&b, "head "), 0);
	b.oom = b.overflow = true;   /* what a failed realloc leaves */
	assert_int_equal(ab_buf_puts(&b, "x"), -1);
	assert_int_equal(ab_buf_printf(&b, "%d", 7), -1);
	assert_string_equal(ab_buf_cstr(&b), "head ");
	ab_buf_reset(&b);
	assert_false(b.oom);
	assert_int_equal(ab_buf_puts(&b, "again"), 0);
	ab_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_oom_sticky),
		cmocka_unit_test(test_append_within_cap),
		cmocka_unit_test(test_cap_enforced),
		cmocka_unit_test(test_huge_append_refused),
		cmocka_unit_test(test_reset_clears_overflow),
		cmocka_unit_test(test_append_trunc),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_printf_grows),
		cmocka_unit_test(test_steal),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_strdup0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
