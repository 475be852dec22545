/*
 * util.c - small shared helpers: durations, globs, RFC 3339 times, clocks,
 * hex, mkdir -p and bounded whole-file reads.
 *
 * Public: ab_duration_parse, ab_glob_valid, ab_glob_match, ab_resolved,
 * ab_time_scan_rfc3339, ab_time_parse_rfc3339, ab_time_format_rfc3339,
 * ab_time_from_civil, ab_time_days_in_month, ab_time_year, ab_now_ms,
 * ab_mono_ms, ab_mono_us, ab_deadline, ab_hex, ab_mkdir_p, ab_read_file (see util.h).
 * Times: the one RFC 3339 parser and formatter (the syslog parser and the
 * event's JSON writer call them); calendar arithmetic without libc's
 * timegm/gmtime_r, no allocation.
 *
 * Diagnostics: none.  Parsers return -1 (or false) on bad input; the file
 * helpers return -1 / NULL with errno set.  This file depends on libc and
 * buf.c only, because the file and inbox plugins link it on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/util.h"

/* ------------------------------------------------------------ durations */

static const struct {
	const char *unit;
	int64_t ms;
} duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
	{ "d", 24 * 60 * 60 * 1000LL },
	{ "w", 7 * 24 * 60 * 60 * 1000LL },
	{ "", 1000 },          /* a bare number is seconds */
};

int ab_duration_parse(const char *s, int64_t *ms)
{
	int64_t n = 0;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return -1;               /* empty, sign, space, junk */
	for (; *s >= '0' && *s <= '9'; s++) {
		int d = *s - '0';

		if (n > (INT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	for (i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
		if (strcmp(s, duration_units[i].unit) != 0)
			continue;
		if (n > INT64_MAX / duration_units[i].ms)
			return -1;
		*ms = n * duration_units[i].ms;
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------ globs */

/* Skip a bracket expression starting just after '['; returns a pointer
 * just past the closing ']' or NULL if it is unterminated. */
static const char *skip_bracket(const char *p)
{
	if (*p == '!' || *p == '^')
		p++;
	if (*p == ']')           /* a leading ']' is literal */
		p++;
	while (*p && *p != ']') {
		if (*p == '\\') {
			if (!p[1])
				return NULL;
			p += 2;
		} else if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char kind = p[1];
			const char *q = p + 2;

			while (*q && !(q[0] == kind && q[1] == ']'))
				q++;
			if (!*q)
				return NULL;
			p = q + 2;
		} else {
			p++;
		}
	}
	return *p == ']' ? p + 1 : NULL;
}

bool ab_glob_valid(const char *pattern)
{
	const char *p = pattern;

	if (!p || !*p)
		return false;
	while (*p) {
		if (*p == '\\') {
			if (!p[1])
				return false;
			p += 2;
		} else if (*p == '[') {
			p = skip_bracket(p + 1);
			if (!p)
				return false;
		} else {
			p++;
		}
	}
	return true;
}

/* fnmatch(FNM_CASEFOLD) in the C locale (the programs never set another):
 * bytes compare with A-Z folded.  The common patterns skip it: a literal,
 * "*", "lit*" and "*lit" (routing matches every rule's globs per event). */
static bool ascii_ceq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x != y && (x | 0x20) != (y | 0x20))
			return false;
		if (x != y && (unsigned)((x | 0x20) - 'a') >= 26)
			return false;
	}
	return true;
}

bool ab_glob_match(const char *pattern, const char *s)
{
	size_t pn = 0, star = 0, nstar = 0, sn;

	if (!pattern || !s)
		return false;
	/* a plain first character must be s's first (most globs fail here) */
	if (pattern[0] && pattern[0] != '*' && pattern[0] != '?' && pattern[0] != '[' &&
	    pattern[0] != '\\' && !ascii_ceq(pattern, s, 1))
		return false;
	for (; pattern[pn]; pn++) {
		char ch = pattern[pn];

		if (ch == '?' || ch == '[' || ch == '\\')
			return fnmatch(pattern, s, FNM_CASEFOLD) == 0;
		if (ch == '*') {
			star = pn;
			nstar++;
		}
	}
	if (nstar > 1 || (nstar == 1 && star != 0 && star != pn - 1))
		return fnmatch(pattern, s, FNM_CASEFOLD) == 0;
	/* the pattern's bytes are not NUL: a compare stops at s's end */
	if (!nstar)
		return ascii_ceq(pattern, s, pn) && s[pn] == '\0';
	if (star == pn - 1)     /* "lit*" (and "*") */
		return ascii_ceq(pattern, s, pn - 1);
	sn = strlen(s);         /* "*lit" */
	return sn >= pn - 1 && ascii_ceq(pattern + 1, s + sn - (pn - 1), pn - 1);
}

/* ------------------------------------------------------------ times */

/* Exactly k digits at s (s has >= k bytes), or -1. */
static int digits(const char *s, size_t k)
{
	int v = 0;

	for (size_t i = 0; i < k; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int ab_time_days_in_month(int y, int mo)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (mo < 1 || mo > 12)
		return 0;
	if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dim[mo - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil; exact for every year, no table, no libc). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse: days since 1970-01-01 -> year, month, day. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int64_t ab_time_from_civil(int y, int mo, int d, int h, int mi, int s, int ms)
{
	return ((days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + s) * 1000 + ms;
}

int ab_time_year(int64_t ms)
{
	int y, m, d;

	civil_from_days(ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000, &y, &m, &d);
	return y;
}

/*
 * full-date "T" full-time per RFC 3339 section 5.6:
 *   YYYY-MM-DD(T|t)hh:mm:ss[.frac](Z|z|+hh:mm|-hh:mm)
 * A fraction of 1..9 digits is truncated to milliseconds.  Second 60 (leap
 * second) is accepted and rolls over into the next minute.  The flags
 * widen it for syslog senders (see util.h).
 */
size_t ab_time_scan_rfc3339(const char *p, size_t n, unsigned flags, int64_t *out)
{
	int y, mo, d, h, mi, sec, ms = 0, oh, om;
	size_t i = 19;
	int64_t t;

	if (!p || n < 19 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != 't') ||
	    p[13] != ':' || p[16] != ':')
		return 0;
	y = digits(p, 4);
	mo = digits(p + 5, 2);
	d = digits(p + 8, 2);
	h = digits(p + 11, 2);
	mi = digits(p + 14, 2);
	sec = digits(p + 17, 2);
	if (y < 0 || d < 1 || d > ab_time_days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 60)
		return 0;
	if (i < n && p[i] == '.') {
		int scale = 100, nd = 0;

		for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, nd++) {
			if (nd >= 9)
				return 0;
			ms += (p[i] - '0') * scale;
			scale /= 10;
		}
		if (nd == 0)
			return 0;
	}
	t = ab_time_from_civil(y, mo, d, h, mi, sec, ms);
	if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
		*out = t;
		return i + 1;
	}
	if (i < n && (p[i] == '+' || p[i] == '-')) {
		int sign = p[i] == '-' ? -1 : 1;

		if (n - i >= 6 && p[i + 3] == ':') {
			oh = digits(p + i + 1, 2);
			om = digits(p + i + 4, 2);
			i += 6;
		} else if ((flags & AB_TIME_OFFSET_COMPACT) && n - i >= 5) {
			oh = digits(p + i + 1, 2);
			om = digits(p + i + 3, 2);
			i += 5;
		} else {
			return 0;
		}
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return 0;
		*out = t - sign * (int64_t)(oh * 60 + om) * 60000;
		return i;
	}
	if (!(flags & AB_TIME_ZONE_OPTIONAL))
		return 0;
	*out = t;
	return i;
}

int ab_time_parse_rfc3339(const char *s, int64_t *ms)
{
	size_t n;
	int64_t t;

	if (!s)
		return -1;
	n = strlen(s);
	if (n == 0 || ab_time_scan_rfc3339(s, n, 0, &t) != n)
		return -1;
	*ms = t;
	return 0;
}

#define TIME_MIN_MS (-62167219200000LL)      /* 0000-01-01T00:00:00Z */
#define TIME_MAX_MS 253402300799999LL        /* 9999-12-31T23:59:59.999Z */

size_t ab_time_format_rfc3339(int64_t ms, char *out, size_t outsz)
{
	char tmp[AB_RFC3339_MAX], *p = tmp;
	int64_t days, rem;
	int y, mo, d, h, mi, sec, frac;
	size_t n;

	if (ms < TIME_MIN_MS || ms > TIME_MAX_MS) {
		if (out && outsz)
			out[0] = '\0';
		return 0;
	}
	days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;   /* floor */
	rem = ms - days * 86400000;
	civil_from_days(days, &y, &mo, &d);
	frac = (int)(rem % 1000);
	rem /= 1000;
	sec = (int)(rem % 60);
	mi = (int)(rem / 60 % 60);
	h = (int)(rem / 3600);
#define D2(v) (*p++ = (char)('0' + (v) / 10 % 10), *p++ = (char)('0' + (v) % 10))
	D2(y / 100);
	D2(y);
	*p++ = '-';
	D2(mo);
	*p++ = '-';
	D2(d);
	*p++ = 'T';
	D2(h);
	*p++ = ':';
	D2(mi);
	*p++ = ':';
	D2(sec);
#undef D2
	if (frac) {
		*p++ = '.';
		*p++ = (char)('0' + frac / 100);
		*p++ = (char)('0' + frac / 10 % 10);
		*p++ = (char)('0' + frac % 10);
	}
	*p++ = 'Z';
	n = (size_t)(p - tmp);
	if (out && outsz) {
		size_t k = n < outsz ? n : outsz - 1;

		memcpy(out, tmp, k);
		out[k] = '\0';
	}
	return n;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ab_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t ab_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t ab_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ab_deadline(struct timespec *ts, int clk, int64_t ms)
{
	clock_gettime((clockid_t)clk, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* ------------------------------------------------------------ hex, files */

void ab_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int mkdir_one(const char *path, unsigned mode)
{
	struct stat st;

	if (mkdir(path, (mode_t)mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int ab_mkdir_p(const char *path, unsigned mode)
{
	char tmp[PATH_MAX];
	size_t len, i;

	if (!path || !*path) {
		errno = ENOENT;
		return -1;
	}
	len = strlen(path);
	if (len >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, len + 1);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = '\0';
	for (i = 1; i < len; i++) {
		if (tmp[i] != '/' || tmp[i - 1] == '/')
			continue;
		tmp[i] = '\0';
		if (mkdir_one(tmp, mode) != 0)
			return -1;
		tmp[i] = '/';
	}
	return mkdir_one(tmp, mode);
}

char *ab_read_file(const char *path, size_t max, size_t *len)
{
	struct stat st;
	size_t cap, used = 0;
	char *data, *p;
	int fd, saved;

	if (!path || max >= SIZE_MAX - 1) {
		errno = EINVAL;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0 && (uintmax_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	if (cap > max + 1)
		cap = max + 1;
	data = malloc(cap + 1);
	if (!data)
		goto fail;
	for (;;) {
		ssize_t n;

		if (used == cap) {
			size_t ncap;

			if (cap > max) {             /* read max+1 bytes: too big */
				free(data);
				errno = EFBIG;
				goto fail;
			}
			ncap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
			p = realloc(data, ncap + 1);
			if (!p) {
				free(data);
				goto fail;
			}
			data = p;
			cap = ncap;
		}
		n = read(fd, data + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(data);
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		free(data);
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	data[used] = '\0';
	if (len)
		*len = used;
	return data;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

void ab_random_id(char out[33])
{
	unsigned char r[16];

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		int64_t t = ab_now_ms() ^ ((int64_t)getpid() << 40) ^ ab_mono_ms();

		for (size_t i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)(t >> (8 * (i % 8))) ^ (unsigned char)(i * 131u);
	}
	ab_hex(r, sizeof r, out);
}

int ab_write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4096];
	int fd, e;
	ssize_t w = 0;
	size_t off = 0;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
		return -1;
	while (off < len && (w = write(fd, data + off, len - off)) > 0)
		off += (size_t)w;
	e = off < len ? (w < 0 ? errno : EIO) : 0;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

bool ab_resolved(const char *type, const char *status)
{
	static const char *const words[] = { "resolved", "closed", "fixed", "recovered",
		"mitigated", "cleared", "ok" };
	const char *last = type ? strrchr(type, '.') : NULL;

	last = last ? last + 1 : "";
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if ((status && strcasecmp(status, words[i]) == 0) || strcasecmp(last, words[i]) == 0)
			return true;
	return false;
}
