/*
 * metrics.h - the process's one registry of counters, gauges and
 * histograms, written out in the Prometheus text exposition format
 * (version 0.0.4) by the HTTP listener's /metrics.
 *
 * A family is a static struct ab_metric in the module that counts it
 * (AB_METRIC_COUNTER and friends below): its name, help text, up to two
 * label names and, for a histogram, its bucket bounds in seconds.  It is
 * registered on its first use; a series (one set of label values) is made
 * on its first use too and lives as long as the process.  Updates are
 * atomic (relaxed) and take no lock once the series exists: finding it is
 * a walk over a short list that is only ever prepended to.  A family holds
 * at most AB_METRIC_MAX_SERIES series; updates for more are dropped (the
 * label values come from the configuration and the inputs' kinds, so this
 * is a guard, not a limit one meets).
 *
 * Naming (https://prometheus.io/docs/practices/naming/): alertbridge_ prefix,
 * counters end in _total, durations are _seconds, sizes _bytes.
 */
#ifndef AB_METRICS_H
#define AB_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define AB_METRIC_MAX_SERIES 512
#define AB_METRIC_MAX_LABEL 128      /* bytes of a label value kept (longer are cut) */
#define AB_METRIC_MAX_BUCKETS 16

enum ab_metric_type {
	AB_METRIC_T_COUNTER,
	AB_METRIC_T_GAUGE,
	AB_METRIC_T_HISTOGRAM,
};

struct ab_metric_series;

struct ab_metric {
	const char *name;
	const char *help;
	enum ab_metric_type type;
	const char *label[2];           /* label names; NULL = unused */
	const double *bounds;           /* histogram: upper bounds, seconds, ascending */
	size_t n_bounds;
	/* the registry's */
	_Atomic(struct ab_metric_series *) series;
	_Atomic int n_series;
	struct ab_metric *next;
	atomic_bool registered;
};

#define AB_METRIC_INIT(n, h, t, l1, l2, b, nb) \
	{ .name = (n), .help = (h), .type = (t), .label = { (l1), (l2) }, .bounds = (b), \
	  .n_bounds = (nb) }
#define AB_METRIC_COUNTER(var, n, h, l1, l2) \
	struct ab_metric var = AB_METRIC_INIT(n, h, AB_METRIC_T_COUNTER, l1, l2, NULL, 0)
#define AB_METRIC_GAUGE(var, n, h, l1, l2) \
	struct ab_metric var = AB_METRIC_INIT(n, h, AB_METRIC_T_GAUGE, l1, l2, NULL, 0)
/* bounds: a static array of ascending upper bounds in seconds */
#define AB_METRIC_HISTOGRAM(var, n, h, l1, l2, bounds) \
	struct ab_metric var = AB_METRIC_INIT(n, h, AB_METRIC_T_HISTOGRAM, l1, l2, bounds, \
		sizeof(bounds) / sizeof((bounds)[0]))

/* Bucket bounds for latencies, 1 ms .. 60 s. */
extern const double ab_metric_latency_bounds[12];

/* Label values v1, v2 are given for the label names the family has (NULL
 * for the others; a NULL value for a named label is written as ""). */

/* Counter: add n. */
void ab_metric_add(struct ab_metric *m, const char *v1, const char *v2, uint64_t n);
static inline void ab_metric_inc(struct ab_metric *m, const char *v1, const char *v2)
{
	ab_metric_add(m, v1, v2, 1);
}
/* Counter: the value of a counter the module keeps itself (it only grows;
 * published from time to time, e.g. with a status file). */
void ab_metric_counter_set(struct ab_metric *m, const char *v1, const char *v2, uint64_t value);
/* Gauge: set, or add a (possibly negative) delta. */
void ab_metric_set(struct ab_metric *m, const char *v1, const char *v2, double value);
void ab_metric_gauge_add(struct ab_metric *m, const char *v1, const char *v2, double delta);
/* Histogram: one observation of a duration in seconds. */
void ab_metric_observe(struct ab_metric *m, const char *v1, const char *v2, double seconds);
/* Register the family and make its series without labels (a zero), so
 * that it is exported before anything happened. */
void ab_metric_touch(struct ab_metric *m);
/* Gauge: every series back to 0 (before a scrape sets the ones that are
 * still there). */
void ab_metric_zero(struct ab_metric *m);

/* Read back (tests, /readyz): the counter or gauge value of one series, 0
 * when it does not exist. */
double ab_metric_value(struct ab_metric *m, const char *v1, const char *v2);
/* The same for the registered family called name (another module's). */
double ab_metrics_lookup(const char *name, const char *v1, const char *v2);

/* Every registered family that has a series, as Prometheus text, appended
 * to out: "# HELP", "# TYPE", then the samples; families sorted by name.
 * 0, or -1 (out's cap or memory). */
int ab_metrics_write(struct ab_buf *out);
/* A label value escaped for the exposition format (\\, \", \n). */
void ab_metrics_escape(struct ab_buf *out, const char *v);

#endif
