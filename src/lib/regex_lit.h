/*
 * regex_lit.h - the literal strings every match of a PCRE2 pattern must
 * contain, read from the pattern text (lib/regex.c skips a match whose
 * subject lacks one: a memchr and a compare instead of running the pattern).
 */
#ifndef AB_LIB_REGEX_LIT_H
#define AB_LIB_REGEX_LIT_H

#include <stdbool.h>
#include <stddef.h>

#define AB_REGEX_LITS 3       /* literals kept per pattern: the longest */
#define AB_REGEX_LIT_LEN 24   /* bytes of one, at most (a longer run keeps its start) */

struct ab_regex_lit {
	unsigned char n;
	unsigned char anchor;       /* the byte searched for first: the rarest in log text */
	char s[AB_REGEX_LIT_LEN];
};

/*
 * Up to AB_REGEX_LITS byte strings that are in every match of pattern
 * (compiled by PCRE2 with UTF, case-sensitive, not extended), longest
 * first, into lits; returns how many.  Conservative: a construct it does
 * not read for certain (alternation at the top, \Q, inline (?i) or (?x),
 * conditionals, recursion, verbs, a '{' that is not a quantifier...) gives
 * fewer or none, never a literal a match may lack.  Literals inside
 * lookbehinds are not taken, so each one lies at or after the start of
 * the match attempt.
 */
size_t ab_regex_literals(const char *pattern, struct ab_regex_lit *lits);

/* Is lit in s[0..len)?  memchr for its anchor byte, then a compare (glibc's
 * memmem costs about a nanosecond per byte of a short line). */
bool ab_regex_lit_in(const struct ab_regex_lit *lit, const char *s, size_t len);

#endif
