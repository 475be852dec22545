/*
 * dispatch.h - delivery worker threads.
 *
 * Workers claim due jobs from the store, call the channel's plugin, record
 * the attempt and apply the result: OK -> done; RETRY -> exponential backoff
 * with full jitter (at least the plugin's retry-after); PERMANENT, or a job
 * older than max_age -> dead letter.
 */
#ifndef AB_DISPATCH_H
#define AB_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>
#include "deliver/runtime.h"

struct ab_dispatcher;

/* Starts cfg.dispatch.workers threads, each with its own store connection. */
struct ab_dispatcher *ab_dispatch_start(const char *store_path, struct ab_runtime *rt,
	char *err, size_t errsz);
/* Swap in a new runtime (reload); the dispatcher takes a reference. */
void ab_dispatch_set_runtime(struct ab_dispatcher *d, struct ab_runtime *rt);
void ab_dispatch_wake(struct ab_dispatcher *d);
/* Stop taking new jobs, let in-flight sends finish, join the threads. */
void ab_dispatch_stop(struct ab_dispatcher *d);
/* The channels its circuit breaker holds paused now (names, caller frees
 * each and the array); their count, or -1. */
int ab_dispatch_paused(struct ab_dispatcher *d, char ***names);

/* Full-jitter backoff: a value in [0, min(cap, base * 2^(attempt-1))]
 * chosen by rnd (uniform 64-bit random); attempt >= 1. */
int64_t ab_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, uint64_t rnd);
/* When the next try is due after a RETRY result. */
int64_t ab_retry_at(int64_t now, unsigned attempt, int retry_after_s,
	int64_t base_ms, int64_t cap_ms, uint64_t rnd);

#endif
