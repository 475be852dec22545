/*
 * alertmanager.c - POST /api/v1/alertmanager (alertmanager.h): the
 * Prometheus Alertmanager webhook receiver.  Each alert of a notification
 * (payload version 4) becomes one event, committed with its jobs before
 * the 202 (events.c's ab_http_take_events), routed like any other.
 *
 * Public: ab_http_parse_alertmanager, ab_http_post_alertmanager.
 *
 * The mapping (doc/alertbridge.conf.5, README "Alertmanager"):
 *   type         alert.firing / alert.resolved (the alert's own status)
 *   title        "ALERTNAME: SUMMARY" (labels.alertname, annotations.summary;
 *                either alone when the other is missing), "[RESOLVED] ..."
 *                for a resolved alert, as Alertmanager's own subjects
 *   summary      annotations.description
 *   severity     labels.severity in the usual words (critical, warning,
 *                info, ...); "page" is critical, "none" info; missing or
 *                unknown: medium (the word is kept in fields.severity_label)
 *   url          generatorURL;  fingerprint  fingerprint
 *   asset        labels.instance;  team  labels.team
 *   occurred_at  startsAt (endsAt for a resolved alert)
 *   (status      not set: the member is a finding's workflow status, and
 *                rules take only the active ones; the type says it, and
 *                fields.status keeps Alertmanager's word)
 *   fields       labels, annotations, receiver, group_key, external_url
 *   tool "alertmanager", source "monitoring", category "system",
 *   origin.kind "alertmanager".
 * The id is a hash of the fingerprint (or the sorted labels), the status
 * and the start (and end) time: Alertmanager sending the same notification
 * again (its retries, its repeat_interval) makes no second event.
 *
 * Values from the payload are cleaned to UTF-8 and cut to the event's
 * limits, never refused for their length: a refused notification would be
 * sent again by Alertmanager forever.  A payload that is not Alertmanager's
 * (not an object, no alerts array, another version, a bad status) is 400
 * with the member to blame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "lib/buf.h"
#include "lib/metrics.h"
#include "lib/utf8.h"
#include "lib/util.h"
#include "http/alertmanager.h"
#include "http/events.h"

static AB_METRIC_COUNTER(m_am_alerts, "alertbridge_http_alertmanager_alerts_total",
	"Alerts taken by POST /api/v1/alertmanager, by result (accepted, rejected: not an "
	"Alertmanager payload, unavailable: not stored).", "result", NULL);

/* member = v cleaned to UTF-8 and cut to max bytes; "" and NULL leave it. */
static int put(struct ab_event *ev, char **member, const char *v, size_t max, bool single_line)
{
	struct ab_buf b;

	if (!v || !*v)
		return 0;
	ab_buf_init(&b, max);
	if (ab_utf8_clean(&b, v, strlen(v), single_line) < 0 && b.oom) {
		ab_buf_free(&b);
		return -1;
	}
	ab_event_take_str(ev, member, ab_buf_steal(&b));
	return *member ? 0 : -1;
}

static const char *str_at(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A labels or annotations object: absent is {}; every value a string. */
static int string_map(const json_t *alert, const char *key, const char *where, char *err,
	size_t errsz, char *member, size_t membersz)
{
	const json_t *m = json_object_get(alert, key), *v;
	const char *k;

	if (!m)
		return 0;
	if (!json_is_object(m)) {
		snprintf(err, errsz, "%s.%s: an object of strings", where, key);
		snprintf(member, membersz, "%s.%s", where, key);
		return -1;
	}
	json_object_foreach((json_t *)m, k, v) {
		if (!json_is_string(v)) {
			snprintf(err, errsz, "%s.%s: the value of '%.64s' is not a string", where, key,
				k);
			snprintf(member, membersz, "%s.%s", where, key);
			return -1;
		}
	}
	return 0;
}

static enum ab_severity severity_of(const char *label)
{
	enum ab_severity s;

	if (!label)
		return AB_SEV_MEDIUM;
	if (!strcasecmp(label, "page"))
		return AB_SEV_CRITICAL;
	if (!strcasecmp(label, "none"))
		return AB_SEV_INFO;
	return ab_severity_parse(label, &s) == 0 ? s : AB_SEV_MEDIUM;
}

/* RFC 3339 time, or 0 (unset; Alertmanager's "0001-01-01T00:00:00Z" too). */
static int64_t time_of(const char *s)
{
	int64_t ms;

	return s && ab_time_parse_rfc3339(s, &ms) == 0 && ms > 0 ? ms : 0;
}

/* The event of one alert; -1 on memory. */
static int fill(struct ab_event *ev, const json_t *root, const json_t *alert, bool resolved)
{
	const json_t *labels = json_object_get(alert, "labels");
	const json_t *ann = json_object_get(alert, "annotations");
	const char *name = str_at(labels, "alertname"), *sum = str_at(ann, "summary");
	const char *sev = str_at(labels, "severity"), *fp = str_at(alert, "fingerprint");
	const char *starts = str_at(alert, "startsAt"), *ends = str_at(alert, "endsAt");
	const char *head = name && *name ? name : sum && *sum ? sum : "Alertmanager alert";
	const char *idparts[5];
	size_t idlens[5];
	char *lab = NULL;
	struct ab_buf title;
	int rc = 0;

	ab_buf_init(&title, AB_EVENT_TITLE_MAX);
	if (resolved)   /* Alertmanager's own mark: every channel shows it */
		ab_buf_puts(&title, "[RESOLVED] ");
	ab_buf_append_trunc(&title, head, strlen(head));
	if (head == name && sum && *sum) {
		ab_buf_append_trunc(&title, ": ", 2);
		ab_buf_append_trunc(&title, sum, strlen(sum));
	}
	rc |= put(ev, &ev->type, resolved ? "alert.resolved" : "alert.firing", AB_EVENT_STR_MAX,
		  true);
	rc |= put(ev, &ev->title, ab_buf_cstr(&title), AB_EVENT_TITLE_MAX, true);
	ab_buf_free(&title);
	rc |= put(ev, &ev->summary, str_at(ann, "description"), AB_EVENT_SUMMARY_MAX, false);
	rc |= put(ev, &ev->url, str_at(alert, "generatorURL"), AB_EVENT_URL_MAX, true);
	rc |= put(ev, &ev->fingerprint, fp, AB_EVENT_STR_MAX, true);
	rc |= put(ev, &ev->asset, str_at(labels, "instance"), AB_EVENT_STR_MAX, true);
	rc |= put(ev, &ev->team, str_at(labels, "team"), AB_EVENT_STR_MAX, true);
	rc |= put(ev, &ev->tool, "alertmanager", AB_EVENT_STR_MAX, true);
	rc |= put(ev, &ev->source, "monitoring", AB_EVENT_STR_MAX, true);
	rc |= put(ev, &ev->origin.kind, "alertmanager", AB_EVENT_STR_MAX, true);
	ev->category = AB_CAT_SYSTEM;
	ev->severity = severity_of(sev);
	ev->occurred_at = resolved && time_of(ends) ? time_of(ends) : time_of(starts);

	/* copies: the payload is freed while the committer still reads them */
	json_object_set_new(ev->fields, "labels", labels ? json_deep_copy(labels) : json_object());
	json_object_set_new(ev->fields, "annotations", ann ? json_deep_copy(ann) : json_object());
	json_object_set_new(ev->fields, "status", json_string(resolved ? "resolved" : "firing"));
	if (sev)
		json_object_set_new(ev->fields, "severity_label", json_string(sev));
	if (str_at(root, "receiver"))
		json_object_set_new(ev->fields, "receiver", json_string(str_at(root, "receiver")));
	if (str_at(root, "groupKey"))
		json_object_set_new(ev->fields, "group_key", json_string(str_at(root, "groupKey")));
	if (str_at(root, "externalURL"))
		json_object_set_new(ev->fields, "external_url",
			json_string(str_at(root, "externalURL")));

	/* the id: the same notification sent again is the same event */
	if (!fp || !*fp)
		lab = json_dumps(json_object_get(ev->fields, "labels"), JSON_SORT_KEYS | JSON_COMPACT);
	idparts[0] = fp && *fp ? fp : lab ? lab : "";
	idparts[1] = resolved ? "\x1fresolved\x1f" : "\x1f" "firing\x1f";
	idparts[2] = starts ? starts : "";
	idparts[3] = "\x1f";
	idparts[4] = resolved && ends ? ends : "";
	for (size_t i = 0; i < 5; i++)
		idlens[i] = strlen(idparts[i]);
	ab_event_compute_idv(ev, (const void *const *)idparts, idlens, 5);
	free(lab);
	return rc ? -1 : 0;
}

int ab_http_parse_alertmanager(const char *body, size_t len, struct ab_event ***evs, size_t *n,
	char *err, size_t errsz, char *member, size_t membersz)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je), *alerts, *a;
	const json_t *ver;
	struct ab_event **v = NULL;
	size_t i, count = 0;
	int rc = -1;

	*evs = NULL;
	*n = 0;
	member[0] = '\0';
	if (!root) {
		snprintf(err, errsz, "not valid JSON (line %d, column %d): %s", je.line, je.column,
			je.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errsz, "an Alertmanager webhook payload is a JSON object");
		goto out;
	}
	ver = json_object_get(root, "version");
	if (ver && !(json_is_string(ver) && !strcmp(json_string_value(ver), "4"))) {
		snprintf(err, errsz, "payload version 4 is taken (Alertmanager 0.16 and later); "
			"this one is not");
		snprintf(member, membersz, "version");
		goto out;
	}
	alerts = json_object_get(root, "alerts");
	if (!json_is_array(alerts)) {
		snprintf(err, errsz, "no 'alerts' array: not an Alertmanager webhook payload");
		snprintf(member, membersz, "alerts");
		goto out;
	}
	if (json_array_size(alerts) > AB_HTTP_MAX_AM_ALERTS) {
		snprintf(err, errsz, "%zu alerts in one notification, more than %d: set the "
			"receiver's max_alerts below it", json_array_size(alerts),
			AB_HTTP_MAX_AM_ALERTS);
		snprintf(member, membersz, "alerts");
		goto out;
	}
	if (json_array_size(alerts) &&
	    !(v = calloc(json_array_size(alerts), sizeof *v))) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	json_array_foreach(alerts, i, a) {
		char where[32];
		const char *st;

		snprintf(where, sizeof where, "alerts[%zu]", i);
		if (!json_is_object(a)) {
			snprintf(err, errsz, "%s: an alert is a JSON object", where);
			snprintf(member, membersz, "%s", where);
			goto out;
		}
		st = str_at(a, "status");
		if (!st)
			st = str_at(root, "status");
		if (!st || (strcmp(st, "firing") && strcmp(st, "resolved"))) {
			snprintf(err, errsz, "%s.status: \"firing\" or \"resolved\"", where);
			snprintf(member, membersz, "%s.status", where);
			goto out;
		}
		if (string_map(a, "labels", where, err, errsz, member, membersz) < 0 ||
		    string_map(a, "annotations", where, err, errsz, member, membersz) < 0)
			goto out;
		if (!(v[count] = ab_event_new()) ||
		    (count++, fill(v[count - 1], root, a, !strcmp(st, "resolved")) < 0)) {
			snprintf(err, errsz, "out of memory");
			goto out;
		}
	}
	*evs = v;
	*n = count;
	v = NULL;
	rc = 0;
out:
	ab_http_events_free(v, count);
	json_decref(root);
	return rc;
}

void ab_http_post_alertmanager(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs)
{
	struct ab_event **evs = NULL;
	char err[1024], member[128];
	size_t n = 0;

	if (ab_http_parse_alertmanager(rq->body, rq->body_len, &evs, &n, err, sizeof err, member,
		sizeof member) < 0) {
		ab_metric_inc(&m_am_alerts, "rejected", NULL);
		ab_http_error(rs, 400, member[0] ? member : NULL, "%s", err);
		return;
	}
	ab_http_take_events(app, rq, rs, evs, n, &m_am_alerts);
}
