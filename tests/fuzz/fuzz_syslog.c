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

#include "event/event.h"
#include "fuzz_event.h"
#include "parse/syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ab_event *ev = ab_event_new(), *ev2 = ab_event_new();
	char err[128];

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
	fuzz_event_roundtrip(ev, "fuzz_syslog");
	ab_event_free(ev);
	ab_event_free(ev2);
	return 0;
}
