/*
 * detect.c - profile detection: the ordered detect alternatives of all
 * profiles, and the test of one alternative against a mail or a syslog
 * event (see detect.h and doc/profiles.md).
 *
 * Public: ab_detect_build, ab_detect_free, ab_detect_mail, ab_detect_syslog_line,
 *   ab_detect_reads_header, ab_detect_count, ab_detect_at, ab_detect_describe.
 *
 * Cost: the orders are sorted once per configuration snapshot; per input
 * the cheap conditions (globs, payload names, header presence) are tested
 * before any regex, and every regex runs with lib/regex.h's match budget
 * over a bounded prefix of the text.
 * Diagnostics: none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "parse/detect.h"
#include "parse/syslog.h"
#include "parse/mail.h"
#include "lib/regex.h"
#include "lib/util.h"

#define BODY_MAX (256u * 1024)      /* bytes of mail text a body regex sees */
#define SUBJECT_MAX (16u * 1024)
#define MESSAGE_MAX (64u * 1024)

struct ab_detect {
	struct ab_detect_entry *mail, *syslog;
	size_t n_mail, n_syslog;
	bool header;                 /* a syslog field condition names a header key */
};

static int cmp_entry(const void *a, const void *b)
{
	const struct ab_detect_entry *x = a, *y = b;
	int r;

	if (x->profile->priority != y->profile->priority)
		return x->profile->priority > y->profile->priority ? -1 : 1;
	if (x->alt->score != y->alt->score)
		return x->alt->score > y->alt->score ? -1 : 1;
	r = strcmp(x->profile->name, y->profile->name);
	if (r)
		return r;
	return x->alt < y->alt ? -1 : x->alt > y->alt;
}

/* The payload kinds a syslog alternative asks for, as bits of
 * payload_names (what syslog.payload says; "none" without one). */
static const char *const payload_names[] = { "none", "cef", "leef", "json", "cee" };
#define N_PAYLOADS (sizeof payload_names / sizeof payload_names[0])

static unsigned payload_bit(const char *name)
{
	for (unsigned i = 0; name && i < N_PAYLOADS; i++)
		if (!strcmp(payload_names[i], name))
			return 1u << i;
	return 1u << N_PAYLOADS;     /* a kind no line has */
}

static unsigned payload_set(const struct ab_detect_alt *a)
{
	unsigned set = 0;

	for (size_t i = 0; i < a->n_payload; i++)
		set |= payload_bit(a->payload[i]);
	return set;
}

struct ab_detect *ab_detect_build(struct ab_profile *const *profiles, size_t n)
{
	struct ab_detect *d = calloc(1, sizeof *d);
	size_t i, k, total = 0;

	if (!d)
		return NULL;
	for (i = 0; i < n; i++)
		total += profiles[i]->n_detect;
	d->mail = calloc(total ? total : 1, sizeof *d->mail);
	d->syslog = calloc(total ? total : 1, sizeof *d->syslog);
	if (!d->mail || !d->syslog) {
		ab_detect_free(d);
		return NULL;
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < profiles[i]->n_detect; k++) {
			const struct ab_detect_alt *a = &profiles[i]->detect[k];
			struct ab_detect_entry e = { profiles[i], a, payload_set(a), false };

			for (size_t f = 0; f < a->n_field; f++) {
				bool later = ab_syslog_later_key(a->field[f].name);

				e.later |= later;
				d->header |= a->syslog && later &&
					     !strncmp(a->field[f].name, "syslog.", 7);
			}

			if (a->syslog)
				d->syslog[d->n_syslog++] = e;
			else
				d->mail[d->n_mail++] = e;
		}
	qsort(d->mail, d->n_mail, sizeof *d->mail, cmp_entry);
	qsort(d->syslog, d->n_syslog, sizeof *d->syslog, cmp_entry);
	return d;
}

void ab_detect_free(struct ab_detect *d)
{
	if (!d)
		return;
	free(d->mail);
	free(d->syslog);
	free(d);
}

static bool any_glob(char *const *globs, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (ab_glob_match(globs[i], s))
			return true;
	return false;
}

/* A budget hit (lib/regex.h) counts as no match. */
static bool re_on(const struct ab_regex *re, const char *s, size_t max)
{
	return s && ab_regex_match(re, s, strnlen(s, max)) == AB_REGEX_MATCH;
}

/* ------------------------------------------------------------ mail */

static bool header_holds(const struct ab_mail *m, const struct ab_detect_kv *kv)
{
	size_t i;

	for (i = 0; i < m->n_headers; i++) {
		const struct ab_mail_header *h = &m->headers[i];

		if (strcasecmp(h->name, kv->name))
			continue;
		if (!kv->re || re_on(kv->re, h->value ? h->value : "", SUBJECT_MAX))
			return true;
	}
	return false;
}

static bool attachment_holds(const struct ab_mail *m, const struct ab_detect_alt *a)
{
	size_t i;

	for (i = 0; i < m->n_attachments; i++) {
		const struct ab_mail_attachment *at = &m->attachments[i];

		if (any_glob(a->attachment, a->n_attachment, at->content_type) ||
		    any_glob(a->attachment, a->n_attachment, at->filename))
			return true;
	}
	return false;
}

static bool mail_holds(const struct ab_detect_alt *a, const struct ab_mail *m)
{
	size_t i;

	/* cheap first: globs and header presence, then regexes */
	if (a->n_from && !any_glob(a->from, a->n_from, m->from))
		return false;
	if (a->n_attachment && !attachment_holds(m, a))
		return false;
	for (i = 0; i < a->n_header; i++)
		if (!header_holds(m, &a->header[i]))
			return false;
	if (a->subject && !re_on(a->subject, m->subject, SUBJECT_MAX))
		return false;
	if (a->body && ab_regex_match(a->body, m->text, m->text_len < BODY_MAX ? m->text_len :
				      BODY_MAX) != AB_REGEX_MATCH)
		return false;
	return true;
}

const struct ab_detect_entry *ab_detect_mail(const struct ab_detect *d, const struct ab_mail *m)
{
	size_t i;

	for (i = 0; d && m && i < d->n_mail; i++)
		if (mail_holds(d->mail[i].alt, m))
			return &d->mail[i];
	return NULL;
}

/* ------------------------------------------------------------ syslog */

/* A field's text: strings as they are, numbers and booleans written out. */
static const char *field_text(json_t *v, char *buf, size_t bufsz)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, bufsz, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, bufsz, "%g", json_real_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

/* The text of field condition i of e's alternative into *t (NULL when
 * ev has no such field).  A field the parser may have left for later
 * (and ev has not) is read from the line (later->field), else they are
 * made (later->make; once).  0, or -1 when memory ran out. */
static int cond_text(const struct ab_detect_entry *e, size_t i, const struct ab_event *ev,
		     struct ab_detect_later *later, char *buf, size_t bufsz, const char **t)
{
	const char *name = e->alt->field[i].name;

	if (e->later && later && later->make && ab_syslog_later_key(name) &&
	    !json_object_get(ev->fields, name)) {
		int (*make)(void *) = later->make;

		if (later->field && later->field(later->arg, name, buf, bufsz, t) >= 0)
			return 0;
		later->make = NULL;
		if (make(later->arg) < 0)
			return -1;
	}
	*t = field_text(json_object_get(ev->fields, name), buf, bufsz);
	return 0;
}

/* e's field and message conditions (the loop below tests its payload
 * kinds and app globs first). */
static bool syslog_holds(const struct ab_detect_entry *e, const struct ab_event *ev,
			 struct ab_detect_later *later, bool *failed)
{
	const struct ab_detect_alt *a = e->alt;
	size_t i;

	for (i = 0; i < a->n_field; i++) {
		char buf[1024];
		const char *t;

		if (cond_text(e, i, ev, later, buf, sizeof buf, &t) < 0) {
			*failed = true;
			return false;
		}
		if (!t || (a->field[i].re && !re_on(a->field[i].re, t, MESSAGE_MAX)))
			return false;
	}
	if (a->message && !re_on(a->message, ev->summary ? ev->summary : "", MESSAGE_MAX))
		return false;
	return true;
}

const struct ab_detect_entry *ab_detect_syslog_line(const struct ab_detect *d,
	const struct ab_event *ev)
{
	return ab_detect_syslog_line_later(d, ev, NULL, NULL);
}

const struct ab_detect_entry *ab_detect_syslog_line_later(const struct ab_detect *d,
	const struct ab_event *ev, struct ab_detect_later *later, bool *failed)
{
	const char *app;
	unsigned payload;
	bool oom = false;
	size_t i;

	if (failed)
		*failed = false;
	if (!d || !ev || !d->n_syslog)
		return NULL;
	if (later && later->header) {
		app = later->app;
		payload = payload_bit(later->payload);
	} else {
		app = json_string_value(json_object_get(ev->fields, "syslog.appname"));
		payload = payload_bit(json_string_value(json_object_get(ev->fields,
									"syslog.payload")));
	}
	if (payload == 1u << N_PAYLOADS)
		payload = payload_bit("none");
	for (i = 0; i < d->n_syslog && !oom; i++) {
		const struct ab_detect_entry *e = &d->syslog[i];

		/* the cheap conditions here, the rest in syslog_holds */
		if ((e->payloads && !(e->payloads & payload)) ||
		    (e->alt->n_app && !any_glob(e->alt->app, e->alt->n_app, app)))
			continue;
		if (syslog_holds(e, ev, later, &oom))
			return e;
	}
	if (oom && failed)
		*failed = true;
	return NULL;
}

bool ab_detect_reads_header(const struct ab_detect *d)
{
	return d && d->header;
}

/* ------------------------------------------------------------ listing */

size_t ab_detect_count(const struct ab_detect *d, bool syslog)
{
	return d ? (syslog ? d->n_syslog : d->n_mail) : 0;
}

const struct ab_detect_entry *ab_detect_at(const struct ab_detect *d, bool syslog, size_t i)
{
	if (i >= ab_detect_count(d, syslog))
		return NULL;
	return syslog ? &d->syslog[i] : &d->mail[i];
}

static void list(struct ab_buf *out, const char *what, char *const *v, size_t n, bool *first)
{
	size_t i;

	if (!n)
		return;
	ab_buf_printf(out, "%s%s [", *first ? "" : ", ", what);
	for (i = 0; i < n; i++)
		ab_buf_printf(out, "%s\"%s\"", i ? ", " : "", v[i]);
	ab_buf_printf(out, "]");
	*first = false;
}

static void pat(struct ab_buf *out, const char *what, const char *p, bool *first)
{
	if (!p)
		return;
	ab_buf_printf(out, "%s%s /%s/", *first ? "" : ", ", what, p);
	*first = false;
}

static void kvs(struct ab_buf *out, const char *what, const struct ab_detect_kv *kv, size_t n,
		bool *first)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ab_buf_printf(out, "%s%s %s", *first ? "" : ", ", what, kv[i].name);
		if (kv[i].pattern)
			ab_buf_printf(out, " /%s/", kv[i].pattern);
		*first = false;
	}
}

void ab_detect_describe(const struct ab_detect_entry *e, struct ab_buf *out)
{
	const struct ab_detect_alt *a = e->alt;
	bool first = true;

	ab_buf_printf(out, "detect #%zu: ", (size_t)(a - e->profile->detect) + 1);
	list(out, "from", a->from, a->n_from, &first);
	pat(out, "subject", a->subject_pat, &first);
	kvs(out, "header", a->header, a->n_header, &first);
	pat(out, "body", a->body_pat, &first);
	list(out, "attachment", a->attachment, a->n_attachment, &first);
	list(out, "app", a->app, a->n_app, &first);
	list(out, "payload", a->payload, a->n_payload, &first);
	kvs(out, "field", a->field, a->n_field, &first);
	pat(out, "message", a->message_pat, &first);
}
