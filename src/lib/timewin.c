/*
 * timewin.c - wall-clock time in IANA time zones for routing: time windows
 * (active / mute) and digest schedules.  ICU calendars (libicu) do the
 * zone arithmetic, so DST changes, midnight and zone history follow the
 * tz database ICU ships.
 *
 * Public: ab_tz_valid, ab_tz_local, ab_days_parse, ab_hhmm_parse,
 * ab_window_contains, ab_schedule_parse, ab_schedule_next.
 *
 * A schedule time that does not exist on a day (DST gap) fires at the
 * first valid time after it; one that exists twice (DST end) fires once,
 * at its first occurrence.
 *
 * Diagnostics: ab_schedule_parse writes the reason into err
 * ("unknown time zone 'Mars/Base'", "time '25:00' is not HH:MM").
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "lib/timewin.h"
#include "lib/util.h"

static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static UCalendar *cal_open(const char *tz)
{
	UChar id[AB_TZ_NAME_MAX + 1];
	UErrorCode e = U_ZERO_ERROR;
	UCalendar *c;

	if (!tz || strlen(tz) >= AB_TZ_NAME_MAX)
		return NULL;
	u_uastrncpy(id, tz, AB_TZ_NAME_MAX);
	id[AB_TZ_NAME_MAX] = 0;
	c = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &e);
	if (U_FAILURE(e))
		return NULL;
	ucal_setAttribute(c, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
	ucal_setAttribute(c, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_NEXT_VALID);
	return c;
}

bool ab_tz_valid(const char *name)
{
	UChar id[AB_TZ_NAME_MAX + 1], canon[128];
	UErrorCode e = U_ZERO_ERROR;
	UBool sys = 0;

	if (!name || !*name || strlen(name) >= AB_TZ_NAME_MAX)
		return false;
	u_uastrncpy(id, name, AB_TZ_NAME_MAX);
	id[AB_TZ_NAME_MAX] = 0;
	ucal_getCanonicalTimeZoneID(id, -1, canon, 128, &sys, &e);
	return U_SUCCESS(e) && sys;
}

/* ICU day of week (1 = Sunday) -> 0 = Monday. */
static int wday_of(UCalendar *c, UErrorCode *e)
{
	int d = ucal_get(c, UCAL_DAY_OF_WEEK, e);

	return (d + 5) % 7;
}

int ab_tz_local(const char *tz, int64_t ms, int *wday, int *minute)
{
	UCalendar *c = cal_open(tz);
	UErrorCode e = U_ZERO_ERROR;

	if (!c)
		return -1;
	ucal_setMillis(c, (UDate)ms, &e);
	*wday = wday_of(c, &e);
	*minute = ucal_get(c, UCAL_HOUR_OF_DAY, &e) * 60 + ucal_get(c, UCAL_MINUTE, &e);
	ucal_close(c);
	return U_SUCCESS(e) ? 0 : -1;
}

static int day_index(const char *s, size_t n)
{
	for (int i = 0; i < 7; i++)
		if (n == 3 && strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

int ab_days_parse(const char *s, unsigned *mask)
{
	const char *dash = strchr(s, '-');
	int a, b;

	if (!dash) {
		if ((a = day_index(s, strlen(s))) < 0)
			return -1;
		*mask |= 1u << a;
		return 0;
	}
	a = day_index(s, (size_t)(dash - s));
	b = day_index(dash + 1, strlen(dash + 1));
	if (a < 0 || b < 0)
		return -1;
	for (int i = a;; i = (i + 1) % 7) {
		*mask |= 1u << i;
		if (i == b)
			break;
	}
	return 0;
}

int ab_hhmm_parse(const char *s, int *minutes)
{
	int h, m, n = 0;

	if (!s || sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] != '\0' || n != 5)
		return -1;
	if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

bool ab_window_contains(const struct ab_window *w, int64_t ms)
{
	int wd, min, prev;

	if (ab_tz_local(w->tz, ms, &wd, &min) < 0)
		return false;
	prev = (wd + 6) % 7;
	if (w->from_min < w->to_min)
		return (w->days & (1u << wd)) && min >= w->from_min && min < w->to_min;
	/* crosses midnight (from == to: a whole day from that time) */
	return ((w->days & (1u << wd)) && min >= w->from_min) ||
		((w->days & (1u << prev)) && min < w->to_min);
}

int ab_schedule_parse(const char *s, struct ab_schedule *out, char *err, size_t errsz)
{
	char w[4][AB_TZ_NAME_MAX + 1];
	int n = 0, i = 0;
	const char *p = s;

	memset(out, 0, sizeof *out);
	if (!s || strlen(s) >= sizeof out->text) {
		snprintf(err, errsz, "schedule too long");
		return -1;
	}
	snprintf(out->text, sizeof out->text, "%s", s);
	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		len = strcspn(p, " \t");
		if (n == 4 || len > AB_TZ_NAME_MAX) {
			snprintf(err, errsz, "use \"daily HH:MM [ZONE]\" or \"weekly DAY HH:MM [ZONE]\"");
			return -1;
		}
		snprintf(w[n++], sizeof w[0], "%.*s", (int)len, p);
		p += len;
	}
	if (n >= 2 && strcasecmp(w[0], "daily") == 0) {
		out->kind = AB_SCHED_DAILY;
		i = 1;
	} else if (n >= 3 && strcasecmp(w[0], "weekly") == 0) {
		unsigned m = 0;

		out->kind = AB_SCHED_WEEKLY;
		if (strchr(w[1], '-') || ab_days_parse(w[1], &m) < 0) {
			snprintf(err, errsz, "unknown day '%s' (use mon, tue, ..., sun)", w[1]);
			return -1;
		}
		for (out->wday = 0; !(m & (1u << out->wday)); out->wday++)
			;
		i = 2;
	} else {
		snprintf(err, errsz, "use \"daily HH:MM [ZONE]\" or \"weekly DAY HH:MM [ZONE]\"");
		return -1;
	}
	if (ab_hhmm_parse(w[i], &out->minute) < 0 || out->minute >= 1440) {
		snprintf(err, errsz, "time '%s' is not HH:MM (00:00 to 23:59)", w[i]);
		return -1;
	}
	i++;
	if (i < n - 1) {
		snprintf(err, errsz, "unexpected '%s' after the time zone", w[n - 1]);
		return -1;
	}
	snprintf(out->tz, sizeof out->tz, "%s", i < n ? w[i] : "UTC");
	if (!ab_tz_valid(out->tz)) {
		snprintf(err, errsz, "unknown time zone '%s' (use an IANA name such as "
			"Europe/Berlin)", out->tz);
		return -1;
	}
	return 0;
}

int64_t ab_schedule_next(const struct ab_schedule *s, int64_t after_ms)
{
	UCalendar *c = cal_open(s->tz);
	UErrorCode e = U_ZERO_ERROR;
	int64_t best = -1;
	int y, mo, d;

	if (!c)
		return -1;
	ucal_setMillis(c, (UDate)after_ms, &e);
	y = ucal_get(c, UCAL_YEAR, &e);
	mo = ucal_get(c, UCAL_MONTH, &e);
	d = ucal_get(c, UCAL_DATE, &e);
	/* Try the local date of after_ms and the following days. */
	for (int k = 0; k < 9 && U_SUCCESS(e); k++) {
		int64_t t;

		ucal_clear(c);
		ucal_setDateTime(c, y, mo, d + k, s->minute / 60, s->minute % 60, 0, &e);
		ucal_set(c, UCAL_MILLISECOND, 0);
		t = (int64_t)ucal_getMillis(c, &e);
		if (U_FAILURE(e))
			break;
		if (s->kind == AB_SCHED_WEEKLY) {
			/* the weekday of the local date asked for, not of t (gap) */
			UCalendar *c2 = cal_open(s->tz);
			UErrorCode e2 = U_ZERO_ERROR;
			int wd;

			if (!c2)
				break;
			ucal_setDateTime(c2, y, mo, d + k, 12, 0, 0, &e2);
			wd = wday_of(c2, &e2);
			ucal_close(c2);
			if (wd != s->wday)
				continue;
		}
		if (t > after_ms) {
			best = t;
			break;
		}
	}
	ucal_close(c);
	return best;
}
