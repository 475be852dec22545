/*
 * test_relp_frame.c - unit tests for RELP frame parsing and responses
 * (src/ingest/relp_frame.c).
 *
 * Table-driven: each case is a byte stream, a max DATA size and the frames
 * ("TXNR CMD DATA", "T:" prefix when truncated) or the error expected.
 * Every case is fed three ways - all at once, byte by byte, in chunks of 7 -
 * and must give the same result each time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/relp_frame.h"
#include "lib/buf.h"

#define MAXF 6

struct rcase {
	const char *name;
	const char *in;
	size_t max;
	const char *want[MAXF];
	bool error;
};

static const struct rcase cases[] = {
	{ "open with offers", "1 open 30 relp_version=0\ncommands=syslog\n", 64,
	  { "1 open relp_version=0\ncommands=syslog" }, false },
	{ "syslog then close", "2 syslog 5 <13>a\n3 close 0\n", 64,
	  { "2 syslog <13>a", "3 close " }, false },
	{ "empty DATA with a space before LF", "4 close 0 \n", 64, { "4 close " }, false },
	{ "DATA holds LF and spaces", "5 syslog 7 a\nb c d\n", 64, { "5 syslog a\nb c d" }, false },
	{ "oversize DATA truncated, next frame fine", "6 syslog 10 0123456789\n7 syslog 2 ok\n", 4,
	  { "T:6 syslog 0123", "7 syslog ok" }, false },
	{ "9-digit numbers", "999999999 syslog 1 x\n", 64, { "999999999 syslog x" }, false },
	{ "garbage", "hello\n", 64, { NULL }, true },
	{ "txnr 0", "0 syslog 1 a\n", 64, { NULL }, true },
	{ "txnr of 10 digits", "1234567890 syslog 1 a\n", 64, { NULL }, true },
	{ "command with a digit", "1 sys1og 1 a\n", 64, { NULL }, true },
	{ "empty command", "1  1 a\n", 64, { NULL }, true },
	{ "command of 33 letters", "1 abcdefghijklmnopqrstuvwxyzabcdefg 0\n", 64, { NULL }, true },
	{ "datalen not a number", "1 syslog x\n", 64, { NULL }, true },
	{ "datalen of 10 digits", "1 syslog 1234567890 a\n", 64, { NULL }, true },
	{ "no space after datalen", "1 syslog 1a\n", 64, { NULL }, true },
	{ "DATA not followed by LF", "1 syslog 1 ab\n", 64, { NULL }, true },
	{ "good frame before a broken one is kept", "1 syslog 1 a\n2 syslog 1 bc", 64,
	  { "1 syslog a" }, true },
};

struct sink {
	char got[MAXF][96];
	int n;
};

static int collect(uint32_t txnr, const char *cmd, const char *data, size_t len, unsigned flags,
	void *arg)
{
	struct sink *s = arg;

	if (s->n < MAXF)
		snprintf(s->got[s->n], sizeof s->got[s->n], "%s%u %s %.*s",
			(flags & AB_RELP_TRUNCATED) ? "T:" : "", (unsigned)txnr, cmd, (int)len, data);
	s->n++;
	return 0;
}

static void run(const struct rcase *t, size_t step)
{
	struct ab_relp_framer f;
	struct sink s;
	size_t len = strlen(t->in), off = 0;
	bool err = false;
	char msg[160];
	int i;

	memset(&s, 0, sizeof s);
	ab_relp_framer_init(&f, t->max);
	while (off < len) {
		size_t k = step && len - off > step ? step : len - off;

		if (ab_relp_framer_feed(&f, t->in + off, k, collect, &s, msg, sizeof msg) < 0) {
			err = true;
			assert_non_null(strstr(msg, "RELP: "));
			break;
		}
		off += k;
	}
	if (err != t->error)
		fail_msg("%s (step %zu): error: want %d, got %d", t->name, step, t->error, err);
	for (i = 0; i < MAXF && t->want[i]; i++) {
		if (i >= s.n)
			fail_msg("%s (step %zu): frame %d missing", t->name, step, i);
		if (strcmp(s.got[i], t->want[i]) != 0)
			fail_msg("%s (step %zu): frame %d: want '%s', got '%s'", t->name, step, i,
				t->want[i], s.got[i]);
	}
	if (s.n != i)
		fail_msg("%s (step %zu): want %d frames, got %d", t->name, step, i, s.n);
	if (!err)
		assert_true(ab_relp_framer_idle(&f));
	assert_true(f.buf.len <= t->max);
	ab_relp_framer_free(&f);
}

static void test_table(void **state)
{
	static const size_t steps[] = { 0, 1, 7 };

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
			run(&cases[i], steps[k]);
}

static void test_error_sticks(void **state)
{
	struct ab_relp_framer f;
	struct sink s;
	char msg[160] = "";

	(void)state;
	memset(&s, 0, sizeof s);
	ab_relp_framer_init(&f, 64);
	assert_int_equal(ab_relp_framer_feed(&f, "x", 1, collect, &s, msg, sizeof msg), -1);
	msg[0] = '\0';
	assert_int_equal(ab_relp_framer_feed(&f, "1 close 0\n", 10, collect, &s, msg, sizeof msg),
		-1);
	assert_non_null(strstr(msg, "bad transaction number"));
	assert_int_equal(s.n, 0);
	ab_relp_framer_free(&f);
}

/* 1 GB announced: only max bytes are kept while it streams past. */
static void test_huge_datalen(void **state)
{
	struct ab_relp_framer f;
	struct sink s;
	char chunk[4096], msg[160];

	(void)state;
	memset(&s, 0, sizeof s);
	memset(chunk, 'x', sizeof chunk);
	ab_relp_framer_init(&f, 1000);
	assert_int_equal(ab_relp_framer_feed(&f, "1 syslog 999999999 ", 19, collect, &s, msg,
		sizeof msg), 0);
	for (int i = 0; i < 256; i++)
		assert_int_equal(ab_relp_framer_feed(&f, chunk, sizeof chunk, collect, &s, msg,
			sizeof msg), 0);
	assert_true(f.buf.cap <= 1001);
	assert_int_equal(s.n, 0);
	ab_relp_framer_free(&f);
}

static void test_rsp(void **state)
{
	struct ab_buf b;

	(void)state;
	ab_buf_init(&b, 1024);
	assert_int_equal(ab_relp_rsp(&b, 7, "200 OK"), 0);
	assert_int_equal(ab_relp_rsp(&b, 8, ""), 0);
	assert_string_equal(b.data, "7 rsp 6 200 OK\n8 rsp 0\n");
	ab_buf_reset(&b);
	assert_int_equal(ab_relp_rsp(&b, 1, ab_relp_open_ok), 0);
	assert_non_null(strstr(b.data, "1 rsp 63 200 OK\nrelp_version=0\n"));
	assert_non_null(strstr(b.data, "commands=syslog\n"));
	ab_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_error_sticks),
		cmocka_unit_test(test_huge_datalen),
		cmocka_unit_test(test_rsp),
	};

	return cmocka_run_group_tests_name("relp_frame", tests, NULL, NULL);
}
