/*
 * test_breaker.c - the channel-wide circuit breaker's state machine on a
 * made-up clock: a failure pauses the channel, one probe per pause, the
 * pause doubles up to the cap and is never shorter than Retry-After, a
 * success closes it (and says so once), sends already out do not step the
 * pause, a probe given back can be taken again, an idle channel closes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "deliver/breaker.h"

static void test_pause_steps(void **state)
{
	(void)state;
	assert_int_equal(ab_breaker_pause_ms(1, 1000, 30000), 1000);
	assert_int_equal(ab_breaker_pause_ms(2, 1000, 30000), 2000);
	assert_int_equal(ab_breaker_pause_ms(5, 1000, 30000), 16000);
	assert_int_equal(ab_breaker_pause_ms(6, 1000, 30000), 30000);
	assert_int_equal(ab_breaker_pause_ms(1000, 1000, 30000), 30000);
	assert_int_equal(ab_breaker_pause_ms(0, 1000, 30000), 1000);
}

static void test_one_probe_per_pause(void **state)
{
	struct ab_breaker *b = ab_breaker_new();
	int64_t until = 0, pause = 0, t = 100000;
	char name[64];
	int sent = 0;

	(void)state;
	assert_int_equal(ab_breaker_admit(b, "hook", t, &until), AB_BREAKER_GO);
	assert_int_equal(ab_breaker_next_probe(b), -1);
	/* the first failure: paused 1 s */
	assert_int_equal(ab_breaker_result(b, "hook", true, 0, 1000, 4000, t, &pause), -1);
	assert_int_equal(pause, 1000);
	assert_int_equal(ab_breaker_admit(b, "hook", t + 10, &until), AB_BREAKER_WAIT);
	assert_int_equal(until, t + 1000);
	assert_int_equal(ab_breaker_admit(b, "other", t + 10, &until), AB_BREAKER_GO);
	/* a send that was out fails too: the pause does not step */
	assert_int_equal(ab_breaker_result(b, "hook", true, 0, 1000, 4000, t + 20, &pause), 0);
	assert_int_equal(ab_breaker_next_probe(b), t + 1000);
	assert_int_equal(ab_breaker_probe_due(b, t + 999, name, sizeof name), 0);
	/* a dead endpoint for 60 s, a worker asking every 10 ms: one request
	 * per pause (1, 2, 4, 4, ... s) */
	for (int64_t now = t + 1000; now < t + 60000; now += 10) {
		enum ab_breaker_verdict v = ab_breaker_admit(b, "hook", now, &until);

		if (v == AB_BREAKER_GO)
			fail_msg("sent while paused at %lld", (long long)(now - t));
		if (v == AB_BREAKER_PROBE) {
			assert_int_equal(ab_breaker_admit(b, "hook", now, &until), AB_BREAKER_WAIT);
			sent++;
			assert_int_equal(ab_breaker_result(b, "hook", true, 0, 1000, 4000, now + 5,
				&pause), -1);
		}
	}
	/* probes at 1, 3, 7, 11, ... 59 s: 3 + 13 */
	assert_int_equal(sent, 16);
	assert_int_equal(pause, 4000);
	ab_breaker_free(b);
}

static void test_retry_after_and_recovery(void **state)
{
	struct ab_breaker *b = ab_breaker_new();
	int64_t until = 0, pause = 0, t = 5000;
	char **names = NULL;
	unsigned gen0 = ab_breaker_gen(b), gen;
	char name[64];

	(void)state;
	/* 429 with Retry-After: 5 pauses 5 s, not pause_base */
	assert_int_equal(ab_breaker_result(b, "chat", true, 5, 1000, 30000, t, &pause), -1);
	assert_int_equal(pause, 5000);
	assert_int_not_equal(ab_breaker_gen(b), gen0);
	assert_int_equal(ab_breaker_paused(b, &names, &gen), 1);
	assert_string_equal(names[0], "chat");
	free(names[0]);
	free(names);
	assert_int_equal(ab_breaker_admit(b, "chat", t + 4999, &until), AB_BREAKER_WAIT);
	/* a later Retry-After from a send that was out moves the end */
	assert_int_equal(ab_breaker_result(b, "chat", true, 8, 1000, 30000, t + 100, &pause), 0);
	assert_int_equal(ab_breaker_next_probe(b), t + 8100);
	assert_int_equal(ab_breaker_probe_due(b, t + 8100, name, sizeof name), 1);
	assert_string_equal(name, "chat");
	/* the probe is taken, then given back unused: it can be taken again */
	assert_int_equal(ab_breaker_admit(b, "chat", t + 8100, &until), AB_BREAKER_PROBE);
	assert_int_equal(ab_breaker_probe_due(b, t + 8100, name, sizeof name), 0);
	ab_breaker_unprobe(b, "chat");
	assert_int_equal(ab_breaker_admit(b, "chat", t + 8200, &until), AB_BREAKER_PROBE);
	/* it succeeds: closed, said once */
	assert_int_equal(ab_breaker_result(b, "chat", false, 0, 1000, 30000, t + 8300, &pause), 1);
	assert_int_equal(ab_breaker_result(b, "chat", false, 0, 1000, 30000, t + 8400, &pause), 0);
	assert_int_equal(ab_breaker_admit(b, "chat", t + 8400, &until), AB_BREAKER_GO);
	assert_int_equal(ab_breaker_paused(b, &names, &gen), 0);
	free(names);
	/* the next failure starts from pause_base again */
	assert_int_equal(ab_breaker_result(b, "chat", true, 0, 1000, 30000, t + 9000, &pause), -1);
	assert_int_equal(pause, 1000);
	/* nothing to probe with: closed, and the next failure steps on */
	ab_breaker_idle(b, "chat");
	assert_int_equal(ab_breaker_admit(b, "chat", t + 9100, &until), AB_BREAKER_GO);
	assert_int_equal(ab_breaker_result(b, "chat", true, 0, 1000, 30000, t + 9200, &pause), -1);
	assert_int_equal(pause, 2000);
	ab_breaker_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pause_steps),
		cmocka_unit_test(test_one_probe_per_pause),
		cmocka_unit_test(test_retry_after_and_recovery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
