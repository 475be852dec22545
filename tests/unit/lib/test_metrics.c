/*
 * test_metrics.c - unit tests for the metrics registry (lib/metrics.c):
 * counters, gauges and histograms with 0, 1 and 2 labels, the text
 * exposition (HELP and TYPE lines, sorted families, label escaping,
 * cumulative buckets with +Inf, _sum and _count), the series cap, and
 * concurrent increments that lose nothing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/metrics.h"

static AB_METRIC_COUNTER(m_c, "t_requests_total", "Requests.", "path", "code");
static AB_METRIC_GAUGE(m_g, "t_depth", "Queue depth.\nSecond line \\ here.", NULL, NULL);
static const double bounds[] = { 0.1, 1 };
static AB_METRIC_HISTOGRAM(m_h, "t_latency_seconds", "Latency.", "channel", NULL, bounds);
static AB_METRIC_COUNTER(m_many, "t_many_total", "Many series.", "n", NULL);
static AB_METRIC_COUNTER(m_race, "t_race_total", "Threads.", NULL, NULL);
static AB_METRIC_COUNTER(m_unused, "t_unused_total", "Never used.", NULL, NULL);

static char *dump(void)
{
	struct ab_buf b = AB_BUF_INIT(1 << 20);

	assert_int_equal(ab_metrics_write(&b), 0);
	return ab_buf_steal(&b);
}

static void test_counter_labels(void **state)
{
	char *s;

	(void)state;
	ab_metric_inc(&m_c, "/metrics", "200");
	ab_metric_add(&m_c, "/metrics", "200", 4);
	ab_metric_inc(&m_c, "a\"b\\c\nd", "500");
	assert_true(ab_metric_value(&m_c, "/metrics", "200") == 5);
	s = dump();
	assert_non_null(strstr(s, "# HELP t_requests_total Requests.\n"
		"# TYPE t_requests_total counter\n"));
	assert_non_null(strstr(s, "t_requests_total{path=\"/metrics\",code=\"200\"} 5\n"));
	assert_non_null(strstr(s, "t_requests_total{path=\"a\\\"b\\\\c\\nd\",code=\"500\"} 1\n"));
	assert_null(strstr(s, "t_unused_total"));   /* never registered: not written */
	assert_false(atomic_load(&m_unused.registered));
	free(s);
}

static void test_gauge(void **state)
{
	char *s;

	(void)state;
	ab_metric_set(&m_g, NULL, NULL, 3);
	ab_metric_gauge_add(&m_g, NULL, NULL, -1.5);
	assert_true(ab_metric_value(&m_g, NULL, NULL) == 1.5);
	assert_true(ab_metrics_lookup("t_depth", NULL, NULL) == 1.5);
	s = dump();
	assert_non_null(strstr(s, "# HELP t_depth Queue depth.\\nSecond line \\\\ here.\n"));
	assert_non_null(strstr(s, "# TYPE t_depth gauge\nt_depth 1.5\n"));
	ab_metric_zero(&m_g);
	assert_true(ab_metric_value(&m_g, NULL, NULL) == 0);
	free(s);
}

static void test_histogram(void **state)
{
	char *s;

	(void)state;
	ab_metric_observe(&m_h, "slack", NULL, 0.05);
	ab_metric_observe(&m_h, "slack", NULL, 0.1);    /* le is inclusive */
	ab_metric_observe(&m_h, "slack", NULL, 0.5);
	ab_metric_observe(&m_h, "slack", NULL, 30);
	s = dump();
	assert_non_null(strstr(s, "# TYPE t_latency_seconds histogram\n"
		"t_latency_seconds_bucket{channel=\"slack\",le=\"0.1\"} 2\n"
		"t_latency_seconds_bucket{channel=\"slack\",le=\"1\"} 3\n"
		"t_latency_seconds_bucket{channel=\"slack\",le=\"+Inf\"} 4\n"
		"t_latency_seconds_sum{channel=\"slack\"} 30.65\n"
		"t_latency_seconds_count{channel=\"slack\"} 4\n"));
	free(s);
}

static void test_sorted(void **state)
{
	char *s = dump();
	const char *a, *b, *c;

	(void)state;
	a = strstr(s, "# HELP t_depth");
	b = strstr(s, "# HELP t_latency_seconds");
	c = strstr(s, "# HELP t_requests_total");
	assert_non_null(a);
	assert_true(a < b && b < c);
	free(s);
}

static void test_series_cap(void **state)
{
	char v[16];

	(void)state;
	for (int i = 0; i < AB_METRIC_MAX_SERIES + 50; i++) {
		snprintf(v, sizeof v, "%d", i);
		ab_metric_inc(&m_many, v, NULL);
	}
	assert_true(ab_metric_value(&m_many, "0", NULL) == 1);
	snprintf(v, sizeof v, "%d", AB_METRIC_MAX_SERIES + 10);
	assert_true(ab_metric_value(&m_many, v, NULL) == 0);   /* over the cap: dropped */
}

static void *bump(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++)
		ab_metric_inc(&m_race, NULL, NULL);
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, bump, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(ab_metric_value(&m_race, NULL, NULL) == 400000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_labels),
		cmocka_unit_test(test_gauge),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_sorted),
		cmocka_unit_test(test_series_cap),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
