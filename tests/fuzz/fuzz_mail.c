/*
 * fuzz_mail.c - libFuzzer target for the mail parser (src/parse/mail.c and,
 * through HTML-only mails, src/parse/html.c).
 *
 * Public: LLVMFuzzerTestOneInput.
 * Diagnostics: none; crashes, sanitizer reports and hangs are the findings.
 *         Seeds: tests/fuzz/corpus/mail/.
 *
 * Small limits make every limit path reachable with small inputs; every
 * string handed out must be valid UTF-8 without NUL bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/mail.h"
#include "parse/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s)
{
	if (s && !ab_utf8_valid(s, strlen(s)))
		abort();
}

static void check_mail(const struct ab_mail *m)
{
	size_t i;

	for (i = 0; i < m->n_headers; i++) {
		check(m->headers[i].name);
		check(m->headers[i].value);
	}
	check(m->subject);
	check(m->from);
	check(m->message_id);
	for (i = 0; i < m->n_to; i++)
		check(m->to[i]);
	if (!m->text || strlen(m->text) != m->text_len)
		abort();
	check(m->text);
	check(m->html);
	for (i = 0; i < m->n_links; i++)
		check(m->links[i]);
	for (i = 0; i < m->n_attachments; i++) {
		check(m->attachments[i].filename);
		check(m->attachments[i].content_type);
		check(m->attachments[i].content);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ab_mail_limits small = { 64 * 1024, 4096, 8, 40, 64 * 1024 };
	struct ab_mail *m = NULL;
	char err[256];
	int rc;

	rc = ab_mail_parse((const char *)data, size, NULL, &m, err, sizeof(err));
	if ((rc < 0) != (m == NULL))
		abort();
	if (m) {
		check_mail(m);
		ab_mail_free(m);
	}
	m = NULL;
	rc = ab_mail_parse((const char *)data, size, &small, &m, err, sizeof(err));
	if (m) {
		if (rc == 1 && m->limit == AB_MAIL_LIMIT_NONE)
			abort();
		check_mail(m);
		ab_mail_free(m);
	}
	return 0;
}
