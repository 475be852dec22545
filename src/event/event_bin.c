/*
 * event_bin.c - the compact binary form of an event: what the syslog
 * journal keeps for each line that goes somewhere, written by the
 * listener and read back by the mover.  Reading back canonical JSON with
 * jansson cost the mover 13 us of its 24 us per record (a char-at-a-time
 * lexer); this form reads back in a fraction of that (bench/event_json_bench).
 *
 * Public: ab_event_write_bin, ab_event_read_bin (see event.h).
 *
 * Layout: a version byte (BIN_VERSION), then every row of the member table
 * (event_members.h) in its order, by kind:
 *   ID        one byte 0 (unset) or AB_ID_LEN, then that many bytes
 *   STR       varint 0 (NULL) or 1 + length, then the bytes
 *   CATEGORY, SEVERITY, INT   varint (the enum's value)
 *   TIME      zigzag varint (ms since the epoch)
 *   ORIGIN    the origin rows (STR), in their order
 *   FIELDS    one value, an object
 * A value is a tag byte and its body: 'o' object (varint count, then per
 * member a varint key length, the key, a value), 'a' array (varint count,
 * values), 's' string (varint length, bytes), 'i' integer (zigzag varint),
 * 'r' real (8 bytes, IEEE 754 bits little-endian), 't' true, 'f' false,
 * 'n' null.  Varints are LEB128, at most 10 bytes.
 *
 * Reading is strict and bounded: every length within what is left, the
 * member caps and enum ranges of ab_event_from_json, no NUL in members,
 * fields an object at most AB_FIELDS_MAX_DEPTH deep with at most
 * AB_FIELDS_MAX_NODES values, nothing left over.  Member text is taken as
 * it is (the JSON writer repairs bad UTF-8 when the store writes it, as it
 * would have when the record was JSON); a field string or key that is not
 * valid UTF-8 is repaired here (U+FFFD per bad byte), so jansson holds only
 * valid text and nothing is refused for it.
 * Diagnostics: what is wrong, in err; nothing logged.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/buf.h"
#include "event/event.h"
#include "lib/utf8.h"

#define BIN_VERSION 1

/* ------------------------------------------------------------ writing */

/* A tag byte (0: none), a varint and n bytes, with one reservation. */
static int put_head(struct ab_buf *b, unsigned char tag, uint64_t v, const void *s, size_t n)
{
	unsigned char *p, *q;

	if (ab_buf_reserve(b, 11 + n) < 0)
		return -1;
	p = q = (unsigned char *)b->data + b->len;
	if (tag)
		*q++ = tag;
	do {
		*q = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			*q |= 0x80;
		q++;
	} while (v);
	if (n)
		memcpy(q, s, n);
	q += n;
	b->len += (size_t)(q - p);
	b->data[b->len] = '\0';
	return 0;
}

static int put_byte(struct ab_buf *b, unsigned char c)
{
	return ab_buf_append(b, &c, 1);
}

static int put_varint(struct ab_buf *b, uint64_t v)
{
	return put_head(b, 0, v, NULL, 0);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int put_bytes(struct ab_buf *b, const char *s, size_t n)
{
	return put_head(b, 0, n, s, n);
}

static int put_value(struct ab_buf *b, const json_t *v)
{
	const char *k;
	json_t *child;
	size_t i, kn;
	uint64_t bits;
	double d;
	unsigned char r[8];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (put_head(b, 'o', json_object_size(v), NULL, 0) < 0)
			return -1;
		json_object_keylen_foreach((json_t *)(uintptr_t)v, k, kn, child)
			if (put_bytes(b, k, kn) < 0 || put_value(b, child) < 0)
				return -1;
		return 0;
	case JSON_ARRAY:
		if (put_head(b, 'a', json_array_size(v), NULL, 0) < 0)
			return -1;
		json_array_foreach(v, i, child)
			if (put_value(b, child) < 0)
				return -1;
		return 0;
	case JSON_STRING:
		return put_head(b, 's', json_string_length(v), json_string_value(v),
				json_string_length(v));
	case JSON_INTEGER:
		return put_head(b, 'i', zigzag(json_integer_value(v)), NULL, 0);
	case JSON_REAL:
		d = json_real_value(v);
		memcpy(&bits, &d, sizeof bits);
		for (i = 0; i < 8; i++)
			r[i] = (unsigned char)(bits >> (8 * i));
		return put_byte(b, 'r') < 0 ? -1 : ab_buf_append(b, r, sizeof r);
	case JSON_TRUE:
		return put_byte(b, 't');
	case JSON_FALSE:
		return put_byte(b, 'f');
	case JSON_NULL:
		return put_byte(b, 'n');
	}
	return -1;
}

static int put_str(struct ab_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return s ? put_head(b, 0, (uint64_t)n + 1, s, n) : put_varint(b, 0);
}

static int put_row(struct ab_buf *b, const void *base, const struct ab_event_member_def *d)
{
	const char *p = (const char *)base + d->off;

	switch (d->kind) {
	case AB_EVK_ID: {
		size_t n = p[0] ? strnlen(p, AB_ID_LEN) : 0;

		return put_head(b, 0, n, p, n);      /* 0 or 32: one byte */
	}
	case AB_EVK_STR:
		return put_str(b, *(char *const *)(const void *)p);
	case AB_EVK_CATEGORY:
		return put_varint(b, (uint64_t)*(const enum ab_category *)(const void *)p);
	case AB_EVK_SEVERITY:
		return put_varint(b, (uint64_t)*(const enum ab_severity *)(const void *)p);
	case AB_EVK_INT:
		return put_varint(b, (uint64_t)(int64_t)*(const int *)(const void *)p);
	case AB_EVK_TIME:
		return put_varint(b, zigzag(*(const int64_t *)(const void *)p));
	case AB_EVK_ORIGIN:
		for (size_t i = 0; i < AB_ORM_COUNT; i++)
			if (put_row(b, p, &ab_origin_member_defs[i]) < 0)
				return -1;
		return 0;
	case AB_EVK_FIELDS: {
		const json_t *f = *(json_t *const *)(const void *)p;

		if (!f || !json_is_object(f))
			return put_head(b, 'o', 0, NULL, 0);
		return put_value(b, f);
	}
	}
	return -1;
}

int ab_event_write_bin(const struct ab_event *ev, struct ab_buf *b)
{
	size_t mark;

	if (!ev || !b)
		return -1;
	mark = b->len;
	if (put_byte(b, BIN_VERSION) < 0)
		goto fail;
	for (size_t i = 0; i < AB_EVM_COUNT; i++)
		if (put_row(b, ev, &ab_event_member_defs[i]) < 0)
			goto fail;
	return 0;
fail:
	b->len = mark;           /* nothing of it stays */
	if (b->data)
		b->data[mark] = '\0';
	return -1;
}

/* ------------------------------------------------------------ reading */

struct rd {
	const unsigned char *p, *end;
	size_t nodes;
	char *err;
	size_t errsz;
	bool bad;
};

static void fail(struct rd *r, const char *what)
{
	if (!r->bad && r->err && r->errsz)
		snprintf(r->err, r->errsz, "binary event: %s", what);
	r->bad = true;
}

static size_t left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static unsigned get_byte(struct rd *r)
{
	if (r->bad || r->p >= r->end) {
		fail(r, "cut short");
		return 0;
	}
	return *r->p++;
}

static uint64_t get_varint(struct rd *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 70; shift += 7) {
		unsigned c = get_byte(r);

		if (r->bad)
			return 0;
		if (shift == 63 && c > 1) {
			fail(r, "varint out of range");
			return 0;
		}
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	fail(r, "varint too long");
	return 0;
}

static int64_t get_zigzag(struct rd *r)
{
	uint64_t u = get_varint(r);

	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* n bytes at the cursor, or NULL (r->bad) when fewer are left. */
static const char *get_span(struct rd *r, uint64_t n)
{
	const char *s = (const char *)r->p;

	if (r->bad)
		return NULL;
	if (n > left(r)) {
		fail(r, "a length runs past the end");
		return NULL;
	}
	r->p += n;
	return s;
}

/* Valid UTF-8 (NUL allowed) as jansson wants it; a bad byte becomes U+FFFD
 * in a copy, *tmp (freed by the caller). */
static const char *utf8_ok(struct rd *r, const char *s, size_t *n, char **tmp)
{
	size_t i, k;

	*tmp = NULL;
	for (i = 0; i < *n; i += k)
		if (!(k = ab_utf8_seq(s + i, *n - i)))
			break;
	if (i == *n)
		return s;
	*tmp = malloc(3 * *n + 1);
	if (!*tmp) {
		fail(r, "out of memory");
		return NULL;
	}
	*n = ab_utf8_repair(s, *n, *tmp, false);
	return *tmp;
}

static json_t *get_value(struct rd *r, int depth);

/* An object ('o') or an array: its count, then its members or values. */
static json_t *get_container(struct rd *r, int depth, bool object)
{
	uint64_t n = get_varint(r);
	json_t *c;

	if (r->bad)
		return NULL;
	/* an object member takes 3 bytes at least, a value one */
	if (n > (object ? left(r) / 3 : left(r))) {
		fail(r, "a count larger than the record");
		return NULL;
	}
	c = object ? json_object() : json_array();
	if (!c) {
		fail(r, "out of memory");
		return NULL;
	}
	for (uint64_t i = 0; i < n && !r->bad; i++) {
		const char *k = NULL;
		char *tmp = NULL;
		size_t kn = 0;
		json_t *v;

		if (object) {
			kn = (size_t)get_varint(r);
			k = get_span(r, kn);
			if (!k || !(k = utf8_ok(r, k, &kn, &tmp)))
				break;
		}
		v = get_value(r, depth + 1);
		if (v && (object ? json_object_setn_new_nocheck(c, k, kn, v) :
			  json_array_append_new(c, v)) < 0)
			fail(r, "out of memory");
		free(tmp);
	}
	if (r->bad) {
		json_decref(c);
		return NULL;
	}
	return c;
}

static json_t *get_value(struct rd *r, int depth)
{
	unsigned tag = get_byte(r);
	json_t *v = NULL;

	if (r->bad)
		return NULL;
	if (++r->nodes > AB_FIELDS_MAX_NODES) {
		fail(r, "fields: too many values");
		return NULL;
	}
	if ((tag == 'o' || tag == 'a') && depth > AB_FIELDS_MAX_DEPTH) {
		fail(r, "fields: nested too deep");
		return NULL;
	}
	switch (tag) {
	case 'o':
	case 'a':
		return get_container(r, depth, tag == 'o');
	case 's': {
		size_t n = (size_t)get_varint(r);
		const char *s = get_span(r, n);
		char *tmp = NULL;

		if (!s)
			return NULL;
		s = utf8_ok(r, s, &n, &tmp);
		v = s ? json_stringn_nocheck(s, n) : NULL;
		free(tmp);
		break;
	}
	case 'i':
		v = json_integer((json_int_t)get_zigzag(r));
		break;
	case 'r': {
		const char *s = get_span(r, 8);
		uint64_t bits = 0;
		double d;

		if (!s)
			return NULL;
		for (int i = 0; i < 8; i++)
			bits |= (uint64_t)(unsigned char)s[i] << (8 * i);
		memcpy(&d, &bits, sizeof d);
		v = json_real(d);    /* NULL for NaN and infinities, which JSON has not */
		if (!v && !r->bad) {
			fail(r, "fields: a real that is no number");
			return NULL;
		}
		break;
	}
	case 't':
		return json_true();
	case 'f':
		return json_false();
	case 'n':
		return json_null();
	default:
		fail(r, "fields: unknown value tag");
		return NULL;
	}
	if (r->bad) {
		json_decref(v);
		return NULL;
	}
	if (!v)
		fail(r, "out of memory");
	return v;
}

/* A varint of 0..max (an enum or a bounded integer), or -1. */
static int64_t get_small(struct rd *r, uint64_t max, const char *what)
{
	uint64_t v = get_varint(r);

	if (r->bad)
		return -1;
	if (v > max) {
		fail(r, what);
		return -1;
	}
	return (int64_t)v;
}

static void get_row(struct rd *r, void *base, const struct ab_event_member_def *d)
{
	char *p = (char *)base + d->off;
	int64_t v;

	switch (d->kind) {
	case AB_EVK_ID: {
		unsigned n = get_byte(r);
		const char *s = n ? get_span(r, n) : NULL;

		if (r->bad)
			return;
		if (n && n != AB_ID_LEN) {
			fail(r, "an id is 32 characters");
			return;
		}
		if (n) {
			memcpy(p, s, AB_ID_LEN);
			p[AB_ID_LEN] = '\0';
			if (!ab_event_id_valid(p)) {
				p[0] = '\0';
				fail(r, "an id is 32 lowercase hex characters");
			}
		}
		return;
	}
	case AB_EVK_STR: {
		uint64_t n = get_varint(r);
		const char *s;
		char *copy;

		if (r->bad || n == 0)
			return;      /* NULL: the member keeps its default */
		n--;
		if (n > d->max) {
			fail(r, "a member is longer than its cap");
			return;
		}
		s = get_span(r, n);
		if (!s)
			return;
		if (memchr(s, '\0', n)) {
			fail(r, "a member holds a NUL byte");
			return;
		}
		copy = malloc(n + 1);
		if (!copy) {
			fail(r, "out of memory");
			return;
		}
		memcpy(copy, s, n);
		copy[n] = '\0';
		free(*(char **)(void *)p);
		*(char **)(void *)p = copy;
		return;
	}
	case AB_EVK_CATEGORY:
		if ((v = get_small(r, AB_CAT_COUNT - 1, "unknown category")) >= 0)
			*(enum ab_category *)(void *)p = (enum ab_category)v;
		return;
	case AB_EVK_SEVERITY:
		if ((v = get_small(r, AB_SEV_COUNT - 1, "unknown severity")) >= 0)
			*(enum ab_severity *)(void *)p = (enum ab_severity)v;
		return;
	case AB_EVK_INT:
		if ((v = get_small(r, d->max, "an integer member is out of its range")) >= 0)
			*(int *)(void *)p = (int)v;
		return;
	case AB_EVK_TIME:
		*(int64_t *)(void *)p = get_zigzag(r);
		return;
	case AB_EVK_ORIGIN:
		for (size_t i = 0; i < AB_ORM_COUNT && !r->bad; i++)
			get_row(r, p, &ab_origin_member_defs[i]);
		return;
	case AB_EVK_FIELDS: {
		json_t *f;

		if (get_byte(r) != 'o' || r->bad) {
			fail(r, "fields must be an object");
			return;
		}
		r->nodes = 1;
		f = get_container(r, 1, true);
		if (f) {
			json_decref(*(json_t **)(void *)p);
			*(json_t **)(void *)p = f;
		}
		return;
	}
	}
}

struct ab_event *ab_event_read_bin(const void *data, size_t n, char *err, size_t errsz)
{
	struct rd r = { data, (const unsigned char *)data + n, 0, err, errsz, false };
	struct ab_event *ev;

	if (err && errsz)
		err[0] = '\0';
	if (!data || get_byte(&r) != BIN_VERSION) {
		fail(&r, "unknown version");
		return NULL;
	}
	ev = ab_event_new();
	if (!ev) {
		fail(&r, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < AB_EVM_COUNT && !r.bad; i++)
		get_row(&r, ev, &ab_event_member_defs[i]);
	if (!r.bad && r.p != r.end)
		fail(&r, "bytes after the event");
	if (r.bad) {
		ab_event_free(ev);
		return NULL;
	}
	return ev;
}
