/*
 * fuzz_syslog.c - libFuzzer target for ab_syslog_parse() (src/parse/syslog.c).
 *
 * Public: LLVMFuzzerTestOneInput.  Checks that any input parses into an
 * event whose canonical JSON survives ab_event_from_json(), and that the
 * same input gives the same id.  Diagnostics: abort() on a broken invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "event.h"
#include "parse/syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ab_event *ev = ab_event_new(), *ev2 = ab_event_new(), *back;
	char err[128], *s;
	json_error_t jerr;
	json_t *j;

	if (!ev || !ev2)
		abort();
	if (ab_syslog_parse((const char *)data, size, "fuzz.peer", 1705312800000LL, ev, err,
			    sizeof err) != 0)
		abort();
	if (ab_syslog_parse((const char *)data, size, "fuzz.peer", 1705312800000LL, ev2, err,
			    sizeof err) != 0 || strcmp(ev->id, ev2->id) != 0)
		abort();
	if (!ev->title || strlen(ev->title) > AB_SYSLOG_MAX_TITLE)
		abort();
	s = ab_event_dumps(ev);
	if (!s)
		abort();
	j = json_loads(s, 0, &jerr);
	if (!j)
		abort();
	back = ab_event_from_json(j, err, sizeof err);
	if (!back)
		abort();
	ab_event_free(back);
	json_decref(j);
	free(s);
	ab_event_free(ev);
	ab_event_free(ev2);
	return 0;
}
