/*
 * scheduler.h - the scheduler thread: flushes due groups, digests and
 * reminders (noise.h) into delivery jobs, durably, and wakes the
 * dispatcher.  The clock is injectable for tests.
 */
#ifndef AB_SCHED_H
#define AB_SCHED_H

#include <stdint.h>

#include "deliver/dispatch.h"
#include "deliver/runtime.h"

struct ab_sched;

typedef int64_t (*ab_sched_clock_fn)(void *arg);   /* ms since the epoch */

/* Start the thread with its own store connection.  clock NULL = the real
 * clock; disp (may be NULL) is woken when jobs were queued.  NULL with a
 * message in err on failure. */
struct ab_sched *ab_sched_start(const char *store_path, struct ab_runtime *rt,
	struct ab_dispatcher *disp, ab_sched_clock_fn clock, void *clock_arg,
	char *err, size_t errsz);
/* Swap in a new runtime (reload); the scheduler takes a reference. */
void ab_sched_set_runtime(struct ab_sched *s, struct ab_runtime *rt);
/* Run a pass now (after a clock change in tests). */
void ab_sched_kick(struct ab_sched *s);
/* Passes made so far, and jobs queued by them (for tests and status). */
uint64_t ab_sched_passes(struct ab_sched *s);
uint64_t ab_sched_queued(struct ab_sched *s);
void ab_sched_stop(struct ab_sched *s);

#endif
