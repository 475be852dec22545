/*
 * metrics.c - the counter / gauge / histogram registry and its Prometheus
 * text exposition (see metrics.h).
 *
 * Public: ab_metric_add, ab_metric_counter_set, ab_metric_set, ab_metric_gauge_add,
 *   ab_metric_observe, ab_metric_touch, ab_metric_zero, ab_metric_value,
 *   ab_metrics_lookup,
 *   ab_metrics_write, ab_metrics_escape, ab_metric_latency_bounds.
 *
 * Families register themselves on first use (a mutex, once per family);
 * a series is looked up without a lock (the list is only prepended to,
 * with a release store) and made under the same mutex when missing.
 * Values are atomics: counters and bucket counts uint64, gauges and
 * histogram sums doubles kept as their bits (compare-and-swap to add).
 * Diagnostics: none; a series beyond AB_METRIC_MAX_SERIES or out of
 * memory is not made and its updates are dropped.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/metrics.h"

const double ab_metric_latency_bounds[12] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 60,
};

struct ab_metric_series {
	struct ab_metric_series *next;
	char *lv[2];
	_Atomic uint64_t count;                       /* counter; histogram count */
	_Atomic uint64_t bits;                        /* gauge value; histogram sum */
	_Atomic uint64_t bucket[AB_METRIC_MAX_BUCKETS]; /* histogram, not cumulative */
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ab_metric *families;   /* under reg_mu */

static uint64_t dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof u);
	return u;
}

static double bitsd(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

static void atomic_fadd(_Atomic uint64_t *a, double delta)
{
	uint64_t old = atomic_load_explicit(a, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(a, &old, dbits(bitsd(old) + delta),
						       memory_order_relaxed, memory_order_relaxed))
		;
}

static const char *lv_norm(const struct ab_metric *m, int i, const char *v)
{
	return m->label[i] ? (v ? v : "") : NULL;
}

static bool lv_eq(const char *have, const char *want)
{
	if (!have || !want)
		return have == want;
	return strncmp(have, want, AB_METRIC_MAX_LABEL - 1) == 0 &&
	       (strlen(want) < AB_METRIC_MAX_LABEL || strlen(have) == AB_METRIC_MAX_LABEL - 1);
}

static struct ab_metric_series *find(struct ab_metric *m, const char *v1, const char *v2)
{
	for (struct ab_metric_series *s = atomic_load_explicit(&m->series, memory_order_acquire);
	     s; s = s->next)
		if (lv_eq(s->lv[0], v1) && lv_eq(s->lv[1], v2))
			return s;
	return NULL;
}

static char *lv_dup(const char *v)
{
	return v ? strndup(v, AB_METRIC_MAX_LABEL - 1) : NULL;
}

static void reg_locked(struct ab_metric *m)
{
	if (atomic_load_explicit(&m->registered, memory_order_relaxed))
		return;
	m->next = families;
	families = m;
	atomic_store_explicit(&m->registered, true, memory_order_release);
}

/* The series of these label values, made when missing; NULL when it cannot be. */
static struct ab_metric_series *series(struct ab_metric *m, const char *v1, const char *v2)
{
	struct ab_metric_series *s;

	v1 = lv_norm(m, 0, v1);
	v2 = lv_norm(m, 1, v2);
	if ((s = find(m, v1, v2)))
		return s;
	pthread_mutex_lock(&reg_mu);
	reg_locked(m);
	if (!(s = find(m, v1, v2)) && m->n_series < AB_METRIC_MAX_SERIES &&
	    (s = calloc(1, sizeof *s))) {
		s->lv[0] = lv_dup(v1);
		s->lv[1] = lv_dup(v2);
		if ((v1 && !s->lv[0]) || (v2 && !s->lv[1])) {
			free(s->lv[0]);
			free(s->lv[1]);
			free(s);
			s = NULL;
		} else {
			s->next = atomic_load_explicit(&m->series, memory_order_relaxed);
			atomic_store_explicit(&m->series, s, memory_order_release);
			m->n_series++;
		}
	}
	pthread_mutex_unlock(&reg_mu);
	return s;
}

void ab_metric_add(struct ab_metric *m, const char *v1, const char *v2, uint64_t n)
{
	struct ab_metric_series *s = series(m, v1, v2);

	if (s)
		atomic_fetch_add_explicit(&s->count, n, memory_order_relaxed);
}

void ab_metric_counter_set(struct ab_metric *m, const char *v1, const char *v2, uint64_t value)
{
	struct ab_metric_series *s = series(m, v1, v2);

	if (s)
		atomic_store_explicit(&s->count, value, memory_order_relaxed);
}

void ab_metric_set(struct ab_metric *m, const char *v1, const char *v2, double value)
{
	struct ab_metric_series *s = series(m, v1, v2);

	if (s)
		atomic_store_explicit(&s->bits, dbits(value), memory_order_relaxed);
}

void ab_metric_gauge_add(struct ab_metric *m, const char *v1, const char *v2, double delta)
{
	struct ab_metric_series *s = series(m, v1, v2);

	if (s)
		atomic_fadd(&s->bits, delta);
}

void ab_metric_observe(struct ab_metric *m, const char *v1, const char *v2, double seconds)
{
	struct ab_metric_series *s = series(m, v1, v2);
	size_t i = 0;

	if (!s)
		return;
	if (!(seconds >= 0))
		seconds = 0;
	while (i < m->n_bounds && i < AB_METRIC_MAX_BUCKETS && seconds > m->bounds[i])
		i++;
	if (i < m->n_bounds && i < AB_METRIC_MAX_BUCKETS)
		atomic_fetch_add_explicit(&s->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	atomic_fadd(&s->bits, seconds);
}

void ab_metric_touch(struct ab_metric *m)
{
	if (!m->label[0])
		(void)series(m, NULL, NULL);
	else {
		pthread_mutex_lock(&reg_mu);
		reg_locked(m);
		pthread_mutex_unlock(&reg_mu);
	}
}

void ab_metric_zero(struct ab_metric *m)
{
	for (struct ab_metric_series *s = atomic_load_explicit(&m->series, memory_order_acquire);
	     s; s = s->next)
		atomic_store_explicit(&s->bits, dbits(0), memory_order_relaxed);
}

double ab_metric_value(struct ab_metric *m, const char *v1, const char *v2)
{
	struct ab_metric_series *s = find(m, lv_norm(m, 0, v1), lv_norm(m, 1, v2));

	if (!s)
		return 0;
	if (m->type == AB_METRIC_T_GAUGE)
		return bitsd(atomic_load_explicit(&s->bits, memory_order_relaxed));
	return (double)atomic_load_explicit(&s->count, memory_order_relaxed);
}

double ab_metrics_lookup(const char *name, const char *v1, const char *v2)
{
	struct ab_metric *m;

	pthread_mutex_lock(&reg_mu);
	for (m = families; m && strcmp(m->name, name) != 0; m = m->next)
		;
	pthread_mutex_unlock(&reg_mu);
	return m ? ab_metric_value(m, v1, v2) : 0;
}

void ab_metrics_escape(struct ab_buf *out, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\')
			ab_buf_puts(out, "\\\\");
		else if (*v == '"')
			ab_buf_puts(out, "\\\"");
		else if (*v == '\n')
			ab_buf_puts(out, "\\n");
		else
			ab_buf_putc(out, *v);
	}
}

/* A number as Prometheus reads it (Go's ParseFloat): integers without a
 * fraction, +Inf / -Inf / NaN spelled its way. */
static void put_num(struct ab_buf *out, double v)
{
	if (isnan(v))
		ab_buf_puts(out, "NaN");
	else if (isinf(v))
		ab_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		ab_buf_printf(out, "%.0f", v);
	else
		ab_buf_printf(out, "%.15g", v);
}

/* name{l1="v1",l2="v2"[,le="x"]} with the extra label when le is set. */
static void put_labels(struct ab_buf *out, const struct ab_metric *m,
	const struct ab_metric_series *s, const char *le)
{
	bool any = false;

	for (int i = 0; i < 2; i++) {
		if (!m->label[i])
			continue;
		ab_buf_printf(out, "%s%s=\"", any ? "," : "{", m->label[i]);
		ab_metrics_escape(out, s->lv[i]);
		ab_buf_putc(out, '"');
		any = true;
	}
	if (le) {
		ab_buf_printf(out, "%sle=\"%s\"", any ? "," : "{", le);
		any = true;
	}
	if (any)
		ab_buf_putc(out, '}');
}

static void write_family(struct ab_buf *out, const struct ab_metric *m)
{
	static const char *const tname[] = { "counter", "gauge", "histogram" };

	ab_buf_printf(out, "# HELP %s ", m->name);
	for (const char *h = m->help; *h; h++) {  /* help escapes \ and newline */
		if (*h == '\\')
			ab_buf_puts(out, "\\\\");
		else if (*h == '\n')
			ab_buf_puts(out, "\\n");
		else
			ab_buf_putc(out, *h);
	}
	ab_buf_printf(out, "\n# TYPE %s %s\n", m->name, tname[m->type]);
	for (struct ab_metric_series *s = atomic_load_explicit(&m->series, memory_order_acquire);
	     s; s = s->next) {
		uint64_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
		double bits = bitsd(atomic_load_explicit(&s->bits, memory_order_relaxed));

		if (m->type == AB_METRIC_T_COUNTER) {
			ab_buf_puts(out, m->name);
			put_labels(out, m, s, NULL);
			ab_buf_printf(out, " %llu\n", (unsigned long long)count);
			continue;
		}
		if (m->type == AB_METRIC_T_GAUGE) {
			ab_buf_puts(out, m->name);
			put_labels(out, m, s, NULL);
			ab_buf_putc(out, ' ');
			put_num(out, bits);
			ab_buf_putc(out, '\n');
			continue;
		}
		/* histogram: cumulative buckets read once; count = the +Inf bucket so
		 * that the exposition is consistent even while observations come in */
		uint64_t cum = 0;
		for (size_t i = 0; i < m->n_bounds && i < AB_METRIC_MAX_BUCKETS; i++) {
			struct ab_buf le = AB_BUF_INIT(64);

			cum += atomic_load_explicit(&s->bucket[i], memory_order_relaxed);
			put_num(&le, m->bounds[i]);
			ab_buf_printf(out, "%s_bucket", m->name);
			put_labels(out, m, s, ab_buf_cstr(&le));
			ab_buf_printf(out, " %llu\n", (unsigned long long)cum);
			ab_buf_free(&le);
		}
		if (count < cum)
			count = cum;
		ab_buf_printf(out, "%s_bucket", m->name);
		put_labels(out, m, s, "+Inf");
		ab_buf_printf(out, " %llu\n%s_sum", (unsigned long long)count, m->name);
		put_labels(out, m, s, NULL);
		ab_buf_putc(out, ' ');
		put_num(out, bits);
		ab_buf_printf(out, "\n%s_count", m->name);
		put_labels(out, m, s, NULL);
		ab_buf_printf(out, " %llu\n", (unsigned long long)count);
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct ab_metric *const *)a)->name, (*(struct ab_metric *const *)b)->name);
}

int ab_metrics_write(struct ab_buf *out)
{
	struct ab_metric **v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	pthread_mutex_lock(&reg_mu);
	for (struct ab_metric *m = families; m; m = m->next) {
		if (n == cap) {
			struct ab_metric **nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
			if (!nv) {
				rc = -1;
				break;
			}
			v = nv;
		}
		v[n++] = m;
	}
	pthread_mutex_unlock(&reg_mu);
	if (rc == 0) {
		qsort(v, n, sizeof *v, by_name);
		for (size_t i = 0; i < n; i++)
			if (atomic_load_explicit(&v[i]->series, memory_order_acquire))
				write_family(out, v[i]);
	}
	free(v);
	return rc == 0 && !out->overflow ? 0 : -1;
}
