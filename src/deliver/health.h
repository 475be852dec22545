/*
 * health.h - channel health: the state machine around the dispatcher's
 * delivery attempts.
 *
 * Health lives in the store (table channel_health, one row per channel,
 * read and written through store.h): healthy -> failing after
 * failure_threshold consecutive failed attempts or at once on a permanent
 * error that is not about the message (404, 410, 401, 403, SSRF refusal,
 * ...); failing -> healthy on the next success.  Each change to failing
 * queues one `error`-category event "channel X is failing: REASON" (and
 * each recovery one "channel X recovered") for the channel's fallback
 * channel.  State survives restarts.
 */
#ifndef AB_HEALTH_H
#define AB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <alertbridge/plugin.h>
#include "deliver/runtime.h"
#include "store/store.h"

/* After a send was recorded: update the channel's health through st (the
 * worker's own store connection); on a state change log it and queue the
 * health event for the fallback channel. */
void ab_health_record(struct ab_store *st, struct ab_runtime *rt, const struct ab_job *job,
	const struct ab_result *res, int64_t now);

/* (the rows themselves: ab_store_health_list, store.h) */
const char *ab_health_state_name(enum ab_health_state s);

#endif
