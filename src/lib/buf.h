/*
 * buf.h - capped growable byte buffers and bounded string helpers.
 *
 * Every payload built or received by alertbridge goes through an ab_buf with
 * a hard maximum: appends past the cap fail (and set the overflow flag)
 * instead of growing without bound.  The data is always NUL-terminated.
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
	bool overflow;   /* an append was refused because of max, or memory ran
			    out (then oom too) */
	bool oom;        /* memory ran out: sticky, every later append fails too,
			    so a buffer is never silently missing a middle part */
};

#define AB_BUF_INIT(maxlen) { NULL, 0, 0, (maxlen), false, false }

void ab_buf_init(struct ab_buf *b, size_t max);
void ab_buf_free(struct ab_buf *b);
void ab_buf_reset(struct ab_buf *b);           /* len = 0, keeps memory */
/* Append; returns 0, or -1 if it would pass max (nothing appended) or on ENOMEM. */
int ab_buf_append(struct ab_buf *b, const void *p, size_t n);
int ab_buf_puts(struct ab_buf *b, const char *s);
int ab_buf_putc(struct ab_buf *b, char c);
int ab_buf_printf(struct ab_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ab_buf_vprintf(struct ab_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Append as much as fits, truncating; returns 0 if all fit, -1 if truncated. */
int ab_buf_append_trunc(struct ab_buf *b, const void *p, size_t n);
const char *ab_buf_cstr(const struct ab_buf *b); /* "" when empty */
char *ab_buf_steal(struct ab_buf *b);            /* caller frees; buffer reset */

/* Bounded copy: always NUL-terminates when size > 0; returns strlen(src). */
size_t ab_strlcpy(char *dst, const char *src, size_t size);
/* strdup that returns NULL for NULL. */
char *ab_strdup0(const char *s);

#endif
