/*
 * util.c - small shared helpers: durations, globs, RFC 3339 times, clocks,
 * hex, mkdir -p and bounded whole-file reads.
 *
 * Public: ab_duration_parse, ab_glob_valid, ab_glob_match,
 * ab_time_parse_rfc3339, ab_time_format_rfc3339, ab_now_ms, ab_mono_ms,
 * ab_hex, ab_mkdir_p, ab_read_file (see util.h).
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

bool ab_glob_match(const char *pattern, const char *s)
{
	if (!pattern || !s)
		return false;
	return fnmatch(pattern, s, FNM_CASEFOLD) == 0;
}

/* ------------------------------------------------------------ times */

/* Read exactly n digits; -1 if any is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/*
 * full-date "T" full-time per RFC 3339 section 5.6:
 *   YYYY-MM-DD(T|t)hh:mm:ss[.frac](Z|z|+hh:mm|-hh:mm)
 * A fraction of 1..9 digits is truncated to milliseconds.  Second 60 (leap
 * second) is accepted and rolls over into the next minute.
 */
int ab_time_parse_rfc3339(const char *s, int64_t *ms)
{
	/* shape of the fixed part: 'd' digit, 'T' either 'T' or 't' */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	int y, mo, d, h, mi, sec, frac_ms = 0, off = 0;
	struct tm tm;
	time_t t;
	const char *p;
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < sizeof shape - 1; i++) {   /* stops at the NUL of a short s */
		char c = s[i];

		if (shape[i] == 'd' ? (c < '0' || c > '9') :
		    shape[i] == 'T' ? (c != 'T' && c != 't') : c != shape[i])
			return -1;
	}
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		int n = 0, scale = 100;

		for (p++; *p >= '0' && *p <= '9'; p++, n++) {
			if (n >= 9)
				return -1;
			frac_ms += (*p - '0') * scale;
			scale /= 10;
		}
		if (n == 0)
			return -1;
	}
	if (*p == 'Z' || *p == 'z') {
		if (p[1] != '\0')
			return -1;
	} else if (*p == '+' || *p == '-') {
		int oh = digits(p + 1, 2), om;

		if (oh < 0 || oh > 23 || p[3] != ':')
			return -1;
		om = digits(p + 4, 2);
		if (om < 0 || om > 59 || p[6] != '\0')
			return -1;
		off = (oh * 60 + om) * 60;
		if (*p == '-')
			off = -off;
	} else {
		return -1;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);             /* cannot fail for years 0000-9999 with 64-bit time_t */
	*ms = ((int64_t)t - off) * 1000 + frac_ms;
	return 0;
}

void ab_time_format_rfc3339(int64_t ms, char *out, size_t outsz)
{
	int64_t secs = ms / 1000;
	int frac = (int)(ms % 1000);
	time_t t;
	struct tm tm;
	char tmp[64];

	if (!out || outsz == 0)
		return;
	if (frac < 0) {                 /* floor for times before 1970 */
		frac += 1000;
		secs--;
	}
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		out[0] = '\0';
		return;
	}
	if (frac)
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, frac);
	else
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec);
	ab_strlcpy(out, tmp, outsz);
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
