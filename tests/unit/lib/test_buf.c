/*
 * test_buf.c - unit tests for src/lib/buf.c: the cap is enforced, the overflow
 * flag is set, append_trunc keeps what fits, printf past the cap fails and
 * leaves the content intact, steal hands over the data, ab_strlcpy bounds;
 * out of memory is sticky (oom), through a failing realloc: the test is
 * linked with -Wl,--wrap=realloc, so buf.c's realloc calls come to
 * __wrap_realloc below, which fails on demand.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"

/* The failing allocator: fail_after = N lets N more reallocs through, then
 * each fails (ENOMEM) until fail_after is set back to -1 (never fail). */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
static long fail_after = -1;
static unsigned reallocs_failed;

void *__wrap_realloc(void *p, size_t n)
{
	if (fail_after == 0) {
		reallocs_failed++;
		errno = ENOMEM;
		return NULL;
	}
	if (fail_after > 0)
		fail_after--;
	return __real_realloc(p, n);
}

static void test_empty(void **state)
{
	struct ab_buf b = AB_BUF_INIT(16);

	(void)state;
	assert_string_equal(ab_buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	assert_false(b.overflow);
	ab_buf_free(&b);
}

/* reserve: room without appending; the writer fills it, moves len and
 * writes the NUL; past the cap it fails as an append would */
static void test_reserve(void **state)
{
	struct ab_buf b = AB_BUF_INIT(8);

	(void)state;
	assert_int_equal(ab_buf_reserve(&b, 5), 0);
	assert_int_equal(b.len, 0);
	assert_true(b.cap >= 6);
	memcpy(b.data, "hello", 5);
	b.len = 5;
	b.data[5] = '\0';
	assert_string_equal(ab_buf_cstr(&b), "hello");
	assert_int_equal(ab_buf_reserve(&b, 3), 0);
	assert_int_equal(ab_buf_reserve(&b, 4), -1);
	assert_true(b.overflow);
	assert_false(b.oom);
	assert_int_equal(b.len, 5);
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

/* A real failing realloc: the append fails with ENOMEM, sets oom and
 * overflow, keeps the content; a later append that would fit in the memory
 * already there (no realloc) fails too; so does a later one once memory is
 * back.  reset clears the state and the buffer works again. */
static void test_oom_realloc_sticky(void **state)
{
	struct ab_buf b = AB_BUF_INIT(1 << 20);
	char big[200];

	(void)state;
	memset(big, 'x', sizeof big);
	assert_int_equal(ab_buf_puts(&b, "head "), 0);      /* 64 bytes allocated */
	assert_int_equal(b.cap, 64);
	reallocs_failed = 0;
	fail_after = 0;
	errno = 0;
	assert_int_equal(ab_buf_append(&b, big, sizeof big), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(reallocs_failed, 1);
	assert_true(b.oom);
	assert_true(b.overflow);
	assert_string_equal(ab_buf_cstr(&b), "head ");
	assert_int_equal(ab_buf_puts(&b, "tail"), -1);      /* fits in the 64: still refused */
	assert_int_equal(reallocs_failed, 1);               /* refused without asking */
	fail_after = -1;                                    /* memory is back */
	assert_int_equal(ab_buf_putc(&b, 'x'), -1);
	assert_int_equal(ab_buf_printf(&b, "%d", 7), -1);
	assert_int_equal(ab_buf_append_trunc(&b, big, sizeof big), -1);
	assert_string_equal(ab_buf_cstr(&b), "head ");
	assert_int_equal(b.len, 5);
	ab_buf_reset(&b);
	assert_false(b.oom);
	assert_false(b.overflow);
	assert_int_equal(ab_buf_append(&b, big, sizeof big), 0);
	assert_int_equal(b.len, sizeof big);
	ab_buf_free(&b);
}

/* The first allocation fails: nothing is there, cstr is "", printf and
 * append_trunc fail the same way; steal hands over "" and clears oom. */
static void test_oom_first_alloc(void **state)
{
	struct ab_buf b = AB_BUF_INIT(64);
	char *p;

	(void)state;
	fail_after = 0;
	assert_int_equal(ab_buf_printf(&b, "%s", "abc"), -1);
	assert_true(b.oom);
	assert_null(b.data);
	assert_string_equal(ab_buf_cstr(&b), "");
	assert_int_equal(ab_buf_append_trunc(&b, "abc", 3), -1);
	assert_true(b.oom);
	fail_after = -1;
	assert_int_equal(ab_buf_puts(&b, "abc"), -1);
	p = ab_buf_steal(&b);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);
	assert_false(b.oom);
	assert_false(b.overflow);
	assert_int_equal(ab_buf_puts(&b, "abc"), 0);
	assert_string_equal(ab_buf_cstr(&b), "abc");
	ab_buf_free(&b);
}

/* A realloc fails in the middle of a run of appends (the email plugin's
 * way of building a mail): every append after it fails, the content ends
 * where memory ran out, never with a hole in it. */
static void test_oom_midway(void **state)
{
	struct ab_buf b = AB_BUF_INIT(1 << 20);
	int i, failed_at = -1;

	(void)state;
	fail_after = 2;
	for (i = 0; i < 100; i++) {
		if (ab_buf_printf(&b, "line %03d\n", i) < 0) {
			if (failed_at < 0)
				failed_at = i;
		} else {
			assert_int_equal(failed_at, -1);   /* nothing after a failure */
		}
		if (i == failed_at + 1 && failed_at >= 0)
			fail_after = -1;                   /* memory is back */
	}
	fail_after = -1;
	assert_true(failed_at > 0);
	assert_true(b.oom);
	assert_true(b.overflow);
	assert_int_equal(b.len, (size_t)failed_at * 9);
	for (i = 0; i < failed_at; i++) {
		char want[32];

		snprintf(want, sizeof want, "line %03d\n", i);
		assert_memory_equal(b.data + (size_t)i * 9, want, 9);
	}
	ab_buf_free(&b);
}

/* ab_buf_fail: a caller's own allocation failed; the buffer is refused like
 * any ENOMEM. */
static void test_fail_marks_oom(void **state)
{
	struct ab_buf b = AB_BUF_INIT(64);

	(void)state;
	assert_int_equal(ab_buf_puts(&b, "From: a\r\n"), 0);
	ab_buf_fail(&b);
	assert_true(b.oom);
	assert_true(b.overflow);
	assert_int_equal(ab_buf_puts(&b, "Subject: b\r\n"), -1);
	assert_string_equal(ab_buf_cstr(&b), "From: a\r\n");
	ab_buf_free(&b);
	assert_false(b.oom);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_oom_sticky),
		cmocka_unit_test(test_oom_realloc_sticky),
		cmocka_unit_test(test_oom_first_alloc),
		cmocka_unit_test(test_oom_midway),
		cmocka_unit_test(test_fail_marks_oom),
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
