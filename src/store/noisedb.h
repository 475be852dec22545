/*
 * noisedb.h - the routing noise-control tables of the store (schema
 * version 2): throttle windows, groups, the items and counts of a group or
 * digest ("scope"), digests and reminders.  route/noise.c decides; these
 * calls read and write.
 *
 * Each call is one or a few statements on the store's connection: inside
 * an open batch (ab_store_begin) it joins that transaction, else each
 * statement commits alone.  Errors return -1 and leave "noise: WHAT:
 * sqlite message" for ab_store_errmsg().  Strings passed in are only read
 * during the call.
 */
#ifndef AB_NOISEDB_H
#define AB_NOISEDB_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* --- throttle: one window per (rule, key) */
/* 1 and the window's end and suppressed count, 0 when the key has none. */
int ab_noisedb_throttle_get(struct ab_store *s, const char *rule, const char *key,
	int64_t *window_end, int64_t *suppressed);
/* One more event suppressed inside the open window.  0 or -1. */
int ab_noisedb_throttle_suppress(struct ab_store *s, const char *rule, const char *key);
/* Open a new window until window_end, nothing suppressed yet.  0 or -1. */
int ab_noisedb_throttle_open(struct ab_store *s, const char *rule, const char *key,
	int64_t window_end);

/* --- groups: one row per (rule, key); due_at unset while nothing waits */
struct ab_noise_group {
	int64_t id;
	char *rule, *key, *group_by, *channels;  /* group_by, channels: JSON text */
	int64_t first_at, last_at, due_at, last_flush, count;
	bool has_due;            /* false: flushed, waiting for its next event */
};
/* Find by rule and key: 1 (id, due_at, has_due, last_flush, count set; no
 * strings), 0 none, -1 error. */
int ab_noisedb_group_find(struct ab_store *s, const char *rule, const char *key,
	struct ab_noise_group *g);
/* Load the whole row by id, strings copied (free with
 * ab_noisedb_group_clear): 1, 0 none, -1 error. */
int ab_noisedb_group_get(struct ab_store *s, int64_t id, struct ab_noise_group *g);
void ab_noisedb_group_clear(struct ab_noise_group *g);
/* A new, empty group due at due_at: its id, or -1. */
int64_t ab_noisedb_group_new(struct ab_store *s, const char *rule, const char *key,
	const char *group_by, const char *channels, int64_t now, int64_t due_at);
/* A flushed group gets its next first event: due at due_at again. */
int ab_noisedb_group_reopen(struct ab_store *s, int64_t id, int64_t due_at, int64_t first_at);
/* One more event joins: count + 1, last_at, the channels it goes to. */
int ab_noisedb_group_join(struct ab_store *s, int64_t id, int64_t now, const char *channels);
/* After a flush at now: nothing waits (due_at unset, count 0). */
int ab_noisedb_group_flushed(struct ab_store *s, int64_t id, int64_t now);
/* Ids of up to max groups due at now, earliest first: how many, or -1. */
int ab_noisedb_groups_due(struct ab_store *s, int64_t now, int64_t *ids, int max);
/* Forget groups that have waited for nothing since before cutoff. */
int ab_noisedb_groups_prune(struct ab_store *s, int64_t cutoff);

/* --- the items and counts of a scope ("g:ID" a group, "d:RULE" a digest) */
/* Keep the event's JSON; then at most cap items: the least severe (latest
 * first) goes. */
int ab_noisedb_item_add(struct ab_store *s, const char *scope, int severity, int64_t at,
	const char *json, int cap);
/* counts(scope, dim, name) + 1 (dim: "severity" or "type"). */
int ab_noisedb_count_inc(struct ab_store *s, const char *scope, const char *dim,
	const char *name);
/* Each count of scope (by dim, then highest first); cb returns non-zero
 * to stop.  0 or -1. */
typedef int (*ab_noisedb_count_cb)(const char *dim, const char *name, int64_t n, void *arg);
int ab_noisedb_scope_counts(struct ab_store *s, const char *scope, ab_noisedb_count_cb cb,
	void *arg);
/* The JSON of up to limit items of scope, most severe first. */
typedef int (*ab_noisedb_item_cb)(const char *json, void *arg);
int ab_noisedb_scope_items(struct ab_store *s, const char *scope, int limit,
	ab_noisedb_item_cb cb, void *arg);
/* Drop the items and counts of scope. */
int ab_noisedb_scope_clear(struct ab_store *s, const char *scope);

/* --- digests: one row per rule */
/* 1 and its period start and next send time, 0 when the rule has none. */
int ab_noisedb_digest_get(struct ab_store *s, const char *rule, int64_t *period_start,
	int64_t *next_at);
int ab_noisedb_digest_new(struct ab_store *s, const char *rule, int64_t period_start,
	int64_t next_at);
/* After a send: the next period. */
int ab_noisedb_digest_advance(struct ab_store *s, const char *rule, int64_t period_start,
	int64_t next_at);

/* --- reminders: one per (event id, rule, offset) */
struct ab_noise_reminder {
	int64_t id, offset_ms, fire_at;
	char *event_id, *rule, *channels, *json;   /* channels: JSON array text */
};
/* Schedule one (a reminder already scheduled is kept). */
int ab_noisedb_reminder_add(struct ab_store *s, const char *event_id, const char *rule,
	int64_t offset_ms, int64_t fire_at, const char *channels, const char *json);
/* Up to max reminders due at now, earliest first, copied into out (each
 * freed with ab_noisedb_reminder_clear): how many, or -1. */
int ab_noisedb_reminders_due(struct ab_store *s, int64_t now, struct ab_noise_reminder *out,
	int max);
void ab_noisedb_reminder_clear(struct ab_noise_reminder *r);
/* Mark one: 1 sent, 2 unusable (never retried). */
int ab_noisedb_reminder_done(struct ab_store *s, int64_t id, int done);

/* The earliest time a group, digest or reminder is due, or -1 (none, or an
 * error). */
int64_t ab_noisedb_next_due(struct ab_store *s);

#endif
