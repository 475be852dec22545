/*
 * syslog_int.h - what the syslog scanner (syslog_scan.c) and the event
 * builder (syslog.c) share and nobody else uses: the scan of text that is
 * already cut and checked, and the ASCII classes both read lines with.
 */
#ifndef AB_PARSE_SYSLOG_INT_H
#define AB_PARSE_SYSLOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/syslog.h"

/* ab_syslog_scan() of n bytes at p that need no cutting or stripping, with
 * flags (AB_SYSLOG_V_TRUNCATED, _HIGH, _NUL) as the caller found them:
 * syslog.c reads a repaired copy of a line again with it. */
void ab_syslog_scan_text(const char *p, size_t n, int64_t now_ms, unsigned flags,
			 struct ab_syslog_view *v);

/*
 * An RFC 3339 time at p (lib/util.h's parser), as senders write it: also
 * "+hhmm", and without a zone (UTC) unless need_zone.  A year before 1970
 * is no log time.  Returns bytes used, 0 if not a timestamp.
 */
size_t ab_syslog_iso_time(const char *p, size_t n, bool need_zone, int64_t *out);

/* ASCII classes without the locale tables (hot loops; bytes >= 0x80 are
 * never letters here). */
static inline bool ab_sl_digit(char ch)
{
	return (unsigned)((unsigned char)ch - '0') < 10;
}

static inline bool ab_sl_alpha(char ch)
{
	return (unsigned)(((unsigned char)ch | 0x20) - 'a') < 26;
}

static inline bool ab_sl_alnum(char ch)
{
	return ab_sl_digit(ch) || ab_sl_alpha(ch);
}

static inline bool ab_sl_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

#endif
