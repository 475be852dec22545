/*
 * test_syslog_golden.c - every syslog sample of the tree through
 * ab_syslog_parse() (src/parse/syslog.c), compared with the events the
 * parser gave when tests/unit/parse/syslog_golden.tsv was written.
 *
 * Inputs: each line of tests/data/corpus/TOOL/NAME.log and each file of
 * tests/fuzz/corpus/syslog* whole (as the fuzz target takes it), each
 * parsed twice: with peer host "192.0.2.1" at 2024-03-20T10:00:00Z (record
 * A: the event's canonical JSON, and a hash of its fields in insertion
 * order) and without a peer host on 2023-12-30T23:00:00Z (record B: both
 * as hashes; a yearless date then lands in another year).
 *
 * A record is compared only while its input is unchanged (the input's hash
 * is part of the record); inputs added since the file was written, and
 * changed ones, are counted and listed as TAP comments, not failed, so a
 * new corpus sample does not break this test.  After an intended change of
 * the parser's output, rewrite the file with the new parser:
 *   AB_GOLDEN_WRITE=tests/unit/parse/syslog_golden.tsv \
 *     top_srcdir=$PWD _build/w/tests/unit/parse/test_syslog_golden
 * and say in the commit which events changed and why.
 * Diagnostics: the first differing events, as TAP comments.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "event/event.h"
#include "parse/syslog.h"
#include "../harness/testutil.h"

#define NOW_A 1710928800000LL      /* 2024-03-20T10:00:00Z */
#define NOW_B 1703977200000LL      /* 2023-12-30T23:00:00Z */
#define MAX_SHOWN 5

struct golden {
	char **keys;                 /* "path\tline\tvariant\tinput-hash" */
	char **vals;                 /* the rest of the record */
	char *buf;                   /* the file; keys and values point into it */
	size_t n, cap;
};

static uint64_t fnv64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 14695981039346656037ULL;

	while (n--) {
		h ^= *s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 > cap) {
			char *nb = realloc(buf, cap = (cap + 4096) * 2);

			assert_non_null(nb);
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The record of one input: the value part (after the key) into out. */
static void record(const char *line, size_t len, bool a, char *out, size_t outsz)
{
	struct ab_event *ev = ab_event_new();
	char err[128];
	char *js, *fs;

	assert_non_null(ev);
	assert_int_equal(ab_syslog_parse(line, len, a ? "192.0.2.1" : NULL, a ? NOW_A : NOW_B,
					 ev, err, sizeof err), 0);
	js = ab_event_dumps(ev);
	fs = json_dumps(ev->fields, JSON_COMPACT);
	assert_non_null(js);
	assert_non_null(fs);
	if (a)
		snprintf(out, outsz, "%016llx\t%s", (unsigned long long)fnv64(fs, strlen(fs)), js);
	else
		snprintf(out, outsz, "%016llx\t%016llx", (unsigned long long)fnv64(fs, strlen(fs)),
			 (unsigned long long)fnv64(js, strlen(js)));
	free(js);
	free(fs);
	ab_event_free(ev);
}

struct run {
	const struct golden *g;
	FILE *w;                     /* writing the file instead of comparing */
	size_t same, differ, unknown;
};

static const char *golden_find(const struct golden *g, const char *key)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(g->keys[mid], key);

		if (c == 0)
			return g->vals[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Where a record differs, with some context. */
static void show(const char *rel, size_t lineno, char var, const char *want, const char *got)
{
	size_t i = 0, from;

	while (want[i] && want[i] == got[i])
		i++;
	from = i > 60 ? i - 60 : 0;
	print_message("# %s:%zu %c differs at byte %zu\n#  want ...%.160s\n#  got  ...%.160s\n",
		      rel, lineno, var, i, want + from, got + from);
}

static void one(struct run *r, const char *rel, size_t lineno, const char *line, size_t len)
{
	static char val[1 << 20];
	char key[1024];
	int v;

	for (v = 0; v < 2; v++) {
		const char *want;

		snprintf(key, sizeof key, "%s\t%zu\t%c\t%016llx", rel, lineno, v ? 'B' : 'A',
			 (unsigned long long)fnv64(line, len));
		record(line, len, v == 0, val, sizeof val);
		if (r->w) {
			fprintf(r->w, "%s\t%s\n", key, val);
			continue;
		}
		want = golden_find(r->g, key);
		if (!want) {
			r->unknown++;
			print_message("# no golden record (new or changed input): %s:%zu %c\n", rel,
				      lineno, v ? 'B' : 'A');
		} else if (strcmp(want, val) == 0) {
			r->same++;
		} else if (++r->differ <= MAX_SHOWN) {
			show(rel, lineno, v ? 'B' : 'A', want, val);
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void golden_load(struct golden *g, const char *path)
{
	size_t len, i;
	char *buf = read_file(path, &len), *p, *save = NULL;
	char **pairs;

	if (!buf)
		fail_msg("cannot read %s (set top_srcdir)", path);
	for (p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		if (g->n == g->cap) {
			g->cap = g->cap ? 2 * g->cap : 1024;
			g->keys = realloc(g->keys, g->cap * sizeof *g->keys);
			assert_non_null(g->keys);
		}
		g->keys[g->n++] = p;
	}
	/* sort the whole lines (the key is a prefix ended by the 4th tab), then
	 * split each into key and value */
	qsort(g->keys, g->n, sizeof *g->keys, cmp_str);
	pairs = malloc((g->n ? g->n : 1) * sizeof *pairs);
	assert_non_null(pairs);
	for (i = 0; i < g->n; i++) {
		char *t = g->keys[i];
		int tabs = 0;

		while (*t && tabs < 4)
			if (*t++ == '\t')
				tabs++;
		assert_int_equal(tabs, 4);
		t[-1] = '\0';
		pairs[i] = t;
	}
	g->vals = pairs;
	g->buf = buf;
}

static void walk(struct run *r)
{
	static const char *const pats[] = { "tests/data/corpus/*/*.log", "tests/fuzz/corpus/syslog*/*" };
	size_t skip = strlen(tu_srcdir()) + 1, i, k;
	char pat[4096];

	for (k = 0; k < 2; k++) {
		glob_t gl;

		snprintf(pat, sizeof pat, "%s/%s", tu_srcdir(), pats[k]);
		assert_int_equal(glob(pat, 0, NULL, &gl), 0);
		for (i = 0; i < gl.gl_pathc; i++) {
			size_t len, lineno = 1;
			char *buf = read_file(gl.gl_pathv[i], &len), *p, *nl;
			const char *rel = gl.gl_pathv[i] + skip;

			assert_non_null(buf);
			if (k == 1) {
				one(r, rel, 0, buf, len);
			} else {
				for (p = buf; p < buf + len; p = nl + 1, lineno++) {
					nl = memchr(p, '\n', (size_t)(buf + len - p));
					if (!nl)
						nl = buf + len;
					one(r, rel, lineno, p, (size_t)(nl - p));
				}
			}
			free(buf);
		}
		globfree(&gl);
	}
}

static void test_golden(void **state)
{
	const char *w = getenv("AB_GOLDEN_WRITE");
	struct golden g = { 0 };
	struct run r = { 0 };
	char path[4096];

	(void)state;
	if (w && *w) {
		r.w = fopen(w, "w");
		assert_non_null(r.w);
		walk(&r);
		assert_int_equal(fclose(r.w), 0);
		return;
	}
	snprintf(path, sizeof path, "%s/tests/unit/parse/syslog_golden.tsv", tu_srcdir());
	golden_load(&g, path);
	r.g = &g;
	walk(&r);
	print_message("# %zu records as written, %zu differ, %zu without a record\n", r.same,
		      r.differ, r.unknown);
	assert_int_equal(r.differ, 0);
	assert_true(r.same > 0);
	free(g.vals);
	free(g.keys);
	free(g.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
