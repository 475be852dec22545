/*
 * test_timewin.c - time windows and digest schedules in IANA zones,
 * table-driven: weekday windows on both sides of the Europe/Berlin DST
 * changes, windows across midnight, schedules across spring-forward (a
 * time that does not exist) and fall-back (a time that exists twice:
 * fired once), weekly schedules, and what does not parse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/timewin.h"
#include "lib/util.h"

static int64_t T(const char *s)
{
	int64_t ms = -1;

	assert_int_equal(ab_time_parse_rfc3339(s, &ms), 0);
	return ms;
}

static struct ab_window win(const char *days, const char *from, const char *to, const char *tz)
{
	struct ab_window w;

	memset(&w, 0, sizeof w);
	assert_int_equal(ab_days_parse(days, &w.days), 0);
	assert_int_equal(ab_hhmm_parse(from, &w.from_min), 0);
	assert_int_equal(ab_hhmm_parse(to, &w.to_min), 0);
	snprintf(w.tz, sizeof w.tz, "%s", tz);
	return w;
}

static void test_windows(void **state)
{
	static const struct {
		const char *days, *from, *to, *tz, *at;
		bool in;
	} cases[] = {
		/* business hours in Berlin, winter time (UTC+1) then summer time (UTC+2) */
		{ "mon-fri", "08:00", "18:00", "Europe/Berlin", "2025-03-28T06:30:00Z", false },
		{ "mon-fri", "08:00", "18:00", "Europe/Berlin", "2025-03-28T07:30:00Z", true },
		{ "mon-fri", "08:00", "18:00", "Europe/Berlin", "2025-03-31T05:30:00Z", false },
		{ "mon-fri", "08:00", "18:00", "Europe/Berlin", "2025-03-31T06:30:00Z", true },
		{ "mon-fri", "08:00", "18:00", "Europe/Berlin", "2025-03-31T15:59:00Z", true },
		{ "mon-fri", "08:00", "18:00", "Europe/Berlin", "2025-03-31T16:00:00Z", false },
		{ "mon-fri", "08:00", "18:00", "Europe/Berlin", "2025-03-29T10:00:00Z", false },
		/* the night of the spring-forward change: 02:00-03:00 does not exist */
		{ "sun", "02:00", "03:00", "Europe/Berlin", "2025-03-30T00:59:59Z", false },
		{ "sun", "02:00", "03:00", "Europe/Berlin", "2025-03-30T01:00:00Z", false },
		{ "sun", "01:00", "04:00", "Europe/Berlin", "2025-03-30T01:30:00Z", true },
		/* fall back: 02:00-03:00 happens twice, both are inside */
		{ "sun", "02:00", "03:00", "Europe/Berlin", "2025-10-26T00:30:00Z", true },
		{ "sun", "02:00", "03:00", "Europe/Berlin", "2025-10-26T01:30:00Z", true },
		{ "sun", "02:00", "03:00", "Europe/Berlin", "2025-10-26T02:30:00Z", false },
		/* across midnight: Friday 22:00 to Saturday 06:00 */
		{ "fri", "22:00", "06:00", "UTC", "2025-03-28T21:59:00Z", false },
		{ "fri", "22:00", "06:00", "UTC", "2025-03-28T23:00:00Z", true },
		{ "fri", "22:00", "06:00", "UTC", "2025-03-29T00:00:00Z", true },
		{ "fri", "22:00", "06:00", "UTC", "2025-03-29T05:59:00Z", true },
		{ "fri", "22:00", "06:00", "UTC", "2025-03-29T06:00:00Z", false },
		{ "fri", "22:00", "06:00", "UTC", "2025-03-28T05:00:00Z", false },
		{ "fri", "22:00", "06:00", "UTC", "2025-03-29T23:00:00Z", false },
		/* whole days, wrapping day range, other zones */
		{ "sat-sun", "00:00", "24:00", "UTC", "2025-03-30T23:59:59Z", true },
		{ "sat-sun", "00:00", "24:00", "UTC", "2025-03-31T00:00:00Z", false },
		{ "fri-mon", "00:00", "24:00", "America/New_York", "2025-03-31T03:00:00Z", true },
		{ "fri-mon", "00:00", "24:00", "America/New_York", "2025-04-01T03:00:00Z", true },
		{ "fri-mon", "00:00", "24:00", "America/New_York", "2025-04-02T03:00:00Z", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ab_window w = win(cases[i].days, cases[i].from, cases[i].to, cases[i].tz);

		if (ab_window_contains(&w, T(cases[i].at)) != cases[i].in)
			fail_msg("case %zu: %s %s-%s %s at %s: want %s", i, cases[i].days,
				cases[i].from, cases[i].to, cases[i].tz, cases[i].at,
				cases[i].in ? "in" : "out");
	}
}

static void test_schedule_next(void **state)
{
	static const struct {
		const char *sched, *after, *want;
	} cases[] = {
		{ "daily 08:00 Europe/Berlin", "2025-03-29T08:00:00Z", "2025-03-30T06:00:00Z" },
		{ "daily 08:00 Europe/Berlin", "2025-03-30T06:00:00Z", "2025-03-31T06:00:00Z" },
		{ "daily 08:00 Europe/Berlin", "2025-03-30T05:59:59Z", "2025-03-30T06:00:00Z" },
		/* 02:30 does not exist on 2025-03-30 in Berlin: the next valid time */
		{ "daily 02:30 Europe/Berlin", "2025-03-29T02:00:00Z", "2025-03-30T01:00:00Z" },
		{ "daily 02:30 Europe/Berlin", "2025-03-30T01:00:00Z", "2025-03-31T00:30:00Z" },
		/* 02:30 exists twice on 2025-10-26: fired once, at the first */
		{ "daily 02:30 Europe/Berlin", "2025-10-25T12:00:00Z", "2025-10-26T00:30:00Z" },
		{ "daily 02:30 Europe/Berlin", "2025-10-26T00:30:00Z", "2025-10-27T01:30:00Z" },
		/* midnight and the turn of the year */
		{ "daily 00:00 UTC", "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z" },
		{ "daily 23:59", "2025-02-28T23:59:00Z", "2025-03-01T23:59:00Z" },
		{ "weekly mon 08:00 UTC", "2025-03-31T08:00:00Z", "2025-04-07T08:00:00Z" },
		{ "weekly mon 08:00 UTC", "2025-03-31T07:00:00Z", "2025-03-31T08:00:00Z" },
		{ "weekly sun 09:00 Europe/Berlin", "2025-03-29T12:00:00Z", "2025-03-30T07:00:00Z" },
		{ "weekly fri 17:00 America/New_York", "2025-03-03T00:00:00Z",
		  "2025-03-07T22:00:00Z" },
		{ "weekly fri 17:00 America/New_York", "2025-03-08T00:00:00Z",
		  "2025-03-14T21:00:00Z" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ab_schedule s;
		char err[160], got[40];
		int64_t next;

		if (ab_schedule_parse(cases[i].sched, &s, err, sizeof err) != 0)
			fail_msg("case %zu: '%s' does not parse: %s", i, cases[i].sched, err);
		next = ab_schedule_next(&s, T(cases[i].after));
		ab_time_format_rfc3339(next, got, sizeof got);
		if (next != T(cases[i].want))
			fail_msg("case %zu: %s after %s: got %s want %s", i, cases[i].sched,
				cases[i].after, got, cases[i].want);
	}
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "daily", "use \"daily" },
		{ "daily 8am", "is not HH:MM" },
		{ "daily 24:00", "is not HH:MM" },
		{ "daily 08:00 Mars/Olympus", "unknown time zone 'Mars/Olympus'" },
		{ "weekly 08:00", "use \"daily" },
		{ "weekly funday 08:00", "unknown day" },
		{ "weekly mon-fri 08:00", "unknown day" },
		{ "monthly 1 08:00", "use \"daily" },
		{ "daily 08:00 UTC extra", "unexpected" },
		{ "", "use \"daily" },
	};
	struct ab_schedule s;
	char err[160];
	unsigned m = 0;
	int mins;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (ab_schedule_parse(bad[i].in, &s, err, sizeof err) == 0 ||
		    !strstr(err, bad[i].why))
			fail_msg("case %zu '%s': got '%s'", i, bad[i].in, err);
	}
	assert_true(ab_tz_valid("Europe/Berlin"));
	assert_true(ab_tz_valid("UTC"));
	assert_false(ab_tz_valid("Europe/Berlinn"));
	assert_false(ab_tz_valid(""));
	assert_int_equal(ab_days_parse("fri-mon", &m), 0);
	assert_int_equal(m, 0x01u | 0x10u | 0x20u | 0x40u);
	assert_int_equal(ab_days_parse("someday", &m), -1);
	assert_int_equal(ab_hhmm_parse("24:00", &mins), 0);
	assert_int_equal(mins, 1440);
	assert_int_equal(ab_hhmm_parse("24:01", &mins), -1);
	assert_int_equal(ab_hhmm_parse("7:00", &mins), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_schedule_next),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests_name("timewin", tests, NULL, NULL);
}
