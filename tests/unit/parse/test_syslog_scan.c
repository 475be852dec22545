/*
 * test_syslog_scan.c - unit tests for the syslog scanner
 * (src/parse/syslog_scan.c): the view's slices and scalars for RFC 5424,
 * RFC 3164, CEF, LEEF and JSON lines, the SD-PARAM iterator, the
 * unescaping kinds, the flags (high bytes, NUL, truncation, no PRI), the
 * pair cap with the keys read beyond it, and that a scan allocates nothing
 * (malloc, calloc and realloc are wrapped and counted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse/syslog.h"

#define NOW_MS 1710928800000LL      /* 2024-03-20T10:00:00Z */

static long allocs;

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
	allocs++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
	allocs++;
	return __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	allocs++;
	return __real_realloc(p, n);
}

/* The view of a NUL-terminated line; fails the test if the scan allocated. */
static struct ab_syslog_view *scan(const char *line, size_t len)
{
	static struct ab_syslog_view v;
	long before = allocs;

	assert_int_equal(ab_syslog_scan(line, len, NOW_MS, &v), 0);
	assert_int_equal(allocs, before);
	return &v;
}

static struct ab_syslog_view *scan_s(const char *line)
{
	return scan(line, strlen(line));
}

static void slice_is(struct ab_syslog_slice s, const char *want)
{
	char buf[512];
	size_t n;

	if (!want) {
		assert_null(s.p);
		return;
	}
	assert_non_null(s.p);
	assert_true(s.n < sizeof buf);
	n = ab_syslog_unescape(s, buf);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_5424(void **state)
{
	static const char line[] =
		"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
		"[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"][x@1 a=\"q\\\"t\\]\\n\"] "
		"\xEF\xBB\xBF" "An application event\r\n";
	static const char *const want[][3] = {
		{ "exampleSDID@32473", "iut", "3" },
		{ "exampleSDID@32473", "eventSource", "Application" },
		{ "x@1", "a", "q\"t]\\n" },
	};
	struct ab_syslog_view *v;
	struct ab_syslog_sd_iter it = { 0 };
	struct ab_syslog_slice id, name, val;
	size_t k = 0;

	(void)state;
	v = scan(line, strlen(line));
	assert_int_equal(v->format, AB_SYSLOG_RFC5424);
	assert_int_equal(v->pri, 165);
	assert_int_equal(v->flags, AB_SYSLOG_V_HIGH);            /* the BOM */
	assert_int_equal(v->len, strlen(line) - 2);              /* CR LF dropped */
	assert_true(v->ts == 1065910455003LL);
	slice_is(v->host, "mymachine.example.com");
	slice_is(v->app, "evntslog");
	slice_is(v->procid, NULL);
	slice_is(v->msgid, "ID47");
	slice_is(v->msg, "An application event");
	assert_int_equal(v->payload, AB_SYSLOG_PLAIN);
	assert_non_null(v->sd.p);
	assert_int_equal(v->sd.p[0], '[');
	assert_int_equal(v->sd.p[v->sd.n - 1], ']');
	while (ab_syslog_sd_next(v, &it, &id, &name, &val)) {
		assert_true(k < 3);
		slice_is(id, want[k][0]);
		slice_is(name, want[k][1]);
		slice_is(val, want[k][2]);
		assert_int_equal(val.esc, k == 2 ? AB_SYSLOG_ESC_SD : AB_SYSLOG_ESC_NONE);
		k++;
	}
	assert_int_equal(k, 3);
	assert_false(ab_syslog_sd_next(v, &it, &id, &name, &val));   /* stays at the end */

	v = scan_s("<14>1 - h app - - [bad");
	assert_int_equal(v->format, AB_SYSLOG_RFC5424);
	assert_true(v->flags & AB_SYSLOG_V_SD_INVALID);
	assert_null(v->sd.p);
	slice_is(v->msg, "[bad");
	memset(&it, 0, sizeof it);
	assert_false(ab_syslog_sd_next(v, &it, &id, &name, &val));
}

static void test_3164(void **state)
{
	static const char line[] = "<34>Oct 11 22:14:15 mymachine sshd[4321]: Failed password";
	struct ab_syslog_view *v;

	(void)state;
	v = scan(line, strlen(line));
	assert_int_equal(v->format, AB_SYSLOG_RFC3164);
	assert_int_equal(v->pri, 34);
	assert_int_equal(v->flags, 0);
	assert_true(v->ts == 1697062455000LL);           /* 2023-10-11T22:14:15Z */
	slice_is(v->host, "mymachine");
	slice_is(v->app, "sshd");
	slice_is(v->procid, "4321");
	slice_is(v->msgid, NULL);
	slice_is(v->msg, "Failed password");
	assert_null(v->sd.p);

	v = scan_s("disk 3 failed");
	assert_int_equal(v->pri, 13);
	assert_int_equal(v->flags, AB_SYSLOG_V_NO_PRI);
	assert_true(v->ts == 0);
	slice_is(v->host, NULL);
	slice_is(v->app, NULL);
	slice_is(v->msg, "disk 3 failed");
}

static void test_cef(void **state)
{
	static const char line[] =
		"<134>Jan 15 10:00:00 fw01 CEF:0|Fort\\|inet|FG|1|sig|Name|7|src=1.2.3.4 "
		"msg=a\\=b c\\nd cs1Label=x rt=Jan 15 2024 10\\:00\\:00 dhost=h message=not this";
	struct ab_syslog_view *v;

	(void)state;
	v = scan(line, strlen(line));
	assert_int_equal(v->payload, AB_SYSLOG_CEF);
	assert_true(v->flags & AB_SYSLOG_V_LABELS);
	slice_is(v->host, "fw01");
	assert_int_equal(strncmp(v->body.p, "CEF:0|", 6), 0);
	slice_is(v->hdr[0], "0");
	assert_int_equal(v->hdr[1].esc, AB_SYSLOG_ESC_HDR);
	slice_is(v->hdr[1], "Fort|inet");
	slice_is(v->hdr[5], "Name");
	slice_is(v->hdr[6], "7");
	assert_int_equal(v->nkv, 6);
	slice_is(v->kv[0].key, "src");
	slice_is(v->kv[0].value, "1.2.3.4");
	assert_int_equal(v->kv[0].value.esc, AB_SYSLOG_ESC_NONE);
	slice_is(v->kv[1].key, "msg");
	assert_int_equal(v->kv[1].value.esc, AB_SYSLOG_ESC_CEF);
	assert_int_equal(v->kv[1].value.n, 9);                   /* raw */
	slice_is(v->kv[1].value, "a=b c\nd");
	slice_is(v->kv_msg, "a=b c\nd");                        /* msg=, not message= */
	slice_is(v->kv_asset, "h");
	slice_is(v->kv_sev, NULL);
	assert_true(v->payload_ts == 1705312800000LL);          /* rt read unescaped */
	slice_is(v->kv[5].value, "not this");
}

static void test_leef(void **state)
{
	static const char line[] =
		"<13>Jan 15 10:00:00 qradar LEEF:2.0|Lancope|StealthWatch|1.0|41|^|"
		"src=10.0.1.8^ sev = 5 ^cat=anom\\=aly^devTime=1705312800000";
	struct ab_syslog_view *v;

	(void)state;
	v = scan(line, strlen(line));
	assert_int_equal(v->payload, AB_SYSLOG_LEEF);
	slice_is(v->hdr[0], "2.0");
	slice_is(v->hdr[4], "41");
	slice_is(v->hdr[5], NULL);
	assert_int_equal(v->nkv, 4);
	slice_is(v->kv[1].key, "sev");
	slice_is(v->kv[1].value, " 5");
	slice_is(v->kv_sev, " 5");
	slice_is(v->kv[2].value, "anom\\=aly");                  /* LEEF: no unescaping */
	assert_true(v->payload_ts == 1705312800000LL);
}

static void test_json(void **state)
{
	struct ab_syslog_view *v;

	(void)state;
	v = scan_s("<14>Jan 15 10:00:00 ids suricata[1]: {\"a\":1}");
	assert_int_equal(v->payload, AB_SYSLOG_JSON);
	slice_is(v->body, "{\"a\":1}");
	slice_is(v->app, "suricata");
	v = scan_s("<14>Jan 15 10:00:00 h app: @cee:  {\"msg\":\"x\"}");
	assert_int_equal(v->payload, AB_SYSLOG_CEE);
	slice_is(v->body, "{\"msg\":\"x\"}");
	v = scan_s("<14>{not json");                   /* a candidate all the same */
	assert_int_equal(v->payload, AB_SYSLOG_JSON);
}

static void test_flags(void **state)
{
	static const char nul[] = "<13>a\0b caf\xc3\xa9\0\0\n";
	struct ab_syslog_view *v;
	char *big;

	(void)state;
	v = scan(nul, sizeof nul - 1);
	assert_int_equal(v->len, 13);                   /* trailing LF and NULs dropped */
	assert_int_equal(v->flags, AB_SYSLOG_V_NUL | AB_SYSLOG_V_HIGH);
	v = scan("<13>0123456789abcdef\xff", 21);         /* the tail after 8-byte words */
	assert_int_equal(v->flags, AB_SYSLOG_V_HIGH);
	v = scan("<13>0123456\xff" "89abcdef", 20);
	assert_int_equal(v->flags, AB_SYSLOG_V_HIGH);
	big = malloc(AB_SYSLOG_MAX_LINE + 10);
	assert_non_null(big);
	memset(big, 'x', AB_SYSLOG_MAX_LINE + 10);
	v = scan(big, AB_SYSLOG_MAX_LINE + 10);
	assert_int_equal(v->flags, AB_SYSLOG_V_TRUNCATED | AB_SYSLOG_V_NO_PRI);
	assert_int_equal(v->len, AB_SYSLOG_MAX_LINE);
	free(big);
	assert_int_equal(ab_syslog_scan(NULL, 0, NOW_MS, v), -1);
}

/* 200 pairs: kv[] keeps 128, the rest is flagged, and msg= read beyond. */
static void test_kv_cap(void **state)
{
	char line[4096];
	size_t o;
	int i;
	struct ab_syslog_view *v;

	(void)state;
	o = (size_t)snprintf(line, sizeof line, "CEF:0|V|P|1|S|N|5|");
	for (i = 0; i < 200; i++)
		o += (size_t)snprintf(line + o, sizeof line - o, "k%d=%d ", i, i);
	o += (size_t)snprintf(line + o, sizeof line - o, "msg=late dst=10.0.0.9");
	v = scan(line, o);
	assert_int_equal(v->nkv, AB_SYSLOG_MAX_FIELDS);
	assert_true(v->flags & AB_SYSLOG_V_KV_MORE);
	slice_is(v->kv[AB_SYSLOG_MAX_FIELDS - 1].key, "k127");
	slice_is(v->kv_msg, "late");
	slice_is(v->kv_asset2, "10.0.0.9");
}

static void test_unescape(void **state)
{
	static const struct {
		enum ab_syslog_esc esc;
		const char *in, *out;
	} t[] = {
		{ AB_SYSLOG_ESC_CEF, "a\\=b\\\\c\\nd\\re\\|f\\:g\\xh\\", "a=b\\c\nd\re|f:g\\xh\\" },
		{ AB_SYSLOG_ESC_HDR, "a\\|b\\\\c\\=d\\", "a|b\\c\\=d\\" },
		{ AB_SYSLOG_ESC_SD, "a\\\"b\\\\c\\]d\\ne\\", "a\"b\\c]d\\ne\\" },
		{ AB_SYSLOG_ESC_NONE, "a\\=b", "a\\=b" },
	};
	char buf[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct ab_syslog_slice s = { t[i].in, (uint32_t)strlen(t[i].in), t[i].esc };

		n = ab_syslog_unescape(s, buf);
		buf[n] = '\0';
		assert_string_equal(buf, t[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_5424),   cmocka_unit_test(test_3164),
		cmocka_unit_test(test_cef),    cmocka_unit_test(test_leef),
		cmocka_unit_test(test_json),   cmocka_unit_test(test_flags),
		cmocka_unit_test(test_kv_cap), cmocka_unit_test(test_unescape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
