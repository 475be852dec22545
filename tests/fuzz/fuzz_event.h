/*
 * fuzz_event.h - the invariant every fuzz target checks on the events it
 * makes: the canonical JSON (what the store keeps) loads back with
 * ab_event_from_json() and dumps to the same text.  abort() otherwise,
 * with the refusal on stderr.  And fuzz_event_same: two events that must
 * be one write the same JSON; fuzz_event_bin_roundtrip: the binary form
 * reads back to the same event.  Header-only so each target stays one file.
 */
#ifndef AB_FUZZ_EVENT_H
#define AB_FUZZ_EVENT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "event/event.h"
#include "lib/buf.h"

static inline void fuzz_event_roundtrip(const struct ab_event *ev, const char *who)
{
	struct ab_event *back;
	json_error_t jerr;
	char err[256], *s, *s2;
	json_t *j;

	s = ab_event_dumps(ev);
	if (!s)
		abort();
	j = json_loads(s, 0, &jerr);
	if (!j)
		abort();
	back = ab_event_from_json(j, err, sizeof err);
	if (!back) {
		fprintf(stderr, "%s: event JSON refused: %s\n", who, err);
		abort();
	}
	s2 = ab_event_dumps(back);
	if (!s2 || strcmp(s, s2) != 0)
		abort();
	free(s2);
	ab_event_free(back);
	json_decref(j);
	free(s);
}

/* Two events that must be the same write the same canonical JSON. */
static inline void fuzz_event_same(const struct ab_event *a, const struct ab_event *b)
{
	char *sa = ab_event_dumps(a), *sb = ab_event_dumps(b);

	if (!sa || !sb || strcmp(sa, sb) != 0)
		abort();
	free(sa);
	free(sb);
}

/* The binary form (the syslog journal's records) reads back to the same
 * event; damaged copies of it are refused or read, never a crash. */
static inline void fuzz_event_bin_roundtrip(const struct ab_event *ev, const char *who)
{
	struct ab_buf b = AB_BUF_INIT(AB_EVENT_JSON_MAX);
	struct ab_event *back;
	char err[256];

	if (ab_event_write_bin(ev, &b) < 0)
		abort();
	back = ab_event_read_bin(b.data, b.len, err, sizeof err);
	if (!back) {
		fprintf(stderr, "%s: binary event refused: %s\n", who, err);
		abort();
	}
	fuzz_event_same(ev, back);
	ab_event_free(back);
	/* damaged: cut short, and a byte changed at places the bytes pick;
	 * refused or read, never a crash (a journal record is checksummed,
	 * the reader is strict anyway) */
	for (size_t k = 0; k < 8 && b.len > 1; k++) {
		size_t at = ((unsigned char)b.data[(k * 131) % b.len] * 2654435761u + k) % b.len;
		char keep = b.data[at];

		ab_event_free(ab_event_read_bin(b.data, at, err, sizeof err));
		b.data[at] = (char)(keep ^ (1 << (k % 8)));
		ab_event_free(ab_event_read_bin(b.data, b.len, err, sizeof err));
		b.data[at] = keep;
	}
	ab_buf_free(&b);
}

#endif
