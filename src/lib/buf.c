/*
 * buf.c - capped growable byte buffers and bounded string helpers.
 *
 * Public: ab_buf_* (see buf.h), ab_strlcpy, ab_strdup0.
 * Diagnostics: none; callers see -1, errno (EMSGSIZE or ENOMEM) and the
 * overflow and oom flags (buf.h says which to test).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

void ab_buf_init(struct ab_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->overflow = false;
	b->oom = false;
}

void ab_buf_free(struct ab_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = false;
	b->oom = false;
}

void ab_buf_reset(struct ab_buf *b)
{
	b->len = 0;
	b->overflow = false;
	b->oom = false;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for n more bytes plus the NUL. */
static int reserve(struct ab_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (b->oom) {
		errno = ENOMEM;
		return -1;
	}
	if (n > b->max || b->len > b->max - n) {
		b->overflow = true;
		errno = EMSGSIZE;
		return -1;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > (SIZE_MAX / 2) ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (!p) {
		b->oom = b->overflow = true;
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int ab_buf_reserve(struct ab_buf *b, size_t n)
{
	return reserve(b, n);
}

int ab_buf_append(struct ab_buf *b, const void *p, size_t n)
{
	if (reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int ab_buf_append_trunc(struct ab_buf *b, const void *p, size_t n)
{
	size_t room = b->max - b->len;

	if (n <= room)
		return ab_buf_append(b, p, n);
	if (room)
		(void)ab_buf_append(b, p, room);
	b->overflow = true;
	return -1;
}

int ab_buf_puts(struct ab_buf *b, const char *s)
{
	return ab_buf_append(b, s, strlen(s));
}

int ab_buf_put_html(struct ab_buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
			*s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;

		if (!e)
			continue;
		if (ab_buf_append(b, run, (size_t)(s - run)) < 0 || ab_buf_puts(b, e) < 0)
			return -1;
		run = s + 1;
	}
	return ab_buf_append(b, run, (size_t)(s - run));
}

int ab_buf_putc(struct ab_buf *b, char c)
{
	return ab_buf_append(b, &c, 1);
}

int ab_buf_vprintf(struct ab_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	if (reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int ab_buf_printf(struct ab_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ab_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *ab_buf_cstr(const struct ab_buf *b)
{
	return b->data ? b->data : "";
}

char *ab_buf_steal(struct ab_buf *b)
{
	char *p = b->data ? b->data : strdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = false;
	b->oom = false;
	return p;
}

void ab_buf_fail(struct ab_buf *b)
{
	b->oom = b->overflow = true;
}

size_t ab_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

char *ab_strdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}
