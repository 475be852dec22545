/*
 * inbox.c - the "inbox" channel plugin: stores each alert in the in-app
 * alert list (src/store/inboxdb.c, a SQLite file, linked in as the
 * convenience library src/libabinbox.la) that `alertbridge inbox` shows.
 * Works with no network at all.
 *
 * Settings:
 *   path       (string, required)  the inbox database file.  Declared as
 *              the plugin's first path setting: the host has made a
 *              relative path absolute against state_dir, and `alertbridge
 *              inbox` finds the database by it.
 *   max_items  (integer 1..10000000, default 10000)  after an add that
 *              takes the inbox over this size, the oldest READ items are
 *              removed first, then (only if still over) the oldest unread.
 *
 * Messages: an event or test event is one item (title from title, else
 * summary, else type); a group or digest ({"group": {...}, "items": [...],
 * "counts": {...}}) is one item titled by group.title (or digest.title) or
 * "N alerts", with the highest severity of its items.  The item key is the
 * message id, so a retried message is stored once (the duplicate is OK).
 * A message to people (its "recipients", ABI 1.4) goes into each person's
 * own list instead of the shared one; max_items holds per list.
 * Database errors are RETRY; a payload that is not an object, has no id or
 * is over 1 MiB as JSON is PERMANENT.  One SQLite connection per instance,
 * guarded by a mutex: send may be called from several threads.
 *
 * Public: alertbridge_plugin() (the only exported symbol).
 * Diagnostics: create() errors start with "setting 'NAME': "; results carry
 * the inbox database message; pruning is logged at info level.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"
#include "store/inboxdb.h"

#define INBOX_DEFAULT_MAX 10000
#define INBOX_MAX_MAX 10000000
#define INBOX_JSON_MAX ((size_t)1 << 20)
#define INBOX_ID_MAX 256
#define INBOX_TITLE_MAX 512
#define INBOX_WORD_MAX 128     /* severity, type */
#define INBOX_SCAN_MAX 10000   /* group items looked at for the severity */

struct inbox_inst {
	const struct ab_host *host;
	char *channel;
	char *path;
	int64_t max_items;
	struct ab_inbox *ib;
	pthread_mutex_t lock;
};

/* Copy at most dstsz-1 bytes without cutting a UTF-8 sequence; control
 * characters become spaces (titles are shown one per line). */
static void copy_text(char *dst, size_t dstsz, const char *src)
{
	size_t n = 0;

	if (!src)
		src = "";
	while (src[n] && n + 1 < dstsz)
		n++;
	if (src[n])  /* truncated: back off to a character boundary */
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

static const char *str_member(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

static const char *const sev_names[] = { "info", "low", "medium", "high", "critical" };

static int severity_rank(const char *s)
{
	for (int i = 0; s && i < (int)(sizeof sev_names / sizeof sev_names[0]); i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return -1;
}

static int dump_cb(const char *p, size_t n, void *arg)
{
	return ab_buf_append(arg, p, n);
}

/* Title, severity and type of a group or digest payload. */
static void describe_group(const json_t *payload, enum ab_msg_kind kind, char *title,
	size_t titlesz, char *sev, size_t sevsz, char *type, size_t typesz)
{
	const json_t *group = json_object_get(payload, "group");
	const json_t *digest = json_object_get(payload, "digest");
	const json_t *items = json_object_get(payload, "items");
	const char *t = str_member(group, "title");
	const char *s = str_member(group, "severity");
	const char *ty = str_member(group, "type");
	size_t n = json_array_size(items);
	int best = -1;

	if (!t)
		t = str_member(digest, "title");
	if (t) {
		copy_text(title, titlesz, t);
	} else {
		snprintf(title, titlesz, "%zu alert%s", n, n == 1 ? "" : "s");
	}
	if (!s || severity_rank(s) < 0) {
		for (size_t i = 0; i < n && i < INBOX_SCAN_MAX; i++) {
			int r = severity_rank(str_member(json_array_get(items, i), "severity"));

			if (r > best)
				best = r;
		}
		s = sev_names[best >= 0 ? best : 0];
	}
	copy_text(sev, sevsz, s);
	copy_text(type, typesz, ty ? ty : kind == AB_MSG_DIGEST ? "digest" : "group");
}

/* Add to owner's list ("" the shared one) and keep it under max_items;
 * with in->lock held.  1 added, 0 there already, -1 with m set.  *pruned
 * gets what pruning removed (-1 with m set when pruning failed). */
static int add_one(struct inbox_inst *in, const char *owner, const char *id, const char *sev,
	const char *type, const char *title, const char *json, int64_t now, int *pruned,
	char *m, size_t msz)
{
	int rc;

	if (ab_inbox_set_owner(in->ib, owner) < 0) {
		snprintf(m, msz, "recipient name '%.64s' is too long", owner);
		return -1;
	}
	rc = ab_inbox_add(in->ib, id, sev, type, title, json, now);
	if (rc < 0) {
		snprintf(m, msz, "%s", ab_inbox_errmsg(in->ib));
	} else if (rc == 1) {
		*pruned = ab_inbox_prune(in->ib, in->max_items);
		if (*pruned < 0)
			snprintf(m, msz, "%s", ab_inbox_errmsg(in->ib));
	}
	ab_inbox_set_owner(in->ib, "");
	return rc;
}

static void inbox_send(void *vinst, const struct ab_message *msg, struct ab_result *res)
{
	struct inbox_inst *in = vinst;
	struct ab_buf json = AB_BUF_INIT(INBOX_JSON_MAX);
	char title[INBOX_TITLE_MAX], sev[INBOX_WORD_MAX], type[INBOX_WORD_MAX];
	char m[AB_RESULT_MSG_MAX];
	const json_t *p, *people;
	const char *id;
	int64_t now;
	int rc, pruned = 0;

	if (!msg || !json_is_object(msg->payload)) {
		ab_result_set(res, AB_PERMANENT, 0, "payload is not a JSON object");
		return;
	}
	p = msg->payload;
	id = msg->id && *msg->id ? msg->id : str_member(p, "id");
	if (!id || strlen(id) > INBOX_ID_MAX) {
		ab_result_set(res, AB_PERMANENT, 0, id ? "message id is too long" :
			"message has no id");
		return;
	}
	if (msg->kind == AB_MSG_GROUP || msg->kind == AB_MSG_DIGEST) {
		describe_group(p, msg->kind, title, sizeof title, sev, sizeof sev, type,
			sizeof type);
	} else {
		const char *t = str_member(p, "title");

		if (!t)
			t = str_member(p, "summary");
		if (!t)
			t = str_member(p, "type");
		copy_text(title, sizeof title, t ? t : "alert");
		copy_text(sev, sizeof sev, str_member(p, "severity") ?
			str_member(p, "severity") : "info");
		copy_text(type, sizeof type, str_member(p, "type") ?
			str_member(p, "type") : "event.generic");
	}
	if (json_dump_callback(p, dump_cb, &json, JSON_SORT_KEYS | JSON_COMPACT) != 0) {
		ab_result_set(res, json.overflow && !json.oom ? AB_PERMANENT : AB_RETRY, 0,
			json.overflow && !json.oom ?
			"payload is larger than the 1 MiB inbox item limit" :
			"cannot serialise the payload (out of memory?)");
		ab_buf_free(&json);
		return;
	}
	now = in->host && in->host->now_ms ? in->host->now_ms(in->host) : 0;
	people = json_object_get(p, "recipients");
	pthread_mutex_lock(&in->lock);
	if (!people) {
		rc = add_one(in, "", id, sev, type, title, ab_buf_cstr(&json), now, &pruned, m,
			sizeof m);
	} else {
		/* each person's own list (plugin.h, "People") */
		size_t i;
		const json_t *who;

		rc = json_array_size(people) ? 0 : -1;
		if (rc < 0)
			snprintf(m, sizeof m, "the message names no people");
		json_array_foreach(people, i, who) {
			const char *name = str_member(who, "name");

			if (!name || (rc = add_one(in, name, id, sev, type, title, ab_buf_cstr(&json),
				now, &pruned, m, sizeof m)) < 0)
				break;
		}
		if (rc >= 0 && i < json_array_size(people)) {
			snprintf(m, sizeof m, "a recipient has no name");
			rc = -2;
		}
	}
	pthread_mutex_unlock(&in->lock);
	ab_buf_free(&json);
	if (rc < 0) {
		ab_result_set(res, rc == -2 || (people && !json_array_size(people)) ? AB_PERMANENT :
			AB_RETRY, 0, m);
		return;
	}
	if (pruned < 0 && in->host && in->host->log)
		in->host->log(in->host, AB_LOG_WARNING, "channel %s: cannot prune the inbox: %s",
			in->channel, m);
	else if (pruned > 0 && in->host && in->host->log)
		in->host->log(in->host, AB_LOG_INFO, "channel %s: inbox over %lld items: "
			"removed the %d oldest", in->channel, (long long)in->max_items, pruned);
	ab_result_set(res, AB_OK, 0, rc == 1 ? "added to the inbox" : "already in the inbox");
}

static void inbox_test(void *vinst, struct ab_result *res)
{
	struct inbox_inst *in = vinst;
	char err[AB_RESULT_MSG_MAX], m[AB_RESULT_MSG_MAX];
	/* A second connection: opening takes the write lock (BEGIN IMMEDIATE),
	 * which proves the file is writable, and changes nothing. */
	struct ab_inbox *ib = ab_inbox_open(in->path, err, sizeof err);

	if (!ib) {
		ab_result_set(res, AB_PERMANENT, 0, err);
		return;
	}
	ab_inbox_close(ib);
	snprintf(m, sizeof m, "inbox at %.200s is writable", in->path);
	ab_result_set(res, AB_OK, 0, m);
}

static void inbox_destroy(void *vinst)
{
	struct inbox_inst *in = vinst;

	if (!in)
		return;
	ab_inbox_close(in->ib);
	pthread_mutex_destroy(&in->lock);
	free(in->channel);
	free(in->path);
	free(in);
}

static void *inbox_create(const struct ab_host *host, const char *channel,
	const json_t *config, char *err, size_t errsz)
{
	struct inbox_inst *in;
	const char *key, *path = NULL;
	json_t *val;
	int64_t max_items = INBOX_DEFAULT_MAX;
	char oerr[512];

	if (config && !json_is_object(config)) {
		snprintf(err, errsz, "setting 'path': the inbox channel needs its settings");
		return NULL;
	}
	json_object_foreach((json_t *)config, key, val) {
		if (strcmp(key, "path") == 0) {
			if (!json_is_string(val) || json_string_length(val) == 0 ||
			    json_string_length(val) > 4096 ||
			    strlen(json_string_value(val)) != json_string_length(val)) {
				snprintf(err, errsz, "setting 'path': must be a non-empty file name");
				return NULL;
			}
			path = json_string_value(val);
		} else if (strcmp(key, "max_items") == 0) {
			if (!json_is_integer(val) || json_integer_value(val) < 1 ||
			    json_integer_value(val) > INBOX_MAX_MAX) {
				snprintf(err, errsz, "setting 'max_items': must be an integer from 1 "
					"to %d", INBOX_MAX_MAX);
				return NULL;
			}
			max_items = json_integer_value(val);
		} else {
			snprintf(err, errsz, "setting '%.64s': unknown setting for the inbox channel "
				"(known: path, max_items)", key);
			return NULL;
		}
	}
	if (!path) {
		snprintf(err, errsz, "setting 'path': required for the inbox channel");
		return NULL;
	}
	in = calloc(1, sizeof *in);
	if (!in) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&in->lock, NULL) != 0) {
		free(in);
		snprintf(err, errsz, "cannot create a mutex");
		return NULL;
	}
	in->host = host;
	in->max_items = max_items;
	in->path = strdup(path);
	in->channel = strdup(channel ? channel : "inbox");
	if (!in->path || !in->channel) {
		inbox_destroy(in);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	in->ib = ab_inbox_open(path, oerr, sizeof oerr);
	if (!in->ib) {
		snprintf(err, errsz, "setting 'path': %s", oerr);
		inbox_destroy(in);
		return NULL;
	}
	return in;
}

/* path first: the data file `alertbridge inbox` opens (ab_plugin.path_settings). */
static const char *const inbox_path_settings[] = { "path", NULL };

static const struct ab_plugin inbox_plugin = {
	.abi = AB_PLUGIN_ABI,
	.size = sizeof(struct ab_plugin),
	.name = "inbox",
	.description = "keep alerts in the in-app alert list (alertbridge inbox)",
	.create = inbox_create,
	.send = inbox_send,
	.test = inbox_test,
	.flush = NULL,
	.destroy = inbox_destroy,
	.path_settings = inbox_path_settings,
	.check = NULL,
	.http_prepare = NULL,
	.http_result = NULL,
	.flags = AB_PLUGIN_F_RECIPIENTS,
};

const struct ab_plugin *alertbridge_plugin(void);

const struct ab_plugin *alertbridge_plugin(void)
{
	return &inbox_plugin;
}
