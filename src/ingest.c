/*
 * ingest.c - route an event and commit it with its delivery jobs.
 *
 * Public: ab_ingest.
 * Diagnostics: the store's message when the commit failed (the caller
 *   answers TEMPFAIL / does not acknowledge; nothing is lost).
 */
#include <stdio.h>

#include "ingest.h"

int ab_ingest(struct ab_store *st, const struct ab_config *cfg, struct ab_event *ev,
	int64_t now, struct ab_route_result *rr, int *added, char *err, size_t errsz)
{
	struct ab_route_result local;

	if (!rr)
		rr = &local;
	if (!ev->received_at)
		ev->received_at = now;
	ab_event_ensure_id(ev);
	ab_route(cfg, ev, rr, NULL);
	if (ab_store_enqueue(st, ev, rr->channels, rr->n, now, added) < 0) {
		snprintf(err, errsz, "could not store event %s: %s", ev->id, ab_store_errmsg(st));
		return -1;
	}
	return 0;
}
