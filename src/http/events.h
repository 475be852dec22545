/*
 * events.h - POST /api/v1/events: canonical events in, committed with
 * their delivery jobs (fsync) before the 202 that lists their ids.
 */
#ifndef AB_HTTP_EVENTS_H
#define AB_HTTP_EVENTS_H

#include <stddef.h>

#include "event/event.h"
#include "http/router.h"

#define AB_HTTP_MAX_EVENTS 1000   /* events in one request */

/* The body as events: one JSON object, an array of objects, or JSON lines
 * (one object per non-empty line).  Events without origin.kind get
 * "http".  *evs (caller frees each and the array) gets n events.  0, or
 * -1 with a message in err and the blamed member ("[3].severity",
 * "line 2", "" when the body as a whole) in member. */
int ab_http_parse_events(const char *body, size_t len, struct ab_event ***evs, size_t *n,
	char *err, size_t errsz, char *member, size_t membersz);
void ab_http_events_free(struct ab_event **evs, size_t n);

/* Commit evs[0..n) (taken, freed) through the committer and answer: 202
 * {"accepted": n, "ids": [...]} once they and their jobs are stored, 503
 * with Retry-After when not (nothing stored).  m counts them by result
 * (accepted, unavailable).  The tail of every ingest endpoint. */
struct ab_metric;
void ab_http_take_events(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs, struct ab_event **evs, size_t n, struct ab_metric *m);

/* The handler (routes.c). */
void ab_http_post_events(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs);

#endif
