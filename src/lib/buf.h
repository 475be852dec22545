/*
 * buf.h - capped growable byte buffers and bounded string helpers.
 *
 * Every payload built or received by alertbridge goes through an ab_buf with
 * a hard maximum: appends past the cap fail (and set the overflow flag)
 * instead of growing without bound.  The data is always NUL-terminated.
 *
 * Failures, and what a caller tests:
 *   overflow  the content is not everything that was appended: an append
 *             was refused (or cut, append_trunc) at max, or memory ran out.
 *             A caller about to send or store the content refuses it when
 *             overflow is set (that covers ENOMEM too).
 *   oom       memory ran out (realloc failed, or ab_buf_fail): sticky, every
 *             later append fails as well, so the content is never missing
 *             a middle part.  A caller that keeps what fits at max (a "cut")
 *             but treats ENOMEM as an error tests oom, never !overflow.
 * Both flags stay until ab_buf_reset, ab_buf_free or ab_buf_steal.
 */
#ifndef AB_BUF_H
#define AB_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct ab_buf {
	char *data;      /* NUL-terminated once anything was appended; may be NULL */
	size_t len;      /* bytes used, excluding the NUL */
	size_t cap;      /* bytes allocated */
	size_t max;      /* hard cap on len */
	bool overflow;   /* an append was refused or cut at max, or memory ran
			    out (then oom too) */
	bool oom;        /* memory ran out: sticky, every later append fails too */
};

#define AB_BUF_INIT(maxlen) { NULL, 0, 0, (maxlen), false, false }

void ab_buf_init(struct ab_buf *b, size_t max);
void ab_buf_free(struct ab_buf *b);
void ab_buf_reset(struct ab_buf *b);           /* len = 0, keeps memory */
/* Append; returns 0, or -1 if it would pass max (nothing appended, overflow
 * set, errno EMSGSIZE) or on ENOMEM (oom and overflow set, errno ENOMEM). */
int ab_buf_append(struct ab_buf *b, const void *p, size_t n);
/* Room for n more bytes (and the NUL) without appending, for a writer that
 * fills data + len itself and then moves len and writes the NUL: 0, or -1
 * as ab_buf_append. */
int ab_buf_reserve(struct ab_buf *b, size_t n);
int ab_buf_puts(struct ab_buf *b, const char *s);
/* s escaped for HTML text and quoted attribute values (& < > " '). */
int ab_buf_put_html(struct ab_buf *b, const char *s);
int ab_buf_putc(struct ab_buf *b, char c);
int ab_buf_printf(struct ab_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ab_buf_vprintf(struct ab_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Append as much as fits, truncating; returns 0 if all fit, -1 if truncated. */
int ab_buf_append_trunc(struct ab_buf *b, const void *p, size_t n);
const char *ab_buf_cstr(const struct ab_buf *b); /* "" when empty */
char *ab_buf_steal(struct ab_buf *b);            /* caller frees; buffer reset */
/* Mark the buffer failed as if memory ran out (oom and overflow set): for a
 * caller whose own allocation for a piece of the content failed, so the
 * content is refused like any other ENOMEM. */
void ab_buf_fail(struct ab_buf *b);

/* Bounded copy: always NUL-terminates when size > 0; returns strlen(src). */
size_t ab_strlcpy(char *dst, const char *src, size_t size);
/* strdup that returns NULL for NULL. */
char *ab_strdup0(const char *s);

#endif
