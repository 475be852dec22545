/*
 * fuzz_syslog.c - libFuzzer target for ab_syslog_parse() (src/parse/syslog.c).
 *
 * Public: LLVMFuzzerTestOneInput.  Checks that any input parses into an
 * event whose canonical JSON survives ab_event_from_json(), that the same
 * input gives the same id, the same event when its payload's fields come
 * later (AB_SYSLOG_FIELDS_LATER and _HEADER_LATER, ab_syslog_view_fields), every
 * field the scan can give without making them (ab_syslog_view_field) the
 * same as made, and the same event read back from its binary form (the
 * syslog journal's records).
 * Diagnostics: abort() on a broken invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "event/event.h"
#include "fuzz_event.h"
#include "parse/syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each of ev's fields as the scan gives it: the same text, or "cannot
 * tell"; a key it lacks never reads as a value. */
static void view_fields_same(const struct ab_syslog_view *v, const struct ab_event *ev)
{
	static char buf[1 << 16];
	static const char *const absent[] = { "cef.nope", "cef.ext.nope", "leef.nope" };
	const char *key, *t;
	json_t *val;

	json_object_foreach(ev->fields, key, val) {
		int r = ab_syslog_view_field(v, key, buf, sizeof buf, &t);

		if (r == 0 || (r > 0 && (!json_is_string(val) ||
					 strcmp(t, json_string_value(val)))))
			abort();
	}
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
		if (!json_object_get(ev->fields, absent[i]) &&
		    ab_syslog_view_field(v, absent[i], buf, sizeof buf, &t) > 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ab_syslog_view view;   /* 4 KiB: not on the fuzzer's stack */
	struct ab_event *ev = ab_event_new(), *ev2 = ab_event_new();
	char err[128];
	int rc;

	if (!ev || !ev2)
		abort();
	if (ab_syslog_parse((const char *)data, size, "fuzz.peer", 1705312800000LL, ev, err,
			    sizeof err) != 0)
		abort();
	/* again, its payload's and header's fields left for later and then
	 * added: the same event, the same id */
	ab_syslog_scan((const char *)data, size, 1705312800000LL, &view);
	rc = ab_syslog_view_event(&view, "fuzz.peer", AB_SYSLOG_FIELDS_LATER |
				  AB_SYSLOG_HEADER_LATER, ev2, err, sizeof err);
	if (rc < 0 || (rc == 1 && ab_syslog_view_fields(&view, ev2) < 0) ||
	    strcmp(ev->id, ev2->id) != 0)
		abort();
	if (rc == 1)
		view_fields_same(&view, ev2);
	fuzz_event_same(ev, ev2);
	if (!ev->title || strlen(ev->title) > AB_SYSLOG_MAX_TITLE)
		abort();
	fuzz_event_roundtrip(ev, "fuzz_syslog");
	fuzz_event_bin_roundtrip(ev, "fuzz_syslog");
	ab_event_free(ev);
	ab_event_free(ev2);
	return 0;
}
