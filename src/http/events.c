/*
 * events.c - POST /api/v1/events (events.h): the body is one canonical
 * event, an array of them, or JSON lines; they go through the committer
 * (ingest/committer.h, the ingest path every input shares: routed, then
 * the events and their jobs committed in one transaction with fsync)
 * and the answer is 202 with their ids only once that returned.  A
 * request is taken whole or not at all.
 *
 * Public: ab_http_parse_events, ab_http_events_free, ab_http_take_events,
 *         ab_http_post_events.
 * Answers: 202 {"accepted": N, "ids": [...]}; 400 with the member that
 *   failed (not JSON, not an event, a bad member, too many events); 503
 *   with Retry-After when the store cannot commit or its disk is below
 *   min_free_mb (nothing was stored: send again).  401 and 413 come from
 *   the router and the listener.
 * Diagnostics: a store failure is logged (the client gets it too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/log.h"
#include "lib/metrics.h"
#include "http/events.h"

static AB_METRIC_COUNTER(m_api_events, "alertbridge_http_events_total",
	"Events taken by POST /api/v1/events, by result (accepted, rejected: bad input, "
	"unavailable: not stored).", "result", NULL);

void ab_http_events_free(struct ab_event **evs, size_t n)
{
	for (size_t i = 0; evs && i < n; i++)
		ab_event_free(evs[i]);
	free(evs);
}

/* "member 'severity': unknown ..." (event.c's messages) -> "severity". */
static void blamed(const char *msg, const char *where, char *member, size_t membersz)
{
	const char *p = strstr(msg, "member '");
	const char *q = p ? strchr(p + 8, '\'') : NULL;

	if (p && q)
		snprintf(member, membersz, "%s%s%.*s", where, where[0] ? "." : "", (int)(q - p - 8),
			p + 8);
	else
		snprintf(member, membersz, "%s", where);
}

/* One event from j; where names it in messages ("" alone, "[2]", "line 3"). */
static struct ab_event *one(const json_t *j, const char *where, char *err, size_t errsz,
	char *member, size_t membersz)
{
	char e[512];
	struct ab_event *ev;
	const json_t *origin;

	if (!json_is_object(j)) {
		snprintf(err, errsz, "%s%san event is a JSON object", where, where[0] ? ": " : "");
		snprintf(member, membersz, "%s", where);
		return NULL;
	}
	if (!(ev = ab_event_from_json(j, e, sizeof e))) {
		snprintf(err, errsz, "%s%s%s", where, where[0] ? ": " : "", e);
		blamed(e, where, member, membersz);
		return NULL;
	}
	origin = json_object_get(j, "origin");
	if (!json_is_object(origin) || !json_object_get(origin, "kind"))
		ab_event_set_str(ev, &ev->origin.kind, "http");
	if (!ev->origin.kind) {
		ab_event_free(ev);
		snprintf(err, errsz, "out of memory");
		member[0] = '\0';
		return NULL;
	}
	return ev;
}

static int push(struct ab_event ***evs, size_t *n, struct ab_event *ev, char *err, size_t errsz)
{
	struct ab_event **v;

	if (*n >= AB_HTTP_MAX_EVENTS) {
		ab_event_free(ev);
		snprintf(err, errsz, "more than %d events in one request (send several requests)",
			AB_HTTP_MAX_EVENTS);
		return -1;
	}
	if (!(v = realloc(*evs, (*n + 1) * sizeof *v))) {
		ab_event_free(ev);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	*evs = v;
	v[(*n)++] = ev;
	return 0;
}

static int parse_lines(const char *body, size_t len, struct ab_event ***evs, size_t *n,
	char *err, size_t errsz, char *member, size_t membersz)
{
	size_t lineno = 0;

	for (size_t off = 0; off < len;) {
		const char *nl = memchr(body + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - body) : len, b = off, e = end;
		char where[32];
		json_error_t je;
		json_t *j;
		struct ab_event *ev;

		lineno++;
		off = end + 1;
		while (b < e && strchr(" \t\r", body[b]))
			b++;
		while (e > b && strchr(" \t\r", body[e - 1]))
			e--;
		if (b == e)
			continue;
		snprintf(where, sizeof where, "line %zu", lineno);
		if (!(j = json_loadb(body + b, e - b, JSON_REJECT_DUPLICATES, &je))) {
			snprintf(err, errsz, "%s: not valid JSON (column %d): %s", where, je.column,
				je.text);
			snprintf(member, membersz, "%s", where);
			return -1;
		}
		ev = one(j, where, err, errsz, member, membersz);
		json_decref(j);
		if (!ev)
			return -1;
		if (push(evs, n, ev, err, errsz) < 0) {
			snprintf(member, membersz, "%s", where);
			return -1;
		}
	}
	return 0;
}

int ab_http_parse_events(const char *body, size_t len, struct ab_event ***evs, size_t *n,
	char *err, size_t errsz, char *member, size_t membersz)
{
	json_error_t je;
	json_t *j;
	size_t lead = 0;
	int rc = 0;

	*evs = NULL;
	*n = 0;
	member[0] = '\0';
	while (lead < len && strchr(" \t\r\n", body[lead]))
		lead++;
	if (lead == len) {
		snprintf(err, errsz, "the body is empty: send one event (a JSON object), an array "
			"of them or JSON lines");
		return -1;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j && body[lead] == '{' && memchr(body + lead, '\n', len - lead)) {
		rc = parse_lines(body, len, evs, n, err, errsz, member, membersz);
		if (rc < 0 && *n == 0 && strcmp(member, "line 1") == 0 &&
		    strstr(err, "not valid JSON")) {   /* one object over several lines */
			snprintf(err, errsz, "not valid JSON (line %d, column %d): %s", je.line,
				je.column, je.text);
			member[0] = '\0';
		}
	} else if (!j) {
		snprintf(err, errsz, "not valid JSON (line %d, column %d): %s", je.line, je.column,
			je.text);
		rc = -1;
	} else if (json_is_array(j)) {
		size_t i;
		json_t *e;

		if (json_array_size(j) == 0) {
			snprintf(err, errsz, "the array is empty: nothing to take");
			rc = -1;
		}
		json_array_foreach(j, i, e) {
			char where[32];
			struct ab_event *ev;

			if (rc < 0)
				break;
			snprintf(where, sizeof where, "[%zu]", i);
			if (!(ev = one(e, where, err, errsz, member, membersz)) ||
			    push(evs, n, ev, err, errsz) < 0) {
				if (!member[0])
					snprintf(member, membersz, "%s", where);
				rc = -1;
			}
		}
	} else {
		struct ab_event *ev = one(j, "", err, errsz, member, membersz);

		rc = ev ? push(evs, n, ev, err, errsz) : -1;
	}
	json_decref(j);
	if (rc < 0) {
		ab_http_events_free(*evs, *n);
		*evs = NULL;
		*n = 0;
	}
	return rc;
}

void ab_http_take_events(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs, struct ab_event **evs, size_t n, struct ab_metric *m)
{
	struct ab_runtime *rt;
	char err[1024];
	json_t *ids;
	int rc;

	if (!(rt = ab_http_app_runtime(app))) {
		ab_http_events_free(evs, n);
		ab_http_error(rs, 503, NULL, "not started yet: try again");
		return;
	}
	rc = n ? ab_committer_submit_many(app->committer, rt->cfg, evs, n, err, sizeof err) : 0;
	ab_runtime_unref(rt);
	if (rc < 0) {
		ab_metric_add(m, "unavailable", NULL, n);
		ab_log(AB_LOG_ERR, "http: POST %s from %s: %zu event(s) not stored: %s", rq->path,
			rq->peer, n, err);
		ab_http_error(rs, 503, NULL, "%s: nothing was stored, send the request again later",
			rc == -2 ? "insufficient storage (the store's disk is below min_free_mb)" :
			err);
		rs->hdr_name = "Retry-After";
		rs->hdr_value = "30";
		ab_http_events_free(evs, n);
		return;
	}
	if (n && app->wake)
		app->wake(app->wake_arg);
	ab_metric_add(m, "accepted", NULL, n);
	ids = json_array();
	for (size_t i = 0; ids && i < n; i++)
		json_array_append_new(ids, json_string(evs[i]->id));
	if (n)
		ab_log(AB_LOG_INFO, "http: POST %s: %zu event(s) from %s queued (first %s)",
			rq->path, n, rq->peer, evs[0]->id);
	ab_http_events_free(evs, n);
	ab_http_json(rs, 202, ids ? json_pack("{s:I,s:o}", "accepted", (json_int_t)n, "ids", ids) :
		NULL);
}

void ab_http_post_events(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs)
{
	struct ab_event **evs = NULL;
	char err[1024], member[128];
	size_t n = 0;

	if (ab_http_parse_events(rq->body, rq->body_len, &evs, &n, err, sizeof err, member,
		sizeof member) < 0) {
		ab_metric_inc(&m_api_events, "rejected", NULL);
		ab_http_error(rs, 400, member[0] ? member : NULL, "%s", err);
		return;
	}
	ab_http_take_events(app, rq, rs, evs, n, &m_api_events);
}
