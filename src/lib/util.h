/*
 * util.h - small shared helpers: durations, globs, times, files, hex.
 */
#ifndef AB_UTIL_H
#define AB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "30s", "5m", "1h", "2d", "1w", "500ms", "0" -> milliseconds.  A bare
 * number is seconds.  Returns 0, or -1 for anything else (negative, empty,
 * unknown unit, overflow, trailing junk). */
int ab_duration_parse(const char *s, int64_t *ms);

/* Glob patterns (fnmatch syntax: * ? [a-z] and \ escapes).  valid() rejects
 * empty patterns, an unterminated '[' and a trailing backslash.  match() is
 * case-insensitive. */
bool ab_glob_valid(const char *pattern);
bool ab_glob_match(const char *pattern, const char *s);
/* Does an event of this type and status say its finding or alert is over?
 * status one of resolved, closed, fixed, recovered, mitigated, cleared, ok
 * (any case), or the type's last dotted part one of them (alert.resolved,
 * finding.closed).  NULL counts as "". */
bool ab_resolved(const char *type, const char *status);

/*
 * RFC 3339 <-> milliseconds since the epoch (UTC): the one parser and
 * formatter.  A date-time is YYYY-MM-DD(T|t)hh:mm:ss[.frac](Z|z|+hh:mm|
 * -hh:mm): years 0000-9999, the day within its month (no Feb 30), second
 * 60 (leap) rolls into the next minute, 1-9 fraction digits truncated to
 * milliseconds (a 10th digit makes it no time), offset hours 00-23.
 *
 * scan() reads one at the start of s[0..n) (not NUL-terminated) and
 * returns the bytes used, 0 if s does not start with one; no allocation.
 * Flags widen it for syslog senders: AB_TIME_ZONE_OPTIONAL (no zone:
 * UTC), AB_TIME_OFFSET_COMPACT (+hhmm too).  A sign after the seconds
 * must start a valid offset even then.
 * parse() takes a whole NUL-terminated string, strictly: 0 or -1.
 * format() writes "2024-05-01T12:00:00.123Z" (fraction only if non-zero
 * ms) without printf, truncated to fit outsz like ab_strlcpy, and returns
 * the full length; for a time outside years 0000-9999 it writes "" and
 * returns 0.  AB_RFC3339_MAX is enough for any.
 */
enum { AB_TIME_ZONE_OPTIONAL = 1u << 0, AB_TIME_OFFSET_COMPACT = 1u << 1 };
#define AB_RFC3339_MAX 32
size_t ab_time_scan_rfc3339(const char *s, size_t n, unsigned flags, int64_t *ms);
int ab_time_parse_rfc3339(const char *s, int64_t *ms);
size_t ab_time_format_rfc3339(int64_t ms, char *out, size_t outsz);

/* Calendar arithmetic (proleptic Gregorian, UTC) for parsers of other
 * time formats: a date and time to ms (no range checks: check the day
 * with days_in_month, 0 for a bad month), and the year of a time. */
int64_t ab_time_from_civil(int y, int mo, int d, int h, int mi, int s, int ms);
int ab_time_days_in_month(int y, int mo);
int ab_time_year(int64_t ms);
int64_t ab_now_ms(void);          /* CLOCK_REALTIME */
int64_t ab_mono_ms(void);         /* CLOCK_MONOTONIC */
int64_t ab_mono_us(void);         /* CLOCK_MONOTONIC, microseconds (durations in metrics) */
/* *ts = the clock clk (CLOCK_REALTIME for pthread_cond_timedwait, or
 * CLOCK_MONOTONIC) now plus ms: a deadline for a timed wait. */
struct timespec;
void ab_deadline(struct timespec *ts, int clk, int64_t ms);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void ab_hex(const unsigned char *in, size_t n, char *out);
/* A fresh random 128-bit id as 32 lowercase hex digits (out: 33 bytes). */
void ab_random_id(char out[33]);

/* mkdir -p with mode for created components; 0 or -1 (errno set). */
int ab_mkdir_p(const char *path, unsigned mode);

/* Read a whole small file (<= max bytes) into a malloc'd NUL-terminated
 * string.  Returns NULL with errno set (EFBIG when larger than max). */
char *ab_read_file(const char *path, size_t max, size_t *len);
/* Replace path with data[0..len) whole or not at all: written to
 * "path.tmp" with write(2) (no stdio buffer), then renamed over it.  0, or
 * -1 with errno (the old file stays). */
int ab_write_file_atomic(const char *path, const char *data, size_t len);

#endif
