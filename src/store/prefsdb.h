/*
 * prefsdb.h - people's preferences in the store (schema version 4, see
 * store.c): one row per (user, event type pattern, delivery kind), on or
 * off, changed at runtime (`alertbridge prefs`) and read by routing
 * (route/people.c) without a reload.
 *
 * A reader keeps a snapshot of the whole table per connection and reads it
 * again only when the table's change counter (prefs_gen, kept by triggers)
 * moved: one one-row query per event otherwise.
 */
#ifndef AB_PREFSDB_H
#define AB_PREFSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define AB_PREF_PATTERN_MAX 128   /* bytes of an event type glob */

struct ab_pref {
	char *user;
	char *pattern;     /* event type glob ("finding.*", "scan.completed", "*") */
	char *kind;        /* delivery kind: "email", "inbox", "chat" or "*" */
	bool on;
	int64_t set_at;    /* ms since the epoch */
};

struct ab_prefs {
	struct ab_pref *rows;   /* by user, then pattern, then kind */
	size_t n;
	int64_t gen;            /* the change counter this snapshot was read at */
};

/* Set (insert or replace) one preference.  0 or -1. */
int ab_prefs_set(struct ab_store *s, const char *user, const char *pattern, const char *kind,
	bool on, int64_t now);
/* Remove one preference (kind NULL: every kind of pattern); user's all
 * with pattern NULL.  The rows removed, or -1. */
int ab_prefs_unset(struct ab_store *s, const char *user, const char *pattern, const char *kind);
/* The table as it is now: re-read only when it changed since this
 * connection last read it.  Borrowed, valid until the next call on this
 * connection or its close; NULL on error (ab_store_errmsg says why). */
const struct ab_prefs *ab_prefs_current(struct ab_store *s);

#endif
