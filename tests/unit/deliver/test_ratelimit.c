/*
 * test_ratelimit.c - unit tests for the per-channel token buckets: burst,
 * refill, the wait returned, the plugin's default rate, separate buckets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "deliver/ratelimit.h"

static void test_bucket(void **state)
{
	struct ab_ratelimit *rl = ab_ratelimit_new();

	(void)state;
	assert_int_equal(ab_ratelimit_take(rl, "a", 1.0, 2, 1000), 0);
	assert_int_equal(ab_ratelimit_take(rl, "a", 1.0, 2, 1000), 0);
	assert_in_range(ab_ratelimit_take(rl, "a", 1.0, 2, 1000), 999, 1001);
	assert_in_range(ab_ratelimit_take(rl, "a", 1.0, 2, 1500), 499, 501);
	assert_int_equal(ab_ratelimit_take(rl, "b", 1.0, 1, 1500), 0);   /* own bucket */
	assert_int_equal(ab_ratelimit_take(rl, "a", 1.0, 2, 2000), 0);
	assert_true(ab_ratelimit_take(rl, "a", 1.0, 2, 2000) > 0);
	/* Never more than burst after a long pause. */
	assert_int_equal(ab_ratelimit_take(rl, "a", 1.0, 2, 100000), 0);
	assert_int_equal(ab_ratelimit_take(rl, "a", 1.0, 2, 100000), 0);
	assert_true(ab_ratelimit_take(rl, "a", 1.0, 2, 100000) > 0);
	assert_int_equal(ab_ratelimit_take(rl, "c", 0, 1, 0), 0);      /* unlimited */
	ab_ratelimit_free(rl);
}

static void test_defaults(void **state)
{
	struct ab_channel_conf ch;
	double rate;
	int burst;

	(void)state;
	memset(&ch, 0, sizeof ch);
	/* the plugin's default_rate, burst 1 */
	ch.type = (char *)"file";
	ab_ratelimit_conf(&ch, 1.0, &rate, &burst);
	assert_true(rate == 1.0);
	assert_int_equal(burst, 1);
	/* the type name means nothing to the core: no default, no limit */
	ch.type = (char *)"slack";
	ab_ratelimit_conf(&ch, 0, &rate, &burst);
	assert_true(rate == 0);
	ab_ratelimit_conf(&ch, -1, &rate, &burst);
	assert_true(rate == 0);
	/* the channel's own rate and burst win */
	ch.rate = 0.5;
	ch.burst = 4;
	ab_ratelimit_conf(&ch, 1.0, &rate, &burst);
	assert_true(rate == 0.5);
	assert_int_equal(burst, 4);
	ab_ratelimit_conf(&ch, 0, &rate, &burst);
	assert_true(rate == 0.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_defaults),
	};
	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
