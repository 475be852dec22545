/*
 * regex.h - the one way alertbridge compiles and runs a PCRE2 pattern:
 * the standard options (UTF-8 patterns, invalid UTF-8 in subjects
 * tolerated, no \C), JIT when the system allows it (a hardened unit with
 * MemoryDenyWriteExecute falls back to the interpreter), and every match
 * bounded by one budget, so a pattern from the configuration can never
 * make a hostile mail header or syslog line burn a thread.
 */
#ifndef AB_LIB_REGEX_H
#define AB_LIB_REGEX_H

#include <stddef.h>
#include <stdint.h>

/* A compiled pattern (a pcre2_code underneath). */
struct ab_regex;

/* Options of ab_regex_compile() on top of the standard ones. */
enum {
	AB_REGEX_CASELESS = 1u << 0,   /* mail header conditions */
	AB_REGEX_MULTILINE = 1u << 1,  /* profiles: ^ and $ at every line */
	AB_REGEX_NO_FILTER = 1u << 2,  /* tests: match without the literal filter (regex.c) */
};

/* What a match returns: distinct, so a caller can report a budget hit. */
enum {
	AB_REGEX_MATCH = 1,
	AB_REGEX_NOMATCH = 0,
	AB_REGEX_ERROR = -1,           /* out of memory or a PCRE2 error */
	AB_REGEX_LIMIT = -2,           /* the budget ran out: the match gave up */
};

/* The budget of every match: PCRE2's match limit (backtracking steps) and
 * depth limit (nested backtracking; the JIT's bound is its stack). */
#define AB_REGEX_MATCH_LIMIT 200000u
#define AB_REGEX_DEPTH_LIMIT 5000u

/* An unset group's offsets in ab_regex_exec()'s ovector. */
#define AB_REGEX_UNSET SIZE_MAX

/*
 * Compile pattern (NUL-terminated) with the standard options and flags
 * (AB_REGEX_*).  Returns the pattern, or NULL with PCRE2's message in err
 * and the offset in the pattern where it stopped in *erroff (may be NULL).
 */
struct ab_regex *ab_regex_compile(const char *pattern, unsigned flags, size_t *erroff,
	char *err, size_t errsz);
void ab_regex_free(struct ab_regex *re);   /* NULL is fine */

/* Does re find a match in s[0..len)?  AB_REGEX_MATCH, _NOMATCH, _LIMIT or
 * _ERROR.  Thread-safe; no allocation per call (match data and budget are
 * made once per thread and freed when the thread ends). */
int ab_regex_match(const struct ab_regex *re, const char *s, size_t len);

/*
 * Search s[0..len) from byte offset start, with captures.  On
 * AB_REGEX_MATCH, *ov points at 2 * *npairs offsets (group 0 first;
 * AB_REGEX_UNSET for a group that took no part), valid until this thread's
 * next match.  Other returns as ab_regex_match().
 */
int ab_regex_exec(const struct ab_regex *re, const char *s, size_t len, size_t start,
	const size_t **ov, unsigned *npairs);

/* Bytes of JIT code re has: 0 until its first match (the JIT compile is
 * lazy, see regex.c) and when the system allows no JIT. */
size_t ab_regex_jit_size(const struct ab_regex *re);

/* Named groups: how many, and the i-th name with its group number. */
unsigned ab_regex_name_count(const struct ab_regex *re);
const char *ab_regex_name(const struct ab_regex *re, unsigned i, unsigned *group);

#endif
