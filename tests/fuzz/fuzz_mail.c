/*
 * fuzz_mail.c - libFuzzer target for raw mail -> event: the mail parser
 * (src/parse/mail.c and, through HTML-only mails, src/parse/html.c), then
 * the profile engine (src/parse/profile.c) through ab_mail_event() as the
 * milter calls it.
 *
 * Public: LLVMFuzzerTestOneInput.
 * Diagnostics: abort() on a broken invariant; crashes, sanitizer reports
 *         and hangs are the findings.  Exit 2 with a message on stderr when
 *         the shipped profiles cannot be loaded.  Seeds: tests/fuzz/corpus/mail/.
 *
 * Small limits make every limit path reachable with small inputs; every
 * string handed out must be valid UTF-8 without NUL bytes.  The shipped
 * profiles (conf/profiles.d/ *.conf under $top_srcdir, else under the
 * source tree this was built from, AB_FUZZ_SRCDIR) are loaded once; each
 * mail becomes one event per profile (and one through the small-limit
 * parse with "generic"), and every event must have a valid id (the same
 * for every profile when the mail has a Message-ID), a valid severity and
 * category, valid UTF-8 strings, and canonical JSON that
 * ab_event_from_json() takes back unchanged; the "generic" event is then
 * marked as from an unverified sender and checked again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "event/event.h"
#include "fuzz_event.h"
#include "fuzz_profiles.h"
#include "config/config_mail.h"
#include "ingest/mail_event.h"
#include "parse/mail.h"
#include "lib/utf8.h"

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

static struct ab_config *cfg;   /* the shipped profiles, kept for the run */

static void check_event(const struct ab_event *ev)
{
	const char *const strs[] = {
		ev->type, ev->source, ev->tool, ev->title, ev->summary, ev->url, ev->asset,
		ev->team, ev->status, ev->fingerprint, ev->origin.kind, ev->origin.message_id,
		ev->origin.from, ev->origin.host,
	};
	size_t i;

	if ((unsigned)ev->severity >= AB_SEV_COUNT || (unsigned)ev->category >= AB_CAT_COUNT ||
	    !ab_event_id_valid(ev->id) || !json_is_object(ev->fields))
		abort();
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++)
		check(strs[i]);
	if (!ev->type || !*ev->type || !ev->origin.kind || strcmp(ev->origin.kind, "mail"))
		abort();
	/* What the store keeps must load back as the same event. */
	fuzz_event_roundtrip(ev, "fuzz_mail");
}

/* The mail through a source using profile p (NULL: no source, so the
 * profile "generic"), as the milter does it. */
static void to_event(const struct ab_mail *m, const struct ab_profile *p, char *first_id)
{
	struct ab_mail_source src;
	struct ab_event *ev;

	memset(&src, 0, sizeof src);
	src.name = (char *)"fuzz";
	src.profile = p;
	ev = ab_mail_event(cfg->mail, p ? &src : NULL, m, NULL, "mail", NULL, NULL);
	if (!ev)
		abort();
	if (m->message_id) {
		/* the id comes from the Message-ID alone, whatever the profile */
		if (!ab_event_id_valid(ev->id))
			abort();
		if (!first_id[0])
			memcpy(first_id, ev->id, sizeof ev->id);
		else if (strcmp(first_id, ev->id) != 0)
			abort();
	}
	ev->received_at = 1705312800000LL;
	ab_event_ensure_id(ev);
	check_event(ev);
	if (!p) {
		/* the milter's untrusted = "mark" */
		ab_mail_mark_unverified(ev, AB_SEV_MEDIUM, "fuzz: client not trusted");
		if (ev->severity > AB_SEV_MEDIUM || !ev->title ||
		    strncmp(ev->title, "[unverified sender] ", 20) != 0)
			abort();
		check_event(ev);
	}
	ab_event_free(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ab_mail_limits small = { 64 * 1024, 4096, 8, 40, 64 * 1024 };
	struct ab_mail *m = NULL;
	char err[256], id[AB_ID_LEN + 1] = "";
	size_t i;
	int rc;

	if (!cfg)
		cfg = fuzz_load_profiles("fuzz_mail");
	rc = ab_mail_parse((const char *)data, size, NULL, &m, err, sizeof(err));
	if ((rc < 0) != (m == NULL))
		abort();
	if (m) {
		check_mail(m);
		to_event(m, NULL, id);
		for (i = 0; i < cfg->mail->n_profiles; i++)
			to_event(m, cfg->mail->profiles[i], id);
		ab_mail_free(m);
	}
	m = NULL;
	rc = ab_mail_parse((const char *)data, size, &small, &m, err, sizeof(err));
	if (m) {
		if (rc == 1 && m->limit == AB_MAIL_LIMIT_NONE)
			abort();
		check_mail(m);
		id[0] = '\0';   /* a cut Message-ID may differ */
		to_event(m, NULL, id);
		ab_mail_free(m);
	}
	return 0;
}
