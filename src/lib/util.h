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

/* RFC 3339 <-> milliseconds since the epoch (UTC).  parse() accepts
 * "2024-05-01T12:00:00Z", fractions and +hh:mm offsets; returns 0 or -1.
 * format() writes "2024-05-01T12:00:00.123Z" (fraction only if non-zero ms). */
int ab_time_parse_rfc3339(const char *s, int64_t *ms);
void ab_time_format_rfc3339(int64_t ms, char *out, size_t outsz);
int64_t ab_now_ms(void);          /* CLOCK_REALTIME */
int64_t ab_mono_ms(void);         /* CLOCK_MONOTONIC */

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void ab_hex(const unsigned char *in, size_t n, char *out);
/* A fresh random 128-bit id as 32 lowercase hex digits (out: 33 bytes). */
void ab_random_id(char out[33]);

/* mkdir -p with mode for created components; 0 or -1 (errno set). */
int ab_mkdir_p(const char *path, unsigned mode);

/* Read a whole small file (<= max bytes) into a malloc'd NUL-terminated
 * string.  Returns NULL with errno set (EFBIG when larger than max). */
char *ab_read_file(const char *path, size_t max, size_t *len);

#endif
