/*
 * test_relp_sess.c - unit tests for a RELP server session without I/O
 * (src/ingest/relp_sess.c): answers wait for their commit and leave in
 * order, "close" is answered last, protocol errors end the session with a
 * 500, too many unanswered frames make the session busy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/relp_sess.h"

#define OPEN "1 open 15 commands=syslog\n"

struct taker {
	uint64_t seqs[8];     /* the commit each message gets, in turn */
	int n;
	char last[64];
};

static int take(const char *msg, size_t len, bool truncated, void *arg, uint64_t *seq)
{
	struct taker *t = arg;

	snprintf(t->last, sizeof t->last, "%s%.*s", truncated ? "T:" : "", (int)len, msg);
	*seq = t->seqs[t->n < 8 ? t->n : 7];
	t->n++;
	return 0;
}

static char *drain(struct ab_relp_sess *s, char *out, size_t outsz)
{
	size_t len;
	const char *p = ab_relp_sess_out(s, &len);

	snprintf(out, outsz, "%.*s", (int)len, p);
	ab_relp_sess_wrote(s, len);
	return out;
}

static int feed(struct ab_relp_sess *s, struct taker *t, const char *in)
{
	char err[160];

	return ab_relp_sess_feed(s, in, strlen(in), take, t, err, sizeof err);
}

static void test_answers_wait_for_commit(void **state)
{
	struct ab_relp_sess s;
	struct taker t = { { 5, 5, 6, 3 }, 0, "" };
	char out[512];

	(void)state;
	ab_relp_sess_init(&s, 64);
	assert_int_equal(feed(&s, &t, OPEN "2 syslog 3 <1>\n3 syslog 1 b\n4 syslog 1 c\n"
		"5 syslog 1 d\n6 foo 0\n7 close 0\n8 syslog 1 z\n"), 8);
	assert_int_equal(t.n, 4);     /* the frame after "close" is ignored */
	assert_string_equal(t.last, "d");
	assert_non_null(strstr(drain(&s, out, sizeof out), "1 rsp 63 200 OK\nrelp_version=0"));
	assert_int_equal(ab_relp_sess_ack(&s, 4), 0);
	assert_string_equal(drain(&s, out, sizeof out), "");
	assert_int_equal(ab_relp_sess_ack(&s, 5), 2);
	assert_string_equal(drain(&s, out, sizeof out), "2 rsp 6 200 OK\n3 rsp 6 200 OK\n");
	assert_false(s.closing);
	/* frame 5's message was durable at once (3) but answers stay in order */
	assert_int_equal(ab_relp_sess_ack(&s, 6), 4);
	assert_string_equal(drain(&s, out, sizeof out), "4 rsp 6 200 OK\n5 rsp 6 200 OK\n"
		"6 rsp 25 500 command not supported\n7 rsp 0\n");
	assert_true(s.closing);
	ab_relp_sess_free(&s);
}

static void test_errors(void **state)
{
	struct ab_relp_sess s;
	struct taker t = { { 0 }, 0, "" };
	char out[512], err[160];

	(void)state;
	ab_relp_sess_init(&s, 64);
	assert_int_equal(ab_relp_sess_feed(&s, "1 syslog 1 a\n", 13, take, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "before open"));
	assert_non_null(strstr(drain(&s, out, sizeof out), "1 rsp 38 500 command disabled"));
	assert_int_equal(t.n, 0);
	ab_relp_sess_free(&s);

	ab_relp_sess_init(&s, 64);
	assert_int_equal(ab_relp_sess_feed(&s, OPEN "2 open 0\n", strlen(OPEN) + 9, take, &t, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "second open"));
	assert_non_null(strstr(drain(&s, out, sizeof out), "2 rsp 43 500 protocol error"));
	ab_relp_sess_free(&s);

	ab_relp_sess_init(&s, 64);
	assert_int_equal(ab_relp_sess_feed(&s, "1 open x", 8, take, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad data length"));
	ab_relp_sess_free(&s);
}

static void test_busy_and_serverclose(void **state)
{
	struct ab_relp_sess s;
	struct taker t = { { 1 }, 0, "" };
	char frame[64], out[64];
	size_t len;

	(void)state;
	ab_relp_sess_init(&s, 64);
	assert_int_equal(feed(&s, &t, OPEN), 1);
	drain(&s, out, sizeof out);
	for (int i = 0; i < AB_RELP_PENDING_SOFT; i++) {
		assert_false(ab_relp_sess_busy(&s));
		snprintf(frame, sizeof frame, "%d syslog 1 x\n", i + 2);
		assert_int_equal(feed(&s, &t, frame), 1);
	}
	assert_true(ab_relp_sess_busy(&s));
	assert_int_equal(ab_relp_sess_ack(&s, 1), AB_RELP_PENDING_SOFT);
	assert_false(ab_relp_sess_busy(&s));
	ab_relp_sess_out(&s, &len);
	assert_int_equal(len, 15 * 8 + 16 * 90 + 17 * 900 + 18 * 26);   /* "N rsp 6 200 OK\n" */
	ab_relp_sess_wrote(&s, 100);
	ab_relp_sess_out(&s, &len);
	assert_int_equal(len, 15 * 8 + 16 * 90 + 17 * 900 + 18 * 26 - 100);
	ab_relp_sess_wrote(&s, len);
	assert_int_equal(ab_relp_sess_serverclose(&s), 0);
	assert_string_equal(drain(&s, out, sizeof out), "0 serverclose 0\n");
	ab_relp_sess_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_wait_for_commit),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_busy_and_serverclose),
	};

	return cmocka_run_group_tests_name("relp_sess", tests, NULL, NULL);
}
