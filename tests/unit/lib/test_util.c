/*
 * test_util.c - unit tests for src/lib/util.c: duration, glob and RFC 3339
 * tables (whole strings, and scanning a span with the syslog flags), time
 * formatting and its range, the calendar helpers, clocks, hex, mkdir -p
 * and bounded file reads.
 */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ durations */

static const struct {
	const char *in;
	int ok;
	int64_t ms;
} dur_cases[] = {
	{ "0", 1, 0 },
	{ "30", 1, 30000 },
	{ "30s", 1, 30000 },
	{ "5m", 1, 300000 },
	{ "1h", 1, 3600000 },
	{ "2d", 1, 172800000 },
	{ "1w", 1, 604800000 },
	{ "500ms", 1, 500 },
	{ "0ms", 1, 0 },
	{ "007s", 1, 7000 },
	{ "9223372036854775ms", 1, 9223372036854775LL },
	{ "", 0, 0 },
	{ "-1", 0, 0 },
	{ "-5m", 0, 0 },
	{ "+5m", 0, 0 },
	{ " 5m", 0, 0 },
	{ "5m ", 0, 0 },
	{ "5 m", 0, 0 },
	{ "5x", 0, 0 },
	{ "5M", 0, 0 },
	{ "5mm", 0, 0 },
	{ "5ms5", 0, 0 },
	{ "m", 0, 0 },
	{ "1.5h", 0, 0 },
	{ "99999999999999999999", 0, 0 },     /* overflows int64 */
	{ "9223372036854775807s", 0, 0 },     /* fits, but not in ms */
	{ "99999999999999w", 0, 0 },
};

static void test_duration_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(dur_cases); i++) {
		int64_t ms = -42;
		int r = ab_duration_parse(dur_cases[i].in, &ms);

		if (dur_cases[i].ok) {
			if (r != 0)
				fail_msg("duration '%s' rejected", dur_cases[i].in);
			assert_int_equal(ms, dur_cases[i].ms);
		} else if (r != -1) {
			fail_msg("duration '%s' accepted", dur_cases[i].in);
		}
	}
	assert_int_equal(ab_duration_parse(NULL, &(int64_t){ 0 }), -1);
}

/* ------------------------------------------------------------ globs */

static const struct {
	const char *pattern;
	bool valid;
} glob_valid_cases[] = {
	{ "*", true },
	{ "alerts+*@example.com", true },
	{ "scan.*", true },
	{ "h?st", true },
	{ "[a-z]*", true },
	{ "[!a-z]", true },
	{ "[^a-z]", true },
	{ "[]]", true },
	{ "[!]]x", true },
	{ "[[:alpha:]]*", true },
	{ "a\\*b", true },
	{ "[a\\]]", true },
	{ "", false },
	{ "[", false },
	{ "abc[", false },
	{ "[a-z", false },
	{ "[]", false },
	{ "[!]", false },
	{ "[[:alpha:]", false },
	{ "[[:alpha", false },
	{ "abc\\", false },
	{ "[a\\", false },
};

static void test_glob_valid_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(glob_valid_cases); i++)
		if (ab_glob_valid(glob_valid_cases[i].pattern) != glob_valid_cases[i].valid)
			fail_msg("glob '%s': expected %s", glob_valid_cases[i].pattern,
				 glob_valid_cases[i].valid ? "valid" : "invalid");
	assert_false(ab_glob_valid(NULL));
}

static const struct {
	const char *pattern;
	const char *s;
	bool match;
} glob_match_cases[] = {
	{ "*", "", true },
	{ "*", "anything", true },
	{ "scan.*", "scan.completed", true },
	{ "scan.*", "finding.created", false },
	{ "alerts+*@example.com", "alerts+dojo@example.com", true },
	{ "alerts+*@example.com", "ALERTS+Dojo@Example.COM", true },   /* case-insensitive */
	{ "alerts+*@example.com", "alerts@example.com", false },
	{ "h?st", "host", true },
	{ "h?st", "hoost", false },
	{ "[a-c]x", "Bx", true },
	{ "[!a-c]x", "dx", true },
	{ "[!a-c]x", "ax", false },
	{ "a\\*b", "a*b", true },
	{ "a\\*b", "axb", false },
	{ "*.high", "sev.HIGH", true },
	{ "Finding.*", "finding.created", true },
};

static void test_glob_match_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(glob_match_cases); i++)
		if (ab_glob_match(glob_match_cases[i].pattern, glob_match_cases[i].s) !=
		    glob_match_cases[i].match)
			fail_msg("glob '%s' vs '%s': expected %s", glob_match_cases[i].pattern,
				 glob_match_cases[i].s, glob_match_cases[i].match ? "match" : "no match");
	assert_false(ab_glob_match(NULL, "x"));
	assert_false(ab_glob_match("x", NULL));
}

/* The fast paths (literal, "*", "lit*", "*lit") give what fnmatch gives:
 * random patterns and strings over a small alphabet with both cases,
 * bytes >= 0x80 and the characters ASCII folding could confuse. */
static void test_glob_match_fnmatch(void **state)
{
	static const char alpha[] = "aAbB.*@`[]?\\\xc1\xe1";
	unsigned seed = 12345;
	char p[8], t[8];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t pn, tn, k;

		seed = seed * 1103515245u + 12345u;
		pn = (seed >> 16) % 6;
		seed = seed * 1103515245u + 12345u;
		tn = (seed >> 16) % 6;
		for (k = 0; k < pn; k++) {
			seed = seed * 1103515245u + 12345u;
			p[k] = alpha[(seed >> 16) % (sizeof alpha - 1)];
		}
		p[pn] = '\0';
		for (k = 0; k < tn; k++) {
			seed = seed * 1103515245u + 12345u;
			t[k] = alpha[(seed >> 16) % (sizeof alpha - 1)];
		}
		t[tn] = '\0';
		if (ab_glob_match(p, t) != (fnmatch(p, t, FNM_CASEFOLD) == 0))
			fail_msg("glob '%s' vs '%s': differs from fnmatch", p, t);
	}
}

/* ------------------------------------------------------------ RFC 3339 */

static const struct {
	const char *in;
	int64_t ms;
} time_ok[] = {
	{ "1970-01-01T00:00:00Z", 0 },
	{ "2024-05-01T12:00:00Z", 1714564800000LL },
	{ "2024-05-01t12:00:00z", 1714564800000LL },
	{ "2024-05-01T12:00:00.123Z", 1714564800123LL },
	{ "2024-05-01T12:00:00.1Z", 1714564800100LL },
	{ "2024-05-01T12:00:00.123456789Z", 1714564800123LL },
	{ "2024-05-01T14:00:00+02:00", 1714564800000LL },
	{ "2024-05-01T07:30:00-04:30", 1714564800000LL },
	{ "2024-05-01T12:00:00+00:00", 1714564800000LL },
	{ "2024-05-01T12:00:00-00:00", 1714564800000LL },
	{ "2024-02-29T00:00:00Z", 1709164800000LL },    /* leap year */
	{ "2000-02-29T00:00:00Z", 951782400000LL },     /* 400-year leap */
	{ "1969-12-31T23:59:59Z", -1000 },
	{ "1969-12-31T23:59:59.5Z", -500 },
	{ "2016-12-31T23:59:60Z", 1483228800000LL },    /* leap second rolls over */
	{ "9999-12-31T23:59:59Z", 253402300799000LL },
};

static const char *const time_bad[] = {
	"",
	"2024",
	"2024-05-01",
	"2024-05-01T12:00:00",           /* no zone */
	"2024-05-01 12:00:00Z",          /* space separator */
	"2024-05-01T12:00Z",             /* no seconds */
	"2024-5-01T12:00:00Z",
	"24-05-01T12:00:00Z",
	"2024-13-01T12:00:00Z",
	"2024-00-01T12:00:00Z",
	"2024-05-00T12:00:00Z",
	"2024-05-32T12:00:00Z",
	"2024-04-31T12:00:00Z",
	"2023-02-29T12:00:00Z",          /* not a leap year */
	"2024-02-30T12:00:00Z",          /* Feb 30 */
	"1900-02-29T12:00:00Z",          /* century, not leap */
	"2024-05-01T24:00:00Z",
	"2024-05-01T12:60:00Z",
	"2024-05-01T12:00:61Z",
	"2024-05-01T12:00:00.Z",         /* empty fraction */
	"2024-05-01T12:00:00.1234567890Z", /* 10 digits */
	"2024-05-01T12:00:00+2:00",
	"2024-05-01T12:00:00+02",
	"2024-05-01T12:00:00+0200",
	"2024-05-01T12:00:00+24:00",
	"2024-05-01T12:00:00+02:60",
	"2024-05-01T12:00:00+02:00x",
	"2024-05-01T12:00:00Zjunk",
	"2024-05-01T12:00:00ZZ",
	"2024-05-01X12:00:00Z",
	"2024-05-01T12-00-00Z",
	"2024-05-01T12:00:00+",
	"2024-05-01T12:00:00+02:",
	"-024-05-01T12:00:00Z",
	"２024-05-01T12:00:00Z",
};

static void test_rfc3339_valid_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(time_ok); i++) {
		int64_t ms = 42;

		if (ab_time_parse_rfc3339(time_ok[i].in, &ms) != 0)
			fail_msg("time '%s' rejected", time_ok[i].in);
		if (ms != time_ok[i].ms)
			fail_msg("time '%s': got %lld want %lld", time_ok[i].in, (long long)ms,
				 (long long)time_ok[i].ms);
	}
}

static void test_rfc3339_invalid_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(time_bad); i++) {
		int64_t ms = 42;

		if (ab_time_parse_rfc3339(time_bad[i], &ms) != -1)
			fail_msg("time '%s' accepted", time_bad[i]);
	}
	assert_int_equal(ab_time_parse_rfc3339(NULL, &(int64_t){ 0 }), -1);
}

static const struct {
	int64_t ms;
	const char *out;
} fmt_cases[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ 1714564800000LL, "2024-05-01T12:00:00Z" },
	{ 1714564800123LL, "2024-05-01T12:00:00.123Z" },
	{ 1714564800007LL, "2024-05-01T12:00:00.007Z" },
	{ -1000, "1969-12-31T23:59:59Z" },
	{ -1, "1969-12-31T23:59:59.999Z" },
	{ 253402300799999LL, "9999-12-31T23:59:59.999Z" },
};

static void test_rfc3339_format(void **state)
{
	char out[64], small[11];
	size_t i;

	(void)state;
	for (i = 0; i < N(fmt_cases); i++) {
		int64_t back = 0;

		ab_time_format_rfc3339(fmt_cases[i].ms, out, sizeof out);
		assert_string_equal(out, fmt_cases[i].out);
		assert_int_equal(ab_time_parse_rfc3339(out, &back), 0);   /* round trip */
		assert_int_equal(back, fmt_cases[i].ms);
	}
	ab_time_format_rfc3339(0, small, sizeof small);                   /* truncates safely */
	assert_string_equal(small, "1970-01-01");
	ab_time_format_rfc3339(253402300800000LL, out, sizeof out);       /* year 10000 */
	assert_string_equal(out, "");
}

/* scan(): a time at the start of a span, the bytes it used, and the flags
 * the syslog parser uses (compact offsets, no zone = UTC). */
static const struct {
	const char *in;
	unsigned flags;
	size_t used;
	int64_t ms;
} scan_cases[] = {
	{ "2024-05-01T12:00:00Z host app: msg", 0, 20, 1714564800000LL },
	{ "2024-05-01T14:00:00+02:00 x", 0, 25, 1714564800000LL },
	{ "2024-05-01T14:00:00.5+02:00", 0, 27, 1714564800500LL },
	{ "2024-05-01T14:00:00+0200", 0, 0, 0 },                     /* compact: flag */
	{ "2024-05-01T14:00:00+0200", AB_TIME_OFFSET_COMPACT, 24, 1714564800000LL },
	{ "2024-05-01T14:00:00-0130 x", AB_TIME_OFFSET_COMPACT, 24, 1714577400000LL },
	{ "2024-05-01T12:00:00", 0, 0, 0 },                          /* zone needed */
	{ "2024-05-01T12:00:00", AB_TIME_ZONE_OPTIONAL, 19, 1714564800000LL },
	{ "2024-05-01T12:00:00.25 x", AB_TIME_ZONE_OPTIONAL, 22, 1714564800250LL },
	{ "2024-05-01T12:00:00 host", AB_TIME_ZONE_OPTIONAL, 19, 1714564800000LL },
	/* a sign must start an offset, even when the zone is optional */
	{ "2024-05-01T12:00:00+02", AB_TIME_ZONE_OPTIONAL | AB_TIME_OFFSET_COMPACT, 0, 0 },
	{ "2024-05-01T12:00:00-x", AB_TIME_ZONE_OPTIONAL, 0, 0 },
	{ "2024-05-01T12:00:00.1234567890", AB_TIME_ZONE_OPTIONAL, 0, 0 },
	{ "2024-05-01T12:00:00.123456789", AB_TIME_ZONE_OPTIONAL, 29, 1714564800123LL },
	{ "0000-01-01T00:00:00Z", 0, 20, -62167219200000LL },
	{ "2024-05-01T12:00:0", AB_TIME_ZONE_OPTIONAL, 0, 0 },        /* too short */
};

static void test_rfc3339_scan(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(scan_cases); i++) {
		int64_t ms = 42;
		size_t used = ab_time_scan_rfc3339(scan_cases[i].in, strlen(scan_cases[i].in),
						   scan_cases[i].flags, &ms);

		if (used != scan_cases[i].used)
			fail_msg("'%s' flags %u: used %zu, want %zu", scan_cases[i].in,
				 scan_cases[i].flags, used, scan_cases[i].used);
		if (used && ms != scan_cases[i].ms)
			fail_msg("'%s': got %lld want %lld", scan_cases[i].in, (long long)ms,
				 (long long)scan_cases[i].ms);
	}
	/* the span is the limit, not a NUL */
	assert_int_equal(ab_time_scan_rfc3339("2024-05-01T12:00:00Z", 19, 0, &(int64_t){ 0 }), 0);
	assert_int_equal(ab_time_scan_rfc3339(NULL, 20, 0, &(int64_t){ 0 }), 0);
}

/* The formatter's return value and truncation, the range ends, and a
 * round trip through parse() of one time in every day of 1900-2100 plus
 * the civil helpers against the same instants. */
static void test_rfc3339_format_range(void **state)
{
	char out[AB_RFC3339_MAX], small[8];
	int64_t back;

	(void)state;
	assert_int_equal(ab_time_format_rfc3339(1714564800123LL, out, sizeof out), 24);
	assert_string_equal(out, "2024-05-01T12:00:00.123Z");
	assert_int_equal(ab_time_format_rfc3339(1714564800123LL, small, sizeof small), 24);
	assert_string_equal(small, "2024-05");
	assert_int_equal(ab_time_format_rfc3339(0, NULL, 0), 20);     /* length only */
	assert_int_equal(ab_time_format_rfc3339(-62167219200000LL, out, sizeof out), 20);
	assert_string_equal(out, "0000-01-01T00:00:00Z");
	assert_int_equal(ab_time_format_rfc3339(-62167219200001LL, out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(ab_time_format_rfc3339(INT64_MIN, out, sizeof out), 0);
	assert_int_equal(ab_time_format_rfc3339(INT64_MAX, out, sizeof out), 0);
	for (int64_t day = -25567; day <= 47482; day++) {     /* 1900-01-01 .. 2100-01-01 */
		int64_t ms = day * 86400000 + (day * 7919 % 86400000 + 86400000) % 86400000;
		int y, mo, d, k;

		ab_time_format_rfc3339(ms, out, sizeof out);
		if (ab_time_parse_rfc3339(out, &back) != 0 || back != ms)
			fail_msg("%lld -> %s -> %lld", (long long)ms, out, (long long)back);
		y = atoi(out);
		mo = atoi(out + 5);
		d = atoi(out + 8);
		assert_int_equal(ab_time_year(ms), y);
		assert_true(d <= ab_time_days_in_month(y, mo));
		k = (int)((ms % 86400000 + 86400000) % 86400000 / 1000);
		assert_int_equal(ab_time_from_civil(y, mo, d, k / 3600, k / 60 % 60, k % 60,
						    (int)((ms % 1000 + 1000) % 1000)), ms);
	}
	assert_int_equal(ab_time_days_in_month(2024, 2), 29);
	assert_int_equal(ab_time_days_in_month(2100, 2), 28);
	assert_int_equal(ab_time_days_in_month(2000, 2), 29);
	assert_int_equal(ab_time_days_in_month(2024, 13), 0);
	assert_int_equal(ab_time_year(-1), 1969);
}

static void test_clocks(void **state)
{
	int64_t m1, m2, now;

	(void)state;
	now = ab_now_ms();
	assert_true(now > 1600000000000LL);       /* after 2020: the clock is in ms */
	m1 = ab_mono_ms();
	m2 = ab_mono_ms();
	assert_true(m1 > 0);
	assert_true(m2 >= m1);
}

/* ------------------------------------------------------------ hex, files */

static void test_hex(void **state)
{
	static const unsigned char in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof in + 1];

	(void)state;
	memset(out, 'X', sizeof out);
	ab_hex(in, sizeof in, out);
	assert_string_equal(out, "00017f80abff");
	ab_hex(in, 0, out);
	assert_string_equal(out, "");
}

struct tmpdir {
	char path[64];
};

static int setup_tmp(void **state)
{
	struct tmpdir *t = calloc(1, sizeof *t);

	if (!t)
		return -1;
	snprintf(t->path, sizeof t->path, "/tmp/ab_test_util.XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown_tmp(void **state)
{
	struct tmpdir *t = *state;
	char cmd[128];
	int r;

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->path);
	r = system(cmd);
	free(t);
	return r == 0 ? 0 : -1;
}

static void test_mkdir_p(void **state)
{
	struct tmpdir *t = *state;
	char p[256], f[256];
	struct stat st;
	FILE *fp;

	snprintf(p, sizeof p, "%s/a/b//c/", t->path);
	assert_int_equal(ab_mkdir_p(p, 0750), 0);
	snprintf(p, sizeof p, "%s/a/b/c", t->path);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(ab_mkdir_p(p, 0750), 0);            /* exists: fine */

	snprintf(f, sizeof f, "%s/file", t->path);           /* a file in the way */
	fp = fopen(f, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(p, sizeof p, "%s/file/sub", t->path);
	assert_int_equal(ab_mkdir_p(p, 0750), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(ab_mkdir_p(f, 0750), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(ab_mkdir_p("", 0750), -1);
}

static void test_read_file(void **state)
{
	struct tmpdir *t = *state;
	char p[256];
	size_t len = 99;
	char *s;
	FILE *fp;

	snprintf(p, sizeof p, "%s/ten", t->path);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("0123456789", fp);
	fclose(fp);

	s = ab_read_file(p, 10, &len);                       /* exactly max */
	assert_non_null(s);
	assert_int_equal(len, 10);
	assert_string_equal(s, "0123456789");
	free(s);

	errno = 0;
	assert_null(ab_read_file(p, 9, &len));               /* one byte over */
	assert_int_equal(errno, EFBIG);

	s = ab_read_file("/proc/self/status", 1 << 20, &len); /* size 0 in stat, reads anyway */
	assert_non_null(s);
	assert_true(len > 0);
	assert_int_equal(strlen(s), len);
	free(s);

	errno = 0;
	assert_null(ab_read_file("/proc/self/status", 8, NULL));
	assert_int_equal(errno, EFBIG);

	snprintf(p, sizeof p, "%s/empty", t->path);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	s = ab_read_file(p, 0, &len);
	assert_non_null(s);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);

	snprintf(p, sizeof p, "%s/missing", t->path);
	errno = 0;
	assert_null(ab_read_file(p, 100, &len));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(ab_read_file(t->path, 100, &len));
	assert_int_equal(errno, EISDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_table),
		cmocka_unit_test(test_glob_valid_table),
		cmocka_unit_test(test_glob_match_table),
		cmocka_unit_test(test_glob_match_fnmatch),
		cmocka_unit_test(test_rfc3339_valid_table),
		cmocka_unit_test(test_rfc3339_invalid_table),
		cmocka_unit_test(test_rfc3339_format),
		cmocka_unit_test(test_rfc3339_scan),
		cmocka_unit_test(test_rfc3339_format_range),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_hex),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_read_file, setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
