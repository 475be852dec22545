/*
 * test_event.c - unit tests for src/event/event.c: JSON round trip, defaults,
 * every from_json error, stable ids, the severity word table, every tool
 * scale boundary, categories, UTF-8 repair in to_json, and the direct JSON
 * writer (dumps, write_json, ensure_id) against jansson's own text, the
 * text and ids pinned, and every row of the member table (event_members.h)
 * round-tripped, type-checked and looked up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "event/event.h"
#include "lib/util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char full_json[] =
	"{\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"finding.created\","
	"\"category\":\"system\",\"severity\":\"high\",\"source\":\"code_scan\","
	"\"tool\":\"defectdojo\",\"title\":\"SQL injection in /login\","
	"\"summary\":\"line one\\nline two \\u00e9\",\"url\":\"https://dojo.example/f/1\","
	"\"asset\":\"payments-api\",\"team\":\"payments\",\"status\":\"open\","
	"\"priority\":2,\"fingerprint\":\"fp-1\",\"occurred_at\":\"2024-05-01T12:00:00.123Z\","
	"\"received_at\":\"2024-05-01T12:00:05Z\",\"origin\":{\"kind\":\"mail\","
	"\"message_id\":\"<abc@example.com>\",\"from\":\"dojo@example.com\","
	"\"host\":\"mx1.example.com\"},\"fields\":{\"cwe\":89,\"tags\":[\"a\",\"b\"],"
	"\"nested\":{\"x\":null,\"y\":1.5,\"z\":true}}}";

static json_t *load(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_ALLOW_NUL, &e);

	if (!j)
		fail_msg("bad test JSON: %s: %s", s, e.text);
	return j;
}

static struct ab_event *parse(const char *s, char *err, size_t errsz)
{
	json_t *j = load(s);
	struct ab_event *ev = ab_event_from_json(j, err, errsz);

	json_decref(j);
	return ev;
}

static void test_round_trip(void **state)
{
	char err[256];
	json_t *in = load(full_json), *out;
	struct ab_event *ev;
	char *s;

	(void)state;
	ev = ab_event_from_json(in, err, sizeof err);
	if (!ev)
		fail_msg("from_json: %s", err);
	assert_string_equal(ev->id, "0123456789abcdef0123456789abcdef");
	assert_string_equal(ev->type, "finding.created");
	assert_int_equal(ev->category, AB_CAT_SYSTEM);
	assert_int_equal(ev->severity, AB_SEV_HIGH);
	assert_string_equal(ev->title, "SQL injection in /login");
	assert_int_equal(ev->priority, 2);
	assert_int_equal(ev->occurred_at, 1714564800123LL);
	assert_int_equal(ev->received_at, 1714564805000LL);
	assert_string_equal(ev->origin.kind, "mail");
	assert_string_equal(ev->origin.host, "mx1.example.com");
	out = ab_event_to_json(ev);
	assert_non_null(out);
	if (!json_equal(in, out)) {
		char *a = json_dumps(in, JSON_SORT_KEYS), *b = json_dumps(out, JSON_SORT_KEYS);

		fail_msg("round trip differs:\n in %s\nout %s", a, b);
	}
	s = ab_event_dumps(ev);                  /* compact, sorted keys */
	assert_non_null(s);
	assert_memory_equal(s, "{\"asset\":\"payments-api\",\"category\":\"system\",", 43);
	assert_null(strchr(s, '\n'));
	free(s);
	json_decref(out);
	json_decref(in);
	ab_event_free(ev);
}

static void test_defaults(void **state)
{
	char err[256];
	struct ab_event *ev;
	json_t *j;
	int64_t before = ab_now_ms();

	(void)state;
	ev = parse("{}", err, sizeof err);
	assert_non_null(ev);
	assert_string_equal(ev->id, "");
	assert_string_equal(ev->type, "event.generic");
	assert_int_equal(ev->category, AB_CAT_SECURITY);
	assert_int_equal(ev->severity, AB_SEV_INFO);
	assert_string_equal(ev->origin.kind, "cli");
	assert_null(ev->title);
	assert_null(ev->origin.host);
	assert_int_equal(ev->priority, 0);
	assert_int_equal(ev->occurred_at, 0);
	assert_true(ev->received_at >= before);
	assert_non_null(ev->fields);
	assert_true(json_is_object(ev->fields));

	/* to_json leaves the unset members out */
	j = ab_event_to_json(ev);
	assert_non_null(j);
	assert_null(json_object_get(j, "id"));
	assert_null(json_object_get(j, "title"));
	assert_null(json_object_get(j, "priority"));
	assert_null(json_object_get(j, "occurred_at"));
	assert_null(json_object_get(json_object_get(j, "origin"), "host"));
	assert_string_equal(json_string_value(json_object_get(j, "type")), "event.generic");
	assert_string_equal(json_string_value(json_object_get(j, "severity")), "info");
	assert_string_equal(json_string_value(json_object_get(j, "category")), "security");
	assert_string_equal(json_string_value(
		json_object_get(json_object_get(j, "origin"), "kind")), "cli");
	assert_non_null(json_object_get(j, "received_at"));
	assert_int_equal(json_object_size(json_object_get(j, "fields")), 0);
	json_decref(j);
	ab_event_free(ev);

	/* null counts as absent; an origin without kind keeps "cli" */
	ev = parse("{\"title\":null,\"origin\":{\"host\":\"h\"},\"fields\":null}", err, sizeof err);
	assert_non_null(ev);
	assert_null(ev->title);
	assert_string_equal(ev->origin.kind, "cli");
	assert_string_equal(ev->origin.host, "h");
	ab_event_free(ev);

	/* input severity words go through the table */
	ev = parse("{\"severity\":\"CRIT\",\"category\":\"Error\"}", err, sizeof err);
	assert_non_null(ev);
	assert_int_equal(ev->severity, AB_SEV_CRITICAL);
	assert_int_equal(ev->category, AB_CAT_ERROR);
	ab_event_free(ev);
}

/* a and b write the same canonical JSON */
static void assert_same_event(const struct ab_event *a, const struct ab_event *b)
{
	char *ja = ab_event_dumps(a), *jb = ab_event_dumps(b);

	assert_non_null(ja);
	assert_non_null(jb);
	assert_string_equal(ja, jb);
	free(ja);
	free(jb);
}

/* new_at: the given received_at, every other default as new's */
static void test_new_at(void **state)
{
	struct ab_event *a = ab_event_new_at(1700000000123LL), *b = ab_event_new();

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->received_at, 1700000000123LL);
	assert_true(b->received_at > 1700000000123LL);   /* now */
	b->received_at = a->received_at;
	assert_same_event(a, b);
	ab_event_free(a);
	ab_event_free(b);
}

/* renew_at: an event that was filled in becomes what new_at makes, and a
 * fields object another holder shares is left to it */
static void test_renew_at(void **state)
{
	struct ab_event *ev = ab_event_new_at(1), *fresh = ab_event_new_at(1700000000123LL);
	json_t *shared;

	(void)state;
	assert_non_null(ev);
	assert_non_null(fresh);
	ab_event_set_str(ev, &ev->title, "a title");
	ab_event_set_str(ev, &ev->origin.host, "fw1");
	ev->severity = AB_SEV_CRITICAL;
	ev->occurred_at = 42;
	json_object_set_new(ev->fields, "k", json_string("v"));
	assert_int_equal(ab_event_renew_at(ev, 1700000000123LL), 0);
	assert_same_event(ev, fresh);
	assert_int_equal(json_object_size(ev->fields), 0);
	json_object_set_new(ev->fields, "k", json_string("v"));
	shared = json_incref(ev->fields);
	assert_int_equal(ab_event_renew_at(ev, 1700000000123LL), 0);
	assert_ptr_not_equal(ev->fields, shared);
	assert_int_equal(json_object_size(shared), 1);     /* untouched */
	assert_same_event(ev, fresh);
	json_decref(shared);
	ab_event_free(ev);
	ab_event_free(fresh);
}

static void test_new_and_set_str(void **state)
{
	struct ab_event *ev = ab_event_new();

	(void)state;
	assert_non_null(ev);
	assert_string_equal(ev->type, "event.generic");
	assert_string_equal(ev->origin.kind, "cli");
	ab_event_set_str(ev, &ev->title, "hello");
	assert_string_equal(ev->title, "hello");
	ab_event_set_str(ev, &ev->title, "again");
	assert_string_equal(ev->title, "again");
	ab_event_set_str(ev, &ev->title, NULL);
	assert_null(ev->title);
	ab_event_free(ev);
	ab_event_free(NULL);
}

/* Is s inside ev's own allocation (its block of string members)? */
static bool in_event(const struct ab_event *ev, const char *s)
{
	return (uintptr_t)s - (uintptr_t)ev < sizeof *ev;
}

/* String members live in the event's own block while they fit, on the
 * heap after; every way of replacing one (set_str, set_strn, take_str,
 * NULL) and freeing or renewing the event works on both kinds (ASan and
 * valgrind builds check the frees), a copy may come from the member it
 * replaces, and a renewed event's defaults are in the block. */
static void test_members_in_block(void **state)
{
	struct ab_event *ev = ab_event_new_at(1);
	char big[AB_EVENT_SCRATCH + 10], *heap;
	int i;

	(void)state;
	assert_non_null(ev);
	assert_false(in_event(ev, ev->type));            /* a new event's defaults: heap */
	assert_int_equal(ab_event_set_strn(ev, &ev->title, "a title, cut", 7), 0);
	assert_string_equal(ev->title, "a title");
	assert_true(in_event(ev, ev->title));
	ab_event_set_str(ev, &ev->type, "syslog.message");   /* a heap default replaced */
	assert_true(in_event(ev, ev->type));
	assert_int_equal(ab_event_set_strn(ev, &ev->summary, ev->title + 2, 5), 0);
	assert_string_equal(ev->summary, "title");
	assert_int_equal(ab_event_set_strn(ev, &ev->summary, ev->summary + 1, 3), 0);
	assert_string_equal(ev->summary, "itl");            /* from the member it replaces */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ab_event_set_str(ev, &ev->url, big);                /* larger than the block: heap */
	assert_false(in_event(ev, ev->url));
	assert_int_equal(strlen(ev->url), sizeof big - 1);
	for (i = 0; i < 200; i++)                           /* fills the block, then heap */
		ab_event_set_str(ev, &ev->asset, i % 2 ? "asset-one" : "asset-two");
	assert_string_equal(ev->asset, "asset-one");
	assert_false(in_event(ev, ev->asset));
	assert_string_equal(ev->title, "a title");          /* earlier ones unchanged */
	heap = strdup("taken");
	assert_non_null(heap);
	ab_event_take_str(ev, &ev->title, heap);            /* a block member replaced */
	assert_ptr_equal(ev->title, heap);
	ab_event_take_str(ev, &ev->url, NULL);              /* a heap member freed */
	assert_null(ev->url);
	ab_event_set_str(ev, &ev->origin.host, "fw1");
	assert_int_equal(ab_event_renew_at(ev, 2), 0);
	assert_true(in_event(ev, ev->type));             /* renewed: defaults in the block */
	assert_true(in_event(ev, ev->origin.kind));
	assert_string_equal(ev->type, "event.generic");
	assert_null(ev->title);
	assert_null(ev->origin.host);
	ab_event_set_str(ev, &ev->title, "next line");
	assert_true(in_event(ev, ev->title));
	ab_event_set_str(ev, &ev->type, NULL);
	assert_null(ev->type);
	ab_event_free(ev);
}

/* Build a JSON string value of n 'a's: {"KEY":"aaa..."} */
static char *long_member(const char *key, size_t n)
{
	struct ab_buf b = AB_BUF_INIT(200000);
	size_t i;

	ab_buf_printf(&b, "{\"%s\":\"", key);
	for (i = 0; i < n; i++)
		ab_buf_putc(&b, 'a');
	ab_buf_puts(&b, "\"}");
	return ab_buf_steal(&b);
}

static const struct {
	const char *json;
	const char *want;   /* substring of err */
} bad_cases[] = {
	{ "[]", "must be a JSON object" },
	{ "{\"bogus\":1}", "unknown member 'bogus'" },
	{ "{\"title\":\"t\",\"Title\":\"t\"}", "unknown member 'Title'" },
	{ "{\"origin\":{\"kind\":\"mail\",\"ip\":\"1.2.3.4\"}}", "unknown member 'origin.ip'" },
	{ "{\"id\":\"0123456789ABCDEF0123456789ABCDEF\"}", "member 'id'" },
	{ "{\"id\":\"0123456789abcdef\"}", "member 'id'" },
	{ "{\"id\":\"0123456789abcdef0123456789abcdef0\"}", "member 'id'" },
	{ "{\"id\":\"0123456789abcdef0123456789abcdeg\"}", "member 'id'" },
	{ "{\"id\":\"\"}", "member 'id'" },
	{ "{\"id\":12}", "member 'id': must be a string" },
	{ "{\"type\":1}", "member 'type': must be a string" },
	{ "{\"type\":\"\"}", "member 'type': must not be empty" },
	{ "{\"category\":\"nope\"}", "member 'category'" },
	{ "{\"category\":2}", "member 'category': must be a string" },
	{ "{\"severity\":\"catastrophic\"}", "member 'severity'" },
	{ "{\"severity\":7}", "member 'severity': must be a string" },
	{ "{\"title\":[\"x\"]}", "member 'title': must be a string" },
	{ "{\"summary\":{}}", "member 'summary': must be a string" },
	{ "{\"url\":true}", "member 'url': must be a string" },
	{ "{\"source\":1}", "member 'source'" },
	{ "{\"tool\":1}", "member 'tool'" },
	{ "{\"asset\":1}", "member 'asset'" },
	{ "{\"team\":1}", "member 'team'" },
	{ "{\"status\":1}", "member 'status'" },
	{ "{\"fingerprint\":1}", "member 'fingerprint'" },
	{ "{\"title\":\"a\\u0000b\"}", "member 'title': contains a NUL" },
	{ "{\"priority\":\"2\"}", "member 'priority': must be an integer" },
	{ "{\"priority\":1.5}", "member 'priority': must be an integer" },
	{ "{\"priority\":-1}", "member 'priority': must be 0..999" },
	{ "{\"priority\":1000}", "member 'priority': must be 0..999" },
	{ "{\"priority\":99999999999999}", "member 'priority'" },
	{ "{\"occurred_at\":\"yesterday\"}", "member 'occurred_at': not an RFC 3339 time" },
	{ "{\"occurred_at\":1714564800}", "member 'occurred_at': must be a string" },
	{ "{\"received_at\":\"2024-02-30T00:00:00Z\"}", "member 'received_at'" },
	{ "{\"origin\":\"mail\"}", "member 'origin': must be an object" },
	{ "{\"origin\":{\"kind\":\"Mail\"}}", "member 'origin.kind'" },
	{ "{\"origin\":{\"kind\":\"\"}}", "member 'origin.kind'" },
	{ "{\"origin\":{\"kind\":5}}", "member 'origin.kind': must be a string" },
	{ "{\"origin\":{\"host\":[]}}", "member 'origin.host': must be a string" },
	{ "{\"fields\":[]}", "member 'fields': must be an object" },
	{ "{\"fields\":\"x\"}", "member 'fields': must be an object" },
	/* 9 nested containers, counting fields itself */
	{ "{\"fields\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}}",
	  "member 'fields': nested deeper" },
	{ "{\"fields\":{\"a\":[[[[[[[[1]]]]]]]]}}", "member 'fields': nested deeper" },
};

/* from_json_take keeps the loaded fields (no copy), and gives up its
 * reference on error too (the ASan build finds a leak otherwise). */
static void test_from_json_take(void **state)
{
	/* received_at given: without it each event gets its own clock reading */
	json_t *j = json_loads("{\"type\":\"a.b\",\"received_at\":\"2026-12-07T10:00:00.123Z\","
		"\"fields\":{\"k\":\"v\",\"n\":{\"x\":1}}}", 0, NULL), *f;
	struct ab_event *ev, *same;
	char err[128];

	(void)state;
	assert_non_null(j);
	f = json_object_get(j, "fields");
	same = ab_event_from_json(j, err, sizeof err);
	assert_non_null(same);
	assert_ptr_not_equal(same->fields, f);
	ev = ab_event_from_json_take(j, err, sizeof err);
	assert_non_null(ev);
	assert_ptr_equal(ev->fields, f);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "k")), "v");
	assert_same_event(ev, same);
	ab_event_free(ev);
	ab_event_free(same);
	j = json_loads("{\"type\":\"a.b\",\"bogus\":1}", 0, NULL);
	assert_null(ab_event_from_json_take(j, err, sizeof err));
	assert_non_null(strstr(err, "bogus"));
	j = json_loads("{\"severity\":\"nope\",\"fields\":{\"k\":1}}", 0, NULL);
	assert_null(ab_event_from_json_take(j, err, sizeof err));
}

/* An event with every member set and fields of every kind. */
static struct ab_event *rich_event(void)
{
	static const char js[] =
		"{\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"finding.created\","
		"\"category\":\"error\",\"severity\":\"critical\",\"source\":\"sast\","
		"\"tool\":\"semgrep\",\"title\":\"Tr\u00e8s \\\"bad\\\" \u2603\",\"summary\":\"a\\nb\","
		"\"url\":\"https://x.example/1\",\"asset\":\"\",\"team\":\"web\",\"status\":\"open\","
		"\"priority\":999,\"fingerprint\":\"fp\",\"occurred_at\":\"1969-12-31T23:59:59Z\","
		"\"received_at\":\"2026-12-07T10:00:00.123Z\",\"origin\":{\"kind\":\"syslog\","
		"\"message_id\":\"<m@x>\",\"from\":\"a@b\",\"host\":\"h\"},\"fields\":{\"s\":\"v\","
		"\"nul\":\"a\\u0000b\",\"big\":9223372036854775807,\"neg\":-9223372036854775808,"
		"\"zero\":0,\"pi\":3.141592653589793,\"tiny\":-1e-300,\"t\":true,\"f\":false,"
		"\"n\":null,\"arr\":[1,\"x\",[],{},[[null]]],\"obj\":{\"a\":{\"b\":{\"c\":1}}},"
		"\"\":\"empty key\",\"k\\u00e9y\":\"\u00e9\"}}";
	json_t *j = json_loads(js, JSON_ALLOW_NUL, NULL);
	char err[128];
	struct ab_event *ev;

	assert_non_null(j);
	ev = ab_event_from_json_take(j, err, sizeof err);
	if (!ev)
		fail_msg("rich event: %s", err);
	return ev;
}

/* The binary form reads back to the same event: every member (NULL and
 * "" apart), every kind of field value, and an event that has only its
 * defaults. */
static void test_bin_round_trip(void **state)
{
	struct ab_event *ev = rich_event(), *back, *plain = ab_event_new();
	struct ab_buf b = AB_BUF_INIT(1 << 20);
	char err[128];

	(void)state;
	assert_int_equal(ab_event_write_bin(ev, &b), 0);
	back = ab_event_read_bin(b.data, b.len, err, sizeof err);
	if (!back)
		fail_msg("read_bin: %s", err);
	assert_same_event(ev, back);
	assert_non_null(back->asset);          /* "" stays "", not unset */
	assert_string_equal(back->asset, "");
	assert_null(plain->url);
	assert_int_equal(json_string_length(json_object_get(back->fields, "nul")), 3);
	ab_event_free(back);
	/* defaults only: unset members stay unset */
	b.len = 0;
	assert_int_equal(ab_event_write_bin(plain, &b), 0);
	back = ab_event_read_bin(b.data, b.len, err, sizeof err);
	assert_non_null(back);
	assert_null(back->url);
	assert_string_equal(back->id, "");
	assert_same_event(plain, back);
	ab_event_free(back);
	ab_event_free(plain);
	ab_event_free(ev);
	ab_buf_free(&b);
}

/* Damaged input: every cut, every byte changed (to each of a few values),
 * is refused or reads as some valid event; never a crash or a leak (the
 * ASan build of the suite checks); limits hold against what a length or
 * count claims. */
static void test_bin_damage(void **state)
{
	static const unsigned char flips[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 'o', 'a', 's' };
	struct ab_event *ev = rich_event(), *back;
	struct ab_buf b = AB_BUF_INIT(1 << 20), d = AB_BUF_INIT(4 << 20);
	char err[128];
	size_t refused = 0;

	(void)state;
	assert_int_equal(ab_event_write_bin(ev, &b), 0);
	for (size_t n = 0; n < b.len; n++) {
		assert_null(ab_event_read_bin(b.data, n, err, sizeof err));
		assert_true(err[0] != '\0');
	}
	assert_null(ab_event_read_bin(NULL, 0, err, sizeof err));
	for (size_t i = 0; i < b.len; i++)
		for (size_t k = 0; k < sizeof flips; k++) {
			unsigned char keep = (unsigned char)b.data[i];

			b.data[i] = (char)flips[k];
			back = ab_event_read_bin(b.data, b.len, err, sizeof err);
			if (back) {
				char *s = ab_event_dumps(back);

				assert_non_null(s);   /* a readable event writes out */
				free(s);
				ab_event_free(back);
			} else {
				refused++;
			}
			b.data[i] = (char)keep;
		}
	assert_true(refused > 0);
	/* a byte more than the event */
	assert_int_equal(ab_buf_append(&b, "x", 1), 0);
	assert_null(ab_event_read_bin(b.data, b.len, err, sizeof err));
	assert_non_null(strstr(err, "after"));
	/* fields nested deeper than AB_FIELDS_MAX_DEPTH, and a count that claims
	 * more than the bytes hold: refused */
	b.len = 0;
	json_decref(ev->fields);
	ev->fields = json_object();
	{
		json_t *o = ev->fields;

		for (int i = 0; i < AB_FIELDS_MAX_DEPTH + 2; i++) {
			json_t *in = json_object();

			json_object_set_new(o, "d", in);
			o = in;
		}
	}
	assert_int_equal(ab_event_write_bin(ev, &b), 0);
	assert_null(ab_event_read_bin(b.data, b.len, err, sizeof err));
	assert_non_null(strstr(err, "deep"));
	json_object_clear(ev->fields);
	b.len = 0;
	assert_int_equal(ab_event_write_bin(ev, &b), 0);
	b.len -= 1;                                  /* the fields' count, 0 */
	assert_int_equal(ab_buf_append(&b, "\xff\xff\xff\x0f", 4), 0);
	assert_null(ab_event_read_bin(b.data, b.len, err, sizeof err));
	/* more values than AB_FIELDS_MAX_NODES */
	for (int i = 0; i <= AB_FIELDS_MAX_NODES; i++) {
		char k[16];

		snprintf(k, sizeof k, "k%d", i);
		json_object_set_new(ev->fields, k, json_true());
	}
	d.len = 0;
	assert_int_equal(ab_event_write_bin(ev, &d), 0);
	assert_null(ab_event_read_bin(d.data, d.len, err, sizeof err));
	assert_non_null(strstr(err, "too many"));
	/* a field string that is not UTF-8 is repaired, not refused */
	json_object_clear(ev->fields);
	json_object_set_new_nocheck(ev->fields, "bad", json_stringn_nocheck("a\xff", 2));
	d.len = 0;
	assert_int_equal(ab_event_write_bin(ev, &d), 0);
	back = ab_event_read_bin(d.data, d.len, err, sizeof err);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_object_get(back->fields, "bad")), "a\xEF\xBF\xBD");
	ab_event_free(back);
	ab_event_free(ev);
	ab_buf_free(&b);
	ab_buf_free(&d);
}

static void test_from_json_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(bad_cases); i++) {
		char err[256] = "untouched";
		struct ab_event *ev = parse(bad_cases[i].json, err, sizeof err);

		if (ev) {
			ab_event_free(ev);
			fail_msg("accepted: %s", bad_cases[i].json);
		}
		if (!strstr(err, bad_cases[i].want))
			fail_msg("%s: error '%s' lacks '%s'", bad_cases[i].json, err,
				 bad_cases[i].want);
	}
	assert_null(ab_event_from_json(NULL, NULL, 0));   /* no err buffer: no crash */
}

static void test_fields_depth_limit(void **state)
{
	char err[256];
	struct ab_event *ev;

	(void)state;
	/* 8 nested containers including fields itself: accepted */
	ev = parse("{\"fields\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{}}}}}}}}}",
		   err, sizeof err);
	if (!ev)
		fail_msg("depth 8 rejected: %s", err);
	ab_event_free(ev);
	ev = parse("{\"fields\":{\"a\":[[[[[[[1]]]]]]]}}", err, sizeof err);
	assert_non_null(ev);
	ab_event_free(ev);

	/* too many values (10000 allowed, counting the fields object) */
	{
		struct ab_buf b = AB_BUF_INIT(1 << 20);
		char *s;
		int i;

		ab_buf_puts(&b, "{\"fields\":{\"a\":[");
		for (i = 0; i < 10000; i++)
			ab_buf_puts(&b, i ? ",0" : "0");
		ab_buf_puts(&b, "]}}");
		s = ab_buf_steal(&b);
		ev = parse(s, err, sizeof err);
		free(s);
		assert_null(ev);
		assert_non_null(strstr(err, "member 'fields'"));
	}
}

static const struct {
	const char *key;
	size_t max;
} caps[] = {
	{ "title", 1024 },
	{ "summary", 65536 },
	{ "url", 4096 },
	{ "source", 2048 },
	{ "tool", 2048 },
	{ "asset", 2048 },
	{ "team", 2048 },
	{ "status", 2048 },
	{ "fingerprint", 2048 },
	{ "type", 2048 },
};

static void test_length_caps(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(caps); i++) {
		char err[256], want[64];
		struct ab_event *ev;
		char *s;

		s = long_member(caps[i].key, caps[i].max);      /* at the cap: fine */
		ev = parse(s, err, sizeof err);
		free(s);
		if (!ev)
			fail_msg("%s at cap rejected: %s", caps[i].key, err);
		ab_event_free(ev);

		s = long_member(caps[i].key, caps[i].max + 1);  /* one over */
		ev = parse(s, err, sizeof err);
		free(s);
		assert_null(ev);
		snprintf(want, sizeof want, "member '%s': longer than %zu", caps[i].key,
			 caps[i].max);
		if (!strstr(err, want))
			fail_msg("error '%s' lacks '%s'", err, want);
	}
}

/* ------------------------------------------------------------ ids */

static void test_id_stability(void **state)
{
	char err[256], id1[AB_ID_LEN + 1], id2[AB_ID_LEN + 1];
	static const char in[] = "{\"title\":\"t\",\"severity\":\"high\","
		"\"received_at\":\"2024-05-01T12:00:00Z\",\"fields\":{\"b\":1,\"a\":2}}";
	static const char reordered[] = "{\"fields\":{\"a\":2,\"b\":1},"
		"\"received_at\":\"2030-01-01T00:00:00Z\",\"severity\":\"High\",\"title\":\"t\"}";
	struct ab_event *ev;

	(void)state;
	ev = parse(in, err, sizeof err);
	assert_non_null(ev);
	ab_event_ensure_id(ev);
	assert_true(ab_event_id_valid(ev->id));
	ab_strlcpy(id1, ev->id, sizeof id1);
	ab_event_ensure_id(ev);                       /* already set: unchanged */
	assert_string_equal(ev->id, id1);
	ab_event_free(ev);

	/* same input, key order and received_at differ: same id */
	ev = parse(reordered, err, sizeof err);
	assert_non_null(ev);
	ab_event_ensure_id(ev);
	assert_string_equal(ev->id, id1);
	ab_event_free(ev);

	/* different title: different id */
	ev = parse("{\"title\":\"u\",\"severity\":\"high\",\"fields\":{\"b\":1,\"a\":2}}",
		   err, sizeof err);
	assert_non_null(ev);
	ab_event_ensure_id(ev);
	ab_strlcpy(id2, ev->id, sizeof id2);
	assert_string_not_equal(id1, id2);
	ab_event_free(ev);

	/* different fields value: different id */
	ev = parse("{\"title\":\"t\",\"severity\":\"high\",\"fields\":{\"b\":1,\"a\":3}}",
		   err, sizeof err);
	assert_non_null(ev);
	ab_event_ensure_id(ev);
	assert_string_not_equal(ev->id, id1);
	ab_event_free(ev);

	/* an id given in the input is kept */
	ev = parse("{\"id\":\"ffffffffffffffffffffffffffffffff\",\"title\":\"t\"}", err, sizeof err);
	assert_non_null(ev);
	ab_event_ensure_id(ev);
	assert_string_equal(ev->id, "ffffffffffffffffffffffffffffffff");
	ab_event_free(ev);
}

/* write_json_id where the text cannot be written: the id is ensure_id's
 * all the same (its own buffer; for a time out of range its fallback key),
 * the buffer as it was.  compute_idv hashes the concatenation. */
static void test_write_json_id_limits(void **state)
{
	struct ab_event *ev = ab_event_new(), *ref = ab_event_new();
	struct ab_buf b = AB_BUF_INIT(16);
	const void *parts[3] = { "ab", "", "cd" };
	size_t lens[3] = { 2, 0, 2 };

	(void)state;
	assert_non_null(ev);
	assert_non_null(ref);
	ab_event_set_str(ev, &ev->title, "t");
	ab_event_set_str(ref, &ref->title, "t");
	ev->received_at = ref->received_at = 1700000000000LL;
	ab_event_ensure_id(ref);
	assert_int_equal(ab_buf_puts(&b, "x"), 0);
	assert_int_equal(ab_event_write_json_id(ev, &b), -1);      /* over the cap */
	assert_string_equal(ev->id, ref->id);
	assert_string_equal(ab_buf_cstr(&b), "x");
	ab_buf_free(&b);
	ev->id[0] = ref->id[0] = '\0';
	ev->occurred_at = ref->occurred_at = INT64_MAX;          /* no RFC 3339 text */
	ab_event_ensure_id(ref);
	b = (struct ab_buf)AB_BUF_INIT(1 << 20);
	assert_int_equal(ab_event_write_json_id(ev, &b), -1);
	assert_string_equal(ev->id, ref->id);
	assert_true(ab_event_id_valid(ev->id));
	assert_int_equal(b.len, 0);
	ab_buf_free(&b);
	ab_event_compute_idv(ev, parts, lens, 3);
	ab_event_compute_id(ref, "abcd", 4);
	assert_string_equal(ev->id, ref->id);
	ab_event_free(ev);
	ab_event_free(ref);
}

static void test_compute_id(void **state)
{
	struct ab_event *ev = ab_event_new();
	char a[AB_ID_LEN + 1];

	(void)state;
	assert_non_null(ev);
	/* SHA-256("ab1\0cli\0<m@x>"), first 16 bytes; computed independently with
	 * printf 'ab1\0cli\0<m@x>' | sha256sum */
	ab_event_compute_id(ev, "<m@x>", 5);
	assert_string_equal(ev->id, "4d92012d94bee07e2f694a64eaab306b");
	ab_strlcpy(a, ev->id, sizeof a);
	ab_event_compute_id(ev, "<m@x>", 5);
	assert_string_equal(ev->id, a);
	ab_event_set_str(ev, &ev->origin.kind, "mail");   /* kind is part of the id */
	ab_event_compute_id(ev, "<m@x>", 5);
	assert_string_not_equal(ev->id, a);
	ab_event_compute_id(ev, "", 0);
	assert_true(ab_event_id_valid(ev->id));
	ab_event_free(ev);
}

static void test_id_valid(void **state)
{
	(void)state;
	assert_true(ab_event_id_valid("0123456789abcdef0123456789abcdef"));
	assert_false(ab_event_id_valid("0123456789abcdef0123456789abcde"));
	assert_false(ab_event_id_valid("0123456789abcdef0123456789abcdef0"));
	assert_false(ab_event_id_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(ab_event_id_valid("0123456789abcdef0123456789abcdeg"));
	assert_false(ab_event_id_valid(""));
	assert_false(ab_event_id_valid(NULL));
}

/* ------------------------------------------------------------ severity */

static const struct {
	const char *word;
	enum ab_severity sev;
} sev_cases[] = {
	{ "critical", AB_SEV_CRITICAL }, { "Critical", AB_SEV_CRITICAL },
	{ "CRIT", AB_SEV_CRITICAL }, { "emerg", AB_SEV_CRITICAL },
	{ "emergency", AB_SEV_CRITICAL }, { "alert", AB_SEV_CRITICAL },
	{ "fatal", AB_SEV_CRITICAL }, { "sev1", AB_SEV_CRITICAL },
	{ "P1", AB_SEV_CRITICAL }, { "blocker", AB_SEV_CRITICAL },
	{ "very high", AB_SEV_CRITICAL }, { "Very-High", AB_SEV_CRITICAL },
	{ "very_high", AB_SEV_CRITICAL },

	{ "high", AB_SEV_HIGH }, { "error", AB_SEV_HIGH }, { "err", AB_SEV_HIGH },
	{ "major", AB_SEV_HIGH }, { "severe", AB_SEV_HIGH }, { "sev2", AB_SEV_HIGH },
	{ "p2", AB_SEV_HIGH }, { "important", AB_SEV_HIGH },

	{ "medium", AB_SEV_MEDIUM }, { "moderate", AB_SEV_MEDIUM },
	{ "warning", AB_SEV_MEDIUM }, { "warn", AB_SEV_MEDIUM }, { "sev3", AB_SEV_MEDIUM },
	{ "p3", AB_SEV_MEDIUM }, { "average", AB_SEV_MEDIUM }, { "unknown", AB_SEV_MEDIUM },

	{ "low", AB_SEV_LOW }, { "minor", AB_SEV_LOW }, { "notice", AB_SEV_LOW },
	{ "sev4", AB_SEV_LOW }, { "p4", AB_SEV_LOW },

	{ "info", AB_SEV_INFO }, { "informational", AB_SEV_INFO },
	{ "information", AB_SEV_INFO }, { "debug", AB_SEV_INFO }, { "none", AB_SEV_INFO },
	{ "note", AB_SEV_INFO }, { "OK", AB_SEV_INFO }, { "sev5", AB_SEV_INFO },
	{ "p5", AB_SEV_INFO },

	{ "  high\t", AB_SEV_HIGH },          /* surrounding blanks ignored */

	/* bare integers: CEF scale, clamped */
	{ "0", AB_SEV_LOW }, { "3", AB_SEV_LOW }, { "4", AB_SEV_MEDIUM },
	{ "6", AB_SEV_MEDIUM }, { "7", AB_SEV_HIGH }, { "8", AB_SEV_HIGH },
	{ "9", AB_SEV_CRITICAL }, { "10", AB_SEV_CRITICAL }, { "11", AB_SEV_CRITICAL },
	{ "99999999999999999999", AB_SEV_CRITICAL }, { "-3", AB_SEV_LOW },
	{ "007", AB_SEV_HIGH },
};

static const char *const sev_bad[] = {
	"", "   ", "hi", "critical!", "very  high", "veryhigh", "p0x", "1.5", "-",
	"sev 1", "crit ical", "x9",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};

static void test_severity_words(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(sev_cases); i++) {
		enum ab_severity s = (enum ab_severity)99;

		if (ab_severity_parse(sev_cases[i].word, &s) != 0)
			fail_msg("severity '%s' rejected", sev_cases[i].word);
		if (s != sev_cases[i].sev)
			fail_msg("severity '%s': got %s want %s", sev_cases[i].word,
				 ab_severity_name(s), ab_severity_name(sev_cases[i].sev));
	}
	for (i = 0; i < N(sev_bad); i++) {
		enum ab_severity s;

		if (ab_severity_parse(sev_bad[i], &s) == 0)
			fail_msg("severity '%s' accepted", sev_bad[i]);
	}
	assert_int_equal(ab_severity_parse(NULL, &(enum ab_severity){ 0 }), -1);
}

static void test_severity_names(void **state)
{
	static const char *const names[AB_SEV_COUNT] = {
		"info", "low", "medium", "high", "critical",
	};
	int i;

	(void)state;
	for (i = 0; i < AB_SEV_COUNT; i++) {
		enum ab_severity s;

		assert_string_equal(ab_severity_name((enum ab_severity)i), names[i]);
		assert_int_equal(ab_severity_parse(names[i], &s), 0);   /* names parse back */
		assert_int_equal(s, i);
	}
	assert_string_equal(ab_severity_name((enum ab_severity)42), "info");
}

static const struct {
	enum ab_sev_scale scale;
	int value;
	enum ab_severity sev;
} scale_cases[] = {
	{ AB_SCALE_SYSLOG, -1, AB_SEV_CRITICAL },
	{ AB_SCALE_SYSLOG, 0, AB_SEV_CRITICAL },
	{ AB_SCALE_SYSLOG, 2, AB_SEV_CRITICAL },
	{ AB_SCALE_SYSLOG, 3, AB_SEV_HIGH },
	{ AB_SCALE_SYSLOG, 4, AB_SEV_MEDIUM },
	{ AB_SCALE_SYSLOG, 5, AB_SEV_LOW },
	{ AB_SCALE_SYSLOG, 6, AB_SEV_INFO },
	{ AB_SCALE_SYSLOG, 7, AB_SEV_INFO },
	{ AB_SCALE_SYSLOG, 8, AB_SEV_INFO },

	{ AB_SCALE_CEF, -1, AB_SEV_LOW },
	{ AB_SCALE_CEF, 0, AB_SEV_LOW },
	{ AB_SCALE_CEF, 3, AB_SEV_LOW },
	{ AB_SCALE_CEF, 4, AB_SEV_MEDIUM },
	{ AB_SCALE_CEF, 6, AB_SEV_MEDIUM },
	{ AB_SCALE_CEF, 7, AB_SEV_HIGH },
	{ AB_SCALE_CEF, 8, AB_SEV_HIGH },
	{ AB_SCALE_CEF, 9, AB_SEV_CRITICAL },
	{ AB_SCALE_CEF, 10, AB_SEV_CRITICAL },
	{ AB_SCALE_CEF, 11, AB_SEV_CRITICAL },
	{ AB_SCALE_CEF, 2147483647, AB_SEV_CRITICAL },

	{ AB_SCALE_WAZUH, -5, AB_SEV_LOW },
	{ AB_SCALE_WAZUH, 0, AB_SEV_LOW },
	{ AB_SCALE_WAZUH, 6, AB_SEV_LOW },
	{ AB_SCALE_WAZUH, 7, AB_SEV_MEDIUM },
	{ AB_SCALE_WAZUH, 10, AB_SEV_MEDIUM },
	{ AB_SCALE_WAZUH, 11, AB_SEV_MEDIUM },
	{ AB_SCALE_WAZUH, 12, AB_SEV_HIGH },
	{ AB_SCALE_WAZUH, 14, AB_SEV_HIGH },
	{ AB_SCALE_WAZUH, 15, AB_SEV_CRITICAL },
	{ AB_SCALE_WAZUH, 16, AB_SEV_CRITICAL },

	{ AB_SCALE_LEEF, 0, AB_SEV_LOW },
	{ AB_SCALE_LEEF, 1, AB_SEV_LOW },
	{ AB_SCALE_LEEF, 3, AB_SEV_LOW },
	{ AB_SCALE_LEEF, 4, AB_SEV_MEDIUM },
	{ AB_SCALE_LEEF, 6, AB_SEV_MEDIUM },
	{ AB_SCALE_LEEF, 7, AB_SEV_HIGH },
	{ AB_SCALE_LEEF, 8, AB_SEV_HIGH },
	{ AB_SCALE_LEEF, 9, AB_SEV_CRITICAL },
	{ AB_SCALE_LEEF, 10, AB_SEV_CRITICAL },

	{ AB_SCALE_NAGIOS, -1, AB_SEV_INFO },
	{ AB_SCALE_NAGIOS, 0, AB_SEV_INFO },
	{ AB_SCALE_NAGIOS, 1, AB_SEV_MEDIUM },
	{ AB_SCALE_NAGIOS, 2, AB_SEV_CRITICAL },
	{ AB_SCALE_NAGIOS, 3, AB_SEV_MEDIUM },
	{ AB_SCALE_NAGIOS, 4, AB_SEV_MEDIUM },

	{ AB_SCALE_SURICATA, 0, AB_SEV_HIGH },
	{ AB_SCALE_SURICATA, 1, AB_SEV_HIGH },
	{ AB_SCALE_SURICATA, 2, AB_SEV_MEDIUM },
	{ AB_SCALE_SURICATA, 3, AB_SEV_LOW },
	{ AB_SCALE_SURICATA, 4, AB_SEV_INFO },
	{ AB_SCALE_SURICATA, 255, AB_SEV_INFO },
};

static void test_severity_scales(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(scale_cases); i++) {
		enum ab_severity s = ab_severity_from_scale(scale_cases[i].scale,
							    scale_cases[i].value);

		if (s != scale_cases[i].sev)
			fail_msg("scale %d value %d: got %s want %s", scale_cases[i].scale,
				 scale_cases[i].value, ab_severity_name(s),
				 ab_severity_name(scale_cases[i].sev));
	}
	assert_int_equal(ab_severity_from_scale((enum ab_sev_scale)77, 1), AB_SEV_MEDIUM);
}

/* Numbers written as text, fractional bands and what must be refused. */
static const struct {
	const char *scale;
	const char *in;
	int ok;
	enum ab_severity sev;
} text_scale_cases[] = {
	{ "guardduty", "1.0", 1, AB_SEV_LOW },
	{ "guardduty", "3.9", 1, AB_SEV_LOW },
	{ "guardduty", "4.0", 1, AB_SEV_MEDIUM },
	{ "guardduty", "6.9", 1, AB_SEV_MEDIUM },
	{ "guardduty", "7", 1, AB_SEV_HIGH },
	{ "guardduty", "8.9", 1, AB_SEV_HIGH },
	{ "guardduty", "9.0", 1, AB_SEV_CRITICAL },
	{ "guardduty", "10", 1, AB_SEV_CRITICAL },
	{ "guardduty", "0.5", 1, AB_SEV_LOW },
	{ "cvss", "0.0", 1, AB_SEV_INFO },
	{ "cvss", "0.1", 1, AB_SEV_LOW },
	{ "cvss", "3.9", 1, AB_SEV_LOW },
	{ "cvss", "4.0", 1, AB_SEV_MEDIUM },
	{ "cvss", "6.9", 1, AB_SEV_MEDIUM },
	{ "cvss", "7.0", 1, AB_SEV_HIGH },
	{ "cvss", "8.9", 1, AB_SEV_HIGH },
	{ "cvss", "9.0", 1, AB_SEV_CRITICAL },
	{ "cvss", " 9.8 ", 1, AB_SEV_CRITICAL },
	{ "wazuh", "12", 1, AB_SEV_HIGH },
	{ "wazuh", "10", 1, AB_SEV_MEDIUM },
	{ "wazuh", "00000000000000000000000000015", 1, AB_SEV_CRITICAL },
	{ "asa", "2", 1, AB_SEV_CRITICAL },
	{ "cef", "+8", 1, AB_SEV_HIGH },          /* short integers skip strtod: the same */
	{ "cef", "007", 1, AB_SEV_HIGH },
	{ "cef", "8.", 1, AB_SEV_HIGH },
	{ "cef", "-", 0, 0 },
	{ "modsecurity", "4", 1, AB_SEV_MEDIUM },
	{ "snort", "1", 1, AB_SEV_HIGH },
	{ "nagios", "DOWN", 1, AB_SEV_CRITICAL },
	{ "nagios", "Warning", 1, AB_SEV_MEDIUM },
	{ "nagios", "OK", 1, AB_SEV_INFO },
	/* refused: never cast, severity left to the caller */
	{ "wazuh", "123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890", 0, 0 },
	{ "wazuh", "1e90", 0, 0 },
	{ "cef", "1e999", 0, 0 },
	{ "cef", "nan", 0, 0 },
	{ "cef", "inf", 0, 0 },
	{ "cef", "0x10", 0, 0 },
	{ "cef", "7 high", 0, 0 },
	{ "cef", "", 0, 0 },
	{ "nagios", "PENDING", 0, 0 },
	{ "zap", "0", 1, AB_SEV_INFO },
	{ "zap", "1", 1, AB_SEV_LOW },
	{ "zap", "2", 1, AB_SEV_MEDIUM },
	{ "zap", "3", 1, AB_SEV_HIGH },
	{ "zap", "4", 1, AB_SEV_HIGH },
};

static void test_severity_text_scales(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(text_scale_cases); i++) {
		enum ab_sev_scale sc;
		enum ab_severity s = AB_SEV_INFO;
		int rc;

		assert_int_equal(ab_sev_scale_parse(text_scale_cases[i].scale, &sc), 0);
		rc = ab_severity_from_text(sc, text_scale_cases[i].in, &s);
		if ((rc == 0) != text_scale_cases[i].ok ||
		    (rc == 0 && s != text_scale_cases[i].sev))
			fail_msg("%s \"%s\": rc %d got %s want %s%s", text_scale_cases[i].scale,
				 text_scale_cases[i].in, rc, ab_severity_name(s),
				 text_scale_cases[i].ok ? "" : "refusal ",
				 ab_severity_name(text_scale_cases[i].sev));
	}
	{
		enum ab_sev_scale sc;

		assert_int_equal(ab_sev_scale_parse("richter", &sc), -1);
	}
}

static const struct {
	const char *in;
	int ok;
	enum ab_category cat;
} cat_cases[] = {
	{ "security", 1, AB_CAT_SECURITY },
	{ "SECURITY", 1, AB_CAT_SECURITY },
	{ "system", 1, AB_CAT_SYSTEM },
	{ "System", 1, AB_CAT_SYSTEM },
	{ "error", 1, AB_CAT_ERROR },
	{ "ERROR", 1, AB_CAT_ERROR },
	{ "", 0, 0 },
	{ "sec", 0, 0 },
	{ "errors", 0, 0 },
	{ "security ", 0, 0 },
};

static void test_categories(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(cat_cases); i++) {
		enum ab_category c = (enum ab_category)9;
		int r = ab_category_parse(cat_cases[i].in, &c);

		if (cat_cases[i].ok) {
			if (r != 0)
				fail_msg("category '%s' rejected", cat_cases[i].in);
			assert_int_equal(c, cat_cases[i].cat);
		} else if (r != -1) {
			fail_msg("category '%s' accepted", cat_cases[i].in);
		}
	}
	assert_string_equal(ab_category_name(AB_CAT_SECURITY), "security");
	assert_string_equal(ab_category_name(AB_CAT_SYSTEM), "system");
	assert_string_equal(ab_category_name(AB_CAT_ERROR), "error");
	assert_int_equal(ab_category_parse(NULL, &(enum ab_category){ 0 }), -1);
}

static void test_utf8_repair(void **state)
{
	struct ab_event *ev = ab_event_new();
	json_t *j;

	(void)state;
	assert_non_null(ev);
	ab_event_set_str(ev, &ev->title, "bad \xff byte, good \xc3\xa9, cut \xe2\x82");
	j = ab_event_to_json(ev);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "title")),
			    "bad \xef\xbf\xbd byte, good \xc3\xa9, cut \xef\xbf\xbd\xef\xbf\xbd");
	json_decref(j);
	ab_event_free(ev);
}

/* ------------------------------------------------------------ direct JSON text */

/* The reference: what ab_event_dumps() gave before it wrote text directly. */
static char *ref_dumps(const struct ab_event *ev, bool for_id)
{
	json_t *j = ab_event_to_json(ev);
	char *s;

	assert_non_null(j);
	if (for_id) {
		json_object_del(j, "id");
		json_object_del(j, "received_at");
	}
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	assert_non_null(s);
	return s;
}

static uint64_t rnd_state = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state % n);
}

/* Pieces that exercise every escape, raw UTF-8 (2, 3, 4 bytes, U+2028),
 * DEL, '/', and invalid sequences (repaired in members, refused by
 * json_string in fields). */
static const char *const pieces[] = {
	"a", "Zz 09", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1f", "\x7f",
	"\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x94\xa5", "\xff", "\xe2\x82", "\xc0\xaf",
	"\xed\xa0\x80", " ", "{}[],:",
};

static void rnd_str(char *out, size_t outsz)
{
	size_t n = rnd(12), o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[rnd(N(pieces))];
		size_t k = strlen(p);

		if (o + k + 1 > outsz)
			break;
		memcpy(out + o, p, k + 1);
		o += k;
	}
}

static int rnd_budget;   /* nodes left for the current fields tree */

static json_t *rnd_value(int depth)
{
	char s[128];
	json_t *v;

	switch (--rnd_budget <= 0 || depth > 6 ? rnd(5) : rnd(9)) {
	case 0: return json_integer((json_int_t)rnd(2000) - 1000);
	case 1: return json_integer(rnd(2) ? INT64_MAX : INT64_MIN);
	case 2: return rnd(2) ? json_true() : json_null();
	case 3:
		rnd_str(s, sizeof s);
		v = json_string(s);
		return v ? v : json_false();
	case 4: return json_real(rnd(2) ? 1.5 : -1e300);
	case 5: case 6: {
		json_t *o = json_object();
		size_t n = rnd(rnd(8) == 0 ? 80 : 5);

		for (size_t i = 0; i < n; i++) {
			rnd_str(s, sizeof s);
			if (json_object_set_new(o, s, rnd_value(depth + 1)) < 0)
				json_object_set_new(o, "k", json_null());
		}
		return o;
	}
	default: {
		json_t *a = json_array();
		size_t n = rnd(4);

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, rnd_value(depth + 1));
		return a;
	}
	}
}

/* ab_event_write_json_id() gives the id and the text of ensure_id and
 * write_json: ev has its id (from ensure_id); a copy without one is
 * written after a byte already in the buffer. */
static void check_write_json_id(struct ab_event *ev)
{
	struct ab_buf want = AB_BUF_INIT(1 << 24), got = AB_BUF_INIT(1 << 24);
	char id[AB_ID_LEN + 1];

	ab_strlcpy(id, ev->id, sizeof id);
	assert_int_equal(ab_buf_puts(&want, "x"), 0);
	assert_int_equal(ab_event_write_json(ev, &want), 0);
	assert_int_equal(ab_buf_puts(&got, "x"), 0);
	assert_int_equal(ab_event_write_json_id(ev, &got), 0);     /* id set: kept */
	assert_string_equal(ab_buf_cstr(&got), ab_buf_cstr(&want));
	assert_string_equal(ev->id, id);
	ev->id[0] = '\0';
	got.len = 1;
	assert_int_equal(ab_event_write_json_id(ev, &got), 0);
	assert_string_equal(ev->id, id);
	assert_int_equal(got.len, want.len);
	assert_string_equal(ab_buf_cstr(&got), ab_buf_cstr(&want));
	ab_buf_free(&want);
	ab_buf_free(&got);
}

static void check_same(const struct ab_event *ev)
{
	struct ab_buf b = AB_BUF_INIT(1 << 24);
	char *want = ref_dumps(ev, false), *got = ab_event_dumps(ev);
	struct ab_event *copy;
	char id[AB_ID_LEN + 1];

	assert_non_null(got);
	assert_string_equal(got, want);
	/* appended after what the buffer holds */
	assert_int_equal(ab_buf_puts(&b, "x"), 0);
	assert_int_equal(ab_event_write_json(ev, &b), 0);
	assert_string_equal(ab_buf_cstr(&b) + 1, want);
	ab_buf_free(&b);
	free(got);
	free(want);
	/* the stable id's key is the same text without id and received_at */
	copy = ab_event_new();
	assert_non_null(copy);
	ab_event_set_str(copy, &copy->origin.kind, ev->origin.kind ? ev->origin.kind : "cli");
	want = ref_dumps(ev, true);
	ab_event_compute_id(copy, want, strlen(want));
	ab_strlcpy(id, copy->id, sizeof id);
	ab_event_free(copy);
	free(want);
	{
		json_t *j = ab_event_to_json(ev);
		char err[256];

		json_object_del(j, "id");
		copy = ab_event_from_json(j, err, sizeof err);
		json_decref(j);
	}
	if (copy) {   /* from_json refuses deep fields: then compare nothing */
		json_decref(copy->fields);
		copy->fields = json_incref(ev->fields);
		copy->received_at = ev->received_at;
		ab_event_ensure_id(copy);
		assert_string_equal(copy->id, id);
		check_write_json_id(copy);
		ab_event_free(copy);
	}
}

static void test_dumps_matches_jansson(void **state)
{
	char err[256], s[128];
	struct ab_event *ev;
	char **members[9];

	(void)state;
	ev = parse(full_json, err, sizeof err);
	assert_non_null(ev);
	check_same(ev);
	ab_event_free(ev);
	ev = ab_event_new();
	assert_non_null(ev);
	check_same(ev);                      /* defaults only, empty fields */
	{
		json_t *deep = json_string("bottom"), *o;

		for (int d = 0; d < 40; d++) {   /* past the writer's own depth: jansson */
			o = d % 2 ? json_array() : json_object();
			if (d % 2)
				json_array_append_new(o, deep);
			else
				json_object_set_new(o, "k\n", deep);
			deep = o;
		}
		json_object_set_new(ev->fields, "deep", deep);
		for (int k = 0; k < 100; k++) {  /* more keys than the sort's stack room */
			snprintf(s, sizeof s, "key%03d", (k * 37) % 100);
			json_object_set_new(ev->fields, s, json_integer(k));
		}
		check_same(ev);
	}
	ev->occurred_at = -1;                /* before 1970: 1969-12-31T23:59:59.999Z */
	ev->received_at = 1700000000000LL;   /* a whole second: no fraction */
	check_same(ev);
	ev->occurred_at = 253402300800000LL; /* year 10000: no text, like to_json */
	assert_null(ab_event_to_json(ev));
	assert_null(ab_event_dumps(ev));
	ev->occurred_at = 0;
	json_decref(ev->fields);
	ev->fields = json_array();           /* not an object: written as {} */
	check_same(ev);
	ab_event_free(ev);

	for (int round = 0; round < 3000; round++) {
		ev = ab_event_new();
		assert_non_null(ev);
		members[0] = &ev->source, members[1] = &ev->title, members[2] = &ev->summary;
		members[3] = &ev->url, members[4] = &ev->asset, members[5] = &ev->fingerprint;
		members[6] = &ev->origin.host, members[7] = &ev->origin.from;
		members[8] = &ev->origin.message_id;
		for (size_t m = 0; m < N(members); m++) {
			if (rnd(3) == 0)
				continue;
			rnd_str(s, sizeof s);
			ab_event_set_str(ev, members[m], s);
		}
		if (rnd(4) == 0)
			ab_event_set_str(ev, &ev->type, NULL);
		if (rnd(4) == 0)
			ab_event_set_str(ev, &ev->origin.kind, NULL);
		ev->severity = (enum ab_severity)rnd(AB_SEV_COUNT);
		ev->category = (enum ab_category)rnd(AB_CAT_COUNT);
		ev->priority = (int)rnd(3);
		ev->occurred_at = rnd(2) ? 1700000000123LL + rnd(100000) : 0;
		ev->received_at = 1700000000000LL + rnd(1000000);
		if (rnd(2))
			ab_strlcpy(ev->id, "0123456789abcdef0123456789abcdef", sizeof ev->id);
		json_decref(ev->fields);
		rnd_budget = 200;
		ev->fields = rnd_value(rnd(8) == 0 ? 0 : 1);
		if (!json_is_object(ev->fields)) {
			json_t *o = json_object();

			json_object_set_new(o, "v", ev->fields);
			ev->fields = o;
		}
		check_same(ev);
		ab_event_free(ev);
	}
}

/* ------------------------------------------------------------ the member table */

/* The text and ids the hand-ordered writer gave before the member table
 * (commit 394431e): ids hash this text, so it must never change. */
static void test_golden_text_and_id(void **state)
{
	static const char want[] =
		"{\"asset\":\"payments-api\",\"category\":\"system\",\"fields\":{\"cwe\":89,"
		"\"nested\":{\"x\":null,\"y\":1.5,\"z\":true},\"tags\":[\"a\",\"b\"]},"
		"\"fingerprint\":\"fp-1\",\"id\":\"0123456789abcdef0123456789abcdef\","
		"\"occurred_at\":\"2024-05-01T12:00:00.123Z\",\"origin\":{\"from\":"
		"\"dojo@example.com\",\"host\":\"mx1.example.com\",\"kind\":\"mail\","
		"\"message_id\":\"<abc@example.com>\"},\"priority\":2,\"received_at\":"
		"\"2024-05-01T12:00:05Z\",\"severity\":\"high\",\"source\":\"code_scan\","
		"\"status\":\"open\",\"summary\":\"line one\\nline two \xc3\xa9\",\"team\":"
		"\"payments\",\"title\":\"SQL injection in /login\",\"tool\":\"defectdojo\","
		"\"type\":\"finding.created\",\"url\":\"https://dojo.example/f/1\"}";
	char err[256];
	struct ab_event *ev = parse(full_json, err, sizeof err);
	char *s;

	(void)state;
	assert_non_null(ev);
	s = ab_event_dumps(ev);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	ev->id[0] = '\0';
	ab_event_ensure_id(ev);
	assert_string_equal(ev->id, "685a4a08a9968f80c3d5e6ad432048c2");
	ab_event_set_str(ev, &ev->title, "bad \xff \x01\x1f\"\\/\t");
	ev->id[0] = '\0';
	ab_event_ensure_id(ev);
	assert_string_equal(ev->id, "a8103d71c6a26aa2a28a54c02b155aad");
	ab_event_free(ev);
}

/* Sets row d of base (ev itself or its origin) to a value that is not its
 * default. */
static void set_row(struct ab_event *ev, void *base, const struct ab_event_member_def *d)
{
	void *p = (char *)base + d->off;
	char v[64];

	switch (d->kind) {
	case AB_EVK_ID:
		ab_strlcpy(p, "0123456789abcdef0123456789abcdef", AB_ID_LEN + 1);
		break;
	case AB_EVK_STR:   /* a valid token (origin.kind), escapes, UTF-8 */
		snprintf(v, sizeof v, (d->flags & AB_EVF_TOKEN) ? "x-%s" : "%s \"\\\n\xc3\xa9",
			 d->key);
		ab_event_set_str(ev, p, v);
		break;
	case AB_EVK_CATEGORY:
		*(enum ab_category *)p = AB_CAT_ERROR;
		break;
	case AB_EVK_SEVERITY:
		*(enum ab_severity *)p = AB_SEV_CRITICAL;
		break;
	case AB_EVK_INT:
		*(int *)p = (int)d->max;
		break;
	case AB_EVK_TIME:
		*(int64_t *)p = 1714564800123LL + (int64_t)d->off;
		break;
	case AB_EVK_ORIGIN:
		for (size_t i = 0; i < AB_ORM_COUNT; i++)
			set_row(ev, p, &ab_origin_member_defs[i]);
		break;
	case AB_EVK_FIELDS:
		json_object_set_new(*(json_t **)p, "k", json_string("v"));
		json_object_set_new(*(json_t **)p, "n", json_integer(1));
		break;
	}
}

/* Every row of the table, set alone, comes out under its key, loads back
 * through from_json and gives the same text again (and the same id). */
static void test_member_table_round_trip(void **state)
{
	char err[256];

	(void)state;
	for (size_t i = 0; i < AB_EVM_COUNT; i++) {
		const struct ab_event_member_def *d = &ab_event_member_defs[i];
		struct ab_event *ev = ab_event_new(), *back;
		char *s1, *s2, id1[AB_ID_LEN + 1];
		json_t *j;

		assert_non_null(ev);
		assert_int_equal(ab_event_member_find(d->key, 0), (int)i);
		assert_int_equal(ab_event_member_find(d->key, d->flags), (int)i);
		set_row(ev, ev, d);
		check_same(ev);
		s1 = ab_event_dumps(ev);
		assert_non_null(s1);
		j = json_loads(s1, 0, NULL);
		assert_non_null(j);
		if (!json_object_get(j, d->key))
			fail_msg("member '%s' is not written: %s", d->key, s1);
		back = ab_event_from_json(j, err, sizeof err);
		if (!back)
			fail_msg("member '%s': %s\n%s", d->key, err, s1);
		json_decref(j);
		s2 = ab_event_dumps(back);
		assert_non_null(s2);
		assert_string_equal(s2, s1);
		ev->id[0] = back->id[0] = '\0';
		ab_event_ensure_id(ev);
		ab_strlcpy(id1, ev->id, sizeof id1);
		back->received_at = ev->received_at;
		ab_event_ensure_id(back);
		assert_string_equal(back->id, id1);
		free(s1);
		free(s2);
		ab_event_free(back);
		ab_event_free(ev);
	}

	/* all rows at once: every key written, nothing else */
	{
		struct ab_event *ev = ab_event_new();
		json_t *j, *o;

		assert_non_null(ev);
		for (size_t i = 0; i < AB_EVM_COUNT; i++)
			set_row(ev, ev, &ab_event_member_defs[i]);
		check_same(ev);
		j = ab_event_to_json(ev);
		assert_non_null(j);
		assert_int_equal(json_object_size(j), AB_EVM_COUNT);
		o = json_object_get(j, "origin");
		assert_int_equal(json_object_size(o), AB_ORM_COUNT);
		for (size_t i = 0; i < AB_ORM_COUNT; i++)
			assert_non_null(json_object_get(o, ab_origin_member_defs[i].key));
		json_decref(j);
		ab_event_free(ev);
	}
}

/* Every row refuses a value of the wrong JSON type, naming the member. */
static void test_member_table_types(void **state)
{
	char err[256], want[96];

	(void)state;
	for (size_t i = 0; i < AB_EVM_COUNT + AB_ORM_COUNT; i++) {
		bool in_origin = i >= AB_EVM_COUNT;
		const struct ab_event_member_def *d = in_origin ?
			&ab_origin_member_defs[i - AB_EVM_COUNT] : &ab_event_member_defs[i];
		json_t *j = json_object(), *bad;
		struct ab_event *ev;
		const char *what;

		switch (d->kind) {
		case AB_EVK_INT:
			bad = json_string("1");
			what = "must be an integer";
			break;
		case AB_EVK_ORIGIN:
		case AB_EVK_FIELDS:
			bad = json_array();
			what = "must be an object";
			break;
		default:
			bad = json_integer(1);
			what = "must be a string";
			break;
		}
		if (in_origin) {
			json_t *o = json_object();

			json_object_set_new(o, d->key, bad);
			json_object_set_new(j, "origin", o);
		} else {
			json_object_set_new(j, d->key, bad);
		}
		ev = ab_event_from_json(j, err, sizeof err);
		json_decref(j);
		if (ev)
			fail_msg("member '%s': wrong type accepted", d->key);
		snprintf(want, sizeof want, "member '%s%s': %s", in_origin ? "origin." : "",
			 d->key, what);
		assert_string_equal(err, want);
	}
}

/* The lookups routing uses: every AB_EVF_ROUTE row as text. */
static void test_member_text(void **state)
{
	struct ab_event *ev = ab_event_new();
	char buf[64];

	(void)state;
	assert_non_null(ev);
	assert_string_equal(ab_event_member_text(ev, AB_EVM_ID, buf, sizeof buf), "");
	assert_null(ab_event_member_text(ev, AB_EVM_PRIORITY, buf, sizeof buf));
	assert_null(ab_event_member_text(ev, AB_EVM_TITLE, buf, sizeof buf));
	assert_null(ab_event_member_text(ev, AB_EVM_OCCURRED_AT, buf, sizeof buf));
	assert_string_equal(ab_event_member_text(ev, AB_EVM_TYPE, buf, sizeof buf),
			    "event.generic");
	for (size_t i = 0; i < AB_EVM_COUNT; i++)
		set_row(ev, ev, &ab_event_member_defs[i]);
	assert_string_equal(ab_event_member_text(ev, AB_EVM_PRIORITY, buf, sizeof buf), "999");
	assert_string_equal(ab_event_member_text(ev, AB_EVM_SEVERITY, buf, sizeof buf),
			    "critical");
	assert_string_equal(ab_event_member_text(ev, AB_EVM_CATEGORY, buf, sizeof buf), "error");
	assert_string_equal(ab_event_member_text(ev, AB_EVM_TITLE, buf, sizeof buf),
			    "title \"\\\n\xc3\xa9");
	assert_non_null(ab_event_member_text(ev, AB_EVM_OCCURRED_AT, buf, sizeof buf));
	assert_null(ab_event_member_text(ev, AB_EVM_ORIGIN, buf, sizeof buf));
	assert_null(ab_event_member_text(ev, AB_EVM_FIELDS, buf, sizeof buf));
	assert_null(ab_event_member_text(ev, AB_EVM_COUNT, buf, sizeof buf));
	for (size_t i = 0; i < AB_EVM_COUNT; i++)
		if (ab_event_member_defs[i].flags & AB_EVF_ROUTE)
			assert_non_null(ab_event_member_text(ev, (enum ab_event_member_id)i, buf,
							     sizeof buf));
	assert_ptr_equal(ab_event_str_member(ev, AB_EVM_URL), &ev->url);
	assert_null(ab_event_str_member(ev, AB_EVM_PRIORITY));
	assert_int_equal(ab_event_member_find("fields.x", 0), -1);
	assert_int_equal(ab_event_member_find("received_at", AB_EVF_ROUTE), -1);
	assert_int_equal(ab_event_member_find(NULL, 0), -1);
	ab_event_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_new_at),
		cmocka_unit_test(test_new_and_set_str),
		cmocka_unit_test(test_from_json_errors),
		cmocka_unit_test(test_from_json_take),
		cmocka_unit_test(test_bin_round_trip),
		cmocka_unit_test(test_bin_damage),
		cmocka_unit_test(test_fields_depth_limit),
		cmocka_unit_test(test_length_caps),
		cmocka_unit_test(test_id_stability),
		cmocka_unit_test(test_compute_id),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_severity_words),
		cmocka_unit_test(test_severity_names),
		cmocka_unit_test(test_severity_scales),
		cmocka_unit_test(test_severity_text_scales),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_utf8_repair),
		cmocka_unit_test(test_dumps_matches_jansson),
		cmocka_unit_test(test_write_json_id_limits),
		cmocka_unit_test(test_golden_text_and_id),
		cmocka_unit_test(test_member_table_round_trip),
		cmocka_unit_test(test_member_table_types),
		cmocka_unit_test(test_member_text),
		cmocka_unit_test(test_renew_at),
		cmocka_unit_test(test_members_in_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
