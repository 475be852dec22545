/*
 * alertmanager.h - POST /api/v1/alertmanager: Prometheus Alertmanager's
 * webhook notifications (payload version 4), one event per alert.
 */
#ifndef AB_HTTP_ALERTMANAGER_H
#define AB_HTTP_ALERTMANAGER_H

#include <stddef.h>

#include "event/event.h"
#include "http/router.h"

#define AB_HTTP_MAX_AM_ALERTS 10000   /* alerts in one notification */

/* The body as events, one per alert (see alertmanager.c for the mapping).
 * *evs (caller frees: ab_http_events_free) gets n events, n may be 0.  0,
 * or -1 with a message in err and the blamed member ("version",
 * "alerts[2].status", "" for the body as a whole) in member. */
int ab_http_parse_alertmanager(const char *body, size_t len, struct ab_event ***evs, size_t *n,
	char *err, size_t errsz, char *member, size_t membersz);

/* The handler (routes.c). */
void ab_http_post_alertmanager(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs);

#endif
