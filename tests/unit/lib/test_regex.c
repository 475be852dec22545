/*
 * test_regex.c - unit tests for src/lib/regex.c: the standard options (UTF-8
 * characters, invalid UTF-8 in the subject tolerated, \C refused), the
 * caseless and multiline flags, compile errors with their offset, the
 * three results (match, no match, budget exceeded) kept apart, captures
 * and named groups, start offsets, the JIT compile at the first match (not
 * at compile time), and matching from several threads at once (each with
 * its own match data, freed when the thread ends; the first match of a
 * fresh pattern, which JIT compiles it, from all of them together); the
 * literals read from a pattern (regex_lit.c) on a table, and that matching
 * with the literal filter agrees with matching without it for every string
 * of the shipped profiles against the tool corpus (tests/data/corpus), at
 * several start offsets.
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
#include <dirent.h>
#include <glob.h>
#include <libconfig.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/regex.h"
#include "lib/regex_lit.h"
#include "../harness/testutil.h"

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

/* The literals read from each pattern, longest first, joined with '|'. */
static void test_literals_read(void **state)
{
	static const struct {
		const char *pattern, *want;
	} t[] = {
		{ "abc", "abc" },
		{ "^(?=.{0,600}?\\bdevid=\"?F[A-Z0-9]{3,})(?=.{0,900}?\\blogid=\"?\\d{10})",
		  "devid=|logid=|F" },
		{ "^[^%\\n]{0,300}?(?<![^\\s:])%(?:ASA|FTD|PIX|FWSM)-[0-7]-\\d{6}: ", ": |%|-" },
		{ "a|b", "" },                      /* a '|' at the top: nothing is required */
		{ "ABC|ABD", "" },
		{ "(?:ab|cd)EFG", "EFG" },          /* ... in a group: the group gives nothing */
		{ "X(?:abc)?Y", "X|Y" },            /* an optional group */
		{ "(ABC)+", "ABC" }, { "(ABC)*", "" }, { "(ABC){0,2}", "" }, { "(ABC){2}", "ABC" },
		{ "colou?r", "colo" },              /* "r": one common letter, not kept */
		{ "ab+cde", "bcde" },               /* a repeated one ends a run, starts the next */
		{ "x{2}yz", "xyz" }, { "a{0,3}bcd", "bcd" }, { "XY?Z", "X|Z" },
		{ "(?i)abc", "" }, { "abc(?i)def", "" }, { "(?x)abc", "" }, { "(?i:abc)", "" },
		{ "(?s:abc.def)", "abc|def" }, { "(?m)^abc$", "abc" }, { "(?sm-J)abc", "abc" },
		{ "\\Qa.b\\E", "" }, { "(*UTF)abc", "" }, { "(?|(a)|(b))", "" },
		{ "(a)(?(1)abc|def)", "" }, { "(?R)abc", "" }, { "a{,3}bcd", "" }, { "abc{", "" },
		{ "[abc]def", "def" }, { "[]x]yz!", "yz!" }, { "[^]x]yz!", "yz!" },
		{ "[[:alpha:]]+foo", "foo" }, { "[\\]]ABC", "ABC" },
		{ "\x1e[[=[=]|e]Y", "" },   /* "[[=[=]" is a class of '[' and '=', then a '|' */
		{ "[[=[=]XYZ", "XYZ" }, { "[[:a]:]]XYZ", ":]]XYZ" },
		{ "[\\c]\\[\\c]c]", "" },   /* one class: \c] is control-], not its end */
		{ "a\\.b\\[c", "a.b[c" }, { "a\\\\b", "a\\b" }, { "ab\\tcd", "ab\tcd" },
		{ "\\d+ MS\\b", " MS" }, { "\\x{41}BC", "BC" }, { "\\x41BC", "BC" },
		{ "\\p{Lu}ABC\\P{L}DEF", "ABC|DEF" }, { "(a)\\1XYZ", "XYZ" },
		{ "(?<n>a)\\k<n>XYZ", "XYZ" }, { "(a)\\g{-1}XYZ", "XYZ" }, { "\\N{U+41}", "" },
		{ "(?<=abc)def", "def" }, { "(?<!abc)def", "def" }, { "(?!abc)def", "def" },
		{ "(?=abc)def", "abc|def" }, { "(?=.*(?:AB|CD))EFG", "EFG" },
		{ "(?<*;dd>ddds)", "" },   /* a non-atomic lookbehind, not a name */
		{ "(?<name>abc)d", "abc" }, { "(?P<n>abc)", "abc" }, { "(?'n'abc)", "abc" },
		{ "(?#a comment)abc", "abc" }, { "(?>abc)+", "abc" },
		{ "\xc3\xa9+X", "\xc3\xa9X|\xc3\xa9" },   /* a repeated character is whole */
		{ "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwx" },   /* its start */
		{ "ONE.TWO.THREE.FOUR", "THREE|FOUR|ONE" },   /* the three longest */
		{ "%", "%" }, { " ", "" }, { "e", "" }, { "er", "" }, { ":", ":" },
	};
	char got[256];

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct ab_regex_lit lits[AB_REGEX_LITS];
		size_t n = ab_regex_literals(t[i].pattern, lits), off = 0;

		got[0] = '\0';
		for (size_t k = 0; k < n; k++)
			off += (size_t)snprintf(got + off, sizeof got - off, "%s%.*s", k ? "|" : "",
						lits[k].n, lits[k].s);
		if (strcmp(got, t[i].want) != 0)
			fail_msg("/%s/: literals \"%s\", want \"%s\"", t[i].pattern, got,
				 t[i].want);
		ab_regex_free(compile(t[i].pattern, 0));   /* each is a pattern PCRE2 takes */
	}
	assert_int_equal(ab_regex_literals(NULL, NULL), 0);
}

/* The filter on matches: a subject without the literal is no match at
 * once, one with it runs the pattern, from a start offset too; caseless
 * patterns are not filtered. */
static void test_literal_filter(void **state)
{
	struct ab_regex *re = compile("\\bdevid=(F\\w+)", 0);
	struct ab_regex *ci = compile("devid=", AB_REGEX_CASELESS);
	const size_t *ov;
	unsigned np;

	(void)state;
	assert_int_equal(match(re, "date=2024 devid=FG100 logid=1"), AB_REGEX_MATCH);
	assert_int_equal(match(re, "date=2024 devid=100"), AB_REGEX_NOMATCH);
	assert_int_equal(match(re, "date=2024 dev id=FG100"), AB_REGEX_NOMATCH);
	assert_int_equal(match(re, "devid"), AB_REGEX_NOMATCH);
	assert_int_equal(match(re, ""), AB_REGEX_NOMATCH);
	assert_int_equal(ab_regex_exec(re, "devid=FA devid=FB", 17, 1, &ov, &np), AB_REGEX_MATCH);
	assert_int_equal(ov[0], 9);
	assert_int_equal(ab_regex_exec(re, "devid=FA devid", 14, 1, &ov, &np), AB_REGEX_NOMATCH);
	assert_int_equal(match(ci, "DEVID="), AB_REGEX_MATCH);
	ab_regex_free(re);
	ab_regex_free(ci);
}

/* ------------------------------------------------------------ agreement */

struct strs {
	char **v;
	size_t n, cap;
};

static void strs_add(struct strs *s, const char *p, size_t n)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		assert_non_null(s->v);
	}
	s->v[s->n] = strndup(p, n);
	assert_non_null(s->v[s->n]);
	s->n++;
}

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* Every string setting under st, recursively. */
static void setting_strings(const config_setting_t *st, struct strs *out)
{
	if (config_setting_type(st) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(st);

		strs_add(out, v, strlen(v));
		return;
	}
	for (int i = 0; i < config_setting_length(st); i++)
		setting_strings(config_setting_get_elem(st, (unsigned)i), out);
}

/* Subjects: each line of the corpus's .log files, the first 8 KiB of its
 * other files (mails, JSON), and a few made ones. */
static void corpus_subjects(struct strs *out)
{
	char pat[1024];
	glob_t g;

	snprintf(pat, sizeof pat, "%s/tests/data/corpus/*/*", tu_srcdir());
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i], *dot = strrchr(path, '.');
		FILE *f = fopen(path, "rb");
		char buf[8192];
		size_t n;

		assert_non_null(f);
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		if (dot && !strcmp(dot, ".log")) {
			for (size_t a = 0, b; a < n; a = b + 1) {
				const char *nl = memchr(buf + a, '\n', n - a);

				b = nl ? (size_t)(nl - buf) : n;
				if (b > a)
					strs_add(out, buf + a, b - a);
			}
		} else {
			strs_add(out, buf, n);
		}
	}
	globfree(&g);
}

static int exec_at(const struct ab_regex *re, const char *s, size_t len, size_t start,
	size_t *a, size_t *b)
{
	const size_t *ov;
	unsigned np;
	int rc = ab_regex_exec(re, s, len, start, &ov, &np);

	*a = rc == AB_REGEX_MATCH ? ov[0] : 0;
	*b = rc == AB_REGEX_MATCH ? ov[1] : 0;
	return rc;
}

/* Every string of the shipped profiles that compiles as a pattern, with
 * and without the literal filter (and multiline, as profile extractors
 * run), against every corpus subject: the same result and the same match
 * from offsets 0, a third and two thirds in. */
static void test_filter_agrees(void **state)
{
	struct strs pats = { 0 }, subj = { 0 };
	char pat[1024];
	size_t filtered = 0, matches = 0, compared = 0;
	glob_t g;

	(void)state;
	snprintf(pat, sizeof pat, "%s/conf/profiles.d/*.conf", tu_srcdir());
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		config_t cfg;

		config_init(&cfg);
		if (config_read_file(&cfg, g.gl_pathv[i]) != CONFIG_TRUE)
			fail_msg("%s:%d: %s", g.gl_pathv[i], config_error_line(&cfg),
				 config_error_text(&cfg));
		setting_strings(config_root_setting(&cfg), &pats);
		config_destroy(&cfg);
	}
	globfree(&g);
	corpus_subjects(&subj);
	assert_true(pats.n > 500);
	assert_true(subj.n > 300);
	for (size_t i = 0; i < pats.n; i++) {
		for (unsigned fl = 0; fl <= AB_REGEX_MULTILINE; fl += AB_REGEX_MULTILINE) {
			char err[256];
			struct ab_regex *f = ab_regex_compile(pats.v[i], fl, NULL, err, sizeof err);
			struct ab_regex *u = ab_regex_compile(pats.v[i], fl | AB_REGEX_NO_FILTER,
							      NULL, err, sizeof err);
			struct ab_regex_lit lits[AB_REGEX_LITS];

			if (!f || !u) {
				assert_true(!f && !u);
				continue;
			}
			filtered += fl == 0 && ab_regex_literals(pats.v[i], lits) > 0;
			for (size_t k = 0; k < subj.n; k++) {
				const char *s = subj.v[k];
				size_t len = strlen(s);
				int r1 = ab_regex_match(f, s, len), r2 = ab_regex_match(u, s, len);

				if (r1 != r2)
					fail_msg("/%s/ on \"%.200s\": %d filtered, %d not",
						 pats.v[i], s, r1, r2);
				matches += r1 == AB_REGEX_MATCH;
				compared++;
				for (size_t start = len / 3; r2 == AB_REGEX_MATCH && start < len;
				     start += len / 3 + 1) {
					size_t a1, b1, a2, b2;
					int e1 = exec_at(f, s, len, start, &a1, &b1);
					int e2 = exec_at(u, s, len, start, &a2, &b2);

					if (e1 != e2 || a1 != a2 || b1 != b2)
						fail_msg("/%s/ from %zu on \"%.200s\": filtered "
							 "and not differ", pats.v[i], start, s);
				}
			}
			ab_regex_free(f);
			ab_regex_free(u);
		}
	}
	print_message("%zu patterns (%zu with literals) x %zu subjects: %zu compared, %zu "
		      "matches\n", pats.n, filtered, subj.n, compared, matches);
	assert_true(filtered > 200);
	assert_true(matches > 1000);
	strs_free(&pats);
	strs_free(&subj);
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
		cmocka_unit_test(test_literals_read),
		cmocka_unit_test(test_literal_filter),
		cmocka_unit_test(test_filter_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
