/*
 * noise.h - noise control on top of routing, with its state in the store
 * (schema version 2, so it survives restarts): throttle, grouping,
 * digests and expiry reminders; and the flush of what became due.
 *
 * Payload shapes of groups and digests: include/alertbridge/plugin.h.
 */
#ifndef AB_NOISE_H
#define AB_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "config/config.h"
#include "event/event.h"
#include "route/route.h"
#include "store/store.h"

#define AB_NOISE_REMIND_TYPE "risk_acceptance.expiring"

/* What ingesting one event did (for the operator's messages). */
struct ab_ingest_outcome {
	int added;          /* jobs queued now */
	bool duplicate;     /* the event id was already stored */
	int grouped;        /* channels that got it into a group message */
	int digested;       /* channels that collect it into a digest */
	int suppressed;     /* channels whose throttle suppressed it (counted) */
	int people;         /* jobs to people (route/people.h), included in added */
};

/* Inside an open store batch (ab_store_begin): apply the routing result
 * rr of ev at time now - plain jobs for channels without noise control,
 * throttle (deliver with fields.throttle_suppressed, or count one more
 * suppressed), add to a group or a digest, schedule reminders - and store
 * the event.  An event id already stored is a duplicate: its plain jobs are
 * (idempotently) queued again, the noise state is not touched.  explain
 * (may be NULL) gets what happened per channel and the final deliveries.
 * out (may be NULL) gets what happened.  0, or -1 with err (the caller rolls
 * the batch back). */
int ab_noise_ingest(struct ab_store *st, const struct ab_config *cfg,
	const struct ab_event *ev, const struct ab_route_result *rr, int64_t now,
	struct ab_ingest_outcome *out, struct ab_buf *explain, char *err, size_t errsz);

/* Flush everything due at now, each item in its own durable transaction:
 * groups whose group_wait / group_interval ran out, digests whose schedule
 * time came (empty ones only with send_empty), reminders.  *queued gets
 * the number of jobs queued.  0, or -1 with err (what was flushed before
 * the error stays flushed; the rest is retried on the next call). */
int ab_noise_flush(struct ab_store *st, const struct ab_config *cfg, int64_t now,
	int *queued, char *err, size_t errsz);

/* The earliest time something is due (groups, digests, reminders), or -1. */
int64_t ab_noise_next_due(struct ab_store *st);

#endif
