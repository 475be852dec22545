/*
 * regex_lit.c - the literal strings every match of a PCRE2 pattern must
 * contain, read from the pattern text (see regex_lit.h).  lib/regex.c
 * looks for them with memchr/memmem before it runs the pattern: most
 * detection and extractor patterns fail on most lines, and a pattern
 * such as ^(?=.{0,600}?\bdevid=...) walks the whole line to find that out
 * (0.3-0.5 us on a syslog line) where memmem takes a few nanoseconds.
 *
 * Public: ab_regex_literals, ab_regex_lit_in.
 * How: one pass over the pattern as PCRE2 reads it (UTF-8, not extended,
 * case-sensitive), sequence by sequence.  A run of literal characters is
 * a candidate; an optional atom (?, *, {0,n}) ends the run before it, a
 * repeated one (+, {n,m} with n >= 1) ends it after its first copy and
 * starts the next run with it; a class, a dot, an escape such as \d or
 * \b, an anchor or a group ends the run.  A group's candidates count when
 * the group is mandatory (not optional, no '|' at its own level, not a
 * negative lookahead or a lookbehind); a '|' at the pattern's own level
 * leaves none.  Whatever it does not read for certain makes it give up
 * (no literals): the filter then never runs, which costs only the
 * speed-up.  tests/unit/lib/test_regex.c checks the reading on a table of
 * patterns and, on the shipped profiles' patterns, that filtered and
 * unfiltered matching agree; tests/fuzz/fuzz_regex.c the same on any
 * input.  Read against PCRE2 10.42's pcre2_compile.c (Debian 12): the
 * syntax of a later release (e.g. 10.43's {,n} quantifier, (?a), (?r),
 * Unicode group names) gives up here today; check it again on an upgrade.
 * Diagnostics: none (giving up is silent).
 */
#include <stdbool.h>
#include <string.h>

#include "lib/regex_lit.h"

#define DEPTH_MAX 32

struct rd {
	const char *p, *end;
	bool bail;                  /* a construct not read for certain: no literals */
};

struct cands {
	struct ab_regex_lit v[AB_REGEX_LITS];   /* longest first */
	size_t n;
};

enum atom { A_LIT, A_OTHER, A_GROUP, A_NONE };
enum quant { Q_ONE, Q_OPT, Q_MORE };

/* s[0..n) is in every match: keep it if it is among the longest. */
static void offer(struct cands *c, const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	if (n > AB_REGEX_LIT_LEN)
		n = AB_REGEX_LIT_LEN;       /* a prefix of a required run is required */
	for (i = 0; i < c->n; i++)
		if (c->v[i].n == n && !memcmp(c->v[i].s, s, n))
			return;
	for (i = 0; i < c->n && c->v[i].n >= n; i++)
		;
	if (i == AB_REGEX_LITS)
		return;
	if (c->n == AB_REGEX_LITS)
		c->n--;
	memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof c->v[0]);
	c->v[i].n = (unsigned char)n;
	memcpy(c->v[i].s, s, n);
	c->n++;
}

static void merge(struct cands *into, const struct cands *from)
{
	for (size_t i = 0; i < from->n; i++)
		offer(into, from->v[i].s, from->v[i].n);
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool alnum(char c)
{
	return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool hex(char c)
{
	return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Past the next close (a '}', '>' or quote): false when there is none. */
static bool skip_to(struct rd *r, char close)
{
	const char *q = memchr(r->p, close, (size_t)(r->end - r->p));

	if (!q)
		return false;
	r->p = q + 1;
	return true;
}

/* An escape, r->p after the backslash: a literal byte in *b, or another
 * atom (a class such as \d, an assertion, a back reference, a character
 * given by number). */
static enum atom escape(struct rd *r, char *b)
{
	char c;

	if (r->p >= r->end || (unsigned char)*r->p >= 0x80) {
		r->bail = true;
		return A_OTHER;
	}
	c = *r->p++;
	if (!alnum(c)) {
		*b = c;
		return A_LIT;
	}
	switch (c) {
	case 'n': *b = '\n'; return A_LIT;
	case 't': *b = '\t'; return A_LIT;
	case 'r': *b = '\r'; return A_LIT;
	case 'f': *b = '\f'; return A_LIT;
	case 'e': *b = '\x1b'; return A_LIT;
	case 'a': *b = '\a'; return A_LIT;
	case 'd': case 'D': case 's': case 'S': case 'w': case 'W': case 'h': case 'H':
	case 'v': case 'V': case 'R': case 'X':
	case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G': case 'K':
		return A_OTHER;
	case 'N':
		if (r->p < r->end && *r->p == '{')
			r->bail = true;     /* \N{U+...} */
		return A_OTHER;
	case 'p': case 'P':
		if (r->p < r->end && *r->p == '{')
			r->bail = !skip_to(r, '}');
		else if (r->p < r->end)
			r->p++;
		else
			r->bail = true;
		return A_OTHER;
	case 'x':
		if (r->p < r->end && *r->p == '{') {
			r->bail = !skip_to(r, '}');
		} else {
			for (int i = 0; i < 2 && r->p < r->end && hex(*r->p); i++)
				r->p++;
		}
		return A_OTHER;
	case 'o':
		r->bail = !(r->p < r->end && *r->p == '{' && skip_to(r, '}'));
		return A_OTHER;
	case 'c':
		if (r->p < r->end && (unsigned char)*r->p < 0x80)
			r->p++;
		else
			r->bail = true;
		return A_OTHER;
	case 'g': case 'k':
		if (r->p < r->end && *r->p == '{')
			r->bail = !skip_to(r, '}');
		else if (r->p < r->end && *r->p == '<')
			r->bail = !skip_to(r, '>');
		else if (r->p < r->end && *r->p == '\'' && ++r->p)
			r->bail = !skip_to(r, '\'');
		else if (c == 'g') {
			if (r->p < r->end && (*r->p == '-' || *r->p == '+'))
				r->p++;
			while (r->p < r->end && digit(*r->p))
				r->p++;
		} else {
			r->bail = true;
		}
		return A_OTHER;
	default:
		if (digit(c)) {             /* a back reference or an octal character */
			while (r->p < r->end && digit(*r->p))
				r->p++;
			return A_OTHER;
		}
		r->bail = true;             /* \Q...\E, \E, \C, \u, ... */
		return A_OTHER;
	}
}

/* Past the end of a POSIX class such as [:alpha:] whose name starts at p
 * (t is ':', '.' or '='), or NULL when PCRE2 does not read one there: a
 * ']', or a '[' followed by t, comes first (then the '[' is an ordinary
 * member: "[[=[=]" is the class of '[' and '=').  As PCRE2's own check. */
static const char *posix_end(const char *p, const char *end, char t)
{
	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end && (p[1] == ']' || p[1] == '\\'))
			p++;
		else if ((*p == '[' && p + 1 < end && p[1] == t) || *p == ']')
			return NULL;
		else if (*p == t && p + 1 < end && p[1] == ']')
			return p + 2;
	}
	return NULL;
}

/* A class, r->p after its '['. */
static void skip_class(struct rd *r)
{
	const char *p = r->p, *end = r->end;

	if (p < end && *p == '^')
		p++;
	if (p < end && *p == ']')
		p++;                        /* a ']' first is a member */
	while (p < end && *p != ']') {
		if (*p == '\\') {
			if (p + 1 >= end || p[1] == 'Q' || p[1] == 'E' ||
			    (p[1] == 'c' && p + 2 >= end)) {
				r->bail = true;
				return;
			}
			p += p[1] == 'c' ? 3 : 2;   /* \c] is control-], not the end */
		} else if (*p == '[' && p + 1 < end && p[1] && strchr(":.=", p[1])) {
			const char *q = posix_end(p + 2, end, p[1]);

			p = q ? q : p + 1;      /* [:alpha:], or a plain '[' */
		} else {
			p++;
		}
	}
	if (p >= end)
		r->bail = true;
	else
		r->p = p + 1;
}

/* A quantifier after an atom, if any. */
static enum quant quantifier(struct rd *r)
{
	const char *p = r->p, *end = r->end;
	enum quant q;

	if (p >= end)
		return Q_ONE;
	if (*p == '?' || *p == '*') {
		q = Q_OPT;
		p++;
	} else if (*p == '+') {
		q = Q_MORE;
		p++;
	} else if (*p == '{') {
		bool some = false, nonzero = false;

		for (p++; p < end && digit(*p); p++) {
			some = true;
			nonzero |= *p != '0';
		}
		if (p < end && *p == ',')
			for (p++; p < end && digit(*p); p++)
				;
		if (!some || p >= end || *p != '}') {
			r->bail = true;     /* {,n} or a literal '{': PCRE2 versions differ */
			return Q_ONE;
		}
		p++;
		q = nonzero ? Q_MORE : Q_OPT;
	} else {
		return Q_ONE;
	}
	if (p < end && (*p == '?' || *p == '+'))
		p++;                        /* lazy or possessive */
	r->p = p;
	return q;
}

static bool sequence(struct rd *r, int depth, struct cands *c);

/* A group, r->p at its '(': A_GROUP with its candidates in g when its
 * contents are required, A_OTHER when they are not (negative lookahead,
 * lookbehind), A_NONE for an option setting or a comment. */
static enum atom group(struct rd *r, int depth, struct cands *g)
{
	const char *p = r->p + 1, *end = r->end;
	bool required = true, alt_free;

	if (depth >= DEPTH_MAX || p >= end || *p == '*') {
		r->bail = true;             /* too deep, or a verb such as (*UTF) */
		return A_OTHER;
	}
	if (*p == '?') {
		p++;
		if (p >= end) {
			r->bail = true;
			return A_OTHER;
		}
		if (*p == ':' || *p == '>' || *p == '=') {
			p++;
		} else if (*p == '!') {
			required = false;
			p++;
		} else if (*p == '<' && p + 1 < end && (p[1] == '=' || p[1] == '!')) {
			required = false;
			p += 2;
		} else if (*p == '<' || (*p == 'P' && p + 1 < end && p[1] == '<') || *p == '\'') {
			char close = *p == '\'' ? '\'' : '>';
			const char *q;

			p += *p == 'P' ? 2 : 1;
			for (q = p; q < end && (alnum(*q) || *q == '_'); q++)
				;               /* a group name; (?<* is a lookbehind (10.34) */
			if (q == p || q >= end || *q != close) {
				r->bail = true;
				return A_OTHER;
			}
			p = q + 1;
		} else if (*p == '#') {
			r->p = p;
			if (!skip_to(r, ')'))
				r->bail = true;
			return A_NONE;
		} else {
			while (p < end && *p && strchr("smnUJ-", *p))
				p++;            /* options that leave literals as they are */
			if (p < end && *p == ')') {
				r->p = p + 1;
				return A_NONE;
			}
			if (p >= end || *p != ':') {
				r->bail = true; /* (?i), (?x), (?|, (?(, (?R, (?1, ... */
				return A_OTHER;
			}
			p++;
		}
	}
	r->p = p;
	alt_free = sequence(r, depth + 1, g);
	if (r->bail || r->p >= end || *r->p != ')') {
		r->bail = true;
		return A_OTHER;
	}
	r->p++;
	if (!required || !alt_free) {
		g->n = 0;
		return A_OTHER;
	}
	return A_GROUP;
}

/* One character, r->p at its first byte, into b; its length. */
static size_t character(struct rd *r, char *b)
{
	unsigned char c = (unsigned char)*r->p;
	size_t n = c < 0x80 ? 1 : c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;

	if (n == 0 || n > (size_t)(r->end - r->p)) {
		r->bail = true;
		return 0;
	}
	memcpy(b, r->p, n);
	r->p += n;
	return n;
}

/* A finished run is a candidate; the next one starts empty. */
static void flush(struct cands *c, const char *run, size_t *rn)
{
	offer(c, run, *rn);
	*rn = 0;
}

/* Reads a sequence of atoms up to a ')' or the end, offering its runs and
 * its required groups' candidates to c.  false when it has a '|' of its
 * own (then none of them is required). */
static bool sequence(struct rd *r, int depth, struct cands *c)
{
	char run[AB_REGEX_LIT_LEN], b[4];
	size_t rn = 0, bn;
	bool alt = false;

	while (r->p < r->end && !r->bail && *r->p != ')') {
		struct cands g = { .n = 0 };
		char ch = *r->p;
		enum atom a;
		enum quant q;

		bn = 0;
		if (ch == '|') {
			alt = true;
			flush(c, run, &rn);
			r->p++;
			continue;
		}
		if (ch == '(') {
			a = group(r, depth, &g);
		} else if (ch == '[') {
			r->p++;
			skip_class(r);
			a = A_OTHER;
		} else if (ch == '\\') {
			r->p++;
			a = escape(r, b);
			bn = a == A_LIT;
		} else if (ch == '.' || ch == '^' || ch == '$') {
			r->p++;
			a = A_OTHER;
		} else if (ch == '{' || ch == '?' || ch == '*' || ch == '+') {
			r->bail = true;         /* nothing to repeat, or a literal '{' */
			break;
		} else {
			bn = character(r, b);
			a = A_LIT;
		}
		if (r->bail)
			break;
		if (a == A_NONE)
			continue;
		q = quantifier(r);
		if (r->bail)
			break;
		if (a != A_LIT) {
			flush(c, run, &rn);
			if (a == A_GROUP && q != Q_OPT)
				merge(c, &g);
			continue;
		}
		if (q == Q_OPT) {           /* the run ends before an optional character */
			flush(c, run, &rn);
			continue;
		}
		if (rn + bn > sizeof run)
			flush(c, run, &rn);
		memcpy(run + rn, b, bn);
		rn += bn;
		if (q == Q_MORE) {          /* ...xa+y: "...xa" and "ay" are required */
			offer(c, run, rn);
			memcpy(run, b, bn);
			rn = bn;
		}
	}
	offer(c, run, rn);
	return !alt;
}

/* How common a byte is in log and mail text: its place in this list
 * (later is rarer), bytes not in it rarer still. */
#define COMMON " etaoinsrhldcumfpgwybvkxjqz0123456789"
#define PUNCT (sizeof COMMON - 1)   /* the rarity of the first byte after them */

static unsigned rarity(unsigned char b)
{
	static const char common[] = COMMON ".,:-=/_\n";
	const char *p = b ? memchr(common, b, sizeof common - 1) : NULL;

	return p ? (unsigned)(p - common) : sizeof common;
}

static void set_anchor(struct ab_regex_lit *l)
{
	l->anchor = 0;
	for (unsigned i = 1; i < l->n; i++)
		if (rarity((unsigned char)l->s[i]) > rarity((unsigned char)l->s[l->anchor]))
			l->anchor = (unsigned char)i;
}

bool ab_regex_lit_in(const struct ab_regex_lit *l, const char *s, size_t len)
{
	size_t k = l->anchor, n = l->n;
	const char *p, *end;

	if (len < n)
		return false;
	p = s + k;
	end = s + len - (n - 1 - k);    /* past the last place the anchor can be */
	while (p < end && (p = memchr(p, l->s[k], (size_t)(end - p)))) {
		if (!memcmp(p - k, l->s, n))
			return true;
		p++;
	}
	return false;
}

size_t ab_regex_literals(const char *pattern, struct ab_regex_lit *lits)
{
	struct rd r = { .p = pattern, .end = pattern ? pattern + strlen(pattern) : NULL };
	struct cands c = { .n = 0 };
	size_t n = 0;

	if (!pattern)
		return 0;
	if (!sequence(&r, 0, &c) || r.bail || r.p != r.end)
		return 0;               /* a '|' at the top, not read, or an unmatched ')' */
	for (size_t i = 0; i < c.n; i++) {
		lits[n] = c.v[i];
		set_anchor(&lits[n]);
		/* " ", "e", "er": in nearly every line, not worth a look */
		if (lits[n].n >= 3 || rarity((unsigned char)lits[n].s[lits[n].anchor]) >= PUNCT)
			n++;
	}
	return n;
}
