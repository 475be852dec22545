/*
 * syslog_frame.c - incremental RFC 6587 framing of a syslog TCP stream.
 *
 * The first byte of a connection picks the framing: a digit means octet
 * counting ("LEN SP MSG", LEN without leading zeros, at most
 * AB_FRAME_MAX_DIGITS digits), anything else means non-transparent framing
 * where LF or NUL ends a message and a CR before the LF is dropped.  Empty
 * lines are skipped; stray LF/CR/NUL between octet-counted frames are
 * tolerated (some senders add them).
 *
 * Memory: one ab_buf per connection capped at max + 1 bytes (the extra
 * byte holds a CR that may precede the LF).  A message that arrives whole
 * inside one feed is passed on straight from the caller's data, no copy.
 * Oversize messages are passed on truncated (AB_FRAME_TRUNCATED) and the
 * rest dropped; an octet count that cannot be right (too many digits,
 * leading zero, no SP after it) puts the framer in an error state so the
 * caller closes the connection.
 *
 * Public: ab_framer_init, ab_framer_free, ab_framer_feed, ab_framer_finish.
 * Diagnostics: errmsg / err: "octet count too long (N+ digits)", "octet
 * count with a leading zero", "octet count not followed by a space (byte
 * 0xNN)", "out of memory", "stopped by the message callback".
 */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "ingest/syslog_frame.h"

void ab_framer_init(struct ab_framer *f, size_t max)
{
	memset(f, 0, sizeof *f);
	f->mode = AB_FRAME_DETECT;
	f->max = max ? max : 1;
	ab_buf_init(&f->buf, f->max + 1);
	f->in_len = true;
}

void ab_framer_free(struct ab_framer *f)
{
	ab_buf_free(&f->buf);
}

static int fail(struct ab_framer *f, char *err, size_t errsz, const char *msg)
{
	if (!f->error) {
		f->error = true;
		snprintf(f->errmsg, sizeof f->errmsg, "%s", msg);
	}
	if (err && errsz)
		snprintf(err, errsz, "%s", f->errmsg);
	return -1;
}

/* Pass one message on; -1 when the callback says stop. */
static int emit(struct ab_framer *f, const char *p, size_t n, unsigned flags, ab_frame_cb cb,
		void *arg, int *count)
{
	if (n > f->max) {
		n = f->max;
		flags |= AB_FRAME_TRUNCATED;
	}
	(*count)++;
	return cb(p, n, flags, arg) ? -1 : 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Octet counting: consume from *pp; 0 to go on, -1 on error/stop. */
static int feed_octet(struct ab_framer *f, const char **pp, const char *end, ab_frame_cb cb,
		      void *arg, int *count, char *err, size_t errsz)
{
	const char *p = *pp;
	size_t take, room;
	char msg[80];

	if (f->in_len) {
		char c = *p;

		if (f->len_digits == 0 && (c == '\n' || c == '\r' || c == '\0')) {
			*pp = p + 1;
			return 0;
		}
		if (is_digit(c)) {
			if (f->len_digits == 0 && c == '0')
				return fail(f, err, errsz, "octet count with a leading zero");
			if (++f->len_digits > AB_FRAME_MAX_DIGITS) {
				snprintf(msg, sizeof msg, "octet count too long (%d+ digits)",
					 AB_FRAME_MAX_DIGITS + 1);
				return fail(f, err, errsz, msg);
			}
			f->want = f->want * 10 + (size_t)(c - '0');
			*pp = p + 1;
			return 0;
		}
		if (c == ' ' && f->len_digits > 0) {
			f->in_len = false;
			f->trunc = f->want > f->max;
			*pp = p + 1;
			return 0;
		}
		snprintf(msg, sizeof msg, "octet count not followed by a space (byte 0x%02x)",
			 (unsigned char)c);
		return fail(f, err, errsz, msg);
	}
	take = (size_t)(end - p) < f->want ? (size_t)(end - p) : f->want;
	if (f->buf.len == 0 && take == f->want && !f->trunc) {
		/* whole message in this feed: no copy */
		*pp = p + take;
		f->want = 0;
		f->in_len = true;
		f->len_digits = 0;
		return emit(f, p, take, 0, cb, arg, count) < 0 ?
		       fail(f, err, errsz, "stopped by the message callback") : 0;
	}
	room = f->max - f->buf.len;
	if (ab_buf_append(&f->buf, p, take < room ? take : room) < 0)
		return fail(f, err, errsz, "out of memory");
	*pp = p + take;
	f->want -= take;
	if (f->want == 0) {
		int r = emit(f, f->buf.data ? f->buf.data : "", f->buf.len,
			     f->trunc ? AB_FRAME_TRUNCATED : 0, cb, arg, count);

		ab_buf_reset(&f->buf);
		f->in_len = true;
		f->len_digits = 0;
		f->trunc = false;
		if (r < 0)
			return fail(f, err, errsz, "stopped by the message callback");
	}
	return 0;
}

/* A complete line (terminator seen): buffered part + seg. */
static int lf_line(struct ab_framer *f, const char *seg, size_t n, ab_frame_cb cb, void *arg,
		   int *count)
{
	const char *p = seg;
	size_t len = n;
	unsigned flags = 0;

	if (f->buf.len > 0) {
		size_t room = f->buf.max - f->buf.len;

		if (n > room) {
			n = room;
			flags = AB_FRAME_TRUNCATED;
		}
		if (ab_buf_append(&f->buf, seg, n) < 0)
			return -1;
		p = f->buf.data;
		len = f->buf.len;
	}
	if (len > 0 && p[len - 1] == '\r' && !flags)
		len--;
	if (len > f->max)
		flags = AB_FRAME_TRUNCATED;
	if (len > 0 && emit(f, p, len, flags, cb, arg, count) < 0) {
		ab_buf_reset(&f->buf);
		return -2;
	}
	ab_buf_reset(&f->buf);
	return 0;
}

/* LF mode: consume from *pp. */
static int feed_lf(struct ab_framer *f, const char **pp, const char *end, ab_frame_cb cb,
		   void *arg, int *count, char *err, size_t errsz)
{
	const char *p = *pp, *nl, *z, *q;
	size_t n = (size_t)(end - p), room;
	int r;

	nl = memchr(p, '\n', n);
	z = memchr(p, '\0', nl ? (size_t)(nl - p) : n);
	q = z ? z : nl;
	if (!q) {
		*pp = end;
		if (f->discarding)
			return 0;
		room = f->buf.max - f->buf.len;
		if (n <= room)
			return ab_buf_append(&f->buf, p, n) < 0 ? fail(f, err, errsz, "out of memory") : 0;
		/* oversize line: pass on the first max bytes, drop the rest */
		f->discarding = true;
		if (f->buf.len == 0) {
			r = emit(f, p, f->max, AB_FRAME_TRUNCATED, cb, arg, count);
		} else {
			if (ab_buf_append(&f->buf, p, f->max > f->buf.len ? f->max - f->buf.len : 0) < 0)
				return fail(f, err, errsz, "out of memory");
			r = emit(f, f->buf.data, f->buf.len, AB_FRAME_TRUNCATED, cb, arg, count);
			ab_buf_reset(&f->buf);
		}
		return r < 0 ? fail(f, err, errsz, "stopped by the message callback") : 0;
	}
	*pp = q + 1;
	if (f->discarding) {
		f->discarding = false;
		return 0;
	}
	r = lf_line(f, p, (size_t)(q - p), cb, arg, count);
	if (r == -1)
		return fail(f, err, errsz, "out of memory");
	if (r == -2)
		return fail(f, err, errsz, "stopped by the message callback");
	return 0;
}

int ab_framer_feed(struct ab_framer *f, const void *data, size_t n, ab_frame_cb cb, void *arg,
		   char *err, size_t errsz)
{
	const char *p = data, *end = p + n;
	int count = 0;

	if (f->error)
		return fail(f, err, errsz, f->errmsg);
	if (n == 0)
		return 0;
	if (f->mode == AB_FRAME_DETECT)
		f->mode = is_digit(*p) ? AB_FRAME_OCTET : AB_FRAME_LF;
	while (p < end) {
		int r = f->mode == AB_FRAME_OCTET ?
			feed_octet(f, &p, end, cb, arg, &count, err, errsz) :
			feed_lf(f, &p, end, cb, arg, &count, err, errsz);

		if (r < 0)
			return -1;
	}
	return count;
}

int ab_framer_finish(struct ab_framer *f, ab_frame_cb cb, void *arg)
{
	int count = 0, r = 0;

	if (f->error)
		return -1;
	if (f->mode == AB_FRAME_LF && !f->discarding && f->buf.len > 0)
		r = lf_line(f, "", 0, cb, arg, &count);
	else if (f->mode == AB_FRAME_OCTET && !f->in_len && f->buf.len > 0)
		r = emit(f, f->buf.data, f->buf.len, AB_FRAME_TRUNCATED, cb, arg, &count);
	ab_buf_reset(&f->buf);
	f->in_len = true;
	f->len_digits = 0;
	f->want = 0;
	f->trunc = false;
	f->discarding = false;
	return r < 0 ? -1 : count;
}
