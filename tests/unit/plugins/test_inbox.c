/*
 * test_inbox.c - unit tests for the inbox database (src/store/inboxdb.c) and the
 * inbox channel plugin (plugins/inbox/inbox.c, linked in directly and
 * reached through alertbridge_plugin() with the mock host).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <alertbridge/plugin.h>
#include "lib/buf.h"
#include "store/inboxdb.h"
#include "../harness/mockhost.h"

const struct ab_plugin *alertbridge_plugin(void);

struct fixture {
	char dir[64];
	char path[128];
	struct ab_inbox *ib;
	struct mock_host mh;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[512];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/ab_inbox_XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/inbox.db", f->dir);
	f->ib = ab_inbox_open(f->path, err, sizeof err);
	if (!f->ib) {
		fprintf(stderr, "%s\n", err);
		free(f);
		return -1;
	}
	mock_host_init(&f->mh);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

	ab_inbox_close(f->ib);
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ------------------------------------------------------------ inboxdb */

struct seen {
	int n;
	int64_t id[16];
	char event_id[16][40];
	char title[16][600];
	char severity[16][32];
	char type[16][64];
	char json[16][512];
	bool read[16];
};

static int collect(const struct ab_inbox_item *it, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->id[s->n] = it->id;
		ab_strlcpy(s->event_id[s->n], it->event_id, sizeof s->event_id[0]);
		ab_strlcpy(s->title[s->n], it->title, sizeof s->title[0]);
		ab_strlcpy(s->severity[s->n], it->severity, sizeof s->severity[0]);
		ab_strlcpy(s->type[s->n], it->type, sizeof s->type[0]);
		ab_strlcpy(s->json[s->n], it->json, sizeof s->json[0]);
		s->read[s->n] = it->read;
	}
	s->n++;
	return 0;
}

static void add_n(struct ab_inbox *ib, int n)
{
	char id[16], title[32];

	for (int i = 1; i <= n; i++) {
		snprintf(id, sizeof id, "e%d", i);
		snprintf(title, sizeof title, "alert %d", i);
		assert_int_equal(ab_inbox_add(ib, id, "high", "finding.created", title, "{}",
			1000 + i), 1);
	}
}

static void test_db_mode_and_version(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	sqlite3 *db;
	char err[512] = "";

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 5", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(ab_inbox_open(f->path, err, sizeof err));
	assert_non_null(strstr(err, "schema version 5 is newer"));
	assert_null(ab_inbox_open("/nonexistent-dir/inbox.db", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent-dir/inbox.db"));
}

static int count_owner(const char *owner, int64_t total, int64_t unread, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "[%s %lld %lld]", owner, (long long)total, (long long)unread);
	return 0;
}

/* Personal lists: the same event in two users' lists and the shared one;
 * read, remove and clear act on the handle's owner only; another owner's
 * id is not found. */
static void test_db_owners(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	char owners[256] = "";
	int64_t bob_id;

	add_n(f->ib, 2);                                     /* shared: e1 e2 */
	assert_int_equal(ab_inbox_set_owner(f->ib, "alice"), 0);
	add_n(f->ib, 3);                                     /* alice: e1 e2 e3 */
	assert_int_equal(ab_inbox_set_owner(f->ib, "bob"), 0);
	add_n(f->ib, 1);                                     /* bob: e1 */
	assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
	assert_int_equal(s.n, 1);
	bob_id = s.id[0];
	assert_int_equal(ab_inbox_total(f->ib), 1);
	/* alice reads, removes, clears: bob's list and the shared one stay */
	assert_int_equal(ab_inbox_set_owner(f->ib, "alice"), 0);
	assert_int_equal(ab_inbox_unread(f->ib), 3);
	assert_int_equal(ab_inbox_read(f->ib, bob_id, NULL, NULL), 0);     /* not hers */
	assert_int_equal(ab_inbox_remove(f->ib, &bob_id, 1), 0);
	assert_int_equal(ab_inbox_mark_read(f->ib, bob_id), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
	assert_int_equal(ab_inbox_read(f->ib, s.id[0], NULL, NULL), 1);
	assert_int_equal(ab_inbox_unread(f->ib), 2);
	assert_int_equal(ab_inbox_total(f->ib), 3);
	assert_int_equal(ab_inbox_remove(f->ib, &s.id[1], 1), 1);
	assert_int_equal(ab_inbox_prune(f->ib, 1), 1);
	assert_int_equal(ab_inbox_total(f->ib), 1);
	assert_int_equal(ab_inbox_owners(f->ib, count_owner, owners), 0);
	assert_string_equal(owners, "[ 2 2][alice 1 1][bob 1 1]");   /* the read one went */
	assert_int_equal(ab_inbox_clear(f->ib), 1);
	assert_int_equal(ab_inbox_set_owner(f->ib, "bob"), 0);
	assert_int_equal(ab_inbox_unread(f->ib), 1);
	assert_int_equal(ab_inbox_set_owner(f->ib, NULL), 0);
	assert_int_equal(ab_inbox_total(f->ib), 2);
	{
		char big[AB_INBOX_OWNER_MAX + 2];

		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		assert_int_equal(ab_inbox_set_owner(f->ib, big), -1);
	}
}

/* An inbox of version 1 (no owners) opens as version 2: its items are the
 * shared list's, ids kept, and new ids never reuse old ones. */
static void test_db_migrate_v1(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512] = "";
	struct seen s = { 0 };
	struct ab_inbox *ib;
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/v1.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT,"
		" event_id TEXT NOT NULL UNIQUE, severity TEXT, type TEXT, title TEXT,"
		" json TEXT NOT NULL, created_at INTEGER NOT NULL, read INTEGER NOT NULL DEFAULT 0);"
		"CREATE INDEX items_read ON items(read, id);"
		"INSERT INTO items(id, event_id, json, created_at, read) VALUES(7, 'old', '{}', 1, 1);"
		"PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ib = ab_inbox_open(path, err, sizeof err);
	assert_non_null(ib);
	assert_int_equal(ab_inbox_total(ib), 1);
	assert_int_equal(ab_inbox_add(ib, "new", "low", "x", "t", "{}", 2), 1);
	assert_int_equal(ab_inbox_list(ib, false, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.event_id[1], "old");
	assert_int_equal(s.id[1], 7);
	assert_true(s.id[0] > 7);
	ab_inbox_close(ib);
}

static void test_db_add_dup_list(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };

	add_n(f->ib, 3);
	assert_int_equal(ab_inbox_add(f->ib, "e2", "low", "x", "again", "{}", 5000), 0);
	assert_int_equal(ab_inbox_add(f->ib, NULL, "low", "x", "t", "{}", 5000), -1);
	assert_int_equal(ab_inbox_total(f->ib), 3);
	assert_int_equal(ab_inbox_unread(f->ib), 3);
	assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
	assert_int_equal(s.n, 3);
	/* newest first, duplicate did not overwrite */
	assert_string_equal(s.event_id[0], "e3");
	assert_string_equal(s.event_id[1], "e2");
	assert_string_equal(s.title[1], "alert 2");
	assert_string_equal(s.severity[1], "high");
	assert_string_equal(s.event_id[2], "e1");
}

static void test_db_read_marks_read(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	int64_t id;

	add_n(f->ib, 3);
	assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
	id = s.id[1];
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_inbox_read(f->ib, id, collect, &s), 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.event_id[0], "e2");
	assert_false(s.read[0]);           /* it was new */
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_inbox_read(f->ib, id, collect, &s), 1);
	assert_true(s.read[0]);            /* now it is read, and still there */
	assert_int_equal(ab_inbox_total(f->ib), 3);
	assert_int_equal(ab_inbox_unread(f->ib), 2);
	assert_int_equal(ab_inbox_read(f->ib, 424242, collect, &s), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_inbox_list(f->ib, true, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.event_id[0], "e3");
	assert_string_equal(s.event_id[1], "e1");
	assert_int_equal(ab_inbox_mark_read(f->ib, s.id[0]), 1);
	assert_int_equal(ab_inbox_mark_read(f->ib, 424242), 0);
	assert_int_equal(ab_inbox_unread(f->ib), 1);
}

static void test_db_remove_clear(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	int64_t ids[3];

	add_n(f->ib, 4);
	assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
	ids[0] = s.id[0];
	ids[1] = s.id[2];
	ids[2] = 999999;           /* unknown ids are ignored */
	assert_int_equal(ab_inbox_remove(f->ib, ids, 3), 2);
	assert_int_equal(ab_inbox_remove(f->ib, ids, 3), 0);
	assert_int_equal(ab_inbox_total(f->ib), 2);
	assert_int_equal(ab_inbox_clear(f->ib), 2);
	assert_int_equal(ab_inbox_total(f->ib), 0);
	/* ids are never reused after a clear */
	assert_int_equal(ab_inbox_add(f->ib, "new", "info", "t", "t", "{}", 1), 1);
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
	assert_true(s.id[0] > ids[0]);
}

static void test_db_prune_read_first(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	/* items e1..e6 (ids 1..6); e2 and e5 are read */
	static const struct {
		int64_t max;
		int removed;
		const char *left;  /* event ids, oldest first */
	} steps[] = {
		{ 10, 0, "e1 e2 e3 e4 e5 e6" },
		{ 5, 1, "e1 e3 e4 e5 e6" },     /* oldest read: e2 */
		{ 4, 1, "e1 e3 e4 e6" },        /* then e5 */
		{ 2, 2, "e4 e6" },              /* no read left: oldest unread */
	};
	char left[128];

	add_n(f->ib, 6);
	assert_int_equal(ab_inbox_mark_read(f->ib, 2), 1);
	assert_int_equal(ab_inbox_mark_read(f->ib, 5), 1);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		assert_int_equal(ab_inbox_prune(f->ib, steps[i].max), steps[i].removed);
		memset(&s, 0, sizeof s);
		assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
		left[0] = '\0';
		for (int k = s.n - 1; k >= 0; k--) {
			size_t l = strlen(left);

			snprintf(left + l, sizeof left - l, "%s%s", l ? " " : "", s.event_id[k]);
		}
		assert_string_equal(left, steps[i].left);
	}
}

/* ------------------------------------------------------------ the plugin */

static void *create(struct fixture *f, const char *cfgtext, char *err, size_t errsz)
{
	const struct ab_plugin *p = alertbridge_plugin();
	json_error_t je;
	json_t *cfg = json_loads(cfgtext, 0, &je);
	void *inst;

	assert_non_null(cfg);
	inst = p->create(&f->mh.host, "alerts", cfg, err, errsz);
	json_decref(cfg);
	return inst;
}

static void *create_ok(struct fixture *f, const char *extra)
{
	char cfg[512], err[512] = "";
	void *inst;

	snprintf(cfg, sizeof cfg, "{\"path\": \"%s\"%s}", f->path, extra);
	inst = create(f, cfg, err, sizeof err);
	if (!inst)
		fprintf(stderr, "create: %s\n", err);
	assert_non_null(inst);
	return inst;
}

static struct ab_result send_json(void *inst, enum ab_msg_kind kind, const char *id,
	const char *payload)
{
	const struct ab_plugin *p = alertbridge_plugin();
	struct ab_result r;
	json_error_t je;
	json_t *j = json_loads(payload, JSON_DECODE_ANY, &je);
	struct ab_message m = { .kind = kind, .attempt = 1, .payload = j,
		.id = id };

	assert_non_null(j);
	memset(&r, 0x55, sizeof r);
	p->send(inst, &m, &r);
	json_decref(j);
	return r;
}

static void test_plugin_struct(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();

	(void)state;
	assert_int_equal(p->abi, AB_PLUGIN_ABI);
	assert_int_equal(p->size, sizeof(struct ab_plugin));
	assert_string_equal(p->name, "inbox");
	assert_non_null(p->description);
	assert_non_null(p->create);
	assert_non_null(p->send);
	assert_non_null(p->test);
	assert_non_null(p->destroy);
	/* ABI 1.2: path is the one file setting (made absolute by the host);
	 * no rate limit, nothing to check beyond create() */
	assert_non_null(p->path_settings);
	assert_string_equal(p->path_settings[0], "path");
	assert_null(p->path_settings[1]);
	assert_true(p->default_rate == 0);
	assert_null(p->check);
}

static void test_plugin_bad_settings(void **state)
{
	struct fixture *f = *state;
	static const struct { const char *cfg, *want; } cases[] = {
		{ "{}", "setting 'path': required" },
		{ "{\"path\": 5}", "setting 'path': " },
		{ "{\"path\": \"\"}", "setting 'path': " },
		{ "{\"path\": \"/tmp/x.db\", \"color\": \"red\"}",
		  "setting 'color': unknown setting for the inbox channel" },
		{ "{\"path\": \"/tmp/x.db\", \"max_items\": 0}", "setting 'max_items': " },
		{ "{\"path\": \"/tmp/x.db\", \"max_items\": \"10\"}", "setting 'max_items': " },
		{ "{\"path\": \"/nonexistent-dir/inbox.db\"}", "setting 'path': inbox " },
		{ "[]", "setting 'path': " },
	};
	char err[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		assert_null(create(f, cases[i].cfg, err, sizeof err));
		if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i, err, cases[i].want);
	}
}

static void test_plugin_event(void **state)
{
	struct fixture *f = *state;
	void *inst = create_ok(f, "");
	static const char ev[] = "{\"title\":\"SQL injection\\nin /login\",\"severity\":\"high\","
		"\"type\":\"finding.created\",\"id\":\"abc\",\"asset\":\"api\"}";
	struct ab_result r;
	struct seen s = { 0 };

	r = send_json(inst, AB_MSG_EVENT, "abc", ev);
	assert_int_equal(r.status, AB_OK);
	assert_string_equal(r.message, "added to the inbox");
	r = send_json(inst, AB_MSG_EVENT, "abc", ev);   /* a retry of the same message */
	assert_int_equal(r.status, AB_OK);
	assert_string_equal(r.message, "already in the inbox");
	assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.event_id[0], "abc");
	assert_string_equal(s.title[0], "SQL injection in /login");   /* control char gone */
	assert_string_equal(s.severity[0], "high");
	assert_string_equal(s.type[0], "finding.created");
	/* the stored JSON is the compact, sorted payload */
	assert_string_equal(s.json[0], "{\"asset\":\"api\",\"id\":\"abc\",\"severity\":\"high\","
		"\"title\":\"SQL injection\\nin /login\",\"type\":\"finding.created\"}");
	alertbridge_plugin()->destroy(inst);
}

static void test_plugin_titles(void **state)
{
	struct fixture *f = *state;
	void *inst = create_ok(f, "");
	static const struct {
		enum ab_msg_kind kind;
		const char *id, *payload, *title, *severity, *type;
	} cases[] = {
		{ AB_MSG_EVENT, "m1", "{\"summary\":\"only a summary\"}", "only a summary", "info",
		  "event.generic" },
		{ AB_MSG_EVENT, "m2", "{\"type\":\"scan.completed\"}", "scan.completed", "info",
		  "scan.completed" },
		{ AB_MSG_TEST, "m3", "{\"title\":\"[test] hello\",\"severity\":\"low\"}",
		  "[test] hello", "low", "event.generic" },
		{ AB_MSG_GROUP, "g1", "{\"group\":{\"title\":\"ZAP scan: 3 findings\"},"
		  "\"items\":[{\"severity\":\"low\"}],\"counts\":{}}", "ZAP scan: 3 findings", "low",
		  "group" },
		{ AB_MSG_GROUP, "g2", "{\"group\":{},\"items\":[{\"severity\":\"low\"},"
		  "{\"severity\":\"critical\"},{\"severity\":\"medium\"}],\"counts\":{}}",
		  "3 alerts", "critical", "group" },
		{ AB_MSG_DIGEST, "d1", "{\"digest\":{\"title\":\"Daily digest\"},\"items\":[],"
		  "\"counts\":{}}", "Daily digest", "info", "digest" },
		{ AB_MSG_GROUP, "g3", "{\"group\":{\"severity\":\"high\"},\"items\":[{}]}",
		  "1 alert", "high", "group" },
	};
	struct seen s;
	struct ab_result r;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = send_json(inst, cases[i].kind, cases[i].id, cases[i].payload);
		assert_int_equal(r.status, AB_OK);
		memset(&s, 0, sizeof s);
		assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
		assert_int_equal(s.n, (int)i + 1);
		assert_string_equal(s.event_id[0], cases[i].id);
		assert_string_equal(s.title[0], cases[i].title);
		assert_string_equal(s.severity[0], cases[i].severity);
		assert_string_equal(s.type[0], cases[i].type);
	}
	alertbridge_plugin()->destroy(inst);
}

static void test_plugin_bad_messages(void **state)
{
	struct fixture *f = *state;
	void *inst = create_ok(f, "");
	char longid[300];
	struct ab_result r;

	r = send_json(inst, AB_MSG_EVENT, "x", "[1,2]");
	assert_int_equal(r.status, AB_PERMANENT);
	r = send_json(inst, AB_MSG_EVENT, NULL, "{\"title\":\"no id\"}");
	assert_int_equal(r.status, AB_PERMANENT);
	assert_string_equal(r.message, "message has no id");
	memset(longid, 'a', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	r = send_json(inst, AB_MSG_EVENT, longid, "{}");
	assert_int_equal(r.status, AB_PERMANENT);
	/* no message id: the payload's id is used */
	r = send_json(inst, AB_MSG_EVENT, NULL, "{\"id\":\"fromjson\"}");
	assert_int_equal(r.status, AB_OK);
	assert_int_equal(ab_inbox_total(f->ib), 1);
	alertbridge_plugin()->destroy(inst);
}

static void test_plugin_max_items(void **state)
{
	struct fixture *f = *state;
	void *inst = create_ok(f, ", \"max_items\": 3");
	char id[16];
	struct seen s = { 0 };
	struct ab_result r;

	for (int i = 1; i <= 3; i++) {
		snprintf(id, sizeof id, "m%d", i);
		assert_int_equal(send_json(inst, AB_MSG_EVENT, id, "{}").status, AB_OK);
	}
	/* the operator reads m2 (the middle one) */
	assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
	assert_int_equal(ab_inbox_read(f->ib, s.id[1], NULL, NULL), 1);
	r = send_json(inst, AB_MSG_EVENT, "m4", "{}");
	assert_int_equal(r.status, AB_OK);
	assert_int_equal(ab_inbox_total(f->ib), 3);
	memset(&s, 0, sizeof s);
	assert_int_equal(ab_inbox_list(f->ib, false, collect, &s), 0);
	assert_string_equal(s.event_id[0], "m4");
	assert_string_equal(s.event_id[1], "m3");
	assert_string_equal(s.event_id[2], "m1");    /* unread m1 kept, read m2 pruned */
	assert_non_null(strstr(f->mh.log, "removed the 1 oldest"));
	alertbridge_plugin()->destroy(inst);
}

static void test_plugin_test_action(void **state)
{
	struct fixture *f = *state;
	const struct ab_plugin *p = alertbridge_plugin();
	void *inst = create_ok(f, "");
	char want[256];
	struct ab_result r;

	memset(&r, 0x55, sizeof r);
	p->test(inst, &r);
	assert_int_equal(r.status, AB_OK);
	snprintf(want, sizeof want, "inbox at %s is writable", f->path);
	assert_string_equal(r.message, want);
	assert_int_equal(ab_inbox_total(f->ib), 0);   /* test adds nothing */
	/* make the file unusable: replace it with a directory */
	ab_inbox_close(f->ib);
	f->ib = NULL;
	snprintf(want, sizeof want, "%s-wal", f->path);
	unlink(want);
	snprintf(want, sizeof want, "%s-shm", f->path);
	unlink(want);
	p->destroy(inst);
	inst = create_ok(f, "");
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	p->test(inst, &r);
	assert_int_equal(r.status, AB_PERMANENT);
	assert_non_null(strstr(r.message, f->path));
	p->destroy(inst);
	rmdir(f->path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_db_mode_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_add_dup_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_owners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_read_marks_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_remove_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_prune_read_first, setup, teardown),
		cmocka_unit_test(test_plugin_struct),
		cmocka_unit_test_setup_teardown(test_plugin_bad_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_titles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_bad_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_max_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_test_action, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
