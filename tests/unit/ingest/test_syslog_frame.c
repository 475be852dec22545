/*
 * test_syslog_frame.c - unit tests for RFC 6587 framing (src/ingest/syslog_frame.c).
 *
 * Table-driven: each case is a byte stream, a max message size and the
 * messages (with truncation marks) or the error expected.  Every case is
 * fed three ways - all at once, byte by byte, and in chunks of 7 - and
 * must give the same result each time.
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
#include "ingest/syslog_frame.h"

#define MAXMSG 8

struct fcase {
	const char *name;
	const char *in;
	size_t inlen;          /* 0 = strlen(in) */
	size_t max;
	bool finish;           /* call ab_framer_finish() at the end */
	const char *want[MAXMSG];   /* "T:" prefix = expect AB_FRAME_TRUNCATED */
	bool error;            /* stream must end in the error state */
	int mode;              /* expected mode */
};

static const struct fcase cases[] = {
	{ "LF lines", "<13>a\n<13>b\n", 0, 64, false, { "<13>a", "<13>b" }, false, AB_FRAME_LF },
	{ "CRLF and LF mixed, empty lines skipped", "one\r\ntwo\n\n\r\nthree\r\n", 0, 64, false,
	  { "one", "two", "three" }, false, AB_FRAME_LF },
	{ "NUL terminator", "a\0b\0", 4, 64, false, { "a", "b" }, false, AB_FRAME_LF },
	{ "last line without LF needs finish", "a\nlast", 0, 64, true, { "a", "last" }, false,
	  AB_FRAME_LF },
	{ "last line without LF, no finish", "a\nlast", 0, 64, false, { "a" }, false, AB_FRAME_LF },
	{ "LF oversize: truncated, rest dropped", "abcdefghijKLMNOP\nok\n", 0, 10, false,
	  { "T:abcdefghij", "ok" }, false, AB_FRAME_LF },
	{ "LF exactly max plus CRLF is not truncated", "abcdefghij\r\nok\n", 0, 10, false,
	  { "abcdefghij", "ok" }, false, AB_FRAME_LF },
	{ "LF oversize at end of stream", "abcdefghijKLMNOP", 0, 10, true, { "T:abcdefghij" },
	  false, AB_FRAME_LF },
	{ "octet counting", "5 <13>a5 <13>b", 0, 64, false, { "<13>a", "<13>b" }, false,
	  AB_FRAME_OCTET },
	{ "octet counting keeps LF inside", "7 a\nb\r\ncd2 xy", 0, 64, false, { "a\nb\r\ncd", "xy" },
	  false, AB_FRAME_OCTET },
	{ "octet counting tolerates LF between frames", "3 abc\n3 def\r\n", 0, 64, false,
	  { "abc", "def" }, false, AB_FRAME_OCTET },
	{ "octet oversize: truncated and skipped", "20 0123456789ABCDEFGHIJ3 end", 0, 10, false,
	  { "T:0123456789", "end" }, false, AB_FRAME_OCTET },
	{ "octet count 99999999999 is an error", "99999999999 x", 0, 64, false, { NULL }, true,
	  AB_FRAME_OCTET },
	{ "octet count without space is an error", "12x", 0, 64, false, { NULL }, true,
	  AB_FRAME_OCTET },
	{ "octet count with leading zero is an error", "3 abc05 hello", 0, 64, false, { "abc" },
	  true, AB_FRAME_OCTET },
	{ "octet partial message at end of stream", "10 abc", 0, 64, true, { "T:abc" }, false,
	  AB_FRAME_OCTET },
	{ "octet good frames before garbage are kept", "2 ok<13>junk\n", 0, 64, false, { "ok" },
	  true, AB_FRAME_OCTET },
};

struct sink {
	char got[MAXMSG][80];
	int n;
	int overflow;
};

static int collect(const char *msg, size_t len, unsigned flags, void *arg)
{
	struct sink *s = arg;

	if (s->n >= MAXMSG) {
		s->overflow++;
		return 0;
	}
	snprintf(s->got[s->n], sizeof s->got[s->n], "%s%.*s",
		 (flags & AB_FRAME_TRUNCATED) ? "T:" : "", (int)len, msg);
	s->n++;
	return 0;
}

/* Feed in chunks of step bytes (0 = all at once). */
static void run(const struct fcase *t, size_t step)
{
	struct ab_framer f;
	struct sink s;
	size_t len = t->inlen ? t->inlen : strlen(t->in), off = 0;
	bool err = false;
	char msg[128];
	int i, total = 0, r;

	memset(&s, 0, sizeof s);
	ab_framer_init(&f, t->max);
	while (off < len) {
		size_t k = step && len - off > step ? step : len - off;

		r = ab_framer_feed(&f, t->in + off, k, collect, &s, msg, sizeof msg);
		if (r < 0) {
			err = true;
			assert_true(msg[0] != '\0');
			break;
		}
		total += r;
		off += k;
	}
	if (t->finish && !err) {
		r = ab_framer_finish(&f, collect, &s);
		assert_true(r >= 0);
		total += r;
	}
	if (err != t->error)
		fail_msg("%s (step %zu): error: want %d, got %d", t->name, step, t->error, err);
	if (!err)
		assert_int_equal(total, s.n);
	assert_int_equal((int)f.mode, t->mode);
	for (i = 0; i < MAXMSG && t->want[i]; i++) {
		if (i >= s.n)
			fail_msg("%s (step %zu): message %d missing", t->name, step, i);
		if (strcmp(s.got[i], t->want[i]) != 0)
			fail_msg("%s (step %zu): message %d: want '%s', got '%s'", t->name, step, i,
				 t->want[i], s.got[i]);
	}
	if (s.n != i)
		fail_msg("%s (step %zu): want %d messages, got %d", t->name, step, i, s.n);
	assert_true(f.buf.cap <= t->max + 2);   /* never more than max + small */
	ab_framer_free(&f);
}

static void test_table(void **state)
{
	static const size_t steps[] = { 0, 1, 7 };
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (k = 0; k < sizeof steps / sizeof steps[0]; k++)
			run(&cases[i], steps[k]);
}

static void test_error_sticks(void **state)
{
	struct ab_framer f;
	struct sink s;
	char msg[128] = "";

	(void)state;
	memset(&s, 0, sizeof s);
	ab_framer_init(&f, 64);
	assert_int_equal(ab_framer_feed(&f, "99999999999 ", 12, collect, &s, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "octet count too long"));
	msg[0] = '\0';
	assert_int_equal(ab_framer_feed(&f, "3 abc", 5, collect, &s, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "octet count too long"));
	assert_int_equal(s.n, 0);
	ab_framer_free(&f);
}

static int stop_cb(const char *msg, size_t len, unsigned flags, void *arg)
{
	(void)msg;
	(void)len;
	(void)flags;
	++*(int *)arg;
	return 1;
}

static void test_callback_stop(void **state)
{
	struct ab_framer f;
	int calls = 0;
	char msg[128] = "";

	(void)state;
	ab_framer_init(&f, 64);
	assert_int_equal(ab_framer_feed(&f, "a\nb\nc\n", 6, stop_cb, &calls, msg, sizeof msg), -1);
	assert_int_equal(calls, 1);
	assert_non_null(strstr(msg, "stopped"));
	ab_framer_free(&f);
}

/* A long LF stream of 1 MiB with no terminator stays within max + small. */
static void test_endless_line(void **state)
{
	struct ab_framer f;
	struct sink s;
	char chunk[4096], msg[128];
	int i, r, total = 0;

	(void)state;
	memset(&s, 0, sizeof s);
	memset(chunk, 'x', sizeof chunk);
	ab_framer_init(&f, 1000);
	for (i = 0; i < 256; i++) {
		r = ab_framer_feed(&f, chunk, sizeof chunk, collect, &s, msg, sizeof msg);
		assert_true(r >= 0);
		total += r;
		assert_true(f.buf.cap <= 1002);
	}
	assert_int_equal(total, 1);
	assert_int_equal(ab_framer_feed(&f, "\nnext\n", 6, collect, &s, msg, sizeof msg), 1);
	assert_string_equal(s.got[1], "next");
	ab_framer_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_error_sticks),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_endless_line),
	};

	return cmocka_run_group_tests_name("syslog_frame", tests, NULL, NULL);
}
