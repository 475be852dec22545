/*
 * health.h - channel health and per-channel rate limiting around the
 * dispatcher's deliveries.
 *
 * Health lives in the store (table channel_health, one row per channel):
 * healthy -> failing after failure_threshold consecutive failed attempts
 * or at once on a permanent error that is not about the message (404, 410,
 * 401, 403, SSRF refusal, ...); failing -> healthy on the next success.
 * Each change to failing queues one `error`-category event "channel X is
 * failing: REASON" (and each recovery one "channel X recovered") for the
 * channel's fallback channel.  State survives restarts.
 */
#ifndef AB_HEALTH_H
#define AB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <alertbridge/plugin.h>
#include "deliver/runtime.h"
#include "store/store.h"

enum ab_health_state {
	AB_HEALTH_HEALTHY = 0,
	AB_HEALTH_FAILING = 1,
	AB_HEALTH_DISABLED = 2,     /* not in the configuration any more, or enabled = false
				     * (cli_channels.c shows it; never stored) */
};

/* Before a send: take a rate-limit token.  Returns 0 to go ahead; 1 when the
 * job was put back (due when a token is free, attempt not counted). */
int ab_chanctl_admit(struct ab_runtime *rt, const struct ab_job *job, int64_t now);
/* After a send was recorded: update health; on a state change queue the
 * health event for the fallback channel through st. */
void ab_chanctl_result(struct ab_store *st, struct ab_runtime *rt, const struct ab_job *job,
	const struct ab_result *res, int64_t now);
/* Release the dispatcher-side state (after the workers stopped). */
void ab_chanctl_shutdown(void);

struct ab_health_row {
	const char *channel;
	enum ab_health_state state;
	int failures;            /* consecutive */
	const char *reason;      /* last failure, "" if none */
	int64_t since;           /* when the state began (ms) */
	int64_t last_ok;         /* last success (ms, up to 1 s stale), 0 = never */
	int64_t last_fail;       /* last failure (ms), 0 = never */
};
typedef int (*ab_health_cb)(const struct ab_health_row *row, void *arg);
/* Every channel row of the store at store_path.  0, or -1 with err. */
int ab_health_list(const char *store_path, ab_health_cb cb, void *arg, char *err, size_t errsz);
const char *ab_health_state_name(enum ab_health_state s);

#endif
