/*
 * ratelimit.h - per-channel token buckets for the dispatcher.
 *
 * A bucket refills at rate tokens per second up to burst.  Defaults: the
 * chat services (slack, teams, mattermost) get 1 message per second with a
 * burst of 1, Slack's documented limit per incoming webhook; other channel
 * types are unlimited unless the channel sets rate.
 */
#ifndef AB_RATELIMIT_H
#define AB_RATELIMIT_H

#include <stdint.h>
#include "config/config.h"

struct ab_ratelimit;

struct ab_ratelimit *ab_ratelimit_new(void);
void ab_ratelimit_free(struct ab_ratelimit *rl);
/* Effective rate (per second, 0 = unlimited) and burst of a channel. */
void ab_ratelimit_conf(const struct ab_channel_conf *ch, double *rate, int *burst);
/* Take a token for channel at time now_ms.  Returns 0 when taken, else the
 * milliseconds until one is available (nothing taken).  Thread-safe. */
int64_t ab_ratelimit_take(struct ab_ratelimit *rl, const char *channel, double rate, int burst,
	int64_t now_ms);

#endif
