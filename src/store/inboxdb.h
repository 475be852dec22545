/*
 * inboxdb.h - the in-app alert list (the "inbox" channel): a SQLite file of
 * alerts with read/unread state.  Linked into the inbox plugin (which
 * writes it) as the convenience library src/libabinbox.la, and into the
 * alertbridge tool (which lists and manages it) with libalertbridge.
 *
 * Reading an alert marks it read; it never removes it.  Removing is
 * explicit (selected ids, or clear all).  Each owner has a list of their
 * own ("" the shared list, a user name that user's personal list); a
 * handle works on its owner's list only (ab_inbox_set_owner).
 */
#ifndef AB_INBOXDB_H
#define AB_INBOXDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ab_inbox;

#define AB_INBOX_OWNER_MAX 64   /* bytes of an owner name (a user name) */

struct ab_inbox_item {
	int64_t id;            /* inbox row id: what the operator types */
	const char *event_id;
	const char *severity;
	const char *type;
	const char *title;
	const char *json;      /* full payload JSON */
	int64_t created_at;    /* ms since epoch */
	bool read;
};

struct ab_inbox *ab_inbox_open(const char *path, char *err, size_t errsz);
void ab_inbox_close(struct ab_inbox *ib);
/* Add one alert; an event id already in the inbox is not added twice.
 * Returns 1 added, 0 duplicate, -1 error. */
int ab_inbox_add(struct ab_inbox *ib, const char *event_id, const char *severity,
	const char *type, const char *title, const char *json, int64_t now);
typedef int (*ab_inbox_cb)(const struct ab_inbox_item *it, void *arg);
/* Newest first; unread_only filters.  Returns 0 or -1. */
int ab_inbox_list(struct ab_inbox *ib, bool unread_only, ab_inbox_cb cb, void *arg);
/* Fetch one item and mark it read: 1 found, 0 not found, -1 error. */
int ab_inbox_read(struct ab_inbox *ib, int64_t id, ab_inbox_cb cb, void *arg);
int ab_inbox_mark_read(struct ab_inbox *ib, int64_t id);   /* 1/0/-1 */
/* Remove the given ids; returns the number removed or -1. */
int ab_inbox_remove(struct ab_inbox *ib, const int64_t *ids, size_t n);
int ab_inbox_clear(struct ab_inbox *ib);                   /* removed count or -1 */
int64_t ab_inbox_unread(struct ab_inbox *ib);              /* -1 on error */
int64_t ab_inbox_total(struct ab_inbox *ib);
/* Keep at most max_items: remove the oldest read items first, then the
 * oldest unread ones.  Returns the number removed or -1. */
int ab_inbox_prune(struct ab_inbox *ib, int64_t max_items);
/* Work on owner's list from now on (NULL or "": the shared list); -1 when
 * the name is longer than AB_INBOX_OWNER_MAX. */
int ab_inbox_set_owner(struct ab_inbox *ib, const char *owner);
/* Every owner with items, by name: items and unread counts.  A non-zero
 * return from cb stops.  Returns 0 or -1. */
typedef int (*ab_inbox_owner_cb)(const char *owner, int64_t total, int64_t unread, void *arg);
int ab_inbox_owners(struct ab_inbox *ib, ab_inbox_owner_cb cb, void *arg);
/* The message of the last failed call (never NULL). */
const char *ab_inbox_errmsg(struct ab_inbox *ib);

#endif
