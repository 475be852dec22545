/*
 * committer.h - group commit for inputs whose callers each wait for their
 * own event (the milter's end-of-message): concurrent submissions share
 * one store transaction and one fsync instead of queueing behind each
 * other's.
 */
#ifndef AB_INGEST_COMMITTER_H
#define AB_INGEST_COMMITTER_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "event/event.h"
#include "route/route.h"

struct ab_committer;

/* What a committer did so far (for tests and status). */
struct ab_committer_stats {
	uint64_t submitted;     /* events submitted */
	uint64_t batches;       /* transactions tried */
	uint64_t failed;        /* transactions that failed (their events got -1) */
	size_t waiting;         /* submissions queued for the next transaction now */
};

/* A committer on the store at store_path (opened on first use, reopened
 * after a failure).  NULL on ENOMEM. */
struct ab_committer *ab_committer_new(const char *store_path);
/* Only when no submission is in progress. */
void ab_committer_free(struct ab_committer *c);

/*
 * Route ev with cfg (or enqueue it for direct[0..n_direct) when the sender
 * named the channels: ab_ingest_direct) and return once it is durable:
 * committed together with whatever other threads submitted meanwhile (the
 * first waiting thread commits the batch; the others wait for it).  rr
 * (may be NULL) gets the routing decision.  0, or -1 with a message in
 * err: nothing of the batch was stored (the input must not be
 * acknowledged); -2 likewise when the store's filesystem is below its
 * free-space watermark (min_free_mb: "insufficient storage").
 */
int ab_committer_submit(struct ab_committer *c, const struct ab_config *cfg, struct ab_event *ev,
	const char *const *direct, size_t n_direct, struct ab_route_result *rr, char *err,
	size_t errsz);

/* The same for evs[0..n) routed with cfg, all in one transaction: every
 * one is durable when this returns 0, none when it returns -1 or -2 (err
 * as above).  For a request that carries several events (the HTTP API's
 * arrays): it is acknowledged whole or not at all. */
int ab_committer_submit_many(struct ab_committer *c, const struct ab_config *cfg,
	struct ab_event *const *evs, size_t n, char *err, size_t errsz);

void ab_committer_stats(struct ab_committer *c, struct ab_committer_stats *out);

#endif
