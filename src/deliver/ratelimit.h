/*
 * ratelimit.h - per-channel token buckets for the dispatcher.
 *
 * A bucket refills at rate tokens per second up to burst.  A channel that
 * sets no rate gets its plugin's default_rate (the chat plugins declare 1
 * per second, Slack's documented limit per incoming webhook; 0 =
 * unlimited), with a burst of 1 unless it sets burst.
 */
#ifndef AB_RATELIMIT_H
#define AB_RATELIMIT_H

#include <stdint.h>
#include "config/config.h"

struct ab_ratelimit;

struct ab_ratelimit *ab_ratelimit_new(void);
void ab_ratelimit_free(struct ab_ratelimit *rl);
/* Effective rate (per second, 0 = unlimited) and burst of a channel whose
 * plugin declares default_rate (ab_runtime_default_rate). */
void ab_ratelimit_conf(const struct ab_channel_conf *ch, double default_rate, double *rate,
	int *burst);
/* Take a token for channel at time now_ms.  Returns 0 when taken, else the
 * milliseconds until one is available (nothing taken).  Thread-safe. */
int64_t ab_ratelimit_take(struct ab_ratelimit *rl, const char *channel, double rate, int burst,
	int64_t now_ms);

#endif
