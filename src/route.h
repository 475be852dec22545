/*
 * route.h - routing: which channels an event goes to.
 *
 * Rules are evaluated in order; every matching rule fires; a matching rule
 * with final = true stops evaluation; when no rule matched the default
 * channels get the event; each channel appears once in the result.
 */
#ifndef AB_ROUTE_H
#define AB_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "event.h"

#define AB_ROUTE_MAX_CHANNELS 64

struct ab_route_result {
	const char *channels[AB_ROUTE_MAX_CHANNELS]; /* borrowed from the config */
	size_t n;
	bool used_default;
	size_t n_matched;
};

/* Does one rule match?  On no match, *why (may be NULL) gets the first
 * reason, e.g. "severity low < min_severity high". */
bool ab_rule_match(const struct ab_rule_conf *r, const struct ab_event *ev,
	char *why, size_t whysz);
/* Route; if explain is non-NULL a human-readable trace is appended. */
void ab_route(const struct ab_config *cfg, const struct ab_event *ev,
	struct ab_route_result *out, struct ab_buf *explain);

#endif
