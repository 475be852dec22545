/*
 * recorder.h - the delivery workers' results, recorded by one thread in
 * group commits.
 *
 * A worker hands each batch of results (ab_recorder_put) and goes on
 * sending; the recorder thread writes everything handed to it since its
 * last commit in one store transaction (job state, delivery log, threads),
 * then the channels' health.  While one commit runs the next results
 * gather, so a busy dispatcher commits hundreds of results at once and a
 * quiet one each result at once.  Results are handed, not durable: a
 * kill -9 loses those not committed yet, and their jobs (still running in
 * the store) are queued again at the next start: sent twice at worst,
 * never lost (as the relaxed commits before them).
 */
#ifndef AB_RECORDER_H
#define AB_RECORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "deliver/runtime.h"
#include "store/store.h"

struct ab_recorder;

/* Starts the recorder thread with its own connection to the store at
 * store_path.  After a commit that put jobs back in the queue (retries)
 * it calls requeued(arg), so that a worker looks at the queue again.
 * NULL with err on failure. */
struct ab_recorder *ab_recorder_start(const char *store_path, void (*requeued)(void *arg),
	void *arg, char *err, size_t errsz);
/* Hands the n results f[0..n-1] (copied: the caller keeps f and its jobs)
 * with the snapshot rt they were made with (for channel health).  Waits
 * while the recorder holds its limit of results.  0, or -1 when the store
 * refuses results now (a full disk): nothing was taken, err says why; try
 * again later. */
int ab_recorder_put(struct ab_recorder *r, struct ab_runtime *rt, const struct ab_finish *f,
	size_t n, char *err, size_t errsz);
/* Records what was handed (as long as the store takes it) and stops the
 * thread. */
void ab_recorder_stop(struct ab_recorder *r);

#endif
