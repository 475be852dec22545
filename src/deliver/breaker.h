/*
 * breaker.h - the channel-wide circuit breaker of the dispatcher.
 *
 * When a send to a channel fails with a result worth retrying (5xx,
 * timeouts, 429: AB_RETRY), the whole channel pauses: none of its jobs is
 * sent until the pause is over, then one job goes as a probe while the
 * others wait.  A failed probe pauses it again, twice as long each time
 * (pause_base, 2 x pause_base, ... at most pause_cap), and never shorter
 * than the Retry-After the endpoint asked for.  The first success closes
 * the breaker and the dispatcher makes the channel's queued jobs due
 * again, oldest first (they kept their created_at, hence their max_age).
 *
 * The state is in memory only, shared by the dispatcher's workers: a
 * restart forgets the pauses (the jobs themselves are in the store and
 * the next failure pauses the channel again).  Thread-safe.
 */
#ifndef AB_BREAKER_H
#define AB_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ab_breaker;

enum ab_breaker_verdict {
	AB_BREAKER_GO,      /* closed: send */
	AB_BREAKER_PROBE,   /* the pause is over: send this one, the only probe */
	AB_BREAKER_WAIT,    /* paused, or a probe is out: do not send before *until */
};

struct ab_breaker *ab_breaker_new(void);
void ab_breaker_free(struct ab_breaker *b);

/* May a job of channel be sent at now?  On WAIT, *until is when the pause
 * ends (or, with a probe out, a guess at when its result is in). */
enum ab_breaker_verdict ab_breaker_admit(struct ab_breaker *b, const char *channel, int64_t now,
	int64_t *until);
/* A probe slot given back unused (its job was not sent after all). */
void ab_breaker_unprobe(struct ab_breaker *b, const char *channel);
/* After a send of channel: failed (an AB_RETRY result, retry_after_s from
 * the endpoint, 0 if none) or not.  base_ms and cap_ms: the channel's
 * pause_base and pause_cap.  Returns 1 when this closed a paused breaker
 * (the caller makes the channel's jobs due again), -1 when it paused the
 * channel (*pause_ms says for how long), 0 when nothing changed. */
int ab_breaker_result(struct ab_breaker *b, const char *channel, bool failed, int retry_after_s,
	int64_t base_ms, int64_t cap_ms, int64_t now, int64_t *pause_ms);
/* A channel whose pause is over and whose probe is not out yet: its name
 * is copied to name; 1, or 0 when there is none. */
int ab_breaker_probe_due(struct ab_breaker *b, int64_t now, char *name, size_t namesz);
/* The channel had no job to probe with: the breaker closes (its next
 * failure pauses it for the step after the last one). */
void ab_breaker_idle(struct ab_breaker *b, const char *channel);
/* When the earliest pause ends, -1 if no channel is paused. */
int64_t ab_breaker_next_probe(struct ab_breaker *b);
/* The paused channels (open, or a probe out), malloc'd names in *names
 * (free each and the array); returns the count, -1 on ENOMEM.  *gen
 * changes whenever that set may have changed. */
int ab_breaker_paused(struct ab_breaker *b, char ***names, unsigned *gen);
unsigned ab_breaker_gen(struct ab_breaker *b);
/* The pause after n failed sends in a row: min(cap, base * 2^(n-1)). */
int64_t ab_breaker_pause_ms(unsigned n, int64_t base_ms, int64_t cap_ms);

#endif
