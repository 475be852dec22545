/*
 * timewin.h - wall-clock time in IANA time zones (ICU calendars): rule
 * time windows (weekdays and times of day) and digest schedules.
 */
#ifndef AB_TIMEWIN_H
#define AB_TIMEWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AB_TZ_NAME_MAX 64

/* A weekly window: on the days in the mask (bit 0 = Monday .. bit 6 =
 * Sunday), from from_min to to_min (minutes of the local day).  from >= to
 * crosses midnight: it starts on a listed day and ends the next day. */
struct ab_window {
	unsigned days;            /* 0x7f = every day */
	int from_min, to_min;     /* 0..1440 */
	char tz[AB_TZ_NAME_MAX];
};

enum ab_sched_kind { AB_SCHED_DAILY = 0, AB_SCHED_WEEKLY = 1 };

struct ab_schedule {
	enum ab_sched_kind kind;
	int wday;                 /* weekly: 0 = Monday .. 6 = Sunday */
	int minute;               /* minute of the local day */
	char tz[AB_TZ_NAME_MAX];
	char text[128];           /* as written */
};

/* Is name a time zone ICU knows ("Europe/Berlin", "UTC")? */
bool ab_tz_valid(const char *name);
/* Local weekday (0 = Monday) and minute of day of ms in tz; 0 or -1. */
int ab_tz_local(const char *tz, int64_t ms, int *wday, int *minute);
/* "mon", "mon-fri", "fri-mon" -> day mask; 0 or -1. */
int ab_days_parse(const char *s, unsigned *mask);
/* "08:00", "24:00" -> minutes; 0 or -1. */
int ab_hhmm_parse(const char *s, int *minutes);
bool ab_window_contains(const struct ab_window *w, int64_t ms);
/* "daily 08:00 Europe/Berlin", "weekly mon 08:00 UTC" (zone optional:
 * UTC).  0, or -1 with the reason in err. */
int ab_schedule_parse(const char *s, struct ab_schedule *out, char *err, size_t errsz);
/* First firing time strictly after after_ms, or -1 on error. */
int64_t ab_schedule_next(const struct ab_schedule *s, int64_t after_ms);

#endif
