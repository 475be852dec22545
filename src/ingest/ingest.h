/*
 * ingest.h - the one path from a parsed event to durable delivery jobs,
 * shared by every input (CLI, milter, syslog): route the event, then
 * commit the event and its jobs to the store (fsync) before returning.
 * Nothing is acknowledged to an input before this returned 0.
 */
#ifndef AB_INGEST_H
#define AB_INGEST_H

#include <stdint.h>
#include "config/config.h"
#include "event/event.h"
#include "route/noise.h"
#include "route/route.h"
#include "store/store.h"
#include "lib/metrics.h"

/* Counted by the inputs where they pick a profile (mail_event.c,
 * syslog_source.c): events by input and profile, and the ones no profile
 * took (the generic fallback). */
extern struct ab_metric ab_m_events_by_profile, ab_m_parse_fallbacks;

/* Ensure the id, route and enqueue.  rr (may be NULL) gets the routing
 * decision, out (may be NULL) what was done (jobs queued, duplicate,
 * grouped, digested, suppressed by a throttle).  Returns 0, or -1
 * with a message in err (nothing was stored: the input must not be
 * acknowledged). */
int ab_ingest(struct ab_store *st, const struct ab_config *cfg, struct ab_event *ev,
	int64_t now, struct ab_route_result *rr, struct ab_ingest_outcome *out, char *err,
	size_t errsz);
/* The sender named the channels (a mail's route+CHANNEL recipients): ensure
 * the id and enqueue the event for channels[0..n) without consulting the
 * rules or noise control; rr and out as for ab_ingest.  0, or -1 with a
 * message in err (nothing was stored). */
int ab_ingest_direct(struct ab_store *st, struct ab_event *ev, const char *const *channels,
	size_t n, int64_t now, struct ab_route_result *rr, struct ab_ingest_outcome *out,
	char *err, size_t errsz);
/* The same decision as a dry run: the trace (rules, throttle and group
 * state, deliveries) goes to explain, and the transaction is rolled back,
 * so nothing is stored or sent. */
int ab_ingest_explain(struct ab_store *st, const struct ab_config *cfg, struct ab_event *ev,
	int64_t now, struct ab_buf *explain, char *err, size_t errsz);

#endif
