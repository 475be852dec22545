/*
 * regex.c - bounded PCRE2 matching, the one copy (see regex.h): routing's
 * field conditions, syslog sources, mail header conditions, profile
 * extractors and detection all compile and match through here.
 *
 * Public: ab_regex_compile, ab_regex_free, ab_regex_match, ab_regex_exec,
 *   ab_regex_jit_size, ab_regex_name_count, ab_regex_name.
 * Standard options: PCRE2_UTF | PCRE2_MATCH_INVALID_UTF (mail and syslog
 * text is not always valid UTF-8; invalid bytes never match a character)
 * | PCRE2_NEVER_BACKSLASH_C (\C could split a character).  JIT compiling
 * is lazy: a pattern is JIT compiled (when the system allows it) the first
 * time it is matched, under one lock, and matched only after that attempt,
 * so no thread reads the code while another JIT compiles it.  Most of the
 * shipped profiles' few hundred patterns never run on a given system (a
 * profile's extractors run only on its tool's events, detection tries the
 * cheap conditions first), and JIT code is the largest part of the daemon's
 * private memory at idle (~1.8 MB for the shipped profiles).  Every match runs with AB_REGEX_MATCH_LIMIT and
 * AB_REGEX_DEPTH_LIMIT; hitting one (or the JIT stack or heap limit) is
 * AB_REGEX_LIMIT, which callers count as no match.  A pattern the JIT
 * compiled is matched with pcre2_jit_match, which skips pcre2_match's
 * checks of its arguments (most of the cost of a pattern that fails at
 * once, as most detection patterns do on most lines): the JIT code takes
 * invalid UTF-8 itself (PCRE2_MATCH_INVALID_UTF) and honours the match
 * limit; the offset is checked here.  Before any of it, a subject that
 * lacks one of the literals every match contains (regex_lit.c: read from
 * the pattern when it is compiled, case-sensitive patterns only) is no
 * match: memchr and a compare instead of the pattern (not for an anchored
 * pattern on a subject over ANCHORED_FILTER_MAX bytes: its one attempt
 * can cost less than reading the subject).
 * Per thread: one match context (the budget) and one match data block,
 * grown to the largest capture count seen, made on first use and freed by
 * a thread-exit destructor; no allocation per match.
 * Diagnostics: PCRE2's compile message in err; nothing logged.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/regex.h"
#include "lib/regex_lit.h"

#define STD_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C)
#define MIN_PAIRS 16u

/* The pattern, whether its JIT compile was tried (see the top), and the
 * literals every match contains (regex_lit.c). */
struct ab_regex {
	pcre2_code *code;
	atomic_bool jit_tried;
	bool jit_ok;                 /* the JIT compiled it (read after jit_tried) */
	bool anchored;               /* one attempt, at the start (PCRE2_INFO_ALLOPTIONS) */
	unsigned char n_lit;
	struct ab_regex_lit lit[AB_REGEX_LITS];
};

/* An anchored pattern makes one attempt, often over a few bytes, where
 * the literals' search reads the whole subject: beyond this many bytes
 * (a mail body) it is not made for one. */
#define ANCHORED_FILTER_MAX 4096

static pthread_mutex_t jit_lock = PTHREAD_MUTEX_INITIALIZER;

struct tls {
	pcre2_match_context *mc;
	pcre2_match_data *md;
	uint32_t pairs;
};

static _Thread_local struct tls *tl;
static pthread_key_t tl_key;
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;
static bool tl_key_ok;

static void tls_free(void *p)
{
	struct tls *t = p;

	if (!t)
		return;
	pcre2_match_data_free(t->md);
	pcre2_match_context_free(t->mc);
	free(t);
}

static void tls_key_make(void)
{
	tl_key_ok = pthread_key_create(&tl_key, tls_free) == 0;
}

/* This thread's context and match data with room for pairs offsets. */
static struct tls *tls_get(uint32_t pairs)
{
	struct tls *t = tl;

	if (!t) {
		t = calloc(1, sizeof *t);
		if (!t)
			return NULL;
		t->mc = pcre2_match_context_create(NULL);
		if (!t->mc) {
			free(t);
			return NULL;
		}
		pcre2_set_match_limit(t->mc, AB_REGEX_MATCH_LIMIT);
		pcre2_set_depth_limit(t->mc, AB_REGEX_DEPTH_LIMIT);
		pthread_once(&tl_once, tls_key_make);
		if (tl_key_ok)
			(void)pthread_setspecific(tl_key, t);
		tl = t;
	}
	if (pairs < MIN_PAIRS)
		pairs = MIN_PAIRS;
	if (t->pairs < pairs) {
		pcre2_match_data *md = pcre2_match_data_create(pairs, NULL);

		if (!md)
			return NULL;
		pcre2_match_data_free(t->md);
		t->md = md;
		t->pairs = pairs;
	}
	return t;
}

struct ab_regex *ab_regex_compile(const char *pattern, unsigned flags, size_t *erroff,
	char *err, size_t errsz)
{
	uint32_t opt = STD_OPTIONS;
	PCRE2_SIZE eo = 0;
	struct ab_regex *r;
	pcre2_code *re;
	int ec = 0;

	if (flags & AB_REGEX_CASELESS)
		opt |= PCRE2_CASELESS;
	if (flags & AB_REGEX_MULTILINE)
		opt |= PCRE2_MULTILINE;
	if (erroff)
		*erroff = 0;
	if (!pattern) {
		snprintf(err, errsz, "no pattern");
		return NULL;
	}
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opt, &ec, &eo, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "PCRE2 error %d", ec);
		snprintf(err, errsz, "%s", (const char *)msg);
		if (erroff)
			*erroff = (size_t)eo;
		return NULL;
	}
	r = malloc(sizeof *r);
	if (!r) {
		pcre2_code_free(re);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	r->code = re;
	atomic_init(&r->jit_tried, false);
	r->jit_ok = false;
	r->n_lit = 0;
	if (!(flags & (AB_REGEX_CASELESS | AB_REGEX_NO_FILTER)))
		r->n_lit = (unsigned char)ab_regex_literals(pattern, r->lit);
	r->anchored = pcre2_pattern_info(re, PCRE2_INFO_ALLOPTIONS, &opt) == 0 &&
		(opt & PCRE2_ANCHORED);
	return r;
}

void ab_regex_free(struct ab_regex *re)
{
	if (!re)
		return;
	pcre2_code_free(re->code);
	free(re);
}

/* re's code, JIT compiled first if this is its first match (see the top).
 * The JIT is an optional speed-up: when it fails the interpreter runs. */
static const pcre2_code *code_for_match(const struct ab_regex *cre)
{
	/* ab_regex_compile allocated it writable; only jit_tried changes */
	struct ab_regex *re = (struct ab_regex *)(uintptr_t)cre;

	if (!atomic_load_explicit(&re->jit_tried, memory_order_acquire)) {
		pthread_mutex_lock(&jit_lock);
		if (!atomic_load_explicit(&re->jit_tried, memory_order_relaxed)) {
			re->jit_ok = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
			atomic_store_explicit(&re->jit_tried, true, memory_order_release);
		}
		pthread_mutex_unlock(&jit_lock);
	}
	return re->code;
}

/* One match of re's code (code_for_match made it ready) from start <= len. */
static int run(const struct ab_regex *re, const pcre2_code *code, const char *s, size_t len,
	       size_t start, struct tls *t)
{
	if (re->jit_ok)
		return pcre2_jit_match(code, (PCRE2_SPTR)s, len, start, 0, t->md, t->mc);
	return pcre2_match(code, (PCRE2_SPTR)s, len, start, 0, t->md, t->mc);
}

/* Is one of the literals every match of re contains missing from s[0..len)?
 * (A match from an offset lies after it, literals too: none is taken
 * from a lookbehind.) */
static bool lacks_literal(const struct ab_regex *re, const char *s, size_t len)
{
	if (re->anchored && len > ANCHORED_FILTER_MAX)
		return false;
	for (unsigned i = 0; i < re->n_lit; i++)
		if (!ab_regex_lit_in(&re->lit[i], s, len))
			return true;
	return false;
}

static int result(int rc)
{
	if (rc >= 0)          /* 0: matched, ovector too small for all groups */
		return AB_REGEX_MATCH;
	switch (rc) {
	case PCRE2_ERROR_NOMATCH:
		return AB_REGEX_NOMATCH;
	case PCRE2_ERROR_MATCHLIMIT:
	case PCRE2_ERROR_DEPTHLIMIT:
	case PCRE2_ERROR_HEAPLIMIT:
	case PCRE2_ERROR_JIT_STACKLIMIT:
		return AB_REGEX_LIMIT;
	default:
		return AB_REGEX_ERROR;
	}
}

int ab_regex_match(const struct ab_regex *re, const char *s, size_t len)
{
	struct tls *t;

	if (!re || !s)
		return AB_REGEX_ERROR;
	if (lacks_literal(re, s, len))
		return AB_REGEX_NOMATCH;
	t = tls_get(1);
	if (!t)
		return AB_REGEX_ERROR;
	return result(run(re, code_for_match(re), s, len, 0, t));
}

int ab_regex_exec(const struct ab_regex *re, const char *s, size_t len, size_t start,
	const size_t **ov, unsigned *npairs)
{
	const pcre2_code *code;
	uint32_t groups = 0;
	struct tls *t;
	int rc;

	*ov = NULL;
	*npairs = 0;
	if (!re || !s)
		return AB_REGEX_ERROR;
	if (start > len || lacks_literal(re, s + start, len - start))
		return AB_REGEX_NOMATCH;
	code = code_for_match(re);
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
	t = tls_get(groups + 1);
	if (!t)
		return AB_REGEX_ERROR;
	rc = run(re, code, s, len, start, t);
	if (rc >= 0) {
		*ov = pcre2_get_ovector_pointer(t->md);
		*npairs = rc > 0 ? (unsigned)rc : t->pairs;
	}
	return result(rc);
}

size_t ab_regex_jit_size(const struct ab_regex *re)
{
	size_t n = 0;

	if (re && atomic_load_explicit(&re->jit_tried, memory_order_acquire))
		pcre2_pattern_info(re->code, PCRE2_INFO_JITSIZE, &n);
	return n;
}

unsigned ab_regex_name_count(const struct ab_regex *re)
{
	uint32_t n = 0;

	if (re)
		pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &n);
	return n;
}

const char *ab_regex_name(const struct ab_regex *re, unsigned i, unsigned *group)
{
	uint32_t esz = 0;
	PCRE2_SPTR tab = NULL, e;

	if (i >= ab_regex_name_count(re))
		return NULL;
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &esz);
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &tab);
	e = tab + (size_t)i * esz;
	if (group)
		*group = ((unsigned)e[0] << 8) | e[1];
	return (const char *)(e + 2);
}
