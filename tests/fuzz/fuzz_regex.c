/*
 * fuzz_regex.c - libFuzzer target for lib/regex.c's literal filter
 * (regex_lit.c): a pattern is matched with and without it.
 *
 * Public: LLVMFuzzerTestOneInput.  The input is a pattern, then (after
 * the first NUL byte) the subject; without a NUL the pattern is matched
 * against itself.  Checks: the pattern compiles with the filter exactly
 * when it compiles without it; every literal read from it lies in any
 * subject it matches; the two give the same answer, except that the
 * filtered one may say no match where the other ran out of its budget (a
 * subject without a required literal cannot match); from offsets 0, a
 * third and two thirds in, the same match; and the same again with the
 * multiline option.
 * Diagnostics: abort() on a broken invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/regex.h"
#include "lib/regex_lit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATTERN_MAX 4096

static bool agree(int filtered, int plain)
{
	return filtered == plain || (filtered == AB_REGEX_NOMATCH && plain == AB_REGEX_LIMIT);
}

static void one(const char *pattern, const char *s, size_t len, unsigned flags)
{
	char err[256];
	struct ab_regex *f = ab_regex_compile(pattern, flags, NULL, err, sizeof err);
	struct ab_regex *u = ab_regex_compile(pattern, flags | AB_REGEX_NO_FILTER, NULL, err,
		sizeof err);
	struct ab_regex_lit lits[AB_REGEX_LITS];
	size_t n = ab_regex_literals(pattern, lits);
	int r1, r2;

	if (!f != !u)
		abort();
	if (!f)
		return;
	r1 = ab_regex_match(f, s, len);
	r2 = ab_regex_match(u, s, len);
	if (!agree(r1, r2))
		abort();
	for (size_t i = 0; r2 == AB_REGEX_MATCH && i < n; i++)
		if (!ab_regex_lit_in(&lits[i], s, len) || !memmem(s, len, lits[i].s, lits[i].n))
			abort();    /* a "required" literal a matching subject lacks */
	for (size_t start = 0; start <= len; start += len / 3 + 1) {
		const size_t *ov;
		unsigned np;
		size_t a = 0, b = 0;

		r1 = ab_regex_exec(f, s, len, start, &ov, &np);
		if (r1 == AB_REGEX_MATCH)
			a = ov[0], b = ov[1];
		r2 = ab_regex_exec(u, s, len, start, &ov, &np);
		if (!agree(r1, r2) || (r2 == AB_REGEX_MATCH && (a != ov[0] || b != ov[1])))
			abort();
	}
	ab_regex_free(f);
	ab_regex_free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - (const char *)data) : size;
	char *pattern;
	const char *s;
	size_t len;

	if (plen > PATTERN_MAX)
		return 0;
	pattern = malloc(plen + 1);
	if (!pattern)
		return 0;
	memcpy(pattern, data, plen);
	pattern[plen] = '\0';
	s = nul ? nul + 1 : pattern;
	len = nul ? size - plen - 1 : plen;
	one(pattern, s, len, 0);
	one(pattern, s, len, AB_REGEX_MULTILINE);
	free(pattern);
	return 0;
}
