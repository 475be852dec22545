/*
 * test_regex.c - unit tests for src/lib/regex.c: the standard options (UTF-8
 * characters, invalid UTF-8 in the subject tolerated, \C refused), the
 * caseless and multiline flags, compile errors with their offset, the
 * three results (match, no match, budget exceeded) kept apart, captures
 * and named groups, start offsets, the JIT compile at the first match (not
 * at compile time), and matching from several threads at once (each with
 * its own match data, freed when the thread ends; the first match of a
 * fresh pattern, which JIT compiles it, from all of them together).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/regex.h"

static struct ab_regex *compile(const char *pattern, unsigned flags)
{
	char err[256];
	struct ab_regex *re = ab_regex_compile(pattern, flags, NULL, err, sizeof err);

	if (!re)
		fail_msg("'%s': %s", pattern, err);
	return re;
}

static int match(const struct ab_regex *re, const char *s)
{
	return ab_regex_match(re, s, strlen(s));
}

static void test_standard_options(void **state)
{
	struct ab_regex *re;

	(void)state;
	re = compile("^caf.$", 0);                 /* UTF: é is one character */
	assert_int_equal(match(re, "caf\xc3\xa9"), AB_REGEX_MATCH);
	assert_int_equal(match(re, "cafe"), AB_REGEX_MATCH);
	assert_int_equal(match(re, "caf\xff"), AB_REGEX_NOMATCH);   /* a bad byte is no char */
	ab_regex_free(re);
	re = compile("alert", 0);                  /* invalid UTF-8 around: still searched */
	assert_int_equal(match(re, "\xff\xfe alert \xc3"), AB_REGEX_MATCH);
	assert_int_equal(match(re, "ALERT"), AB_REGEX_NOMATCH);      /* case matters */
	ab_regex_free(re);
	re = compile("^b$", 0);                    /* not multiline by default */
	assert_int_equal(match(re, "a\nb\nc"), AB_REGEX_NOMATCH);
	ab_regex_free(re);
	ab_regex_free(NULL);
}

static void test_flags(void **state)
{
	struct ab_regex *re;

	(void)state;
	re = compile("^x-mailer: nagios", AB_REGEX_CASELESS);
	assert_int_equal(match(re, "X-Mailer: NAGIOS 4"), AB_REGEX_MATCH);
	ab_regex_free(re);
	re = compile("^b$", AB_REGEX_MULTILINE);
	assert_int_equal(match(re, "a\nb\nc"), AB_REGEX_MATCH);
	ab_regex_free(re);
	re = compile("^B$", AB_REGEX_MULTILINE | AB_REGEX_CASELESS);
	assert_int_equal(match(re, "a\nb\nc"), AB_REGEX_MATCH);
	ab_regex_free(re);
}

static void test_compile_errors(void **state)
{
	char err[256];
	size_t off = 99;

	(void)state;
	assert_null(ab_regex_compile("ab(cd", 0, &off, err, sizeof err));
	assert_int_equal(off, 5);
	assert_non_null(strstr(err, "missing closing parenthesis"));
	assert_null(ab_regex_compile("a\\Cb", 0, &off, err, sizeof err));   /* \C refused */
	assert_true(off > 0);
	assert_true(err[0] != '\0');
	assert_null(ab_regex_compile("x{2,1}", 0, NULL, err, sizeof err));  /* erroff optional */
	assert_null(ab_regex_compile(NULL, 0, &off, err, sizeof err));
	assert_null(ab_regex_compile("(", 0, &off, err, 0));                 /* no room: no crash */
}

/* Catastrophic backtracking: exponential in the length without a budget. */
static void test_budget(void **state)
{
	size_t n = 5000;
	char *s = malloc(n + 2);
	struct ab_regex *re = compile("^(a+)+$", 0);

	(void)state;
	assert_non_null(s);
	memset(s, 'a', n);
	s[n] = '!';
	s[n + 1] = '\0';
	assert_int_equal(ab_regex_match(re, s, n + 1), AB_REGEX_LIMIT);
	assert_int_equal(ab_regex_match(re, s, n), AB_REGEX_MATCH);   /* without the '!' */
	ab_regex_free(re);
	re = compile("(x+x+)+y", AB_REGEX_CASELESS);
	memset(s, 'x', n);
	memcpy(s + n - 2, "zy", 3);                /* a 'y' exists: no early "no y" exit */
	assert_int_equal(ab_regex_match(re, s, n), AB_REGEX_LIMIT);
	s[n - 2] = 'x';
	assert_int_equal(ab_regex_match(re, s, n), AB_REGEX_MATCH);
	ab_regex_free(re);
	free(s);
}

static void test_errors(void **state)
{
	struct ab_regex *re = compile("a", 0);
	const size_t *ov;
	unsigned np;

	(void)state;
	assert_int_equal(ab_regex_match(NULL, "a", 1), AB_REGEX_ERROR);
	assert_int_equal(ab_regex_match(re, NULL, 0), AB_REGEX_ERROR);
	assert_int_equal(ab_regex_exec(re, "a", 1, 2, &ov, &np), AB_REGEX_NOMATCH);  /* past end */
	assert_null(ov);
	assert_int_equal(np, 0);
	ab_regex_free(re);
}

static void test_exec_and_names(void **state)
{
	struct ab_regex *re = compile("(?<sev>high|low)(?:-(?<n>[0-9]+))?(x)?", 0);
	const char *s = "low high-42 low";
	const size_t *ov;
	unsigned g, np;

	(void)state;
	assert_int_equal(ab_regex_name_count(re), 2);
	/* the name table is sorted by name */
	assert_string_equal(ab_regex_name(re, 0, &g), "n");
	assert_int_equal(g, 2);
	assert_string_equal(ab_regex_name(re, 1, &g), "sev");
	assert_int_equal(g, 1);
	assert_null(ab_regex_name(re, 2, &g));

	assert_int_equal(ab_regex_exec(re, s, strlen(s), 0, &ov, &np), AB_REGEX_MATCH);
	assert_int_equal(np, 2);                   /* groups 2 and 3 did not take part */
	assert_int_equal(ov[0], 0);
	assert_int_equal(ov[1], 3);
	assert_int_equal(ov[2], 0);
	assert_int_equal(ov[3], 3);
	assert_int_equal(ab_regex_exec(re, s, strlen(s), ov[1], &ov, &np), AB_REGEX_MATCH);
	assert_int_equal(np, 3);
	assert_int_equal(ov[2], 4);                /* "high" */
	assert_int_equal(ov[5], 11);               /* "42" ends at 11 */
	assert_int_equal(ab_regex_exec(re, s, strlen(s), 12, &ov, &np), AB_REGEX_MATCH);
	assert_int_equal(ab_regex_exec(re, s, strlen(s), 13, &ov, &np), AB_REGEX_NOMATCH);
	ab_regex_free(re);

	/* many groups: the per-thread match data grows */
	re = compile("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(s)(t)", 0);
	assert_int_equal(ab_regex_exec(re, "abcdefghijklmnopqrst", 20, 0, &ov, &np),
			 AB_REGEX_MATCH);
	assert_int_equal(np, 21);
	assert_int_equal(ov[40], 19);
	assert_int_equal(ab_regex_name_count(re), 0);
	assert_null(ab_regex_name(re, 0, NULL));
	ab_regex_free(re);

	/* an unset group inside the returned pairs */
	re = compile("(a)?(b)", 0);
	assert_int_equal(ab_regex_exec(re, "b", 1, 0, &ov, &np), AB_REGEX_MATCH);
	assert_int_equal(np, 3);
	assert_true(ov[2] == AB_REGEX_UNSET);
	ab_regex_free(re);
}

/* JIT code is made at the first match, not at compile time (memory: the
 * shipped profiles' patterns mostly never run). */
static void test_lazy_jit(void **state)
{
	struct ab_regex *re = compile("^id=(?<id>[0-9]+)$", 0);
	pcre2_code *probe;
	int errc;
	PCRE2_SIZE erro;
	bool jit;

	(void)state;
	probe = pcre2_compile((PCRE2_SPTR) "a+b", PCRE2_ZERO_TERMINATED, 0, &errc, &erro, NULL);
	assert_non_null(probe);
	jit = pcre2_jit_compile(probe, PCRE2_JIT_COMPLETE) == 0;   /* may be refused */
	pcre2_code_free(probe);
	assert_int_equal(ab_regex_jit_size(re), 0);
	assert_int_equal(ab_regex_name_count(re), 1);   /* no match needed for names */
	assert_int_equal(ab_regex_jit_size(re), 0);
	assert_int_equal(ab_regex_match(re, "id=42", 5), AB_REGEX_MATCH);
	if (jit)
		assert_true(ab_regex_jit_size(re) > 0);
	else
		assert_int_equal(ab_regex_jit_size(re), 0);
	/* and it still matches as before */
	assert_int_equal(ab_regex_match(re, "id=x", 4), AB_REGEX_NOMATCH);
	assert_int_equal(ab_regex_jit_size(NULL), 0);
	ab_regex_free(re);
}

struct worker {
	const struct ab_regex *re, *slow;
	int bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char line[64], slow[40];

	memset(slow, 'a', sizeof slow - 2);
	slow[sizeof slow - 2] = '!';
	slow[sizeof slow - 1] = '\0';
	for (int i = 0; i < 2000; i++) {
		const size_t *ov;
		unsigned np;
		int n = snprintf(line, sizeof line, "id=%d sev=high", i);

		if (ab_regex_exec(w->re, line, (size_t)n, 0, &ov, &np) != AB_REGEX_MATCH ||
		    ov[1] - ov[0] != (size_t)n)
			w->bad++;
		if (i % 500 == 0 && ab_regex_match(w->slow, slow, strlen(slow)) != AB_REGEX_LIMIT)
			w->bad++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct ab_regex *re = compile("^id=(?<id>[0-9]+) sev=(?<sev>\\w+)$", 0);
	struct ab_regex *slow = compile("^(a|aa)+$", 0);
	struct worker w[4];
	pthread_t t[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ re, slow, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	ab_regex_free(re);
	ab_regex_free(slow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard_options),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_exec_and_names),
		cmocka_unit_test(test_lazy_jit),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
